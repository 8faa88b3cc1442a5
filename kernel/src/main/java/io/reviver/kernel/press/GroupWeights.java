package io.reviver.kernel.press;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The attention weight a GQA group gave each entry, as presses accumulate it: for entry i of weights laid out
 * (kvMul, count), {@code mean_i = (w[0][i] + w[1][i] + … + w[kvMul−1][i]) · (1/kvMul)}, the sum taken in head order
 * from 0 and rounded per addition exactly as a scalar loop does, lanes along the entries; so the vector and scalar
 * forms, and every caller, get the same bits.
 */
final class GroupWeights {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private GroupWeights() {
    }

    /** {@code dst[i] += mean_i} for {@code i < n}. */
    static void addMeans(float[] weights, int count, int kvMul, int n, float[] dst) {
        means(weights, count, kvMul, n, dst, true);
    }

    /** {@code dst[i] = mean_i} for {@code i < n}. */
    static void setMeans(float[] weights, int count, int kvMul, int n, float[] dst) {
        means(weights, count, kvMul, n, dst, false);
    }

    /** {@code dst[i] += src[i]} for {@code i < n} (a mean computed once, added to further sums). */
    static void add(float[] src, int n, float[] dst) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector.fromArray(S, dst, i).add(FloatVector.fromArray(S, src, i)).intoArray(dst, i);
        }
        for (; i < n; i++) {
            dst[i] += src[i];
        }
    }

    private static void means(float[] weights, int count, int kvMul, int n, float[] dst, boolean add) {
        float invMul = 1f / kvMul;
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector g = FloatVector.zero(S);
            for (int q = 0; q < kvMul; q++) {
                g = g.add(FloatVector.fromArray(S, weights, q * count + i));
            }
            FloatVector mean = g.mul(invMul);
            (add ? FloatVector.fromArray(S, dst, i).add(mean) : mean).intoArray(dst, i);
        }
        for (; i < n; i++) {
            float mean = sum(weights, count, kvMul, i) * invMul;
            dst[i] = add ? dst[i] + mean : mean;
        }
    }

    /** {@code w[0][i] + w[1][i] + … + w[kvMul−1][i]} in head order from 0: one entry's group sum, unscaled. */
    static float sum(float[] weights, int count, int kvMul, int i) {
        float g = 0;
        for (int q = 0; q < kvMul; q++) {
            g += weights[q * count + i];
        }
        return g;
    }
}
