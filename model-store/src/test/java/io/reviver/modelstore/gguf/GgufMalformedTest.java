package io.reviver.modelstore.gguf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed GGUF files: each defect must give a {@link GgufFormatException} whose message names the offending
 * field, key or tensor and value; 200 seeded mutations of a valid file must give nothing but a clean open or a
 * GgufFormatException, quickly.
 */
class GgufMalformedTest {

    @TempDir
    Path tmp;

    /** A hand-assembled header so tests can break any single field. */
    static final class Header {
        int magic = GgufFile.MAGIC;
        int version = 3;
        Long tensorCountOverride;
        Long kvCountOverride;
        final List<byte[]> kvs = new ArrayList<>();
        final List<byte[]> tensors = new ArrayList<>();
        int dataBytes = 0;
        int alignment = 32;

        Header kv(String key, int type, Consumer<ByteBuffer> value) {
            ByteBuffer b = buf();
            putString(b, key);
            b.putInt(type);
            value.accept(b);
            kvs.add(Arrays.copyOf(b.array(), b.position()));
            return this;
        }

        Header tensor(String name, long[] dims, int type, long offset) {
            ByteBuffer b = buf();
            putString(b, name);
            b.putInt(dims.length);
            for (long d : dims) b.putLong(d);
            b.putInt(type).putLong(offset);
            tensors.add(Arrays.copyOf(b.array(), b.position()));
            return this;
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer b = buf();
            b.putInt(magic).putInt(version);
            b.putLong(tensorCountOverride != null ? tensorCountOverride : tensors.size());
            b.putLong(kvCountOverride != null ? kvCountOverride : kvs.size());
            out.write(b.array(), 0, b.position());
            kvs.forEach(out::writeBytes);
            tensors.forEach(out::writeBytes);
            int pad = (int) (GgufFile.alignUp(out.size(), alignment) - out.size());
            out.writeBytes(new byte[pad + dataBytes]);
            return out.toByteArray();
        }

        private static ByteBuffer buf() {
            return ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    /** A valid base: an architecture string, an int array and two F32 tensors of 32 elements. */
    static Header valid() {
        Header h = new Header();
        h.kv("general.architecture", GgufValueType.STRING.id(), b -> putString(b, "llama"));
        h.kv("llama.block_count", GgufValueType.UINT32.id(), b -> b.putInt(2));
        h.kv("tokenizer.ggml.token_type", GgufValueType.ARRAY.id(), b -> b.putInt(GgufValueType.INT32.id()).putLong(3).putInt(1).putInt(1).putInt(3));
        h.tensor("a", new long[] {32}, GgmlType.F32.id(), 0);
        h.tensor("b", new long[] {32}, GgmlType.F32.id(), 128);
        h.dataBytes = 256;
        return h;
    }

    private GgufFormatException expectError(byte[] bytes, String... mustMention) throws Exception {
        Path p = Files.write(tmp.resolve("bad.gguf"), bytes);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p).close());
        for (String s : mustMention) {
            assertTrue(e.getMessage().contains(s), "message '" + e.getMessage() + "' should mention '" + s + "'");
        }
        return e;
    }

    @Test
    void validBaseOpens() throws Exception {
        Path p = Files.write(tmp.resolve("ok.gguf"), valid().bytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(f.tensors().size() == 2);
        }
    }

    @Test
    void badMagic() throws Exception {
        Header h = valid();
        h.magic = 0x46554746; // "FGUF"
        expectError(h.bytes(), "bad magic", "FGUF");
    }

    @Test
    void unsupportedVersions() throws Exception {
        Header h = valid();
        h.version = 1;
        expectError(h.bytes(), "version 1");
        h.version = 4;
        expectError(h.bytes(), "version 4");
        h.version = Integer.reverseBytes(3);
        expectError(h.bytes(), "big-endian");
    }

    @Test
    void truncatedAnywhere() throws Exception {
        byte[] full = valid().bytes();
        for (int len : new int[] {0, 3, 7, 20, 30, 60, 100, full.length - 1}) {
            expectError(Arrays.copyOf(full, len), "truncated");
        }
    }

    @Test
    void absurdCounts() throws Exception {
        Header h = valid();
        h.tensorCountOverride = -1L;
        expectError(h.bytes(), "tensor count", "18446744073709551615");
        h = valid();
        h.kvCountOverride = 1L << 40;
        expectError(h.bytes(), "metadata key/value count", String.valueOf(1L << 40));
        h = valid();
        h.kv("x.big", GgufValueType.ARRAY.id(), b -> b.putInt(GgufValueType.UINT8.id()).putLong(Long.MAX_VALUE));
        expectError(h.bytes(), "'x.big'", String.valueOf(Long.MAX_VALUE));
        h = valid();
        h.kv("x.s", GgufValueType.STRING.id(), b -> b.putLong(1L << 50));
        expectError(h.bytes(), "'x.s'", String.valueOf(1L << 50));
    }

