package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Placement by stable corpus index: gaps in the indices (documents already done) are fine, unknown ones refused. */
class IndexPartitionerTest {

    @Test
    void placesPlannedIndicesAndRefusesOthers() {
        IndexPartitioner p = new IndexPartitioner(new long[] {2, 5, 9, 40}, new int[] {1, 0, 1, 2}, 3);
        assertEquals(3, p.numPartitions());
        assertEquals(1, p.getPartition(2L));
        assertEquals(0, p.getPartition(5L));
        assertEquals(1, p.getPartition(9L));
        assertEquals(2, p.getPartition(40L));
        assertThrows(IllegalArgumentException.class, () -> p.getPartition(3L));
        assertThrows(IllegalArgumentException.class, () -> new IndexPartitioner(new long[] {3, 3}, new int[2], 1));
        assertThrows(IllegalArgumentException.class, () -> new IndexPartitioner(new long[] {1}, new int[2], 1));
    }
}
