package io.reviver.kernel.model;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.AttentionBatch;
import io.reviver.kernel.cache.DenseKvCache;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.press.KeyRotation;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.PressContext;
import io.reviver.kernel.tensor.QuantizedMatrix;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.kernel.tensor.WorkerTeam;
import java.util.List;
import java.util.Objects;

/**
 * A Llama-family decoder ready to run: configuration, weights, the weight-product backend and the threads
 * attention runs on (the backend's own team when it has one of the right size). The model itself is immutable and
 * thread-safe; everything mutable lives in a {@link State} (scratch activations, one per concurrent caller) and a
 * {@link KvCache} (one per sequence).
 *
 * <p>{@link #forward} is the whole forward pass, top to bottom, for a batch of {@code n} consecutive tokens:
 * {@code n > 1} is prefill (every weight product is one (n × cols) matmul through {@link TensorOps}; attention
 * is causal within the batch), {@code n = 1} is a decode step. See llama2.c {@code forward} and Hugging Face
 * {@code LlamaDecoderLayer} for the reference math.
 */
public final class LlamaModel implements AutoCloseable {

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final TensorOps ops;
    private final ElementOps el;
    private final Rope rope;
    private final QuantizedMatrix[][] qkv;    // per layer: wq, wk, wv (products of one input)
    private final QuantizedMatrix[][] gateUp; // per layer: w1, w3
    private final KeyRotation keyRotation;
    /** Positions per block of the key transpose (16 floats: one cache line of each element row). */
    private static final int TRANSPOSE_BLOCK = 16;
    private final AttentionBackend[] backends; // (nKvHeads) or null: the built-in loops
    private final int attentionThreads;
    /** Runs attention over KV heads; null when attentionThreads == 1. Either the ops' own team or {@code ownTeam}. */
    private final WorkerTeam attentionTeam;
    private final WorkerTeam ownTeam; // made here (and closed by close()) when the ops have no team of that size

