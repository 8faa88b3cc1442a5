package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Credentials in URIs are redacted, including secrets with characters that break URI parsing. */
class RedactTest {

    @Test
    void userInfoIsRedacted() {
        assertEquals("s3a://***@bucket/corpus.jsonl", Redact.uri("s3a://AKIAEXAMPLE:wJalr/XUt+nFEMI@bucket/corpus.jsonl"));
        assertEquals("s3a://***@bucket/x", Redact.uri("s3a://AKIA:ab@cd@bucket/x"));
        assertEquals("s3a://bucket/a@b/c.txt", Redact.uri("s3a://bucket/a@b/c.txt"), "no user:secret, no change");
        assertEquals("/local/path/m.gguf", Redact.uri("/local/path/m.gguf"));
        assertEquals("hdfs://nn:8020/x", Redact.uri("hdfs://nn:8020/x"));
        assertNull(Redact.uri(null));
    }
}
