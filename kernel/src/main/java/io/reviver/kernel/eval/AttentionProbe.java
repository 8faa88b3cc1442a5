package io.reviver.kernel.eval;

import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.press.CountSketch;
import io.reviver.kernel.press.PressedKvCache;
import io.reviver.kernel.press.VagueStore;

/**
 * A diagnostic wrapper around a compressed cache with a vague store (KVReviver): at one query position it
 * measures, per (layer, KV head), the sketch's reconstruction error of the vague entries and the attention-output
 * error of that query against the true entries, both with the reconstructions (what KVReviver computes) and with
 * the vague entries dropped (what an evicting press computes). Everything else is delegated unchanged.
 *
 * <p>Errors are ratios of sums: key error {@code √(Σ‖k̂−k‖² / Σ‖k‖²)} over all vague entries of all heads (value
 * likewise); attention-output error is the mean over (layer, query head) of {@code ‖o − o_true‖ / ‖o_true‖}.
 */
final class AttentionProbe implements KvCache {

    /** Gives the true (uncompressed) key and value of a context position of one head. */
    interface Truth {
        /** Writes headSize floats each of the true key and value of {@code position}; false if unknown. */
        boolean read(int layer, int kvHead, int position, float[] key, float[] value);
    }

    private final PressedKvCache cache;
    private final Truth truth;
    private final int probePosition;
    private final int kvMul;
    private final int hs;
    double keyErrSq;
    double keyNormSq;
    double valueErrSq;
    double valueNormSq;
    double attnErrSum;
    double attnDropErrSum;
    int attnCount;
    double vaguePerBucketSum;
    int heads;

    AttentionProbe(PressedKvCache cache, Truth truth, int probePosition) {
        this.cache = cache;
        this.truth = truth;
        this.probePosition = probePosition;
        this.kvMul = cache.context().kvMul();
        this.hs = cache.headSize();
    }

    @Override
    public boolean observesQueries() {
        return true;
    }

    @Override
    public synchronized void observeQuery(int layer, int kvHead, int queryPosition, float[] q, int qOff) {
        if (queryPosition != probePosition) {
            return;
        }
        int n = cache.entryCount(layer, kvHead);
        float[] keys = new float[n * hs];
        float[] values = new float[n * hs];
        int[] positions = new int[n];
        cache.gather(layer, kvHead, keys, values, positions);
        PressedKvCache.HeadStore h = cache.head(layer, kvHead);
        int exact = h.count();
        VagueStore vague = h.vague();
        float[] trueKeys = keys.clone();
        float[] trueValues = values.clone();
        float[] k = new float[hs];
        float[] v = new float[hs];
        for (int i = exact; i < n; i++) {
            if (!truth.read(layer, kvHead, positions[i], k, v)) {
                continue; // a question token evicted during the question's prefill: not in the record
            }
            for (int c = 0; c < hs; c++) {
                double dk = keys[i * hs + c] - k[c];
                double dv = values[i * hs + c] - v[c];
                keyErrSq += dk * dk;
                valueErrSq += dv * dv;
                keyNormSq += (double) k[c] * k[c];
                valueNormSq += (double) v[c] * v[c];
            }
            System.arraycopy(k, 0, trueKeys, i * hs, hs);
            System.arraycopy(v, 0, trueValues, i * hs, hs);
        }
        if (vague instanceof CountSketch sk) {
            vaguePerBucketSum += vague.size() / (double) sk.width();
            heads++;
        }
        for (int g = 0; g < kvMul; g++) {
            int off = qOff + g * hs;
            double[] oTrue = attend(q, off, trueKeys, trueValues, positions, n, queryPosition);
            double[] oHat = attend(q, off, keys, values, positions, n, queryPosition);
            double[] oDrop = attend(q, off, keys, values, positions, exact, queryPosition);
            attnErrSum += relErr(oHat, oTrue);
            attnDropErrSum += relErr(oDrop, oTrue);
            attnCount++;
        }
    }

    /** Vague entries revived into the exact set so far, over all heads. */
    long revivals() {
        long r = 0;
        for (int l = 0; l < cache.nLayers(); l++) {
            for (int g = 0; g < cache.nKvHeads(); g++) {
                r += cache.head(l, g).revivals();
            }
        }
        return r;
    }

    /** Softmax attention of one query over entries [0, n) visible at queryPosition, in double. */
    private double[] attend(float[] q, int qOff, float[] keys, float[] values, int[] positions, int n, int queryPos) {
        double scale = 1.0 / Math.sqrt(hs);
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (positions[j] > queryPos) {
                s[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double d = 0;
            for (int c = 0; c < hs; c++) {
                d += (double) q[qOff + c] * keys[j * hs + c];
            }
            s[j] = d * scale;
            max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            s[j] = Math.exp(s[j] - max);
            sum += s[j];
        }
        double[] o = new double[hs];
        for (int j = 0; j < n; j++) {
            double w = s[j] / sum;
            for (int c = 0; c < hs; c++) {
                o[c] += w * values[j * hs + c];
            }
        }
        return o;
    }

    private static double relErr(double[] a, double[] b) {
        double num = 0;
        double den = 0;
        for (int c = 0; c < a.length; c++) {
            num += (a[c] - b[c]) * (a[c] - b[c]);
            den += b[c] * b[c];
        }
        return den == 0 ? 0 : Math.sqrt(num / den);
    }

    // ---- delegation ----

    @Override
    public int nLayers() {
        return cache.nLayers();
    }

    @Override
    public int nKvHeads() {
        return cache.nKvHeads();
    }

    @Override
    public int headSize() {
        return cache.headSize();
    }

    @Override
    public int capacity() {
        return cache.capacity();
    }

    @Override
    public int length(int layer) {
        return cache.length(layer);
    }

    @Override
    public void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff) {
        cache.append(layer, position, key, keyOff, value, valueOff);
    }

    @Override
    public int entryCount(int layer, int kvHead) {
        return cache.entryCount(layer, kvHead);
    }

    @Override
    public int gather(int layer, int kvHead, float[] keys, float[] values, int[] positions) {
        return cache.gather(layer, kvHead, keys, values, positions);
    }

    @Override
    public boolean observesAttention() {
        return cache.observesAttention();
    }

    @Override
    public void observeAttention(int layer, int kvHead, int queryPosition, float[] weights, int count) {
        cache.observeAttention(layer, kvHead, queryPosition, weights, count);
    }

    @Override
    public long bytes() {
        return cache.bytes();
    }

    @Override
    public void clear() {
        cache.clear();
    }
}
