package io.reviver.kernel.tensor;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
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
    /**
     * The latest job, read by the workers in one volatile read so that id, body and part count always belong
     * together; a job with a null body is the finished job's tombstone (same id, holds no references).
     */
    private volatile Job current = new Job(0, null, 0);
    private volatile boolean closed;

    /**
     * One job. Part 0 is the caller's; part {@code i ≥ 1} is claimed once, by worker {@code i} or by the caller
     * (whichever comes first). Every part is counted in {@code remaining} until it has run.
     */
    private static final class Job {
        final long id;
        final IntConsumer body;
        final int parts;
        final AtomicIntegerArray claimed; // (parts): 1 once a thread has taken the part
        final AtomicInteger remaining;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        /** The caller, once it has stopped spinning and may park; the last part to finish unparks it. */
        volatile Thread waiter;

        Job(long id, IntConsumer body, int parts) {
            this.id = id;
            this.body = body;
            this.parts = parts;
            this.claimed = new AtomicIntegerArray(Math.max(1, parts));
            this.remaining = new AtomicInteger(parts);
        }

        boolean claim(int part) {
            return claimed.get(part) == 0 && claimed.compareAndSet(part, 0, 1);
        }

        /** Runs part {@code part} (the caller's, or a claimed one), keeping the first failure. */
        void runPart(int part) {
            try {
                body.accept(part);
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

        /** Rethrows the first failure of a part, if any (see the class comment). */
        void rethrowFailure() {
            Throwable t = failure.get();
            if (t == null) {
                return;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("a part of a parallel job failed", t);
        }
    }

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
            Job j = new Job(current.id + 1, body, parts); // only the busy holder writes current
            current = j;
            for (int i = 0; i < parts - 1; i++) {
                if (sleeping[i].get()) {
                    LockSupport.unpark(workers[i]);
                }
            }
            j.runPart(0);
            // parts no worker has taken yet (it is still waking, or the team was closed meanwhile) run here
            for (int i = 1; i < parts; i++) {
                if (j.claim(i)) {
                    j.runPart(i);
                }
            }
            long start = System.nanoTime();
            while (j.remaining.get() > 0 && System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
            }
            if (j.remaining.get() > 0) {
                // park until the last part finishes: it reads waiter after its decrement, we re-read remaining
                // after setting waiter, so one of the two sees the other (the timeout is only a safety net). An
                // interrupt would make park return at once, so it is cleared here and restored after the wait.
                j.waiter = Thread.currentThread();
                boolean interrupted = false;
                while (j.remaining.get() > 0) {
                    LockSupport.parkNanos(this, 1_000_000);
                    interrupted |= Thread.interrupted();
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            current = new Job(j.id, null, 0);
            j.rethrowFailure();
        } finally {
            busy.set(false);
        }
    }

    /** Every part on the calling thread, in order; the first failure is rethrown after the last part. */
    private static void runInline(int parts, IntConsumer body) {
        Job j = new Job(0, body, parts);
        for (int i = 0; i < parts; i++) {
            j.runPart(i);
        }
        j.rethrowFailure();
    }

    private void work(int part) {
        AtomicBoolean asleep = sleeping[part - 1];
        long seen = 0;
        while (true) {
            Job j = current;
            if (j.id != seen) {
                seen = j.id;
                if (part < j.parts && j.claim(part)) {
                    j.runPart(part);
                    Thread.interrupted(); // a part's interrupt belongs to its job, not to this thread's parking
                }
                continue;
            }
            if (closed) {
                return;
            }
            long start = System.nanoTime();
            while (current.id == seen && !closed && System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
            }
            if (current.id != seen || closed) {
                continue;
            }
            asleep.set(true);
            // re-check after announcing: the caller publishes the job before it reads sleeping, so one of the two
            // sees the other
            if (current.id == seen && !closed) {
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
