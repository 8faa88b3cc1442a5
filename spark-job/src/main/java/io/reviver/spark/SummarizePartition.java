package io.reviver.spark;

import io.reviver.kernel.bench.MachinePeaks;
import io.reviver.kernel.engine.BatchEngine;
import io.reviver.spark.engine.DocumentSummary;
import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.SummaryEngine;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * Second stage: summarises the documents of one token-balanced partition, in corpus order, with the executor's
 * shared model replica, and records each result in the {@link ProgressStore} as it goes (a file every
 * {@value #FLUSH_DOCUMENTS} documents or {@value #FLUSH_SECONDS} seconds, and at the end), so a job that dies
 * keeps what it finished. A bad document gives an error record; only a failure to get the model or to write the
 * store fails the task. At the end the task adds an {@link ExecutorSample} to the job's accumulator.
 */
public final class SummarizePartition implements VoidFunction<Iterator<DocumentWork>> {
    private static final long serialVersionUID = 2L;
    private static final Logger LOG = LogManager.getLogger(SummarizePartition.class);
    static final int FLUSH_DOCUMENTS = 8;
    static final int FLUSH_SECONDS = 30;

    private final JobPlan plan;
    private final Broadcast<HadoopConfSnapshot> hadoopConf;
    private final ProgressStore store;
    private final LongAccumulator documentsDone;
    private final CollectionAccumulator<ExecutorSample> samples;

    public SummarizePartition(JobPlan plan, Broadcast<HadoopConfSnapshot> hadoopConf, ProgressStore store,
                              LongAccumulator documentsDone, CollectionAccumulator<ExecutorSample> samples) {
        this.plan = plan;
        this.hadoopConf = hadoopConf;
        this.store = store;
        this.documentsDone = documentsDone;
        this.samples = samples;
    }

    @Override
    public void call(Iterator<DocumentWork> docs) {
        long t0 = System.nanoTime();
        TaskContext tc = TaskContext.get();
        String executorId = SparkEnv.get() == null ? "unknown" : SparkEnv.get().executorId();
        String host = SparkEnv.get() == null ? "unknown" : SparkEnv.get().blockManager().blockManagerId().host();
        String filePrefix = tc == null ? "part-local" : String.format(Locale.ROOT, "part-s%d-p%05d-a%d-t%d",
            tc.stageId(), tc.partitionId(), tc.attemptNumber(), tc.taskAttemptId());
        Configuration conf = hadoopConf.value().get();
        MachinePeaks peaks = plan.config().measurePeaks() ? ExecutorSample.peaks(plan.config().threads()) : null;
        List<Map<String, Object>> pending = new ArrayList<>();
        long documents = 0;
        long tokens = 0;
        long ioNanos = 0;
        int files = 0;
        long lastFlush = System.nanoTime();
        try (ReplicaCache.Lease lease = ReplicaCache.jvm().acquire(plan.replicaKey(), conf)) {
            SummaryEngine engine = new SummaryEngine(lease.replica(), plan.config(), plan.kvBytesPerTask());
            BatchEngine batch = engine.batchEngine();
            ExecutorSample.baseline(plan.jobId(), batch);
            ExecutorSample.recordLoad(plan.jobId(), lease.loadNanos());
            while (docs.hasNext()) {
                if (tc != null && tc.isInterrupted()) {
                    throw new IllegalStateException("task killed: " + tc.getKillReason());
                }
                DocumentWork d = docs.next();
                DocumentSummary s = engine.summarize(d.index(), d.id(), d.text(), d.problem());
                tokens += s.inputTokens();
                pending.add(OutputSchema.progressRecord(s, plan.jobId(), executorId, host));
                documents++;
                if (pending.size() >= FLUSH_DOCUMENTS || System.nanoTime() - lastFlush > FLUSH_SECONDS * 1e9) {
                    ioNanos += store.write(conf, String.format(Locale.ROOT, "%s-%04d.jsonl", filePrefix, files++),
                        pending);
                    documentsDone.add(pending.size());
                    pending.clear();
                    lastFlush = System.nanoTime();
                }
            }
            if (!pending.isEmpty()) {
                ioNanos += store.write(conf, String.format(Locale.ROOT, "%s-%04d.jsonl", filePrefix, files),
                    pending);
                documentsDone.add(pending.size());
            }
            samples.add(ExecutorSample.of(plan.jobId(), executorId, host, ioNanos, documents,
                peaks, batch, lease.replica().model()));
        }
        LOG.info("job {} partition {}: {} documents, {} input tokens in {} ms", plan.jobId(),
            tc == null ? -1 : tc.partitionId(), documents, tokens, (System.nanoTime() - t0) / 1_000_000);
    }
}
