package io.reviver.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one local Spark session all in-process tests share (local[2], no UI), with the job's required settings. */
final class SharedSpark {

    private static SparkSession session;

    private SharedSpark() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            SparkConf conf = SparkSettings.apply(new SparkConf())
                .setMaster("local[2]")
                .setAppName("reviver-spark-job-tests")
                .set("spark.ui.enabled", "false")
                .set("spark.sql.warehouse.dir", System.getProperty("java.io.tmpdir") + "/reviver-test-warehouse")
                .set("spark.sql.shuffle.partitions", "2")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
            session = SparkSession.builder().config(conf).getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop, "stop-shared-spark"));
        }
        return session;
    }
}
