/**
 * The Llama-family decoder (llama, Mistral, Qwen2): {@link io.reviver.kernel.model.LlamaConfig} (hyper-parameters
 * parsed once from GGUF metadata), {@link io.reviver.kernel.model.LlamaWeights} (the one tensor-name mapping
 * table), {@link io.reviver.kernel.model.LlamaModel} (the forward pass, batched prefill and decode, GQA attention
 * over a {@link io.reviver.kernel.cache.KvCache}), {@link io.reviver.kernel.model.Rope} (rotary embedding with
 * NORMAL/NEOX layouts and Llama-3 frequency scaling) and {@link io.reviver.kernel.model.Generator} (the
 * prefill → sample → decode loop). Checked against an independent torch implementation by
 * {@code TorchReferenceTest}.
 */
package io.reviver.kernel.model;
