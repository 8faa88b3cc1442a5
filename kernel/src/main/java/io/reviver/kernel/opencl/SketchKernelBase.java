package io.reviver.kernel.opencl;

import com.aparapi.Kernel;

/**
 * Device-side helpers shared by the kernels: the {@link io.reviver.kernel.attention.SketchHash} integer hash
 * (repeated here operation for operation, because a kernel may only call its own methods) and the row-combining
 * rule of Count-Sketch reconstruction.
 *
 * <p>A <em>row code</em> packs where a token lives in one sketch row: {@code code = (offset << 1) | negative}
 * where {@code offset} is the start of the bucket in the flat (S, depth, width, headSize) table array (below 2³⁰)
 * and {@code negative} is 1 when the row's sign is −1.
 */
abstract class SketchKernelBase extends Kernel {

    /** Unsigned 32-bit mask. */
    private static final long MASK = 0xFFFFFFFFL;

    /** {@code a·c mod 2³²} from 16-bit halves of {@code a}: see {@code SketchHash.mul32}. */
    protected final long mul32(long a, long c) {
        long low = (a & 0xFFFFL) * c;
        long high = (((a >>> 16) * c) & 0xFFFFL) << 16;
        return (low + high) & MASK;
    }

    /** murmur3 {@code fmix32}: see {@code SketchHash.fmix}. */
    protected final long fmix(long h0) {
        long h = h0;
        h = h ^ (h >>> 16);
        h = mul32(h, 0x85EBCA6BL);
        h = h ^ (h >>> 13);
        h = mul32(h, 0xC2B2AE35L);
        h = h ^ (h >>> 16);
        return h;
    }

    /** {@code SketchHash.mix(seed, row, position)}, in {@code [0, 2³²)}. */
    protected final long mix(int seed, int row, int position) {
        long h = (((long) seed) & MASK) ^ mul32(((long) (row + 1)) & MASK, 0x9E3779B9L);
        h = fmix(h);
        return fmix(h ^ (((long) position) & MASK));
    }

    /** Row code of (sketch, row, position) in tables of shape (S, depth, width, headSize). */
    protected final int rowCode(int seed, int sketch, int row, int position, int depth, int width, int headSize) {
        long h = mix(seed, row, position);
        int bucket = (int) (h % width);
        int code = (((sketch * depth + row) * width + bucket) * headSize) << 1;
        if ((h >>> 31) != 0L) {
            code = code | 1;
        }
        return code;
    }

    /** Coordinate {@code c} of a bucket vector with the row's sign applied. */
    protected final float signedAt(float[] table, int code, int c) {
        float v = table[(code >> 1) + c];
        if ((code & 1) != 0) {
            v = -v;
        }
        return v;
    }

    /**
     * Coordinate {@code c} of the reconstruction from the {@code depth} row codes {@code codes[base, base + depth)}:
     * the mean when depth ≤ 2 (summed in row order), otherwise the median by rank selection (rank of row i = number
     * of rows with a smaller value, ties broken by row index), the mean of the two middle values for even depth.
     * Same result as sorting, without a private array. Depths 3 and 5 use branch-free min/max networks
     * ({@link #median3}, {@link #median5}); they select the same element as a sort.
     */
    protected final float combine(float[] table, int[] codes, int base, int depth, int c) {
        float result = 0f;
        if (depth == 3) {
            result = median3(signedAt(table, codes[base], c), signedAt(table, codes[base + 1], c),
                signedAt(table, codes[base + 2], c));
        } else if (depth == 5) {
            result = median5(signedAt(table, codes[base], c), signedAt(table, codes[base + 1], c),
                signedAt(table, codes[base + 2], c), signedAt(table, codes[base + 3], c),
                signedAt(table, codes[base + 4], c));
        } else if (depth <= 2) {
            float sum = 0f;
            for (int j = 0; j < depth; j++) {
                sum += signedAt(table, codes[base + j], c);
            }
            result = sum / depth;
        } else {
            int lo = (depth - 1) / 2;
            int hi = depth / 2;
            float a = 0f;
            float b = 0f;
            for (int i = 0; i < depth; i++) {
                float vi = signedAt(table, codes[base + i], c);
                int rank = 0;
                for (int l = 0; l < depth; l++) {
                    float vl = signedAt(table, codes[base + l], c);
                    if (vl < vi || (vl == vi && l < i)) {
                        rank++;
                    }
                }
                if (rank == lo) {
                    a = vi;
                }
                if (rank == hi) {
                    b = vi;
                }
            }
            if (lo == hi) {
                result = a;
            } else {
                result = (a + b) * 0.5f;
            }
        }
        return result;
    }

