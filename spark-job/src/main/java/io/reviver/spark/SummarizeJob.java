package io.reviver.spark;

import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.TokenBalancer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * The summarisation job: one summary per document of a corpus plus a throughput report.
 *
 * <p>Run with {@code spark-submit --class io.reviver.spark.SummarizeJob reviver-spark-job.jar --model URI
 * --input URI --output URI [...]} (see {@link JobConfigLoader#usage()}). Steps, each a named Spark job group:
 * <ol>
 *   <li>read the corpus and number its documents ({@link CorpusReader});</li>
 *   <li>measure every document in tokens with the executors' model replicas ({@link MeasurePartition});</li>
 *   <li>plan partitions of similar token cost on the driver ({@link TokenBalancer}) and shuffle the documents
 *       there, in corpus order within each partition ({@link IndexPartitioner});</li>
 *   <li>summarise ({@link SummarizePartition}) and write to a temporary location, committed atomically
 *       ({@link AtomicOutput});</li>
 *   <li>aggregate the committed output into the report ({@link ThroughputReport}).</li>
 * </ol>
 * Exit codes of {@link #main}: 0 done (even if some documents have error rows), 1 failure, 2 bad configuration.
 */
public final class SummarizeJob {

    private static final Logger LOG = LogManager.getLogger(SummarizeJob.class);

    private SummarizeJob() {
    }

    /** spark-submit entry point. */
    public static void main(String[] args) {
        if (Arrays.asList(args).contains("--help")) {
            System.out.println(JobConfigLoader.usage());
            return;
        }
        JobConfig config;
        try {
            config = JobConfigLoader.load(args);
        } catch (ConfigException e) {
            System.err.println("summarize: " + e.getMessage());
            System.exit(2);
            return;
        }
        int code;
        SparkSession spark = SparkSession.builder()
            .config(SparkSettings.apply(new SparkConf()))
            .appName("reviver-summarize")
            .getOrCreate();
        try {
            ThroughputReport report = run(spark, config);
            System.out.println(report.toText());
            code = 0;
        } catch (ConfigException e) {
            System.err.println("summarize: " + e.getMessage());
            code = 2;
        } catch (Exception e) { // SparkException is checked but thrown undeclared from Scala
            LOG.error("summarize failed", e);
            System.err.println("summarize: failed: " + e);
            code = 1;
        } finally {
            spark.stop();
            ReplicaCache.jvm().releaseAll();
        }
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Runs the job on an existing session (which must have {@link SparkSettings} applied).
     *
     * @return the report of the committed output
     * @throws ConfigException if the output exists (without overwrite) or the input has the wrong columns
     */
    public static ThroughputReport run(SparkSession spark, JobConfig config) {
        long t0 = System.nanoTime();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JobPlan plan = new JobPlan(config, UUID.randomUUID().toString(), kvBytesPerTask(sc.getConf(), config));
        LOG.info("job {}: model {}, input {} ({}), output {} ({}), press {} budget {}, max new tokens {}, KV bytes "
                + "per task {}", plan.jobId(), config.model(), config.input(), config.inputFormat().configName(),
            config.output(), config.outputFormat().configName(), config.press(), config.budget(),
            config.maxNewTokens(), plan.kvBytesPerTask());
        AtomicOutput output = new AtomicOutput(config, plan.jobId(), sc.hadoopConfiguration());
        Broadcast<HadoopConfSnapshot> hadoopConf = sc.broadcast(new HadoopConfSnapshot(sc.hadoopConfiguration()));
        JavaRDD<DocumentWork> measured = null;
        try {
            // 1. Read and number the documents.
            stage(sc, "reviver-read", "Read and number the corpus " + config.input());
            JavaRDD<DocumentWork> documents = CorpusReader.read(spark, config, hadoopConf).javaRDD().zipWithIndex()
                .map(t -> new DocumentWork(t._2(), t._1().getString(0), t._1().getString(1), -1, -1))
                .setName("documents of " + config.input());

            // 2. Measure in tokens (loads the model replica on each executor).
            stage(sc, "reviver-measure", "Measure documents in tokens");
            measured = documents.mapPartitions(new MeasurePartition(plan, hadoopConf))
                .setName("documents measured in tokens").persist(StorageLevel.MEMORY_AND_DISK());
            List<Tuple2<Long, Long>> costs = measured.mapToPair(d -> new Tuple2<>(d.index(), d.cost())).collect();
            long[] cost = new long[costs.size()];
            for (Tuple2<Long, Long> c : costs) {
                cost[(int) (long) c._1()] = c._2();
            }

            // 3. Plan token-balanced partitions.
            int partitions = config.partitions() > 0 ? config.partitions() : 2 * sc.defaultParallelism();
            partitions = Math.max(1, Math.min(partitions, cost.length));
            int[] assignment = TokenBalancer.assign(cost, partitions);
            long[] loads = TokenBalancer.loads(cost, assignment, partitions);
            LOG.info("job {}: {} documents, {} cost tokens in {} partitions (heaviest {}, lightest {})", plan.jobId(),
                cost.length, Arrays.stream(cost).sum(), partitions, Arrays.stream(loads).max().orElse(0),
                Arrays.stream(loads).min().orElse(0));

            // 4. Summarise and commit.
            stage(sc, "reviver-summarize", String.format(Locale.ROOT, "Summarize %d documents (press %s, budget %s)",
                cost.length, config.press(), config.budget()));
            LongAccumulator done = sc.sc().longAccumulator("documents summarized");
            JavaRDD<Row> rows = measured.mapToPair(d -> new Tuple2<>(d.index(), d))
                .repartitionAndSortWithinPartitions(new IndexPartitioner(assignment, partitions))
                .values()
                .mapPartitions(new SummarizePartition(plan, hadoopConf, done))
                .setName("summaries");
            ProgressReporter progress = new ProgressReporter(sc.sc(), done, cost.length, config.progressSeconds());
            try {
                output.write(spark.createDataFrame(rows, OutputSchema.SCHEMA), config);
            } finally {
                progress.close();
            }

            // 5. Report from what was committed.
            stage(sc, "reviver-report", "Aggregate the throughput report");
            Dataset<Row> committed = switch (config.outputFormat()) {
                case PARQUET -> spark.read().parquet(output.location());
                case JSONL -> spark.read().schema(OutputSchema.SCHEMA).json(output.location());
            };
            ThroughputReport report = ThroughputReport.of(committed, plan, output.location(), partitions, loads,
                (System.nanoTime() - t0) / 1e9);
            output.writeReport(report.toJson());
            LOG.info("job {} done: {}", plan.jobId(), report.toJson().strip());
            return report;
        } finally {
            output.abort();
            if (measured != null) {
                measured.unpersist(false);
            }
            hadoopConf.destroy();
            sc.clearJobGroup();
        }
    }

    /** Names the Spark job group, its description and the stage names shown in the Spark UI. */
    private static void stage(JavaSparkContext sc, String group, String description) {
        sc.setJobGroup(group, description, false);
        sc.setCallSite(description);
    }

    /**
     * The KV-cache bytes one task may use: {@code kv-memory} divided by the tasks an executor runs at once
     * ({@code spark.executor.cores / spark.task.cpus}; in local mode the local thread count).
     */
    static long kvBytesPerTask(SparkConf conf, JobConfig config) {
        int cores;
        String master = conf.get("spark.master", "local[1]");
        if (conf.contains("spark.executor.cores")) {
            cores = conf.getInt("spark.executor.cores", 1);
        } else if (master.startsWith("local")) {
            cores = localThreads(master);
        } else {
            cores = 1;
        }
        int perTask = Math.max(1, conf.getInt("spark.task.cpus", 1));
        return Math.max(1, config.kvMemoryBytes() / Math.max(1, cores / perTask));
    }

    private static int localThreads(String master) {
        int open = master.indexOf('[');
        if (open < 0) {
            return 1;
        }
        String n = master.substring(open + 1, master.indexOf(']', open) < 0 ? master.length()
            : master.indexOf(']', open)).split(",")[0].trim();
        if (n.equals("*")) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            return Math.max(1, Integer.parseInt(n));
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
