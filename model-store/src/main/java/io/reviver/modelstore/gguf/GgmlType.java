package io.reviver.modelstore.gguf;

import java.util.Optional;

/**
 * ggml tensor element types this engine reads, with their on-disk block layout. Ids are ggml's
 * ({@code ggml.h}). A tensor of {@code n} elements of a block type occupies {@code n / blockSize * typeSize}
 * bytes and requires {@code n % blockSize == 0} along its innermost dimension.
 *
 * <p>Block layouts (little-endian):
 * <ul>
 *   <li>Q8_0: 32 elements = fp16 scale d, 32 × int8 q; x = d·q.</li>
 *   <li>Q4_0: 32 elements = fp16 d, 16 bytes; element i&lt;16 in the low nibble of byte i, element 16+i in
 *       its high nibble; x = d·(nibble − 8).</li>
 *   <li>Q4_K: 256 elements = fp16 d, fp16 dmin, 12 bytes of packed 6-bit scales/mins for 8 sub-blocks of 32,
 *       128 bytes of nibbles; x = d·sc·q − dmin·m.</li>
 *   <li>Q6_K: 256 elements = 128 bytes low 4 bits, 64 bytes high 2 bits, 16 × int8 scales, fp16 d;
 *       x = d·scale·(q − 32).</li>
 * </ul>
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** ggml's numeric id of this type. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for float types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** True for the block-quantised types. */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes occupied by {@code elements} elements; the caller has checked {@code elements % blockSize == 0}.
     *
     * @throws ArithmeticException on overflow
     */
    public long byteSize(long elements) {
        return Math.multiplyExact(elements / blockSize, (long) typeSize);
    }

    /** The supported type with this ggml id, if any. */
    public static Optional<GgmlType> fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /**
     * ggml's name for a type id, supported or not (for error messages such as "tensor blk.0.attn_q.weight
     * has type Q5_K (13), which is not supported").
     */
    public static String ggmlName(int id) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
            "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16"};
        return id >= 0 && id < names.length ? names[id] : "unknown";
    }
}
