package io.reviver.modelstore.source;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/**
 * Test helper run in a separate JVM by {@link ChildResolvers}: resolves one location into a shared cache
 * directory once a start signal file appears, so that several processes race for the same cache entry.
 *
 * <p>Arguments: cache directory, location, start-signal file. Prints {@code READY} when initialised, then
 * {@code RESULT <outcome> <sha256> <path>} or {@code ERROR <message>} and exits.
 */
public final class ResolveInChildProcess {
    private ResolveInChildProcess() {
    }

    public static void main(String[] args) throws Exception {
        ModelCache cache = new ModelCache(Path.of(args[0]));
        ModelLocation location = ModelLocation.parse(args[1]);
        Path go = Path.of(args[2]);
        Configuration conf = new Configuration();
        // Load the FileSystem classes before the race so that both processes start transferring together.
        org.apache.hadoop.fs.FileSystem.get(location.uri(), conf);
        System.out.println("READY");
        System.out.flush();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(go)) {
            if (System.nanoTime() > deadline) {
                System.out.println("ERROR start signal " + go + " never appeared");
                System.exit(2);
            }
            Thread.sleep(2);
        }
        try {
            ResolvedModel r = cache.resolveModel(location, conf, ModelCache.ReuseCheck.MANIFEST);
            System.out.println("RESULT " + r.outcome() + " " + r.sha256() + " " + r.path());
        } catch (RuntimeException e) {
            System.out.println("ERROR " + e);
            System.exit(1);
        }
        System.exit(0);
    }
}
