/**
 * Micro-benchmarks of the kernel run as plain {@code main} programs writing JSON:
 * {@link io.reviver.kernel.bench.MatmulBench} (weight products next to measured memory and FMA peaks).
 */
package io.reviver.kernel.bench;
