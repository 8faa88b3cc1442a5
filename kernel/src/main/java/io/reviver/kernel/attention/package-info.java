/**
 * The backend-neutral attention seam used by decoding and by KV compression (KVReviver, see
 * {@code docs/kv-compression.md} §1.4):
 * <ul>
 *   <li>{@link io.reviver.kernel.attention.AttentionBackend}: four ops on flat float arrays (batched GQA
 *       attention over variable-length KV blocks; Count-Sketch insert; Count-Sketch reconstruction, both in the
 *       {@link io.reviver.kernel.attention.SketchMode} SIGNED and MEAN estimators; attention over exact plus
 *       SIGNED-sketch-reconstructed tokens with one softmax);</li>
 *   <li>{@link io.reviver.kernel.attention.JavaAttentionBackend}: the pure-Java reference of every op, the test
 *       oracle of the OpenCL backend ({@code io.reviver.kernel.opencl});</li>
 *   <li>{@link io.reviver.kernel.attention.SketchHash}: the seeded, integer-only hash that places a token
 *       position in a sketch row, the only sketch hash of the project (the press's {@code CountSketch} uses it);
 *       Java and OpenCL compute identical buckets and signs;</li>
 *   <li>{@link io.reviver.kernel.attention.BackendChoice} / {@link io.reviver.kernel.attention.BackendStatus} /
 *       {@link io.reviver.kernel.attention.BackendUnavailableException}: the explicit, checkable backend
 *       choice.</li>
 * </ul>
 * Shapes of the ops' arguments are carried by the records {@link io.reviver.kernel.attention.AttentionBatch},
 * {@link io.reviver.kernel.attention.CountSketchShape} and {@link io.reviver.kernel.attention.SketchedTokens}.
 * This package has no dependency on Aparapi.
 */
package io.reviver.kernel.attention;
