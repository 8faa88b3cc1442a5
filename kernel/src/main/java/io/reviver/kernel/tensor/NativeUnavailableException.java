package io.reviver.kernel.tensor;

/**
 * Thrown when the native int8 backend ({@link NativeTensorOps}) was asked for but cannot run: its library is not in
 * the jar or did not load, or the requested instruction set is not this CPU's. The message says which; the request
 * is never silently served by the Java backend instead.
 */
public final class NativeUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NativeUnavailableException(String message) {
        super(message);
    }
}
