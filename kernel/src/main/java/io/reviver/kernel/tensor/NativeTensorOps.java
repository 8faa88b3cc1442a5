package io.reviver.kernel.tensor;

import io.reviver.modelstore.gguf.GgmlType;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.IntConsumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Weight products on the native int8 kernels ({@link NativeQ8}): Q8_0 matrices against activations quantised to
 * int8 per 32-column block, the arithmetic {@link Int8Products} defines. This is how native engines run Q8_0 models
 * on CPUs (the activations are quantised, the products summed as integers), and it changes the numbers: each
 * output carries the activations' quantisation error, within {@link Int8Products#errorBound}, where
 * {@link JavaTensorOps} multiplies float activations. So a model on this backend gives tokens and logits of its
 * own, close to but not those of the Java backend.
 *
 * <p>Every output row depends only on its activation row and the weights: the same bits whatever {@code n}, the
 * thread count, the instruction set, or {@link Rows}; so {@link Rows#PROMPT} and {@link Rows#INDEPENDENT} take one
 * route, and a sequence's results never depend on what shares its step. Products of other types, and embedding
 * look-ups, go to a {@link JavaTensorOps} on the same threads. Thread-safe: each calling thread quantises into its
 * own scratch.
 */
public final class NativeTensorOps implements TensorOps {

    private static final Logger LOG = LogManager.getLogger(NativeTensorOps.class);

    /** Below this many weight bytes times rows, a product runs on the calling thread alone. */
    private static final long INLINE_WORK = 1L << 16;

    private final JavaTensorOps java;
    private final WorkerTeam workers;
    private final NativeQ8.Isa isa;
    private final int threads;
    private final String description;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    private final ThreadLocal<Parts> parts = ThreadLocal.withInitial(Parts::new);

    /**
     * @param threads compute threads (≥ 1), shared with the Java backend for other products
     * @param isa     the native kernel to run; null for {@link NativeQ8#selected()} (the fastest this CPU runs, unless
     *                {@value NativeQ8#ISA_PROPERTY} names another)
     * @throws NativeUnavailableException if the library did not load or {@code isa} does not run on this CPU
     * @throws IllegalArgumentException   if {@code isa} is null and {@value NativeQ8#ISA_PROPERTY} names no kernel
     */
    public NativeTensorOps(int threads, NativeQ8.Isa isa) {
        if (!NativeQ8.available()) {
            throw new NativeUnavailableException("native int8 backend requested, but " + NativeQ8.status());
        }
        NativeQ8.Isa chosen = isa != null ? isa : NativeQ8.selected();
        if (!NativeQ8.supports(chosen)) {
            throw new NativeUnavailableException("native int8 kernel " + chosen.configName()
                + " does not run on this CPU (" + NativeQ8.status() + ")");
        }
        this.java = new JavaTensorOps(threads, JavaTensorOps.Path.VECTOR);
        this.workers = java.workerTeam();
        this.isa = chosen;
        this.threads = threads;
        this.description = "native-int8 " + chosen.configName() + " (Q8_0 products, activations quantised per block; "
            + "other types on " + java.describe() + ")";
        LOG.info("tensor ops: {}", description);
    }

    /** The native kernel in use. */
    public NativeQ8.Isa isa() {
        return isa;
    }

    /** Compute threads. */
    public int threads() {
        return threads;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public WorkerTeam workerTeam() {
        return workers;
    }

    /** {@inheritDoc} Here a Q8_0 matrix's copy is its {@linkplain QuantizedMatrix#q8Native() native one}. */
    @Override
    public CopyBytes prepare(QuantizedMatrix w) {
        NativeWeights q = w.type() == GgmlType.Q8_0 ? w.q8Native() : null;
        return q == null ? java.prepare(w) : new CopyBytes(0, q.bytes());
    }

    @Override
    public void matmul(QuantizedMatrix w, float[] x, int n, float[] out) {
        matmul(w, x, n, out, Rows.INDEPENDENT);
    }

    /** {@inheritDoc} Both kinds of rows take the same route here (see the class comment). */
    @Override
    public void matmul(QuantizedMatrix w, float[] x, int n, float[] out, Rows kind) {
        Objects.requireNonNull(kind, "kind");
        NativeWeights q = w.type() == GgmlType.Q8_0 ? w.q8Native() : null;
        if (q == null) {
            java.matmul(w, x, n, out, kind);
            return;
        }
        w.checkProduct(x, n, out);
        Parts p = parts.get();
        p.qs[0] = q;
        p.outs[0] = out;
        run(p, 1, q.groups(), x, n, w.cols(), (long) w.rows() * w.cols() * n);
    }

    /**
     * {@inheritDoc} Here, when every matrix is Q8_0 with its native copy and they share a column count, the
     * activations are quantised once and all their row groups are split between the threads as one job (each
     * product alone pays a hand-off and a cold start of its memory stream; the 1B model's decode makes 7 per layer).
     */
    @Override
    public void matmulShared(QuantizedMatrix[] ws, float[] x, int n, float[][] outs, Rows kind) {
        if (ws.length != outs.length) {
            throw new IllegalArgumentException(ws.length + " matrices but " + outs.length + " outputs");
        }
        if (ws.length == 0) {
            return;
        }
        Parts p = parts.get();
        p.fit(ws.length);
        int groups = 0;
        long work = 0;
        for (int i = 0; i < ws.length; i++) {
            NativeWeights q = ws[i].type() == GgmlType.Q8_0 ? ws[i].q8Native() : null;
            if (q == null || ws[i].cols() != ws[0].cols() || ws.length == 1) {
                p.clear();
                TensorOps.super.matmulShared(ws, x, n, outs, kind);
                return;
            }
            p.qs[i] = q;
            p.outs[i] = outs[i];
            groups += q.groups();
            work += (long) ws[i].rows() * ws[i].cols() * n;
        }
        for (int i = 0; i < ws.length; i++) {
            ws[i].checkProduct(x, n, outs[i]);
        }
        run(p, ws.length, groups, x, n, ws[0].cols(), work);
    }

    /**
     * Quantises {@code x} once and computes the row groups of the first {@code count} products the caller put in
     * {@code p} ({@code groups} of them in all): on the team when the work is large enough, else on this thread.
     * Leaves {@code p} cleared.
     *
     * @param work weight elements times activation rows, over all the products
     */
    private void run(Parts p, int count, int groups, float[] x, int n, int cols, long work) {
        try {
            Scratch s = scratch.get();
            s.fit(n, cols);
            NativeQ8.quantize(isa, x, n, cols, s.xq, s.xd, s.xc);
            int tasks = workers == null || work < INLINE_WORK ? 1 : Math.min(threads, groups);
            p.set(count, s, n, tasks, groups);
            if (tasks == 1) {
                p.accept(0);
            } else {
                workers.run(tasks, p);
            }
        } finally {
            p.clear();
        }
    }

    @Override
    public void dequantizeRow(QuantizedMatrix w, int row, float[] out, int off) {
        java.dequantizeRow(w, row, out, off);
    }

    @Override
    public void close() {
        java.close();
    }

    /** Per calling thread: quantised activations, grown to the largest product seen. */
    private static final class Scratch {
        byte[] xq = new byte[0];
        float[] xd = new float[0];
        int[] xc = new int[0];

        void fit(int n, int cols) {
            int blocks = n * (cols / 32);
            if (xq.length < n * cols) {
                xq = new byte[n * cols];
            }
            if (xd.length < blocks) {
                xd = new float[blocks];
                xc = new int[blocks];
            }
        }
    }

    /**
     * The parts of a product: an equal share of the row groups per task, each taken by the first thread free (the
     * caller runs both when the worker is late). Smaller chunks taken dynamically (4 or 16 per thread) were no
     * faster on the 1B model's products from memory.
     */
    private final class Parts implements IntConsumer {
        private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        // the products' matrices and outputs, [0, count): their row groups numbered in this order; reused, so a
        // product allocates nothing
        private NativeWeights[] qs = new NativeWeights[4];
        private float[][] outs = new float[4][];
        private int count;
        private Scratch s;
        private int n;
        private int chunks;
        private int groups; // of all the matrices together

        void fit(int products) {
            if (qs.length < products) {
                qs = new NativeWeights[products];
                outs = new float[products][];
            }
        }

        void set(int count, Scratch s, int n, int chunks, int groups) {
            this.count = count;
            this.s = s;
            this.n = n;
            this.chunks = chunks;
            this.groups = groups;
            next.set(0);
        }

        /** Drops the references to this product's arrays. */
        void clear() {
            Arrays.fill(qs, null);
            Arrays.fill(outs, null);
            set(0, null, 0, 0, 0);
        }

        @Override
        public void accept(int part) {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                int g0 = (int) ((long) groups * c / chunks);
                int g1 = (int) ((long) groups * (c + 1) / chunks);
                int base = 0; // first group of matrix i in the joint numbering
                for (int i = 0; i < count && base < g1; i++) {
                    int lo = Math.max(g0, base) - base;
                    int hi = Math.min(g1, base + qs[i].groups()) - base;
                    if (lo < hi) {
                        NativeQ8.product(isa, qs[i], lo, hi, s.xq, s.xd, s.xc, n, outs[i]);
                    }
                    base += qs[i].groups();
                }
            }
        }
    }
}
