package io.reviver.kernel.attention;

/**
 * The "Vague" tokens of each pair of an {@link AttentionBatch}: positions held only in Count-Sketches of keys and
 * values, reconstructed inside {@link AttentionBackend#attendWithSketch}. Keys and values use separate tables
 * with the same seeds and hashes (the token was inserted into both with the same position).
 *
 * <p>The fused op supports {@link SketchMode#SIGNED} sketches only (its device body has no count tables); MEAN
 * sketches are reconstructed with {@link AttentionBackend#sketchReconstruct} and attended as exact entries.
 *
 * @param shape       sketch shape, SIGNED; {@code shape.headSize()} must equal the batch's headSize
 * @param keyTables   (S, depth, width, headSize) key sketches
 * @param valueTables (S, depth, width, headSize) value sketches, same length as keyTables
 * @param seeds       (S) hash seed of each sketch ({@link SketchHash})
 * @param sketchOf    (P) sketch index of each pair
 * @param vagueStart  (P) first index into {@code positions} of each pair's sketched tokens
 * @param vagueLength (P) number of sketched tokens of each pair, ≥ 0
 * @param positions   (V) absolute token positions (the hash keys)
 */
public record SketchedTokens(CountSketchShape shape, float[] keyTables, float[] valueTables, int[] seeds,
                             int[] sketchOf, int[] vagueStart, int[] vagueLength, int[] positions) {

    public SketchedTokens {
        if (shape == null || seeds == null || sketchOf == null || vagueStart == null || vagueLength == null
            || positions == null) {
            throw new IllegalArgumentException("shape, seeds, sketchOf, vagueStart, vagueLength and positions must "
                + "not be null");
        }
        if (shape.mode() != SketchMode.SIGNED) {
            throw new IllegalArgumentException("attendWithSketch supports SIGNED sketches only, got " + shape.mode());
        }
        int s = shape.sketches(keyTables, "keyTables");
        if (valueTables == null || valueTables.length != keyTables.length) {
            throw new IllegalArgumentException("valueTables must have the length of keyTables (" + keyTables.length
                + ")");
        }
        if (seeds.length < s) {
            throw new IllegalArgumentException("seeds need one value per sketch (" + s + ")");
        }
    }

    /** Number of sketches S. */
    public int sketches() {
        return keyTables.length / shape.tableLength();
    }

    /** Checks this against {@code batch}: head size and one valid sketch index and position range per pair. */
    public void checkFor(AttentionBatch batch) {
        if (shape.headSize() != batch.headSize()) {
            throw new IllegalArgumentException("sketch headSize " + shape.headSize() + " != batch headSize "
                + batch.headSize());
        }
        int p = batch.pairs();
        if (sketchOf.length < p || vagueStart.length < p || vagueLength.length < p) {
            throw new IllegalArgumentException("sketchOf, vagueStart and vagueLength need one value per pair (" + p
                + ")");
        }
        int s = sketches();
        for (int i = 0; i < p; i++) {
            if (sketchOf[i] < 0 || sketchOf[i] >= s) {
                throw new IllegalArgumentException("pair " + i + ": sketch " + sketchOf[i] + " outside [0, " + s + ")");
            }
            if (vagueStart[i] < 0 || vagueLength[i] < 0 || (long) vagueStart[i] + vagueLength[i] > positions.length) {
                throw new IllegalArgumentException("pair " + i + ": sketched tokens [" + vagueStart[i] + ", +"
                    + vagueLength[i] + ") outside the " + positions.length + " positions");
            }
        }
    }
}
