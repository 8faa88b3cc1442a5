package io.reviver.kernel.cli;

/** Bad command-line usage (unknown flag, missing or malformed value); the CLI exits with code 2. */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
