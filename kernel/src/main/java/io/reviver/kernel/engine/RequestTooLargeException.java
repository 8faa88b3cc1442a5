package io.reviver.kernel.engine;

/** A request whose KV cache could never fit the executor's KV budget, whatever else is running. */
public final class RequestTooLargeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public RequestTooLargeException(String message) {
        super(message);
    }
}
