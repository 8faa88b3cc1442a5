package io.reviver.kernel.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float exponential built only from IEEE-exact operations (add, multiply, fused multiply-add, min/max, exact
 * conversions of integral values, integer shifts), as a vector and as a scalar that computes every lane's
 * arithmetic in the same order: so its bits never depend on how the JVM runs it.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: on JDK 17 x86 its compiled form (a vectorised math library)
 * and its interpreted form (per-lane {@link Math#exp}) round differently. Measured: 2,668 of 65,536 arguments in
 * [−20, 0] gave other bits before the method was compiled than after. Any result through the softmax or the SwiGLU
 * gate then depended on how warm the JIT was when it ran, so two runs that must agree bit for bit (a sequence
 * decoded alone and in a batch; a prefill read in place and gathered) could differ in their last bit.
 *
 * <p>The method (as in Cephes' {@code expf}): {@code n = round(x·log₂e)} by adding and subtracting 1.5·2²³;
 * {@code r = x − n·ln2} in two parts (Cody–Waite); {@code e^r ≈ 1 + r + r²·P(r)} with P of degree 5 on
 * {@code |r| ≤ ln2/2}; then the result times {@code 2ⁿ} as two exact power-of-two factors, so results down into
 * the subnormal range round once. Arguments are clamped to [−104, 89] first (below, every result rounds to 0;
 * above, to +∞), so −∞ gives 0, +∞ gives +∞ and NaN gives NaN. Accuracy against {@link Math#exp} is stated and
 * checked in {@code VectorExpTest}.
 */
final class VectorExp {

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;      // 355/512: n·LN2_HI is exact for |n| < 2¹⁵
    private static final float LN2_LO = -2.12194440e-4f;   // ln 2 − LN2_HI
    private static final float ROUND = 12582912f;          // 1.5·2²³: x + ROUND − ROUND rounds x to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LO = -104f;
    private static final float HI = 89f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private VectorExp() {
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /**
     * S's int twin, for the bit reinterpretations: {@code reinterpretShape} to this constant rather than
     * {@code reinterpretAsInts()} / {@code reinterpretAsFloats()}, which look their target species up at run time.
     * C2 does not always fold that look-up on JDK 17 (PrintIntrinsics then reports the conversion as "missing
     * constant ... vclass_to=LoadP"), and a conversion left as a call boxes the vectors around it. A JFR profile of a
     * batched decode that boxed (one JVM start of several) put every sampled allocation, about 4.4 GB in 23 s, at
     * the multiplications by these conversions' results and the sum after them in the loop below.
     */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    private static final FloatVector V_LO = FloatVector.broadcast(S, LO);
    private static final FloatVector V_HI = FloatVector.broadcast(S, HI);
    private static final FloatVector V_LOG2E = FloatVector.broadcast(S, LOG2E);
    private static final FloatVector V_ROUND = FloatVector.broadcast(S, ROUND);
    private static final FloatVector V_MINUS_LN2_HI = FloatVector.broadcast(S, -LN2_HI);
    private static final FloatVector V_MINUS_LN2_LO = FloatVector.broadcast(S, -LN2_LO);
    private static final FloatVector V_P0 = FloatVector.broadcast(S, P0);
    private static final FloatVector V_P1 = FloatVector.broadcast(S, P1);
    private static final FloatVector V_P2 = FloatVector.broadcast(S, P2);
    private static final FloatVector V_P3 = FloatVector.broadcast(S, P3);
    private static final FloatVector V_P4 = FloatVector.broadcast(S, P4);
    private static final FloatVector V_P5 = FloatVector.broadcast(S, P5);
    private static final FloatVector V_ONE = FloatVector.broadcast(S, 1f);

    /** {@link #loop}: {@code a[i] = e^(a[i] − shift)}, returning the sum of the results. */
    static final int EXP_SHIFTED = 0;
    /** {@link #loop}: {@code a[i] = a[i] / (1 + e^(−a[i])) · b[i]} (SiLU of a gate times an up projection). */
    static final int SILU_TIMES = 1;

    /**
     * The vector loops that need {@code e^x}, over {@code a[aOff, aOff + len)} and {@code b[bOff, …)} ({@code len} a
     * multiple of the {@link FloatVector#SPECIES_PREFERRED} length), each lane's {@code e^x} computed with
     * {@link #exp(float)}'s arithmetic in the same order. The exponential is written into the loop rather than
     * called: a vector returned by a method that C2 chose not to inline is boxed on the heap, and a profile of the
     * decode step caught exactly that in some runs and not in others (the exponential compiled on its own, then
     * called from the softmax: about 1 MB of boxed vectors per step of a 1B-shaped model).
     *
     * @param kind {@link #EXP_SHIFTED} (b unused; returns the sum of the results: per-lane running sums in order,
     *             then reduced across lanes) or {@link #SILU_TIMES} (returns 0)
     */
    static float loop(int kind, float[] a, int aOff, float[] b, int bOff, int len, float shift) {
        FloatVector vShift = FloatVector.broadcast(S, shift);
        FloatVector sum = FloatVector.zero(S);
        for (int i = 0; i < len; i += S.length()) {
            FloatVector in = FloatVector.fromArray(S, a, aOff + i);
            FloatVector x = kind == EXP_SHIFTED ? in.sub(vShift) : in.neg();
            FloatVector c = x.max(V_LO).min(V_HI);
            FloatVector t = c.fma(V_LOG2E, V_ROUND);
            FloatVector nf = t.sub(V_ROUND);
            FloatVector r = nf.fma(V_MINUS_LN2_HI, c);
            r = nf.fma(V_MINUS_LN2_LO, r);
            FloatVector p = r.fma(V_P0, V_P1);
            p = p.fma(r, V_P2);
            p = p.fma(r, V_P3);
            p = p.fma(r, V_P4);
            p = p.fma(r, V_P5);
            FloatVector y = p.fma(r.mul(r), r).add(V_ONE);
            // n in the low bits of t: t = 1.5·2²³ + n is an exact float whose bits are those of 1.5·2²³ plus n
            IntVector n = ((IntVector) t.reinterpretShape(IS, 0)).sub(ROUND_BITS);
            IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
            IntVector n2 = n.sub(n1);
            FloatVector s1 = (FloatVector) n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(S, 0);
            FloatVector s2 = (FloatVector) n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(S, 0);
            FloatVector e = y.mul(s1).mul(s2);
            sum = sum.add(e); // unconditionally: a vector merged from two branches would be boxed
            if (kind == EXP_SHIFTED) {
                e.intoArray(a, aOff + i);
            } else {
                in.div(V_ONE.add(e)).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(a, aOff + i);
            }
        }
        return kind == EXP_SHIFTED ? sum.reduceLanes(VectorOperators.ADD) : 0f;
    }

    /** {@code e^x}: the arithmetic of one lane of {@link #loop}'s exponential, in the same order. */
    static float exp(float x) {
        float c = Math.min(Math.max(x, LO), HI);
        float t = Math.fma(c, LOG2E, ROUND);
        float nf = t - ROUND;
        float r = Math.fma(nf, -LN2_HI, c);
        r = Math.fma(nf, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        int n = Float.floatToRawIntBits(t) - ROUND_BITS;
        int n1 = n >> 1;
        int n2 = n - n1;
        return y * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
    }
}
