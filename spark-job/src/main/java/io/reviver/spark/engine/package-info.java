/**
 * Executor-side summarisation, Spark-free: the per-JVM model replica cache
 * ({@link io.reviver.spark.engine.ReplicaCache}), the summarisation engine with chunked map-reduce
 * ({@link io.reviver.spark.engine.SummaryEngine}, the one place that calls the kernel), and the token-based
 * partition planner ({@link io.reviver.spark.engine.TokenBalancer}).
 */
package io.reviver.spark.engine;
