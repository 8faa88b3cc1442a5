package io.reviver.kernel.opencl;

/**
 * Device body of Count-Sketch reconstruction
 * ({@link io.reviver.kernel.attention.AttentionBackend#sketchReconstruct}). One work-group per position i: its
 * first items hash the position into the {@code depth} row codes ({@code codes[i·depth + j]}), a barrier, then
 * items stride over the coordinates c and combine the rows ({@link #combine} for SIGNED, {@link #combineMean}
 * for MEAN). Global size = m · localSize.
 */
final class SketchReconstructKernel extends SketchKernelBase {

    int depth;
    int width;
    int headSize;
    /** 1 = MEAN (mean of bucket means, counts read), 0 = SIGNED. */
    int mean;
    /** (S, depth, width) bucket counts when mean == 1 (a 1-int stand-in otherwise). */
    int[] counts = new int[1];
    /** (S, depth, width, headSize) tables. */
    float[] tables = new float[1];
    /** (S) hash seeds. */
    int[] seeds = new int[1];
    /** (m) sketch of each position. */
    int[] sketchOf = new int[1];
    /** (m) absolute positions. */
    int[] positions = new int[1];
    /** (m, depth) scratch: row codes of each position. */
    int[] codes = new int[1];
    /** (m, headSize) result. */
    float[] out = new float[1];

    @Override
    public void run() {
        int i = getGroupId(0);
        int lid = getLocalId(0);
        int localSize = getLocalSize(0);
        int s = sketchOf[i];
        for (int j = lid; j < depth; j += localSize) {
            codes[i * depth + j] = rowCode(seeds[s], s, j, positions[i], depth, width, headSize);
        }
        globalBarrier();
        for (int c = lid; c < headSize; c += localSize) {
            if (mean == 1) {
                out[i * headSize + c] = combineMean(tables, counts, codes, i * depth, depth, headSize, c);
            } else {
                out[i * headSize + c] = combine(tables, codes, i * depth, depth, c);
            }
        }
    }
}
