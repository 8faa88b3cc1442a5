package io.reviver.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;

/**
 * The driver's Hadoop configuration (including {@code spark.hadoop.*} settings such as s3a endpoints), shipped to
 * executors in a broadcast so that they fetch the model with the same FileSystem settings as the driver reads
 * the corpus. Credentials are not copied from files: the s3a provider chain resolves them on each executor unless
 * the submitter put them in the Spark configuration.
 */
public final class HadoopConfSnapshot implements Serializable {
    private static final long serialVersionUID = 1L;

    private transient Configuration conf;

    public HadoopConfSnapshot(Configuration conf) {
        this.conf = new Configuration(conf);
    }

    /** The configuration (do not modify: it is shared by the tasks of a JVM). */
    public Configuration get() {
        return conf;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
