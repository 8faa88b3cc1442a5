package io.reviver.spark.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.reviver.spark.AtomicOutput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One run's report, located and read through Hadoop's {@code FileSystem} (local paths, {@code file:}, {@code hdfs:},
 * {@code s3a:}...).
 *
 * @param json   the {@value AtomicOutput#REPORT} file read
 * @param report its parsed content, an object whose {@code format} is {@value ReportPage#FORMAT}
 */
record ReportFile(Path json, JsonNode report) {

    private static final ObjectMapper MAPPER =
        new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * Reads the report at {@code location}: a job output directory (its {@value AtomicOutput#REPORT} is read) or the
     * JSON file itself.
     *
     * @throws BadReportException when the location does not exist, the directory holds no report, the file is not
     *                            a JSON object, or its {@code format} is not {@value ReportPage#FORMAT}
     */
    static ReportFile read(String location, Configuration conf) throws BadReportException {
        Path json;
        String text;
        try {
            Path path = new Path(location);
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new BadReportException(location, "no such file or directory");
            }
            FileStatus status = fs.getFileStatus(path);
            json = status.isDirectory() ? new Path(path, AtomicOutput.REPORT) : path;
            if (status.isDirectory() && !fs.exists(json)) {
                throw new BadReportException(location, "directory without " + AtomicOutput.REPORT
                    + " (not a Reviver job output, or its report is not written yet)");
            }
            try (InputStream in = fs.open(json)) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new BadReportException(location, "cannot read: " + oneLine(e.getMessage()));
        } catch (IllegalArgumentException e) { // Hadoop's answer to an unparsable path or URI
            throw new BadReportException(location, "not a valid path: " + oneLine(e.getMessage()));
        }
        return new ReportFile(json, parse(json.toString(), text));
    }

    /** The parsed report, checked to be a JSON object of format {@value ReportPage#FORMAT}. */
    private static JsonNode parse(String location, String text) throws BadReportException {
        JsonNode report;
        try {
            report = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new BadReportException(location, "not JSON (line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ": " + oneLine(e.getOriginalMessage()) + ")");
        }
        if (report == null || report.isMissingNode()) {
            throw new BadReportException(location, "empty file, not JSON");
        }
        if (!report.isObject()) {
            throw new BadReportException(location, "not a report: the JSON is " + report.getNodeType().name()
                .toLowerCase(Locale.ROOT) + ", expected an object");
        }
        JsonNode format = report.path("format");
        if (!format.isTextual()) {
            throw new BadReportException(location, "not a report: no \"format\" field (expected \""
                + ReportPage.FORMAT + "\")");
        }
        if (!ReportPage.FORMAT.equals(format.asText())) {
            throw new BadReportException(location, "format is \"" + oneLine(format.asText()) + "\", expected \""
                + ReportPage.FORMAT + "\"");
        }
        return report;
    }

    private static String oneLine(String message) {
        return message == null ? "unknown error" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
