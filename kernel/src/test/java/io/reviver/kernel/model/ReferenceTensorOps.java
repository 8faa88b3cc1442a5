package io.reviver.kernel.model;

import io.reviver.kernel.tensor.QuantizedMatrix;
import io.reviver.kernel.tensor.TensorOps;
import java.nio.ByteBuffer;

/**
 * Test-only, deliberately plain TensorOps: dequantises each weight row (F32, Q8_0, Q4_0) and takes float dot
 * products. Used until the production JavaTensorOps is available, and as a cross-check of it.
 */
final class ReferenceTensorOps implements TensorOps {

    @Override
    public String describe() {
        return "test reference (dequantise + scalar dot)";
    }

    @Override
    public void matmul(QuantizedMatrix w, float[] x, int n, float[] out) {
        float[] row = new float[w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            dequantizeRow(w, r, row, 0);
            for (int t = 0; t < n; t++) {
                float s = 0;
                for (int c = 0; c < w.cols(); c++) {
                    s += row[c] * x[t * w.cols() + c];
                }
                out[t * w.rows() + r] = s;
            }
        }
    }

    @Override
    public void dequantizeRow(QuantizedMatrix w, int row, float[] out, int off) {
        ByteBuffer b = w.data();
        int base = (int) (row * w.rowBytes());
        switch (w.type()) {
            case F32 -> {
                for (int c = 0; c < w.cols(); c++) {
                    out[off + c] = b.getFloat(base + 4 * c);
                }
            }
            case Q8_0 -> {
                for (int blk = 0; blk < w.cols() / 32; blk++) {
                    int p = base + blk * 34;
                    float d = halfToFloat(b.getShort(p));
                    for (int i = 0; i < 32; i++) {
                        out[off + blk * 32 + i] = d * b.get(p + 2 + i);
                    }
                }
            }
            case Q4_0 -> {
                for (int blk = 0; blk < w.cols() / 32; blk++) {
                    int p = base + blk * 18;
                    float d = halfToFloat(b.getShort(p));
                    for (int i = 0; i < 16; i++) {
                        int q = b.get(p + 2 + i) & 0xFF;
                        out[off + blk * 32 + i] = d * ((q & 0x0F) - 8);
                        out[off + blk * 32 + 16 + i] = d * ((q >>> 4) - 8);
                    }
                }
            }
            default -> throw new UnsupportedOperationException("test ops: " + w.type());
        }
    }

    /** IEEE binary16 to float. */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits >>> 15) << 31;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            return (sign != 0 ? -1 : 1) * mant * 0x1p-24f;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    @Override
    public void close() {
    }
}
