package io.reviver.spark;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/**
 * Counts, on the driver while a job runs, the failures Spark recovers from: task attempts that ended without
 * success, attempts that were retries (attempt number above 0) or speculative copies, and executors removed
 * (lost workers). Registered for the duration of one run.
 */
final class JobListener extends SparkListener {
    private final AtomicLong taskFailures = new AtomicLong();
    private final AtomicLong taskRetries = new AtomicLong();
    private final AtomicLong executorsLost = new AtomicLong();

    @Override
    public void onTaskStart(SparkListenerTaskStart start) {
        if (start.taskInfo().attemptNumber() > 0 || start.taskInfo().speculative()) {
            taskRetries.incrementAndGet();
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.reason() != Success$.MODULE$) {
            taskFailures.incrementAndGet();
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        executorsLost.incrementAndGet();
    }

    ThroughputReport.Failures snapshot() {
        return new ThroughputReport.Failures(taskFailures.get(), taskRetries.get(), executorsLost.get());
    }
}
