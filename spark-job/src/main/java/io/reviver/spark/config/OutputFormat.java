package io.reviver.spark.config;

import java.util.Locale;

/** How the summaries are written. */
public enum OutputFormat {
    /** Parquet files (Snappy). */
    PARQUET,
    /** JSON Lines, one object per document, null fields written as {@code null}. */
    JSONL;

    /** Lower-case name as written in configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
