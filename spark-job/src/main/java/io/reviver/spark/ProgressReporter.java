package io.reviver.spark;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Logs a progress line on the driver every few seconds while documents are summarised:
 * {@code progress: 12/52 documents (23%), elapsed 0:31, ETA 1:44}. The count comes from an accumulator that
 * executors add to per document: Spark merges it into the driver's value when a task ends, and executors report
 * the running tasks' partial values with their heartbeats ({@code spark.executor.heartbeatInterval}, 10 s by
 * default), which a listener adds, so the count moves per document rather than per partition. A retried task may
 * count twice, so the count is capped at the total.
 */
public final class ProgressReporter implements AutoCloseable {

    private static final Logger LOG = LogManager.getLogger(ProgressReporter.class);

    private final LongAccumulator done;
    private final long total;
    private final long intervalMillis;
    private final long startNanos = System.nanoTime();
    private final Thread thread;
    private volatile boolean running = true;

    private final SparkContext sc;
    private final RunningTasks tasks;

    /** Called every interval (and at the end) with the seconds elapsed and the documents done. */
    public interface Tick {
        void at(double seconds, long done);
    }

    private final Tick tick;

    /** Starts the reporter thread and registers its listener on {@code sc}. */
    public ProgressReporter(SparkContext sc, LongAccumulator done, long total, int intervalSeconds) {
        this(sc, done, total, intervalSeconds, (t, n) -> { });
    }

    /**
     * Starts the reporter thread and registers its listener on {@code sc}; {@code tick} runs on the reporter
     * thread every interval and once more on {@link #close()}.
     */
    public ProgressReporter(SparkContext sc, LongAccumulator done, long total, int intervalSeconds, Tick tick) {
        this.tick = tick;
        this.sc = sc;
        this.done = done;
        this.tasks = new RunningTasks(done.id());
        sc.addSparkListener(tasks);
        this.total = total;
        this.intervalMillis = intervalSeconds * 1000L;
        this.thread = new Thread(this::loop, "reviver-progress");
        thread.setDaemon(true);
        thread.start();
    }

    /** The progress line for {@code done} of {@code total} after {@code elapsedNanos}. */
    static String line(long done, long total, long elapsedNanos) {
        long d = Math.min(done, total);
        long elapsed = elapsedNanos / 1_000_000_000L;
        String eta = d == 0 ? "unknown" : clock((long) ((double) elapsed * (total - d) / d));
        return String.format(Locale.ROOT, "progress: %d/%d documents (%d%%), elapsed %s, ETA %s", d, total,
            total == 0 ? 100 : d * 100 / total, clock(elapsed), eta);
    }

    private static String clock(long seconds) {
        return seconds >= 3600
            ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
            : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    private void loop() {
        long last = -1;
        while (running) {
            try {
                Thread.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return;
            }
            long d = Math.min(count(), total);
            if (running && d != last) {
                LOG.info(line(d, total, System.nanoTime() - startNanos));
                last = d;
            }
            if (running) {
                tick.at((System.nanoTime() - startNanos) / 1e9, d);
            }
        }
    }

    /** Stops the thread and logs the final line. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(); // the last tick must not race the final one below (or the work directory's deletion)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sc.removeSparkListener(tasks);
        LOG.info(line(done.value(), total, System.nanoTime() - startNanos));
        tick.at((System.nanoTime() - startNanos) / 1e9, Math.min(done.value(), total));
    }

    /** Documents done: finished tasks' merged count plus running tasks' last heartbeat values. */
    private long count() {
        return done.value() + tasks.inFlight();
    }

    /** Partial accumulator values of running tasks, from executor heartbeats; dropped when a task ends. */
    private static final class RunningTasks extends SparkListener {
        private final long accumulatorId;
        private final Map<Long, Long> partial = new ConcurrentHashMap<>(); // task id → documents done so far

        RunningTasks(long accumulatorId) {
            this.accumulatorId = accumulatorId;
        }

        @Override
        public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
            for (Tuple4<Object, Object, Object, Seq<AccumulableInfo>> task
                : CollectionConverters.asJava(update.accumUpdates())) {
                for (AccumulableInfo info : CollectionConverters.asJava(task._4())) {
                    if (info.id() == accumulatorId && info.update().isDefined()
                        && info.update().get() instanceof Number n) {
                        partial.put((Long) task._1(), n.longValue());
                    }
                }
            }
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            partial.remove(end.taskInfo().taskId());
        }

        long inFlight() {
            long sum = 0;
            for (long v : partial.values()) {
                sum += v;
            }
            return sum;
        }
    }
}
