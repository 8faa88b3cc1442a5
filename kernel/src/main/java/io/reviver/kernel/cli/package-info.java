/**
 * The {@code reviver} command line ({@link io.reviver.kernel.cli.ReviverCli}): argument parsing into a typed
 * {@link io.reviver.kernel.cli.GenerateOptions}, model loading, streaming UTF-8 output and timing. Exit codes:
 * 0 success, 1 bad model or runtime failure, 2 bad usage.
 */
package io.reviver.kernel.cli;
