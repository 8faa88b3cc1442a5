package io.reviver.spark;

import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.SummaryEngine;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/**
 * First stage: counts each document's tokens with the executor's model replica (loaded here once per JVM, then
 * reused by the summarising stage) and its cost for partition balancing.
 */
public final class MeasurePartition implements FlatMapFunction<Iterator<DocumentWork>, DocumentWork> {
    private static final long serialVersionUID = 1L;

    private final JobPlan plan;
    private final Broadcast<HadoopConfSnapshot> hadoopConf;

    public MeasurePartition(JobPlan plan, Broadcast<HadoopConfSnapshot> hadoopConf) {
        this.plan = plan;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public Iterator<DocumentWork> call(Iterator<DocumentWork> docs) {
        List<DocumentWork> out = new ArrayList<>();
        try (ReplicaCache.Lease lease = ReplicaCache.jvm().acquire(plan.replicaKey(), hadoopConf.value().get())) {
            SummaryEngine engine = new SummaryEngine(lease.replica(), plan.config(), plan.kvBytesPerTask());
            while (docs.hasNext()) {
                DocumentWork d = docs.next();
                int tokens;
                try {
                    tokens = engine.countTokens(d.text());
                } catch (RuntimeException e) {
                    tokens = 0; // the summarising stage reports the error for this document
                }
                out.add(d.measured(tokens, engine.cost(tokens)));
            }
        }
        return out.iterator();
    }
}