    /**
     * @param config           validated configuration
     * @param weights          weights checked against config
     * @param ops              weight-product backend (not closed by this model)
     * @param elementOps       element-wise helpers for attention and norms (vector or scalar)
     * @param attentionThreads threads for attention over KV heads including the calling thread, ≥ 1; when the
     *                         ops' {@link TensorOps#workerTeam() team} has this size, attention runs on it
     */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, TensorOps ops, ElementOps elementOps,
                      int attentionThreads) {
        this(config, weights, ops, elementOps, attentionThreads, null);
    }

    /**
     * @param attentionBackends null for the built-in Java attention loops (the reference), or one
     *                          {@link AttentionBackend} per KV head (a head's attention always runs on one thread at
     *                          a time, and backends are not thread-safe); closed by {@link #close}
     */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, TensorOps ops, ElementOps elementOps,
                      int attentionThreads, List<AttentionBackend> attentionBackends) {
        if (attentionBackends != null && attentionBackends.size() != config.nKvHeads()) {
            throw new IllegalArgumentException("need one attention backend per KV head (" + config.nKvHeads()
                + "), got " + attentionBackends.size());
        }
        this.backends = attentionBackends == null ? null : attentionBackends.toArray(new AttentionBackend[0]);
        this.config = Objects.requireNonNull(config, "config");
        this.weights = Objects.requireNonNull(weights, "weights");
        this.ops = Objects.requireNonNull(ops, "ops");
        this.el = Objects.requireNonNull(elementOps, "elementOps");
        if (attentionThreads < 1) {
            throw new IllegalArgumentException("attentionThreads must be ≥ 1, got " + attentionThreads);
        }
        this.attentionThreads = attentionThreads;
        this.rope = new Rope(config, weights.ropeFreqs());
        int layers = weights.layers().length;
        this.qkv = new QuantizedMatrix[layers][];
        this.gateUp = new QuantizedMatrix[layers][];
        for (int l = 0; l < layers; l++) {
            LlamaWeights.Layer w = weights.layers()[l];
            qkv[l] = new QuantizedMatrix[] {w.wq(), w.wk(), w.wv()};
            gateUp[l] = new QuantizedMatrix[] {w.w1(), w.w3()};
        }
        this.keyRotation = new TabulatedRotation();
        WorkerTeam shared = ops.workerTeam();
        if (attentionThreads == 1) {
            this.attentionTeam = null;
            this.ownTeam = null;
        } else if (shared != null && shared.size() == attentionThreads) {
            this.attentionTeam = shared;
            this.ownTeam = null;
        } else {
            // a second set of threads beside the ops' own: it parks at once, so it never spins while they work
            this.ownTeam = new WorkerTeam("reviver-attention", attentionThreads, 0);
            this.attentionTeam = ownTeam;
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    /** Describes the numeric paths, for logs. */
    public String describe() {
        return config.architecture().ggufName() + " dim=" + config.dim() + " layers=" + config.nLayers() + " heads="
            + config.nHeads() + "/" + config.nKvHeads() + " vocab=" + config.vocabSize() + "; ops: " + ops.describe()
            + "; element ops: " + el.describe() + "; attention threads: " + attentionThreads + "; attention: "
            + (backends == null ? "built-in java" : backends[0].status().toString());
    }

    /** Scratch activations for batches of up to {@code maxBatch} tokens. */
    public State newState(int maxBatch) {
        return new State(config, maxBatch);
    }

    /** A dense cache for {@code capacity} positions (at most the context length). */
    public KvCache newCache(int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " outside [1, contextLength = "
                + config.contextLength() + "]");
        }
        return new DenseKvCache(config.nLayers(), config.nKvHeads(), config.headSize(), capacity);
    }

    /**
     * Runs {@code n} tokens {@code tokens[off, off + n)} at positions {@code [startPos, startPos + n)} through
     * the decoder, appending their keys and values to {@code cache} (which must hold exactly {@code startPos}
     * positions), and writes logits. The n rows are one prompt's: their products take
     * {@link TensorOps.Rows#PROMPT}'s route and their attention the prompt rows' (keys transposed), so they may
     * differ from decoding the tokens one at a time by float rounding, but never by the thread count nor by how a
     * prompt is split into calls (or packed with others, {@link #forwardChunks}).
     *
     * @param state     scratch with {@code maxBatch ≥ n}
     * @param logits    if {@code allRows}: (n, vocabSize) row-major, the logits of every token; otherwise
     *                  (vocabSize): the logits of the last token only; null skips the logits (an intermediate
     *                  prefill batch)
     * @throws IllegalArgumentException for a token id outside the vocabulary or positions beyond the cache
     */
    public void forward(State state, KvCache cache, int[] tokens, int off, int n, int startPos, float[] logits,
                        boolean allRows) {
        checkForwardArgs(state, cache, tokens, off, n, startPos, logits, allRows);
        for (int t = 0; t < n; t++) {
            state.rowCache[t] = cache;
            state.rowPos[t] = startPos + t;
        }
        state.segments = 1;
        state.segStart[0] = 0;
        state.segStart[1] = n;
        forwardRows(state, tokens, off, n, logits, allRows, TensorOps.Rows.PROMPT);
    }

    /**
     * Prompt chunks of several sequences in one forward pass: chunk i is {@code counts[i]} tokens
     * {@code tokens[i][offs[i], offs[i] + counts[i])}, run at the positions that follow what {@code caches[i]}
     * holds and appended to it. Every weight product runs once over all the chunks' rows, on
     * {@link TensorOps.Rows#PROMPT}'s route; attention is per sequence. A prompt row's products depend on nothing
     * but the row, so each sequence gets the bits {@link #forward} gives its chunk alone.
     *
     * @param state  scratch with {@code maxBatch} ≥ the chunks' total rows
     * @param caches {@code seqs} distinct caches
     * @param logits per sequence: null, or (vocabSize) receiving the logits of its chunk's last token
     * @throws IllegalArgumentException for a repeated cache, too many rows, or bad tokens or positions
     */
    public void forwardChunks(State state, KvCache[] caches, int[][] tokens, int[] offs, int[] counts, int seqs,
                              float[][] logits) {
        if (seqs < 1) {
            throw new IllegalArgumentException("no prompt chunks to run");
        }
        long total = 0;
        for (int i = 0; i < seqs; i++) {
            if (counts[i] < 1) {
                throw new IllegalArgumentException("prompt chunk " + i + " has " + counts[i] + " tokens");
            }
            total += counts[i];
        }
        if (total > state.maxBatch) {
            throw new IllegalArgumentException(seqs + " prompt chunks of " + total + " rows in all exceed maxBatch = "
                + state.maxBatch);
        }
        int n = 0;
        for (int i = 0; i < seqs; i++) {
            for (int j = 0; j < i; j++) {
                if (caches[j] == caches[i]) {
                    throw new IllegalArgumentException("chunks " + j + " and " + i + " share one cache");
                }
            }
            int start = caches[i].length(0);
            checkForwardArgs(state, caches[i], tokens[i], offs[i], counts[i], start, logits[i], false);
            state.segStart[i] = n;
            for (int t = 0; t < counts[i]; t++) {
                state.packedTokens[n] = tokens[i][offs[i] + t];
                state.rowCache[n] = caches[i];
                state.rowPos[n] = start + t;
                n++;
            }
        }
        state.segments = seqs;
        state.segStart[seqs] = n;
        forwardRows(state, state.packedTokens, 0, n, null, false, TensorOps.Rows.PROMPT);
        for (int i = 0; i < seqs; i++) {
            if (logits[i] != null) {
                lastRowLogits(state, state.segStart[i + 1] - 1, logits[i]);
            }
        }
    }

    /**
     * One decode step for {@code b} independent sequences at once: row i runs {@code tokens[i]} at
     * {@code positions[i]} against {@code caches[i]}. Every weight product is one (b × cols) matmul, so the weights
     * are read once for all sequences; attention is per sequence.
     *
     * @param caches    b distinct caches; cache i must hold exactly {@code positions[i]} positions
     * @param logits    (b, vocabSize) row-major: the next-token logits of each sequence
     * @throws IllegalArgumentException for b outside [1, maxBatch], a repeated cache, or bad tokens or positions
     */
    public void decodeBatch(State state, KvCache[] caches, int[] tokens, int[] positions, int b, float[] logits) {
        if (b < 1 || b > state.maxBatch) {
            throw new IllegalArgumentException("decode batch of " + b + " sequences outside [1, maxBatch = "
                + state.maxBatch + "]");
        }
        if (logits.length < (long) b * config.vocabSize()) {
            throw new IllegalArgumentException("logits array of " + logits.length + " is too small for " + b + " rows");
        }
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < i; j++) {
                if (caches[j] == caches[i]) {
                    throw new IllegalArgumentException("sequences " + j + " and " + i + " share one cache");
                }
            }
            checkForwardArgs(state, caches[i], tokens, i, 1, positions[i], null, false);
            state.rowCache[i] = caches[i];
            state.rowPos[i] = positions[i];
            state.segStart[i] = i;
        }
        state.segments = b;
        state.segStart[b] = b;
        forwardRows(state, tokens, 0, b, logits, true, TensorOps.Rows.INDEPENDENT);
    }

    /**
     * The forward pass over n rows whose caches and positions are in {@code s.rowCache}, {@code s.rowPos}, grouped
     * in segments (runs of rows of one sequence at consecutive positions: a prefill batch is one segment, a
     * multi-sequence decode step one segment per sequence).
     */
    private void forwardRows(State s, int[] tokens, int off, int n, float[] logits, boolean allRows,
                             TensorOps.Rows kind) {
        final LlamaConfig c = config;
        final int dim = c.dim();
        final int qDim = c.qDim();
        final int kvDim = c.kvDim();
        final int hiddenDim = c.hiddenDim();
        s.promptRows = kind == TensorOps.Rows.PROMPT;

        // 1. Embedding look-up: x[t] = token_embd[token_t].
        for (int t = 0; t < n; t++) {
            ops.dequantizeRow(weights.tokenEmbedding(), tokens[off + t], s.x, t * dim);
        }
        // RoPE angles for the rows' positions, shared by all layers.
        for (int t = 0; t < n; t++) {
            rope.angles(s.rowPos[t], s.cos[t], s.sin[t]);
        }

        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer w = weights.layers()[l];

            // 2. Attention pre-norm: xb = RMSNorm(x) · attn_norm.
            rmsNorm(s.xb, s.x, w.attnNorm(), n, dim);

            // 3. QKV projections for the whole batch (+ bias for Qwen2): q = xb·Wqᵀ, k = xb·Wkᵀ, v = xb·Wvᵀ.
            ops.matmulShared(qkv[l], s.xb, n, s.qkvOut, kind);
            if (w.bq() != null) {
                addBias(s.q, w.bq(), n, qDim);
                addBias(s.k, w.bk(), n, kvDim);
                addBias(s.v, w.bv(), n, kvDim);
            }

            // 4. RoPE on every query and key head at its token's position.
            for (int t = 0; t < n; t++) {
                rope.rotate(s.q, t * qDim, c.nHeads(), c.headSize(), s.cos[t], s.sin[t]);
                rope.rotate(s.k, t * kvDim, c.nKvHeads(), c.headSize(), s.cos[t], s.sin[t]);
            }

            // 5. Append each row's keys and values to its sequence's cache.
            for (int t = 0; t < n; t++) {
                s.rowCache[t].append(l, s.rowPos[t], s.k, t * kvDim, s.v, t * kvDim);
            }

            // 6. Causal GQA attention: row t attends to its cache's positions [0, rowPos[t]]; result in att (n, qDim).
            attention(s, l);

            // 7. Output projection and residual: x += att·Woᵀ.
            ops.matmul(w.wo(), s.att, n, s.proj, kind);
            addInPlace(s.x, s.proj, n * dim);

            // 8. FFN pre-norm: xb = RMSNorm(x) · ffn_norm.
            rmsNorm(s.xb, s.x, w.ffnNorm(), n, dim);

            // 9. SwiGLU FFN and residual: x += (silu(xb·W1ᵀ) ⊙ (xb·W3ᵀ))·W2ᵀ.
            ops.matmulShared(gateUp[l], s.xb, n, s.gateUpOut, kind);
            swiGlu(s, n * hiddenDim);
            ops.matmul(w.w2(), s.hb, n, s.proj, kind);
            addInPlace(s.x, s.proj, n * dim);
        }

        // 10. Final norm and logits (of every row, or of the last row only).
        if (logits == null) {
            return;
        }
        if (allRows) {
            rmsNorm(s.xb, s.x, weights.outputNorm(), n, dim);
            ops.matmul(weights.output(), s.xb, n, logits, kind);
        } else {
            lastRowLogits(s, n - 1, logits);
        }
    }

    /** The logits (vocabSize) of row {@code row} of the forward pass just run: final norm, then the output matrix. */
    private void lastRowLogits(State s, int row, float[] logits) {
        int dim = config.dim();
        System.arraycopy(s.x, row * dim, s.lastRow, 0, dim);
        rmsNorm(s.lastRow, s.lastRow, weights.outputNorm(), 1, dim);
        ops.matmul(weights.output(), s.lastRow, 1, logits);
    }

    /**
     * Prefill: runs {@code tokens} from {@code startPos} in batches of {@code state.maxBatch()} tokens.
     *
     * @param allLogits if non-null, (tokens.length, vocabSize) row-major receives the logits of every token
     * @param lastLogits (vocabSize) receives the logits of the last token
     */
    public void prefill(State state, KvCache cache, int[] tokens, int startPos, float[] allLogits, float[] lastLogits) {
        int vocab = config.vocabSize();
        for (int done = 0; done < tokens.length; ) {
            int n = Math.min(state.maxBatch, tokens.length - done);
            if (allLogits != null) {
                float[] batchLogits = state.batchLogits();
                forward(state, cache, tokens, done, n, startPos + done, batchLogits, true);
                System.arraycopy(batchLogits, 0, allLogits, done * vocab, n * vocab);
            } else if (done + n == tokens.length) {
                forward(state, cache, tokens, done, n, startPos + done, lastLogits, false);
            } else {
                forward(state, cache, tokens, done, n, startPos + done, null, false);
            }
            done += n;
        }
        if (allLogits != null && tokens.length > 0) {
            System.arraycopy(allLogits, (tokens.length - 1) * vocab, lastLogits, 0, vocab);
        }
    }

    /**
     * The context a press needs for one sequence of this model, including its RoPE (for presses that keep keys
     * before rotation) and, when this model runs attention on backends, those backends (one per KV head), so a
     * press's sketch operations run where attention runs. The model keeps owning them: backend g is used by the
     * press only inside this model's calls for KV head g and in compression between forward passes (see
     * {@link PressContext#backends}); one thread at a time may drive a model built with backends.
     *
     * @param capacity     prompt + new tokens (≤ the context length)
     * @param promptLength tokens compressed after prefill
     * @param seed         seed of the press's randomised parts
     */
    public PressContext pressContext(int capacity, int promptLength, long seed) {
        return new PressContext(config.nLayers(), config.nKvHeads(), config.headSize(), config.kvMul(), capacity,
            promptLength, seed, keyRotation, backends == null ? null : List.of(backends));
    }

    /** This model's RoPE for one key head (thread-safe). */
    public KeyRotation keyRotation() {
        return keyRotation;
    }

    /**
     * This model's RoPE applied to one key head, and its dot form. Angles are tabulated lazily up to the largest
     * position used, once: as the dot form's features (the cosines, then the sines, which the forward rotation
     * reads too) and the inverse rotation's negated sines.
     */
    private final class TabulatedRotation implements KeyRotation, KeyRotation.DotForm {
        // (positions, headSize): Rope.features of each position, its cosines then its sines (then ones)
        private volatile float[][] features = new float[0][];
        private volatile float[][] negSin = new float[0][]; // (positions, ropeDim / 2): the inverse rotation's sines

        @Override
        public void rotate(float[] vec, int off, int position, boolean inverse) {
            float[] f = features(position);
            if (inverse) {
                rope.rotate(vec, off, 1, config.headSize(), f, 0, negSin[position], 0);
            } else {
                rope.rotate(vec, off, 1, config.headSize(), f, 0, f, config.ropeDim() / 2);
            }
        }

        @Override
        public KeyRotation.DotForm dotForm() {
            return this;
        }

        @Override
        public float[] features(int position) {
            float[][] f = features;
            if (position >= f.length) {
                grow(position + 1);
                f = features;
            }
            return f[position];
        }

        @Override
        public void pairProducts(float[] q, int qOff, float[] x, int xOff, float scale, float[] out, int outOff) {
            rope.pairProducts(q, qOff, x, xOff, config.headSize(), scale, out, outOff);
        }

        private synchronized void grow(int needed) {
            int n = features.length;
            if (needed <= n) {
                return;
            }
            int size = Math.min(config.contextLength(), Math.max(needed, 2 * n + 64));
            if (needed > size) {
                throw new IllegalArgumentException("position " + (needed - 1) + " beyond the context length "
                    + config.contextLength());
            }
            float[][] f = java.util.Arrays.copyOf(features, size);
            float[][] ns = java.util.Arrays.copyOf(negSin, size);
            int half = config.ropeDim() / 2;
            float[] cos = new float[half];
            float[] sin = new float[half];
            for (int p = n; p < size; p++) {
                rope.angles(p, cos, sin);
                f[p] = new float[config.headSize()];
                rope.features(cos, sin, config.headSize(), f[p]);
                ns[p] = new float[half];
                for (int i = 0; i < half; i++) {
                    ns[p][i] = -sin[i];
                }
            }
            negSin = ns;
            features = f; // published last: readers check features.length first
        }
    }

    /**
     * Runs extra tokens through this model for a press's scoring pass (logits are not computed), with
     * {@code state}'s batch size.
     */
    public KvPress.TokenRunner tokenRunner(State state) {
        return new KvPress.TokenRunner() {
            @Override
            public void run(KvCache cache, int[] tokens, int startPos) {
                for (int done = 0; done < tokens.length; ) {
                    int n = Math.min(state.maxBatch, tokens.length - done);
                    forward(state, cache, tokens, done, n, startPos + done, null, false);
                    done += n;
                }
            }

            @Override
            public int contextLength() {
                return config.contextLength();
            }
        };
    }

    /**
     * One decode step: the logits (vocabSize) after {@code token} at {@code position}. Its products take the
     * {@link TensorOps.Rows#INDEPENDENT} route, so it gives the bits of the same sequence's row in
     * {@link #decodeBatch}.
     */
    public void decode(State state, KvCache cache, int token, int position, float[] logits) {
        state.single[0] = token;
        checkForwardArgs(state, cache, state.single, 0, 1, position, logits, false);
        state.rowCache[0] = cache;
        state.rowPos[0] = position;
        state.segments = 1;
        state.segStart[0] = 0;
        state.segStart[1] = 1;
        forwardRows(state, state.single, 0, 1, logits, false, TensorOps.Rows.INDEPENDENT);
    }

    private void checkForwardArgs(State s, KvCache cache, int[] tokens, int off, int n, int startPos, float[] logits,
                                  boolean allRows) {
        if (s.config != config) {
            throw new IllegalArgumentException("state was made for a different model");
        }
        if (n < 1 || n > s.maxBatch) {
            throw new IllegalArgumentException("batch of " + n + " tokens outside [1, maxBatch = " + s.maxBatch + "]");
        }
        if (off < 0 || off + n > tokens.length) {
            throw new IllegalArgumentException("tokens[" + off + ", " + (off + n) + ") outside an array of "
                + tokens.length);
        }
        if (cache.nLayers() != config.nLayers() || cache.nKvHeads() != config.nKvHeads()
            || cache.headSize() != config.headSize()) {
            throw new IllegalArgumentException("cache shape (" + cache.nLayers() + ", " + cache.nKvHeads() + ", "
                + cache.headSize() + ") does not match the model");
        }
        if (startPos < 0 || startPos + n > cache.capacity() || startPos + n > config.contextLength()) {
            throw new IllegalArgumentException("positions [" + startPos + ", " + (startPos + n) + ") exceed the cache "
                + "capacity " + cache.capacity() + " or context length " + config.contextLength());
        }
        if (cache.length(0) != startPos) {
            throw new IllegalStateException("cache holds " + cache.length(0) + " positions but the batch starts at "
                + startPos);
        }
        if (logits != null && logits.length < (allRows ? (long) n * config.vocabSize() : config.vocabSize())) {
            throw new IllegalArgumentException("logits array of " + logits.length + " is too small");
        }
        checkTokens(tokens, off, n, startPos);
    }

    /**
     * Checks that {@code tokens[off, off + n)}, at positions from {@code startPos}, are ids of this model's
     * vocabulary.
     *
     * @throws IllegalArgumentException naming the first id outside it and its position
     */
    public void checkTokens(int[] tokens, int off, int n, int startPos) {
        for (int t = 0; t < n; t++) {
            int tok = tokens[off + t];
            if (tok < 0 || tok >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tok + " at position " + (startPos + t)
                    + " outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    /**
     * Step 6 of {@link #forward}: for every token t of the batch and query head h, softmax-weighted sum of the
     * values of KV head {@code h / kvMul} over positions {@code [0, startPos + t]}, with scores
     * {@code q·k / sqrt(headSize)}. One task per KV head (each reads its keys/values once).
     */
    private void attention(State s, int layer) {
        int nKvHeads = config.nKvHeads();
        if (attentionTeam == null || nKvHeads == 1) {
            for (int g = 0; g < nKvHeads; g++) {
                attendSegments(s, layer, g);
            }
            return;
        }
        // part p takes KV heads p, p + parts, …: heads cost the same, and each runs on one thread at a time
        s.attentionLayer = layer;
        s.attentionParts = Math.min(attentionTeam.size(), nKvHeads);
        bindTeamJobs(s);
        attentionTeam.run(s.attentionParts, s.attentionJob);
    }

    /**
     * Makes {@code s}'s jobs for the attention team (attention over KV heads, SwiGLU over chunks) once per state
     * and model, so no pass allocates one; a state may serve another model of the same config, which rebinds them.
     */
    private void bindTeamJobs(State s) {
        if (s.teamJobsModel == this) {
            return;
        }
        s.teamJobsModel = this;
        s.attentionJob = p -> {
            for (int g = p; g < config.nKvHeads(); g += s.attentionParts) {
                attendSegments(s, s.attentionLayer, g);
            }
        };
        s.swiGluJob = p -> {
            int parts = attentionTeam.size();
            int chunks = s.swiGluLen / 64;
            int lo = (int) ((long) chunks * p / parts) * 64;
            int hi = p == parts - 1 ? s.swiGluLen : (int) ((long) chunks * (p + 1) / parts) * 64;
            el.swiGlu(s.hb, s.hb2, lo, hi - lo);
        };
    }

    /**
     * Below this many elements SwiGLU runs on the calling thread alone (a hand-off costs about a microsecond; 4,096
     * elements take several). The tiny test model's 16-row prefill chunks (6,144) take the split path.
     */
    private static final int SPLIT_SWIGLU = 1 << 12;

    /**
     * {@code s.hb[i] ← silu(s.hb[i]) · s.hb2[i]} for {@code i < len}, split in ranges of whole 64-element chunks
     * between the attention team's threads when it is long (the same bits: each element is computed alone). At B=8
     * this took about 2 ms of a 46 ms decode step on the calling thread while the other core waited.
     */
    private void swiGlu(State s, int len) {
        if (attentionTeam == null || len < SPLIT_SWIGLU) {
            el.swiGlu(s.hb, s.hb2, 0, len);
            return;
        }
        s.swiGluLen = len;
        bindTeamJobs(s);
        attentionTeam.run(attentionTeam.size(), s.swiGluJob);
    }

    /**
     * Attention for the query heads of one KV head (group), all tokens of the batch, over the entries the cache
     * holds in place or gathers (every position for a dense cache; kept and reconstructed entries for a compressed
     * one). Token t sees the entries whose position is ≤ {@code startPos + t}. When the entries' positions ascend
     * (dense cache, or a compressed cache without reconstruction) the visible entries are a prefix and the loops
     * stop there; otherwise invisible entries get weight 0. When the cache observes attention it receives each
     * token's weights (kvMul, count).
     */
    /** Attention of one KV head for every segment (sequence) of the rows, one after the other. */
    private void attendSegments(State s, int layer, int kvHead) {
        for (int g = 0; g < s.segments; g++) {
            int from = s.segStart[g];
            attendKvHead(s, s.rowCache[from], layer, kvHead, from, s.segStart[g + 1] - from, s.rowPos[from]);
        }
    }

    /**
     * Attention for rows {@code [row0, row0 + n)} of one sequence at positions {@code startPos, startPos + 1, …}.
     */
    private void attendKvHead(State s, KvCache cache, int layer, int kvHead, int row0, int n, int startPos) {
        final int hs = config.headSize();
        final int qDim = config.qDim();
        final int kvMul = config.kvMul();
        final float scale = (float) (1.0 / Math.sqrt(hs));
        if (cache.observesQueries()) {
            for (int t = 0; t < n; t++) {
                cache.observeQuery(layer, kvHead, startPos + t, s.q, (row0 + t) * qDim + kvHead * kvMul * hs);
            }
        }
        // Entry j's key and value are at keys[kvOff + j·stride] and values[kvOff + j·stride], headSize floats each.
        // A cache that can is read in place (a dense cache's head is one contiguous stream; a compressed cache's
        // exact entries are too), the entries of its sketch following in folded form; other caches, and the
        // attention backends, get a gathered copy of every entry. All go through the same arithmetic below.
        KvCache.InPlace view = backends == null ? cache.inPlace(layer, kvHead) : null;
        KvCache.Folded folded = view != null ? cache.folded(layer, kvHead) : null;
        final int rows = view != null ? view.count() : cache.entryCount(layer, kvHead); // entries with a key row
        final int count = rows + (folded == null ? 0 : folded.count());                // every entry
        final float[] keys;
        final float[] values;
        final int kvOff;
        final int stride;
        final int[] positions; // (rows) ascending absolute positions of the rows, or null for 0, 1, …
        boolean ascending = true;
        if (view != null) {
            keys = view.keys();
            values = view.values();
            kvOff = view.offset();
            stride = view.stride();
            positions = view.positions();
        } else {
            keys = s.headScratch(s.keyScratch, kvHead, count * hs);     // (count, headSize)
            values = s.headScratch(s.valueScratch, kvHead, count * hs); // (count, headSize)
            positions = s.positionScratch(kvHead, count);
            cache.gather(layer, kvHead, keys, values, positions);
            kvOff = 0;
            stride = hs;
            for (int j = 1; j < count && ascending; j++) {
                ascending = positions[j] > positions[j - 1];
            }
        }
        if (folded != null && folded.lastPosition() >= startPos) {
            throw new IllegalStateException("layer " + layer + " KV head " + kvHead + ": the cache folds position "
                + folded.lastPosition() + ", not before this forward pass's first position " + startPos);
        }
        float[] foldScratch = folded == null ? null : s.headScratch(s.foldScratch, kvHead, folded.scratchFloats(kvMul));
        int[] foldEntries = folded == null ? null : s.intScratch(s.foldEntryScratch, kvHead, folded.entryInts());
        float[] scores = s.headScratch(s.scoreScratch, kvHead, kvMul * count); // (kvMul, count)
        final boolean observe = cache.observesAttention();
        // a backend takes prompt rows only over ascending positions (where it serves each row alike whatever the
        // chunk), and a decode row over any cache
        if (backends != null && (ascending || (n == 1 && !s.promptRows))) {
            // (kvMul, count): the backend's weights, padded for the cache
            float[] observed = observe ? s.headScratch(s.observedScratch, kvHead, kvMul * count) : null;
            attendOnBackend(s, cache, layer, kvHead, row0, n, startPos, keys, values, positions, count, ascending,
                observed);
            return;
        }
        // For prompt rows (prefill), transpose the keys once to (headSize, rows) so scores are computed along
        // positions with vector FMAs; a decode query keeps the per-entry dot products. The choice follows the rows'
        // kind, never their number, so a prompt row's scores do not depend on how its prompt was chunked or packed
        // (from 2026-11; before, chunks of fewer than 8 rows took the dot products).
        float[] keysT = null;
        if (s.promptRows) {
            keysT = s.headScratch(s.keyTScratch, kvHead, hs * rows); // (headSize, rows)
            // in blocks of 16 positions, so each element row of keysT gets a whole cache line at a time: one
            // position at a time wrote headSize lines `rows` floats apart, which for rows a multiple of 1,024
            // all fall in one L1 set (measured on the bundled model: 17% of its prefill went to this copy)
            for (int j0 = 0; j0 < rows; j0 += TRANSPOSE_BLOCK) {
                int j1 = Math.min(rows, j0 + TRANSPOSE_BLOCK);
                for (int c = 0; c < hs; c++) {
                    int o = c * rows;
                    for (int j = j0; j < j1; j++) {
                        keysT[o + j] = keys[kvOff + j * stride + c];
                    }
                }
            }
        }
        int visible = 0; // with ascending positions: rows [0, visible) have position ≤ the query's
        for (int t = 0; t < n; t++) {
            final int queryPos = startPos + t;
            final int len; // rows scored: the visible prefix (ascending positions), else every row
            if (positions == null) {
                len = Math.min(rows, queryPos + 1);
            } else if (ascending) {
                while (visible < rows && positions[visible] <= queryPos) {
                    visible++;
                }
                len = visible;
            } else {
                len = rows;
            }
            // entries taking part in the softmax: the scored rows, or, with folded entries after them, every entry
            final int span = folded == null ? len : count;
            int qGroup = (row0 + t) * qDim + kvHead * kvMul * hs; // the group's kvMul queries, hs apart
            if (keysT == null && folded == null && ascending && el.fusesAttention()) {
                // nothing to mask or fold: the scores, softmax and weighted values below in one native call (the
                // same steps, to the vector path's bits)
                el.attend(s.q, qGroup, kvMul, hs, scale, keys, values, kvOff, stride, len, scores, 0, count, s.att,
                    qGroup);
                if (observe) { // entries past the scored rows get weight 0
                    for (int hi = 0; hi < kvMul; hi++) {
                        java.util.Arrays.fill(scores, hi * count + len, (hi + 1) * count, 0f);
                    }
                    cache.observeAttention(layer, kvHead, queryPos, scores, count);
                }
                continue;
            }
            if (keysT != null) {
                // scores = Σ_c (q[c]·scale) · keysᵀ[c][0, len): vector FMAs along the positions, no reductions
                el.transposedDots(s.q, qGroup, hs, kvMul, scale, keysT, rows, hs, scores, 0, count, len);
            } else {
                // one dot product per entry and head, each key read once for the group's heads
                el.headDots(s.q, qGroup, kvMul, hs, scale, keys, kvOff, stride, len, scores, 0, count);
            }
            if (folded != null) {
                folded.scores(s.q, qGroup, kvMul, scale, scores, rows, count, foldScratch, foldEntries);
            }
            for (int hi = 0; hi < kvMul; hi++) {
                int so = hi * count;
                if (!ascending) {
                    for (int j = 0; j < len; j++) {
                        if (positions[j] > queryPos) {
                            scores[so + j] = Float.NEGATIVE_INFINITY;
                        }
                    }
                }
                if (folded != null) { // rows past the visible prefix, before the folded entries, get no weight
                    java.util.Arrays.fill(scores, so + len, so + rows, Float.NEGATIVE_INFINITY);
                }
                el.softmax(scores, so, span);
                if (observe) { // the weights are reported in place: entries past the span get weight 0
                    java.util.Arrays.fill(scores, so + span, so + count, 0f);
                }
            }
            // the weighted values, the group's heads sharing each row's loads where they can
            el.weightedRowsHeads(scores, 0, count, kvMul, len, values, kvOff, stride, hs, s.att, qGroup, hs);
            if (folded != null) {
                folded.addWeightedValues(scores, rows, count, kvMul, s.att, qGroup, foldScratch, foldEntries);
            }
            if (observe) {
                cache.observeAttention(layer, kvHead, queryPos, scores, count);
            }
        }
    }

    /**
     * {@link #attendKvHead} on this KV head's {@link AttentionBackend}: one pair per token, all pointing at the
     * gathered block with its causal length (a prefix, as the positions ascend; a single decode token sees every
     * entry), the group's queries copied to (n, kvMul, headSize); weights are requested only when the cache
     * observes attention, and padded with zeros to (kvMul, count) per token.
     */
    private void attendOnBackend(State s, KvCache cache, int layer, int kvHead, int row0, int n, int startPos,
                                 float[] keys, float[] values, int[] positions, int count, boolean ascending,
                                 float[] observed) {
        final int hs = config.headSize();
        final int qDim = config.qDim();
        final int kvMul = config.kvMul();
        float[] queries = s.headScratch(s.queryScratch, kvHead, n * kvMul * hs); // (n, kvMul, headSize)
        float[] out = s.headScratch(s.outScratch, kvHead, n * kvMul * hs);      // (n, kvMul, headSize)
        int[] blockStart = new int[n];
        int[] blockLength = new int[n];
        int visible = 0;
        for (int t = 0; t < n; t++) {
            System.arraycopy(s.q, (row0 + t) * qDim + kvHead * kvMul * hs, queries, t * kvMul * hs, kvMul * hs);
            if (ascending) {
                while (visible < count && positions[visible] <= startPos + t) {
                    visible++;
                }
                blockLength[t] = visible;
            } else {
                blockLength[t] = count;
            }
        }
        // the backend derives the entry count from the arrays: hand it exactly the gathered entries
        float[] k = keys.length == count * hs ? keys : java.util.Arrays.copyOf(keys, count * hs);
        float[] v = values.length == count * hs ? values : java.util.Arrays.copyOf(values, count * hs);
        AttentionBatch batch = new AttentionBatch(n, kvMul, hs, (float) (1.0 / Math.sqrt(hs)),
            queries.length == n * kvMul * hs ? queries : java.util.Arrays.copyOf(queries, n * kvMul * hs), k, v,
            blockStart, blockLength, null);
        int[] wOff = observed == null ? null : batch.weightOffsets();
        float[] weights = observed == null ? null : new float[wOff[n]];
        AttentionBackend backend = backends[kvHead];
        synchronized (backend) { // backends are not thread-safe; concurrent forward passes share them
            backend.attend(batch, out, weights);
        }
        for (int t = 0; t < n; t++) {
            System.arraycopy(out, t * kvMul * hs, s.att, (row0 + t) * qDim + kvHead * kvMul * hs, kvMul * hs);
            if (observed != null) {
                for (int g = 0; g < kvMul; g++) {
                    System.arraycopy(weights, wOff[t] + g * blockLength[t], observed, g * count, blockLength[t]);
                    java.util.Arrays.fill(observed, g * count + blockLength[t], (g + 1) * count, 0f);
                }
                cache.observeAttention(layer, kvHead, startPos + t, observed, count);
            }
        }
    }

    /** {@code out[t] = x[t] / sqrt(mean(x[t]²) + eps) ⊙ w} for rows t < n of width dim; out may alias x. */
    private void rmsNorm(float[] out, float[] x, float[] w, int n, int dim) {
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            float ms = el.sumOfSquares(x, o, dim) / dim;
            float inv = (float) (1.0 / Math.sqrt(ms + config.rmsEps()));
            for (int i = 0; i < dim; i++) {
                out[o + i] = x[o + i] * inv * w[i];
            }
        }
    }

    private static void addBias(float[] rows, float[] bias, int n, int width) {
        for (int t = 0; t < n; t++) {
            int o = t * width;
            for (int i = 0; i < width; i++) {
                rows[o + i] += bias[i];
            }
        }
    }

    private static void addInPlace(float[] acc, float[] x, int len) {
        for (int i = 0; i < len; i++) {
            acc[i] += x[i];
        }
    }

    /**
     * Stops the attention threads this model made (never the ops' team it may share) and closes the attention
     * backends. Does not close the TensorOps or the model file.
     */
    @Override
    public void close() {
        if (ownTeam != null) {
            ownTeam.close();
        }
        if (backends != null) {
            for (AttentionBackend b : backends) {
                b.close();
            }
        }
    }

    /**
     * Scratch activations of one caller, for batches of up to {@link #maxBatch()} tokens. Not thread-safe; one
     * per concurrent forward pass.
     */
    public static final class State {
        private final LlamaConfig config;
        private final int maxBatch;
        final float[] x;       // (maxBatch, dim) residual stream
        final float[] xb;      // (maxBatch, dim) normalised input of attention / FFN
        final float[] q;       // (maxBatch, qDim) queries
        final float[] k;       // (maxBatch, kvDim) keys of the batch
        final float[] v;       // (maxBatch, kvDim) values of the batch
        final float[] att;     // (maxBatch, qDim) attention output, heads concatenated
        final float[] proj;    // (maxBatch, dim) output of wo and of w2
        final float[] hb;      // (maxBatch, hiddenDim) gate, then silu(gate) ⊙ up
        final float[] hb2;     // (maxBatch, hiddenDim) up
        final float[][] qkvOut;    // {q, k, v}: the outputs of the shared-input products
        final float[][] gateUpOut; // {hb, hb2}
        final float[] lastRow; // (dim) last token's residual, normalised for the logits
        final float[][] cos;   // (maxBatch, ropeDim / 2) RoPE cosines per batch token
        final float[][] sin;   // (maxBatch, ropeDim / 2)
        final int[] single = new int[1];
        final int[] packedTokens;  // (maxBatch) the token of each row of a forwardChunks pass
        final KvCache[] rowCache; // (maxBatch) the cache of each row of the current forward pass
        final int[] rowPos;       // (maxBatch) the position of each row
        final int[] segStart;     // (maxBatch + 1) first row of each segment, then n
        int segments;             // segments of the current forward pass
        boolean promptRows;       // the current forward pass's rows are prompt rows (TensorOps.Rows.PROMPT)
        int attentionLayer;       // the layer whose attention attentionJob computes
        int attentionParts;       // the parts attentionJob's KV heads are split into
        java.util.function.IntConsumer attentionJob; // part p: the KV heads p, p + parts, … (see bindTeamJobs)
        int swiGluLen;            // elements of hb and hb2 that swiGluJob computes
        java.util.function.IntConsumer swiGluJob; // part p: its range of whole 64-element chunks (see bindTeamJobs)
        Object teamJobsModel;     // the model attentionJob and swiGluJob belong to
        final float[][] keyScratch;   // per KV head: (positions, headSize), grown on demand
        final float[][] valueScratch; // per KV head: (positions, headSize)
        final float[][] scoreScratch; // per KV head: (kvMul, positions)
        final float[][] observedScratch; // per KV head: (kvMul, positions) an attention backend's weights, reported
        final int[][] positionScratch;   // per KV head: (positions) absolute positions of the gathered entries
        final float[][] keyTScratch;     // per KV head: (headSize, positions) transposed keys for prefill
        final float[][] queryScratch;    // per KV head: (batch, kvMul, headSize) queries for an attention backend
        final float[][] outScratch;      // per KV head: (batch, kvMul, headSize) its output
        final float[][] foldScratch;     // per KV head: the scratch of the cache's folded entries (Folded)
        final int[][] foldEntryScratch;  // per KV head: (folded entries, sketch rows) their buckets
        private float[] batchLogits;  // (maxBatch, vocabSize), allocated on first all-rows prefill

        State(LlamaConfig c, int maxBatch) {
            if (maxBatch < 1 || maxBatch > 4096) {
                throw new IllegalArgumentException("batch size " + maxBatch + " outside [1, 4096]");
            }
            this.config = c;
            this.maxBatch = maxBatch;
            x = new float[maxBatch * c.dim()];
            xb = new float[maxBatch * c.dim()];
            q = new float[maxBatch * c.qDim()];
            k = new float[maxBatch * c.kvDim()];
            v = new float[maxBatch * c.kvDim()];
            att = new float[maxBatch * c.qDim()];
            proj = new float[maxBatch * c.dim()];
            hb = new float[maxBatch * c.hiddenDim()];
            hb2 = new float[maxBatch * c.hiddenDim()];
            qkvOut = new float[][] {q, k, v};
            gateUpOut = new float[][] {hb, hb2};
            lastRow = new float[c.dim()];
            rowCache = new KvCache[maxBatch];
            packedTokens = new int[maxBatch];
            rowPos = new int[maxBatch];
            segStart = new int[maxBatch + 1];
            cos = new float[maxBatch][c.ropeDim() / 2];
            sin = new float[maxBatch][c.ropeDim() / 2];
            keyScratch = new float[c.nKvHeads()][];
            valueScratch = new float[c.nKvHeads()][];
            scoreScratch = new float[c.nKvHeads()][];
            observedScratch = new float[c.nKvHeads()][];
            positionScratch = new int[c.nKvHeads()][];
            queryScratch = new float[c.nKvHeads()][];
            keyTScratch = new float[c.nKvHeads()][];
            outScratch = new float[c.nKvHeads()][];
            foldScratch = new float[c.nKvHeads()][];
            foldEntryScratch = new int[c.nKvHeads()][];
        }

        /** Largest batch this state accepts (the prefill batch size). */
        public int maxBatch() {
            return maxBatch;
        }

        /** The per-head buffer {@code slots[kvHead]}, grown (doubling) to at least {@code size}. */
        float[] headScratch(float[][] slots, int kvHead, int size) {
            float[] b = slots[kvHead];
            if (b == null || b.length < size) {
                b = new float[Math.max(size, b == null ? 0 : 2 * b.length)];
                slots[kvHead] = b;
            }
            return b;
        }

        /** The per-head position buffer, grown (doubling) to at least {@code size}. */
        int[] positionScratch(int kvHead, int size) {
            return intScratch(positionScratch, kvHead, size);
        }

        /** The per-head int buffer {@code slots[kvHead]}, grown (doubling) to at least {@code size}. */
        int[] intScratch(int[][] slots, int kvHead, int size) {
            int[] b = slots[kvHead];
            if (b == null || b.length < size) {
                b = new int[Math.max(size, b == null ? 0 : 2 * b.length)];
                slots[kvHead] = b;
            }
            return b;
        }

        float[] batchLogits() {
            if (batchLogits == null) {
                batchLogits = new float[maxBatch * config.vocabSize()];
            }
            return batchLogits;
        }
    }
}
