package io.reviver.spark;

import org.apache.spark.SparkConf;

/**
 * The Spark settings the job relies on, applied to every session it creates whatever conf/spark-defaults.conf
 * says: Kryo with registration required and the project's registrator, and the v1 file output committer (task
 * output is renamed into place only when the task commits, so retried tasks never leave duplicates).
 */
public final class SparkSettings {

    private SparkSettings() {
    }

    /** Applies the required settings to {@code conf} and returns it. */
    public static SparkConf apply(SparkConf conf) {
        return conf.set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
            .set("spark.kryo.registrationRequired", "true")
            .set("spark.kryo.registrator", ReviverKryoRegistrator.class.getName())
            .set("spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version", "1")
            .set("spark.sql.sources.commitProtocolClass",
                "org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol");
    }
}
