package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ContentHash;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

/** The job's Kryo setup: registration required, project classes round-trip, an unregistered class is refused. */
class KryoRegistrationTest {

    private static SerializerInstance kryo() {
        return new KryoSerializer(SparkSettings.apply(new SparkConf(false))).newInstance();
    }

    private static <T> T roundTrip(SerializerInstance s, T value) {
        ByteBuffer bytes = s.serialize(value, ClassTag$.MODULE$.apply(Object.class));
        return s.deserialize(bytes, ClassTag$.MODULE$.apply(Object.class));
    }

    @Test
    void projectClassesRoundTrip() {
        SerializerInstance s = kryo();
        DocumentWork d = roundTrip(s, DocumentWork.read(7, "doc-7", "text é ✓", null).measured(42, 99));
        assertEquals(7, d.index());
        assertEquals("doc-7", d.id());
        assertEquals("text é ✓", d.text());
        assertEquals(ContentHash.sha256("text é ✓"), d.contentSha256());
        assertEquals(42, d.tokens());
        assertEquals(99, d.cost());
        DocumentWork nulls = roundTrip(s, DocumentWork.read(1, null, null, "invalid UTF-8 at byte 3"));
        assertNull(nulls.id());
        assertNull(nulls.text());
        assertNull(nulls.contentSha256());
        assertEquals("invalid UTF-8 at byte 3", nulls.problem());

        JobConfig c = JobConfigLoader.fromValues(Map.of("model", "/m.gguf", "input", "/in", "output", "/out"));
        assertEquals(c, roundTrip(s, c));
        Configuration hc = new Configuration(false);
        hc.set("fs.s3a.endpoint", "http://127.0.0.1:9000");
        assertEquals("http://127.0.0.1:9000", roundTrip(s, new HadoopConfSnapshot(hc)).get().get("fs.s3a.endpoint"));
    }

    /** A class nobody registered. */
    static final class Unregistered {
        int x = 1;
    }

    @Test
    void unregisteredClassIsRefused() {
        Exception e = assertThrows(Exception.class, () -> roundTrip(kryo(), new Unregistered()));
        assertTrue(String.valueOf(e.getMessage()).contains("Class is not registered"), e.getMessage());
    }
}
