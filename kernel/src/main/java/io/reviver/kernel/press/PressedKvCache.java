package io.reviver.kernel.press;

import io.reviver.kernel.cache.FloatArrayPool;
import io.reviver.kernel.cache.KvCache;
import java.util.Arrays;

/**
 * The compression mechanism shared by every lossy press: a KV cache that holds, per (layer, KV head), a set of
 * exact entries (key, value, absolute position, score) and optionally a {@link VagueStore} of evicted entries.
 *
 * <p>Life of a sequence: prefill appends every prompt position (the cache then holds the whole prompt) while
 * the forward pass reports attention weights, which feed each entry's score as the press's
 * {@link KvPress.Accumulation} says; {@link KvPress#compress} then keeps per head the sinks, the recent window
 * and the top-ranked entries up to the head's exact capacity (from the budget), moving the others to the vague
 * store or dropping them, and shrinks the arrays to that capacity; during decode, every append beyond the
 * capacity evicts the lowest-ranked unprotected entry the same way. A reviving press may, once per decode step
 * and head, bring the most-attended vague entry back into the exact set in exchange for the lowest-ranked one.
 *
 * <p>Exact entries stay in ascending position order, so the forward pass can stop at the causal limit; gathered
 * vague entries follow them. Per-head state is separate, so distinct heads may be gathered and observed
 * concurrently (see {@link KvCache}).
 */
public final class PressedKvCache implements KvCache, ScoringTarget {

    private final KvPress press;
    private final PressContext ctx;
    private final int headSize;
    private final HeadStore[] heads; // (nLayers, nKvHeads) row-major
    // [0] bytes of all heads' arrays now, [1] the most they took at once since the last takeAllocatedPeak (a growing
    // or shrinking head counts its old and new arrays while both live)
    private final long[] meter = new long[2];
    private boolean released;        // release() has given the arrays back
    private final int[] length;      // (nLayers): positions appended per layer
    private final int[] batchFrom;   // (nLayers): first position of the forward pass now appending (never evicted)
    private final boolean[] attended; // (nLayers): whether the layer was gathered since its last append
    private final int exactCapacity; // exact entries per head after compression
    private final long headBudget;   // bytes per head
    private boolean compressed;
    private int scoringFrom = -1;    // during a MAX scoring pass: entries at positions [scoringFrom, scoringTo)
    private int scoringTo = -1;      //   are scored
    private int scoringCapacity;     // positions accepted during a scoring pass (the model's context length)

    /**
     * @throws IllegalArgumentException when the budget cannot hold the sinks, the recent window and one entry
     */
    PressedKvCache(KvPress press, PressContext ctx) {
        this(press, ctx, (FloatArrayPool) null);
    }

    /**
     * A cache whose heads' key and value arrays come from {@code pool} (null: allocated), go back to it when a head
     * is resized (at compression) and when the cache is {@link #release(long) released}.
     *
     * @throws IllegalArgumentException when the budget cannot hold the sinks, the recent window and one entry
     */
    PressedKvCache(KvPress press, PressContext ctx, FloatArrayPool pool) {
        this.press = press;
        this.ctx = ctx;
        this.headSize = ctx.headSize();
        this.headBudget = (long) Math.floor(press.budget() * ctx.fullBytesPerHead());
        long vagueBytes = press.vagueBytes(ctx, headBudget);
        long entryBytes = KvPress.entryBytes(ctx);
        long cap = (headBudget - vagueBytes) / entryBytes;
        if (cap < press.sinks() + 2L) {
            throw new IllegalArgumentException("press " + press.describe() + ": a budget of " + headBudget
                + " bytes per head (" + press.budget() + " of " + ctx.fullBytesPerHead() + ") leaves room for " + cap
                + " exact entries, fewer than the " + (press.sinks() + 2) + " needed (sinks + 2); raise the budget "
                + "or the sequence length");
        }
        this.exactCapacity = (int) Math.min(cap, ctx.capacity());
        this.heads = new HeadStore[ctx.nLayers() * ctx.nKvHeads()];
        for (int l = 0; l < ctx.nLayers(); l++) {
            for (int g = 0; g < ctx.nKvHeads(); g++) {
                heads[l * ctx.nKvHeads() + g] = new HeadStore(ctx.promptLength() + 1 + press.scoringEntries(ctx),
                    headSize, press.newVagueStore(ctx, l, g), meter, pool);
            }
        }
        this.length = new int[ctx.nLayers()];
        this.batchFrom = new int[ctx.nLayers()];
        this.attended = new boolean[ctx.nLayers()];
        java.util.Arrays.fill(attended, true);
    }