    @Test
    void unknownValueAndTensorTypes() throws Exception {
        Header h = valid();
        h.kv("x.weird", 77, b -> b.putInt(0));
        expectError(h.bytes(), "'x.weird'", "77");
        h = valid();
        h.tensor("blk.0.attn_q.weight", new long[] {256}, 13, 256);
        h.dataBytes = 1024;
        expectError(h.bytes(), "'blk.0.attn_q.weight'", "Q5_K", "13");
        h = valid();
        h.tensor("c", new long[] {32}, 999, 256);
        expectError(h.bytes(), "'c'", "999");
    }

    @Test
    void badShapes() throws Exception {
        Header h = valid();
        h.tensor("c", new long[] {}, GgmlType.F32.id(), 256);
        expectError(h.bytes(), "'c'", "0 dimensions");
        h = valid();
        h.tensor("c", new long[] {1, 1, 1, 1, 1}, GgmlType.F32.id(), 256);
        expectError(h.bytes(), "'c'", "5 dimensions");
        h = valid();
        h.tensor("c", new long[] {32, 0}, GgmlType.F32.id(), 256);
        expectError(h.bytes(), "'c'", "dimension 1 = 0");
        h = valid();
        h.tensor("c", new long[] {1L << 40, 1L << 40}, GgmlType.F32.id(), 256);
        expectError(h.bytes(), "'c'", "overflow");
        h = valid();
        h.tensor("q", new long[] {48}, GgmlType.Q8_0.id(), 256);
        expectError(h.bytes(), "'q'", "48", "block size 32");
    }

    @Test
    void badOffsets() throws Exception {
        Header h = valid();
        h.tensor("c", new long[] {32}, GgmlType.F32.id(), 250);
        expectError(h.bytes(), "'c'", "250", "alignment");
        h = valid();
        h.tensor("c", new long[] {32}, GgmlType.F32.id(), 1 << 20);
        expectError(h.bytes(), "'c'", "truncated");
        h = valid();
        h.tensor("c", new long[] {32}, GgmlType.F32.id(), 96);
        expectError(h.bytes(), "overlaps");
        h = valid();
        h.tensor("c", new long[] {32}, GgmlType.F32.id(), -32);
        expectError(h.bytes(), "'c'");
    }

    @Test
    void duplicatesAndEncoding() throws Exception {
        Header h = valid();
        h.kv("llama.block_count", GgufValueType.UINT32.id(), b -> b.putInt(3));
        expectError(h.bytes(), "duplicate metadata key 'llama.block_count'");
        h = valid();
        h.tensor("a", new long[] {32}, GgmlType.F32.id(), 256);
        h.dataBytes = 512;
        expectError(h.bytes(), "duplicate tensor name 'a'");
        h = valid();
        h.kvs.add(concat(le64(2), new byte[] {(byte) 0xC3, (byte) 0x28}, le32(GgufValueType.UINT8.id()), new byte[] {1}));
        expectError(h.bytes(), "UTF-8");
        h = valid();
        h.kv("general.alignment", GgufValueType.UINT32.id(), b -> b.putInt(48));
        expectError(h.bytes(), "'general.alignment'", "48");
        h = valid();
        h.kv("x.b", GgufValueType.BOOL.id(), b -> b.put((byte) 7));
        expectError(h.bytes(), "'x.b'", "7");
        h = valid();
        h.kv("x.deep", GgufValueType.ARRAY.id(), b -> b.putInt(9).putLong(1).putInt(9).putLong(1).putInt(9).putLong(1)
            .putInt(9).putLong(1).putInt(5).putLong(0));
        expectError(h.bytes(), "'x.deep'", "nests");
    }

