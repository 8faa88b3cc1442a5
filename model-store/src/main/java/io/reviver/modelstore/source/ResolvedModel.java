package io.reviver.modelstore.source;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A model file on local disk, as returned by {@link ModelCache#resolveModel}.
 *
 * @param path    local file to open: the user's own path for a local location, else the cache entry's file
 * @param size    file length in bytes
 * @param sha256  SHA-256 of the file (64 lower-case hex characters) when known: always for a cached copy, and for a
 *                local path only when an expected hash was given and checked; otherwise null
 * @param outcome how the file was obtained
 */
public record ResolvedModel(Path path, long size, String sha256, Outcome outcome) {

    /** How {@link ModelCache#resolveModel} obtained the file. */
    public enum Outcome {
        /** A local path, validated and used in place. */
        LOCAL,
        /** An existing, complete cache entry was reused without transferring the source again. */
        REUSED,
        /** The source was copied into the cache by this call (first use, source changed, or entry corrupt). */
        DOWNLOADED
    }

    public ResolvedModel {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(outcome, "outcome");
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, got " + size);
        }
    }
}
