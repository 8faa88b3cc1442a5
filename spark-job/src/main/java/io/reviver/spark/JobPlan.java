package io.reviver.spark;

import io.reviver.spark.config.JobConfig;
import io.reviver.spark.engine.ReplicaCache;
import java.io.Serializable;
import java.util.Objects;

/**
 * What the driver ships to executors: the typed configuration, a job id minted per run (names the temporary
 * output and log lines) and the KV-cache bytes one task may use.
 *
 * @param config         job configuration
 * @param jobId          UUID of this run
 * @param kvBytesPerTask {@code kv-memory} divided by the concurrent tasks of one executor
 */
public record JobPlan(JobConfig config, String jobId, long kvBytesPerTask) implements Serializable {

    public JobPlan {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(jobId, "jobId");
        if (kvBytesPerTask < 1) {
            throw new IllegalArgumentException("kvBytesPerTask must be ≥ 1, got " + kvBytesPerTask);
        }
    }

    /** The configuration hash of this run ({@link JobConfig#configHash(long)}), which keys its output rows. */
    public String configHash() {
        return config.configHash(kvBytesPerTask);
    }

    /** The key of this job's model replica in an executor's {@link ReplicaCache}. */
    public ReplicaCache.Key replicaKey() {
        return new ReplicaCache.Key(config.model(), config.modelCacheDir(), config.threads(), config.attention(),
            config.weights());
    }
}
