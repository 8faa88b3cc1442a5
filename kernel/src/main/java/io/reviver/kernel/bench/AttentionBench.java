package io.reviver.kernel.bench;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.AttentionBatch;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.CountSketchShape;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.attention.SketchMode;
import io.reviver.kernel.attention.SketchedTokens;
import io.reviver.kernel.opencl.OpenClAttentionBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Throughput of each {@link AttentionBackend} op on OpenCL ({@link OpenClAttentionBackend}, required) next to the
 * single-threaded Java reference ({@link JavaAttentionBackend}), on seeded random inputs of model-like shapes:
 * <ul>
 *   <li>{@code attend-decode}: 8 KV heads × 4 query heads, headSize 128, 2048 cached tokens;</li>
 *   <li>{@code attend-prefill}: 64 causal tokens after 960 cached ones, 4 query heads, headSize 64, one block;</li>
 *   <li>{@code sketch-insert}: 8 sketches (d 3, w 256, headSize 128), 256 tokens each;</li>
 *   <li>{@code sketch-reconstruct}: 2048 positions from those sketches;</li>
 *   <li>{@code sketch-insert-mean}, {@code sketch-reconstruct-mean}: the same two ops with the MEAN estimator
 *       (bucket counts);</li>
 *   <li>{@code press-reconstruct-mean}: the call KVReviver makes per (layer, KV head) gather with its defaults: one
 *       MEAN sketch, d 1, w 256, key ‖ value buckets of 256 floats, 1536 held positions;</li>
 *   <li>{@code attend-with-sketch}: 8 × 4 heads, headSize 128, 512 exact + 1536 sketched tokens, d 3, w 256.</li>
 * </ul>
 * OpenCL times are wall time per call including the host ↔ device copies of every input and output (the backend
 * does not keep KV data resident), after a warm-up that includes the kernel compile (reported separately).
 * Usage: {@code AttentionBench <out.json> [secondsPerMeasurement] [localSize]}; writes one JSON object with the
 * device name and the work-group size used.
 */
public final class AttentionBench {

    private static final Logger LOG = LogManager.getLogger(AttentionBench.class);

    private AttentionBench() {
    }

