package io.reviver.modelstore.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelLocationTest {
    private static final String SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @Test
    void plainPathsAreLocalAndKeptAsGiven() {
        ModelLocation rel = ModelLocation.parse("  models/tiny.gguf ");
        assertTrue(rel.isLocal());
        assertEquals(Path.of("models/tiny.gguf"), rel.localPath());
        assertEquals("tiny.gguf", rel.fileName());
        assertEquals(Optional.empty(), rel.expectedSha256());

        ModelLocation abs = ModelLocation.parse("/data/m/llama.gguf");
        assertTrue(abs.isLocal());
        assertEquals(Path.of("/data/m/llama.gguf"), abs.localPath());
        assertThrows(IllegalStateException.class, abs::uri);

        // One-letter "scheme" is a Windows drive letter, and ./ protects a relative name containing ':'.
        assertTrue(ModelLocation.parse("C:/models/m.gguf").isLocal());
        assertTrue(ModelLocation.parse("./ab:c.gguf").isLocal());
    }

    @Test
    void urisAreNormalised() {
        ModelLocation hdfs = ModelLocation.parse("HDFS://NameNode.Example:8020/a/./b/../m.gguf");
        assertFalse(hdfs.isLocal());
        assertEquals(URI.create("hdfs://namenode.example:8020/a/m.gguf"), hdfs.uri());
        assertEquals("hdfs://namenode.example:8020/a/m.gguf", hdfs.toString());
        assertEquals("m.gguf", hdfs.fileName());
        assertEquals(URI.create("hdfs://namenode.example:8020/a/m.gguf.sha256"), hdfs.sidecarUri());
        assertThrows(IllegalStateException.class, hdfs::localPath);

        assertEquals(URI.create("s3a://bucket/models/x.gguf"),
                ModelLocation.parse("S3A://bucket/models//x.gguf").uri());
        // Both spellings of a local-file URI name the same object, hence the same cache entry.
        assertEquals(ModelLocation.parse("file:///tmp/m.gguf"), ModelLocation.parse("file:/tmp/m.gguf"));
        // Percent-encoded characters survive normalisation.
        ModelLocation spaced = ModelLocation.parse("hdfs://nn/dir/my%20model.gguf");
        assertEquals("my model.gguf", spaced.fileName());
        assertEquals("hdfs://nn/dir/my%20model.gguf", spaced.toString());
        // Scheme-default authority (hdfs:/// uses fs.defaultFS) is allowed.
        assertEquals("hdfs:/m/x.gguf", ModelLocation.parse("hdfs:///m/x.gguf").toString());
    }

    @Test
    void expectedShaIsValidatedAndLowerCased() {
        ModelLocation loc = ModelLocation.parse("hdfs://nn/m.gguf", SHA.toUpperCase());
        assertEquals(Optional.of(SHA), loc.expectedSha256());
        assertEquals(loc, ModelLocation.parse("hdfs://nn/m.gguf").withExpectedSha256(SHA));
        assertEquals(Optional.empty(), loc.withExpectedSha256(" ").expectedSha256());
        assertEquals(Optional.of(SHA), ModelLocation.ofLocal(Path.of("m.gguf"), SHA).expectedSha256());

        String shortSha = SHA.substring(1);
        ModelLocationException tooShort = assertThrows(ModelLocationException.class,
                () -> ModelLocation.parse("m.gguf", shortSha));
        assertTrue(tooShort.getMessage().contains(shortSha), tooShort.getMessage());
        String notHex = "g" + SHA.substring(1);
        ModelLocationException bad = assertThrows(ModelLocationException.class,
                () -> ModelLocation.parse("m.gguf", notHex));
        assertTrue(bad.getMessage().contains(notHex), bad.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"hdfs://nn/models/", "s3a://bucket", "s3a://bucket/", "hdfs://nn/a b.gguf",
        "mailto:someone", "hdfs://nn/m.gguf?version=2", "hdfs://nn/m.gguf#frag", "file:relative/m.gguf",
        "hdfs://nn/../m.gguf", "hdfs://nn/models/sub/..", "hdfs://nn/models/."})
    void badUrisAreTypedErrorsNamingTheValue(String text) {
        ModelLocationException e = assertThrows(ModelLocationException.class, () -> ModelLocation.parse(text));
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }

    @Test
    void emptyNullAndInvalidPathsAreTypedErrors() {
        assertThrows(ModelLocationException.class, () -> ModelLocation.parse(null));
        assertThrows(ModelLocationException.class, () -> ModelLocation.parse(""));
        assertThrows(ModelLocationException.class, () -> ModelLocation.parse("   "));
        ModelLocationException nul = assertThrows(ModelLocationException.class,
                () -> ModelLocation.parse("models/a\0b.gguf"));
        assertTrue(nul.getMessage().contains("models/a"), nul.getMessage());
    }

    @Test
    void survivesJavaSerialisation() throws Exception {
        for (ModelLocation loc : new ModelLocation[] {
            ModelLocation.parse("hdfs://nn:8020/m/x.gguf", SHA), ModelLocation.parse("/data/x.gguf")}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(loc);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                assertEquals(loc, in.readObject());
            }
        }
    }
}
