package io.reviver.spark;

import io.reviver.spark.engine.DocumentChecks;
import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.SummaryEngine;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * First stage: counts each document's tokens with the executor's model replica (loaded here once per JVM, then
 * reused by the summarising stage) and its cost for partition balancing. Input and output are keyed by the
 * document's position among the documents to summarise.
 */
public final class MeasurePartition
    implements PairFlatMapFunction<Iterator<Tuple2<Long, DocumentWork>>, Long, DocumentWork> {
    private static final long serialVersionUID = 2L;

    private final JobPlan plan;
    private final Broadcast<HadoopConfSnapshot> hadoopConf;

    public MeasurePartition(JobPlan plan, Broadcast<HadoopConfSnapshot> hadoopConf) {
        this.plan = plan;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public Iterator<Tuple2<Long, DocumentWork>> call(Iterator<Tuple2<Long, DocumentWork>> docs) {
        List<Tuple2<Long, DocumentWork>> out = new ArrayList<>();
        try (ReplicaCache.Lease lease = ReplicaCache.jvm().acquire(plan.replicaKey(), hadoopConf.value().get())) {
            ExecutorSample.recordLoad(plan.jobId(), lease.loadNanos());
            SummaryEngine engine = new SummaryEngine(lease.replica(), plan.config(), plan.kvBytesPerTask());
            while (docs.hasNext()) {
                Tuple2<Long, DocumentWork> t = docs.next();
                DocumentWork d = t._2();
                int tokens;
                try {
                    tokens = d.problem() != null || d.text() == null
                        || DocumentChecks.utf8Length(d.text()) > plan.config().maxDocumentBytes() ? 0
                        : engine.countTokens(d.text());
                } catch (RuntimeException e) {
                    tokens = 0; // the summarising stage reports the error for this document
                }
                out.add(new Tuple2<>(t._1(), d.measured(tokens, engine.cost(tokens))));
            }
        }
        return out.iterator();
    }
}
