package io.reviver.spark;

import io.reviver.kernel.bench.MachinePeaks;
import io.reviver.kernel.engine.BatchEngine;
import io.reviver.kernel.model.LlamaModel;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * What one summarising task reports about its executor, through a collection accumulator: the task's own model
 * progress-write time and documents, and cumulative figures of its JVM for this job: model load time and the
 * shared engine's counters since this job first used it (so later snapshots of one executor supersede earlier
 * ones). Peaks of the engine
 * (KV bytes, sequences) are over the engine's life in the JVM.
 *
 * @param jobId            the run
 * @param executorId       Spark executor id ("driver" in local mode)
 * @param host             executor host
 * @param loadNanos        model fetch and load time spent in this JVM for this job so far (cumulative)
 * @param ioNanos          time this task spent writing progress records
 * @param documents        documents this task finished
 * @param bandwidthGbs     the executor's measured memory bandwidth (NaN when not measured)
 * @param fmaGflops        the executor's measured FMA peak (NaN when not measured)
 * @param kvBudgetBytes    the executor's KV memory
 * @param prefilledTokens  engine: prompt tokens prefilled in this job
 * @param prefillNanos     engine: time in prefill in this job
 * @param decodeSteps      engine: batched decode steps in this job
 * @param decodedTokens    engine: tokens decoded in this job (sum of batch sizes)
 * @param decodeNanos      engine: time in decode steps in this job
 * @param maxConcurrent    engine: most sequences decoded together
 * @param peakHeldBytes    engine: most KV bytes held by decoding sequences at once
 * @param peakReservedBytes engine: most KV bytes reserved by admission at once
 * @param weightBytes      bytes of weights one decode step reads
 * @param flopsPerToken    weight-product FLOPs per prompt token
 */
public record ExecutorSample(String jobId, String executorId, String host, long loadNanos, long ioNanos,
                             long documents, double bandwidthGbs, double fmaGflops, long kvBudgetBytes,
                             long prefilledTokens, long prefillNanos, long decodeSteps, long decodedTokens,
                             long decodeNanos, int maxConcurrent, long peakHeldBytes, long peakReservedBytes,
                             long weightBytes, double flopsPerToken) implements Serializable {

    private static final Map<String, BatchEngine.Stats> BASELINES = new HashMap<>(); // job id → engine stats
    private static final Map<String, Long> LOADS = new HashMap<>(); // job id → model load nanos in this JVM
    private static MachinePeaks peaks; // measured once per JVM

    /** Mean sequences per decode step (each step decodes one token per sequence). */
    public double meanConcurrent() {
        return decodeSteps == 0 ? 0 : (double) decodedTokens / decodeSteps;
    }

    /** This JVM's machine peaks, measured on first call (about a second; synchronised). */
    static synchronized MachinePeaks peaks(int threads) {
        if (peaks == null) {
            peaks = MachinePeaks.measure(Math.max(1, threads));
        }
        return peaks;
    }

    /** Records the engine's counters when {@code jobId} first uses it in this JVM. */
    static synchronized void baseline(String jobId, BatchEngine engine) {
        BASELINES.computeIfAbsent(jobId, k -> engine.stats());
    }

    /** Adds a task's model load time (0 when it reused the replica) to this JVM's total for {@code jobId}. */
    static synchronized void recordLoad(String jobId, long nanos) {
        LOADS.merge(jobId, nanos, Long::sum);
    }

    /** A task's sample. */
    static ExecutorSample of(String jobId, String executorId, String host, long ioNanos,
                             long documents, MachinePeaks peaks, BatchEngine engine, LlamaModel model) {
        BatchEngine.Stats now = engine.stats();
        BatchEngine.Stats base;
        long loadNanos;
        synchronized (ExecutorSample.class) {
            base = BASELINES.getOrDefault(jobId, now);
            loadNanos = LOADS.getOrDefault(jobId, 0L);
        }
        return new ExecutorSample(jobId, executorId, host, loadNanos, ioNanos, documents,
            peaks == null ? Double.NaN : peaks.bandwidthGbs(), peaks == null ? Double.NaN : peaks.fmaGflops(),
            engine.config().kvBudgetBytes(), now.prefilledTokens() - base.prefilledTokens(),
            now.prefillNanos() - base.prefillNanos(), now.decodeSteps() - base.decodeSteps(),
            now.decodedTokens() - base.decodedTokens(), now.decodeNanos() - base.decodeNanos(),
            now.maxConcurrent(), now.peakHeldBytes(), now.peakReservedBytes(),
            MachinePeaks.decodeWeightBytes(model.weights()), MachinePeaks.matmulFlopsPerToken(model.config()));
    }
}
