package io.reviver.kernel.attention;

import java.util.Random;

/** Seeded random inputs for the attention and sketch tests (shared by the unit and equivalence tests). */
public final class AttentionFixtures {

    private AttentionFixtures() {
    }

    /** Uniform floats in [−amplitude, amplitude). */
    public static float[] randomFloats(Random rnd, int n, float amplitude) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (rnd.nextFloat() * 2f - 1f) * amplitude;
        }
        return a;
    }

    /**
     * A batch of {@code lengths.length} pairs with separate blocks of the given lengths, random queries/keys of
     * amplitude 1 (scores spread over several units after scaling by {@code 3/sqrt(headSize)}, so the softmax is
     * far from uniform), values of amplitude 2, and, when {@code maskEvery > 0}, every {@code maskEvery}-th entry
     * masked.
     */
    public static AttentionBatch batch(long seed, int headSize, int kvMul, int[] lengths, int maskEvery) {
        Random rnd = new Random(seed);
        int pairs = lengths.length;
        int[] start = new int[pairs];
        int entries = 0;
        for (int p = 0; p < pairs; p++) {
            start[p] = entries;
            entries += lengths[p];
        }
        int[] valid = null;
        if (maskEvery > 0) {
            valid = new int[entries];
            for (int e = 0; e < entries; e++) {
                valid[e] = e % maskEvery == maskEvery - 1 ? 0 : 1;
            }
        }
        return new AttentionBatch(pairs, kvMul, headSize, (float) (3.0 / Math.sqrt(headSize)),
            randomFloats(rnd, pairs * kvMul * headSize, 1f), randomFloats(rnd, entries * headSize, 1f),
            randomFloats(rnd, entries * headSize, 2f), start, lengths.clone(), valid);
    }

    /**
     * A prefill-shaped batch: {@code tokens} pairs of one KV head share one block of {@code startPos + tokens}
     * entries; pair t sees the causal prefix of length {@code startPos + t + 1}.
     */
    public static AttentionBatch causal(long seed, int headSize, int kvMul, int startPos, int tokens) {
        Random rnd = new Random(seed);
        int entries = startPos + tokens;
        int[] start = new int[tokens];
        int[] length = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            length[t] = startPos + t + 1;
        }
        return new AttentionBatch(tokens, kvMul, headSize, (float) (1.0 / Math.sqrt(headSize)),
            randomFloats(rnd, tokens * kvMul * headSize, 1f), randomFloats(rnd, entries * headSize, 1f),
            randomFloats(rnd, entries * headSize, 1f), start, length, null);
    }

    /**
     * Sketched tokens for every pair of {@code batch}: one sketch per pair (seeds {@code seed + p}), {@code vague[p]}
     * positions after the pair's exact block, key and value tables filled by inserting random vectors at those
     * positions with {@code backend}.
     */
    public static SketchedTokens sketched(long seed, AttentionBatch batch, CountSketchShape shape, int[] vague,
                                          AttentionBackend backend) {
        Random rnd = new Random(seed);
        int pairs = batch.pairs();
        int hs = batch.headSize();
        int total = 0;
        int[] vagueStart = new int[pairs];
        for (int p = 0; p < pairs; p++) {
            vagueStart[p] = total;
            total += vague[p];
        }
        int[] positions = new int[total];
        int[] seeds = new int[pairs];
        int[] sketchOf = new int[pairs];
        for (int p = 0; p < pairs; p++) {
            seeds[p] = (int) seed * 31 + p;
            sketchOf[p] = p;
            for (int i = 0; i < vague[p]; i++) {
                positions[vagueStart[p] + i] = batch.blockLength()[p] + 3 * i + 1; // distinct absolute positions
            }
        }
        float[] keyTables = new float[pairs * shape.tableLength()];
        float[] valueTables = new float[pairs * shape.tableLength()];
        backend.sketchInsert(shape, keyTables, seeds, vagueStart, vague, positions, randomFloats(rnd, total * hs, 1f));
        backend.sketchInsert(shape, valueTables, seeds, vagueStart, vague, positions, randomFloats(rnd, total * hs, 2f));
        return new SketchedTokens(shape, keyTables, valueTables, seeds, sketchOf, vagueStart, vague.clone(), positions);
    }
}
