package io.reviver.kernel.press;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.CountSketchShape;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.attention.SketchHash;
import io.reviver.kernel.attention.SketchMode;
import io.reviver.kernel.cache.KvCache;

/**
 * The Vague part of {@link KvReviverPress}: evicted keys and values of one (sequence, layer, KV head) folded
 * into d rows × w buckets, each bucket holding a key ‖ value vector of 2·headSize floats, plus the set of evicted
 * positions (a bitmap), from which every evicted entry is reconstructed inside attention.
 *
 * <p>Two estimators ({@link SketchMode}), both placed by the project's one sketch hash {@link SketchHash}
 * (buckets {@code h_j(p) ∈ [0, w)} and signs {@code s_j(p) ∈ {±1}}, seeded by {@link SketchHash#seedOf} of the
 * head seed, so a sketch filled on one backend is read on another):
 * <ul>
 *   <li>{@link SketchMode#SIGNED}, the literal Count-Sketch (Charikar, Chen, Farach-Colton 2002): insert adds
 *       {@code s_j(p)·x} to bucket {@code h_j(p)} of every row; reconstruction is the coordinate-wise median over
 *       rows of {@code s_j(p)·S[j][h_j(p)]} (the mean for d ≤ 2). Unbiased, with per-row error variance
 *       {@code (1/w)·Σ_{q≠p} x_q²} per coordinate: for dense vectors of similar norm the relative error is
 *       about {@code √(n/w)}, above 100% whenever the sketch is smaller than what it holds.</li>
 *   <li>{@link SketchMode#MEAN}, unsigned averaging buckets: insert adds {@code x} and counts; reconstruction is
 *       the mean over rows of the bucket's mean. Biased toward the bucket mean, but its error is bounded by the
 *       spread of the vectors around their bucket means instead of growing with {@code n/w}; for keys, which
 *       share a large common component, this is the variant that stays useful at high compression.</li>
 * </ul>
 *
 * <p>Bulk operations — {@link #insertAll} (the tokens one compression evicts) and {@link #reconstructAll} (every
 * held position, once per attention step) — are one call each of {@link AttentionBackend#sketchInsert} /
 * {@link AttentionBackend#sketchReconstruct} on the sketch's backend: the model's attention backend of this KV
 * head when it runs on one (so on OpenCL the reconstruction runs on the device), otherwise a private
 * {@link JavaAttentionBackend}, the reference. Single-entry updates ({@link #insert}, {@link #remove}) and
 * {@link #reconstruct} of one position run in Java with the same additions as the backend op, so the tables are
 * bit-identical whichever path filled them. Pre-RoPE keys are inverse-rotated on the host before insertion and
 * rotated back on the host after the one reconstruction call (an elementwise op).
 *
 * <p>Not thread-safe (one per head). A backend passed in is not owned (not closed here) and must only be used by
 * one thread at a time: the press uses it from the calls the model makes for this KV head (gather, inside that
 * head's attention task) and from {@link KvPress#compress} between forward passes, the same calls in which the
 * model itself uses it.
 */
public final class CountSketch implements VagueStore {

    private final SketchMode mode;
    private final int rows;      // d
    private final int width;     // w
    private final int headSize;
    private final long seed;
    private final int[] hashSeed;     // (1) SketchHash seed of this head, the seeds argument of the backend ops
    private final CountSketchShape shape; // (d, w, 2·headSize) in this sketch's mode
    private final float[] table;      // (d, w, 2·headSize): bucket = key (pre-RoPE if rotation) ‖ value
    private final int[] counts;       // (d, w) entries per bucket (MEAN mode; null for SIGNED)
    private final long[] present;     // bitmap over positions [0, capacity)
    private final int capacity;
    private int size;
    private final KeyRotation rotation; // non-null: keys are stored before RoPE
    private final AttentionBackend backend; // bulk ops
    private final float[] entryScratch; // (2·headSize) key ‖ value of one entry
    private static final int[] ZERO = {0};
    private final int[] one = new int[1];
    private int[] positionScratch = new int[0]; // (m) positions of a bulk op
    private int[] sketchOfScratch = new int[0]; // (m) zeros: every position is in sketch 0
    /**
     * Per thread: (m, 2·headSize) key ‖ value rows of a bulk op. Shared by the sketches a thread works on rather
     * than held by each: a sequence has a sketch per (layer, KV head), and a scratch as large as the evicted
     * entries in each of them would outweigh the sketches themselves. Each thread keeps its largest (about
     * 0.8 MB for 1,536 entries of 64-float heads) for its lifetime.
     */
    private static final ThreadLocal<float[]> VECTOR_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    private KvCache.Folded folded; // this sketch's entries for attention, made on first use

