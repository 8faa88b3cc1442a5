package io.reviver.kernel.bench;

import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.kernel.tensor.QuantizedMatrix;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.modelstore.gguf.GgmlType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Throughput of {@link JavaTensorOps} next to this machine's measured peaks, in one run:
 * <ul>
 *   <li>mat-vec (n = 1) on 2048 × 2048 and 8192 × 2048 (rows × cols) matrices of each of Q8_0, Q4_0, Q4_K,
 *       Q6_K, F32: GB/s of weight bytes
 *       read, and the ratio to the memory-bandwidth peak (a vectorised sum over a 128 MiB float array with the
 *       same thread count);</li>
 *   <li>prefill (n = 64, {@link TensorOps.Rows#PROMPT} rows): GFLOP/s (2·rows·cols·n per call) and the ratio to
 *       the FMA peak (a register-resident
 *       {@code FloatVector.fma} loop with 8 independent accumulators per thread).</li>
 * </ul>
 * Usage: {@code MatmulBench <out.json> [threads] [VECTOR|SCALAR]}; writes one JSON object. Matrices are seeded
 * random valid encodings in direct buffers (like memory-mapped weights).
 */
public final class MatmulBench {

    private static final Logger LOG = LogManager.getLogger(MatmulBench.class);
    /** (rows, cols) shapes: an attention projection and an FFN up/gate projection of a ~1B model. */
    private static final int[][] SHAPES = {{2048, 2048}, {8192, 2048}};
    private static final int PREFILL_N = 64;
    private static final double SECONDS = 0.8;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MatmulBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: MatmulBench <out.json> [threads] [VECTOR|SCALAR]");
        }
        Path outPath = Paths.get(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        JavaTensorOps.Path path = args.length > 2 ? JavaTensorOps.Path.valueOf(args[2]) : JavaTensorOps.Path.VECTOR;

        double memGbs;
        double fmaGflops;
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-peak");
            t.setDaemon(true);
            return t;
        });
        try {
            memGbs = memoryBandwidth(pool, threads);
            fmaGflops = fmaPeak(pool, threads);
        } finally {
            pool.shutdown();
        }
        LOG.info("peaks: memory {} GB/s, FMA {} GFLOP/s ({} threads)", fmt(memGbs), fmt(fmaGflops), threads);

        List<String> rows = new ArrayList<>();
        try (JavaTensorOps ops = new JavaTensorOps(threads, path)) {
            for (int[] shape : SHAPES) {
                for (GgmlType type : List.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F32)) {
                    rows.add(measure(ops, type, shape[0], shape[1], memGbs, fmaGflops));
                }
            }
            String json = String.format(Locale.ROOT, "{%n  \"ops\": \"%s\",%n  \"threads\": %d,%n"
                    + "  \"memoryPeakGBs\": %.3f,%n  \"fmaPeakGflops\": %.3f,%n  \"results\": [%n%s%n  ]%n}%n",
                ops.describe(), threads, memGbs, fmaGflops, String.join(",\n", rows));
            Files.writeString(outPath, json, StandardCharsets.UTF_8);
            LOG.info("wrote {}", outPath);
        }
    }

    /** Times mat-vec and prefill on one seeded random (rowsW, cols) matrix; returns its JSON object. */
    private static String measure(JavaTensorOps ops, GgmlType type, int rowsW, int cols, double memGbs,
                                  double fmaGflops) {
        QuantizedMatrix w = randomMatrix(type, rowsW, cols, 17 + type.id());
        float[] x = new float[PREFILL_N * cols]; // (PREFILL_N, cols)
        Random rnd = new Random(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] out = new float[PREFILL_N * rowsW]; // (PREFILL_N, rowsW)
        double matVecSec = timePerCall(() -> ops.matmul(w, x, 1, out));
        double prefillSec = timePerCall(() -> ops.matmul(w, x, PREFILL_N, out, TensorOps.Rows.PROMPT));
        double gbs = w.data().capacity() / matVecSec / 1e9;
        double gflops = 2.0 * rowsW * cols * PREFILL_N / prefillSec / 1e9;
        double perTokenRatio = prefillSec / PREFILL_N / matVecSec;
        LOG.info("{} {}x{}: mat-vec {} GB/s ({} of peak), prefill n={} {} GFLOP/s ({} of peak), per-token prefill "
            + "cost {} of a mat-vec", type, rowsW, cols, fmt(gbs), fmt(gbs / memGbs), PREFILL_N, fmt(gflops),
            fmt(gflops / fmaGflops), fmt(perTokenRatio));
        return String.format(Locale.ROOT, "    {\"type\": \"%s\", \"rows\": %d, \"cols\": %d, "
                + "\"weightBytes\": %d, \"matVecSeconds\": %.6e, \"matVecGBs\": %.3f, "
                + "\"matVecFractionOfMemoryPeak\": %.4f, \"prefillN\": %d, \"prefillSeconds\": %.6e, "
                + "\"prefillGflops\": %.3f, \"prefillFractionOfFmaPeak\": %.4f, "
                + "\"prefillPerTokenOverMatVec\": %.4f}",
            type, rowsW, cols, w.data().capacity(), matVecSec, gbs, gbs / memGbs, PREFILL_N, prefillSec, gflops,
            gflops / fmaGflops, perTokenRatio);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    /** Median-free simple timing: warm up ~0.3 s, then the mean seconds per call over ≥ {@link #SECONDS}. */
    private static double timePerCall(Runnable call) {
        return timePerCall(call, 0.3, SECONDS);
    }

    /** Calls for at least {@code warmSeconds} (at least once), then the mean seconds per call over ≥ {@code seconds}. */
    static double timePerCall(Runnable call, double warmSeconds, double seconds) {
        long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
        do {
            call.run();
        } while (System.nanoTime() < warmEnd);
        long start = System.nanoTime();
        long calls = 0;
        long now;
        do {
            call.run();
            calls++;
            now = System.nanoTime();
        } while (now - start < (long) (seconds * 1e9));
        return (now - start) / 1e9 / calls;
    }

    /** GB/s of a vectorised sum over a 128 MiB float array split across {@code threads} tasks. */
    static double memoryBandwidth(ExecutorService pool, int threads) throws Exception {
        float[] big = new float[32 << 20]; // (32 Mi) floats, far larger than any cache
        for (int i = 0; i < big.length; i++) {
            big[i] = i & 1023;
        }
        return readRate(pool, threads, big.length, 4.0, (lo, hi) -> (double) sum(big, lo, hi));
    }

    /**
     * The same probe with the native library's read kernel ({@link io.reviver.kernel.tensor.NativeQ8#read}: 64-byte
     * loads from two streams per thread) on as many bytes of {@link io.reviver.kernel.tensor.NativeMemory}, the
     * huge-page advised memory the native weights live in: the fastest reader tried on this machine, so the peak
     * the native backend's decode is set against is the most this machine was seen to read. NaN when the native
     * library is not available.
     */
    static double nativeMemoryBandwidth(ExecutorService pool, int threads) throws Exception {
        io.reviver.kernel.tensor.NativeQ8.Isa isa = io.reviver.kernel.tensor.NativeQ8.best();
        if (isa == null) {
            return Double.NaN;
        }
        io.reviver.kernel.tensor.NativeMemory m = nativeProbeMemory();
        return readRate(pool, threads, (int) m.bytes(), 1.0,
            (lo, hi) -> (double) io.reviver.kernel.tensor.NativeQ8.read(isa, m, lo, hi));
    }

    private static io.reviver.kernel.tensor.NativeMemory probeMemory; // 128 MiB, made once per JVM

    /**
     * The native probe's memory, allocated and written on first use and kept for the JVM's life, so every probe of
     * a run reads the same pages (a fresh block per probe read 37 to 89 GB/s over a few minutes of one run while
     * the decode between the probes held its rate).
     */
    private static synchronized io.reviver.kernel.tensor.NativeMemory nativeProbeMemory() {
        if (probeMemory == null) {
            int length = 128 << 20;
            io.reviver.kernel.tensor.NativeMemory m = io.reviver.kernel.tensor.NativeMemory.allocate(length);
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = (byte) i;
            }
            for (long off = 0; off < length; off += chunk.length) {
                m.put(off, chunk);
            }
            probeMemory = m;
        }
        return probeMemory;
    }

    /** A read kernel over elements {@code [lo, hi)} returning a checksum (so the reads are not optimised away). */
    private interface RangeRead {
        double read(int lo, int hi);
    }

    /**
     * Best GB/s over 8 repetitions of reading {@code length} elements of {@code bytesPerElement} bytes, split into
     * {@code threads} equal ranges read concurrently on {@code pool}.
     */
    private static double readRate(ExecutorService pool, int threads, int length, double bytesPerElement,
                                   RangeRead read) throws Exception {
        double best = 0;
        for (int rep = 0; rep < 8; rep++) {
            long t0 = System.nanoTime();
            List<Future<Double>> parts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                int lo = (int) ((long) length * k / threads);
                int hi = (int) ((long) length * (k + 1) / threads);
                parts.add(pool.submit(() -> read.read(lo, hi)));
            }
            double total = 0;
            for (Future<Double> f : parts) {
                total += get(f);
            }
            long dt = System.nanoTime() - t0;
            if (total == -1) {
                LOG.debug("unreachable, keeps the sum live");
            }
            best = Math.max(best, bytesPerElement * length / (dt / 1e9) / 1e9);
        }
        return best;
    }

    private static float sum(float[] a, int lo, int hi) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        int i = lo;
        for (int upper = lo + (hi - lo) / (2 * F.length()) * 2 * F.length(); i < upper; i += 2 * F.length()) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + F.length()));
        }
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < hi; i++) {
            s += a[i];
        }
        return s;
    }

    /** GFLOP/s of {@code threads} concurrent register-resident FMA loops (8 independent accumulators each). */
    static double fmaPeak(ExecutorService pool, int threads) throws Exception {
        long iters = 50_000_000L;
        fmaLoop(iters / 50); // warm-up and JIT
        double best = 0;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            List<Future<Float>> parts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                parts.add(pool.submit(() -> fmaLoop(iters)));
            }
            float total = 0;
            for (Future<Float> f : parts) {
                total += get(f);
            }
            long dt = System.nanoTime() - t0;
            if (total == -1f) {
                LOG.debug("unreachable, keeps the result live");
            }
            best = Math.max(best, 2.0 * 8 * F.length() * iters * threads / (dt / 1e9) / 1e9);
        }
        return best;
    }

    private static float fmaLoop(long iters) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f);
        FloatVector c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, 1f);
        FloatVector a1 = FloatVector.broadcast(F, 2f);
        FloatVector a2 = FloatVector.broadcast(F, 3f);
        FloatVector a3 = FloatVector.broadcast(F, 4f);
        FloatVector a4 = FloatVector.broadcast(F, 5f);
        FloatVector a5 = FloatVector.broadcast(F, 6f);
        FloatVector a6 = FloatVector.broadcast(F, 7f);
        FloatVector a7 = FloatVector.broadcast(F, 8f);
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }

    private static <T> T get(Future<T> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("benchmark task failed", e.getCause());
        }
    }

    /** Seeded random valid encoding in a direct buffer: random bytes with sane fp16 scale fields. */
    static QuantizedMatrix randomMatrix(GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int bytes = (int) (rows * type.byteSize(cols));
        ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (type == GgmlType.F32) {
            for (int i = 0; i < rows * cols; i++) {
                b.putFloat(4 * i, (float) rnd.nextGaussian());
            }
        } else {
            byte[] raw = new byte[bytes];
            rnd.nextBytes(raw);
            b.put(0, raw);
            int scaleAt = switch (type) {
                case Q8_0, Q4_0, Q4_K -> 0;
                case Q6_K -> 208;
                default -> throw new IllegalArgumentException("bench type " + type);
            };
            for (int p = 0; p < bytes; p += type.typeSize()) {
                b.putShort(p + scaleAt, (short) (0x2000 | rnd.nextInt(1024))); // fp16 in [2^-7, 2^-6)
                if (type == GgmlType.Q4_K) {
                    b.putShort(p + 2, (short) (0x2000 | rnd.nextInt(1024)));
                }
            }
        }
        return new QuantizedMatrix(type + "-bench", type, b, rows, cols);
    }
}
