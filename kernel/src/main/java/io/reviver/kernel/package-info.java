/**
 * All numerics of Reviver, free of Spark: {@link io.reviver.kernel.tensor} (weight products on encoded weights,
 * the {@code TensorOps} backend seam), {@code model} (Llama-family configuration, weights and forward pass),
 * {@code cache} (KV cache), {@code sample} (greedy and seeded sampling) and {@code cli} (the {@code reviver}
 * command).
 */
package io.reviver.kernel;
