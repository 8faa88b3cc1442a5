package io.reviver.kernel.press;

import java.util.Arrays;

/**
 * The Vague part of {@link KvReviverPress}: evicted keys and values of one (sequence, layer, KV head) folded
 * into d rows × w buckets of headSize-float vectors, one table for keys and one for values, plus the set of
 * evicted positions (a bitmap), from which every evicted entry is reconstructed inside attention.
 *
 * <p>Two estimators, both seeded by position hashes {@code h_j(p) ∈ [0, w)} and signs {@code s_j(p) ∈ {±1}}
 * from {@link #hash} (deterministic given the head seed):
 * <ul>
 *   <li>{@link Mode#SIGNED}, the literal Count-Sketch (Charikar, Chen, Farach-Colton 2002): insert adds
 *       {@code s_j(p)·x} to bucket {@code h_j(p)} of every row; reconstruction is the coordinate-wise median over
 *       rows of {@code s_j(p)·S[j][h_j(p)]} (the mean for d ≤ 2). Unbiased, with per-row error variance
 *       {@code (1/w)·Σ_{q≠p} x_q²} per coordinate: for dense vectors of similar norm the relative error is
 *       about {@code √(n/w)}, above 100% whenever the sketch is smaller than what it holds.</li>
 *   <li>{@link Mode#MEAN}, unsigned averaging buckets: insert adds {@code x} and counts; reconstruction is the
 *       mean over rows of the bucket's mean. Biased toward the bucket mean, but its error is bounded by the
 *       spread of the vectors around their bucket means instead of growing with {@code n/w}; for keys, which
 *       share a large common component, this is the variant that stays useful at high compression.</li>
 * </ul>
 * Not thread-safe (one per head).
 */
public final class CountSketch implements VagueStore {

    /** The estimator. */
    public enum Mode { SIGNED, MEAN }

    private final Mode mode;
    private final int rows;      // d
    private final int width;     // w
    private final int headSize;
    private final long seed;
    private final float[] keyTable;   // (d, w, headSize)
    private final float[] valueTable; // (d, w, headSize)
    private final int[] counts;       // (d, w) entries per bucket (MEAN mode; null for SIGNED)
    private final long[] present;     // bitmap over positions [0, capacity)
    private final int capacity;
    private int size;
    private final float[] rowScratch;   // (d) values of one coordinate across rows
    private final KeyRotation rotation; // non-null: keys are stored before RoPE
    private final float[] keyScratch;   // (headSize) a key being un-rotated
    private final int[] offScratch;     // (d) table offsets of one position's buckets
    private final float[] scaleScratch; // (d) sign (SIGNED) or 1/count (MEAN) per row

    /**
     * @param rows     d ≥ 1
     * @param width    w ≥ 1
     * @param capacity positions the sequence may reach (bitmap size)
     * @param seed     hash seed of this head
     */
    public CountSketch(Mode mode, int rows, int width, int headSize, int capacity, long seed) {
        this(mode, rows, width, headSize, capacity, seed, null);
    }

