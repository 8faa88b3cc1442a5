package io.reviver.kernel.press;

/**
 * StreamingLLM (Xiao et al., "Efficient Streaming Language Models with Attention Sinks", arXiv 2309.17453): keep
 * the first {@code sinks} positions and the most recent ones, evict the middle (oldest first). Positions keep
 * their original RoPE angles (kvpress's default; the paper re-assigns positions within the cache).
 *
 * @see <a href="https://arxiv.org/abs/2309.17453">arXiv 2309.17453</a>
 */
public final class StreamingLlmPress extends KvPress {

    private final int sinks;

    /** @param sinks attention-sink positions kept, ≥ 0 (published default 4) */
    public StreamingLlmPress(double budget, int sinks) {
        super(budget);
        if (sinks < 0) {
            throw new IllegalArgumentException("streaming_llm sinks must be ≥ 0, got " + sinks);
        }
        this.sinks = sinks;
    }

    @Override
    public String name() {
        return "streaming_llm";
    }

    @Override
    public String describe() {
        return super.describe() + "(sinks=" + sinks + ")";
    }

    @Override
    protected int sinks() {
        return sinks;
    }

    /** Recency: the oldest unprotected position is evicted first. */
    @Override
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return h.position(i);
    }
}
