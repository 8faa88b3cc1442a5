/**
 * Bytes on disk to named raw tensors, model metadata and tokenizer vocabularies. No numerics beyond
 * format decoding (dequantisation reference): the kernel module owns all math.
 *
 * <ul>
 *   <li>{@link io.reviver.modelstore.gguf} GGUF v2/v3 reading, validation and writing.</li>
 *   <li>{@link io.reviver.modelstore.tokenizer} tokenizers built from GGUF metadata.</li>
 *   <li>{@link io.reviver.modelstore.source} model sources (local paths, Hadoop FileSystem URIs) and the
 *       local model cache.</li>
 * </ul>
 */
package io.reviver.modelstore;
