package io.reviver.kernel.tensor;

import io.reviver.modelstore.gguf.GgmlType;
import java.nio.ByteBuffer;

/**
 * The arithmetic of the int8 weight products ({@link NativeTensorOps}), in plain Java: how activations are quantised,
 * and the reference every native kernel must equal bit for bit.
 *
 * <p>Activations are quantised per 32-column block, as llama.cpp does for Q8_0 × Q8_0: with {@code a} the block's
 * largest magnitude, the scale is {@code d = a / 127f} and each value {@code x} becomes
 * {@code q = rint(x · (1 / d))} (0 when {@code d = 0}), clamped to [-127, 127]. Then for weight row r and activation
 * row t, blocks in order: {@code acc = fma((float) isum_k, wd[r, k] · xd[t, k], acc)} from {@code acc = 0}, where
 * {@code isum_k} is the block's exact integer dot product of the weight and activation quants and the scale product
 * is rounded to float before the fused multiply-add. Every step is named, so any kernel that sums each block
 * exactly gives the same bits, whatever its instruction set, thread count or the number of rows beside it.
 *
 * <p>Quantising the activations is the price of this route: each activation carries an error of up to half its
 * block's scale, so an output differs from the float product ({@link JavaTensorOps}) by up to
 * {@link #errorBound}: {@code Σ |w| · a / 254} over the blocks (a the block's largest activation magnitude), so a
 * block with one outlier carries more error for its other values; in practice far less than the bound.
 */
public final class Int8Products {

    private Int8Products() {
    }

    /**
     * Quantises {@code n} activation rows of {@code cols} floats (a multiple of 32).
     *
     * @param x  activations (n, cols) row-major, from offset 0
     * @param xq out: quants (n, cols) row-major
     * @param xd out: block scales (n, cols / 32) row-major
     * @param xc out: per block {@code -128 · Σ xq} of the block, (n, cols / 32) row-major (what the native kernels
     *           start each block's sum from, since they multiply the weights as unsigned bytes {@code q + 128})
     */
    public static void quantize(float[] x, int n, int cols, byte[] xq, float[] xd, int[] xc) {
        int blocks = cols / 32;
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < blocks; k++) {
                int o = t * cols + 32 * k;
                float amax = 0f;
                for (int c = 0; c < 32; c++) {
                    amax = Math.max(amax, Math.abs(x[o + c]));
                }
                float d = amax / 127f;
                float id = d == 0f ? 0f : 1f / d;
                int sum = 0;
                for (int c = 0; c < 32; c++) {
                    int q = (int) Math.rint(x[o + c] * id);
                    q = Math.max(-127, Math.min(127, q));
                    xq[o + c] = (byte) q;
                    sum += q;
                }
                xd[t * blocks + k] = d;
                xc[t * blocks + k] = -128 * sum;
            }
        }
    }

    /**
     * The reference product, from the matrix's own Q8_0 bytes: {@code out[t, r]} for {@code t < n} and every row r,
     * as the class comment defines it.
     *
     * @param w  a Q8_0 matrix (rows, cols)
     * @param xq activation quants (n, cols), as {@link #quantize} writes them
     * @param xd activation block scales (n, cols / 32)
     * @param out result (n, rows) row-major
     */
    public static void reference(QuantizedMatrix w, byte[] xq, float[] xd, int n, float[] out) {
        if (w.type() != GgmlType.Q8_0) {
            throw new IllegalArgumentException("int8 products need a Q8_0 matrix, " + w.name() + " is " + w.type());
        }
        int rows = w.rows();
        int cols = w.cols();
        int blocks = cols / 32;
        ByteBuffer b = w.data();
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                float acc = 0f;
                for (int k = 0; k < blocks; k++) {
                    int p = 34 * (r * blocks + k);
                    float wd = JavaTensorOps.halfToFloat(b.getShort(p) & 0xFFFF);
                    int isum = 0;
                    for (int c = 0; c < 32; c++) {
                        isum += b.get(p + 2 + c) * xq[t * cols + 32 * k + c];
                    }
                    acc = Math.fma((float) isum, wd * xd[t * blocks + k], acc);
                }
                out[t * rows + r] = acc;
            }
        }
    }

    /**
     * How far {@code out[t, r]} of an int8 product may lie from the exact product of the weights with the
     * unquantised activations: half a block scale per activation, times the weight's magnitude, summed, plus a
     * float rounding allowance of {@code 1e-5} of the sum of the products' magnitudes.
     *
     * @param x activations (n, cols), unquantised
     * @param xd their block scales, as {@link #quantize} wrote them
     */
    public static double errorBound(QuantizedMatrix w, float[] x, float[] xd, int t, int r) {
        int cols = w.cols();
        int blocks = cols / 32;
        ByteBuffer b = w.data();
        double bound = 0;
        double magnitude = 0;
        for (int k = 0; k < blocks; k++) {
            int p = 34 * (r * blocks + k);
            double wd = Math.abs(JavaTensorOps.halfToFloat(b.getShort(p) & 0xFFFF));
            for (int c = 0; c < 32; c++) {
                double wv = wd * Math.abs(b.get(p + 2 + c));
                bound += wv * xd[t * blocks + k] / 2;
                magnitude += wv * Math.abs(x[t * cols + 32 * k + c]);
            }
        }
        return bound + 1e-5 * magnitude;
    }
}
