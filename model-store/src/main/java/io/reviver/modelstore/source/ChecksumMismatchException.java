package io.reviver.modelstore.source;

/**
 * The SHA-256 of a model's bytes differs from the expected value (given by the user or read from a
 * {@code .sha256} sidecar). The message names the source, the expected and the actual hash. When raised during
 * a download the partially verified temporary file has already been deleted and any previous cache entry is left
 * untouched.
 */
public class ChecksumMismatchException extends ModelSourceException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String expectedSha256;
    private final String actualSha256;

    /**
     * @param source         the location whose content was hashed (URI or local path, as text)
     * @param expectedSha256 expected hash, 64 lower-case hex characters
     * @param actualSha256   hash of the bytes actually read, 64 lower-case hex characters
     */
    public ChecksumMismatchException(String source, String expectedSha256, String actualSha256) {
        super("sha256 mismatch for " + source + ": expected " + expectedSha256 + ", actual " + actualSha256);
        this.source = source;
        this.expectedSha256 = expectedSha256;
        this.actualSha256 = actualSha256;
    }

    /** The location whose content was hashed, as text. */
    public String source() {
        return source;
    }

    /** The expected SHA-256, 64 lower-case hex characters. */
    public String expectedSha256() {
        return expectedSha256;
    }

    /** The SHA-256 of the bytes actually read, 64 lower-case hex characters. */
    public String actualSha256() {
        return actualSha256;
    }
}
