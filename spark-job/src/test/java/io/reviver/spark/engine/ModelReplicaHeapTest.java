package io.reviver.spark.engine;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The executor's check that its heap can hold the packed Q8_0 weight copies. */
class ModelReplicaHeapTest {

    @Test
    void aHeapTooSmallForTheWeightCopiesIsAClearError() {
        long mib = 1L << 20;
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> ModelReplica.requireHeap("llama-1b-q8_0.gguf", 1400 * mib, 1024 * mib));
        assertTrue(e.getMessage().contains("llama-1b-q8_0.gguf") && e.getMessage().contains("1400 MiB")
            && e.getMessage().contains("1024 MiB") && e.getMessage().contains("at least 1656 MiB")
            && e.getMessage().contains("spark.executor.memory"), e.getMessage());
        // exactly enough, and a model with nothing to copy
        assertDoesNotThrow(() -> ModelReplica.requireHeap("m", 1400 * mib, 1656 * mib));
        assertThrows(IllegalStateException.class, () -> ModelReplica.requireHeap("m", 1400 * mib, 1656 * mib - 1));
        assertDoesNotThrow(() -> ModelReplica.requireHeap("m", 0, ModelReplica.HEAP_RESERVE));
    }
}
