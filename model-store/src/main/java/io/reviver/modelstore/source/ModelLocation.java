package io.reviver.modelstore.source;

import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a model file lives, parsed once from configuration text: either a local filesystem path or a Hadoop
 * FileSystem URI ({@code hdfs://nn:8020/m/model.gguf}, {@code s3a://bucket/m/model.gguf},
 * {@code file:///data/model.gguf}, or any other scheme a Hadoop connector on the classpath provides), plus an
 * optional expected SHA-256 of the file's bytes.
 *
 * <p>Parsing rules ({@link #parse(String)}):
 * <ul>
 *   <li>Surrounding whitespace is ignored; an empty string is rejected.</li>
 *   <li>Text starting with {@code scheme:} where the scheme has at least two characters
 *       ({@code [A-Za-z][A-Za-z0-9+.-]+}) is a URI. It must be hierarchical, have no query and no fragment, and
 *       its path must name an object (non-empty, not ending in {@code /}). Characters that are illegal in URIs
 *       (for example spaces) must be percent-encoded. A {@code file:} URI is treated like any other Hadoop URI,
 *       i.e. copied into the cache; give a plain path to use a local file in place.</li>
 *   <li>Anything else is a local path (a one-letter "scheme" such as {@code C:} is a Windows drive, not a
 *       scheme). To name a relative local file whose name contains a colon, prefix it with {@code ./}.</li>
 * </ul>
 *
 * <p>The URI is normalised ({@code .}/{@code ..} segments removed, scheme and server host lower-cased) so that
 * equivalent spellings map to one cache entry; {@link #toString()} returns that normalised form. An expected
 * SHA-256 must be exactly 64 hex characters and is stored lower-case. Instances are immutable, serialisable
 * (so a job plan can ship them to executors) and compare by value. Every parse error is a
 * {@link ModelLocationException} quoting the bad value.
 */
public final class ModelLocation implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A URI scheme of two or more characters followed by ':'; one letter would be a Windows drive. */
    private static final Pattern SCHEME_PREFIX = Pattern.compile("^[A-Za-z][A-Za-z0-9+.\\-]+:.*", Pattern.DOTALL);
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    /** Suffix of the optional sidecar object holding the expected SHA-256 of a remote source. */
    public static final String SIDECAR_SUFFIX = ".sha256";

    /** Normalised URI of a remote source; null for a local path. */
    private final URI uri;
    /** Local path exactly as given (stored as text because {@link Path} is not serialisable); null for a URI. */
    private final String localPath;
    /** Expected SHA-256, 64 lower-case hex characters, or null when none was given. */
    private final String expectedSha256;

    private ModelLocation(URI uri, String localPath, String expectedSha256) {
        this.uri = uri;
        this.localPath = localPath;
        this.expectedSha256 = expectedSha256;
    }

    /**
     * Parses a location without an expected checksum.
     *
     * @throws ModelLocationException if the text is null, blank, an unparsable or unusable URI, or an invalid path
     */
    public static ModelLocation parse(String location) {
        return parse(location, null);
    }

    /**
     * Parses a location and an optional expected SHA-256.
     *
     * @param location       a local path or a Hadoop FileSystem URI, see the class documentation
     * @param expectedSha256 64 hex characters, or null / blank for none
     * @throws ModelLocationException naming the bad value if either argument cannot be parsed
     */
    public static ModelLocation parse(String location, String expectedSha256) {
        String sha = parseSha256(expectedSha256);
        if (location == null) {
            throw new ModelLocationException("model location is null: expected a local path or a Hadoop URI");
        }
        String text = location.strip();
        if (text.isEmpty()) {
            throw new ModelLocationException("model location is empty: expected a local path or a Hadoop URI");
        }
        if (SCHEME_PREFIX.matcher(text).matches()) {
            return new ModelLocation(parseUri(text), null, sha);
        }
        try {
            Path.of(text);
        } catch (InvalidPathException e) {
            throw new ModelLocationException("model location '" + text + "' is not a valid local path: "
                    + e.getReason(), e);
        }
        return new ModelLocation(null, text, sha);
    }

    /** A local file used in place, with an optional expected SHA-256 (null or blank for none). */
    public static ModelLocation ofLocal(Path path, String expectedSha256) {
        Objects.requireNonNull(path, "path");
        return new ModelLocation(null, path.toString(), parseSha256(expectedSha256));
    }

    /**
     * Validates an expected SHA-256 string.
     *
     * @return the hash in lower case, or null when {@code sha256} is null or blank
     * @throws ModelLocationException if it is not exactly 64 hex characters
     */
    public static String parseSha256(String sha256) {
        if (sha256 == null || sha256.isBlank()) {
            return null;
        }
        String s = sha256.strip();
        if (!SHA256_HEX.matcher(s).matches()) {
            throw new ModelLocationException("expected sha256 '" + abbreviate(s) + "' is not 64 hex characters"
                    + " (got " + s.length() + " characters)");
        }
        return s.toLowerCase(Locale.ROOT);
    }

    private static URI parseUri(String text) {
        URI raw;
        try {
            raw = new URI(text);
        } catch (URISyntaxException e) {
            throw new ModelLocationException("model location '" + text + "' is not a valid URI: " + e.getMessage()
                    + " (percent-encode spaces and other special characters)", e);
        }
        if (raw.isOpaque()) {
            throw new ModelLocationException("model location '" + text + "' is not a hierarchical URI: expected"
                    + " scheme://authority/path or scheme:/path (a relative local path containing ':' needs a"
                    + " leading ./)");
        }
        if (raw.getRawQuery() != null || raw.getRawFragment() != null) {
            throw new ModelLocationException("model location '" + text
                    + "' has a query or fragment; model URIs must name an object by path only");
        }
        String path = raw.getPath();
        if (path == null || path.isEmpty() || path.equals("/") || path.endsWith("/")) {
            throw new ModelLocationException("model location '" + text
                    + "' does not name a file: its path is empty or ends with '/'");
        }
        String scheme = raw.getScheme().toLowerCase(Locale.ROOT);
        try {
            URI normalised;
            if (raw.getHost() != null) {
                normalised = new URI(scheme, raw.getUserInfo(), raw.getHost().toLowerCase(Locale.ROOT),
                        raw.getPort(), path, null, null);
            } else {
                normalised = new URI(scheme, raw.getAuthority(), path, null, null);
            }
            normalised = normalised.normalize();
            String normalisedPath = normalised.getPath();
            if (normalisedPath.startsWith("/..")) {
                throw new ModelLocationException("model location '" + text + "' climbs above the root with '..'");
            }
            if (normalisedPath.isEmpty() || normalisedPath.endsWith("/")) {
                throw new ModelLocationException("model location '" + text + "' does not name a file: after"
                        + " removing '.' and '..' its path is " + normalisedPath);
            }
            return normalised;
        } catch (URISyntaxException e) {
            throw new ModelLocationException("model location '" + text + "' cannot be normalised: "
                    + e.getMessage(), e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** True for a local filesystem path that is used in place; false for a Hadoop FileSystem URI. */
    public boolean isLocal() {
        return uri == null;
    }

    /**
     * The local path exactly as given.
     *
     * @throws IllegalStateException for a URI location
     */
    public Path localPath() {
        if (localPath == null) {
            throw new IllegalStateException("not a local location: " + uri);
        }
        return Path.of(localPath);
    }

    /**
     * The normalised URI of a remote source.
     *
     * @throws IllegalStateException for a local location
     */
    public URI uri() {
        if (uri == null) {
            throw new IllegalStateException("not a URI location: " + localPath);
        }
        return uri;
    }

    /** The URI of the optional sidecar object ({@code <uri>.sha256}) holding the expected hash. */
    public URI sidecarUri() {
        URI u = uri();
        try {
            return new URI(u.getScheme(), u.getAuthority(), u.getPath() + SIDECAR_SUFFIX, null, null);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot form sidecar URI for " + u, e);
        }
    }

    /** The last path segment: the file name a cached copy keeps. */
    public String fileName() {
        if (uri != null) {
            String p = uri.getPath();
            return p.substring(p.lastIndexOf('/') + 1);
        }
        Path name = Path.of(localPath).getFileName();
        return name == null ? localPath : name.toString();
    }

    /** Expected SHA-256 (64 lower-case hex characters), if one was given. */
    public Optional<String> expectedSha256() {
        return Optional.ofNullable(expectedSha256);
    }

    /**
     * The same location with a different expected SHA-256.
     *
     * @param sha256 64 hex characters, or null / blank to drop the expectation
     * @throws ModelLocationException if {@code sha256} is malformed
     */
    public ModelLocation withExpectedSha256(String sha256) {
        return new ModelLocation(uri, localPath, parseSha256(sha256));
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ModelLocation)) {
            return false;
        }
        ModelLocation other = (ModelLocation) o;
        return Objects.equals(uri, other.uri) && Objects.equals(localPath, other.localPath)
                && Objects.equals(expectedSha256, other.expectedSha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(uri, localPath, expectedSha256);
    }

    /** The normalised URI or the local path as given (without the expected hash). */
    @Override
    public String toString() {
        return uri != null ? uri.toString() : localPath;
    }
}
