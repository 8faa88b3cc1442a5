package io.reviver.kernel.tensor;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed team of daemon threads that, with the calling thread, runs the parts of one parallel job at a time: part 0
 * on the caller, part {@code i ≥ 1} on worker {@code i}.
 *
 * <p>Why not an {@code ExecutorService}: a decode step of a 1B-shaped model makes about 113 weight products of
 * 40 µs to 11 ms each, and handing a task to a parked pool thread and waiting for its future cost 12–15 µs per round
 * trip on this machine (AMD EPYC, 2 cores, JDK 17, measured with an empty task), more when the worker then starts
 * late and its half of the rows finishes after the caller's. Here a worker that has just finished a part watches for
 * the next job for up to {@code spinNanos} before it parks, so back-to-back products hand over through one volatile
 * write; the caller, once its own part is done, likewise watches up to {@code spinNanos} for the others to finish,
 * then parks until the last one does. Spinning is only worth it when every team thread can have a core: callers
 * pass {@code spinNanos = 0} otherwise (see {@link #defaultSpinNanos}), and the team then parks and unparks like a
 * pool.
 *
 * <p>The caller, once its own part is done, also runs every part no worker has taken yet (a worker still waking
 * from park, or one stopped by {@link #close}), so a job never waits on a thread that has not started its part.
 *
 * <p>Thread-safe. One job runs at a time; a caller that finds the team busy (another thread's job, or a nested
 * call from inside a part) or closed runs all the parts of its job itself, in order, so no caller ever waits for
 * another's job and nested use cannot deadlock. Callers must therefore not depend on which thread runs which part.
 *
 * <p>Failures: the first {@link Throwable} a part throws is rethrown to the caller after every part has run
 * (an {@link Error} or {@link RuntimeException} as it is; anything else wrapped in an
 * {@link IllegalStateException}). A part is never abandoned halfway, so the caller's output arrays are not written
 * after {@link #run} returns. Interrupts are not observed while waiting: parts are bounded computations, and the
 * caller's interrupt status is left as it was (a worker clears its own after each part).
 */
public final class WorkerTeam implements AutoCloseable {

    /** Default watch time after a part, when the team's threads fit the machine's cores. */
    static final long SPIN_NANOS = 200_000;

    private final Thread[] workers; // worker i runs part i + 1
    private final long spinNanos;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** Per worker: true while it is parked or about to park (then the caller must unpark it). */
    private final AtomicBoolean[] sleeping;
    private volatile boolean closed;

    // The current job, kept in fields reused from job to job so that a job allocates nothing. Only the holder of
    // `busy` writes them, and it publishes them by the volatile write of `epoch` (the job's number), which the
    // workers read first.
    /**
     * Per part (size): the number of the latest job that part was claimed in. Part i of job e is claimed once, by
     * a compare-and-set from a smaller number to e: by worker i or by the caller, whichever comes first. Parts a
     * job does not have are marked claimed before the job is published, so no worker runs one; a worker still
     * holding an older job's number claims nothing (every part of that job was claimed before the next job was
     * published).
     */
    private final AtomicLongArray claimed;
    private final AtomicInteger remaining = new AtomicInteger(); // parts of the current job not finished yet
    private final AtomicReference<Throwable> failure = new AtomicReference<>(); // the current job's first one
    private IntConsumer body; // the current job's parts; a worker reads it only after claiming a part
    /** The caller, once it has stopped spinning and may park; the last part to finish unparks it. */
    private volatile Thread waiter;
    private volatile long epoch; // the current job's number (0: none yet)

    /**
     * @param name      thread name prefix ({@code name-1}, {@code name-2}, …)
     * @param size      threads including the caller, ≥ 1 (a team of 1 has no workers and runs everything inline)
     * @param spinNanos how long a worker watches for the next job, and the caller for the other parts, before
     *                  parking, ≥ 0
     */
    public WorkerTeam(String name, int size, long spinNanos) {
        Objects.requireNonNull(name, "name");
        if (size < 1) {
            throw new IllegalArgumentException("team size must be >= 1, got " + size);
        }
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spinNanos must be >= 0, got " + spinNanos);
        }
        this.spinNanos = spinNanos;
        this.claimed = new AtomicLongArray(size);
        this.workers = new Thread[size - 1];
        this.sleeping = new AtomicBoolean[size - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            sleeping[i] = new AtomicBoolean();
            workers[i] = new Thread(() -> work(part), name + "-" + part);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /**
     * {@link #SPIN_NANOS} when {@code size} threads fit the cores the JVM sees, else 0 (a spinning thread would take
     * a core another team thread needs).
     */
    public static long defaultSpinNanos(int size) {
        return size <= Runtime.getRuntime().availableProcessors() ? SPIN_NANOS : 0;
    }

    /** Threads including the caller. */
    public int size() {
        return workers.length + 1;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, parts)} and returns when all have finished.
     *
     * @param parts at least 1 and at most {@link #size()}
     * @throws IllegalArgumentException if {@code parts} is out of range
     * @throws IllegalStateException    wrapping a checked failure of a part
     */
    public void run(int parts, IntConsumer body) {
        Objects.requireNonNull(body, "body");
        if (parts < 1 || parts > size()) {
            throw new IllegalArgumentException("parts must be in [1, " + size() + "], got " + parts);
        }
        if (parts == 1 || closed || !busy.compareAndSet(false, true)) {
            runInline(parts, body);
            return;
        }
        try {
            long e = epoch + 1; // only the busy holder writes epoch
            this.body = body;
            remaining.set(parts);
            failure.set(null);
            waiter = null;
            for (int i = parts; i < claimed.length(); i++) {
                claimed.set(i, e); // parts this job does not have
            }
            claimed.set(0, e); // the caller's
            epoch = e; // publishes the job
            for (int i = 0; i < parts - 1; i++) {
                if (sleeping[i].get()) {
                    LockSupport.unpark(workers[i]);
                }
            }
            runPart(body, 0);
            // parts no worker has taken yet (it is still waking, or the team was closed meanwhile) run here
            for (int i = 1; i < parts; i++) {
                if (claim(i, e)) {
                    runPart(body, i);
                }
            }
            long start = System.nanoTime();
            while (remaining.get() > 0 && System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
            }
            if (remaining.get() > 0) {
                // park until the last part finishes: it reads waiter after its decrement, we re-read remaining
                // after setting waiter, so one of the two sees the other (the timeout is only a safety net). An
                // interrupt would make park return at once, so it is cleared here and restored after the wait.
                waiter = Thread.currentThread();
                boolean interrupted = false;
                while (remaining.get() > 0) {
                    LockSupport.parkNanos(this, 1_000_000);
                    interrupted |= Thread.interrupted();
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            this.body = null; // every part has run: no thread reads it again, and the team keeps no reference
            Throwable t = failure.getAndSet(null);
            if (t != null) {
                rethrow(t);
            }
        } finally {
            busy.set(false);
        }
    }

    /** Claims part {@code part} of job {@code e}: true for the one thread that takes it. */
    private boolean claim(int part, long e) {
        long c = claimed.get(part);
        return c < e && claimed.compareAndSet(part, c, e);
    }

    /** Runs a claimed part of the current job, keeping its first failure; the last part wakes the caller. */
    private void runPart(IntConsumer b, int part) {
        try {
            b.accept(part);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        if (remaining.decrementAndGet() == 0) {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /** Rethrows a part's failure (see the class comment). */
    private static void rethrow(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        throw new IllegalStateException("a part of a parallel job failed", t);
    }

    /** Every part on the calling thread, in order; the first failure is rethrown after the last part. */
    private static void runInline(int parts, IntConsumer body) {
        Throwable first = null;
        for (int i = 0; i < parts; i++) {
            try {
                body.accept(i);
            } catch (Throwable t) {
                if (first == null) {
                    first = t;
                }
            }
        }
        if (first != null) {
            rethrow(first);
        }
    }

    private void work(int part) {
        AtomicBoolean asleep = sleeping[part - 1];
        long seen = 0;
        while (true) {
            long e = epoch;
            if (e != seen) {
                seen = e;
                if (claim(part, e)) {
                    runPart(body, part); // read after the claim: job e is still running, so this is its body
                    Thread.interrupted(); // a part's interrupt belongs to its job, not to this thread's parking
                }
                continue;
            }
            if (closed) {
                return;
            }
            long start = System.nanoTime();
            while (epoch == seen && !closed && System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
            }
            if (epoch != seen || closed) {
                continue;
            }
            asleep.set(true);
            // re-check after announcing: the caller publishes the job before it reads sleeping, so one of the two
            // sees the other
            if (epoch == seen && !closed) {
                LockSupport.park(this);
            }
            asleep.set(false);
        }
    }

    /** Stops the workers (they exit once idle); later {@link #run} calls run all their parts on the caller. */
    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