    /**
     * A sketch whose bulk operations run on the Java reference.
     *
     * @param rows     d ≥ 1
     * @param width    w ≥ 1
     * @param capacity positions the sequence may reach (bitmap size)
     * @param seed     hash seed of this head
     */
    public CountSketch(SketchMode mode, int rows, int width, int headSize, int capacity, long seed) {
        this(mode, rows, width, headSize, capacity, seed, null, null);
    }

    /**
     * @param preRope when non-null, keys are inverse-rotated to their pre-RoPE form before they are added and
     *                rotated back to their position after reconstruction, so bucket-mates are compared before their
     *                position-dependent rotation mixes them
     */
    public CountSketch(SketchMode mode, int rows, int width, int headSize, int capacity, long seed, KeyRotation preRope) {
        this(mode, rows, width, headSize, capacity, seed, preRope, null);
    }

    /**
     * @param backend where {@link #insertAll} and {@link #reconstructAll} run (not owned; one thread at a time, see
     *                the class comment), or null for a private Java reference
     */
    public CountSketch(SketchMode mode, int rows, int width, int headSize, int capacity, long seed, KeyRotation preRope,
                       AttentionBackend backend) {
        if (mode == null || rows < 1 || width < 1 || headSize < 1 || capacity < 1) {
            throw new IllegalArgumentException("count sketch needs a mode and rows, width, headSize, capacity ≥ 1: mode="
                + mode + " d=" + rows + " w=" + width + " headSize=" + headSize + " capacity=" + capacity);
        }
        long floats = 2L * rows * width * headSize;
        if (floats >= CountSketchShape.MAX_TABLE_FLOATS) {
            throw new IllegalArgumentException("count sketch of " + floats + " floats is too large");
        }
        this.mode = mode;
        this.rows = rows;
        this.width = width;
        this.headSize = headSize;
        this.seed = seed;
        this.hashSeed = new int[] {SketchHash.seedOf(seed)};
        this.capacity = capacity;
        this.shape = new CountSketchShape(rows, width, 2 * headSize, mode);
        this.table = new float[(int) floats];
        this.counts = mode == SketchMode.MEAN ? new int[rows * width] : null;
        this.present = new long[(capacity + 63) / 64];
        this.rotation = preRope;
        this.backend = backend != null ? backend : new JavaAttentionBackend();
        this.entryScratch = new float[2 * headSize];
    }

    /** Bytes a sketch of these parameters holds: both tables, the bucket counts (MEAN), the bitmap and seed. */
    public static long bytesFor(SketchMode mode, int rows, int width, int headSize, int capacity) {
        long tables = 2L * rows * width * headSize * Float.BYTES;
        long countBytes = mode == SketchMode.MEAN ? (long) rows * width * Integer.BYTES : 0;
        return tables + countBytes + ((capacity + 63) / 64) * 8L + Long.BYTES;
    }

    /** Whether keys are stored before RoPE. */
    public boolean preRope() {
        return rotation != null;
    }

