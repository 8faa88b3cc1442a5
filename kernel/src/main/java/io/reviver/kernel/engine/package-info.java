/**
 * The executor engine: {@link io.reviver.kernel.engine.BatchEngine} runs many sequences concurrently with
 * continuous batching, admission by compressed KV bytes and multi-sequence batched decode.
 */
package io.reviver.kernel.engine;
