package io.reviver.modelstore.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GgmlTypeTest {
    @Test
    void idsRoundTripAndSizesMatchGgml() {
        for (GgmlType t : GgmlType.values()) {
            assertEquals(t, GgmlType.fromId(t.id()).orElseThrow());
            assertEquals(t.name(), GgmlType.ggmlName(t.id()));
        }
        assertEquals(34L * 4, GgmlType.Q8_0.byteSize(128));
        assertEquals(210L, GgmlType.Q6_K.byteSize(256));
        assertTrue(GgmlType.fromId(13).isEmpty());
        assertEquals("Q5_K", GgmlType.ggmlName(13));
    }
}
