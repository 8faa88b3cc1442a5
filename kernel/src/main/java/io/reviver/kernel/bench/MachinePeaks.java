package io.reviver.kernel.bench;

import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaWeights;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * This machine's measured limits, for reporting achieved work as a fraction of them: memory read bandwidth (a
 * vectorised sum over a 128 MiB array) and FMA throughput (register-resident vector FMA loops), each the best of a
 * few repetitions on {@code threads} threads. The same probes as {@code reviver bench}: 3.3–3.6 s in a fresh JVM on
 * this machine (1 or 2 threads), 0.3 s after that. Most of a cold probe (2.5 s) is the FMA loop's single long
 * warm-up call, which a JFR profile shows running the Vector API's Java fallback, not vector code. A warm-up of
 * many short calls brought the cold probe to 0.8–0.9 s, but then, in about half of the Spark job's runs, C2 later
 * compiled the attention softmax's normalising store as a call to that fallback (engine prefill 4.0 against 5.3
 * thousand tokens/s), so it was not kept.
 *
 * @param bandwidthGbs memory read bandwidth, GB/s
 * @param fmaGflops    FMA throughput, GFLOP/s (an FMA counts as 2 FLOPs)
 */
public record MachinePeaks(double bandwidthGbs, double fmaGflops) {

    /** Runs both probes on {@code threads} (≥ 1) threads. */
    public static MachinePeaks measure(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "reviver-peak-probe");
            t.setDaemon(true);
            return t;
        });
        try {
            return new MachinePeaks(MatmulBench.memoryBandwidth(pool, threads), MatmulBench.fmaPeak(pool, threads));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring machine peaks", e);
        } catch (Exception e) {
            throw new IllegalStateException("machine peak probe failed: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Bytes of weight matrices one decode step reads (every quantized matrix once; norms excluded). */
    public static long decodeWeightBytes(LlamaWeights weights) {
        return EngineBench.decodeBytes(weights);
    }

    /**
     * FLOPs of the layers' weight products per prompt token, 2 · (layer matrix parameters). Attention is excluded
     * (so the figure is a lower bound), and so is the output projection, which prefill computes for the last
     * prompt token only.
     */
    public static double matmulFlopsPerToken(LlamaConfig c) {
        return 2.0 * c.nLayers() * ((double) c.dim() * c.qDim() * 2 + 2.0 * c.dim() * c.kvDim()
            + 3.0 * c.dim() * c.hiddenDim());
    }
}
