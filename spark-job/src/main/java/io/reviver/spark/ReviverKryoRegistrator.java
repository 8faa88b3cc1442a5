package io.reviver.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.reviver.modelstore.source.ModelLocation;
import io.reviver.spark.config.InputFormat;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.OutputFormat;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers every class the job sends through Kryo (the job runs with {@code spark.kryo.registrationRequired}),
 * so an unregistered class fails fast instead of silently writing its full class name with each record:
 * the project's own classes, and the Spark SQL internals its write and aggregation stages return to the driver
 * (registered by name because several are private Scala classes).
 */
public final class ReviverKryoRegistrator implements KryoRegistrator {

    /** Spark and Scala classes that reach Kryo in this job's stages but that Spark does not register itself. */
    static final String[] SPARK_CLASSES = {
        "org.apache.spark.sql.execution.datasources.WriteTaskResult",
        "org.apache.spark.sql.execution.datasources.BasicWriteTaskStats",
        "org.apache.spark.sql.execution.datasources.ExecutedWriteSummary",
        "org.apache.spark.internal.io.FileCommitProtocol$TaskCommitMessage",
        "org.apache.spark.sql.catalyst.InternalRow",
        "[Lorg.apache.spark.sql.catalyst.InternalRow;",
        "org.apache.spark.sql.catalyst.expressions.UnsafeRow",
        "[Lorg.apache.spark.sql.catalyst.expressions.UnsafeRow;",
        "org.apache.spark.sql.catalyst.expressions.GenericInternalRow",
        "org.apache.spark.sql.execution.joins.UnsafeHashedRelation",
        "org.apache.spark.sql.types.StructType",
        "[Lorg.apache.spark.sql.types.StructField;",
        "org.apache.spark.sql.types.StructField",
        "org.apache.spark.sql.types.Metadata",
        "org.apache.spark.sql.types.StringType",
        "org.apache.spark.sql.types.LongType$",
        "org.apache.spark.sql.types.IntegerType$",
        "org.apache.spark.sql.types.DoubleType$",
        "scala.collection.immutable.Set$EmptySet$",
        "scala.collection.immutable.Map$EmptyMap$",
        "scala.collection.immutable.ArraySeq$ofRef",
        "scala.collection.mutable.ArraySeq$ofRef",
        "scala.reflect.ClassTag$GenericClassTag",
        "scala.math.Ordering$Long$",
        "[Lscala.Tuple2;",
        "java.lang.Class",
        "[J",
        "[[B",
    };

    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(DocumentWork.class, new DocumentWork.KryoSer());
        kryo.register(HadoopConfSnapshot.class, new JavaSerializer());
        kryo.register(JobPlan.class, new JavaSerializer());
        kryo.register(ExecutorSample.class, new JavaSerializer());
        kryo.register(Object[].class); // output rows' values through the final shuffles
        kryo.register(java.util.HashSet.class); // keys of documents already done (resume), broadcast
        kryo.register(JobConfig.class, new JavaSerializer());
        kryo.register(ModelLocation.class, new JavaSerializer());
        kryo.register(InputFormat.class);
        kryo.register(OutputFormat.class);
        for (String name : SPARK_CLASSES) {
            try {
                kryo.register(Class.forName(name, false, Thread.currentThread().getContextClassLoader()));
            } catch (ClassNotFoundException e) {
                // Not in this Spark version: nothing of that class can reach Kryo either.
            }
        }
    }
}
