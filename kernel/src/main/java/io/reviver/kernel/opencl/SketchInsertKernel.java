package io.reviver.kernel.opencl;

/**
 * Device body of Count-Sketch insert ({@link io.reviver.kernel.attention.AttentionBackend#sketchInsert}).
 * One work item per (sketch s, row j, coordinate c): it adds the signed coordinate c of each of the sketch's
 * tokens, in token order, to its bucket — so no two work items write the same float and the sums are
 * bit-identical to the Java reference (no float atomics needed). Global size ≥ S·depth·headSize (padded).
 */
final class SketchInsertKernel extends SketchKernelBase {

    int sketches;
    int depth;
    int width;
    int headSize;
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

    @Override
    public void run() {
        int gid = getGlobalId(0);
        int perSketch = depth * headSize;
        int s = gid / perSketch;
        if (s < sketches) {
            int rest = gid - s * perSketch;
            int row = rest / headSize;
            int c = rest - row * headSize;
            int seed = seeds[s];
            int end = tokenStart[s] + tokenCount[s];
            for (int t = tokenStart[s]; t < end; t++) {
                int code = rowCode(seed, s, row, positions[t], depth, width, headSize);
                float v = x[t * headSize + c];
                if ((code & 1) != 0) {
                    v = -v;
                }
                tables[(code >> 1) + c] += v;
            }
        }
    }
}
