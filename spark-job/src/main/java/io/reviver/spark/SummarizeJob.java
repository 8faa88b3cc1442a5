package io.reviver.spark;

import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.TokenBalancer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * The summarisation job: one summary per document of a corpus plus a throughput report.
 *
 * <p>Run with {@code spark-submit --class io.reviver.spark.SummarizeJob reviver-spark-job.jar --model URI
 * --input URI --output URI [...]} (see {@link JobConfigLoader#usage()}). Steps, each a named Spark job group:
 * <ol>
 *   <li>check the input and the model on the driver ({@link DriverChecks});</li>
 *   <li>read the corpus, number and hash its documents ({@link CorpusReader}, {@link DocumentWork});</li>
 *   <li>with {@code resume}, leave out documents already done under the same configuration hash: in the
 *       committed output or in the progress records of an interrupted run ({@link ProgressStore});</li>
 *   <li>measure the rest in tokens with the executors' model replicas ({@link MeasurePartition});</li>
 *   <li>plan partitions of similar token cost on the driver ({@link TokenBalancer}) and shuffle the documents
 *       there, in corpus order within each partition ({@link IndexPartitioner});</li>
 *   <li>summarise, recording results as they are done ({@link SummarizePartition});</li>
 *   <li>write one row per distinct document (id and content hash) from the recorded results, deterministically
 *       ordered, to a temporary location committed atomically ({@link AtomicOutput}), then drop the records;</li>
 *   <li>write the report ({@link ThroughputReport}; also every {@code progress-seconds} while running, into
 *       the work directory).</li>
 * </ol>
 * A retried or speculative task, a lost executor or a re-run therefore never duplicates a document, and a re-run
 * over a complete output changes nothing in it.
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

    /** Output rows per file at most; files hold consecutive document indices, so the output is deterministic. */
    static final long ROWS_PER_FILE = 100_000;

    /**
     * Runs the job on an existing session (which must have {@link SparkSettings} applied).
     *
     * @return the report of the committed output
     * @throws ConfigException if the input or the model is missing or unusable, the output exists and may not be
     *                         resumed or overwritten, or the input has the wrong columns
     */
    public static ThroughputReport run(SparkSession spark, JobConfig config) {
        long t0 = System.nanoTime();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JobPlan plan = new JobPlan(config, UUID.randomUUID().toString(), kvBytesPerTask(sc.getConf(), config));
        Configuration hc = sc.hadoopConfiguration();
        LOG.info("job {}: model {}, input {} ({}), output {} ({}), press {} budget {}, max new tokens {}, KV bytes "
                + "per task {}, configuration hash {}", plan.jobId(), Redact.uri(config.model().toString()),
            Redact.uri(config.input()), config.inputFormat().configName(), Redact.uri(config.output()),
            config.outputFormat().configName(), config.press(), config.budget(), config.maxNewTokens(),
            plan.kvBytesPerTask(), plan.configHash());
        DriverChecks.check(config, hc);
        AtomicOutput output = new AtomicOutput(config, plan.jobId(), hc, plan.configHash());
        ProgressStore store = ProgressStore.of(plan);
        if (!config.resume()) {
            store.delete(hc);
        }
        Broadcast<HadoopConfSnapshot> hadoopConf = sc.broadcast(new HadoopConfSnapshot(hc));
        JobListener listener = new JobListener();
        sc.sc().addSparkListener(listener);
        JavaRDD<DocumentWork> documents = null;
        JavaPairRDD<Long, DocumentWork> measured = null;
        Broadcast<java.util.HashSet<String>> doneKeys = null;
        try {
            // 1. Read, number and hash the documents.
            stage(sc, "reviver-read", "Read and number the corpus " + Redact.uri(config.input()));
            // zipWithIndex numbers rows in file and partition order; reviver.limit keeps the first N of that order
            // (a DataFrame limit would pick rows in shuffle-fetch order, which may differ from run to run).
            long limit = config.limit() > 0 ? config.limit() : Long.MAX_VALUE;
            documents = CorpusReader.read(spark, config, hadoopConf).javaRDD().zipWithIndex()
                .filter(t -> t._2() < limit)
                .map(t -> DocumentWork.read(t._2(), t._1().getString(0), t._1().getString(1), t._1().getString(2)))
                .setName("documents of " + Redact.uri(config.input())).persist(StorageLevel.MEMORY_AND_DISK());
            long total = documents.count();

            // 2. What is already done under this configuration (resume): the committed output and the progress
            //    records of interrupted runs. Error rows are done again.
            Dataset<Row> previous = null;
            if (config.resume()) {
                Dataset<Row> old = output.exists() && !config.overwrite() ? readOutput(spark, config,
                    output.location()) : null;
                Dataset<Row> recorded = store.read(spark, hc);
                Dataset<Row> recordedRows = recorded == null ? null
                    : recorded.select(OutputSchema.SCHEMA.fieldNames()[0], tail(OutputSchema.SCHEMA.fieldNames()));
                previous = old == null ? recordedRows : recordedRows == null ? old : old.unionByName(recordedRows);
            }
            // Filtering keeps the corpus order and the stable indices: a recomputed partition is the same.
            JavaRDD<DocumentWork> todo = documents;
            if (previous != null) {
                java.util.HashSet<String> keys = new java.util.HashSet<>(previous
                    .filter(functions.col("config_sha256").equalTo(plan.configHash())
                        .and(functions.col("error").isNull()))
                    .javaRDD().map(OutputSchema::key).collect());
                doneKeys = sc.broadcast(keys);
                Broadcast<java.util.HashSet<String>> done = doneKeys;
                todo = documents.filter(d -> !done.value().contains(d.key()));
            }
            JavaPairRDD<Long, DocumentWork> keyed = todo.mapToPair(d -> new Tuple2<>(d.index(), d));
            long pending = todo.count();
            long skipped = total - pending;
            LOG.info("job {}: {} documents, {} already done, {} to summarize", plan.jobId(), total, skipped, pending);

            // 3. Measure in tokens (loads the model replica on each executor) and plan token-balanced partitions.
            int partitions = 0;
            long[] loads = new long[0];
            LongAccumulator done = sc.sc().longAccumulator("documents summarized");
            CollectionAccumulator<ExecutorSample> samples = sc.sc().collectionAccumulator("executor samples");
            List<double[]> timeline = new java.util.concurrent.CopyOnWriteArrayList<>();
            timeline.add(new double[] {0, 0});
            if (pending > 0) {
                stage(sc, "reviver-measure", "Measure documents in tokens");
                measured = keyed.mapPartitionsToPair(new MeasurePartition(plan, hadoopConf))
                    .setName("documents measured in tokens").persist(StorageLevel.MEMORY_AND_DISK());
                List<Tuple2<Long, Long>> costs = new ArrayList<>(
                    measured.map(t -> new Tuple2<>(t._1(), t._2().cost())).collect());
                costs.sort((x, y) -> Long.compare(x._1(), y._1()));
                long[] indices = new long[costs.size()];
                long[] cost = new long[costs.size()];
                for (int i = 0; i < cost.length; i++) {
                    indices[i] = costs.get(i)._1();
                    cost[i] = costs.get(i)._2();
                }
                partitions = config.partitions() > 0 ? config.partitions() : 2 * sc.defaultParallelism();
                partitions = Math.max(1, Math.min(partitions, cost.length));
                int[] assignment = TokenBalancer.assign(cost, partitions);
                loads = TokenBalancer.loads(cost, assignment, partitions);
                LOG.info("job {}: {} cost tokens in {} partitions (heaviest {}, lightest {})", plan.jobId(),
                    Arrays.stream(cost).sum(), partitions, Arrays.stream(loads).max().orElse(0),
                    Arrays.stream(loads).min().orElse(0));

                // 4. Summarise, recording each result in the progress store as it goes.
                stage(sc, "reviver-summarize", String.format(Locale.ROOT,
                    "Summarize %d documents (press %s, budget %s)", pending, config.press(), config.budget()));
                final long skippedFinal = skipped;
                final int partitionsFinal = partitions;
                final long[] loadsFinal = loads;
                ProgressReporter progress = new ProgressReporter(sc.sc(), done, pending, config.progressSeconds(),
                    (t, n) -> {
                        timeline.add(new double[] {t, n});
                        writeRunningReport(store, hc, plan, output.location(), total, skippedFinal, n,
                            samples.value(), listener, timeline, partitionsFinal, loadsFinal, t);
                    });
                try {
                    measured.repartitionAndSortWithinPartitions(new IndexPartitioner(indices, assignment, partitions))
                        .values()
                        .foreachPartition(new SummarizePartition(plan, hadoopConf, store, done, samples));
                } finally {
                    progress.close();
                }
            }

            // 5. The output: one row per distinct input document, from what was done before and now.
            stage(sc, "reviver-commit", "Write the output " + Redact.uri(config.output()));
            Dataset<Row> recorded = store.read(spark, hc);
            // Left as it is only when it holds exactly the current input's documents (the output reflects the input).
            boolean unchanged = pending == 0 && output.exists() && !config.overwrite() && recorded == null
                && readOutput(spark, config, output.location()).count()
                == documents.map(DocumentWork::key).distinct().count();
            if (!unchanged) {
                Dataset<Row> rows = total == 0 ? spark.createDataFrame(List.of(), OutputSchema.SCHEMA)
                    : finalRows(spark, plan, documents, previous, recorded);
                output.write(rows, config);
            } else {
                LOG.info("job {}: every document was already in {}; the output is left as it is", plan.jobId(),
                    Redact.uri(output.location()));
            }

            // 6. Report from what was committed and what this run recorded.
            stage(sc, "reviver-report", "Aggregate the throughput report");
            Dataset<Row> committed = readOutput(spark, config, output.location());
            ThroughputReport report = ThroughputReport.build(plan, "done", output.location(),
                counts(committed, pending, skipped), perExecutor(recorded, plan.jobId()), samples.value(),
                listener.snapshot(), timeline, partitions, loads, (System.nanoTime() - t0) / 1e9);
            output.writeReport(report.toJson(), report.toHtml());
            store.delete(hc);
            LOG.info("job {} done: {}", plan.jobId(), report.toText());
            return report;
        } finally {
            output.abort();
            sc.sc().removeSparkListener(listener);
            if (measured != null) {
                measured.unpersist(false);
            }
            if (documents != null) {
                documents.unpersist(false);
            }
            hadoopConf.destroy();
            if (doneKeys != null) {
                doneKeys.destroy();
            }
            sc.clearJobGroup();
        }
    }

    private static String[] tail(String[] a) {
        return Arrays.copyOfRange(a, 1, a.length);
    }

    /** The committed output as a table with {@link OutputSchema#SCHEMA}. */
    static Dataset<Row> readOutput(SparkSession spark, JobConfig config, String location) {
        return switch (config.outputFormat()) {
            case PARQUET -> spark.read().schema(OutputSchema.SCHEMA).parquet(location);
            case JSONL -> spark.read().schema(OutputSchema.SCHEMA).json(location);
        };
    }

    /**
     * One row per distinct (id, content) of the current input, numbered by its first position in the input, taken
     * from the results of this configuration (a success if any, else the lowest-index error), in files of
     * {@link #ROWS_PER_FILE} consecutive indices, sorted by index.
     */
    private static Dataset<Row> finalRows(SparkSession spark, JobPlan plan, JavaRDD<DocumentWork> documents,
                                          Dataset<Row> previous, Dataset<Row> recorded) {
        String hash = plan.configHash();
        String[] columns = OutputSchema.SCHEMA.fieldNames();
        Dataset<Row> results = recorded == null ? null : recorded.select(columns[0], tail(columns));
        if (previous != null) {
            results = results == null ? previous : results.unionByName(previous);
        }
        if (results == null) {
            throw new IllegalStateException("no results were recorded for " + documents.count() + " documents");
        }
        // Rows travel through the shuffles as plain value arrays (Kryo-registered), not as Spark Row objects.
        JavaPairRDD<String, Object[]> best = results.filter(functions.col("config_sha256").equalTo(hash)).javaRDD()
            .mapToPair(r -> new Tuple2<>(OutputSchema.key(r), values(r)))
            .reduceByKey(SummarizeJob::preferred);
        JavaPairRDD<String, Long> firstIndex = documents.mapToPair(d -> new Tuple2<>(d.key(), d.index()))
            .reduceByKey(Math::min);
        JavaPairRDD<String, Tuple2<Long, org.apache.spark.api.java.Optional<Object[]>>> joined =
            firstIndex.leftOuterJoin(best);
        long missing = joined.filter(t -> !t._2()._2().isPresent()).count();
        if (missing > 0) {
            throw new IllegalStateException(missing + " documents have no recorded result");
        }
        JavaRDD<Row> rows = joined.map(t -> {
            Object[] values = t._2()._2().get().clone();
            values[0] = t._2()._1();
            return org.apache.spark.sql.RowFactory.create(values);
        });
        long count = firstIndex.count();
        int files = (int) Math.max(1, (count + ROWS_PER_FILE - 1) / ROWS_PER_FILE);
        return spark.createDataFrame(rows, OutputSchema.SCHEMA)
            .withColumn("_file", functions.floor(functions.col("doc_index").divide(ROWS_PER_FILE)))
            .repartition(files, functions.col("_file"))
            .sortWithinPartitions("doc_index")
            .drop("_file");
    }

    private static Object[] values(Row r) {
        Object[] v = new Object[r.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.get(i);
        }
        return v;
    }

    /**
     * Of two results (output-column values) for one document: a success over an error, then the lower index,
     * then the smaller summary or error text.
     */
    private static Object[] preferred(Object[] a, Object[] b) {
        boolean aOk = a[10] == null;
        boolean bOk = b[10] == null;
        if (aOk != bOk) {
            return aOk ? a : b;
        }
        long ia = (Long) a[0];
        long ib = (Long) b[0];
        if (ia != ib) {
            return ia < ib ? a : b;
        }
        String sa = String.valueOf(a[aOk ? 4 : 10]);
        String sb = String.valueOf(b[bOk ? 4 : 10]);
        return sa.compareTo(sb) <= 0 ? a : b;
    }

    private static ThroughputReport.Counts counts(Dataset<Row> committed, long summarized, long skipped) {
        Row r = committed.agg(functions.count(functions.lit(1)), functions.count(functions.col("error")),
            functions.sum(functions.when(functions.col("chunks").gt(1), 1).otherwise(0))).first();
        Map<String, Long> errors = new java.util.TreeMap<>();
        for (Row e : committed.filter(functions.col("error").isNotNull())
            .select(functions.substring_index(functions.col("error"), ":", 1).as("reason"))
            .groupBy("reason").count().collectAsList()) {
            errors.put(e.getString(0), e.getLong(1));
        }
        return new ThroughputReport.Counts(r.getLong(0), r.getLong(1), r.isNullAt(2) ? 0 : r.getLong(2),
            summarized, skipped, errors);
    }

    /** This run's documents per executor, each document once. */
    private static List<ThroughputReport.ExecutorDocuments> perExecutor(Dataset<Row> recorded, String jobId) {
        List<ThroughputReport.ExecutorDocuments> out = new ArrayList<>();
        if (recorded == null) {
            return out;
        }
        Dataset<Row> mine = recorded.filter(functions.col("job_id").equalTo(jobId))
            .dropDuplicates("id", "content_sha256");
        for (Row r : mine.groupBy("executor_id", "host").agg(functions.count(functions.lit(1)),
            functions.count(functions.col("error")), functions.sum("input_tokens"), functions.sum("output_tokens"))
            .collectAsList()) {
            out.add(new ThroughputReport.ExecutorDocuments(r.getString(0), r.getString(1), r.getLong(2),
                r.getLong(3), r.isNullAt(4) ? 0 : r.getLong(4), r.isNullAt(5) ? 0 : r.getLong(5)));
        }
        return out;
    }

    /** The report while running: documents done so far and the executors' latest samples. */
    private static void writeRunningReport(ProgressStore store, Configuration hc, JobPlan plan, String output,
                                           long total, long skipped, long done, List<ExecutorSample> samples,
                                           JobListener listener, List<double[]> timeline, int partitions,
                                           long[] loads, double seconds) {
        try {
            Map<String, long[]> perExecutor = new java.util.TreeMap<>();
            Map<String, String> hosts = new java.util.HashMap<>();
            for (ExecutorSample s : samples) {
                perExecutor.computeIfAbsent(s.executorId(), k -> new long[1])[0] += s.documents();
                hosts.put(s.executorId(), s.host());
            }
            List<ThroughputReport.ExecutorDocuments> docs = new ArrayList<>();
            perExecutor.forEach((id, n) -> docs.add(new ThroughputReport.ExecutorDocuments(id, hosts.get(id), n[0],
                0, 0, 0)));
            ThroughputReport r = ThroughputReport.build(plan, "running", output,
                new ThroughputReport.Counts(skipped + done, 0, 0, done, skipped, Map.of()), docs, samples,
                listener.snapshot(), timeline, partitions, loads, seconds);
            store.writeReport(hc, r.toJson(), r.toHtml());
        } catch (RuntimeException e) {
            LOG.warn("job {}: could not write the running report: {}", plan.jobId(), e.toString());
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
