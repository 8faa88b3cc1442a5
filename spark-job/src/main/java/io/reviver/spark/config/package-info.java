/**
 * The job's typed configuration: every key declared once ({@link io.reviver.spark.config.JobConfigKeys}), parsed
 * once on the driver ({@link io.reviver.spark.config.JobConfigLoader}) into an immutable
 * {@link io.reviver.spark.config.JobConfig} record that executors receive. Spark-free.
 */
package io.reviver.spark.config;
