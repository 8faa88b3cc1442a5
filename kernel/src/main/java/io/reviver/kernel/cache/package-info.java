/**
 * Key/value caches for autoregressive attention. {@link io.reviver.kernel.cache.KvCache} is the seam that KV
 * compression plugs into later; {@link io.reviver.kernel.cache.DenseKvCache} is the uncompressed reference that
 * keeps every position.
 */
package io.reviver.kernel.cache;
