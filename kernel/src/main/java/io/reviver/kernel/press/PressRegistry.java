package io.reviver.kernel.press;

import io.reviver.kernel.attention.SketchMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place presses are named. A press specification is {@code name} or {@code name:key=value,key=value}
 * (e.g. {@code kvreviver:mode=signed,d=3,share=0.5}); {@link #create} parses it once into a typed press, with
 * errors naming the key and the bad value. Adding a press = one file + one line in {@link #create} + one row in
 * the press test table.
 */
public final class PressRegistry {

    /** Every registered press name, in report order. */
    public static final List<String> NAMES = List.of("full", "streaming_llm", "h2o", "snapkv", "tova", "knorm",
        "kvreviver", "kvzip", "compactor");

    private PressRegistry() {
    }

    /**
     * Creates a press.
     *
     * @param spec    {@code name[:key=value,...]}
     * @param budget  kept fraction of the full cache's bytes, in (0, 1] (ignored by {@code full})
     * @param encoder turns text into token ids (KVzip's instructions); may be null for the other presses
     * @throws IllegalArgumentException for an unknown name, an unknown key or a bad value
     */
    public static KvPress create(String spec, double budget, Function<String, int[]> encoder) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("press is empty; one of " + NAMES);
        }
        int colon = spec.indexOf(':');
        String name = (colon < 0 ? spec : spec.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        Params p = new Params(name, colon < 0 ? "" : spec.substring(colon + 1));
        KvPress press = switch (name) {
            case "full" -> new FullPress();
            case "streaming_llm" -> new StreamingLlmPress(budget, p.intValue("sinks", 4));
            case "h2o" -> new H2oPress(budget, p.doubleValue("recent", 0.5));
            case "snapkv" -> new SnapKvPress(budget, p.intValue("window", 32), p.intValue("kernel", 5));
            case "tova" -> new TovaPress(budget);
            case "knorm" -> new KnormPress(budget);
            case "kvreviver" -> {
                KvReviverPress.Options d = KvReviverPress.Options.defaults();
                yield new KvReviverPress(budget, new KvReviverPress.Options(
                    p.enumValue("mode", SketchMode.class, d.mode()), p.intValue("d", d.rows()),
                    p.doubleValue("share", d.sketchShare()), p.intValue("recent", d.recent()),
                    p.intValue("sinks", d.sinks()), p.boolValue("revive", d.revive()),
                    p.choice("keys", d.preRope() ? "pre" : "post", "pre", "post").equals("pre")));
            }
            case "kvzip" -> {
                if (encoder == null) {
                    throw new IllegalArgumentException("press kvzip needs the model's tokenizer");
                }
                yield new KvzipPress(budget, encoder.apply("\n\nRepeat the previous context exactly.\n"),
                    encoder.apply("\n\nRepeat the part of the previous context exactly, starting with"),
                    p.intValue("chunk", KvzipPress.DEFAULT_CHUNK));
            }
            case "compactor" -> new CompactorPress(budget, p.intValue("window", 64), p.intValue("k", 48),
                p.doubleValue("blend", 0.5), p.doubleValue("calibrate", 0));
            default -> throw new IllegalArgumentException("unknown press '" + name + "'; one of " + NAMES);
        };
        p.checkAllUsed();
        return press;
    }

    /** The key=value options of one specification; every key must be read. */
    private static final class Params {
        private final String press;
        private final Map<String, String> values = new LinkedHashMap<>();

        Params(String press, String text) {
            this.press = press;
            for (String part : text.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("press " + press + ": option '" + part.trim()
                        + "' is not key=value");
                }
                values.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
            }
        }

        int intValue(String key, int dflt) {
            return number(key, dflt, Integer::parseInt, "an integer");
        }

        double doubleValue(String key, double dflt) {
            return number(key, dflt, Double::parseDouble, "a number");
        }

        /** The option parsed by {@code parse}, or {@code dflt} when absent; errors say it is not {@code what}. */
        private <T> T number(String key, T dflt, java.util.function.Function<String, T> parse, String what) {
            String v = values.remove(key);
            if (v == null) {
                return dflt;
            }
            try {
                return parse.apply(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("press " + press + ": option " + key + "=" + v + " is not " + what);
            }
        }

        boolean boolValue(String key, boolean dflt) {
            String v = values.remove(key);
            if (v == null) {
                return dflt;
            }
            if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(v);
            }
            throw new IllegalArgumentException("press " + press + ": option " + key + "=" + v
                + " is not true or false");
        }

        String choice(String key, String dflt, String... allowed) {
            String v = values.remove(key);
            if (v == null) {
                return dflt;
            }
            for (String a : allowed) {
                if (a.equalsIgnoreCase(v)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("press " + press + ": option " + key + "=" + v + " is not one of "
                + java.util.Arrays.toString(allowed));
        }

        <E extends Enum<E>> E enumValue(String key, Class<E> type, E dflt) {
            String v = values.remove(key);
            if (v == null) {
                return dflt;
            }
            try {
                return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("press " + press + ": option " + key + "=" + v + " is not one of "
                    + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT));
            }
        }

        void checkAllUsed() {
            if (!values.isEmpty()) {
                throw new IllegalArgumentException("press " + press + ": unknown option(s) " + values.keySet());
            }
        }
    }
}
