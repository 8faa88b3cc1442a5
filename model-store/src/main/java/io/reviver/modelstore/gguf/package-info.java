/**
 * GGUF v2/v3 files: {@link io.reviver.modelstore.gguf.GgufFile} reads and validates (bounded header parsing,
 * typed {@link io.reviver.modelstore.gguf.GgufFormatException}s naming the bad field), maps tensor data per
 * tensor; {@link io.reviver.modelstore.gguf.GgufWriter} writes; {@link io.reviver.modelstore.gguf.Dequantizer}
 * is the scalar reference decoding of F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K, bit-identical to ggml's.
 * Verified against an independent numpy writer/decoder ({@code python/make_gguf_fixtures.py}).
 */
package io.reviver.modelstore.gguf;