    /**
     * A cache holding a recorded prefill's entries, with the scores the press would have accumulated itself
     * (compress it with {@link #compressNow}).
     */
    PressedKvCache(KvPress press, PressContext ctx, PrefillRecord record) {
        this(press, ctx);
        int n = record.recorded();
        if (n != ctx.promptLength()) {
            throw new IllegalArgumentException("the record holds " + n + " positions, the context says "
                + ctx.promptLength());
        }
        for (int l = 0; l < ctx.nLayers(); l++) {
            for (int g = 0; g < ctx.nKvHeads(); g++) {
                HeadStore h = heads[index(l, g)];
                h.ensure(n + 1);
                record.readHead(l, g, h.keys, h.values);
                float[] stat = record.statistic(press, l, g);
                for (int i = 0; i < n; i++) {
                    h.positions[i] = i;
                    h.score[i] = stat != null ? stat[i] : press.appendScore(h.keys, i * headSize, headSize);
                }
                h.count = n;
            }
            length[l] = n;
        }
    }

    /** The press that made this cache. */
    public KvPress press() {
        return press;
    }

    /** The sequence's context (shape, lengths, seed). */
    @Override
    public PressContext context() {
        return ctx;
    }

    /** Exact entries a head keeps after compression. */
    public int exactCapacity() {
        return exactCapacity;
    }

    /** Bytes each head may hold (budget × full bytes per head). */
    public long headBudgetBytes() {
        return headBudget;
    }

    /** The budget of the whole sequence in bytes. */
    public long budgetBytes() {
        return headBudget * heads.length;
    }

    /** Appended lengths per layer (for snapshots). */
    int[] lengths() {
        return length;
    }

    /** Restores the appended lengths and the compressed flag (snapshot reading). */
    void restore(int[] lengths, boolean wasCompressed) {
        System.arraycopy(lengths, 0, length, 0, length.length);
        this.compressed = wasCompressed;
        if (wasCompressed) { // a compressed cache keeps what compressNow keeps, not the prefill's room
            for (HeadStore h : heads) {
                h.shrink(exactCapacity + 1);
            }
        }
    }

    /** Whether {@link KvPress#compress} has run. */
    public boolean isCompressed() {
        return compressed;
    }

    /** The store of one head (for tests, diagnostics and snapshots). */
    public HeadStore head(int layer, int kvHead) {
        return heads[index(layer, kvHead)];
    }

    @Override
    public int nLayers() {
        return ctx.nLayers();
    }

    @Override
    public int nKvHeads() {
        return ctx.nKvHeads();
    }

    @Override
    public int headSize() {
        return headSize;
    }

    @Override
    public int capacity() {
        return Math.max(ctx.capacity(), scoringCapacity);
    }

    @Override
    public int length(int layer) {
        checkLayer(layer);
        return length[layer];
    }

