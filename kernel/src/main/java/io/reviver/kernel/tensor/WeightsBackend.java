package io.reviver.kernel.tensor;

import java.util.Locale;

/**
 * Which backend computes a model's weight products, as configuration names it: {@link #JAVA} ({@link JavaTensorOps},
 * Vector API, float activations) or {@link #NATIVE} ({@link NativeTensorOps}, the native int8 kernels, activations
 * quantised per block, so other numbers). Chosen explicitly: a native request never falls back to Java.
 */
public enum WeightsBackend {
    /** {@link JavaTensorOps} on its Vector API path. */
    JAVA("java"),
    /** {@link NativeTensorOps} on the fastest kernel this CPU runs. */
    NATIVE("native");

    private final String configName;

    WeightsBackend(String configName) {
        this.configName = configName;
    }

    /** Name in configuration and logs. */
    public String configName() {
        return configName;
    }

    /**
     * The backend named {@code s} (case-insensitive, surrounding blanks ignored).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static WeightsBackend parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        for (WeightsBackend b : values()) {
            if (b.configName.equals(v)) {
                return b;
            }
        }
        throw new IllegalArgumentException("'" + s + "' is not a weights backend: java or native");
    }

    /**
     * A new backend of this kind on {@code threads} compute threads.
     *
     * @throws NativeUnavailableException for {@link #NATIVE} where the native library does not run
     */
    public TensorOps create(int threads) {
        return this == NATIVE ? new NativeTensorOps(threads, null)
            : new JavaTensorOps(threads, JavaTensorOps.Path.VECTOR);
    }
}
