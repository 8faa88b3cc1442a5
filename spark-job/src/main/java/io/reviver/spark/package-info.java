/**
 * The Spark batch job (the only package in the project that imports {@code org.apache.spark}), a thin layer over
 * the Spark-free engine in {@link io.reviver.spark.engine}: entry point ({@link io.reviver.spark.SummarizeJob}),
 * corpus input, token-balanced partitioning, the executor-side partition functions, atomic output and the
 * throughput report. Kryo registration lives in {@link io.reviver.spark.ReviverKryoRegistrator}.
 */
package io.reviver.spark;
