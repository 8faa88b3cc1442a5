package io.reviver.spark;

import java.util.Locale;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.util.LongAccumulator;

/**
 * Logs a progress line on the driver every few seconds while documents are summarised:
 * {@code progress: 12/52 documents (23%), elapsed 0:31, ETA 1:44}. The count comes from an accumulator that
 * executors add to per document; Spark merges it when a task ends, so the count moves in partition steps (more
 * partitions, finer steps). A retried task may count twice, so the count is capped at the total.
 */
public final class ProgressReporter implements AutoCloseable {

    private static final Logger LOG = LogManager.getLogger(ProgressReporter.class);

    private final LongAccumulator done;
    private final long total;
    private final long intervalMillis;
    private final long startNanos = System.nanoTime();
    private final Thread thread;
    private volatile boolean running = true;

    /** Starts the reporter thread. */
    public ProgressReporter(LongAccumulator done, long total, int intervalSeconds) {
        this.done = done;
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
            long d = done.value();
            if (running && d != last) {
                LOG.info(line(d, total, System.nanoTime() - startNanos));
                last = d;
            }
        }
    }

    /** Stops the thread and logs the final line. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        LOG.info(line(done.value(), total, System.nanoTime() - startNanos));
    }
}