    /** One benchmark: a call per backend plus the work per call in the op's natural unit. */
    private interface Op {
        void run(AttentionBackend backend);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: AttentionBench <out.json> [secondsPerMeasurement] [localSize]");
        }
        Path outPath = Paths.get(args[0]);
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        int requestedLocal = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        List<String> rows = new ArrayList<>();
        String device;
        int localSize;
        try (OpenClAttentionBackend cl = requestedLocal > 0
                 ? (OpenClAttentionBackend) OpenClAttentionBackend.open(BackendChoice.OPENCL, 0, requestedLocal)
                 : (OpenClAttentionBackend) OpenClAttentionBackend.open(BackendChoice.OPENCL);
             JavaAttentionBackend java = new JavaAttentionBackend()) {
            device = cl.status().device();
            localSize = cl.localSize();
            Random rnd = new Random(2024);

            AttentionBatch decode = batch(rnd, 8, 4, 128, 2048);
            float[] out = new float[decode.outputLength()];
            rows.add(measure("attend-decode", cl, java, seconds, b -> b.attend(decode, out, null),
                8.0 * 4 * 2048, "queryHeadKvEntries", flops(8 * 4, 2048, 128)));

            AttentionBatch prefill = causal(rnd, 4, 64, 960, 64);
            float[] outP = new float[prefill.outputLength()];
            double entries = 0;
            for (int t = 0; t < 64; t++) {
                entries += 4.0 * (960 + t + 1);
            }
            rows.add(measure("attend-prefill", cl, java, seconds, b -> b.attend(prefill, outP, null), entries,
                "queryHeadKvEntries", entries * 4 * 64));

            CountSketchShape shape = new CountSketchShape(3, 256, 128);
            int sketches = 8;
            int perSketch = 256;
            int[] seeds = new int[sketches];
            int[] start = new int[sketches];
            int[] count = new int[sketches];
            int[] positions = new int[sketches * perSketch];
            for (int s = 0; s < sketches; s++) {
                seeds[s] = 1000 + s;
                start[s] = s * perSketch;
                count[s] = perSketch;
            }
            for (int i = 0; i < positions.length; i++) {
                positions[i] = i;
            }
            float[] x = floats(rnd, positions.length * 128, 1f);
            float[] tables = new float[sketches * shape.tableLength()];
            rows.add(measure("sketch-insert", cl, java, seconds,
                b -> b.sketchInsert(shape, tables, seeds, start, count, positions, x),
                (double) positions.length * shape.depth(), "tokenRows", 0));

            int[] sketchOf = new int[positions.length];
            for (int i = 0; i < positions.length; i++) {
                sketchOf[i] = i / perSketch;
            }
            float[] recon = new float[positions.length * 128];
            rows.add(measure("sketch-reconstruct", cl, java, seconds,
                b -> b.sketchReconstruct(shape, tables, seeds, sketchOf, positions, positions.length, recon),
                positions.length, "positions", 0));

            // MEAN estimator: the same sketches with bucket counts, then the call the KVReviver press makes per
            // (layer, KV head) gather with its defaults (d 1, key ‖ value buckets of 2 × 128 floats).
            CountSketchShape meanShape = new CountSketchShape(3, 256, 128, SketchMode.MEAN);
            float[] meanTables = new float[sketches * meanShape.tableLength()];
            int[] meanCounts = new int[sketches * meanShape.countLength()];
            rows.add(measure("sketch-insert-mean", cl, java, seconds,
                b -> b.sketchInsert(meanShape, meanTables, meanCounts, seeds, start, count, positions, x),
                (double) positions.length * meanShape.depth(), "tokenRows", 0));
            rows.add(measure("sketch-reconstruct-mean", cl, java, seconds,
                b -> b.sketchReconstruct(meanShape, meanTables, meanCounts, seeds, sketchOf, positions,
                    positions.length, recon),
                positions.length, "positions", 0));
            CountSketchShape pressShape = new CountSketchShape(1, 256, 256, SketchMode.MEAN);
            int held = 1536;
            float[] pressTable = new float[pressShape.tableLength()];
            int[] pressCounts = new int[pressShape.countLength()];
            int[] pressPositions = new int[held];
            for (int i = 0; i < held; i++) {
                pressPositions[i] = 4 + i;
            }
            float[] pressX = floats(rnd, held * 256, 1f);
            java.sketchInsert(pressShape, pressTable, pressCounts, new int[] {7}, new int[] {0}, new int[] {held},
                pressPositions, pressX);
            float[] pressOut = new float[held * 256];
            int[] zeros = new int[held];
            rows.add(measure("press-reconstruct-mean", cl, java, seconds,
                b -> b.sketchReconstruct(pressShape, pressTable, pressCounts, new int[] {7}, zeros, pressPositions,
                    held, pressOut),
                held, "positions", 0));

            AttentionBatch exact = batch(rnd, 8, 4, 128, 512);
            int[] vagueStart = new int[8];
            int[] vagueLength = new int[8];
            int[] vaguePositions = new int[8 * 1536];
            int[] sketchOfPair = new int[8];
            for (int p = 0; p < 8; p++) {
                vagueStart[p] = p * 1536;
                vagueLength[p] = 1536;
                sketchOfPair[p] = p;
                for (int i = 0; i < 1536; i++) {
                    vaguePositions[p * 1536 + i] = 512 + i;
                }
            }
            SketchedTokens sk = new SketchedTokens(shape, floats(rnd, 8 * shape.tableLength(), 1f),
                floats(rnd, 8 * shape.tableLength(), 1f), seeds, sketchOfPair, vagueStart, vagueLength, vaguePositions);
            float[] outF = new float[exact.outputLength()];
            rows.add(measure("attend-with-sketch", cl, java, seconds, b -> b.attendWithSketch(exact, sk, outF, null),
                8.0 * 4 * 2048, "queryHeadKvEntries", flops(8 * 4, 2048, 128)));

            if (!cl.status().openCl()) {
                throw new IllegalStateException("OpenCL did not run throughout: " + cl.status());
            }
        }
        String json = String.format(Locale.ROOT, "{%n  \"device\": \"%s\",%n  \"localSize\": %d,%n"
                + "  \"javaReference\": \"single thread\",%n  \"secondsPerMeasurement\": %.2f,%n"
                + "  \"availableProcessors\": %d,%n  \"loadAverage\": %.2f,%n  \"results\": [%n%s%n  ]%n}%n",
            device.replace("\"", "'"), localSize, seconds, Runtime.getRuntime().availableProcessors(),
            java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
            String.join(",\n", rows));
        Files.writeString(outPath, json, StandardCharsets.UTF_8);
        LOG.info("wrote {}", outPath);
    }

    /** Multiply-adds of scores and weighted sums: 4 flops per (query head, entry, coordinate). */
    private static double flops(int queryHeads, int entries, int headSize) {
        return 4.0 * queryHeads * entries * headSize;
    }

    private static String measure(String name, AttentionBackend cl, AttentionBackend java, double seconds, Op op,
                                  double work, String unit, double flopsPerCall) {
        long t0 = System.nanoTime();
        op.run(cl);
        double firstCallMs = (System.nanoTime() - t0) / 1e6;
        double clSec = timePerCall(() -> op.run(cl), seconds);
        double javaSec = timePerCall(() -> op.run(java), seconds);
        LOG.info("{}: OpenCL {} ms/call, Java {} ms/call, speed-up {} (first OpenCL call incl. compile {} ms)", name,
            fmt(clSec * 1e3), fmt(javaSec * 1e3), fmt(javaSec / clSec), fmt(firstCallMs));
        return String.format(Locale.ROOT, "    {\"op\": \"%s\", \"workUnit\": \"%s\", \"workPerCall\": %.0f, "
                + "\"openclSecondsPerCall\": %.6e, \"javaSecondsPerCall\": %.6e, \"openclWorkPerSecond\": %.4e, "
                + "\"javaWorkPerSecond\": %.4e, \"openclGflops\": %.4f, \"javaGflops\": %.4f, "
                + "\"speedupOpenclOverJava\": %.3f, \"openclFirstCallMs\": %.1f}",
            name, unit, work, clSec, javaSec, work / clSec, work / javaSec, flopsPerCall / clSec / 1e9,
            flopsPerCall / javaSec / 1e9, javaSec / clSec, firstCallMs);
    }

    /** Warm up for a quarter of the budget, then the mean seconds per call over at least {@code seconds}. */
    private static double timePerCall(Runnable call, double seconds) {
        return MatmulBench.timePerCall(call, 0.25 * seconds, seconds);
    }

    private static AttentionBatch batch(Random rnd, int pairs, int kvMul, int headSize, int length) {
        int[] start = new int[pairs];
        int[] len = new int[pairs];
        for (int p = 0; p < pairs; p++) {
            start[p] = p * length;
            len[p] = length;
        }
        return new AttentionBatch(pairs, kvMul, headSize, (float) (1 / Math.sqrt(headSize)),
            floats(rnd, pairs * kvMul * headSize, 1f), floats(rnd, pairs * length * headSize, 1f),
            floats(rnd, pairs * length * headSize, 1f), start, len, null);
    }

    private static AttentionBatch causal(Random rnd, int kvMul, int headSize, int startPos, int tokens) {
        int[] start = new int[tokens];
        int[] len = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            len[t] = startPos + t + 1;
        }
        int entries = startPos + tokens;
        return new AttentionBatch(tokens, kvMul, headSize, (float) (1 / Math.sqrt(headSize)),
            floats(rnd, tokens * kvMul * headSize, 1f), floats(rnd, entries * headSize, 1f),
            floats(rnd, entries * headSize, 1f), start, len, null);
    }

    private static float[] floats(Random rnd, int n, float amplitude) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (rnd.nextFloat() * 2f - 1f) * amplitude;
        }
        return a;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
