package io.reviver.kernel.opencl;

/**
 * Test probe: evaluates the device-side hash for a list of (seed, row, position) triples so tests can compare it
 * bit for bit with {@link io.reviver.kernel.attention.SketchHash#mix}. One work item per triple.
 */
final class SketchHashKernel extends SketchKernelBase {

    int count;
    /** (count) seeds, rows and positions. */
    int[] seeds = new int[1];
    int[] rows = new int[1];
    int[] positions = new int[1];
    /** (count) results of {@code mix}. */
    long[] hashes = new long[1];

    @Override
    public void run() {
        int gid = getGlobalId(0);
        if (gid < count) {
            hashes[gid] = mix(seeds[gid], rows[gid], positions[gid]);
        }
    }
}
