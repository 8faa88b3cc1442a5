package io.reviver.kernel.engine;

import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.sample.GreedySampler;
import io.reviver.kernel.sample.Sampler;
import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * One sequence to generate: prompt tokens, how many new tokens at most, what stops it, and the press (with its
 * budget) that compresses its KV cache after prefill, and how the next token is chosen from the logits.
 *
 * @param id        caller's name for the request (for errors and logs)
 * @param prompt    token ids, at least one
 * @param maxTokens new tokens at most, ≥ 0
 * @param isStop    tokens that end generation (reported, not counted as text)
 * @param press     KV press and budget
 * @param seed      seed of the press's randomised parts
 * @param sampler   picks each next token; this request's own (a seeded sampler's draws follow its requests' order
 *                  only), called from the engine's thread
 */
public record GenerationRequest(String id, int[] prompt, int maxTokens, IntPredicate isStop, KvPress press,
                                long seed, Sampler sampler) {

    /** A greedy request (the largest logit wins). */
    public GenerationRequest(String id, int[] prompt, int maxTokens, IntPredicate isStop, KvPress press, long seed) {
        this(id, prompt, maxTokens, isStop, press, seed, new GreedySampler());
    }

    public GenerationRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(isStop, "isStop");
        Objects.requireNonNull(press, "press");
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("request " + id + ": the prompt has no tokens");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("request " + id + ": maxTokens must be ≥ 0, got " + maxTokens);
        }
        prompt = prompt.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    /** The prompt itself, not a copy: for the engine, which never writes it. */
    int[] promptArray() {
        return prompt;
    }

    int promptLength() {
        return prompt.length;
    }
}
