package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorExp}: its accuracy against {@link Math#exp}, its vector and scalar forms bit for bit, its special
 * values, and the reason it exists: the vector softmax and SwiGLU give the same bits in a JVM that only interprets
 * (a child run with {@code -Xint}) as here once compiled.
 */
class VectorExpTest {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Ulps of the float nearest {@code e^x} between it and {@code got}. */
    private static double ulps(float x, float got) {
        float want = (float) Math.exp(x);
        return Math.abs((double) got - want) / Math.ulp(want);
    }

    /**
     * Within 2 ulp of the correctly rounded float for normal results (arguments in [−87.3, 88.7]); results in the
     * subnormal range within 1 subnormal step (they round once, from a value near the exact one).
     */
    @Test
    void accurateOverTheWholeRange() {
        SplittableRandom r = new SplittableRandom(5);
        double worst = 0;
        double worstAttention = 0;
        int n = 1 << 21;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i % 2 == 0 ? (float) (-87.3 + 176 * r.nextDouble()) : (float) (-30 * r.nextDouble());
        }
        float[] got = vectorExp(x);
        for (int i = 0; i < n; i++) {
            double u = ulps(x[i], got[i]);
            worst = Math.max(worst, u);
            if (i % 2 == 1) {
                worstAttention = Math.max(worstAttention, u);
            }
            assertTrue(u <= 2, "exp(" + x[i] + ") = " + got[i] + ", Math.exp " + (float) Math.exp(x[i]) + ": " + u
                + " ulp");
        }
        for (float v = -103.9f; v < -87.3f; v += 0.0137f) {
            float want = (float) Math.exp(v);
            float e = VectorExp.exp(v);
            assertTrue(Math.abs(e - want) <= Float.MIN_VALUE, "exp(" + v + ") = " + e + ", Math.exp " + want);
        }
        System.out.printf("VectorExp: worst %.3f ulp over [-87.3, 88.7], %.3f ulp over [-30, 0]%n", worst,
            worstAttention);
    }

    @Test
    void vectorAndScalarFormsAgreeBitForBitIncludingSpecialValues() {
        SplittableRandom r = new SplittableRandom(6);
        float[] x = new float[1 << 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((r.nextDouble() - 0.5) * 400);
        }
        float[] special = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f, 1e-30f, -1e-30f,
            88.7f, 88.8f, 89f, 1e30f, -87.4f, -103.9f, -104f, -1e30f, Float.MIN_VALUE, -Float.MAX_VALUE};
        System.arraycopy(special, 0, x, 0, special.length);
        float[] v = vectorExp(x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(VectorExp.exp(x[i])), Float.floatToIntBits(v[i]), "exp(" + x[i] + ")");
        }
        assertEquals(0f, VectorExp.exp(Float.NEGATIVE_INFINITY), "a masked score gets weight 0 exactly");
        assertEquals(0f, VectorExp.exp(-104f));
        assertEquals(Float.POSITIVE_INFINITY, VectorExp.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, VectorExp.exp(89f));
        assertTrue(Float.isNaN(VectorExp.exp(Float.NaN)));
        assertEquals(1f, VectorExp.exp(0f));
        assertEquals(1f, VectorExp.exp(-0f));
    }

    private static float[] vectorExp(float[] x) {
        float[] out = x.clone();
        int bound = S.loopBound(x.length);
        VectorExp.loop(VectorExp.EXP_SHIFTED, out, 0, null, 0, bound, 0f); // x − 0 is x, bit for bit
        for (int i = bound; i < x.length; i++) {
            out[i] = VectorExp.exp(x[i]);
        }
        return out;
    }

    /** A child JVM that only interprets gets the bits this one gets after compiling the same methods. */
    @Test
    void softmaxAndSwiGluBitsDoNotDependOnTheJit() throws IOException, InterruptedException {
        long here = 0;
        for (int k = 0; k < 300; k++) { // enough calls for C2 to compile the loops
            here = fingerprint();
        }
        Path javaBin = Paths.get(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(javaBin.toString(), "-Xint", "--add-modules=jdk.incubator.vector",
            "-cp", System.getProperty("java.class.path"), VectorExpChildMain.class.getName()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("fingerprint " + here), "interpreted: " + out.strip() + ", compiled here: " + here);
    }

    /** A hash of the bits of {@link ElementOps#vector()}'s softmax and SwiGLU over fixed seeded rows. */
    static long fingerprint() {
        SplittableRandom r = new SplittableRandom(11);
        ElementOps el = ElementOps.vector();
        long h = 17;
        for (int row = 0; row < 8; row++) {
            int len = 61 + 97 * row; // vector body and scalar tail
            float[] scores = new float[len];
            float[] gate = new float[len];
            float[] up = new float[len];
            for (int i = 0; i < len; i++) {
                scores[i] = (float) (r.nextGaussian() * 6);
                gate[i] = (float) (r.nextGaussian() * 4);
                up[i] = (float) r.nextGaussian();
            }
            el.softmax(scores, 0, len);
            el.swiGlu(gate, up, len);
            for (int i = 0; i < len; i++) {
                h = h * 31 + Float.floatToRawIntBits(scores[i]);
                h = h * 31 + Float.floatToRawIntBits(gate[i]);
            }
        }
        return h;
    }
}
