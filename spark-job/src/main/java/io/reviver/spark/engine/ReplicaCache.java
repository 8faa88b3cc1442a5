package io.reviver.spark.engine;

import io.reviver.modelstore.source.ModelCache;
import io.reviver.modelstore.source.ModelLocation;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The per-JVM cache of model replicas on an executor: a model is fetched once into the executor's local model
 * cache (model-store's {@link ModelCache}, safe across processes), loaded once, and shared by every task of the
 * JVM through reference-counted {@link Lease}s. Keyed by {@link Key} (model location and load settings), so tasks
 * of different jobs or models never see each other's replica.
 *
 * <p>Release: a replica stays loaded while idle so that the next task of the same job reuses it; it is closed when
 * a task acquires a different model (idle replicas of other keys are evicted first), by {@link #releaseAll()}
 * (the driver calls it when the application ends, which covers local mode), and by a JVM shutdown hook (executor
 * JVMs end with the application).
 */
public final class ReplicaCache {

    private static final Logger LOG = LogManager.getLogger(ReplicaCache.class);
    private static final ReplicaCache JVM = new ReplicaCache();

    /**
     * What identifies a replica.
     *
     * @param location     where the model comes from (with its expected checksum)
     * @param cacheDir     local model cache directory
     * @param threads      compute threads of the replica
     * @param attention    attention and sketch backend choice
     * @param weights      weight-product backend
     */
    public record Key(ModelLocation location, String cacheDir, int threads,
                      io.reviver.kernel.attention.BackendChoice attention,
                      io.reviver.kernel.tensor.WeightsBackend weights) {
        public Key {
            Objects.requireNonNull(location, "location");
            Objects.requireNonNull(cacheDir, "cacheDir");
            Objects.requireNonNull(attention, "attention");
            Objects.requireNonNull(weights, "weights");
        }
    }

    /** A task's use of a replica; closing it returns the replica to the cache (it is not unloaded). */
    public final class Lease implements AutoCloseable {
        private final Entry entry;
        private final long loadNanos;
        private boolean closed;

        private Lease(Entry entry, long loadNanos) {
            this.entry = entry;
            this.loadNanos = loadNanos;
        }

        /** Time this acquisition spent fetching and loading the model; 0 when the replica was already loaded. */
        public long loadNanos() {
            return loadNanos;
        }

        public ModelReplica replica() {
            return entry.replica;
        }

        @Override
        public void close() {
            synchronized (ReplicaCache.this) {
                if (!closed) {
                    closed = true;
                    entry.users--;
                }
            }
        }
    }

    private static final class Entry {
        final ModelReplica replica;
        int users;

        Entry(ModelReplica replica) {
            this.replica = replica;
        }
    }

    private final Map<Key, Entry> entries = new HashMap<>();
    private int loads;
    private boolean hookInstalled;

    ReplicaCache() {
    }

    /** The cache of this JVM. */
    public static ReplicaCache jvm() {
        return JVM;
    }

    /**
     * Returns a lease on the replica for {@code key}, fetching and loading it on first use. Concurrent callers
     * for one key wait for a single load.
     *
     * @param hadoopConf configuration for remote model URIs (credentials, endpoints), as shipped by the driver
     */
    public synchronized Lease acquire(Key key, Configuration hadoopConf) {
        Entry e = entries.get(key);
        long loadNanos = 0;
        if (e == null) {
            evictIdleExcept(key);
            long fetch0 = System.nanoTime();
            Path file = new ModelCache(Paths.get(key.cacheDir())).resolve(key.location(), hadoopConf);
            long t0 = System.nanoTime();
            ModelReplica replica = ModelReplica.load(file, key.threads(), key.attention(), key.weights());
            loadNanos = System.nanoTime() - fetch0;
            loads++;
            LOG.info("loaded model replica {} in {} ms (load #{} in this JVM)", replica.describe(),
                (System.nanoTime() - t0) / 1_000_000, loads);
            e = new Entry(replica);
            entries.put(key, e);
            installHook();
        }
        e.users++;
        return new Lease(e, loadNanos);
    }

    /** Replicas loaded by this cache since the JVM started (for tests and logs). */
    public synchronized int loadCount() {
        return loads;
    }

    /** Replicas currently loaded. */
    public synchronized int size() {
        return entries.size();
    }

    /** Closes every replica that no task is using; returns how many were closed. */
    public synchronized int releaseAll() {
        return evictIdleExcept(null);
    }

    private int evictIdleExcept(Key keep) {
        List<Key> idle = new ArrayList<>();
        for (Map.Entry<Key, Entry> me : entries.entrySet()) {
            if (me.getValue().users == 0 && !me.getKey().equals(keep)) {
                idle.add(me.getKey());
            }
        }
        for (Key k : idle) {
            Entry gone = entries.remove(k);
            LOG.info("releasing model replica {}", gone.replica.describe());
            gone.replica.close();
        }
        return idle.size();
    }

    private void installHook() {
        if (!hookInstalled) {
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(new Thread(this::releaseAll, "reviver-replica-release"));
        }
    }
}
