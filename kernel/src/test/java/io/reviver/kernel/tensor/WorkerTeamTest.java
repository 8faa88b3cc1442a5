package io.reviver.kernel.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkerTeam}: every part runs exactly once per job, concurrently on distinct threads when they must; failures
 * reach the caller only after every part has finished; a busy team (nested or concurrent callers) runs the whole
 * job on the caller; both the spinning and the parking hand-over (spinNanos 0) keep all this through thousands of
 * back-to-back jobs.
 */
class WorkerTeamTest {

    @ParameterizedTest
    @ValueSource(longs = {0, WorkerTeam.SPIN_NANOS})
    void everyPartRunsOnceInEveryJob(long spinNanos) {
        try (WorkerTeam team = new WorkerTeam("test-team", 3, spinNanos)) {
            for (int job = 0; job < 5_000; job++) {
                int parts = 1 + job % 3;
                AtomicIntegerArray runs = new AtomicIntegerArray(3);
                team.run(parts, runs::incrementAndGet);
                for (int p = 0; p < 3; p++) {
                    assertEquals(p < parts ? 1 : 0, runs.get(p), "job " + job + " part " + p);
                }
            }
        }
    }

    /**
     * A job allocates nothing on the heap, on the caller or the workers (the JVM's per-thread allocation counters;
     * the team is plain Java, so this holds before the JIT compiles it too): the team reuses its job state, so a
     * decode step's hundred-odd products make no garbage.
     */
    @ParameterizedTest
    @ValueSource(longs = {0, WorkerTeam.SPIN_NANOS})
    void aJobAllocatesNothing(long spinNanos) throws Exception {
        com.sun.management.ThreadMXBean mx =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (WorkerTeam team = new WorkerTeam("alloc-team", 3, spinNanos)) {
            int[] hits = new int[3];
            java.util.function.IntConsumer body = p -> hits[p]++;
            for (int job = 0; job < 2_000; job++) { // every worker has started and run parts
                team.run(1 + job % 3, body);
            }
            List<Long> ids = new ArrayList<>();
            ids.add(Thread.currentThread().getId());
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("alloc-team-")) {
                    ids.add(t.getId());
                }
            }
            assertEquals(3, ids.size(), "the caller and two workers");
            long[] idArray = ids.stream().mapToLong(Long::longValue).toArray();
            long[] before = mx.getThreadAllocatedBytes(idArray);
            int jobs = 20_000;
            for (int job = 0; job < jobs; job++) {
                team.run(1 + job % 3, body);
            }
            long[] after = mx.getThreadAllocatedBytes(idArray);
            long allocated = 0;
            for (int i = 0; i < idArray.length; i++) {
                allocated += after[i] - before[i];
            }
            // the counter reading itself may allocate a little on the caller; a job object would be ≥ 16 bytes
            assertTrue(allocated < jobs, allocated + " bytes allocated by " + jobs + " jobs");
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, WorkerTeam.SPIN_NANOS})
    void partsRunConcurrentlyOnDistinctThreadsAndPartZeroOnTheCaller(long spinNanos) {
        try (WorkerTeam team = new WorkerTeam("test-team", 3, spinNanos)) {
            Thread[] ran = new Thread[3];
            CountDownLatch allStarted = new CountDownLatch(3);
            team.run(3, p -> {
                ran[p] = Thread.currentThread();
                allStarted.countDown();
                try { // every part waits for the others, so they must all be running at once
                    assertTrue(allStarted.await(30, TimeUnit.SECONDS), "part " + p + " waited for the others");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertSame(Thread.currentThread(), ran[0]);
            assertEquals(3, Set.of(ran).size());
            assertTrue(ran[1].getName().startsWith("test-team-"), ran[1].getName());
        }
    }

    @Test
    void aFailureIsRethrownAfterTheOtherPartsFinish() {
        try (WorkerTeam team = new WorkerTeam("test-team", 2, 0)) {
            CountDownLatch failed = new CountDownLatch(1);
            boolean[] otherFinished = new boolean[1];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> team.run(2, p -> {
                if (p == 1) {
                    failed.countDown();
                    throw new IllegalArgumentException("part 1 broke");
                }
                try {
                    failed.await();
                    Thread.sleep(20); // the caller's part is still running when the worker's failure is recorded
                } catch (InterruptedException ie) {
                    throw new IllegalStateException(ie);
                }
                otherFinished[0] = true;
            }));
            assertEquals("part 1 broke", e.getMessage());
            assertTrue(otherFinished[0]);
            // the team still works after a failure
            AtomicIntegerArray runs = new AtomicIntegerArray(2);
            team.run(2, runs::incrementAndGet);
            assertArrayEquals(new int[] {1, 1}, new int[] {runs.get(0), runs.get(1)});
        }
    }

    @Test
    void anErrorIsRethrownAsItIs() {
        try (WorkerTeam team = new WorkerTeam("test-team", 2, 0)) {
            assertThrows(AssertionError.class, () -> team.run(2, p -> {
                if (p == 1) {
                    throw new AssertionError("boom");
                }
            }));
        }
    }

    @Test
    void anInlineJobRunsEveryPartBeforeRethrowing() {
        try (WorkerTeam team = new WorkerTeam("test-team", 2, 0)) {
            List<Integer> ran = new ArrayList<>();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> team.run(2, p -> {
                if (p == 0) { // nested: the team is busy, so the inner job runs inline
                    team.run(2, q -> {
                        ran.add(q);
                        if (q == 0) {
                            throw new IllegalArgumentException("inner part 0 broke");
                        }
                    });
                }
            }));
            assertEquals("inner part 0 broke", e.getMessage());
            assertEquals(List.of(0, 1), ran);
        }
    }

    @Test
    void anInterruptedCallerWaitsAndKeepsItsInterruptAndWorkersStillPark() throws Exception {
        try (WorkerTeam team = new WorkerTeam("interrupt-team", 2, 0)) {
            Thread.currentThread().interrupt();
            AtomicIntegerArray runs = new AtomicIntegerArray(2);
            CountDownLatch started = new CountDownLatch(2);
            team.run(2, p -> {
                started.countDown();
                try {
                    // both parts run at once, so the caller waits for the worker's part while interrupted
                    assertTrue(awaitIgnoringInterrupt(started));
                    if (p == 1) {
                        Thread.currentThread().interrupt(); // a part that leaves its thread interrupted
                        sleepIgnoringInterrupt(50);
                    }
                } finally {
                    runs.incrementAndGet(p);
                }
            });
            assertTrue(Thread.interrupted(), "the caller's interrupt status is kept (and cleared here)");
            assertArrayEquals(new int[] {1, 1}, new int[] {runs.get(0), runs.get(1)});
            AtomicIntegerArray again = new AtomicIntegerArray(2);
            for (int j = 0; j < 200; j++) { // the worker, interrupted by its part, still takes later jobs
                team.run(2, again::incrementAndGet);
            }
            assertArrayEquals(new int[] {200, 200}, new int[] {again.get(0), again.get(1)});
            // and, idle, it parks instead of spinning (an interrupt left set would make every park return at once)
            Thread worker = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("interrupt-team-1")).findFirst().orElseThrow();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (worker.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Thread.sleep(20); // still parked a while later: not a spin that passes through park
            assertEquals(Thread.State.WAITING, worker.getState());
        }
    }

    /** Waits for the latch without blocking calls (this thread may be interrupted); false after 30 s. */
    private static boolean awaitIgnoringInterrupt(CountDownLatch latch) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (latch.getCount() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    private static void sleepIgnoringInterrupt(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aNestedJobRunsOnTheCallingThread() {
        try (WorkerTeam team = new WorkerTeam("test-team", 2, WorkerTeam.SPIN_NANOS)) {
            List<String> inner = new ArrayList<>();
            team.run(2, p -> {
                if (p == 0) {
                    team.run(2, q -> inner.add(q + "@" + Thread.currentThread().getName()));
                }
            });
            String me = Thread.currentThread().getName();
            assertEquals(List.of("0@" + me, "1@" + me), inner);
        }
    }

    @Test
    void concurrentCallersEachGetEveryPartOnce() throws Exception {
        try (WorkerTeam team = new WorkerTeam("test-team", 2, WorkerTeam.SPIN_NANOS)) {
            int callers = 3;
            int jobs = 2_000;
            Set<String> problems = ConcurrentHashMap.newKeySet();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int caller = c;
                Thread t = new Thread(() -> {
                    for (int j = 0; j < jobs; j++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(2);
                        team.run(2, runs::incrementAndGet);
                        if (runs.get(0) != 1 || runs.get(1) != 1) {
                            problems.add("caller " + caller + " job " + j + ": " + runs);
                        }
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(Set.of(), problems);
        }
    }

    @Test
    void badArgumentsAreRejectedAndAClosedTeamRunsJobsInline() {
        assertThrows(IllegalArgumentException.class, () -> new WorkerTeam("t", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new WorkerTeam("t", 2, -1));
        WorkerTeam team = new WorkerTeam("t", 2, 0);
        assertThrows(IllegalArgumentException.class, () -> team.run(0, p -> { }));
        assertThrows(IllegalArgumentException.class, () -> team.run(3, p -> { }));
        team.close();
        int[] afterClose = new int[2];
        team.run(2, p -> afterClose[p]++); // a closed team runs the whole job on the caller
        assertArrayEquals(new int[] {1, 1}, afterClose);
        try (WorkerTeam alone = new WorkerTeam("t", 1, 0)) {
            int[] ran = new int[1];
            alone.run(1, p -> ran[0]++);
            assertEquals(1, ran[0]);
        }
    }
}
