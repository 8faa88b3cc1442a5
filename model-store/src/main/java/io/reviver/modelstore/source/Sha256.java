package io.reviver.modelstore.source;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 helpers: hashing text, hashing a file, and copying a stream to a file while hashing it. All streaming
 * work uses one fixed buffer of {@link #BUFFER_BYTES}, so memory stays constant whatever the model size.
 */
final class Sha256 {
    /** Copy/hash buffer: large enough to amortise per-read overhead on HDFS and S3 streams. */
    static final int BUFFER_BYTES = 1 << 20;

    private Sha256() {
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    /** SHA-256 of the UTF-8 bytes of {@code text}, as 64 lower-case hex characters. */
    static String ofText(String text) {
        return hex(newDigest().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** SHA-256 of a whole local file, as 64 lower-case hex characters. */
    static String ofFile(Path file) throws IOException {
        MessageDigest digest = newDigest();
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            while (in.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        }
        return hex(digest.digest());
    }

    /** Result of {@link #copy}: bytes written and their SHA-256 (64 lower-case hex characters). */
    record Copied(long bytes, String sha256) {
    }

    /**
     * Copies {@code in} to {@code out} from its current position, hashing every byte, then forces the data to
     * the device so a later atomic rename cannot expose unwritten blocks after a crash.
     */
    static Copied copy(InputStream in, FileChannel out) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[BUFFER_BYTES];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            if (n == 0) {
                continue;
            }
            digest.update(buffer, 0, n);
            ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
            while (chunk.hasRemaining()) {
                out.write(chunk);
            }
            total += n;
        }
        out.force(true);
        return new Copied(total, hex(digest.digest()));
    }
}
