package io.reviver.spark.config;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * One declared job configuration key: its name, documentation, default and parser. Each key is declared once, in
 * {@link JobConfigKeys}; the same name is used in the configuration file (prefixed {@code reviver.}) and as a
 * command-line flag ({@code --name}).
 *
 * @param name         kebab-case name, e.g. {@code max-new-tokens}
 * @param doc          one-line description for {@code --help}
 * @param defaultValue default as text, parsed like any other value; null when the key is required
 * @param parser       text → typed value; throws {@link IllegalArgumentException} whose message says what is
 *                     wrong with the value (the caller adds the key and the value)
 * @param <T>          the value's type
 */
public record ConfigKey<T>(String name, String doc, String defaultValue, Function<String, T> parser) {

    /** Prefix of every key in a configuration file. */
    public static final String PREFIX = "reviver.";

    public ConfigKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(doc, "doc");
        Objects.requireNonNull(parser, "parser");
    }

    /** The key as written in a configuration file, e.g. {@code reviver.max-new-tokens}. */
    public String property() {
        return PREFIX + name;
    }

    /** Whether the key has no default and must be given. */
    public boolean required() {
        return defaultValue == null;
    }

    /**
     * Parses {@code text} (surrounding whitespace ignored).
     *
     * @throws ConfigException naming this key and the value when the parser rejects it
     */
    public T parse(String text) {
        String value = text.strip();
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw ConfigException.badValue(this, value, e.getMessage());
        }
    }

    // ---- parsers shared by the declarations ----

    static Function<String, Integer> intIn(int min, int max) {
        return s -> {
            int v;
            try {
                v = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is not an integer");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException("is not in [" + min + ", " + max + "]");
            }
            return v;
        };
    }

    static Function<String, Long> anyLong() {
        return s -> {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is not a 64-bit integer");
            }
        };
    }

    static Function<String, Double> number() {
        return s -> {
            double v;
            try {
                v = Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is not a number");
            }
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("is not a finite number");
            }
            return v;
        };
    }

    static Function<String, String> nonEmpty() {
        return s -> {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("is empty");
            }
            return s;
        };
    }

    static Function<String, Boolean> bool() {
        return s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("is not true or false");
        };
    }

    static <E extends Enum<E>> Function<String, E> oneOf(Class<E> type) {
        return s -> {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s)) {
                    return e;
                }
            }
            StringBuilder names = new StringBuilder();
            for (E e : type.getEnumConstants()) {
                names.append(names.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException("is not one of " + names);
        };
    }

    /**
     * A byte size such as {@code 512m}, {@code 2g}, {@code 1048576} (suffixes k, m, g, t; powers of 1024), at least
     * {@code min} bytes.
     */
    static Function<String, Long> byteSize(long min) {
        return s -> {
            String t = s.toLowerCase(Locale.ROOT);
            if (t.endsWith("b")) {
                t = t.substring(0, t.length() - 1);
            }
            long unit = 1;
            if (!t.isEmpty()) {
                char last = t.charAt(t.length() - 1);
                int shift = switch (last) {
                    case 'k' -> 10;
                    case 'm' -> 20;
                    case 'g' -> 30;
                    case 't' -> 40;
                    default -> 0;
                };
                if (shift > 0) {
                    unit = 1L << shift;
                    t = t.substring(0, t.length() - 1);
                }
            }
            long v;
            try {
                v = Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is not a byte size (e.g. 512m, 2g)");
            }
            if (v < 0 || v > Long.MAX_VALUE / unit) {
                throw new IllegalArgumentException("is not a byte size (e.g. 512m, 2g)");
            }
            if (v * unit < min) {
                throw new IllegalArgumentException("is less than " + min + " bytes");
            }
            return v * unit;
        };
    }
}
