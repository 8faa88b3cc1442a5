package io.reviver.kernel.attention;

import java.util.Locale;

/**
 * Which attention backend a job asks for; parsed once from configuration ({@link #parse}).
 * <ul>
 *   <li>{@link #JAVA}: the pure-Java reference ({@link JavaAttentionBackend});</li>
 *   <li>{@link #OPENCL}: OpenCL is required: a missing platform, a failed kernel compile or Aparapi's silent
 *       fall-back to its Java thread pool raises {@link BackendUnavailableException};</li>
 *   <li>{@link #OPENCL_OR_JAVA}: OpenCL when it runs, otherwise the Java reference, with a WARN log and the
 *       fall-back counted in {@link BackendStatus#fallbacks()}.</li>
 * </ul>
 */
public enum BackendChoice {
    JAVA("java"),
    OPENCL("opencl"),
    OPENCL_OR_JAVA("opencl-or-java");

    private final String configName;

    BackendChoice(String configName) {
        this.configName = configName;
    }

    /** The spelling used in configuration files and on the command line. */
    public String configName() {
        return configName;
    }

    /**
     * Parses a configuration value: {@code java}, {@code opencl} or {@code opencl-or-java} (case-insensitive,
     * surrounding blanks ignored).
     *
     * @param key   the configuration key, named in the error message
     * @param value the configured value
     * @throws IllegalArgumentException naming the key, the bad value and the accepted values
     */
    public static BackendChoice parse(String key, String value) {
        if (value != null) {
            String v = value.strip().toLowerCase(Locale.ROOT);
            for (BackendChoice c : values()) {
                if (c.configName.equals(v)) {
                    return c;
                }
            }
        }
        throw new IllegalArgumentException(key + " = '" + value + "' is not a backend; use one of java, opencl, "
            + "opencl-or-java");
    }

    @Override
    public String toString() {
        return configName;
    }
}
