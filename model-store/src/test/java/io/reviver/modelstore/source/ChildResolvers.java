package io.reviver.modelstore.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts several JVMs running {@link ResolveInChildProcess} on one cache directory and one location, releases
 * them at the same moment, and collects what each one resolved.
 */
final class ChildResolvers {
    /** What one child process printed: outcome, hash and path of the file it resolved. */
    record ChildResult(ResolvedModel.Outcome outcome, String sha256, Path path) {
    }

    private ChildResolvers() {
    }

    static List<ChildResult> race(int processes, Path cacheDir, String location, Path workDir) throws Exception {
        Path go = workDir.resolve("go-" + System.nanoTime());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new ArrayList<>();
        List<BufferedReader> outputs = new ArrayList<>();
        List<Path> errLogs = new ArrayList<>();
        try {
            for (int i = 0; i < processes; i++) {
                List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                        "-cp", System.getProperty("java.class.path")));
                String log4j = System.getProperty("log4j2.configurationFile");
                if (log4j != null) {
                    cmd.add("-Dlog4j2.configurationFile=" + log4j);
                }
                cmd.addAll(List.of(ResolveInChildProcess.class.getName(), cacheDir.toString(), location,
                        go.toString()));
                Path errLog = workDir.resolve("child-" + i + ".err");
                errLogs.add(errLog);
                Process p = new ProcessBuilder(cmd).redirectError(errLog.toFile()).start();
                children.add(p);
                outputs.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
            }
            for (int i = 0; i < processes; i++) {
                String line = outputs.get(i).readLine();
                if (!"READY".equals(line)) {
                    fail("child " + i + " did not start: " + line + "\n" + Files.readString(errLogs.get(i)));
                }
            }
            Files.createFile(go);
            List<ChildResult> results = new ArrayList<>();
            for (int i = 0; i < processes; i++) {
                String line = outputs.get(i).readLine();
                assertTrue(children.get(i).waitFor(60, TimeUnit.SECONDS), "child " + i + " timed out");
                assertEquals(0, children.get(i).exitValue(),
                        "child " + i + " failed: " + line + "\n" + Files.readString(errLogs.get(i)));
                String[] parts = line.split(" ", 4);
                assertEquals("RESULT", parts[0], line);
                results.add(new ChildResult(ResolvedModel.Outcome.valueOf(parts[1]), parts[2], Path.of(parts[3])));
            }
            return results;
        } finally {
            for (Process p : children) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            for (BufferedReader r : outputs) {
                try {
                    r.close();
                } catch (IOException ignored) {
                    // the child is gone; nothing more to read
                }
            }
        }
    }
}
