package io.reviver.spark.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Builds a {@link JobConfig} once, on the driver, from an optional properties file and command-line flags.
 *
 * <p>Sources, later ones winning: the declared defaults; the file named by {@code --config FILE} (Java
 * properties, keys {@code reviver.<name>}); the flags {@code --<name> VALUE} or {@code --<name>=VALUE}. Unknown
 * keys and flags are errors, so a typo never silently falls back to a default. Every error is a
 * {@link ConfigException} naming the key and the value.
 */
public final class JobConfigLoader {

    private JobConfigLoader() {
    }

    /** The usage text for {@code --help}: every key with its default and documentation. */
    public static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("Usage: summarize [--config FILE] --model URI --input URI --output URI [--<key> VALUE ...]\n\n");
        b.append("Keys (flag --<key>, or reviver.<key> in the --config properties file):\n");
        for (ConfigKey<?> k : JobConfigKeys.ALL) {
            b.append(String.format("  --%-18s %s%s%n", k.name(), k.doc(),
                k.required() ? " (required)" : " (default: " + k.defaultValue() + ")"));
        }
        return b.toString();
    }

    /**
     * Parses the command line (and the file it names).
     *
     * @throws ConfigException for an unreadable file, an unknown key or flag, a flag without a value, a missing
     *                         required key or an invalid value
     */
    public static JobConfig load(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        String configFile = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new ConfigException("unexpected argument '" + a + "': flags are --<key> VALUE");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new ConfigException("flag --" + name + " has no value");
                }
                value = args[++i];
            }
            if (name.equals("config")) {
                configFile = value;
            } else {
                flags.put(name, value);
            }
        }
        Map<String, String> values = new HashMap<>();
        if (configFile != null) {
            values.putAll(readFile(Paths.get(configFile)));
        }
        values.putAll(flags);
        return fromValues(values);
    }

    /**
     * Builds the configuration from raw values keyed by key name (without the {@code reviver.} prefix).
     *
     * @throws ConfigException for an unknown key, a missing required key or an invalid value
     */
    public static JobConfig fromValues(Map<String, String> raw) {
        Map<String, ConfigKey<?>> known = new HashMap<>();
        for (ConfigKey<?> k : JobConfigKeys.ALL) {
            known.put(k.name(), k);
        }
        for (String name : raw.keySet()) {
            if (!known.containsKey(name)) {
                throw new ConfigException("unknown key " + ConfigKey.PREFIX + name + " (--" + name + ")"
                    + " with value '" + raw.get(name) + "'; run with --help for the keys");
            }
        }
        Values v = new Values(raw);
        JobConfig config = new JobConfig(
            JobConfig.parseModel(v.get(JobConfigKeys.MODEL), v.get(JobConfigKeys.MODEL_SHA256)),
            v.get(JobConfigKeys.MODEL_CACHE_DIR),
            v.get(JobConfigKeys.INPUT),
            v.get(JobConfigKeys.INPUT_FORMAT),
            v.get(JobConfigKeys.OUTPUT),
            v.get(JobConfigKeys.OUTPUT_FORMAT),
            v.get(JobConfigKeys.OVERWRITE),
            v.get(JobConfigKeys.PRESS),
            v.get(JobConfigKeys.BUDGET),
            v.get(JobConfigKeys.KV_MEMORY),
            v.get(JobConfigKeys.MAX_NEW_TOKENS),
            v.get(JobConfigKeys.PROMPT_TEMPLATE),
            v.get(JobConfigKeys.CHUNK_TOKENS),
            v.get(JobConfigKeys.PARTITIONS),
            v.get(JobConfigKeys.LIMIT),
            v.get(JobConfigKeys.THREADS),
            v.get(JobConfigKeys.ATTENTION),
            v.get(JobConfigKeys.WEIGHTS),
            v.get(JobConfigKeys.PREFILL_BATCH),
            v.get(JobConfigKeys.TEMPERATURE),
            v.get(JobConfigKeys.TOP_P),
            v.get(JobConfigKeys.SEED),
            v.get(JobConfigKeys.MAX_DOCUMENT_BYTES),
            v.get(JobConfigKeys.MAX_DOCUMENT_TOKENS),
            v.get(JobConfigKeys.RESUME),
            v.get(JobConfigKeys.MEASURE_PEAKS),
            v.get(JobConfigKeys.PROGRESS_SECONDS));
        return config;
    }

    /** Reads a properties file; every key must start with {@code reviver.}. */
    static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new ConfigException("--config: cannot read '" + file + "': " + e.getMessage());
        }
        Map<String, String> out = new HashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (!key.startsWith(ConfigKey.PREFIX)) {
                throw new ConfigException("--config '" + file + "': key '" + key + "' does not start with "
                    + ConfigKey.PREFIX);
            }
            out.put(key.substring(ConfigKey.PREFIX.length()), p.getProperty(key));
        }
        return out;
    }

    /** Raw values with typed, validated access. */
    private record Values(Map<String, String> raw) {
        <T> T get(ConfigKey<T> key) {
            String text = raw.get(key.name());
            if (text == null) {
                if (key.required()) {
                    throw new ConfigException(key.property() + " (--" + key.name() + ") is required: "
                        + key.doc());
                }
                text = key.defaultValue();
            }
            return key.parse(text);
        }
    }
}