    public SketchMode mode() {
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

    /** Elements per key (and per value). */
    public int headSize() {
        return headSize;
    }

    /** The 32-bit hash seed of this sketch ({@link SketchHash#seedOf} of {@link #seed}). */
    int hashSeed() {
        return hashSeed[0];
    }

    /**
     * The held entries for attention in folded form ({@link FoldedSketch}) when this sketch's reconstruction is
     * linear in its buckets (MEAN; SIGNED with d ≤ 2) and, for pre-RoPE keys, its rotation has a dot form; null
     * otherwise.
     */
    @Override
    public KvCache.Folded folded() {
        if (folded == null && FoldedSketch.supports(mode, rows, rotation)) {
            folded = new FoldedSketch(this, rotation == null ? null : rotation.dotForm());
        }
        return folded;
    }

    /** What the bulk operations run on (for logs and tests). */
    public AttentionBackend backend() {
        return backend;
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

    /**
     * Inserts {@code n} entries in one backend call: entry i is at {@code positions[i]} with key and value at row
     * {@code rowsOf[i]} of {@code keys} and {@code values} (each (rows, headSize)). Same tables as n calls of
     * {@link #insert} in this order.
     */
    @Override
    public void insertAll(int[] positions, float[] keys, float[] values, int[] rowsOf, int n) {
        for (int i = 0; i < n; i++) { // validate and mark; on a bad position undo the marks first
            int p = positions[i];
            if (p < 0 || p >= capacity || contains(p)) {
                for (int k = 0; k < i; k++) {
                    present[positions[k] >>> 6] &= ~(1L << (positions[k] & 63));
                }
                checkPosition(p);
                throw new IllegalStateException("position " + p + " is already in the sketch");
            }
            present[p >>> 6] |= 1L << (p & 63);
        }
        if (n == 0) {
            return;
        }
        int vs = 2 * headSize;
        float[] x = vectors(n);
        for (int i = 0; i < n; i++) {
            System.arraycopy(keys, rowsOf[i] * headSize, x, i * vs, headSize);
            if (rotation != null) {
                rotation.rotate(x, i * vs, positions[i], true);
            }
            System.arraycopy(values, rowsOf[i] * headSize, x, i * vs + headSize, headSize);
        }
        one[0] = n;
        // x and positions may be longer than n: the op reads tokens [0, n) of sketch 0
        synchronized (backend) { // a model's backend is shared by the sketches of its KV head across sequences
            backend.sketchInsert(shape, table, counts, hashSeed, ZERO, one, positions, x);
        }
        size += n;
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

    /** Adds (direction 1) or subtracts (−1) one entry: the arithmetic of {@link AttentionBackend#sketchInsert}. */
    private void add(int position, float[] key, int keyOff, float[] value, int valueOff, float direction) {
        float[] x = entryScratch;
        System.arraycopy(key, keyOff, x, 0, headSize);
        if (rotation != null) {
            rotation.rotate(x, 0, position, true);
        }
        System.arraycopy(value, valueOff, x, headSize, headSize);
        int vs = 2 * headSize;
        for (int j = 0; j < rows; j++) {
            int b = SketchHash.bucket(hashSeed[0], j, position, width);
            float s = (mode == SketchMode.MEAN ? 1f : SketchHash.sign(hashSeed[0], j, position)) * direction;
            int off = shape.offset(0, j, b);
            for (int c = 0; c < vs; c++) {
                table[off + c] += s * x[c];
            }
            if (counts != null) {
                counts[shape.countIndex(0, j, b)] += (int) direction;
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
        one[0] = position;
        reconstructRows(one, 1, key, keyOff, value, valueOff);
    }

    /** Every held position, ascending, reconstructed in one backend call. */
    @Override
    public void reconstructAll(float[] keys, float[] values, int[] positions, int row) {
        if (size == 0) {
            return;
        }
        if (positionScratch.length < size) {
            positionScratch = new int[size];
        }
        int m = 0;
        for (int w = 0; w < present.length; w++) {
            long bits = present[w];
            while (bits != 0) {
                positionScratch[m++] = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
            }
        }
        System.arraycopy(positionScratch, 0, positions, row, m);
        reconstructRows(positionScratch, m, keys, row * headSize, values, row * headSize);
    }

    /** Reconstructs {@code pos[0, m)} into (m, headSize) keys and values from the given offsets. */
    private void reconstructRows(int[] pos, int m, float[] keys, int keyOff, float[] values, int valueOff) {
        int vs = 2 * headSize;
        if (sketchOfScratch.length < m) {
            sketchOfScratch = new int[m];
        }
        float[] out = vectors(m);
        synchronized (backend) {
            backend.sketchReconstruct(shape, table, counts, hashSeed, sketchOfScratch, pos, m, out);
        }
        for (int i = 0; i < m; i++) {
            System.arraycopy(out, i * vs, keys, keyOff + i * headSize, headSize);
            if (rotation != null) {
                rotation.rotate(keys, keyOff + i * headSize, pos[i], false);
            }
            System.arraycopy(out, i * vs + headSize, values, valueOff + i * headSize, headSize);
        }
    }

    /** Scratch for m key ‖ value rows. */
    private float[] vectors(int m) {
        int need = m * 2 * headSize;
        float[] scratch = VECTOR_SCRATCH.get();
        if (scratch.length < need) {
            scratch = new float[Math.max(need, scratch.length + (scratch.length >> 1))];
            VECTOR_SCRATCH.set(scratch);
        }
        return scratch;
    }

    @Override
    public long bytes() {
        return bytesFor(mode, rows, width, headSize, capacity);
    }

    /** The table (d, w, 2·headSize), each bucket key ‖ value; for snapshots and tests, do not modify. */
    float[] table() {
        return table;
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
