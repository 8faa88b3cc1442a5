package io.reviver.spark;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Keeps credentials out of logs and reports: a URI's user-info part ({@code s3a://KEY:SECRET@bucket/...}, which
 * hadoop-aws refuses but a user may still type) is replaced by {@code ***}. Credentials configured as Hadoop or
 * Spark properties never reach the report; Spark redacts them in its event log and UI
 * ({@code spark.redaction.regex}).
 */
public final class Redact {

    private Redact() {
    }

    /** {@code text} with any URI user-info replaced by {@code ***}; other text unchanged. */
    public static String uri(String text) {
        if (text == null) {
            return null;
        }
        try {
            URI u = new URI(text);
            if (u.getRawUserInfo() != null) {
                return new URI(u.getScheme(), "***", u.getHost(), u.getPort(), u.getPath(), u.getQuery(),
                    u.getFragment()).toString();
            }
            return text;
        } catch (URISyntaxException e) {
            int at = text.indexOf('@');
            int scheme = text.indexOf("://");
            return scheme >= 0 && at > scheme ? text.substring(0, scheme + 3) + "***" + text.substring(at) : text;
        }
    }
}
