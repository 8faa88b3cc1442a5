package io.reviver.modelstore.source;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive lock on one cache entry, across threads and across processes.
 *
 * <p>Processes are excluded by an OS file lock ({@link FileChannel#lock()}) on a per-entry lock file. A JVM may
 * hold only one such lock per file: a second {@code lock()} from another thread throws
 * {@code OverlappingFileLockException}, and on POSIX closing any channel on the file drops the JVM's lock. So
 * threads first take an in-JVM {@link ReentrantLock} keyed by the lock file's real path, and only the holder opens
 * a channel. That map is static on purpose: file locks belong to the process, not to a {@link ModelCache}
 * instance, so two caches on one directory in one JVM must share it. It holds no configuration, and an entry
 * is removed as soon as no thread uses it.
 */
final class EntryLocks {
    /** Per-lock-file thread lock plus the number of threads holding or waiting for it. */
    private static final class Holder {
        final ReentrantLock lock = new ReentrantLock();
        int users;
    }

    private static final ConcurrentHashMap<Path, Holder> IN_JVM = new ConcurrentHashMap<>();

    private EntryLocks() {
    }

    /** A held entry lock; {@link #close()} releases the file lock, then the in-JVM lock. */
    static final class Held implements AutoCloseable {
        private final Path key;
        private final Holder holder;
        private final FileChannel channel;

        private Held(Path key, Holder holder, FileChannel channel) {
            this.key = key;
            this.holder = holder;
            this.channel = channel;
        }

        @Override
        public void close() throws IOException {
            try {
                channel.close(); // also releases the FileLock
            } finally {
                release(key, holder);
            }
        }
    }

    /**
     * Blocks until this thread holds the entry exclusively. The lock file is created if needed and never
     * deleted (deleting it would let two processes lock two different inodes).
     *
     * @param lockFile lock file inside an existing entry directory
     */
    static Held acquire(Path lockFile) throws IOException {
        Path key = lockFile.getParent().toRealPath().resolve(lockFile.getFileName());
        Holder holder = IN_JVM.compute(key, (k, h) -> {
            Holder held = h == null ? new Holder() : h;
            held.users++;
            return held;
        });
        boolean handedOver = false;
        try {
            holder.lock.lockInterruptibly();
            try {
                FileChannel channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                try {
                    channel.lock();
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                handedOver = true;
                return new Held(key, holder, channel);
            } finally {
                if (!handedOver) {
                    holder.lock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for cache lock " + key, e);
        } finally {
            if (!handedOver) {
                forget(key);
            }
        }
    }

    private static void release(Path key, Holder holder) {
        holder.lock.unlock();
        forget(key);
    }

    private static void forget(Path key) {
        IN_JVM.computeIfPresent(key, (k, h) -> --h.users == 0 ? null : h);
    }
}
