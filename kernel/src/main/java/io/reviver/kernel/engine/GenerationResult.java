package io.reviver.kernel.engine;

/**
 * What a request produced.
 *
 * @param id            the request's id
 * @param tokens        generated ids, including a final stop token if one was produced
 * @param promptTokens  prompt length
 * @param stoppedByToken whether a stop token ended it (otherwise max tokens or the context length)
 * @param kvBytes       bytes the sequence's KV cache held at the end
 * @param budgetBytes   bytes reserved for it by admission
 * @param queuedNanos   time from submission to admission
 * @param prefillNanos  time spent in its prefill chunks and compression
 * @param decodeNanos   time from its first decode step to its end (shared with the other sequences of its batches)
 */
public record GenerationResult(String id, int[] tokens, int promptTokens, boolean stoppedByToken, long kvBytes,
                               long budgetBytes, long queuedNanos, long prefillNanos, long decodeNanos) {

    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
