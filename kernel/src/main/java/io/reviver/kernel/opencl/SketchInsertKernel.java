package io.reviver.kernel.opencl;

/**
 * Device body of Count-Sketch insert ({@link io.reviver.kernel.attention.AttentionBackend#sketchInsert}).
 * One work-group per (sketch s, row j), {@code group = s·depth + j}: its items first hash the sketch's tokens
 * into row codes ({@code codes[t·depth + j]}, once per token and row), then, after a barrier, item c adds the
 * signed coordinate c of each token, in token order, to the token's bucket — so no two work items write the same
 * float and the sums are bit-identical to the Java reference (no float atomics needed).
 * In MEAN mode ({@code mean == 1}) the sign is ignored and item 0 of the group then increments the bucket counts
 * of the group's row for every token (in token order, so no two items write one count). Global size =
 * S·depth·localSize.
 */
final class SketchInsertKernel extends SketchKernelBase {

    int depth;
    int width;
    int headSize;
    /** 1 = MEAN (unsigned sum plus counts), 0 = SIGNED. */
    int mean;
    /** (S, depth, width) bucket counts, updated in place when mean == 1 (a 1-int stand-in otherwise). */
    int[] counts = new int[1];
    /** (S, depth, width, headSize) tables, updated in place. */
    float[] tables = new float[1];
    /** (S) hash seeds. */
    int[] seeds = new int[1];
    /** (S) first token of each sketch. */
    int[] tokenStart = new int[1];
    /** (S) token count of each sketch. */
    int[] tokenCount = new int[1];
    /** (m) absolute positions. */
    int[] positions = new int[1];
    /** (m, headSize) vectors. */
    float[] x = new float[1];
    /** (m, depth) scratch: row codes of each token. */
    int[] codes = new int[1];

    @Override
    public void run() {
        int group = getGroupId(0);
        int lid = getLocalId(0);
        int localSize = getLocalSize(0);
        int s = group / depth;
        int row = group - s * depth;
        int first = tokenStart[s];
        int end = first + tokenCount[s];
        for (int t = first + lid; t < end; t += localSize) {
            codes[t * depth + row] = rowCode(seeds[s], s, row, positions[t], depth, width, headSize);
        }
        globalBarrier();
        for (int c = lid; c < headSize; c += localSize) {
            for (int t = first; t < end; t++) {
                int code = codes[t * depth + row];
                float v = x[t * headSize + c];
                if (mean == 0 && (code & 1) != 0) {
                    v = -v;
                }
                tables[(code >> 1) + c] += v;
            }
        }
        if (mean == 1 && lid == 0) {
            for (int t = first; t < end; t++) {
                counts[(codes[t * depth + row] >> 1) / headSize] += 1;
            }
        }
    }
}
