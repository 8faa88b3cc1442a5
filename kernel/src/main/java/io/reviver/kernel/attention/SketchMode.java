package io.reviver.kernel.attention;

/**
 * The estimator of a KVReviver Count-Sketch (see {@code io.reviver.kernel.press.CountSketch} for the error
 * behaviour of each):
 * <ul>
 *   <li>{@link #SIGNED}: the literal Count-Sketch (Charikar, Chen, Farach-Colton 2002): insert adds
 *       {@code s_j(p)·x} to bucket {@code h_j(p)} of every row j; reconstruction is the coordinate-wise median over
 *       rows of {@code s_j(p)·T[j, h_j(p)]} (the mean for depth ≤ 2; the mean of the two middle values for an
 *       even depth ≥ 4);</li>
 *   <li>{@link #MEAN}: unsigned averaging buckets with a per-bucket count table (S, depth, width): insert adds
 *       {@code x} and increments the count; reconstruction is the mean over rows of the bucket mean
 *       {@code T[j, h_j(p)] / count[j, h_j(p)]}, an empty bucket (count 0) contributing the zero vector.</li>
 * </ul>
 * Both use the buckets and signs of {@link SketchHash} (MEAN ignores the sign).
 */
public enum SketchMode {
    SIGNED,
    MEAN
}
