package io.reviver.kernel.tensor;

import io.reviver.modelstore.gguf.Dequantizer;
import io.reviver.modelstore.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The pure-Java {@link TensorOps}: weight products computed directly on the encoded bytes of F32, F16, BF16, Q8_0,
 * Q4_0, Q4_K and Q6_K matrices, with activations and accumulators in float32 (activations are never quantised).
 *
 * <p>Two paths with the same contract: {@link Path#VECTOR} (jdk.incubator.vector, preferred species) and
 * {@link Path#SCALAR} (plain loops, the reference beside each vector path). Both decode weights to exactly the
 * floats {@link Dequantizer} produces (same float operations in the same order), so results differ from a dot
 * over {@link Dequantizer}'s output only by float summation order.
 *
 * <p>Scheme of {@link #matmul}: output rows are split into contiguous ranges, one per compute thread. Within a
 * range, a tile of {@value #ROW_TILE} weight rows is decoded one column panel (at most {@value #PANEL} columns)
 * at a time into a small per-task float scratch, and that panel is then reused for all {@code n} activation
 * rows (on the VECTOR path in 4 × 4 register blocks: 4 weight rows × 4 activation rows). So every weight block is
 * decoded exactly once per call, whatever {@code n}, and prefill costs far less than {@code n} mat-vecs. For
 * {@code n = 1} the VECTOR path skips the scratch: it decodes each row block by block in registers straight into
 * one accumulator. Every output element is accumulated from the same decoded floats in the same column
 * order with the same reduction points (once per panel) on all of these routes, so on a given path results do
 * not depend on the thread count, and a mat-vec equals the matching row of a prefill product bit for bit.
 *
 * <p>Q8_0 on the VECTOR path (when the preferred float vector is 8 or 16 lanes) runs on the matrix's
 * {@linkplain QuantizedMatrix#q8Packed() heap copy} instead, with its own accumulation scheme, again the same on
 * every route: per output element, per block of 32 columns, two vector chains over the block's lane groups (each
 * starting with a product, then FMAs): {@code s} over the even lane groups and {@code t} over the odd ones, then
 * {@code acc = fma(s + t, d_block, acc)} in block order, and one lane reduction at the end of the row. (Two short
 * chains instead of one of four FMAs: the multiply-adds of a block no longer wait on each other. Measured in an
 * ad-hoc harness, 1 thread: the mat-vec from 10.1 to 12 GB/s, the 4-row kernel from about 36 to 42–44 GFLOP/s.)
 * For {@code n = 1} each weight row is one such loop in registers. For {@code n > 1} the activation rows are first
 * regrouped once per call (shared by all tasks), each group of 4 interleaved lane group by lane group (a kernel
 * reads its 4 rows at fixed offsets from one index: one bounds check and one stream instead of four); then each
 * task takes its weight rows in blocks of about {@value #Q8_ROW_BLOCK_BYTES} bytes, read once from memory in order
 * and kept in L2 while every group sweeps them, a whole weight row against a group at a time (each int8 lane group
 * converted once for 4 products; a partial group of 3 is padded with a zero row, one of 2 has its own kernel, and
 * a single row runs the mat-vec kernel over its interleaved lanes).
 *
 * <p>The prompt route ({@link Rows#PROMPT}, packed Q8_0, any number of rows) gives up that bit-identity for speed:
 * weight rows are decoded to floats with their block scales applied (into a per-thread scratch, once per token
 * block of {@value #PROMPT_TOKEN_BLOCK} rows) and each output element is one
 * multiply-add chain over those floats in column order, two weight rows × 4 activation rows at a time. The
 * 4-row kernel above spends a load on every multiply-add, plus a conversion per 4 and the block-scale steps; this
 * one spends 6 loads per 8 multiply-adds and nothing else. On this machine (AMD EPYC, AVX2, 2 threads, ad-hoc harness, 2,048 activation rows) it ran
 * at 115 GFLOP/s against 84 on an 8,192 × 2,048 weight matrix and 115 against 68 on a 2,048 × 8,192 one (where
 * token blocks lifted it from 104: the activations no longer fit the L3 cache). It differs from the other
 * routes by float rounding only; its results depend neither on the thread count nor on the other rows, nor on how
 * many there are: so prompt chunks of several sequences can share one product, and a sequence's prefill gives the
 * same bits however it is chunked and whatever it is packed with. Where the float vector has 16 lanes (AVX-512, 32
 * vector registers) the route takes 4 weight rows × 4 activation rows at a time instead ({@link #promptQuad}: 16
 * accumulators, 8 loads per 16 multiply-adds), in row blocks of {@value #QUAD_BLOCK_BYTES} bytes of decoded
 * floats (64 rows of 2,048 columns, 16 of 8,192) that stay in L2 while the token block passes; the chains and so
 * the bits are the same as with pairs. On an AMD EPYC with AVX-512 (2 threads), a 2,048-token prefill of a
 * 1B-shaped model took 23.5 against 30.1 s with pairs, and 29.1 and 28.7 against 34.3 and 32.8 s in an
 * alternation an hour later (ad-hoc harness, heap on transparent huge pages). With pairs, a 2,048 × 8,192 product (the FFN's down projection) had run at 98
 * GFLOP/s against 178 for 2,048 × 2,048, its rows' activations no longer fitting L1; the products alone at 256
 * activation rows, alternating pairs and quads twice: 170–187 → 241–245 GFLOP/s (2,048 × 2,048), 174–187 →
 * 233–253 (8,192 × 2,048), 115–118 → 164–190 (2,048 × 8,192). Those quads took blocks of 64 rows and rows longer
 * than 2,048 columns in panels, with the chains parked between panels: for the down projection a 2 MiB decoded
 * block and 1 MiB of parked chains per token block, more than L2 holds. Blocks sized in bytes, no panels, three
 * alternations of the products alone: 2,048 × 8,192 from 165, 182, 178 to 199, 217, 243 GFLOP/s, the other shapes
 * within noise; a 2,048-token prefill of the 1B-shaped model from 24.1 and 24.5 s to 19.1 and 20.2 s, then from
 * 26.8 and 28.6 to 25.6 and 24.4 s in a second alternation (ad-hoc harnesses, 2 threads, 2026-11-27). (Until
 * 2026-11 the route was taken from 32 rows up, where it overtook the 4-row kernel in the harness: 8,192 × 2,048, 2 threads, 75 against 83 GFLOP/s at 16
 * rows, 87 against 85 at 32, 99 against 84 at 64. So a product of fewer prompt rows is now up to about 10% slower
 * at 16 rows, and more at a few rows: the price of results that do not depend on the product's size. Prompt
 * products that small are a prompt's last chunk or a short question.)
 *
 * <p>Measured and not kept (JDK 17, AVX2): unrolled mat-vec loops (C2 stops keeping the vectors in registers), a
 * second accumulator across blocks, weight panels pre-converted to floats under the exact scheme (the prompt
 * route keeps them: it drops that scheme), activation rows kept apart (a stride
 * per row), and column panels with accumulators parked between them (L1-resident activations gained 1–3% on
 * compute-bound products, and the jumps between weight rows slowed memory-bound ones: in a 1B-shaped model, B=2
 * decode ran at 0.94× B=1 with panels and 1.32× without), two weight rows per mat-vec (two streams: 14 against
 * 21 GB/s), one 256-bit byte load converted in four parts (28 against 42 GFLOP/s), and weight row blocks of 256 KiB
 * to 1 MiB (within noise). Activations quantised to int8 per block, multiplied as int16 (llama.cpp's scheme for
 * Q8_0), ran the mat-vec about 1.2× faster in a harness; not adopted: a first int8 form of the 4-row kernel ran at
 * 10–14 GFLOP/s against the float one's 42 (not pursued further), and with int8 only on the mat-vec a sequence's
 * results would depend on how many sequences share its step. Row chunks taken dynamically by the threads instead
 * of one fixed range each left the decode of a 1B-shaped model within noise. (The quant layout unpacked by shifts,
 * {@link #Q8_BYTE_GROUPS}, was first measured within noise there too, 15.2 against 15.4 tokens/s; longer runs in
 * alternation later showed the 4–7% it is now kept for.)
 *
 * <p>Threads: the calling thread computes one range and a {@link WorkerTeam} of {@code threads − 1} daemon workers
 * (named {@code reviver-tensor-*}), created in the constructor and stopped by {@link #close()}, computes the
 * others; the workers watch for the next product for a while before they park, when the threads fit the cores.
 * In a 1B-shaped model (2 threads) that took a 512 × 2,048 product from 59–61 to 44 µs and a 2,048 × 2,048 one
 * from 215–259 to 178–191 µs against a thread pool (ad-hoc harness, 4 runs in alternation). Thread-safe: a call
 * that finds the team busy with another caller's product computes its own on the calling thread alone.
 */
public final class JavaTensorOps implements TensorOps {

    /** Which implementation computes the products. */
    public enum Path {
        /** jdk.incubator.vector, {@code FloatVector.SPECIES_PREFERRED}. */
        VECTOR,
        /** Plain scalar loops; the reference. */
        SCALAR
    }

    private static final Logger LOG = LogManager.getLogger(JavaTensorOps.class);

    /** Weight rows decoded together and dotted with each activation row. */
    static final int ROW_TILE = 4;
    /** Columns decoded per panel; a multiple of every block size (32, 256). */
    static final int PANEL = 1024;
    /** Q8_0 packed path: bytes of weight rows kept in L2 while every group of activation rows sweeps them. */
    private static final int Q8_ROW_BLOCK_BYTES = 128 << 10;
    /** Prompt route: weight rows decoded to floats together (an even number). */
    private static final int PROMPT_ROW_BLOCK = 32;
    /**
     * Prompt route with row quads: bytes of weight rows decoded to floats together (as many whole quads as fit, at
     * least one): 64 rows of 2,048 columns, 16 of 8,192.
     */
    private static final int QUAD_BLOCK_BYTES = 512 << 10;
    /** Prompt route: activation rows that meet one decoded row block before the next is decoded. */
    private static final int PROMPT_TOKEN_BLOCK = 256;
    /** Below this many multiply-adds a product runs on the calling thread only (hand-off would dominate). */
    private static final long INLINE_WORK = 1L << 15;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Byte lanes converted to float lanes: one float vector's worth (at least the 64-bit minimum shape). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
        VectorShape.forBitSize(Math.max(64, F.length() * 8)));
    /** Float vectors per byte vector of {@link #B}. */
    private static final int PARTS = B.length() / F.length();
    /** Whether the fused mat-vec kernels apply: one byte vector of {@link #B} fills exactly one float vector. */
    private static final boolean FUSED = PARTS == 1;
    /** fp16/bf16 lanes widened to one float vector. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
        VectorShape.forBitSize(Math.max(64, F.length() * 16)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Whether this JDK's incubating Vector API has the ByteBuffer loads the VECTOR path uses on encoded weights
     * (JDK 17 and 18; JDK 19 replaced them with MemorySegment loads, and the VECTOR path would fail with a
     * NoSuchMethodError at its first such load).
     */
    private static final boolean BUFFER_LOADS = hasBufferLoads();

    private static boolean hasBufferLoads() {
        try {
            ByteVector.class.getMethod("fromByteBuffer", VectorSpecies.class, ByteBuffer.class, int.class,
                ByteOrder.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** fp16 bits (as unsigned short) → float32. */
    private static final float[] F16_TABLE = new float[65536];

    static {
        for (int h = 0; h < 65536; h++) {
            F16_TABLE[h] = halfToFloat(h);
        }
    }

    /**
     * IEEE binary16 bits (low 16 bits of h) → float32, exact: exponent and mantissa moved into float position
     * are a float 2^112 too small (bias 15 instead of 127; half subnormals land on float subnormals), so one
     * exact multiplication by 2^112 rebiases them; exponent 31 (inf/NaN) maps to 255 keeping the payload.
     */
    static float halfToFloat(int h) {
        int em = h & 0x7FFF;
        int bits = em >= 0x7C00 ? (em << 13) | 0x7F80_0000
            : Float.floatToRawIntBits(Float.intBitsToFloat(em << 13) * 0x1p112f);
        return Float.intBitsToFloat(bits | (h & 0x8000) << 16);
    }

    private final int threads;
    private final Path path;
    private final boolean vector;
    /** Whether the prompt route computes 4 weight rows at a time ({@link #promptRange} tile 4) instead of 2. */
    private final boolean promptQuads;
    private final WorkerTeam workers; // null when threads == 1
    private final String description;

    /**
     * @param threads compute threads including the caller, ≥ 1
     * @param path    implementation to use
     * @throws IllegalArgumentException if {@code threads < 1}
     * @throws UnsupportedOperationException if VECTOR is requested on a CPU whose preferred float vector is wider
     *                                       than 512 bits (the quantised decoders assume ≤ 16 lanes), or on a JDK
     *                                       whose {@code jdk.incubator.vector} lacks the ByteBuffer loads this path
     *                                       uses (removed in JDK 19: the project targets JDK 17)
     */
    public JavaTensorOps(int threads, Path path) {
        this(threads, path, F.length() >= 16);
    }

    /**
     * @param promptQuads whether the prompt route takes weight rows 4 at a time (16 accumulators: the public
     *                    constructor's choice where the float vector has 16 lanes, i.e. AVX-512 with its 32
     *                    vector registers) or 2 at a time (8 accumulators, which AVX2's 16 registers hold); the
     *                    results are the same bits either way, only the speed differs
     */
    JavaTensorOps(int threads, Path path, boolean promptQuads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.path = Objects.requireNonNull(path, "path");
        this.vector = path == Path.VECTOR;
        this.promptQuads = promptQuads;
        if (vector && (F.length() > 16 || F.length() < 4)) {
            throw new UnsupportedOperationException("VECTOR path supports 4 to 16 float lanes, this CPU prefers "
                + F.length());
        }
        if (vector && !BUFFER_LOADS) {
            throw new UnsupportedOperationException("VECTOR path needs JDK 17 or 18: it loads weights with "
                + "jdk.incubator.vector's ByteVector.fromByteBuffer, which JDK 19 removed; this JVM is "
                + Runtime.version() + " (run Reviver on JDK 17, or choose the SCALAR path)");
        }
        workers = threads > 1 ? new WorkerTeam("reviver-tensor", threads, WorkerTeam.defaultSpinNanos(threads))
            : null;
        description = (vector ? "java-vector " + F.vectorBitSize() + "-bit (" + F.length() + " float lanes)"
            : "java-scalar") + ", " + threads + (threads == 1 ? " thread" : " threads");
        LOG.info("tensor ops: {}{}", description, vector ? "; prompt route: " + (promptQuads ? 4 : 2)
            + " weight rows per tile" : "");
    }

    /** The active path. */
    public Path path() {
        return path;
    }

    /** Compute threads including the caller. */
    public int threads() {
        return threads;
    }

    /** The team of {@link #threads()} threads the products run on; null when {@code threads == 1}. */
    @Override
    public WorkerTeam workerTeam() {
        return workers;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void matmul(QuantizedMatrix w, float[] x, int n, float[] out) {
        matmul(w, x, n, out, Rows.INDEPENDENT);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here {@link Rows#PROMPT} takes the prompt route (see the class comment) for every packed Q8_0 product on
     * the VECTOR path, whatever {@code n}; every other product takes the same route as for {@link Rows#INDEPENDENT}.
     */
    @Override
    public void matmul(QuantizedMatrix w, float[] x, int n, float[] out, Rows kind) {
        int rows = w.rows();
        int cols = w.cols();
        w.checkProduct(x, n, out);
        Objects.requireNonNull(kind, "kind");
        QuantizedMatrix.Q8Packed packed = vector && FUSED && w.type() == GgmlType.Q8_0 ? w.q8Packed() : null;
        boolean prompt = packed != null && kind == Rows.PROMPT;
        // the packed Q8_0 path reads several activation rows interleaved, prepared once for all tasks
        float[] xIn = packed != null && (n > 1 || prompt) ? interleaveGroups(x, n, cols) : x;
        int tiles = (rows + ROW_TILE - 1) / ROW_TILE;
        int tasks = workers == null || (long) rows * cols * n < INLINE_WORK ? 1 : Math.min(threads, tiles);
        if (tasks == 1) {
            range(w, packed, prompt, xIn, n, out, 0, rows);
            return;
        }
        ProductParts parts = productParts.get(); // this thread's, reused: a product allocates no job
        parts.set(w, packed, prompt, xIn, n, out, tasks, tiles, rows);
        try {
            workers.run(tasks, parts);
        } finally {
            parts.set(null, null, false, null, 0, null, 0, 0, 0);
        }
    }

    /** Per calling thread: the parts of its product in flight, as the worker team runs them. */
    private final ThreadLocal<ProductParts> productParts = ThreadLocal.withInitial(ProductParts::new);

    /** Part i of a product: the rows of task i (see {@link #rangeStart}). */
    private final class ProductParts implements java.util.function.IntConsumer {
        private QuantizedMatrix w;
        private QuantizedMatrix.Q8Packed packed;
        private boolean prompt;
        private float[] x;
        private int n;
        private float[] out;
        private int tasks;
        private int tiles;
        private int rows;

        void set(QuantizedMatrix w, QuantizedMatrix.Q8Packed packed, boolean prompt, float[] x, int n, float[] out,
                 int tasks, int tiles, int rows) {
            this.w = w;
            this.packed = packed;
            this.prompt = prompt;
            this.x = x;
            this.n = n;
            this.out = out;
            this.tasks = tasks;
            this.tiles = tiles;
            this.rows = rows;
        }

        @Override
        public void accept(int i) {
            range(w, packed, prompt, x, n, out, rangeStart(i, tasks, tiles, rows), rangeStart(i + 1, tasks, tiles,
                rows));
        }
    }

    /** First row of task {@code i} of {@code tasks}; ranges start on row-tile boundaries. */
    private static int rangeStart(int i, int tasks, int tiles, int rows) {
        return i == tasks ? rows : (int) ((long) tiles * i / tasks) * ROW_TILE;
    }

    /**
     * Builds now, instead of on the first product, whatever heap copy this backend computes {@code w}'s products on
     * (the packed Q8_0 copy on the VECTOR path), so a caller can account for it and keep it out of the first
     * request's time.
     *
     * @return the heap that copy holds (none when the products run on the encoded bytes directly)
     */
    @Override
    public CopyBytes prepare(QuantizedMatrix w) {
        if (!vector || !FUSED || w.type() != GgmlType.Q8_0) {
            return CopyBytes.NONE;
        }
        QuantizedMatrix.Q8Packed p = w.q8Packed();
        return p == null ? CopyBytes.NONE : new CopyBytes(p.quants().length + 4L * p.scales().length, 0);
    }

    @Override
    public void dequantizeRow(QuantizedMatrix w, int row, float[] out, int off) {
        if (row < 0 || row >= w.rows()) {
            throw new IllegalArgumentException("dequantizeRow " + w.name() + ": row " + row + " outside [0, "
                + w.rows() + ")");
        }
        if (off < 0 || (long) off + w.cols() > out.length) {
            throw new IllegalArgumentException("dequantizeRow " + w.name() + ": out[" + off + ", " + off + " + "
                + w.cols() + ") exceeds its length " + out.length);
        }
        decode(w, row, 0, w.cols(), out, off);
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.close();
        }
    }

    /** Computes output rows {@code [r0, r1)} for all {@code n} activation rows. */
    private void range(QuantizedMatrix w, QuantizedMatrix.Q8Packed packed, boolean prompt, float[] x, int n,
                       float[] out, int r0, int r1) {
        if (prompt) {
            promptRange(packed, w.rows(), w.cols(), x, n, out, r0, r1, promptQuads ? 4 : 2);
            return;
        }
        if (packed != null) {
            q8Range(packed, w.rows(), w.cols(), x, n, out, r0, r1);
            return;
        }
        int rows = w.rows();
        int cols = w.cols();
        int panel = Math.min(cols, PANEL);
        float[] scratch = null; // (ROW_TILE, panel) row-major: decoded weight panel, allocated when needed
        for (int r = r0; r < r1; ) {
            int tile = r1 - r >= ROW_TILE ? ROW_TILE : 1;
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < tile; i++) {
                    out[t * rows + r + i] = 0f;
                }
            }
            for (int c0 = 0; c0 < cols; c0 += panel) {
                int len = Math.min(panel, cols - c0);
                if (vector && FUSED && n == 1) {
                    // mat-vec: decode in registers, nothing to reuse a decoded panel for
                    int p = (int) (r * w.rowBytes() + w.type().byteSize(c0));
                    for (int i = 0; i < tile; i++) {
                        out[r + i] += fusedRow(w.type(), w.data(), p + i * (int) w.rowBytes(), len, x, c0);
                    }
                    continue;
                }
                if (scratch == null) {
                    scratch = new float[ROW_TILE * panel];
                }
                for (int i = 0; i < tile; i++) {
                    decode(w, r + i, c0, len, scratch, i * panel);
                }
                int t = 0;
                if (vector && tile == ROW_TILE) {
                    for (; t + 4 <= n; t += 4) {
                        dot4x4Vector(scratch, panel, len, x, t * cols + c0, cols, out, t * rows + r, rows);
                    }
                }
                for (; t < n; t++) {
                    int xOff = t * cols + c0;
                    int o = t * rows + r;
                    if (tile == ROW_TILE) {
                        if (vector) {
                            dot4Vector(scratch, panel, len, x, xOff, out, o);
                        } else {
                            dot4Scalar(scratch, panel, len, x, xOff, out, o);
                        }
                    } else {
                        out[o] += vector ? dotVector(scratch, len, x, xOff) : dotScalar(scratch, len, x, xOff);
                    }
                }
            }
            r += tile;
        }
    }

    // ---- Q8_0 on its packed heap copy (VECTOR, FUSED): see the class comment for the accumulation scheme.

    /**
     * Output rows {@code [r0, r1)} for all {@code n} activation rows of a packed Q8_0 matrix (rows, cols); for
     * {@code n > 1}, x is {@link #interleaveGroups interleaved}.
     */
    private static void q8Range(QuantizedMatrix.Q8Packed w, int rows, int cols, float[] x, int n, float[] out,
                                int r0, int r1) {
        byte[] q = w.quants();
        float[] d = w.scales();
        int blocks = cols / 32;
        if (n == 1) {
            for (int r = r0; r < r1; r++) {
                out[r] = q8Row(q, d, r * blocks, blocks, x);
            }
            return;
        }
        int group = 4 * cols;
        float[] sums = Q8_SCRATCH.get().sums; // (activation row of the group)
        // a block of weight rows (about Q8_ROW_BLOCK_BYTES, read once from memory, in order) stays in L2 while every
        // group of 4 activation rows sweeps it, a whole weight row at a time against the group
        int rowBlock = Math.max(1, Q8_ROW_BLOCK_BYTES / (cols + 4 * blocks));
        for (int rb = r0; rb < r1; rb += rowBlock) {
            int re = Math.min(r1, rb + rowBlock);
            for (int g = 0; g < n; g += 4) {
                int gn = Math.min(4, n - g);
                int xo = Q8Scratch.OFFSET + (g >> 2) * group;
                for (int r = rb; r < re; r++) {
                    int blk = r * blocks;
                    if (gn >= 3) { // a group of 3 takes the zero row after it as its fourth
                        q8Rows4(q, d, blk, blocks, x, xo, sums);
                    } else if (gn == 2) {
                        q8Rows2(q, d, blk, blocks, x, xo, sums);
                    } else {
                        sums[0] = q8RowInterleaved(q, d, blk, blocks, x, xo);
                    }
                    for (int u = 0; u < gn; u++) {
                        out[(g + u) * rows + r] = sums[u];
                    }
                }
            }
        }
    }

    /**
     * Weight rows {@code [r0, r1)} decoded into {@code wp} as floats (int8 quant × block scale, the floats
     * {@link Dequantizer} produces), {@code tile} rows (2 or 4) at a time: lane group c of row
     * {@code r0 + tile·p + i} at {@code wp[tile·p·cols + tile·c + i·lanes]} (c a column index, a multiple of the
     * lanes); the missing rows of a last partial tile are zeros.
     */
    private static void decodeTiles(QuantizedMatrix.Q8Packed w, int cols, int r0, int r1, float[] wp, int tile) {
        byte[] q = w.quants();
        float[] d = w.scales();
        int lanes = F.length();
        int blocks = cols / 32;
        for (int r = r0; r < r1; r++) {
            int base = (r - r0) / tile * tile * cols + (r - r0) % tile * lanes;
            for (int k = 0; k < blocks; k++) {
                int blk = r * blocks + k;
                FloatVector dv = FloatVector.broadcast(F, d[blk]);
                IntVector v = q8Block(q, blk * 32);
                for (int g = 0; g < Q8_GROUPS; g++) {
                    q8Group(v, q, blk * 32, g).mul(dv).intoArray(wp, base + tile * (k * 32 + g * lanes));
                }
            }
        }
        int filled = (r1 - r0) % tile;
        if (filled != 0) {
            for (int i = filled; i < tile; i++) {
                int base = (r1 - r0) / tile * tile * cols + i * lanes;
                for (int c = 0; c < cols; c += lanes) {
                    FloatVector.zero(F).intoArray(wp, base + tile * c);
                }
            }
        }
    }

    /**
     * One decoded row pair ({@link #decodeTiles} layout, tile 2 from {@code wp[wo]}) · the 4 activation rows of an
     * interleaved group from {@code x[xo]}: {@code sums[i]} for row 0 and {@code sums[4 + i]} for row 1 against
     * activation row i. Per output element one accumulator vector, a multiply-add per lane group in column order,
     * one lane reduction at the end. 8 accumulators, 2 weight and 4 activation vectors: at most 14 registers even
     * with every load of an iteration hoisted, so nothing spills on AVX2.
     *
     * <p>The {@code long} loop index is deliberate: C2 unrolls an {@code int} loop this small, schedules the
     * unrolled iterations' loads first and spills the accumulators (46 GFLOP/s, ad-hoc harness, one thread, AMD
     * EPYC; 61 with unrolling switched off by a JVM flag). It does not unroll this form: 51 GFLOP/s with the two
     * weight rows apart, 59 with them interleaved (one stream, one address register fewer).
     */
    private static void promptPair(float[] wp, int wo, int cols, float[] x, int xo, float[] sums) {
        int lanes = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        for (long lc = 0; lc < cols; lc += lanes) {
            int c = (int) lc;
            int o = wo + 2 * c;
            FloatVector u = FloatVector.fromArray(F, wp, o);
            FloatVector v = FloatVector.fromArray(F, wp, o + lanes);
            int e = xo + 4 * c;
            FloatVector x0 = FloatVector.fromArray(F, x, e);
            a0 = u.fma(x0, a0);
            b0 = v.fma(x0, b0);
            FloatVector x1 = FloatVector.fromArray(F, x, e + lanes);
            a1 = u.fma(x1, a1);
            b1 = v.fma(x1, b1);
            FloatVector x2 = FloatVector.fromArray(F, x, e + 2 * lanes);
            a2 = u.fma(x2, a2);
            b2 = v.fma(x2, b2);
            FloatVector x3 = FloatVector.fromArray(F, x, e + 3 * lanes);
            a3 = u.fma(x3, a3);
            b3 = v.fma(x3, b3);
        }
        sums[0] = a0.reduceLanes(VectorOperators.ADD);
        sums[1] = a1.reduceLanes(VectorOperators.ADD);
        sums[2] = a2.reduceLanes(VectorOperators.ADD);
        sums[3] = a3.reduceLanes(VectorOperators.ADD);
        sums[4] = b0.reduceLanes(VectorOperators.ADD);
        sums[5] = b1.reduceLanes(VectorOperators.ADD);
        sums[6] = b2.reduceLanes(VectorOperators.ADD);
        sums[7] = b3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The prompt route: output rows {@code [r0, r1)} for all {@code n} (interleaved) activation rows of a packed
     * Q8_0 matrix. Token blocks of {@value #PROMPT_TOKEN_BLOCK} rows (kept in L3 while the weights pass) × row
     * blocks, decoded once per token block into the thread's float scratch with their block scales applied,
     * {@code tile} rows interleaved lane group by lane group ({@link #decodeTiles}); every group of 4 activation rows
     * of the token block then meets every tile of the row block, whole rows at a time: row pairs ({@code tile} 2,
     * blocks of {@value #PROMPT_ROW_BLOCK} rows) in {@link #promptPair}, row quads ({@code tile} 4, blocks of
     * {@link #quadBlockRows} rows) in {@link #promptQuad}. Both give each output element the same multiply-add chain
     * over the same decoded floats in column order and one lane reduction, so the same bits.
     */
    private static void promptRange(QuantizedMatrix.Q8Packed w, int rows, int cols, float[] x, int n, float[] out,
                                    int r0, int r1, int tile) {
        Q8Scratch scratch = Q8_SCRATCH.get();
        int blockRows = tile == 4 ? quadBlockRows(cols) : PROMPT_ROW_BLOCK;
        float[] wp = scratch.weights(blockRows * cols);
        float[] sums = scratch.tileSums; // (row of the tile, row of the group)
        int group = 4 * cols;
        for (int t0 = 0; t0 < n; t0 += PROMPT_TOKEN_BLOCK) {
            int t1 = Math.min(n, t0 + PROMPT_TOKEN_BLOCK);
            for (int rb = r0; rb < r1; rb += blockRows) {
                int re = Math.min(r1, rb + blockRows);
                decodeTiles(w, cols, rb, re, wp, tile);
                for (int g = t0; g < t1; g += 4) {
                    int gn = Math.min(4, t1 - g);
                    int xo = Q8Scratch.OFFSET + (g >> 2) * group;
                    for (int r = rb; r < re; r += tile) {
                        if (tile == 4) {
                            promptQuad(wp, (r - rb) * cols, cols, x, xo, sums);
                        } else {
                            promptPair(wp, (r - rb) * cols, cols, x, xo, sums);
                        }
                        for (int i = 0; i < tile && r + i < re; i++) {
                            for (int u = 0; u < gn; u++) {
                                out[(g + u) * rows + r + i] = sums[4 * i + u];
                            }
                        }
                    }
                }
            }
        }
    }

    /** Weight rows per decoded block of the quad route: {@link #QUAD_BLOCK_BYTES} of floats, whole quads, ≥ 4. */
    static int quadBlockRows(int cols) {
        return Math.max(4, QUAD_BLOCK_BYTES / (Float.BYTES * cols) & ~3);
    }

    /**
     * One decoded row quad ({@link #decodeTiles} layout, tile 4, from {@code wp[wo]}) · the 4 activation rows of an
     * interleaved group from {@code x[xo]}: 16 chains, weight row i against activation row u in chain
     * {@code 4i + u}, each reduced over its lanes into {@code sums[4i + u]}. 16 accumulators, 4 weight and 4
     * activation vectors: 24 registers, which AVX-512's 32 hold.
     * Unlike {@link #promptPair}'s, the loop index is an {@code int}: with 32 registers C2's unrolling did not spill,
     * and the kernel ran 2–8% faster than with a {@code long} index (ad-hoc harness, 2 threads, AVX-512, four
     * alternating runs on 2,048- and 8,192-column rows).
     */
    private static void promptQuad(float[] wp, int wo, int cols, float[] x, int xo, float[] sums) {
        int lanes = F.length();
        FloatVector zero = FloatVector.zero(F);
        FloatVector a0 = zero;
        FloatVector a1 = zero;
        FloatVector a2 = zero;
        FloatVector a3 = zero;
        FloatVector b0 = zero;
        FloatVector b1 = zero;
        FloatVector b2 = zero;
        FloatVector b3 = zero;
        FloatVector c0v = zero;
        FloatVector c1v = zero;
        FloatVector c2v = zero;
        FloatVector c3v = zero;
        FloatVector d0 = zero;
        FloatVector d1 = zero;
        FloatVector d2 = zero;
        FloatVector d3 = zero;
        for (int c = 0; c < cols; c += lanes) {
            int o = wo + 4 * c;
            int e = xo + 4 * c;
            FloatVector x0 = FloatVector.fromArray(F, x, e);
            FloatVector x1 = FloatVector.fromArray(F, x, e + lanes);
            FloatVector x2 = FloatVector.fromArray(F, x, e + 2 * lanes);
            FloatVector x3 = FloatVector.fromArray(F, x, e + 3 * lanes);
            FloatVector u = FloatVector.fromArray(F, wp, o);
            a0 = u.fma(x0, a0);
            a1 = u.fma(x1, a1);
            a2 = u.fma(x2, a2);
            a3 = u.fma(x3, a3);
            FloatVector v = FloatVector.fromArray(F, wp, o + lanes);
            b0 = v.fma(x0, b0);
            b1 = v.fma(x1, b1);
            b2 = v.fma(x2, b2);
            b3 = v.fma(x3, b3);
            FloatVector y = FloatVector.fromArray(F, wp, o + 2 * lanes);
            c0v = y.fma(x0, c0v);
            c1v = y.fma(x1, c1v);
            c2v = y.fma(x2, c2v);
            c3v = y.fma(x3, c3v);
            FloatVector z = FloatVector.fromArray(F, wp, o + 3 * lanes);
            d0 = z.fma(x0, d0);
            d1 = z.fma(x1, d1);
            d2 = z.fma(x2, d2);
            d3 = z.fma(x3, d3);
        }
        sums[0] = a0.reduceLanes(VectorOperators.ADD);
        sums[1] = a1.reduceLanes(VectorOperators.ADD);
        sums[2] = a2.reduceLanes(VectorOperators.ADD);
        sums[3] = a3.reduceLanes(VectorOperators.ADD);
        sums[4] = b0.reduceLanes(VectorOperators.ADD);
        sums[5] = b1.reduceLanes(VectorOperators.ADD);
        sums[6] = b2.reduceLanes(VectorOperators.ADD);
        sums[7] = b3.reduceLanes(VectorOperators.ADD);
        sums[8] = c0v.reduceLanes(VectorOperators.ADD);
        sums[9] = c1v.reduceLanes(VectorOperators.ADD);
        sums[10] = c2v.reduceLanes(VectorOperators.ADD);
        sums[11] = c3v.reduceLanes(VectorOperators.ADD);
        sums[12] = d0.reduceLanes(VectorOperators.ADD);
        sums[13] = d1.reduceLanes(VectorOperators.ADD);
        sums[14] = d2.reduceLanes(VectorOperators.ADD);
        sums[15] = d3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The n activation rows (n, cols) regrouped for the packed Q8_0 kernels, in the calling thread's scratch: each
     * group of 4 rows interleaved lane group by lane group, (group, cols / lanes, row in group, lanes), so a kernel
     * reads its 4 rows at fixed offsets from one index (one bounds check and one stream instead of four); the
     * missing rows of a last partial group are zeros. They start at float {@link Q8Scratch#OFFSET} of the array.
     */
    private static float[] interleaveGroups(float[] x, int n, int cols) {
        int lanes = F.length();
        int padded = (n + 3) & ~3;
        float[] xs = Q8_SCRATCH.get().activations(padded * cols);
        for (int t = 0; t < padded; t++) {
            int dst = Q8Scratch.OFFSET + (t >> 2) * 4 * cols + (t & 3) * lanes;
            if (t < n) {
                int src = t * cols;
                for (int c = 0; c < cols; c += lanes) {
                    FloatVector.fromArray(F, x, src + c).intoArray(xs, dst + 4 * c);
                }
            } else {
                for (int c = 0; c < cols; c += lanes) {
                    FloatVector.zero(F).intoArray(xs, dst + 4 * c);
                }
            }
        }
        return xs;
    }

    /** Per-thread scratch of the packed Q8_0 path (no garbage per call). */
    private static final ThreadLocal<Q8Scratch> Q8_SCRATCH = ThreadLocal.withInitial(Q8Scratch::new);

    /**
     * Growable scratch arrays; each thread owns one. The interleaved activations start at {@link #OFFSET}, which puts
     * them on a 64-byte boundary when the array is a G1 humongous object: G1 places those at the start of a heap
     * region, so their address is known modulo 64. The 4-row kernel reads them with one 256-bit load per FMA, and on
     * this machine (AMD EPYC, AVX2) it ran 8–18% faster on aligned than on 16-byte-offset activations (ad-hoc
     * harness, 1 thread, 4 shifts × 2 runs), because half of the offset loads straddle two cache lines. So under G1
     * the array is made at least humongous-sized (half a region); under other collectors nothing is assumed.
     * Only speed depends on this, never results.
     */
    private static final class Q8Scratch {
        /** Floats before the interleaved activations (see the class comment). */
        static final int OFFSET;
        /** Smallest length of the activations array (a G1 humongous object), or 0. */
        static final int MIN_LENGTH;

        static {
            int offset = 0;
            int min = 0;
            String how;
            try {
                com.sun.management.HotSpotDiagnosticMXBean vm = java.lang.management.ManagementFactory
                    .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
                if (Boolean.parseBoolean(vm.getVMOption("UseG1GC").getValue())) {
                    long region = Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
                    int base = sun.misc.Unsafe.ARRAY_FLOAT_BASE_OFFSET;
                    offset = ((64 - base % 64) % 64) / Float.BYTES;
                    min = (int) Math.min(Integer.MAX_VALUE - 64, region / 2 / Float.BYTES + 1);
                    how = "G1 regions of " + (region >> 10) + " KiB: activation scratch of at least "
                        + ((long) min * Float.BYTES >> 10) + " KiB per thread, activations at float " + offset;
                } else {
                    how = "not G1: activation alignment unknown";
                }
            } catch (RuntimeException | LinkageError e) {
                how = "alignment unknown (" + e + ")";
            }
            OFFSET = offset;
            MIN_LENGTH = min;
            LOG.debug("packed Q8_0 scratch: {}", how);
        }

        private float[] activations = new float[0];
        private float[] weights = new float[0];
        final float[] sums = new float[4]; // one weight row's sums against the rows of a group
        final float[] tileSums = new float[16]; // a row tile's sums against the rows of a group (prompt route)
        /** An array of at least {@code length} floats for decoded prompt-route weights. */
        float[] weights(int length) {
            if (weights.length < length) {
                weights = new float[length];
            }
            return weights;
        }

        /** An array holding at least {@code length} floats from {@link #OFFSET}. */
        float[] activations(int length) {
            if (activations.length < OFFSET + length) {
                activations = new float[Math.max(OFFSET + length, MIN_LENGTH)];
            }
            return activations;
        }
    }

    /** {@link #F} int8 quants at {@code q[p]} as float lanes. */
    private static FloatVector q8Lanes(byte[] q, int p) {
        return (FloatVector) ByteVector.fromArray(B, q, p).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * Whether the packed Q8_0 copy stores each block's quants in lane-group byte order (see
     * {@link QuantizedMatrix#q8Packed}): when the float vector has 8 lanes. The kernels then load a block once, as 8
     * int lanes, and take its 4 lane groups apart with shifts ({@link #q8Group}) instead of 4 sign-extending 8-byte
     * loads. Same floats, same arithmetic, so results are bit-identical either way. On this machine (AMD EPYC, AVX2,
     * 2 threads, JDK 17), in a 1B-shaped model, a decode step's weight products went from 59.5 to 55.3–56.0 ms, the
     * decode step from 61.9–62.2 to 59.4–60.2 ms and a B=8 step from 237 to 225 ms (ad-hoc harnesses, 12–15 s runs
     * in alternation); on one thread the mat-vec had run at the same rate (12.5 GB/s) from a cache-resident matrix
     * as from memory, so its arithmetic, not memory, was the limit.
     */
    static final boolean Q8_BYTE_GROUPS = F.length() == 8;
    /** One packed Q8_0 block (32 bytes) when {@link #Q8_BYTE_GROUPS}. */
    private static final VectorSpecies<Byte> B_BLOCK = VectorSpecies.of(byte.class, F.vectorShape());

    /** The packed Q8_0 block at {@code q[p]} as int lanes when {@link #Q8_BYTE_GROUPS}, else null (unused). */
    private static IntVector q8Block(byte[] q, int p) {
        return Q8_BYTE_GROUPS ? (IntVector) ByteVector.fromArray(B_BLOCK, q, p).reinterpretShape(I, 0) : null;
    }

    /**
     * Lane group {@code g} (columns {@code g·lanes ..}) of the packed Q8_0 block at {@code q[p]} as float lanes: from
     * {@code v} = {@link #q8Block}{@code (q, p)} by shifts when {@link #Q8_BYTE_GROUPS}, else loaded from {@code q}.
     */
    private static FloatVector q8Group(IntVector v, byte[] q, int p, int g) {
        if (Q8_BYTE_GROUPS) {
            IntVector top = g == 3 ? v : v.lanewise(VectorOperators.LSHL, 24 - 8 * g);
            return (FloatVector) top.lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
        }
        return q8Lanes(q, p + g * F.length());
    }

    /** Lane groups per 32-column block on the packed Q8_0 path: 4 (8 float lanes) or 2 (16 lanes). */
    private static final int Q8_GROUPS = 32 / F.length();

    /**
     * One packed Q8_0 row (its first block is {@code blk}) · the activation row {@code x[0, cols)}, in registers.
     * Per block, two chains (even and odd lane groups, see the class comment) so consecutive multiply-adds do not
     * wait on each other.
     *
     * <p>{@link #q8RowInterleaved} is the same loop over an interleaved row. They are two methods, not one with a
     * stride parameter, on purpose: with one method serving both, C2 compiled it once for both strides, and after
     * a prefill had run the mat-vec ran at 17.4 instead of 22.0 GB/s (ad-hoc harness, 2 threads, 16,384 × 2,048).
     */
    private static float q8Row(byte[] q, float[] d, int blk, int blocks, float[] x) {
        int lanes = F.length();
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int p = (blk + k) * 32;
            int c = k * 32;
            IntVector v = q8Block(q, p);
            FloatVector s = q8Group(v, q, p, 0).mul(FloatVector.fromArray(F, x, c));
            FloatVector t = q8Group(v, q, p, 1).mul(FloatVector.fromArray(F, x, c + lanes));
            if (Q8_GROUPS == 4) {
                s = q8Group(v, q, p, 2).fma(FloatVector.fromArray(F, x, c + 2 * lanes), s);
                t = q8Group(v, q, p, 3).fma(FloatVector.fromArray(F, x, c + 3 * lanes), t);
            }
            acc = s.add(t).fma(FloatVector.broadcast(F, d[blk + k]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #q8Row} for the first activation row of an interleaved group starting at {@code x[xo]} (its lane group
     * c at {@code x[xo + 4c·lanes]}): the same arithmetic in the same order.
     */
    private static float q8RowInterleaved(byte[] q, float[] d, int blk, int blocks, float[] x, int xo) {
        int lanes = F.length();
        int step = 4 * lanes;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int p = (blk + k) * 32;
            int c = xo + k * 128;
            IntVector v = q8Block(q, p);
            FloatVector s = q8Group(v, q, p, 0).mul(FloatVector.fromArray(F, x, c));
            FloatVector t = q8Group(v, q, p, 1).mul(FloatVector.fromArray(F, x, c + step));
            if (Q8_GROUPS == 4) {
                s = q8Group(v, q, p, 2).fma(FloatVector.fromArray(F, x, c + 2 * step), s);
                t = q8Group(v, q, p, 3).fma(FloatVector.fromArray(F, x, c + 3 * step), t);
            }
            acc = s.add(t).fma(FloatVector.broadcast(F, d[blk + k]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #q8Rows4} for the first 2 activation rows of an interleaved group, into {@code sums[0..1]}. */
    private static void q8Rows2(byte[] q, float[] d, int blk, int blocks, float[] x, int xo, float[] sums) {
        int lanes = F.length();
        int step = 4 * lanes;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (int k = 0; k < blocks; k++) {
            int p = (blk + k) * 32;
            int c = xo + k * 128;
            IntVector v = q8Block(q, p);
            FloatVector w0 = q8Group(v, q, p, 0);
            FloatVector w1 = q8Group(v, q, p, 1);
            FloatVector s0 = w0.mul(FloatVector.fromArray(F, x, c));
            FloatVector t0 = w1.mul(FloatVector.fromArray(F, x, c + step));
            FloatVector s1 = w0.mul(FloatVector.fromArray(F, x, c + lanes));
            FloatVector t1 = w1.mul(FloatVector.fromArray(F, x, c + step + lanes));
            if (Q8_GROUPS == 4) {
                FloatVector w2 = q8Group(v, q, p, 2);
                FloatVector w3 = q8Group(v, q, p, 3);
                s0 = w2.fma(FloatVector.fromArray(F, x, c + 2 * step), s0);
                t0 = w3.fma(FloatVector.fromArray(F, x, c + 3 * step), t0);
                s1 = w2.fma(FloatVector.fromArray(F, x, c + 2 * step + lanes), s1);
                t1 = w3.fma(FloatVector.fromArray(F, x, c + 3 * step + lanes), t1);
            }
            FloatVector dv = FloatVector.broadcast(F, d[blk + k]);
            a0 = s0.add(t0).fma(dv, a0);
            a1 = s1.add(t1).fma(dv, a1);
        }
        sums[0] = a0.reduceLanes(VectorOperators.ADD);
        sums[1] = a1.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #q8Row} for the 4 activation rows of an interleaved group starting at {@code x[xo]} (lane group c of
     * row i at {@code xo + (4c + i)·lanes}), into {@code sums[0..3]}: each int8 lane group is converted once for 4
     * products, and every sum is accumulated exactly as {@link #q8Row} accumulates it.
     */
    private static void q8Rows4(byte[] q, float[] d, int blk, int blocks, float[] x, int xo, float[] sums) {
        int lanes = F.length();
        int step = 4 * lanes;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        // Per block: the odd lane groups' chains (t) of all 4 rows first, then the even ones (s), each group
        // converted just before its use, so at most 2 converted groups are live at a time instead of 4. The sums
        // are q8Row's, in its order. B=8 decode of a 1B-shaped model: 218.6–223.5 → 204.5–226.1 (median 209)
        // ms/step (12 s runs, alternating); finishing each row's even chain straight into its accumulator
        // instead ran at 221.8–222.8. The two chain blocks stay written out: as two helper methods C2 did not
        // inline them, the vectors were boxed, and the B=8 step took 1,422–1,500 ms.
        for (int k = 0; k < blocks; k++) {
            int p = (blk + k) * 32;
            int c = xo + k * 128;
            IntVector v = q8Block(q, p);
            FloatVector w1 = q8Group(v, q, p, 1);
            FloatVector t0 = w1.mul(FloatVector.fromArray(F, x, c + step));
            FloatVector t1 = w1.mul(FloatVector.fromArray(F, x, c + step + lanes));
            FloatVector t2 = w1.mul(FloatVector.fromArray(F, x, c + step + 2 * lanes));
            FloatVector t3 = w1.mul(FloatVector.fromArray(F, x, c + step + 3 * lanes));
            if (Q8_GROUPS == 4) {
                FloatVector w3 = q8Group(v, q, p, 3);
                int f = c + 3 * step;
                t0 = w3.fma(FloatVector.fromArray(F, x, f), t0);
                t1 = w3.fma(FloatVector.fromArray(F, x, f + lanes), t1);
                t2 = w3.fma(FloatVector.fromArray(F, x, f + 2 * lanes), t2);
                t3 = w3.fma(FloatVector.fromArray(F, x, f + 3 * lanes), t3);
            }
            FloatVector w0 = q8Group(v, q, p, 0);
            FloatVector s0 = w0.mul(FloatVector.fromArray(F, x, c));
            FloatVector s1 = w0.mul(FloatVector.fromArray(F, x, c + lanes));
            FloatVector s2 = w0.mul(FloatVector.fromArray(F, x, c + 2 * lanes));
            FloatVector s3 = w0.mul(FloatVector.fromArray(F, x, c + 3 * lanes));
            if (Q8_GROUPS == 4) {
                FloatVector w2 = q8Group(v, q, p, 2);
                int e = c + 2 * step;
                s0 = w2.fma(FloatVector.fromArray(F, x, e), s0);
                s1 = w2.fma(FloatVector.fromArray(F, x, e + lanes), s1);
                s2 = w2.fma(FloatVector.fromArray(F, x, e + 2 * lanes), s2);
                s3 = w2.fma(FloatVector.fromArray(F, x, e + 3 * lanes), s3);
            }
            FloatVector dv = FloatVector.broadcast(F, d[blk + k]);
            a0 = s0.add(t0).fma(dv, a0);
            a1 = s1.add(t1).fma(dv, a1);
            a2 = s2.add(t2).fma(dv, a2);
            a3 = s3.add(t3).fma(dv, a3);
        }
        sums[0] = a0.reduceLanes(VectorOperators.ADD);
        sums[1] = a1.reduceLanes(VectorOperators.ADD);
        sums[2] = a2.reduceLanes(VectorOperators.ADD);
        sums[3] = a3.reduceLanes(VectorOperators.ADD);
    }

    // ---- dot products of decoded panels with activations. Per row: one accumulator, columns in order, so
    // ---- dot4* and dot* give bit-identical sums for the same row (results independent of the range split).

    /** {@code out[o + i] += Σ_{c<len} s[i·stride + c] · x[xOff + c]} for i < 4. */
    private static void dot4Scalar(float[] s, int stride, int len, float[] x, int xOff, float[] out, int o) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        for (int c = 0; c < len; c++) {
            float xv = x[xOff + c];
            s0 += s[c] * xv;
            s1 += s[stride + c] * xv;
            s2 += s[2 * stride + c] * xv;
            s3 += s[3 * stride + c] * xv;
        }
        out[o] += s0;
        out[o + 1] += s1;
        out[o + 2] += s2;
        out[o + 3] += s3;
    }

    private static float dotScalar(float[] s, int len, float[] x, int xOff) {
        float s0 = 0f;
        for (int c = 0; c < len; c++) {
            s0 += s[c] * x[xOff + c];
        }
        return s0;
    }

    private static void dot4Vector(float[] s, int stride, int len, float[] x, int xOff, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int upper = F.loopBound(len);
        int c = 0;
        for (; c < upper; c += F.length()) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
            a0 = FloatVector.fromArray(F, s, c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, s, stride + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, s, 2 * stride + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, s, 3 * stride + c).fma(xv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; c < len; c++) {
            float xv = x[xOff + c];
            s0 += s[c] * xv;
            s1 += s[stride + c] * xv;
            s2 += s[2 * stride + c] * xv;
            s3 += s[3 * stride + c] * xv;
        }
        out[o] += s0;
        out[o + 1] += s1;
        out[o + 2] += s2;
        out[o + 3] += s3;
    }

    private static float dotVector(float[] s, int len, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F);
        int upper = F.loopBound(len);
        int c = 0;
        for (; c < upper; c += F.length()) {
            a0 = FloatVector.fromArray(F, s, c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        for (; c < len; c++) {
            s0 += s[c] * x[xOff + c];
        }
        return s0;
    }

    /**
     * {@link #dot4Vector} for 4 activation rows at once (4 × 4 register block: each panel and activation vector
     * loaded once per 4 products):
     * {@code out[o + j·outStride + i] += Σ_c s[i·stride + c] · x[xOff + j·xStride + c]} for i, j &lt; 4. Every (i, j) sum is accumulated exactly as {@link #dot4Vector} accumulates it.
     */
    private static void dot4x4Vector(float[] s, int stride, int len, float[] x, int xOff, int xStride,
                                     float[] out, int o, int outStride) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a02 = a00;
        FloatVector a03 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a12 = a00;
        FloatVector a13 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a22 = a00;
        FloatVector a23 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        FloatVector a32 = a00;
        FloatVector a33 = a00; // a<i><j>: weight row i, activation row j
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int upper = F.loopBound(len);
        for (int c = 0; c < upper; c += F.length()) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + c);
            FloatVector w = FloatVector.fromArray(F, s, c);
            a00 = w.fma(v0, a00);
            a01 = w.fma(v1, a01);
            a02 = w.fma(v2, a02);
            a03 = w.fma(v3, a03);
            w = FloatVector.fromArray(F, s, stride + c);
            a10 = w.fma(v0, a10);
            a11 = w.fma(v1, a11);
            a12 = w.fma(v2, a12);
            a13 = w.fma(v3, a13);
            w = FloatVector.fromArray(F, s, 2 * stride + c);
            a20 = w.fma(v0, a20);
            a21 = w.fma(v1, a21);
            a22 = w.fma(v2, a22);
            a23 = w.fma(v3, a23);
            w = FloatVector.fromArray(F, s, 3 * stride + c);
            a30 = w.fma(v0, a30);
            a31 = w.fma(v1, a31);
            a32 = w.fma(v2, a32);
            a33 = w.fma(v3, a33);
        }
        finish4(s, stride, upper, len, x, x0, out, o, a00, a10, a20, a30);
        finish4(s, stride, upper, len, x, x1, out, o + outStride, a01, a11, a21, a31);
        finish4(s, stride, upper, len, x, x2, out, o + 2 * outStride, a02, a12, a22, a32);
        finish4(s, stride, upper, len, x, x3, out, o + 3 * outStride, a03, a13, a23, a33);
    }

    /** Reduces 4 row accumulators, adds the scalar tail {@code [from, len)} and adds the sums to out[o..o+3]. */
    private static void finish4(float[] s, int stride, int from, int len, float[] x, int xOff, float[] out, int o,
                                FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (int c = from; c < len; c++) {
            float xv = x[xOff + c];
            s0 += s[c] * xv;
            s1 += s[stride + c] * xv;
            s2 += s[2 * stride + c] * xv;
            s3 += s[3 * stride + c] * xv;
        }
        out[o] += s0;
        out[o + 1] += s1;
        out[o + 2] += s2;
        out[o + 3] += s3;
    }

    // ---- fused mat-vec kernels (VECTOR, n = 1): one weight row decoded block by block in registers straight
    // ---- into one accumulator. Decoded values, column order and reduction points equal those of decode +
    // ---- dot4Vector/dotVector, so a mat-vec is bit-identical to the same row of a prefill product.
    // ---- One row per method with plain loops, no vector crossing a call that might not be inlined: C2 (JDK 17)
    // ---- stops inlining once a method's IR passes NodeCountInliningCutoff, and every Vector API call expands to
    // ---- many nodes before intrinsification, so several rows unrolled in one method fall back to boxed vectors.
    // ---- Bit fields are unpacked in int lanes: byte-lane shifts are not reliably intrinsified on x86.

    /** {@code Σ_{c<len} W[row, c0 + c] · x[c0 + c]} where the row's element c0 starts at byte p. */
    private static float fusedRow(GgmlType type, ByteBuffer b, int p, int len, float[] x, int c0) {
        int blocks = len / type.blockSize();
        return switch (type) {
            case F32 -> f32Row(b, p, len, x, c0);
            case F16, BF16 -> halfRow(type, b, p, len, x, c0);
            case Q8_0 -> q8Row(b, p, blocks, x, c0);
            case Q4_0 -> q40Row(b, p, blocks, x, c0);
            case Q4_K -> q4kRow(b, p, blocks, x, c0);
            case Q6_K -> q6kRow(b, p, blocks, x, c0);
            default -> throw new UnsupportedOperationException("type " + type);
        };
    }

    private static float f32Row(ByteBuffer b, int p, int len, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(len);
        int c = 0;
        for (; c < upper; c += F.length()) {
            acc = FloatVector.fromByteBuffer(F, b, p + 4 * c, LE).fma(FloatVector.fromArray(F, x, xo + c), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; c < len; c++) {
            s += b.getFloat(p + 4 * c) * x[xo + c];
        }
        return s;
    }

    private static float halfRow(GgmlType type, ByteBuffer b, int p, int len, float[] x, int xo) {
        boolean half = type == GgmlType.F16;
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(len);
        int c = 0;
        for (; c < upper; c += F.length()) {
            acc = halfVector(half, b, p + 2 * c).fma(FloatVector.fromArray(F, x, xo + c), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; c < len; c++) {
            s += floatAt(type, b, p, c) * x[xo + c];
        }
        return s;
    }

    /** Element c of a float-typed row starting at byte p. */
    private static float floatAt(GgmlType type, ByteBuffer b, int p, int c) {
        return switch (type) {
            case F32 -> b.getFloat(p + 4 * c);
            case F16 -> F16_TABLE[b.getShort(p + 2 * c) & 0xFFFF];
            default -> Float.intBitsToFloat((b.getShort(p + 2 * c) & 0xFFFF) << 16);
        };
    }

    /** {@link #F} lanes of fp16 ({@code half}) or bf16 values at byte p, as float32 (see {@link #halfToFloat}). */
    private static FloatVector halfVector(boolean half, ByteBuffer b, int p) {
        IntVector h = (IntVector) ShortVector.fromByteBuffer(S, b, p, LE).convertShape(VectorOperators.S2I, I, 0);
        if (!half) {
            // bf16: a float32's top half (reinterpretShape to a constant species: see VectorExp's IS)
            return (FloatVector) h.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0);
        }
        IntVector em = h.and(0x7FFF);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        FloatVector scaled = ((FloatVector) shifted.reinterpretShape(F, 0)).mul(0x1p112f);
        IntVector finite = (IntVector) scaled.reinterpretShape(I, 0);
        IntVector bits = finite.blend(shifted.or(0x7F80_0000), em.compare(VectorOperators.GE, 0x7C00));
        return (FloatVector) bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretShape(F, 0);
    }

    /** Q8_0 blocks (fp16 d, 32 × int8): x = q·d. */
    private static float q8Row(ByteBuffer b, int p, int blocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int q = p + 34 * k;
            int c = xo + 32 * k;
            float d = f16(b, q);
            for (int j = 0; j < 32; j += F.length()) {
                acc = toFloat(int8Lanes(b, q + 2 + j)).mul(d).fma(FloatVector.fromArray(F, x, c + j), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q4_0 blocks: columns 0..15 from the low nibbles, 16..31 from the high ones; x = (q − 8)·d. */
    private static float q40Row(ByteBuffer b, int p, int blocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int q = p + 18 * k;
            float d = f16(b, q);
            for (int hi = 0; hi < 2; hi++) {
                int c = xo + 32 * k + 16 * hi;
                for (int j = 0; j < 16; j += F.length()) {
                    IntVector v = int8Lanes(b, q + 2 + j).lanewise(VectorOperators.LSHR, 4 * hi).and(0x0F).sub(8);
                    acc = toFloat(v).mul(d).fma(FloatVector.fromArray(F, x, c + j), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q4_K blocks (layout at {@link #q4kScalar}): x = (d·scale)·q − dmin·min per sub-block of 32. */
    private static float q4kRow(ByteBuffer b, int p, int blocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int q = p + 144 * k;
            float d = f16(b, q);
            float dmin = f16(b, q + 2);
            for (int sub = 0; sub < 8; sub++) {
                float dl = d * k4Scale(b, q + 4, sub);
                float ml = dmin * k4Min(b, q + 4, sub);
                int qs = q + 16 + 32 * (sub >> 1);
                int shift = 4 * (sub & 1);
                int c = xo + 256 * k + 32 * sub;
                for (int l = 0; l < 32; l += F.length()) {
                    IntVector v = int8Lanes(b, qs + l).lanewise(VectorOperators.LSHR, shift).and(0x0F);
                    acc = toFloat(v).mul(dl).sub(ml).fma(FloatVector.fromArray(F, x, c + l), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q6_K blocks (layout at {@link #q6kScalar}) in column order: quarter r of a half takes the low (r &lt; 2) or
     * high nibbles of ql[32·(r mod 2) + l] and bits 2r, 2r + 1 of qh[l]; x = (d·scale)·(q − 32).
     */
    private static float q6kRow(ByteBuffer b, int p, int blocks, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int q = p + 210 * k;
            float d = f16(b, q + 208);
            for (int part = 0; part < 8; part++) { // part = 4·half + quarter
                int half = part >> 2;
                int quarter = part & 3;
                int ql = q + 64 * half + 32 * (quarter & 1);
                int qh = q + 128 + 32 * half;
                int sc = q + 192 + 8 * half + 2 * quarter;
                int loShift = 4 * (quarter >> 1);
                int hiShift = 2 * quarter;
                int c = xo + 256 * k + 32 * part;
                for (int l = 0; l < 32; l += F.length()) {
                    IntVector lo = int8Lanes(b, ql + l).lanewise(VectorOperators.LSHR, loShift).and(0x0F);
                    IntVector hi = int8Lanes(b, qh + l).lanewise(VectorOperators.LSHR, hiShift).and(3)
                        .lanewise(VectorOperators.LSHL, 4);
                    acc = toFloat(lo.or(hi).sub(32)).mul(d * b.get(sc + l / 16))
                        .fma(FloatVector.fromArray(F, x, c + l), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #F}-lane count of signed bytes at byte p, sign-extended to int lanes. */
    private static IntVector int8Lanes(ByteBuffer b, int p) {
        return (IntVector) ByteVector.fromByteBuffer(B, b, p, LE).convertShape(VectorOperators.B2I, I, 0);
    }

    private static FloatVector toFloat(IntVector q) {
        return (FloatVector) q.convertShape(VectorOperators.I2F, F, 0);
    }

    // ---- decoders: elements [c0, c0 + len) of row `row` → dst[dstOff, dstOff + len); c0 and len are
    // ---- multiples of the block size. Values are bit-identical to Dequantizer's on both paths.

    private void decode(QuantizedMatrix w, int row, int c0, int len, float[] dst, int dstOff) {
        GgmlType type = w.type();
        ByteBuffer b = w.data();
        int p = (int) (row * w.rowBytes() + type.byteSize(c0)); // first byte of the range
        int blocks = len / type.blockSize();
        switch (type) {
            case F32 -> {
                int i = 0;
                if (vector) {
                    for (int upper = F.loopBound(len); i < upper; i += F.length()) {
                        FloatVector.fromByteBuffer(F, b, p + 4 * i, LE).intoArray(dst, dstOff + i);
                    }
                }
                for (; i < len; i++) {
                    dst[dstOff + i] = b.getFloat(p + 4 * i);
                }
            }
            case F16, BF16 -> {
                int i = 0;
                if (vector) {
                    for (int upper = F.loopBound(len); i < upper; i += F.length()) {
                        halfVector(type == GgmlType.F16, b, p + 2 * i).intoArray(dst, dstOff + i);
                    }
                }
                for (; i < len; i++) {
                    dst[dstOff + i] = floatAt(type, b, p, i);
                }
            }
            case Q8_0 -> {
                for (int k = 0; k < blocks; k++) {
                    if (vector) {
                        q8Vector(b, p + 34 * k, dst, dstOff + 32 * k);
                    } else {
                        q8Scalar(b, p + 34 * k, dst, dstOff + 32 * k);
                    }
                }
            }
            case Q4_0 -> {
                for (int k = 0; k < blocks; k++) {
                    if (vector) {
                        q40Vector(b, p + 18 * k, dst, dstOff + 32 * k);
                    } else {
                        q40Scalar(b, p + 18 * k, dst, dstOff + 32 * k);
                    }
                }
            }
            case Q4_K -> {
                for (int k = 0; k < blocks; k++) {
                    if (vector) {
                        q4kVector(b, p + 144 * k, dst, dstOff + 256 * k);
                    } else {
                        q4kScalar(b, p + 144 * k, dst, dstOff + 256 * k);
                    }
                }
            }
            case Q6_K -> {
                for (int k = 0; k < blocks; k++) {
                    if (vector) {
                        q6kVector(b, p + 210 * k, dst, dstOff + 256 * k);
                    } else {
                        q6kScalar(b, p + 210 * k, dst, dstOff + 256 * k);
                    }
                }
            }
            default -> throw new UnsupportedOperationException("tensor " + w.name() + ": type " + type
                + " is not supported by " + description);
        }
    }

    private static float f16(ByteBuffer b, int p) {
        return F16_TABLE[b.getShort(p) & 0xFFFF];
    }

    /** Q8_0 block at byte p (fp16 d, 32 × int8 q): x = q·d. */
    private static void q8Scalar(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p);
        for (int j = 0; j < 32; j++) {
            dst[o + j] = b.get(p + 2 + j) * d;
        }
    }

    private static void q8Vector(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p);
        for (int j = 0; j < 32; j += B.length()) {
            store(ByteVector.fromByteBuffer(B, b, p + 2 + j, LE), d, 0f, dst, o + j);
        }
    }

    /** Q4_0 block at byte p (fp16 d, 16 bytes): element j in the low nibble of byte j, 16 + j in its high one. */
    private static void q40Scalar(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p);
        for (int j = 0; j < 16; j++) {
            int q = b.get(p + 2 + j) & 0xFF;
            dst[o + j] = ((q & 0x0F) - 8) * d;
            dst[o + 16 + j] = ((q >>> 4) - 8) * d;
        }
    }

    private static void q40Vector(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p);
        for (int j = 0; j < 16; j += B.length()) {
            ByteVector q = ByteVector.fromByteBuffer(B, b, p + 2 + j, LE);
            store(q.and((byte) 0x0F).sub((byte) 8), d, 0f, dst, o + j);
            store(q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8), d, 0f, dst, o + 16 + j);
        }
    }

    /**
     * Q4_K block at byte p: fp16 d, fp16 dmin, 12 bytes of 6-bit (scale, min) pairs for 8 sub-blocks of 32, 128
     * bytes of nibbles. Group g (64 elements) uses bytes [32g, 32g + 32): sub-block 2g the low nibbles, 2g + 1 the
     * high ones; x = (d·scale)·q − dmin·min.
     */
    private static void q4kScalar(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p);
        float dmin = f16(b, p + 2);
        for (int g = 0; g < 4; g++) {
            float d1 = d * k4Scale(b, p + 4, 2 * g);
            float m1 = dmin * k4Min(b, p + 4, 2 * g);
            float d2 = d * k4Scale(b, p + 4, 2 * g + 1);
            float m2 = dmin * k4Min(b, p + 4, 2 * g + 1);
            int qs = p + 16 + 32 * g;
            int og = o + 64 * g;
            for (int l = 0; l < 32; l++) {
                int q = b.get(qs + l) & 0xFF;
                dst[og + l] = d1 * (q & 0x0F) - m1;
                dst[og + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }

    private static void q4kVector(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p);
        float dmin = f16(b, p + 2);
        for (int g = 0; g < 4; g++) {
            float d1 = d * k4Scale(b, p + 4, 2 * g);
            float m1 = dmin * k4Min(b, p + 4, 2 * g);
            float d2 = d * k4Scale(b, p + 4, 2 * g + 1);
            float m2 = dmin * k4Min(b, p + 4, 2 * g + 1);
            int qs = p + 16 + 32 * g;
            int og = o + 64 * g;
            for (int l = 0; l < 32; l += B.length()) {
                ByteVector q = ByteVector.fromByteBuffer(B, b, qs + l, LE);
                store(q.and((byte) 0x0F), d1, m1, dst, og + l);
                store(q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F), d2, m2, dst, og + 32 + l);
            }
        }
    }

    /**
     * 6-bit scale of Q4_K sub-block j (0..7) from the 12 packed bytes at s: j &lt; 4 the low 6 bits of byte j; else
     * the low nibble of byte j + 4 with the top two bits of byte j − 4 above it.
     */
    private static int k4Scale(ByteBuffer b, int s, int j) {
        if (j < 4) {
            return b.get(s + j) & 63;
        }
        return (b.get(s + j + 4) & 0x0F) | (((b.get(s + j - 4) & 0xFF) >>> 6) << 4);
    }

    /** 6-bit min of Q4_K sub-block j: j &lt; 4 the low 6 bits of byte j + 4; else high nibble of j + 4, top bits of j. */
    private static int k4Min(ByteBuffer b, int s, int j) {
        if (j < 4) {
            return b.get(s + j + 4) & 63;
        }
        return ((b.get(s + j + 4) & 0xFF) >>> 4) | (((b.get(s + j) & 0xFF) >>> 6) << 4);
    }

    /**
     * Q6_K block at byte p: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 int8 scales, fp16 d. Each half of 128
     * elements uses ql[64], qh[32], scales[8]; for l &lt; 32 the elements l, l+32, l+64, l+96 take the low/low/
     * high/high nibble of ql[l], ql[l+32], ql[l], ql[l+32] and bit pairs 0, 1, 2, 3 of qh[l]; every run of 16
     * elements has its own scale; x = (d·scale)·(q − 32).
     */
    private static void q6kScalar(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p + 208);
        for (int half = 0; half < 2; half++) {
            int ql = p + 64 * half;
            int qh = p + 128 + 32 * half;
            int sc = p + 192 + 8 * half;
            int oh = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = b.get(qh + l) & 0xFF;
                int lo0 = b.get(ql + l) & 0xFF;
                int lo32 = b.get(ql + 32 + l) & 0xFF;
                dst[oh + l] = d * b.get(sc + is) * (((lo0 & 0x0F) | ((h & 3) << 4)) - 32);
                dst[oh + 32 + l] = d * b.get(sc + is + 2) * (((lo32 & 0x0F) | (((h >>> 2) & 3) << 4)) - 32);
                dst[oh + 64 + l] = d * b.get(sc + is + 4) * (((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
                dst[oh + 96 + l] = d * b.get(sc + is + 6) * (((lo32 >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
            }
        }
    }

    private static void q6kVector(ByteBuffer b, int p, float[] dst, int o) {
        float d = f16(b, p + 208);
        for (int half = 0; half < 2; half++) {
            int ql = p + 64 * half;
            int qh = p + 128 + 32 * half;
            int sc = p + 192 + 8 * half;
            int oh = o + 128 * half;
            // B.length() ≤ 16 divides 16, so each chunk lies inside one run of 16 sharing a scale
            for (int l = 0; l < 32; l += B.length()) {
                int is = l / 16;
                ByteVector lo0 = ByteVector.fromByteBuffer(B, b, ql + l, LE);
                ByteVector lo32 = ByteVector.fromByteBuffer(B, b, ql + 32 + l, LE);
                ByteVector h = ByteVector.fromByteBuffer(B, b, qh + l, LE);
                ByteVector q1 = lo0.and((byte) 0x0F).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                ByteVector q2 = lo32.and((byte) 0x0F)
                    .or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                ByteVector q3 = lo0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                    .or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                ByteVector q4 = lo32.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                    .or(h.lanewise(VectorOperators.LSHR, 6).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                store(q1.sub((byte) 32), d * b.get(sc + is), 0f, dst, oh + l);
                store(q2.sub((byte) 32), d * b.get(sc + is + 2), 0f, dst, oh + 32 + l);
                store(q3.sub((byte) 32), d * b.get(sc + is + 4), 0f, dst, oh + 64 + l);
                store(q4.sub((byte) 32), d * b.get(sc + is + 6), 0f, dst, oh + 96 + l);
            }
        }
    }

    /**
     * {@code dst[o + j] = mul · q[j] − sub} for the {@link #B} lanes of q (signed int8 → float). Subtracting
     * 0 leaves every float unchanged, so this matches the scalar decoders bit for bit.
     */
    private static void store(ByteVector q, float mul, float sub, float[] dst, int o) {
        for (int part = 0; part < PARTS; part++) {
            FloatVector f = (FloatVector) q.convertShape(VectorOperators.B2F, F, part);
            f.mul(mul).sub(sub).intoArray(dst, o + part * F.length());
        }
    }
}
