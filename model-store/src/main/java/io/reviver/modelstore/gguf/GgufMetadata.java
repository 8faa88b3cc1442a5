package io.reviver.modelstore.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Immutable, typed GGUF key/value metadata in file order. String keys are confined here: callers use the
 * typed getters, which throw {@link GgufFormatException} naming the key when it is missing or of the wrong
 * type.
 *
 * <p>Representation of values ({@link Value#value()}):
 * <ul>
 *   <li>integer scalars: {@code Long} (UINT64 values above {@code Long.MAX_VALUE} keep their bit pattern);</li>
 *   <li>FLOAT32/FLOAT64: {@code Double} (float32 widened exactly); BOOL: {@code Boolean}; STRING: {@code String};</li>
 *   <li>arrays: integer element types as {@code long[]}, float types as {@code double[]}, BOOL as
 *       {@code boolean[]}, STRING as {@code String[]}, ARRAY (nested) as {@code Value[]}.</li>
 * </ul>
 */
public final class GgufMetadata {

    /**
     * One metadata value with its on-disk type.
     *
     * @param type        the value's type
     * @param elementType for ARRAY, the element type; otherwise null
     * @param value       see the class comment for the Java representation
     */
    public record Value(GgufValueType type, GgufValueType elementType, Object value) {
        public Value {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(value, "value");
            if (type == GgufValueType.ARRAY) {
                Objects.requireNonNull(elementType, "elementType of ARRAY");
            }
        }

        /** Number of elements for an array value, 1 otherwise. */
        public int length() {
            Object v = value;
            if (v instanceof long[] a) return a.length;
            if (v instanceof double[] a) return a.length;
            if (v instanceof boolean[] a) return a.length;
            if (v instanceof Object[] a) return a.length;
            return 1;
        }

        String describe() {
            return type == GgufValueType.ARRAY ? "ARRAY of " + elementType + "[" + length() + "]" : type.name();
        }
    }

    private final Map<String, Value> entries;

    private GgufMetadata(Map<String, Value> entries) {
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** Metadata holding exactly these entries (iteration order kept). */
    public static GgufMetadata of(Map<String, Value> entries) {
        return new GgufMetadata(entries);
    }

    /** A builder for writers and tests. */
    public static Builder builder() {
        return new Builder();
    }

    /** All keys in file order. */
    public Set<String> keys() {
        return entries.keySet();
    }

    /** All entries in file order (unmodifiable). */
    public Map<String, Value> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    /** The raw value, if present. */
    public Optional<Value> find(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** The raw value; throws naming the key if absent. */
    public Value require(String key) {
        Value v = entries.get(key);
        if (v == null) {
            throw new GgufFormatException("missing required metadata key '" + key + "'");
        }
        return v;
    }

    private static GgufFormatException wrongType(String key, Value v, String wanted) {
        return new GgufFormatException("metadata key '" + key + "' has type " + v.describe() + ", expected " + wanted);
    }

    public String getString(String key) {
        Value v = require(key);
        if (v.type() != GgufValueType.STRING) throw wrongType(key, v, "STRING");
        return (String) v.value();
    }

    public Optional<String> findString(String key) {
        return contains(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    /** Any integer type as a long. */
    public long getLong(String key) {
        Value v = require(key);
        if (!v.type().isInteger()) throw wrongType(key, v, "an integer");
        return (Long) v.value();
    }

    public OptionalLong findLong(String key) {
        return contains(key) ? OptionalLong.of(getLong(key)) : OptionalLong.empty();
    }

    /** Any integer type whose value lies in [min, max]; the message names key, value and range otherwise. */
    public int getInt(String key, int min, int max) {
        long v = getLong(key);
        if (v < min || v > max) {
            throw new GgufFormatException("metadata key '" + key + "' = " + v + " is out of range [" + min + ", " + max + "]");
        }
        return (int) v;
    }

    /** Like {@link #getInt(String, int, int)} with a default when absent. */
    public int getInt(String key, int min, int max, int defaultValue) {
        return contains(key) ? getInt(key, min, max) : defaultValue;
    }

    /** FLOAT32/FLOAT64 (integers are accepted too) as a double. */
    public double getDouble(String key) {
        Value v = require(key);
        if (v.type().isFloat()) return (Double) v.value();
        if (v.type().isInteger()) return (Long) v.value();
        throw wrongType(key, v, "a number");
    }

    public double getDouble(String key, double defaultValue) {
        return contains(key) ? getDouble(key) : defaultValue;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        if (!contains(key)) return defaultValue;
        Value v = require(key);
        if (v.type() != GgufValueType.BOOL) throw wrongType(key, v, "BOOL");
        return (Boolean) v.value();
    }

    public String[] getStringArray(String key) {
        Value v = require(key);
        if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.STRING) {
            throw wrongType(key, v, "ARRAY of STRING");
        }
        return ((String[]) v.value()).clone();
    }

    /** An integer array as long[]. */
    public long[] getLongArray(String key) {
        Value v = require(key);
        if (v.type() != GgufValueType.ARRAY || !v.elementType().isInteger()) {
            throw wrongType(key, v, "ARRAY of integers");
        }
        return ((long[]) v.value()).clone();
    }

    /** A float (or integer) array as float[]. */
    public float[] getFloatArray(String key) {
        Value v = require(key);
        if (v.type() == GgufValueType.ARRAY && v.elementType().isFloat()) {
            double[] d = (double[]) v.value();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
            return f;
        }
        if (v.type() == GgufValueType.ARRAY && v.elementType().isInteger()) {
            long[] d = (long[]) v.value();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = d[i];
            return f;
        }
        throw wrongType(key, v, "ARRAY of numbers");
    }

    @Override
    public String toString() {
        return "GgufMetadata" + entries.keySet();
    }

    /** Collects entries in insertion order; a later put of the same key replaces the earlier. */
    public static final class Builder {
        private final Map<String, Value> entries = new LinkedHashMap<>();

        public Builder put(String key, Value value) {
            entries.put(Objects.requireNonNull(key, "key"), value);
            return this;
        }

        public Builder putString(String key, String v) {
            return put(key, new Value(GgufValueType.STRING, null, v));
        }

        public Builder putUint32(String key, long v) {
            if (v < 0 || v > 0xFFFF_FFFFL) throw new IllegalArgumentException(key + ": uint32 out of range: " + v);
            return put(key, new Value(GgufValueType.UINT32, null, v));
        }

        public Builder putInt32(String key, int v) {
            return put(key, new Value(GgufValueType.INT32, null, (long) v));
        }

        public Builder putUint64(String key, long v) {
            return put(key, new Value(GgufValueType.UINT64, null, v));
        }

        public Builder putFloat32(String key, float v) {
            return put(key, new Value(GgufValueType.FLOAT32, null, (double) v));
        }

        public Builder putBool(String key, boolean v) {
            return put(key, new Value(GgufValueType.BOOL, null, v));
        }

        public Builder putStringArray(String key, String[] v) {
            return put(key, new Value(GgufValueType.ARRAY, GgufValueType.STRING, v.clone()));
        }

        public Builder putFloat32Array(String key, float[] v) {
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) d[i] = v[i];
            return put(key, new Value(GgufValueType.ARRAY, GgufValueType.FLOAT32, d));
        }

        public Builder putInt32Array(String key, int[] v) {
            long[] d = new long[v.length];
            for (int i = 0; i < v.length; i++) d[i] = v[i];
            return put(key, new Value(GgufValueType.ARRAY, GgufValueType.INT32, d));
        }

        public GgufMetadata build() {
            return new GgufMetadata(entries);
        }
    }
}
