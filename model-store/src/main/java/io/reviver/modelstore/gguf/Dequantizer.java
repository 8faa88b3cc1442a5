package io.reviver.modelstore.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Scalar reference decoding of ggml tensor encodings to float32: the oracle the kernel's fast quantised
 * products are tested against, so it favours clarity over speed. Arithmetic follows ggml's
 * {@code dequantize_row_*} in float32 and in the same order, so results are bit-identical to ggml's.
 * Block layouts are described on {@link GgmlType}.
 */
public final class Dequantizer {

    private Dequantizer() {
    }

    /** Decodes the first {@code n} elements of {@code raw} (read from its index 0, absolute gets). */
    public static float[] dequantize(GgmlType type, ByteBuffer raw, int n) {
        float[] out = new float[n];
        dequantizeRow(type, raw, 0, n, out, 0);
        return out;
    }

    /**
     * Decodes elements {@code [elementOffset, elementOffset + n)} of {@code raw} into
     * {@code out[outOff, outOff + n)}. For block types both {@code elementOffset} and {@code n} must be
     * multiples of the block size.
     *
     * @throws IllegalArgumentException if the range is not block-aligned or exceeds the buffer
     */
    public static void dequantizeRow(GgmlType type, ByteBuffer raw, long elementOffset, int n, float[] out, int outOff) {
        int bs = type.blockSize();
        if (elementOffset % bs != 0 || n % bs != 0) {
            throw new IllegalArgumentException(type + ": range [" + elementOffset + ", +" + n
                + ") is not aligned to the block size " + bs);
        }
        long byteStart = type.byteSize(elementOffset);
        long byteEnd = byteStart + type.byteSize(n);
        if (byteEnd > raw.limit()) {
            throw new IllegalArgumentException(type + ": range ends at byte " + byteEnd + " beyond the buffer's "
                + raw.limit());
        }
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = (int) byteStart;
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) out[outOff + i] = b.getFloat(p + 4 * i);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[outOff + i] = f16ToF32(b.getShort(p + 2 * i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[outOff + i] = Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xFFFF) << 16);
            }
            case Q8_0 -> {
                for (int blk = 0; blk < n / 32; blk++, p += 34) {
                    float d = f16ToF32(b.getShort(p));
                    for (int j = 0; j < 32; j++) out[outOff + blk * 32 + j] = b.get(p + 2 + j) * d;
                }
            }
            case Q4_0 -> {
                for (int blk = 0; blk < n / 32; blk++, p += 18) {
                    float d = f16ToF32(b.getShort(p));
                    int o = outOff + blk * 32;
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(p + 2 + j) & 0xFF;
                        out[o + j] = ((q & 0x0F) - 8) * d;
                        out[o + j + 16] = ((q >>> 4) - 8) * d;
                    }
                }
            }
            case Q4_K -> {
                for (int blk = 0; blk < n / 256; blk++, p += 144) {
                    decodeQ4K(b, p, out, outOff + blk * 256);
                }
            }
            case Q6_K -> {
                for (int blk = 0; blk < n / 256; blk++, p += 210) {
                    decodeQ6K(b, p, out, outOff + blk * 256);
                }
            }
            default -> throw new AssertionError(type);
        }
    }

    /** Q4_K block at byte {@code p}: d, dmin (fp16), scales[12], qs[128]. */
    private static void decodeQ4K(ByteBuffer b, int p, float[] out, int o) {
        float d = f16ToF32(b.getShort(p));
        float dmin = f16ToF32(b.getShort(p + 2));
        int scales = p + 4;
        int qs = p + 16;
        int[] sm = new int[2];
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, qs += 32) {
            scaleMinK4(b, scales, is, sm);
            float d1 = d * sm[0];
            float m1 = dmin * sm[1];
            scaleMinK4(b, scales, is + 1, sm);
            float d2 = d * sm[0];
            float m2 = dmin * sm[1];
            for (int l = 0; l < 32; l++) out[o + j + l] = d1 * (b.get(qs + l) & 0x0F) - m1;
            for (int l = 0; l < 32; l++) out[o + j + 32 + l] = d2 * ((b.get(qs + l) & 0xFF) >>> 4) - m2;
        }
    }

    /**
     * The 6-bit scale and min of sub-block {@code j} (0..7) packed in the 12 scale bytes at {@code s}:
     * sub-blocks 0..3 use the low 6 bits of bytes j and j+4; 4..7 combine a nibble of byte j+4 with the top two
     * bits of bytes j−4 and j.
     */
    static void scaleMinK4(ByteBuffer b, int s, int j, int[] scaleMin) {
        if (j < 4) {
            scaleMin[0] = b.get(s + j) & 63;
            scaleMin[1] = b.get(s + j + 4) & 63;
        } else {
            int qj4 = b.get(s + j + 4) & 0xFF;
            scaleMin[0] = (qj4 & 0x0F) | (((b.get(s + j - 4) & 0xFF) >>> 6) << 4);
            scaleMin[1] = (qj4 >>> 4) | (((b.get(s + j) & 0xFF) >>> 6) << 4);
        }
    }

    /** Q6_K block at byte {@code p}: ql[128], qh[64], scales[16] (int8), d (fp16). */
    private static void decodeQ6K(ByteBuffer b, int p, float[] out, int o) {
        float d = f16ToF32(b.getShort(p + 208));
        int ql = p;
        int qh = p + 128;
        int sc = p + 192;
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8, o += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = b.get(qh + l) & 0xFF;
                int lo0 = b.get(ql + l) & 0xFF;
                int lo32 = b.get(ql + l + 32) & 0xFF;
                int q1 = ((lo0 & 0x0F) | ((h & 3) << 4)) - 32;
                int q2 = ((lo32 & 0x0F) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((lo32 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                out[o + l] = d * b.get(sc + is) * q1;
                out[o + l + 32] = d * b.get(sc + is + 2) * q2;
                out[o + l + 64] = d * b.get(sc + is + 4) * q3;
                out[o + l + 96] = d * b.get(sc + is + 6) * q4;
            }
        }
    }

    /** IEEE half-precision bits to float (exact, including subnormals, infinities and NaN). */
    public static float f16ToF32(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal or zero: mant · 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
