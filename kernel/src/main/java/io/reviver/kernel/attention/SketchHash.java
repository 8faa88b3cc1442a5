package io.reviver.kernel.attention;

/**
 * The seeded hash of KVReviver's Count-Sketch: for sketch row {@code j} and absolute token position {@code p},
 * a bucket {@code h_j(p) ∈ [0, width)} and a sign {@code s_j(p) ∈ {+1, −1}} (see {@code docs/kv-compression.md}
 * §1.4).
 *
 * <p>Definition (all values unsigned 32-bit, held in a {@code long} within {@code [0, 2³²)}):
 * <pre>
 *   fmix(h)      = murmur3's 32-bit finaliser: h ^= h>>>16; h *= 0x85EBCA6B; h ^= h>>>13; h *= 0xC2B2AE35; h ^= h>>>16
 *   mix(s, j, p) = fmix( fmix( s ^ (j+1)·0x9E3779B9 ) ^ p )
 *   bucket       = mix mod width         sign = +1 if bit 31 of mix is 0, else −1
 * </pre>
 * Multiplications are modulo 2³² and computed from 16-bit halves ({@link #mul32}) so no intermediate exceeds
 * 2⁴⁹: the OpenCL kernels (io.reviver.kernel.opencl) repeat exactly these integer operations without relying on
 * signed-overflow behaviour (undefined in OpenCL C), and the equivalence tests check bit-for-bit agreement.
 * Seeds are per (layer, KV head) so collisions decorrelate across heads; a negative seed or position is taken as
 * its 32-bit pattern. This is the only sketch hash of the project: the press's {@code CountSketch} uses it too
 * (its 64-bit head seed folded by {@link #seedOf}), so a sketch filled on one backend is read on another.
 */
public final class SketchHash {

    /** 2³² − 1: keeps a {@code long} within the unsigned 32-bit range. */
    public static final long MASK32 = 0xFFFFFFFFL;
    private static final long GOLDEN = 0x9E3779B9L;
    private static final long C1 = 0x85EBCA6BL;
    private static final long C2 = 0xC2B2AE35L;

    private SketchHash() {
    }

    /** The 32-bit hash seed of a 64-bit seed: {@code (int) (seed ^ (seed >>> 32))}. */
    public static int seedOf(long seed) {
        return (int) (seed ^ (seed >>> 32));
    }

    /** The 32-bit hash of (seed, row, position), in {@code [0, 2³²)}. */
    public static long mix(int seed, int row, int position) {
        long h = (seed & MASK32) ^ mul32((row + 1) & MASK32, GOLDEN);
        h = fmix(h);
        return fmix(h ^ (position & MASK32));
    }

    /**
     * The part of {@link #mix} that depends on the seed and row only, as an int (its 32-bit pattern): with it,
     * {@link #mixOf} gives {@code mix(seed, row, position)} for each position with one finaliser instead of two.
     */
    public static int rowKey(int seed, int row) {
        return (int) fmix((seed & MASK32) ^ mul32((row + 1) & MASK32, GOLDEN));
    }

    /**
     * {@code mix(seed, row, position)} as an int (its 32-bit pattern), from {@link #rowKey}{@code (seed, row)}:
     * the same finaliser in Java's wrapping int arithmetic, which computes products modulo 2³² as {@link #mul32}
     * does. The bucket is {@code Integer.remainderUnsigned(mixOf(…), width)}, the sign −1 when the result is
     * negative (bit 31 set).
     */
    public static int mixOf(int rowKey, int position) {
        int h = rowKey ^ position;
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }

    /** Bucket {@code h_row(position) ∈ [0, width)}; {@code width ≥ 1}. */
    public static int bucket(int seed, int row, int position, int width) {
        return (int) (mix(seed, row, position) % width);
    }

    /** Sign {@code s_row(position) ∈ {+1, −1}}. */
    public static int sign(int seed, int row, int position) {
        return (mix(seed, row, position) >>> 31) == 0 ? 1 : -1;
    }

    /** murmur3 {@code fmix32} on an unsigned 32-bit value {@code h ∈ [0, 2³²)}. */
    static long fmix(long h) {
        h ^= h >>> 16;
        h = mul32(h, C1);
        h ^= h >>> 13;
        h = mul32(h, C2);
        h ^= h >>> 16;
        return h;
    }

    /** {@code a·c mod 2³²} for {@code a, c ∈ [0, 2³²)}, from the 16-bit halves of {@code a} (no overflow). */
    static long mul32(long a, long c) {
        long low = (a & 0xFFFFL) * c;
        long high = (((a >>> 16) * c) & 0xFFFFL) << 16;
        return (low + high) & MASK32;
    }
}
