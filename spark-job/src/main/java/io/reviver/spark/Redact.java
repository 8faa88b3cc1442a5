package io.reviver.spark;

/**
 * Keeps credentials out of logs, errors and reports: the user-info part of a URI
 * ({@code s3a://KEY:SECRET@bucket/...}, which hadoop-aws refuses but a user may still type) is replaced by
 * {@code ***}. Matched as text, not parsed, because secrets often hold characters ({@code /}, {@code +}) that make
 * URI parsing read the authority wrongly: whatever lies between {@code ://} and the last {@code @} is redacted when
 * it contains a {@code :}. Credentials configured as Hadoop or Spark properties never reach the report; Spark
 * redacts them in its event log and UI ({@code spark.redaction.regex}).
 */
public final class Redact {

    private Redact() {
    }

    /** {@code text} with any URI user-info replaced by {@code ***}; other text unchanged; null stays null. */
    public static String uri(String text) {
        if (text == null) {
            return null;
        }
        int scheme = text.indexOf("://");
        if (scheme < 0) {
            return text;
        }
        int start = scheme + 3;
        int at = text.lastIndexOf('@');
        if (at <= start || text.substring(start, at).indexOf(':') < 0) {
            return text;
        }
        return text.substring(0, start) + "***" + text.substring(at);
    }
}
