package io.reviver.modelstore.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reader tests: a fixture written by the independent numpy writer (python/make_gguf_fixtures.py) with expected
 * values decoded in numpy, Java writer round trips, and a file larger than 2 GiB (sparse).
 */
class GgufFileTest {

    @TempDir
    Path tmp;

    private static final String[] TENSORS = {"t_f32", "t_f16", "t_bf16", "t_q8_0", "t_q4_0", "t_q4_k", "t_q6_k"};

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void readsPythonFixtureBitExactly(int version) throws Exception {
        GgufTestSupport.runPython(GgufTestSupport.repoRoot().resolve("python/make_gguf_fixtures.py"), tmp.toString(),
            "--version", String.valueOf(version));
        try (GgufFile f = GgufFile.open(tmp.resolve("fixture.gguf"))) {
            assertEquals(version, f.version());
            GgufMetadata m = f.metadata();
            assertEquals("llama", m.getString("general.architecture"));
            assertEquals(200, m.getLong("test.u8"));
            assertEquals(-100, m.getLong("test.i8"));
            assertEquals(60000, m.getLong("test.u16"));
            assertEquals(-30000, m.getLong("test.i16"));
            assertEquals(4_000_000_000L, m.getLong("test.u32"));
            assertEquals(-2_000_000_000L, m.getLong("test.i32"));
            assertEquals(0.15625, m.getDouble("test.f32"));
            assertTrue(m.getBoolean("test.bool", false));
            assertEquals("héllo ✓ 🌍", m.getString("test.string"));
            assertEquals("9223372036854775813", Long.toUnsignedString(m.getLong("test.u64")));
            assertEquals(-(1L << 40), m.getLong("test.i64"));
            assertEquals(2.5e-300, m.getDouble("test.f64"));
            assertArrayEquals(new String[] {"a", "", "ü", "<0x0A>"}, m.getStringArray("test.arr_str"));
            assertArrayEquals(new float[] {1.5f, -2.25f, 3.0f}, m.getFloatArray("test.arr_f32"));
            assertArrayEquals(new long[] {1, -2, 3, Integer.MAX_VALUE}, m.getLongArray("test.arr_i32"));
            assertArrayEquals(new long[] {0, 255}, m.getLongArray("test.arr_u8"));
            GgufMetadata.Value nested = m.require("test.nested");
            assertEquals(GgufValueType.ARRAY, nested.elementType());
            GgufMetadata.Value[] inner = (GgufMetadata.Value[]) nested.value();
            assertArrayEquals(new long[] {1, 2, 3}, (long[]) inner[0].value());
            assertArrayEquals(new long[] {-4}, (long[]) inner[1].value());

            for (String name : TENSORS) {
                GgufTensorInfo t = f.tensor(name);
                assertArrayEquals(new long[] {512, 3}, t.shape(), name);
                float[] got = Dequantizer.dequantize(t.type(), f.data(t), (int) t.elementCount());
                float[] want = readF32(tmp.resolve(name + ".f32"));
                for (int i = 0; i < want.length; i++) {
                    // bit-exact: numpy decodes in float32 in ggml's operation order
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                        name + "[" + i + "]: want " + want[i] + " got " + got[i]);
                }
                // row-wise decoding agrees with whole-tensor decoding
                float[] row = new float[512];
                Dequantizer.dequantizeRow(t.type(), f.data(t), 512, 512, row, 0);
                for (int i = 0; i < 512; i++) {
                    assertEquals(got[512 + i], row[i], name);
                }
            }
        }
    }

    static float[] readF32(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    @Test
    void javaWriterRoundTrip() throws Exception {
        GgufMetadata meta = GgufMetadata.builder()
            .putString("general.architecture", "llama")
            .putUint32("general.alignment", 64)
            .putStringArray("tokenizer.ggml.tokens", new String[] {"a", "b", "ĠΩ"})
            .putFloat32Array("tokenizer.ggml.scores", new float[] {0f, -1.5f, 2f})
            .putInt32Array("tokenizer.ggml.token_type", new int[] {1, 1, 3})
            .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .putBool("x.flag", true)
            .build();
        Random rnd = new Random(11);
        float[] w = new float[64 * 5];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        byte[] q8 = new byte[34 * 2];
        rnd.nextBytes(q8);
        q8[0] = 0x00;
        q8[1] = 0x3c; // scale 1.0
        q8[34] = 0x00;
        q8[35] = 0x38; // scale 0.5
        Path file = tmp.resolve("rt.gguf");
        new GgufWriter(meta).addF32("w", new long[] {64, 5}, w).add("q", new long[] {64}, GgmlType.Q8_0, q8).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataStart() % 64);
            assertEquals(meta.keys(), f.metadata().keys());
            assertArrayEquals(new String[] {"a", "b", "ĠΩ"}, f.metadata().getStringArray("tokenizer.ggml.tokens"));
            assertArrayEquals(new float[] {0f, -1.5f, 2f}, f.metadata().getFloatArray("tokenizer.ggml.scores"));
            assertEquals(1e-5f, (float) f.metadata().getDouble("llama.attention.layer_norm_rms_epsilon"));
            assertArrayEquals(w, Dequantizer.dequantize(GgmlType.F32, f.data(f.tensor("w")), w.length));
            float[] q = Dequantizer.dequantize(GgmlType.Q8_0, f.data(f.tensor("q")), 64);
            for (int i = 0; i < 32; i++) {
                assertEquals(q8[2 + i] * 1.0f, q[i]);
                assertEquals(q8[36 + i] * 0.5f, q[32 + i]);
            }
            assertEquals(0, f.tensor("q").dataOffset() % 64);
            ByteBuffer d = f.data(f.tensor("q"));
            assertTrue(d.isReadOnly());
            assertEquals(68, d.remaining());
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> f.tensor("nope"));
            assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        }
    }

    @Test
    void f16ConversionCoversSpecialValues() {
        assertEquals(1.0f, Dequantizer.f16ToF32((short) 0x3c00));
        assertEquals(-2.0f, Dequantizer.f16ToF32((short) 0xc000));
        assertEquals(65504f, Dequantizer.f16ToF32((short) 0x7bff));
        assertEquals(0x1p-24f, Dequantizer.f16ToF32((short) 0x0001));
        assertEquals(Float.floatToIntBits(-0.0f), Float.floatToIntBits(Dequantizer.f16ToF32((short) 0x8000)));
        assertEquals(Float.POSITIVE_INFINITY, Dequantizer.f16ToF32((short) 0x7c00));
        assertTrue(Float.isNaN(Dequantizer.f16ToF32((short) 0x7e00)));
    }

    /** A tensor whose data starts beyond 2 GiB, in a sparse file (no disk used for the hole). */
    @Test
    void readsTensorBeyondTwoGibInSparseFile() throws Exception {
        GgufMetadata meta = GgufMetadata.builder().putString("general.architecture", "llama").build();
        long bigOffset = (1L << 31) + (1L << 20); // 2 GiB + 1 MiB, aligned
        float[] tail = {1.25f, -3.5f, 7f, 0.125f, 9f, -1f, 2f, 4f};
        // header written by hand so that tensor 'far' points beyond 2 GiB; 'near' is an ordinary tensor at 0
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new GgufWriter(meta).addF32("near", new long[] {8}, new float[8]).write(out);
        byte[] small = out.toByteArray();
        ByteBuffer head = ByteBuffer.allocate(small.length + 256).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(GgufFile.MAGIC).putInt(3).putLong(2).putLong(1);
        putString(head, "general.architecture");
        head.putInt(GgufValueType.STRING.id());
        putString(head, "llama");
        putString(head, "near");
        head.putInt(1).putLong(8).putInt(GgmlType.F32.id()).putLong(0);
        putString(head, "far");
        head.putInt(1).putLong(8).putInt(GgmlType.F32.id()).putLong(bigOffset);
        long dataStart = GgufFile.alignUp(head.position(), 32);
        Path file = tmp.resolve("big.gguf");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(head.array(), 0, head.position());
            raf.setLength(dataStart + bigOffset + 32);
            raf.seek(dataStart + bigOffset);
            ByteBuffer t = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : tail) t.putFloat(v);
            raf.write(t.array());
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(Files.size(file) > (1L << 31));
            assertArrayEquals(tail, Dequantizer.dequantize(GgmlType.F32, f.data(f.tensor("far")), 8));
            assertArrayEquals(new float[8], Dequantizer.dequantize(GgmlType.F32, f.data(f.tensor("near")), 8));
        }
    }

    static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }
}