    /**
     * @param preRope when non-null, keys are inverse-rotated to their pre-RoPE form before they are added and
     *                rotated back to their position after reconstruction, so bucket-mates are compared before their
     *                position-dependent rotation mixes them
     */
    public CountSketch(Mode mode, int rows, int width, int headSize, int capacity, long seed, KeyRotation preRope) {
        if (rows < 1 || width < 1 || headSize < 1 || capacity < 1) {
            throw new IllegalArgumentException("count sketch needs rows, width, headSize, capacity ≥ 1: d=" + rows
                + " w=" + width + " headSize=" + headSize + " capacity=" + capacity);
        }
        this.mode = mode;
        this.rows = rows;
        this.width = width;
        this.headSize = headSize;
        this.seed = seed;
        this.capacity = capacity;
        long floats = (long) rows * width * headSize;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("count sketch of " + floats + " floats is too large");
        }
        this.keyTable = new float[(int) floats];
        this.valueTable = new float[(int) floats];
        this.counts = mode == Mode.MEAN ? new int[rows * width] : null;
        this.present = new long[(capacity + 63) / 64];
        this.rotation = preRope;
        this.keyScratch = new float[headSize];
        this.rowScratch = new float[rows];
        this.offScratch = new int[rows];
        this.scaleScratch = new float[rows];
    }

    /** Bytes a sketch of these parameters holds: both tables, the bucket counts (MEAN), the bitmap and seed. */
    public static long bytesFor(Mode mode, int rows, int width, int headSize, int capacity) {
        long tables = 2L * rows * width * headSize * Float.BYTES;
        long countBytes = mode == Mode.MEAN ? (long) rows * width * Integer.BYTES : 0;
        return tables + countBytes + ((capacity + 63) / 64) * 8L + Long.BYTES;
    }

    /**
     * The seeded hash of (row, position): bucket in the low 32 bits' range {@code [0, width)} is
     * {@code (int) ((h >>> 1) % width)} and the sign is {@code +1} when bit 0 is 0. A SplitMix64 finaliser of
     * the seed, row and position, so rows are independent and every head decorrelated by its seed.
     */
    public static long hash(long seed, int row, int position) {
        long z = seed ^ (0x9E3779B97F4A7C15L * (row + 1)) ^ ((long) position * 0xC2B2AE3D27D4EB4FL);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private int bucket(long h) {
        return (int) Long.remainderUnsigned(h >>> 1, width);
    }

    private float sign(long h) {
        return mode == Mode.MEAN ? 1f : ((h & 1L) == 0 ? 1f : -1f);
    }

    /** Whether keys are stored before RoPE. */
    public boolean preRope() {
        return rotation != null;
    }

    public Mode mode() {
        return mode;
    }

    public int rows() {
        return rows;
    }

    public int width() {
        return width;
    }

    public long seed() {
        return seed;
    }

    @Override
    public void insert(int position, float[] key, int keyOff, float[] value, int valueOff) {
        checkPosition(position);
        if (contains(position)) {
            throw new IllegalStateException("position " + position + " is already in the sketch");
        }
        add(position, key, keyOff, value, valueOff, 1f);
        present[position >>> 6] |= 1L << (position & 63);
        size++;
    }

    @Override
    public void remove(int position, float[] key, int keyOff, float[] value, int valueOff) {
        checkPosition(position);
        if (!contains(position)) {
            throw new IllegalStateException("position " + position + " is not in the sketch");
        }
        add(position, key, keyOff, value, valueOff, -1f);
        present[position >>> 6] &= ~(1L << (position & 63));
        size--;
    }

    private void add(int position, float[] key, int keyOff, float[] value, int valueOff, float direction) {
        if (rotation != null) {
            System.arraycopy(key, keyOff, keyScratch, 0, headSize);
            rotation.rotate(keyScratch, 0, position, true);
            key = keyScratch;
            keyOff = 0;
        }
        for (int j = 0; j < rows; j++) {
            long h = hash(seed, j, position);
            int b = bucket(h);
            float s = sign(h) * direction;
            int off = (j * width + b) * headSize;
            for (int c = 0; c < headSize; c++) {
                keyTable[off + c] += s * key[keyOff + c];
                valueTable[off + c] += s * value[valueOff + c];
            }
            if (counts != null) {
                counts[j * width + b] += (int) direction;
            }
        }
    }

    /** Whether {@code position} is held. */
    public boolean contains(int position) {
        return position >= 0 && position < capacity && (present[position >>> 6] & (1L << (position & 63))) != 0;
    }

    @Override
    public int size() {
        return size;
    }

    /** Reconstructs one held or absent position's key and value (headSize floats each at the offsets). */
    public void reconstruct(int position, float[] key, int keyOff, float[] value, int valueOff) {
        estimate(keyTable, position, key, keyOff);
        if (rotation != null) {
            rotation.rotate(key, keyOff, position, false);
        }
        estimate(valueTable, position, value, valueOff);
    }

    @Override
    public void reconstructAll(float[] keys, float[] values, int[] positions, int row) {
        int r = row;
        for (int w = 0; w < present.length; w++) {
            long bits = present[w];
            while (bits != 0) {
                int p = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                positions[r] = p;
                estimate(keyTable, p, keys, r * headSize);
                if (rotation != null) {
                    rotation.rotate(keys, r * headSize, p, false);
                }
                estimate(valueTable, p, values, r * headSize);
                r++;
            }
        }
    }

    private void estimate(float[] table, int position, float[] out, int outOff) {
        if (rows == 1) {
            long h = hash(seed, 0, position);
            int b = bucket(h);
            int off = b * headSize;
            float s = mode == Mode.MEAN ? 1f / Math.max(1, counts[b]) : sign(h);
            for (int c = 0; c < headSize; c++) {
                out[outOff + c] = s * table[off + c];
            }
            return;
        }
        int[] offs = offScratch;
        float[] scales = scaleScratch;
        for (int j = 0; j < rows; j++) {
            long h = hash(seed, j, position);
            int b = bucket(h);
            offs[j] = (j * width + b) * headSize;
            scales[j] = mode == Mode.MEAN ? 1f / Math.max(1, counts[j * width + b]) : sign(h);
        }
        boolean median = mode == Mode.SIGNED && rows > 2;
        for (int c = 0; c < headSize; c++) {
            if (median) {
                for (int j = 0; j < rows; j++) {
                    rowScratch[j] = scales[j] * table[offs[j] + c];
                }
                out[outOff + c] = median(rowScratch, rows);
            } else {
                double s = 0; // in double, so d equal rows average back to exactly their value
                for (int j = 0; j < rows; j++) {
                    s += (double) scales[j] * table[offs[j] + c];
                }
                out[outOff + c] = (float) (s / rows);
            }
        }
    }

    /** Median of x[0, n) for odd n (the upper median for even n); reorders x. */
    static float median(float[] x, int n) {
        if (n == 3) {
            float a = x[0], b = x[1], c = x[2];
            return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
        }
        Arrays.sort(x, 0, n);
        return x[n / 2];
    }

    @Override
    public long bytes() {
        return bytesFor(mode, rows, width, headSize, capacity);
    }

    /** Keys table (d, w, headSize) row-major; for snapshots and tests, do not modify. */
    float[] keyTable() {
        return keyTable;
    }

    float[] valueTable() {
        return valueTable;
    }

    int[] counts() {
        return counts;
    }

    long[] present() {
        return present;
    }

    void setSize(int size) {
        this.size = size;
    }

    private void checkPosition(int position) {
        if (position < 0 || position >= capacity) {
            throw new IllegalArgumentException("position " + position + " outside [0, " + capacity + ")");
        }
    }
}