    @Override
    public void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff) {
        checkLayer(layer);
        if (position != length[layer]) {
            throw new IllegalStateException("layer " + layer + ": appending position " + position
                + " but the next position is " + length[layer]);
        }
        if (position >= capacity()) {
            throw new IllegalStateException("layer " + layer + ": position " + position
                + " exceeds the sequence capacity " + capacity());
        }
        if (attended[layer]) { // the first append of a forward pass: its tokens are protected until attended
            batchFrom[layer] = position;
            attended[layer] = false;
        }
        for (int g = 0; g < ctx.nKvHeads(); g++) {
            HeadStore h = heads[index(layer, g)];
            int off = g * headSize;
            h.add(position, key, keyOff + off, value, valueOff + off, press.appendScore(key, keyOff + off, headSize));
            if (compressed && h.count > exactCapacity) {
                evictOne(h, position, batchFrom[layer]);
            }
        }
        length[layer] = position + 1;
    }

    @Override
    public int entryCount(int layer, int kvHead) {
        HeadStore h = heads[index(layer, kvHead)];
        return h.count + (h.vague == null ? 0 : h.vague.size());
    }

    @Override
    public int gather(int layer, int kvHead, float[] keys, float[] values, int[] positions) {
        HeadStore h = heads[index(layer, kvHead)];
        attended[layer] = true;
        int n = h.count;
        System.arraycopy(h.keys, 0, keys, 0, n * headSize);
        System.arraycopy(h.values, 0, values, 0, n * headSize);
        System.arraycopy(h.positions, 0, positions, 0, n);
        int total = n;
        if (h.vague != null && h.vague.size() > 0) {
            h.vague.reconstructAll(keys, values, positions, n);
            total += h.vague.size();
        }
        h.gatheredExact = n;
        h.gatheredKeys = keys;
        h.gatheredValues = values;
        h.gatheredPositions = positions;
        return total;
    }

    /**
     * The exact entries in place (ascending positions), when the rest, if any, can be {@link #folded}. Not for a
     * reviving press (a revival reorders the exact entries while attention may still read them, and needs the
     * reconstruction of the entry it brings back); nor when the vague store cannot fold its entries; nor when it
     * holds a position of the forward pass now attending (a pass that appends more tokens than the unprotected
     * exact entries can make room for evicts some of its own; folded entries get no causal mask, gathered ones do).
     */
    @Override
    public InPlace inPlace(int layer, int kvHead) {
        HeadStore h = heads[index(layer, kvHead)];
        if (press.revives()) {
            return null;
        }
        if (h.vague != null && h.vague.size() > 0) {
            Folded f = h.vague.folded();
            if (f == null || f.lastPosition() >= batchFrom[layer]) {
                return null;
            }
        }
        attended[layer] = true;
        h.gatheredExact = h.count;
        h.gatheredKeys = null;
        h.gatheredValues = null;
        h.gatheredPositions = null;
        return new InPlace(h.keys, h.values, 0, headSize, h.count, h.positions);
    }

    @Override
    public Folded folded(int layer, int kvHead) {
        HeadStore h = heads[index(layer, kvHead)];
        return h.vague == null || h.vague.size() == 0 ? null : h.vague.folded();
    }

    @Override
    public boolean observesAttention() {
        return press.accumulation() != KvPress.Accumulation.NONE || press.revives();
    }

    @Override
    public void observeAttention(int layer, int kvHead, int queryPosition, float[] weights, int count) {
        HeadStore h = heads[index(layer, kvHead)];
        if (h.gatheredExact < 0) {
            return; // a revival changed the exact set since the gather: its weights no longer map to entries
        }
        int kvMul = ctx.kvMul();
        int exact = Math.min(h.gatheredExact, h.count);
        switch (press.accumulation()) {
            case SUM -> GroupWeights.addMeans(weights, count, kvMul, exact, h.score);
            case WINDOW_SUM -> {
                if (!compressed && queryPosition >= ctx.promptLength() - press.observationWindow()
                    && queryPosition < ctx.promptLength()) {
                    GroupWeights.addMeans(weights, count, kvMul, exact, h.score);
                }
            }
            case LAST -> GroupWeights.setMeans(weights, count, kvMul, exact, h.score);
            case MAX -> {
                if (scoringFrom >= 0) {
                    for (int i = 0; i < exact && h.positions[i] < scoringTo; i++) {
                        if (h.positions[i] < scoringFrom) {
                            continue;
                        }
                        float m = h.score[i];
                        for (int g = 0; g < kvMul; g++) {
                            m = Math.max(m, weights[g * count + i]);
                        }
                        h.score[i] = m;
                    }
                }
            }
            case NONE -> {
            }
        }
        if (compressed && press.revives() && h.vague != null && count > exact) {
            maybeRevive(h, weights, count, exact, queryPosition, batchFrom[layer]);
        }
    }

    @Override
    public long bytes() {
        long sum = vagueBytes();
        long entryBytes = KvPress.entryBytes(ctx);
        for (HeadStore h : heads) {
            sum += h.count * entryBytes;
        }
        return sum;
    }

    /**
     * Bytes of every head's arrays as allocated (keys, values, positions and scores at their slot count, used or
     * not) plus its vague store; not the caller's gather buffers.
     */
    @Override
    public long allocatedBytes() {
        if (released) {
            return 0;
        }
        long sum = vagueBytes();
        for (HeadStore h : heads) {
            sum += h.arrayBytes();
        }
        return sum;
    }

    /** Bytes of every head's vague store. */
    private long vagueBytes() {
        long sum = 0;
        for (HeadStore h : heads) {
            sum += h.vague == null ? 0 : h.vague.bytes();
        }
        return sum;
    }

    /**
     * Gives the heads' key and value arrays back to the pool they came from (if any) while it holds at most
     * {@code poolLimitBytes}; the cache must not be used afterwards. Idempotent.
     */
    @Override
    public void release(long poolLimitBytes) {
        if (released) {
            return;
        }
        released = true;
        for (HeadStore h : heads) {
            h.free(h.keys, poolLimitBytes);
            h.free(h.values, poolLimitBytes);
            h.keys = null;
            h.values = null;
        }
    }

    @Override
    public long takeAllocatedPeak() {
        long vague = vagueBytes();
        synchronized (meter) {
            long peak = Math.max(meter[0], meter[1]) + vague;
            meter[1] = meter[0];
            return peak;
        }
    }

    @Override
    public void clear() {
        throw new UnsupportedOperationException("a pressed cache belongs to one sequence; make a new one");
    }

    /** Drops every position ≥ {@code newLength} (entries appended by a scoring pass). Only before compression. */
    void rollback(int newLength) {
        if (compressed) {
            throw new IllegalStateException("rollback after compression");
        }
        for (int l = 0; l < ctx.nLayers(); l++) {
            if (newLength > length[l]) {
                throw new IllegalArgumentException("rollback to " + newLength + " beyond layer " + l + "'s length "
                    + length[l]);
            }
            for (int g = 0; g < ctx.nKvHeads(); g++) {
                HeadStore h = heads[index(l, g)];
                while (h.count > 0 && h.positions[h.count - 1] >= newLength) {
                    h.count--;
                }
            }
            length[l] = newLength;
        }
    }

    /**
     * Starts a MAX scoring pass that scores the entries at positions {@code [from, to)} and accepts appends up to
     * {@code capacity} positions (the model's context length).
     */
    @Override
    public void beginScoringPass(int from, int to, int capacity) {
        if (compressed) {
            throw new IllegalStateException("scoring pass after compression");
        }
        this.scoringFrom = from;
        this.scoringTo = to;
        this.scoringCapacity = capacity;
    }

    /** Ends a scoring pass: drops what it appended (positions ≥ the prompt length). */
    @Override
    public void endScoringPass() {
        scoringFrom = -1;
        scoringTo = -1;
        scoringCapacity = 0;
        rollback(ctx.promptLength());
    }

    /** Compresses every head to its exact capacity (see {@link KvPress#compress}). */
    void compressNow() {
        if (compressed) {
            throw new IllegalStateException("cache already compressed");
        }
        for (int l = 0; l < ctx.nLayers(); l++) {
            for (int g = 0; g < ctx.nKvHeads(); g++) {
                HeadStore h = heads[index(l, g)];
                press.beforeCompress(h, l, g, ctx);
                compressHead(h, length[l] - 1);
                h.shrink(exactCapacity + 1);
            }
        }
        compressed = true;
    }

    private void compressHead(HeadStore h, int newest) {
        int n = h.count;
        int exactCapacity = Math.max(press.sinks() + 2, Math.min(this.exactCapacity, press.keepCount(h,
            this.exactCapacity)));
        if (n <= exactCapacity) {
            return;
        }
        boolean[] keep = new boolean[n];
        int kept = 0;
        int recent = press.recentWindow(exactCapacity);
        for (int i = 0; i < n; i++) {
            if (isProtected(h, i, newest, recent)) {
                keep[i] = true;
                kept++;
            }
        }
        Integer[] order = new Integer[n];
        float[] rank = new float[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            rank[i] = press.rank(h, i, newest, ctx.promptLength());
        }
        // highest rank first; ties to the later position (deterministic)
        Arrays.sort(order, (a, b) -> rank[a] != rank[b] ? Float.compare(rank[b], rank[a]) : Integer.compare(b, a));
        for (int k = 0; k < n && kept < exactCapacity; k++) {
            if (!keep[order[k]]) {
                keep[order[k]] = true;
                kept++;
            }
        }
        // the protected ones alone may exceed the capacity: drop the oldest protected non-sinks first
        for (int i = 0; i < n && kept > exactCapacity; i++) {
            if (keep[i] && h.positions[i] >= press.sinks()) {
                keep[i] = false;
                kept--;
            }
        }
        // the evicted entries enter the vague store in one bulk insert (in position order), before the kept ones move
        if (h.vague != null && kept < n) {
            int[] evictedPositions = new int[n - kept];
            int[] evictedRows = new int[n - kept];
            int e = 0;
            for (int i = 0; i < n; i++) {
                if (!keep[i]) {
                    evictedPositions[e] = h.positions[i];
                    evictedRows[e++] = i;
                }
            }
            h.vague.insertAll(evictedPositions, h.keys, h.values, evictedRows, e);
        }
        int w = 0;
        for (int i = 0; i < n; i++) {
            if (keep[i]) {
                h.moveEntry(i, w++);
            }
        }
        h.count = w;
    }

    private boolean isProtected(HeadStore h, int i, int newest, int recent) {
        int p = h.positions[i];
        return p < press.sinks() || p > newest - recent;
    }

    /**
     * Evicts the lowest-ranked unprotected entry of a head over capacity (to its vague store, if any). Entries of
     * the forward pass now appending (positions ≥ {@code batchFrom}) are protected: they have not been attended
     * or scored yet.
     */
    private void evictOne(HeadStore h, int newest, int batchFrom) {
        int victim = victim(h, newest, batchFrom);
        if (h.vague != null) {
            h.vague.insert(h.positions[victim], h.keys, victim * headSize, h.values, victim * headSize);
        }
        h.removeAt(victim);
    }

    private int victim(HeadStore h, int newest, int batchFrom) {
        int recent = press.recentWindow(exactCapacity);
        int best = -1;
        float bestRank = Float.POSITIVE_INFINITY;
        for (int i = 0; i < h.count; i++) {
            if (isProtected(h, i, newest, recent) || h.positions[i] >= batchFrom) {
                continue;
            }
            float r = press.rank(h, i, newest, ctx.promptLength());
            if (best < 0 || r < bestRank) {
                best = i;
                bestRank = r;
            }
        }
        if (best >= 0) {
            return best;
        }
        for (int i = 0; i < h.count; i++) { // everything protected: the oldest non-sink
            if (h.positions[i] >= press.sinks()) {
                return i;
            }
        }
        return 0;
    }

    /**
     * Revival: if the most-attended vague entry got more attention (mean over the group) from this query than
     * the lowest-ranked unprotected exact entry's rank, its reconstruction becomes exact (and is subtracted from
     * the store) and that exact entry is evicted in its place.
     */
    private void maybeRevive(HeadStore h, float[] weights, int count, int exact, int queryPosition, int batchStart) {
        int kvMul = ctx.kvMul();
        int best = -1;
        float bestW = 0;
        for (int i = exact; i < count; i++) {
            float w = GroupWeights.sum(weights, count, kvMul, i) / kvMul;
            if (w > bestW) {
                bestW = w;
                best = i;
            }
        }
        if (best < 0 || h.count == 0) {
            return;
        }
        int victim = victim(h, queryPosition, batchStart);
        if (h.positions[victim] < press.sinks() || h.positions[victim] >= batchStart || bestW <= press.rank(h, victim, queryPosition, ctx.promptLength())) {
            return;
        }
        int pos = h.gatheredPositions[best];
        float[] k = Arrays.copyOfRange(h.gatheredKeys, best * headSize, (best + 1) * headSize);
        float[] v = Arrays.copyOfRange(h.gatheredValues, best * headSize, (best + 1) * headSize);
        h.vague.remove(pos, k, 0, v, 0);
        h.vague.insert(h.positions[victim], h.keys, victim * headSize, h.values, victim * headSize);
        h.removeAt(victim);
        // as if it had received bestW from every query since it was appended
        h.insertSorted(pos, k, v, bestW * (queryPosition - pos + 1));
        h.revivals++;
        h.gatheredExact = -1; // the gathered layout no longer matches; nothing more is observed this step
    }

    private int index(int layer, int kvHead) {
        checkLayer(layer);
        if (kvHead < 0 || kvHead >= ctx.nKvHeads()) {
            throw new IllegalArgumentException("kvHead " + kvHead + " outside [0, " + ctx.nKvHeads() + ")");
        }
        return layer * ctx.nKvHeads() + kvHead;
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= ctx.nLayers()) {
            throw new IllegalArgumentException("layer " + layer + " outside [0, " + ctx.nLayers() + ")");
        }
    }

    /**
     * The exact entries of one (layer, KV head), in ascending position order, and its vague store. Presses read
     * and rescore them in {@link KvPress#rank} and {@link KvPress#beforeCompress}.
     */
    public static final class HeadStore {
        final int headSize;
        float[] keys;      // (slots, headSize) post-RoPE keys of the exact entries
        float[] values;    // (slots, headSize)
        int[] positions;   // (slots) absolute positions, ascending
        float[] score;     // (slots) the press's score per entry
        int count;         // exact entries held
        final VagueStore vague; // evicted entries, or null
        int revivals;      // vague entries brought back
        double[] scratchMass; // a press's per-entry values between beforeCompress and keepCount, else null
        // layout of the last gather (for observation): exact entries first, then the vague reconstructions
        int gatheredExact = -1;
        float[] gatheredKeys;
        float[] gatheredValues;
        int[] gatheredPositions;

        final long[] meter; // the owning cache's allocation meter (see PressedKvCache.meter)
        // where keys and values come from and go back to (null: allocated); a pooled array may be longer than
        // slots × headSize and is not cleared: only rows below count are ever read
        private final FloatArrayPool pool;

        HeadStore(int slots, int headSize, VagueStore vague, long[] meter, FloatArrayPool pool) {
            this.headSize = headSize;
            this.pool = pool;
            this.keys = floats(slots * headSize);
            this.values = floats(slots * headSize);
            this.positions = new int[slots];
            this.score = new float[slots];
            this.vague = vague;
            this.meter = meter;
            synchronized (meter) {
                meter[0] += arrayBytes();
                meter[1] = Math.max(meter[1], meter[0]);
            }
        }

        /** Bytes of the four per-slot arrays (keys and values: 0 once released). */
        long arrayBytes() {
            return 4L * ((keys == null ? 0 : keys.length + values.length) + positions.length + score.length);
        }

        private float[] floats(int n) {
            return pool == null ? new float[n] : pool.take(n);
        }

        /** Gives {@code a} back to the pool, if any; returns the bytes the pool kept. */
        private long free(float[] a, long poolLimitBytes) {
            return pool != null && pool.give(a, poolLimitBytes) ? 4L * a.length : 0;
        }

        /**
         * New key and value arrays of {@code slots} rows holding the first {@code count} rows of the old ones;
         * returns the bytes of old arrays the pool kept (they count as pooled from then on, not as this cache's).
         */
        private long resize(int slots) {
            float[] k = floats(slots * headSize);
            float[] v = floats(slots * headSize);
            System.arraycopy(keys, 0, k, 0, count * headSize);
            System.arraycopy(values, 0, v, 0, count * headSize);
            long pooled = free(keys, Long.MAX_VALUE) + free(values, Long.MAX_VALUE);
            keys = k;
            values = v;
            return pooled;
        }

        /**
         * Records a resize from {@code before} bytes to {@link #arrayBytes()}: both copies lived meanwhile. The
         * {@code pooled} bytes of old arrays the pool kept are the pool's from then on, and whoever adds this
         * cache's peak to the pool's bytes counts them there: they leave this cache's peak so far as well (it was
         * reached while they were this cache's).
         */
        private void metered(long before, long pooled) {
            synchronized (meter) { // heads may resize from attention running on several threads
                meter[1] = Math.max(meter[1] - pooled, meter[0] + arrayBytes() - pooled);
                meter[0] += arrayBytes() - before;
            }
        }

        /** Exact entries held. */
        public int count() {
            return count;
        }

        /** Position of exact entry i. */
        public int position(int i) {
            return positions[i];
        }

        /** Score of exact entry i. */
        public float score(int i) {
            return score[i];
        }

        /** Sets the score of exact entry i. */
        public void setScore(int i, float s) {
            score[i] = s;
        }

        /** Keys of the exact entries, (count, headSize) row-major; do not modify. */
        public float[] keys() {
            return keys;
        }

        /** Values of the exact entries, (count, headSize) row-major; do not modify. */
        public float[] values() {
            return values;
        }

        /** The store of evicted entries, or null. */
        public VagueStore vague() {
            return vague;
        }

        /** Vague entries revived into the exact set so far. */
        public int revivals() {
            return revivals;
        }

        void ensure(int slots) {
            if (positions.length < slots) {
                long before = arrayBytes();
                int s = Math.max(slots, positions.length * 2);
                long pooled = resize(s);
                positions = Arrays.copyOf(positions, s);
                score = Arrays.copyOf(score, s);
                metered(before, pooled);
            }
        }

        void shrink(int slots) {
            int s = Math.max(slots, count);
            long before = arrayBytes();
            long pooled = resize(s);
            positions = Arrays.copyOf(positions, s);
            score = Arrays.copyOf(score, s);
            metered(before, pooled);
        }

        void add(int position, float[] k, int kOff, float[] v, int vOff, float s) {
            ensure(count + 1);
            System.arraycopy(k, kOff, keys, count * headSize, headSize);
            System.arraycopy(v, vOff, values, count * headSize, headSize);
            positions[count] = position;
            score[count] = s;
            count++;
        }

        void moveEntry(int from, int to) {
            if (from != to) {
                System.arraycopy(keys, from * headSize, keys, to * headSize, headSize);
                System.arraycopy(values, from * headSize, values, to * headSize, headSize);
                positions[to] = positions[from];
                score[to] = score[from];
            }
        }

        void removeAt(int i) {
            int tail = count - i - 1;
            System.arraycopy(keys, (i + 1) * headSize, keys, i * headSize, tail * headSize);
            System.arraycopy(values, (i + 1) * headSize, values, i * headSize, tail * headSize);
            System.arraycopy(positions, i + 1, positions, i, tail);
            System.arraycopy(score, i + 1, score, i, tail);
            count--;
        }

        void insertSorted(int position, float[] k, float[] v, float s) {
            ensure(count + 1);
            int i = count;
            while (i > 0 && positions[i - 1] > position) {
                i--;
            }
            int tail = count - i;
            System.arraycopy(keys, i * headSize, keys, (i + 1) * headSize, tail * headSize);
            System.arraycopy(values, i * headSize, values, (i + 1) * headSize, tail * headSize);
            System.arraycopy(positions, i, positions, i + 1, tail);
            System.arraycopy(score, i, score, i + 1, tail);
            System.arraycopy(k, 0, keys, i * headSize, headSize);
            System.arraycopy(v, 0, values, i * headSize, headSize);
            positions[i] = position;
            score[i] = s;
            count++;
        }
    }
}
