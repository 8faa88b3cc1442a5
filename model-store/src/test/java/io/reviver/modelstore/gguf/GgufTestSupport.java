package io.reviver.modelstore.gguf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Locates the repository and the Debian Python, and runs the repo's Python scripts for tests. */
public final class GgufTestSupport {

    private GgufTestSupport() {
    }

    /** Repository root: system property reviver.repo.root (set by surefire), else the first parent holding .ci/. */
    public static Path repoRoot() {
        String p = System.getProperty("reviver.repo.root");
        if (p != null && Files.isDirectory(Path.of(p, ".ci"))) {
            return Path.of(p);
        }
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve(".ci"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the repository root (no .ci/ above " + System.getProperty("user.dir") + ")");
        }
        return dir;
    }

    /** The Python with numpy/torch: system property reviver.python, default /usr/bin/python3. */
    public static String python() {
        return System.getProperty("reviver.python", "/usr/bin/python3");
    }

    /**
     * Runs {@code python script args...} and fails with its output if it exits non-zero.
     *
     * @return its stdout
     */
    public static String runPython(Path script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(python());
        cmd.add(script.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("failed (exit " + p.exitValue() + "): " + cmd + "\n" + text
                + "\n(the tests need Debian's python3-numpy and python3-torch: run deploy/install-prereqs.sh)");
        }
        return text;
    }
}
