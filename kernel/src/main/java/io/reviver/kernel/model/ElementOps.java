package io.reviver.kernel.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise helpers of the forward pass that run over whole rows: dot products (attention scores),
 * scaled accumulation (attention-weighted values) and sums of squares (RMSNorm). Two implementations with the
 * same contract: {@link #scalar()} (plain loops, the reference) and {@link #vector()} (Vector API, preferred
 * species). Results may differ from the reference only by float summation order. Stateless and thread-safe.
 */
public abstract class ElementOps {

    private static final ElementOps SCALAR = new Scalar();
    private static final ElementOps VECTOR = new Vector();

    /** The scalar reference. */
    public static ElementOps scalar() {
        return SCALAR;
    }

    /** The Vector API path. */
    public static ElementOps vector() {
        return VECTOR;
    }

    /** {@code Σ_{i<n} a[aOff + i] · b[bOff + i]}. */
    public abstract float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y[yOff + i] += alpha · x[xOff + i]} for {@code i < n}. */
    public abstract void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code Σ_{i<n} x[off + i]²}. */
    public abstract float sumOfSquares(float[] x, int off, int n);

    /** Short description for logs. */
    public abstract String describe();

    private static final class Scalar extends ElementOps {
        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            float s = 0f;
            for (int i = 0; i < n; i++) {
                s += a[aOff + i] * b[bOff + i];
            }
            return s;
        }

        @Override
        public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
            for (int i = 0; i < n; i++) {
                y[yOff + i] += alpha * x[xOff + i];
            }
        }

        @Override
        public float sumOfSquares(float[] x, int off, int n) {
            float s = 0f;
            for (int i = 0; i < n; i++) {
                s += x[off + i] * x[off + i];
            }
            return s;
        }

        @Override
        public String describe() {
            return "scalar";
        }
    }

    private static final class Vector extends ElementOps {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
            }
            float s = acc.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                s += a[aOff + i] * b[bOff + i];
            }
            return s;
        }

        @Override
        public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
            FloatVector va = FloatVector.broadcast(S, alpha);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
            }
            for (; i < n; i++) {
                y[yOff + i] += alpha * x[xOff + i];
            }
        }

        @Override
        public float sumOfSquares(float[] x, int off, int n) {
            return dot(x, off, x, off, n);
        }

        @Override
        public String describe() {
            return "vector " + S.vectorBitSize() + "-bit";
        }
    }
}