    @Test
    void missingFileAndKeyAreNamed() throws Exception {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(tmp.resolve("nope.gguf")));
        assertTrue(e.getMessage().contains("nope.gguf"));
        Path p = Files.write(tmp.resolve("ok.gguf"), valid().bytes());
        try (GgufFile f = GgufFile.open(p)) {
            e = assertThrows(GgufFormatException.class, () -> f.metadata().getString("llama.context_length"));
            assertTrue(e.getMessage().contains("'llama.context_length'"));
            e = assertThrows(GgufFormatException.class, () -> f.metadata().getString("llama.block_count"));
            assertTrue(e.getMessage().contains("UINT32"), e.getMessage());
            e = assertThrows(GgufFormatException.class, () -> f.metadata().getInt("llama.block_count", 3, 10));
            assertTrue(e.getMessage().contains("= 2"), e.getMessage());
        }
    }

    /**
     * 200 seeded mutations of a model-like file (bit flips, extreme 64-bit values, truncations, duplicated
     * regions): every one opens cleanly (and all its tensors can be read and decoded) or throws
     * GgufFormatException — never another exception or error — within a time bound.
     */
    @Test
    void fuzzTwoHundredMutationsGiveOnlyTypedErrors() throws Exception {
        byte[] base = modelLikeFile();
        SplittableRandom rnd = new SplittableRandom(20261124L);
        int opened = 0;
        int rejected = 0;
        for (int i = 0; i < 200; i++) {
            byte[] m = mutate(base, rnd);
            Path p = Files.write(tmp.resolve("fuzz" + i + ".gguf"), m);
            final int idx = i;
            boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try (GgufFile f = GgufFile.open(p)) {
                    for (GgufTensorInfo t : f.tensors()) {
                        Dequantizer.dequantize(t.type(), f.data(t), (int) Math.min(t.elementCount(), 1 << 16));
                    }
                    return true;
                } catch (GgufFormatException e) {
                    if (e.getMessage() == null || e.getMessage().isBlank()) {
                        fail("mutation " + idx + ": empty message");
                    }
                    return false;
                } catch (Throwable t) {
                    throw new AssertionError("mutation " + idx + " raised " + t, t);
                }
            }, "mutation " + i + " took too long");
            if (ok) opened++; else rejected++;
        }
        // the mutations must actually exercise the error paths
        assertTrue(rejected >= 100, "only " + rejected + " of 200 mutations were rejected");
        System.out.println("fuzz: " + opened + " opened, " + rejected + " rejected with GgufFormatException");
    }

    private static byte[] modelLikeFile() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        String[] tokens = new String[300];
        float[] scores = new float[300];
        int[] types = new int[300];
        for (int i = 0; i < 300; i++) {
            tokens[i] = "tok" + i;
            scores[i] = (float) r.nextDouble();
            types[i] = 1;
        }
        GgufMetadata meta = GgufMetadata.builder()
            .putString("general.architecture", "llama").putUint32("llama.block_count", 1)
            .putUint32("llama.embedding_length", 64).putFloat32("llama.rope.freq_base", 10000f)
            .putStringArray("tokenizer.ggml.tokens", tokens).putFloat32Array("tokenizer.ggml.scores", scores)
            .putInt32Array("tokenizer.ggml.token_type", types).build();
        GgufWriter w = new GgufWriter(meta);
        w.add("token_embd.weight", new long[] {256, 2}, GgmlType.Q4_K, randomBytes(r, 2 * 144));
        w.add("blk.0.attn_q.weight", new long[] {256, 2}, GgmlType.Q6_K, randomBytes(r, 2 * 210));
        w.add("blk.0.attn_k.weight", new long[] {64, 2}, GgmlType.Q8_0, randomBytes(r, 4 * 34));
        w.add("blk.0.attn_v.weight", new long[] {64, 2}, GgmlType.Q4_0, randomBytes(r, 4 * 18));
        w.add("blk.0.ffn.weight", new long[] {64}, GgmlType.F16, randomBytes(r, 128));
        w.add("output_norm.weight", new long[] {64}, GgmlType.BF16, randomBytes(r, 128));
        w.addF32("output.weight", new long[] {64}, new float[64]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.write(out);
        return out.toByteArray();
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** Mutations concentrated on the header, where the parser makes its decisions. */
    private static byte[] mutate(byte[] base, SplittableRandom r) {
        byte[] m = base.clone();
        int header = Math.min(m.length, 4200); // tokens + tensor infos end around here
        switch (r.nextInt(5)) {
            case 0 -> { // a few random bit flips
                for (int k = 0, n = 1 + r.nextInt(4); k < n; k++) {
                    int pos = r.nextInt(header);
                    m[pos] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // an extreme 64-bit value written over a field-sized window
                long[] extremes = {-1L, Long.MAX_VALUE, Long.MIN_VALUE, 0L, 1L << 32, 0xFFFFFFFFL, 1L << 62};
                int pos = r.nextInt(header - 8);
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(pos, extremes[r.nextInt(extremes.length)]);
            }
            case 2 -> m = Arrays.copyOf(m, r.nextInt(m.length)); // truncation
            case 3 -> { // a header region duplicated over another
                int len = 1 + r.nextInt(64);
                int from = r.nextInt(header - len);
                int to = r.nextInt(header - len);
                System.arraycopy(base, from, m, to, len);
            }
            default -> { // a random 32-bit value over a field-sized window
                int pos = r.nextInt(header - 4);
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(pos, r.nextInt());
            }
        }
        return m;
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
