package io.reviver.kernel.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendChoiceTest {

    @Test
    void parsesConfiguredSpellings() {
        assertEquals(BackendChoice.JAVA, BackendChoice.parse("k", "java"));
        assertEquals(BackendChoice.OPENCL, BackendChoice.parse("k", " OpenCL "));
        assertEquals(BackendChoice.OPENCL_OR_JAVA, BackendChoice.parse("k", "opencl-or-java"));
        assertEquals("opencl-or-java", BackendChoice.OPENCL_OR_JAVA.toString());
    }

    @Test
    void rejectsUnknownValueNamingKeyAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> BackendChoice.parse("reviver.attention.backend", "gpu"));
        assertTrue(e.getMessage().contains("reviver.attention.backend") && e.getMessage().contains("'gpu'"),
            e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BackendChoice.parse("k", null));
    }
}
