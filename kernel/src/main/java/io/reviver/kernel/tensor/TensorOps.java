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
     * {@code out[t, r] = Σ_c W[r, c] · x[t, c]} for {@code t ∈ [0, n)}, i.e. {@code out = x · Wᵀ}. Each output row
     * is bit-identical to the mat-vec ({@code n = 1}) of its activation row, whatever {@code n} and the thread
     * count.
     *
     * @param w   weights (rows, cols)
     * @param x   activations (n, cols) row-major, read from offset 0
     * @param n   number of activation rows (tokens); 1 for matrix-vector
     * @param out result (n, rows) row-major, written from offset 0
     */
    void matmul(QuantizedMatrix w, float[] x, int n, float[] out);

    /**
     * {@link #matmul(QuantizedMatrix, float[], int, float[])} for rows of the given kind. The default ignores the
     * kind, which always satisfies both contracts below.
     *
     * @param rows {@link Rows#INDEPENDENT} keeps {@link #matmul}'s contract; {@link Rows#PROMPT} lets the backend
     *             trade bit-identity with the mat-vec for speed
     */
    default void matmul(QuantizedMatrix w, float[] x, int n, float[] out, Rows rows) {
        matmul(w, x, n, out);
    }

    /**
     * Several products of the same activations: {@code outs[i] = x · ws[i]ᵀ} for every i, each with the bits
     * {@link #matmul(QuantizedMatrix, float[], int, float[], Rows)} gives it alone. A backend may run them as one
     * job (quantising {@code x} once, splitting all their rows between its threads); the default runs them one
     * after the other.
     *
     * @param ws   weight matrices of the same column count
     * @param outs one result array per matrix, (n, ws[i].rows) row-major
     */
    default void matmulShared(QuantizedMatrix[] ws, float[] x, int n, float[][] outs, Rows kind) {
        if (ws.length != outs.length) {
            throw new IllegalArgumentException(ws.length + " matrices but " + outs.length + " outputs");
        }
        for (int i = 0; i < ws.length; i++) {
            matmul(ws[i], x, n, outs[i], kind);
        }
    }

    /** What the rows of a product are, and so which rounding guarantee its caller needs. */
    enum Rows {
        /**
         * Rows of independent sequences (a multi-sequence decode step): each output row is bit-identical to the
         * mat-vec of its activation row whatever {@code n}, so a sequence's results never depend on what shares its
         * step. This is {@link #matmul(QuantizedMatrix, float[], int, float[])}'s contract.
         */
        INDEPENDENT,
        /**
         * Prompt rows (prefill, of one sequence or several): a backend may compute them on a faster route whose
         * float rounding differs from the mat-vec's. Each output row still depends only on its activation row and
         * the weights: neither on {@code n}, nor on the other rows, nor on the thread count; so a sequence's
         * prefill gives the same bits however its prompt is chunked and whatever other sequences' rows share the
         * product.
         */
        PROMPT
    }

    /**
     * Builds now, instead of on the first product, whatever copy of {@code w} this backend computes on, so a caller
     * can account for its memory and keep it out of the first request's time. The default builds nothing.
     *
     * @return the bytes that copy holds (none when the products run on the encoded bytes directly)
     */
    default CopyBytes prepare(QuantizedMatrix w) {
        return CopyBytes.NONE;
    }

    /**
     * Bytes held by a backend's copies of weight matrices: on the JVM heap (counted against {@code -Xmx}) and in
     * native memory outside it (counted against a container's limit, in Spark {@code spark.executor.memoryOverhead}).
     *
     * @param heap    bytes on the heap, ≥ 0
     * @param offHeap bytes of native memory, ≥ 0
     */
    record CopyBytes(long heap, long offHeap) {
        /** No copy. */
        public static final CopyBytes NONE = new CopyBytes(0, 0);

        /** @throws IllegalArgumentException if a figure is negative */
        public CopyBytes {
            if (heap < 0 || offHeap < 0) {
                throw new IllegalArgumentException("copy bytes must be >= 0, got heap " + heap + ", off-heap "
                    + offHeap);
            }
        }

        /** The sum of both figures with {@code other}'s. */
        public CopyBytes plus(CopyBytes other) {
            return new CopyBytes(heap + other.heap, offHeap + other.offHeap);
        }
    }

    /** Dequantises row {@code row} of {@code w} into {@code out[off, off + cols)} (embedding look-up). */
    void dequantizeRow(QuantizedMatrix w, int row, float[] out, int off);

    /**
     * The threads this backend computes products on, for a caller that runs its own parallel work (the model's
     * attention over KV heads) between products: sharing them keeps two sets of threads from competing for the
     * cores. Null (the default) when the backend has no such team; the caller then makes its own.
     */
    default WorkerTeam workerTeam() {
        return null;
    }

    /** Releases threads and device resources. */
    @Override
    void close();
}
