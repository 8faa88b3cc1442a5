package io.reviver.spark.config;

import java.util.Locale;

/** How the corpus is stored. */
public enum InputFormat {
    /** JSON Lines, one object per line with string fields {@code id} and {@code text}. */
    JSONL,
    /** Plain text files, one document per file; the document id is the file's path. */
    TEXT,
    /** Parquet with columns {@code id} and {@code text}. */
    PARQUET;

    /** Lower-case name as written in configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
