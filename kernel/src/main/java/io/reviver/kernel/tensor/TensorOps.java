package io.reviver.kernel.tensor;

/**
 * The compute backend seam for weight products: a pure-Java implementation ({@link JavaTensorOps}, Vector API
 * paths with a scalar reference beside each) and later an OpenCL one. Passed to the model in its constructor,
 * never looked up from a static. Implementations are thread-safe; they may run work on their own threads.
 */
public interface TensorOps extends AutoCloseable {

    /** Human-readable description of the active path, logged at start-up (e.g. "java-vector 512-bit, 2 threads"). */
    String describe();

    /**
     * {@code out[t, r] = Σ_c W[r, c] · x[t, c]} for {@code t ∈ [0, n)}, i.e. {@code out = x · Wᵀ}.
     *
     * @param w   weights (rows, cols)
     * @param x   activations (n, cols) row-major, read from offset 0
     * @param n   number of activation rows (tokens); 1 for matrix-vector
     * @param out result (n, rows) row-major, written from offset 0
     */
    void matmul(QuantizedMatrix w, float[] x, int n, float[] out);

    /** Dequantises row {@code row} of {@code w} into {@code out[off, off + cols)} (embedding look-up). */
    void dequantizeRow(QuantizedMatrix w, int row, float[] out, int off);

    /** Releases threads and device resources. */
    @Override
    void close();
}
