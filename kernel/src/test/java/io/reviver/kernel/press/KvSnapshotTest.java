package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Snapshot round trip: a compressed cache written mid-decode and read back continues with bit-identical logits;
 * corrupt, truncated, foreign or mismatched snapshots are rejected with messages naming the problem.
 */
class KvSnapshotTest {

    static final TestModels models = TestModels.shared();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kvreviver", "kvreviver:mode=signed,d=3,revive=true", "h2o", "snapkv"})
    void roundTripContinuesBitIdentically(String spec) throws IOException {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = PressTableTest.randomPrompt(160, 21, c.vocabSize());
        KvPress press = PressRegistry.create(spec, 0.2, null);
        PressContext ctx = models.model.pressContext(200, 160, 5);
        PressedKvCache cache = (PressedKvCache) press.newCache(ctx);
        LlamaModel.State state = m.newState(32);
        float[] logits = new float[c.vocabSize()];
        m.prefill(state, cache, prompt, 0, null, logits);
        press.compress(cache, prompt, m.tokenRunner(state));
        int pos = 160;
        for (; pos < 170; pos++) {
            m.decode(state, cache, PressTableTest.argmax(logits), pos, logits);
        }
        byte[] bytes = KvSnapshot.toBytes(cache);
        PressedKvCache copy = KvSnapshot.read(new ByteArrayInputStream(bytes), PressRegistry.create(spec, 0.2, null),
            m.keyRotation());
        assertEquals(cache.bytes(), copy.bytes());
        assertArrayEquals(bytes, KvSnapshot.toBytes(copy), "re-written snapshot identical");
        float[] a = logits.clone();
        float[] b = logits.clone();
        for (int p = pos; p < 190; p++) {
            m.decode(state, cache, PressTableTest.argmax(a), p, a);
            m.decode(state, copy, PressTableTest.argmax(b), p, b);
            assertArrayEquals(a, b, 0f, "logits at position " + p);
        }

        byte[] corrupt = bytes.clone();
        corrupt[bytes.length / 2] ^= 0x10;
        assertRejected(corrupt, press, "checksum mismatch");
        assertRejected(Arrays.copyOf(bytes, bytes.length - 20), press, "checksum mismatch");
        assertRejected(Arrays.copyOf(bytes, 6), press, "truncated");
        byte[] magic = bytes.clone();
        magic[0] = 'X';
        assertRejected(magic, press, "not a KV snapshot");
        assertRejected(bytes, PressRegistry.create("streaming_llm", 0.2, null), "was written by press");
        assertRejected(bytes, PressRegistry.create(spec, 0.3, null), "was written by press");
    }

    private static void assertRejected(byte[] bytes, KvPress press, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> KvSnapshot.read(new ByteArrayInputStream(bytes), press, models.model.keyRotation()));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
