package io.reviver.spark;

import io.reviver.spark.engine.DocumentSummary;
import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.SummaryEngine;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

/**
 * Second stage: summarises the documents of one token-balanced partition, in corpus order, with the executor's
 * shared model replica. A bad document gives an error row; only a failure to get the model fails the task.
 */
public final class SummarizePartition implements FlatMapFunction<Iterator<DocumentWork>, Row> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LogManager.getLogger(SummarizePartition.class);

    private final JobPlan plan;
    private final Broadcast<HadoopConfSnapshot> hadoopConf;
    private final LongAccumulator documentsDone;

    public SummarizePartition(JobPlan plan, Broadcast<HadoopConfSnapshot> hadoopConf,
                              LongAccumulator documentsDone) {
        this.plan = plan;
        this.hadoopConf = hadoopConf;
        this.documentsDone = documentsDone;
    }

    @Override
    public Iterator<Row> call(Iterator<DocumentWork> docs) {
        List<Row> out = new ArrayList<>();
        long t0 = System.nanoTime();
        long tokens = 0;
        try (ReplicaCache.Lease lease = ReplicaCache.jvm().acquire(plan.replicaKey(), hadoopConf.value().get())) {
            SummaryEngine engine = new SummaryEngine(lease.replica(), plan.config(), plan.kvBytesPerTask());
            while (docs.hasNext()) {
                DocumentWork d = docs.next();
                DocumentSummary s = engine.summarize(d.index(), d.id(), d.text());
                tokens += s.inputTokens();
                out.add(OutputSchema.toRow(s));
                documentsDone.add(1);
            }
        }
        TaskContext tc = TaskContext.get();
        LOG.info("job {} partition {}: {} documents, {} input tokens in {} ms", plan.jobId(),
            tc == null ? -1 : tc.partitionId(), out.size(), tokens, (System.nanoTime() - t0) / 1_000_000);
        return out.iterator();
    }
}