    /**
     * Coordinate {@code c} of the MEAN reconstruction from the {@code depth} row codes: in float, the sum in row order
     * of {@code T_j[c] / n_j} over rows with a non-empty bucket ({@code n_j} read from {@code counts} at the bucket
     * index {@code offset / headSize}), divided by depth. The reference accumulates in double (see
     * {@code AttentionBackend} for the bound).
     */
    protected final float combineMean(float[] table, int[] counts, int[] codes, int base, int depth, int headSize,
                                      int c) {
        float sum = 0f;
        for (int j = 0; j < depth; j++) {
            int offset = codes[base + j] >> 1;
            int n = counts[offset / headSize];
            if (n != 0) {
                sum += table[offset + c] / n;
            }
        }
        return sum / depth;
    }

    /** Median of three: {@code max(min(a, b), min(max(a, b), c))}. */
    protected final float median3(float a, float b, float c) {
        return max(min(a, b), min(max(a, b), c));
    }

    /**
     * Median of five: the median of {@code e} and the two middle candidates {@code max(min(a, b), min(c, d))} and
     * {@code min(max(a, b), max(c, d))} (checked against sorting on every tuple over a 4-value alphabet).
     */
    protected final float median5(float a, float b, float c, float d, float e) {
        return median3(e, max(min(a, b), min(c, d)), min(max(a, b), max(c, d)));
    }

    /**
     * {@code Σ_i a[aOff + i]·b[bOff + i]} for {@code i < len} with four independent partial sums (lanes i mod 4,
     * combined as {@code (s0 + s1) + (s2 + s3)}): breaks the add-latency chain of a single accumulator on CPUs and
     * gives a GPU instruction-level parallelism. Rounding differs from a sequential sum by a few ulps.
     */
    protected final float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        while (i + 3 < len) {
            s0 += a[aOff + i] * b[bOff + i];
            s1 += a[aOff + i + 1] * b[bOff + i + 1];
            s2 += a[aOff + i + 2] * b[bOff + i + 2];
            s3 += a[aOff + i + 3] * b[bOff + i + 3];
            i += 4;
        }
        while (i < len) {
            s0 += a[aOff + i] * b[bOff + i];
            i++;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * {@code Σ_j w[wOff + j]·v[(vRow + j)·stride + c]} for {@code j < count}: one coordinate of a weighted sum of
     * rows, with four independent partial sums (rows j mod 4) as in {@link #dot}.
     */
    protected final float weightedColumn(float[] w, int wOff, float[] v, int vRow, int stride, int c, int count) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int j = 0;
        while (j + 3 < count) {
            s0 += w[wOff + j] * v[(vRow + j) * stride + c];
            s1 += w[wOff + j + 1] * v[(vRow + j + 1) * stride + c];
            s2 += w[wOff + j + 2] * v[(vRow + j + 2) * stride + c];
            s3 += w[wOff + j + 3] * v[(vRow + j + 3) * stride + c];
            j += 4;
        }
        while (j < count) {
            s0 += w[wOff + j] * v[(vRow + j) * stride + c];
            j++;
        }
        return (s0 + s1) + (s2 + s3);
    }
}
