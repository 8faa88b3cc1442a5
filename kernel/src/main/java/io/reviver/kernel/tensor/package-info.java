/**
 * Weight products on encoded (possibly block-quantised) GGUF weights: {@link io.reviver.kernel.tensor.QuantizedMatrix}
 * (a weight matrix in its file encoding), the {@link io.reviver.kernel.tensor.TensorOps} backend seam, and
 * {@link io.reviver.kernel.tensor.JavaTensorOps} (pure Java, Vector API path with a scalar reference beside it).
 */
package io.reviver.kernel.tensor;
