package io.reviver.kernel.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.BackendStatus;
import io.reviver.kernel.attention.BackendUnavailableException;
import io.reviver.kernel.attention.JavaAttentionBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend choice is explicit and checkable. The "no OpenCL platform" cases run {@link OpenClChildMain} in a
 * child JVM whose ICD loader sees an empty vendor directory ({@code OCL_ICD_VENDORS=<empty dir>}), so Aparapi finds
 * no platform, exactly as on a machine without a driver; a control child without that variable must run OpenCL.
 */
class OpenClAvailabilityTest {

    @TempDir
    Path emptyVendors;

    @Test
    void requiredOpenClWithoutPlatformFailsWithClearError() throws Exception {
        Child c = runChild("opencl", true);
        assertEquals(OpenClChildMain.UNAVAILABLE_EXIT, c.exit, c.toString());
        assertTrue(c.stdout.contains("UNAVAILABLE attention backend 'opencl' required but unavailable: no OpenCL "
            + "platform/device found"), c.toString());
        assertTrue(c.stdout.contains("OCL_ICD_VENDORS=" + emptyVendors), c.toString());
    }

    @Test
    void openClOrJavaWithoutPlatformFallsBackLoudly() throws Exception {
        Child c = runChild("opencl-or-java", true);
        assertEquals(0, c.exit, c.toString());
        assertTrue(c.stdout.contains("status openCl=false fallbacks=1 match=true"), c.toString());
        assertTrue(c.stderr.contains("WARN") && c.stderr.contains("falling back to java"), c.toString());
    }

    @Test
    void controlChildWithPlatformRunsOpenCl() throws Exception {
        Child c = runChild("opencl", false);
        assertEquals(0, c.exit, c.toString());
        assertTrue(c.stdout.contains("status openCl=true fallbacks=0 match=true"), c.toString());
    }

    @Test
    void unknownDeviceIsUnavailableOrCountedFallback() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
            () -> OpenClAttentionBackend.open(BackendChoice.OPENCL, 99, 64));
        assertTrue(e.getMessage().contains("device index 99"), e.getMessage());
        try (AttentionBackend b = OpenClAttentionBackend.open(BackendChoice.OPENCL_OR_JAVA, 99, 64)) {
            BackendStatus st = b.status();
            assertFalse(st.openCl());
            assertEquals(1, st.fallbacks());
            assertTrue(st.reason().contains("device index 99"), st.reason());
        }
        try (AttentionBackend b = OpenClAttentionBackend.open(BackendChoice.JAVA)) {
            assertTrue(b instanceof JavaAttentionBackend);
            assertEquals("java", b.status().device());
        }
        assertThrows(IllegalArgumentException.class, () -> OpenClAttentionBackend.open(BackendChoice.OPENCL, 0, 48));
    }

    @Test
    void kernelThatFailsToCompileIsDetectedNotSilentlyRunOnJava() {
        try (OpenClAttentionBackend required = (OpenClAttentionBackend) OpenClAttentionBackend.open(BackendChoice.OPENCL)) {
            BrokenKernel k = new BrokenKernel();
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> required.execute(OpenClAttentionBackend.Op.HASH, k, 64, 64));
            assertTrue(e.getMessage().contains("'opencl' required but HASH kernel"), e.getMessage());
            k.dispose();
        }
        try (OpenClAttentionBackend optional =
                 (OpenClAttentionBackend) OpenClAttentionBackend.open(BackendChoice.OPENCL_OR_JAVA)) {
            BrokenKernel k = new BrokenKernel();
            assertFalse(optional.execute(OpenClAttentionBackend.Op.HASH, k, 64, 64));
            BackendStatus st = optional.status();
            assertFalse(st.openCl());
            assertEquals(1, st.fallbacks());
            assertTrue(st.reason().contains("HASH kernel"), st.reason());
            k.dispose();
        }
    }

    private Child runChild(String choice, boolean hidePlatform) throws IOException, InterruptedException {
        Path javaBin = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(javaBin.toString(), "--add-modules=jdk.incubator.vector",
            "-cp", System.getProperty("java.class.path")));
        String log4j = System.getProperty("log4j2.configurationFile");
        if (log4j != null) {
            cmd.add("-Dlog4j2.configurationFile=" + log4j);
        }
        cmd.add(OpenClChildMain.class.getName());
        cmd.add(choice);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (hidePlatform) {
            pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        } else {
            pb.environment().remove("OCL_ICD_VENDORS");
        }
        Path out = emptyVendors.resolveSibling(emptyVendors.getFileName() + "-" + choice + ".out");
        Path err = emptyVendors.resolveSibling(emptyVendors.getFileName() + "-" + choice + ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM timed out: " + cmd);
        }
        Child c = new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return c;
    }

    private record Child(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }
}
