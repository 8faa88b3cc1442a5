package io.reviver.kernel.attention;

/**
 * Shape and estimator of KVReviver Count-Sketch tables: each sketch is {@code depth} rows × {@code width} buckets ×
 * a vector of {@code headSize} floats. A flat array of S sketches is (S, depth, width, headSize) row-major: the
 * bucket {@code b} of row {@code j} of sketch {@code s} starts at {@link #offset}{@code (s, j, b)}. In
 * {@link SketchMode#MEAN} mode every bucket also has a count: a flat int array (S, depth, width), bucket
 * {@code b} of row {@code j} of sketch {@code s} at {@link #countIndex}{@code (s, j, b)}.
 *
 * <p>{@code headSize} is the length of the vector a bucket holds; a caller may pack several vectors that share
 * hashes into one bucket (the press packs key ‖ value, {@code headSize = 2·kvHeadSize}).
 *
 * @param depth    rows d ≥ 1 (independent hashes; SIGNED takes the median over rows, the mean if d ≤ 2; MEAN the
 *                 mean of the bucket means)
 * @param width    buckets per row w ≥ 1
 * @param headSize vector length ≥ 1
 * @param mode     the estimator, not null
 */
public record CountSketchShape(int depth, int width, int headSize, SketchMode mode) {

    /** A {@link SketchMode#SIGNED} shape. */
    public CountSketchShape(int depth, int width, int headSize) {
        this(depth, width, headSize, SketchMode.SIGNED);
    }

    /** Largest flat table array (floats) the kernels address: offsets are packed with a sign bit into an int. */
    public static final int MAX_TABLE_FLOATS = 1 << 30;

    public CountSketchShape {
        if (depth < 1 || width < 1 || headSize < 1) {
            throw new IllegalArgumentException("depth, width and headSize must be ≥ 1, got " + depth + ", " + width
                + ", " + headSize);
        }
        if (mode == null) {
            throw new IllegalArgumentException("sketch mode must be SIGNED or MEAN, got null");
        }
        if ((long) depth * width * headSize >= MAX_TABLE_FLOATS) {
            throw new IllegalArgumentException("a sketch of (" + depth + ", " + width + ", " + headSize
                + ") exceeds 2³⁰ floats");
        }
    }

    /** Floats of one sketch: {@code depth · width · headSize}. */
    public int tableLength() {
        return depth * width * headSize;
    }

    /** Start of bucket {@code bucket} of row {@code row} of sketch {@code sketch} in a flat (S, d, w, headSize) array. */
    public int offset(int sketch, int row, int bucket) {
        return ((sketch * depth + row) * width + bucket) * headSize;
    }

    /** Ints of one sketch's count table (MEAN): {@code depth · width}. */
    public int countLength() {
        return depth * width;
    }

    /** Index of the count of bucket {@code bucket} of row {@code row} of sketch {@code sketch} in (S, d, w). */
    public int countIndex(int sketch, int row, int bucket) {
        return (sketch * depth + row) * width + bucket;
    }

    /**
     * Checks the count table against the mode: null for {@link SketchMode#SIGNED}, (S, depth, width) for
     * {@link SketchMode#MEAN}.
     */
    public void checkCounts(int[] counts, int sketches) {
        if (mode == SketchMode.SIGNED && counts != null) {
            throw new IllegalArgumentException("counts must be null for a SIGNED sketch");
        }
        if (mode == SketchMode.MEAN && (counts == null || counts.length != (long) sketches * countLength())) {
            throw new IllegalArgumentException("counts of a MEAN sketch must be (sketches, depth, width) = ("
                + sketches + ", " + depth + ", " + width + "), got " + (counts == null ? "null"
                : counts.length + " ints"));
        }
    }

    /**
     * Number of sketches S in a flat table array.
     *
     * @throws IllegalArgumentException if the length is not a positive multiple of {@link #tableLength()} or too large
     */
    public int sketches(float[] tables, String name) {
        if (tables == null || tables.length == 0 || tables.length % tableLength() != 0) {
            throw new IllegalArgumentException(name + " must be (sketches, depth, width, headSize) = (S, " + depth + ", "
                + width + ", " + headSize + "), got " + (tables == null ? "null" : tables.length + " floats"));
        }
        if (tables.length >= MAX_TABLE_FLOATS) {
            throw new IllegalArgumentException(name + " exceeds 2³⁰ floats; split it");
        }
        return tables.length / tableLength();
    }

    /** Validates the arguments of {@link AttentionBackend#sketchInsert}; returns S. */
    public int checkInsert(float[] tables, int[] counts, int[] seeds, int[] tokenStart, int[] tokenCount, int[] positions, float[] x) {
        int s = sketches(tables, "tables");
        checkCounts(counts, s);
        if (seeds == null || seeds.length < s || tokenStart == null || tokenStart.length < s || tokenCount == null
            || tokenCount.length < s) {
            throw new IllegalArgumentException("seeds, tokenStart and tokenCount need one value per sketch (" + s + ")");
        }
        if (positions == null || x == null || (long) positions.length * headSize > x.length) {
            throw new IllegalArgumentException("x must be (tokens, headSize) for the " + (positions == null ? "null"
                : positions.length) + " positions");
        }
        for (int k = 0; k < s; k++) {
            if (tokenStart[k] < 0 || tokenCount[k] < 0 || (long) tokenStart[k] + tokenCount[k] > positions.length) {
                throw new IllegalArgumentException("sketch " + k + ": tokens [" + tokenStart[k] + ", +" + tokenCount[k]
                    + ") outside the " + positions.length + " positions");
            }
        }
        return s;
    }

    /** Validates the arguments of {@link AttentionBackend#sketchReconstruct}; returns S. */
    public int checkReconstruct(float[] tables, int[] counts, int[] seeds, int[] sketchOf, int[] positions, int m, float[] out) {
        int s = sketches(tables, "tables");
        checkCounts(counts, s);
        if (seeds == null || seeds.length < s) {
            throw new IllegalArgumentException("seeds need one value per sketch (" + s + ")");
        }
        if (m < 0 || sketchOf == null || sketchOf.length < m || positions == null || positions.length < m) {
            throw new IllegalArgumentException("sketchOf and positions need m = " + m + " values");
        }
        if (out == null || out.length < (long) m * headSize) {
            throw new IllegalArgumentException("out must be (m, headSize) = " + (long) m * headSize + " floats");
        }
        for (int i = 0; i < m; i++) {
            if (sketchOf[i] < 0 || sketchOf[i] >= s) {
                throw new IllegalArgumentException("sketchOf[" + i + "] = " + sketchOf[i] + " outside [0, " + s + ")");
            }
        }
        return s;
    }
}
