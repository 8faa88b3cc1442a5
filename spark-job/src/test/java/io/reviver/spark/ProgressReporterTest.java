package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProgressReporterTest {

    @Test
    void lineShowsDoneTotalAndEta() {
        assertEquals("progress: 0/52 documents (0%), elapsed 0:05, ETA unknown",
            ProgressReporter.line(0, 52, 5_000_000_000L));
        assertEquals("progress: 13/52 documents (25%), elapsed 1:00, ETA 3:00",
            ProgressReporter.line(13, 52, 60_000_000_000L));
        assertEquals("progress: 52/52 documents (100%), elapsed 1:01:05, ETA 0:00",
            ProgressReporter.line(60, 52, 3_665_000_000_000L), "a retried task's double count is capped");
    }
}
