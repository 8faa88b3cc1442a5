/**
 * Choosing the next token from logits: {@link io.reviver.kernel.sample.GreedySampler} (deterministic argmax) and
 * {@link io.reviver.kernel.sample.TopPSampler} (temperature + nucleus sampling with an explicit seed, so a
 * retried task reproduces its output).
 */
package io.reviver.kernel.sample;
