package io.reviver.kernel.cli;

/**
 * The settings of {@code reviver bench}, parsed once and validated.
 *
 * @param quick         small model shapes (for CI) instead of Llama-3.2-1B shapes
 * @param threads       compute threads
 * @param prefillTokens prompt length of the prefill measurement, [16, 4096]
 * @param seconds       measuring time per decode figure
 * @param documents     sample-corpus documents for the end-to-end figure
 * @param repeats       runs of each end-to-end configuration, [1, 20], taken in turn; the median is the figure
 * @param out           output directory (bench.json)
 */
public record BenchOptions(boolean quick, int threads, int prefillTokens, double seconds, int documents, int repeats,
                           String out) {

    public static final String USAGE = String.join("\n",
        "Usage: reviver bench [--quick] [--threads N] [--prefill N] [--seconds S] [--documents N] [--repeats N]",
        "                    [--out DIR]",
        "",
        "Measures this machine's memory-bandwidth and FMA peaks, then the engine against them on a seeded",
        "random-weight Q8_0 model (Llama-3.2-1B shapes; --quick: small shapes), and end-to-end documents/hour on the",
        "bundled model and sample corpus (each configuration run --repeats times, default 3, in turn; the median",
        "is reported with the range); writes OUT/bench.json (default runs/bench).");

    public BenchOptions {
        if (threads < 1 || threads > 1024) {
            throw new UsageException("--threads: " + threads + " is outside [1, 1024]");
        }
        if (prefillTokens < 16 || prefillTokens > 4096) {
            throw new UsageException("--prefill: " + prefillTokens + " is outside [16, 4096]");
        }
        if (!(seconds > 0 && seconds <= 60)) {
            throw new UsageException("--seconds: " + seconds + " is outside (0, 60]");
        }
        if (documents < 1) {
            throw new UsageException("--documents: " + documents + " must be ≥ 1");
        }
        if (repeats < 1 || repeats > 20) {
            throw new UsageException("--repeats: " + repeats + " is outside [1, 20]");
        }
    }

    static BenchOptions parse(String[] args, int defaultThreads) {
        boolean quick = false;
        int threads = defaultThreads;
        int prefill = 2048;
        double seconds = 2;
        int documents = 12;
        int repeats = 3;
        String out = "runs/bench";
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--quick")) {
                quick = true;
                continue;
            }
            if (flag.equals("--verbose")) {
                continue;
            }
            if (i + 1 >= args.length) {
                throw new UsageException(flag + " needs a value");
            }
            String v = args[++i];
            try {
                switch (flag) {
                    case "--threads" -> threads = Integer.parseInt(v);
                    case "--prefill" -> prefill = Integer.parseInt(v);
                    case "--seconds" -> seconds = Double.parseDouble(v);
                    case "--documents" -> documents = Integer.parseInt(v);
                    case "--repeats" -> repeats = Integer.parseInt(v);
                    case "--out" -> out = v;
                    default -> throw new UsageException("unknown argument '" + flag + "' (see reviver bench --help)");
                }
            } catch (NumberFormatException e) {
                throw new UsageException(flag + ": '" + v + "' is not a number");
            }
        }
        return new BenchOptions(quick, threads, prefill, seconds, documents, repeats, out);
    }
}
