package io.reviver.spark;

import org.apache.spark.Partitioner;

/**
 * Sends document {@code index} (a {@code Long} key: its position in the corpus) to the partition the token
 * balancer chose for it. The documents to place are given as their sorted corpus indices; {@code assignment[i]}
 * is the partition of the i-th of them. Keys are stable corpus indices, so a stage recomputed after a lost
 * executor places every document exactly where the first computation did.
 */
public final class IndexPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final long[] indices;   // (n) sorted corpus indices of the documents placed
    private final int[] assignment; // (n) partition of each
    private final int partitions;

    /**
     * @param indices    sorted, distinct corpus indices of the documents to place
     * @param assignment partition of each, in [0, partitions)
     */
    public IndexPartitioner(long[] indices, int[] assignment, int partitions) {
        if (indices.length != assignment.length) {
            throw new IllegalArgumentException(indices.length + " indices but " + assignment.length
                + " assignments");
        }
        for (int i = 1; i < indices.length; i++) {
            if (indices[i] <= indices[i - 1]) {
                throw new IllegalArgumentException("indices not sorted and distinct at " + i);
            }
        }
        this.indices = indices.clone();
        this.assignment = assignment.clone();
        this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        long index = (Long) key;
        int at = java.util.Arrays.binarySearch(indices, index);
        if (at < 0) {
            throw new IllegalArgumentException("document index " + index + " was not planned");
        }
        return assignment[at];
    }

    @Override
    public boolean equals(Object o) {
        return o == this;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
