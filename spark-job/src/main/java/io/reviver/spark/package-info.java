/**
 * The Spark batch job (the only package in the project that imports {@code org.apache.spark}): job entry point,
 * partitioning of the corpus, one model replica per executor, output and throughput report. Not built yet: the
 * foundation (model store and kernel) comes first.
 */
package io.reviver.spark;
