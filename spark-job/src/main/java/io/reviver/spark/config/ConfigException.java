package io.reviver.spark.config;

/**
 * A job configuration value is missing, unknown or invalid. The message always names the key (as written in the
 * configuration file and as a command-line flag) and quotes the offending value.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message names the key and the bad value */
    public ConfigException(String message) {
        super(message);
    }

    /** The exception for key {@code key} whose value {@code value} is rejected because of {@code why}. */
    static ConfigException badValue(ConfigKey<?> key, String value, String why) {
        return new ConfigException(key.property() + " (--" + key.name() + "): '" + value + "' " + why);
    }
}
