package io.reviver.modelstore.gguf;

import java.util.Optional;

/** GGUF metadata value types, with their on-disk ids. Integer types are little-endian. */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int fixedSize;

    GgufValueType(int id, int fixedSize) {
        this.id = id;
        this.fixedSize = fixedSize;
    }

    /** On-disk id. */
    public int id() {
        return id;
    }

    /** Encoded size in bytes for fixed-size types, −1 for STRING and ARRAY. */
    public int fixedSize() {
        return fixedSize;
    }

    /** True for the eight integer types. */
    public boolean isInteger() {
        return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == UINT32
            || this == INT32 || this == UINT64 || this == INT64;
    }

    /** True for FLOAT32 and FLOAT64. */
    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The value type with this on-disk id, if any. */
    public static Optional<GgufValueType> fromId(int id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
