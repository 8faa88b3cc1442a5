package io.reviver.kernel.attention;

/**
 * Thrown when {@link BackendChoice#OPENCL} was required but OpenCL did not run: no OpenCL platform or device,
 * the native library failed to load, a kernel failed to compile, or Aparapi fell back to its Java thread pool.
 * The message names the cause and the device (if any); it is never silently replaced by the Java backend.
 */
public final class BackendUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
