package io.reviver.kernel.tensor;

/**
 * The host side of the native decode attention ({@code kernel/src/main/c/reviver_attention.c}, in the library
 * {@link NativeQ8} loads): one call is the attention of a KV head's query heads against one sequence's entries
 * (scores, a softmax per head, the weighted values), with the arithmetic of {@code ElementOps.vector()} on 16 float
 * lanes operation for operation, so the same bits (see the C file). It runs where the library loaded and the CPU
 * has AVX-512F; {@link #available()} says whether, {@link #status()} why not. Thread-safe: calls share nothing.
 *
 * <p>The arrays are read and written in place inside JNI critical regions, each lasting one call (a KV head of one
 * sequence: microseconds).
 */
public final class NativeAttention {

    /** Widest head handled: 256 floats (the kernel keeps a head's query in 16 vector registers). */
    public static final int MAX_WIDTH = 256;

    private NativeAttention() {
    }

    private static final class Holder {
        static final boolean AVAILABLE;
        static final String STATUS;

        static {
            boolean ok = false;
            String status;
            if (!NativeQ8.available()) {
                status = "not available: the native library did not load (" + NativeQ8.status() + ")";
            } else {
                try {
                    ok = supported0();
                    status = ok ? "available (AVX-512F)" : "not available: this CPU has no AVX-512F";
                } catch (LinkageError e) { // a library from before this entry point (reviver.native.library)
                    status = "not available: " + e;
                }
            }
            AVAILABLE = ok;
            STATUS = status;
        }
    }

    /** Whether {@link #attend} runs here: the library loaded and the CPU has AVX-512F. */
    public static boolean available() {
        return Holder.AVAILABLE;
    }

    /** Why {@link #available()} is what it is. */
    public static String status() {
        return Holder.STATUS;
    }

    /**
     * Whether {@link #attend} takes these shapes: width a positive multiple of 16 up to {@value #MAX_WIDTH}, heads
     * and len at least 1, entries at least a width apart, score rows at least len apart. A caller with a fallback
     * asks first; {@link #attend} refuses the rest.
     */
    public static boolean suits(int heads, int width, int len, int stride, int sStride) {
        return width > 0 && width % 16 == 0 && width <= MAX_WIDTH && heads >= 1 && len >= 1 && stride >= width
            && sStride >= len;
    }

    /**
     * Decode attention of {@code heads} query heads over {@code len} entries, as {@code ElementOps.attend} defines
     * it: query h at {@code q[qOff + h·width, + width)}; entry j's key and value at {@code k[kvOff + j·stride, +
     * width)} and {@code v[kvOff + j·stride, + width)}; head h's weights left at {@code scores[sOff + h·sStride, +
     * len)}; its output at {@code out[outOff + h·width, + width)}.
     *
     * <p>Queries, keys and values are only read; scores and out must not overlap them or each other. The results
     * equal the vector path's bits except in the payload of NaNs (a NaN score makes every weight of its head NaN on
     * both).
     *
     * @return true when computed; false when the JVM handed native code a copy of an array instead of the array
     *         (nothing was written: the caller computes it in Java). Where the JVM cannot expose an array at all,
     *         its OutOfMemoryError is thrown on return.
     * @throws IllegalStateException    if {@link #available()} is false
     * @throws IllegalArgumentException if width is not a positive multiple of 16 up to {@value #MAX_WIDTH}, heads
     *                                  or len is below 1, sStride is below len, stride is below width, or a range
     *                                  is outside its array
     */
    public static boolean attend(float[] q, int qOff, int heads, int width, float scale, float[] k, float[] v,
                                 int kvOff, int stride, int len, float[] scores, int sOff, int sStride, float[] out,
                                 int outOff) {
        if (!available()) {
            throw new IllegalStateException("native attention " + status());
        }
        if (!suits(heads, width, len, stride, sStride)) {
            throw new IllegalArgumentException("native attention: width " + width + " (a multiple of 16 up to "
                + MAX_WIDTH + "), heads " + heads + ", len " + len + ", score stride " + sStride + ", entry stride "
                + stride);
        }
        long kvEnd = (long) kvOff + (long) (len - 1) * stride + width;
        if (qOff < 0 || (long) qOff + (long) heads * width > q.length || kvOff < 0 || kvEnd > k.length
            || kvEnd > v.length || sOff < 0 || (long) sOff + (long) (heads - 1) * sStride + len > scores.length
            || outOff < 0 || (long) outOff + (long) heads * width > out.length) {
            throw new IllegalArgumentException("native attention: a range is outside its array (q " + qOff + " of "
                + q.length + ", entries to " + kvEnd + " of keys " + k.length + " and values " + v.length
                + ", scores " + sOff + " of " + scores.length + ", out " + outOff + " of " + out.length + ")");
        }
        return attend0(q, qOff, heads, width, scale, k, v, kvOff, stride, len, scores, sOff, sStride, out,
            outOff) == 0;
    }

    private static native boolean supported0();

    private static native int attend0(float[] q, int qOff, int heads, int width, float scale, float[] k, float[] v,
                                      int kvOff, int stride, int len, float[] scores, int sOff, int sStride,
                                      float[] out, int outOff);
}
