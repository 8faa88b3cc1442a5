package io.reviver.kernel.attention;

/**
 * What an {@link AttentionBackend} actually runs on, for logs and metrics.
 *
 * @param requested the configured choice
 * @param openCl    true when every op executed so far ran as an OpenCL kernel (false for the Java backend and
 *                  after any fall-back)
 * @param device    device description, e.g. {@code "OpenCL: The pocl project / pthread-haswell-AMD EPYC (CPU)"},
 *                  or {@code "java"}
 * @param fallbacks number of times an op fell back from OpenCL to the Java reference (one per op kind at most,
 *                  plus one when no OpenCL platform was found at start-up); 0 when OpenCL ran throughout
 * @param reason    why the last fall-back happened, or the empty string
 */
public record BackendStatus(BackendChoice requested, boolean openCl, String device, long fallbacks, String reason) {

    public BackendStatus {
        if (requested == null || device == null || reason == null) {
            throw new IllegalArgumentException("requested, device and reason must not be null");
        }
        if (fallbacks < 0) {
            throw new IllegalArgumentException("fallbacks must be ≥ 0, got " + fallbacks);
        }
    }
}
