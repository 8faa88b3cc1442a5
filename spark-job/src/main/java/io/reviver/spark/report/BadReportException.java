package io.reviver.spark.report;

/** A report location that cannot be used; the message is one line naming the location and what is wrong. */
final class BadReportException extends Exception {

    private static final long serialVersionUID = 1L;

    BadReportException(String location, String problem) {
        super(location + ": " + problem);
    }
}
