package io.reviver.kernel.model;

import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.press.FullPress;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.PressContext;
import io.reviver.kernel.sample.Sampler;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;

/**
 * Autoregressive generation for one sequence: batched prefill of the prompt, compression of its KV cache by a
 * {@link KvPress} (the one named compression point), then one decode step per new token, with timing. Stateless;
 * each call allocates its own {@link LlamaModel.State} and a cache made by the press for
 * {@code min(contextLength, prompt + maxTokens)} positions.
 */
public final class Generator {

    /** Why generation stopped. */
    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL }

    /**
     * @param tokens        generated ids (not the prompt), including a final stop token if one was sampled
     * @param promptTokens  prompt length
     * @param prefillNanos  wall time of the prefill (prompt → first logits)
     * @param decodeSteps   decode forward passes run (each turns one sampled token into the next logits)
     * @param decodeNanos   wall time of those decode steps and all sampling
     * @param stopReason    why it stopped
     * @param compressNanos wall time of the press's compression (included in neither prefill nor decode)
     * @param cacheBytes    bytes the KV cache held at the end
     * @param fullCacheBytes bytes a full float32 cache would hold at the same length
     */
    public record Result(int[] tokens, int promptTokens, long prefillNanos, int decodeSteps, long decodeNanos,
                         StopReason stopReason, long compressNanos, long cacheBytes, long fullCacheBytes) {

        /** Prompt tokens per second of prefill. */
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        }

        /** Decode steps per second. */
        public double decodeTokensPerSecond() {
            return decodeNanos == 0 ? 0 : decodeSteps * 1e9 / decodeNanos;
        }

        @Override
        public int[] tokens() {
            return tokens.clone();
        }
    }

    private Generator() {
    }

    /**
     * Generates up to {@code maxTokens} tokens after {@code prompt}.
     *
     * @param prompt       token ids, at least one (typically starting with BOS), at most contextLength
     * @param maxTokens    ≥ 0
     * @param prefillBatch prompt tokens per forward pass during prefill, ≥ 1
     * @param isStop       tokens that end generation (e.g. EOS); the stop token is reported but not streamed
     * @param onToken      called with each generated non-stop token as soon as it is sampled
     */
    public static Result generate(LlamaModel model, int[] prompt, int maxTokens, Sampler sampler, int prefillBatch,
                                  IntPredicate isStop, IntConsumer onToken) {
        return generate(model, prompt, maxTokens, sampler, prefillBatch, isStop, onToken, new FullPress(), 0L);
    }

    /**
     * Like {@link #generate(LlamaModel, int[], int, Sampler, int, IntPredicate, IntConsumer)} with the KV cache
     * compressed by {@code press} after prefill.
     *
     * @param seed seed of the press's randomised parts (sketch hashes, projections)
     */
    public static Result generate(LlamaModel model, int[] prompt, int maxTokens, Sampler sampler, int prefillBatch,
                                  IntPredicate isStop, IntConsumer onToken, KvPress press, long seed) {
        LlamaConfig c = model.config();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (prompt.length > c.contextLength()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, more than the context "
                + "length " + c.contextLength());
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be ≥ 0, got " + maxTokens);
        }
        int capacity = (int) Math.min(c.contextLength(), (long) prompt.length + maxTokens);
        KvCache cache = press.newCache(model.pressContext(capacity, prompt.length, seed));
        LlamaModel.State state = model.newState(Math.min(prefillBatch, prompt.length));
        float[] logits = new float[c.vocabSize()];

        long t0 = System.nanoTime();
        model.prefill(state, cache, prompt, 0, null, logits);
        long prefillNanos = System.nanoTime() - t0;
        long tc = System.nanoTime();
        press.compress(cache, prompt, model.tokenRunner(state));
        long compressNanos = System.nanoTime() - tc;

        int[] out = new int[maxTokens];
        int count = 0;
        int position = prompt.length;
        int steps = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        long t1 = System.nanoTime();
        while (count < maxTokens) {
            int next = sampler.sample(logits);
            out[count++] = next;
            if (isStop.test(next)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            onToken.accept(next);
            if (count == maxTokens) {
                break;
            }
            if (position >= capacity) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            model.decode(state, cache, next, position++, logits);
            steps++;
        }
        long decodeNanos = System.nanoTime() - t1;
        long full = (long) position * c.nLayers() * c.kvDim() * 2 * Float.BYTES;
        return new Result(Arrays.copyOf(out, count), prompt.length, prefillNanos, steps, decodeNanos, reason,
            compressNanos, cache.bytes(), full);
    }
}
