/**
 * KV-cache compression ("presses"). {@link io.reviver.kernel.press.KvPress} is the policy seam;
 * {@link io.reviver.kernel.press.PressedKvCache} is the shared mechanism (prefill with attention statistics, one
 * compression after prefill, decode-time eviction, byte accounting against the budget);
 * {@link io.reviver.kernel.press.PressRegistry} names them. The baselines (StreamingLLM, H2O, SnapKV, TOVA,
 * KNorm), KVzip, Compactor and the reversible {@link io.reviver.kernel.press.KvReviverPress} with its
 * {@link io.reviver.kernel.press.CountSketch} each live in one file.
 *
 * <p>A press's bulk sketch operations run on the model's attention backend of the KV head when the model has
 * backends ({@link io.reviver.kernel.press.PressContext#backends}, one per KV head, owned by the model and used
 * only from that head's calls and from compression), otherwise on the Java reference.
 */
package io.reviver.kernel.press;
