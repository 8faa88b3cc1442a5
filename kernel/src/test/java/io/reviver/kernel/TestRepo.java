package io.reviver.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Where the kernel tests find the repository and the Debian Python (both set by surefire in the parent POM). */
public final class TestRepo {

    private TestRepo() {
    }

    /** System property reviver.repo.root, else the first directory above user.dir that holds .ci/. */
    public static Path root() {
        String prop = System.getProperty("reviver.repo.root");
        if (prop != null && Files.isDirectory(Paths.get(prop, ".ci"))) {
            return Paths.get(prop);
        }
        for (Path p = Paths.get(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(".ci"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (a directory containing .ci/)");
    }

    /** The Python with torch: system property reviver.python, default /usr/bin/python3. */
    public static String python() {
        return System.getProperty("reviver.python", "/usr/bin/python3");
    }
}
