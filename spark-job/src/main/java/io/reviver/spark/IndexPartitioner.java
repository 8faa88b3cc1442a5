package io.reviver.spark;

import org.apache.spark.Partitioner;

/**
 * Sends document {@code index} (a {@code Long} key) to the partition the token balancer chose for it. The
 * assignment array is indexed by document index (indices are {@code 0..n-1}, from {@code zipWithIndex}).
 */
public final class IndexPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final int[] assignment; // (document index) → partition
    private final int partitions;

    public IndexPartitioner(int[] assignment, int partitions) {
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
        if (index < 0 || index >= assignment.length) {
            throw new IllegalArgumentException("document index " + index + " outside [0, " + assignment.length
                + ")");
        }
        return assignment[(int) index];
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
