package io.reviver.spark.report;

import io.reviver.spark.AtomicOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * {@code reviver report RUN_DIR... [--out FILE.html]}: renders job reports into an HTML page ({@link ReportPage}).
 *
 * <p>Each RUN_DIR is a job output directory holding {@value AtomicOutput#REPORT}, or that JSON file itself; local
 * paths and Hadoop URIs ({@code hdfs://}, {@code s3a://}, ...) alike, read with a default Hadoop
 * {@code Configuration}. One run: the run page goes to {@value #PAGE} beside its JSON (which Spark's readers skip,
 * as its name starts with '_') unless {@code --out} names a file. Several runs: a comparison page, and
 * {@code --out} is required. On success the path written is printed on standard output.
 *
 * <p>Exit codes: 0 written; 2 usage error or an unusable report (one line on standard error naming the path and
 * what is wrong: missing, not JSON, not of format {@value ReportPage#FORMAT}); 1 the page could not be written.
 */
public final class ReportCommand {

    /** The run page's file name when it is written beside the report. */
    public static final String PAGE = "_reviver_report.html";

    private static final String USAGE = """
        usage: reviver report RUN_DIR... [--out FILE.html]
          RUN_DIR     a job output directory holding %s, or that file (local path or Hadoop URI)
          --out FILE  where to write the page; required for several runs (a comparison page),
                      default for one run: %s beside its report
        """.formatted(AtomicOutput.REPORT, PAGE);

    private static final int OK = 0;
    private static final int WRITE_FAILED = 1;
    private static final int BAD_INPUT = 2;

    private ReportCommand() {
    }

    /**
     * Runs the command and exits with its code.
     *
     * @param args RUN_DIR... [--out FILE.html], or --help
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, new Configuration()));
    }

    /**
     * The command without the exit: renders the reports named in {@code args} and returns the exit code.
     *
     * @param args as for {@link #main}
     * @param out  receives the path written, or the usage for {@code --help}
     * @param err  receives the one-line error for exit codes 1 and 2
     * @param conf Hadoop configuration for every path read or written
     * @return the exit code: 0 written, 1 not written, 2 usage error or unusable report
     */
    static int run(String[] args, PrintStream out, PrintStream err, Configuration conf) {
        List<String> runs = new ArrayList<>();
        String page = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                out.print(USAGE);
                return OK;
            } else if (a.equals("--out") || a.startsWith("--out=")) {
                if (page != null) {
                    return usage(err, "--out given twice");
                }
                if (a.equals("--out") && i + 1 == args.length) {
                    return usage(err, "--out needs a file name");
                }
                page = a.equals("--out") ? args[++i] : a.substring("--out=".length());
                if (page.isEmpty()) {
                    return usage(err, "--out needs a file name");
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                return usage(err, "unknown option " + a);
            } else {
                runs.add(a);
            }
        }
        if (runs.isEmpty()) {
            return usage(err, "no RUN_DIR given");
        }
        if (runs.size() > 1 && page == null) {
            return usage(err, runs.size() + " runs make a comparison page: name its file with --out FILE.html");
        }
        List<ReportFile> reports = new ArrayList<>();
        for (String run : runs) {
            try {
                reports.add(ReportFile.read(run, conf));
            } catch (BadReportException e) {
                err.println("reviver report: " + e.getMessage());
                return BAD_INPUT;
            }
        }
        Path target = page != null ? new Path(page) : new Path(reports.get(0).json().getParent(), PAGE);
        String html = ReportPage.render(reports.stream().map(ReportFile::report).toList());
        // Through the filesystem as is: on a local disk its checksum file is rewritten too, so a page the job wrote
        // earlier (with a checksum) stays readable through Hadoop after it is regenerated here.
        try (OutputStream o = target.getFileSystem(conf).create(target, true)) {
            o.write(html.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            err.println("reviver report: cannot write " + target + ": " + e.getMessage());
            return WRITE_FAILED;
        }
        out.println(target);
        return OK;
    }

    private static int usage(PrintStream err, String problem) {
        err.println("reviver report: " + problem);
        err.print(USAGE);
        return BAD_INPUT;
    }
}
