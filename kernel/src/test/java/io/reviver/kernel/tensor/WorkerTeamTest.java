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
    void badArgumentsAndClosedTeamAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new WorkerTeam("t", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new WorkerTeam("t", 2, -1));
        WorkerTeam team = new WorkerTeam("t", 2, 0);
        assertThrows(IllegalArgumentException.class, () -> team.run(0, p -> { }));
        assertThrows(IllegalArgumentException.class, () -> team.run(3, p -> { }));
        team.close();
        assertThrows(IllegalStateException.class, () -> team.run(2, p -> { }));
        try (WorkerTeam alone = new WorkerTeam("t", 1, 0)) {
            int[] ran = new int[1];
            alone.run(1, p -> ran[0]++);
            assertEquals(1, ran[0]);
        }
    }
}
