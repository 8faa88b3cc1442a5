package io.reviver.kernel.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The host side of the native int8 kernels ({@code kernel/src/main/c/reviver_int8.c}, built into the jar as
 * {@code /native/linux-x86_64/libreviver_int8.so} where the build machine has gcc): loading the library, the
 * instruction sets it can use on this CPU, and one checked entry point. The arithmetic is
 * {@link Int8Products}'; every instruction set gives its bits.
 *
 * <p>The library loads once per JVM, on first use: from the path in the system property
 * {@value #LIBRARY_PROPERTY} if set, else copied out of the jar into a temporary file. When it cannot load (no such
 * resource: the jar was built without gcc, or another OS or CPU architecture) {@link #available()} is false and
 * {@link #status()} says why. Thread-safe.
 *
 * <p>Weights live off the heap ({@link NativeWeights}, {@link NativeMemory}). The kernels read activations and
 * write outputs in Java arrays in place, inside JNI critical regions: on JDK 17's G1 a garbage collection waits
 * while any thread is inside one, which lasts one product (about 8 ms for the 1B model's output matrix at one
 * sequence, longer for a prefill's products).
 */
public final class NativeQ8 {

    /** System property naming a {@code libreviver_int8.so} to load instead of the one in the jar. */
    public static final String LIBRARY_PROPERTY = "reviver.native.library";

    /**
     * System property naming the kernel {@link #selected()} returns instead of the fastest ({@link Isa#configName()}:
     * {@code scalar}, {@code avx2} or {@code avx512-vnni}), e.g. to run the AVX2 kernel where AVX-512 also runs.
     */
    public static final String ISA_PROPERTY = "reviver.native.isa";

    static final String RESOURCE = "/native/linux-x86_64/libreviver_int8.so";

    private static final Logger LOG = LogManager.getLogger(NativeQ8.class);

    /** An instruction set of the native kernels. */
    public enum Isa {
        /** Portable C, one multiply-add at a time: for checking the vector kernels, not for speed. */
        SCALAR(1, "scalar"),
        /**
         * AVX2 with FMA and F16C, for x86-64 CPUs without AVX-512 VNNI (AMD Zen 2 and 3; Intel's Skylake servers,
         * which have AVX-512 but not VNNI, and its client CPUs without AVX-512): 32 byte products in four
         * instructions ({@code vpsignb}, {@code vpmaddubsw}, {@code vpmaddwd}, {@code vpaddd}), on signed weights so
         * that no pair saturates.
         */
        AVX2(4, "avx2"),
        /** AVX-512 with VNNI ({@code vpdpbusd}): 64 byte products per instruction. */
        AVX512_VNNI(2, "avx512-vnni");

        final int bit;
        private final String configName;

        Isa(int bit, String configName) {
            this.bit = bit;
            this.configName = configName;
        }

        /** Name in configuration and logs. */
        public String configName() {
            return configName;
        }

        /**
         * The kernel named {@code s} (case-insensitive, surrounding blanks ignored), as {@link WeightsBackend#parse}
         * reads its names.
         *
         * @throws IllegalArgumentException naming the accepted values
         */
        public static Isa parse(String s) {
            String v = s.strip().toLowerCase(Locale.ROOT);
            for (Isa i : values()) {
                if (i.configName.equals(v)) {
                    return i;
                }
            }
            throw new IllegalArgumentException("unknown native int8 kernel '" + s + "' (" + ISA_PROPERTY
                + "): expected one of " + names(-1)); // every bit set: every kernel's name
        }
    }

    private NativeQ8() {
    }

    private static final class Holder {
        static final int ISAS;
        static final String STATUS;

        static {
            int isas = 0;
            String status;
            try {
                String file = load();
                isas = isas();
                status = "loaded " + file + "; instruction sets " + names(isas);
                LOG.info("native int8 kernels: {}", status);
            } catch (IOException | LinkageError | RuntimeException e) {
                status = "not available: " + e.getMessage();
                LOG.info("native int8 kernels {}", status);
            }
            ISAS = isas;
            STATUS = status;
        }
    }

    private static String load() throws IOException {
        String path = System.getProperty(LIBRARY_PROPERTY);
        if (path != null && !path.isBlank()) {
            Path p = Paths.get(path).toAbsolutePath();
            System.load(p.toString());
            return p.toString();
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsatisfiedLinkError("the jar carries the library for linux-x86_64 only, this JVM runs on "
                + os + "/" + arch);
        }
        try (InputStream in = NativeQ8.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("resource " + RESOURCE + " is not in the jar (it is built only where "
                    + "gcc is installed: deploy/install-prereqs.sh installs it)");
            }
            Path tmp = Files.createTempFile("libreviver_int8-", ".so");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                System.load(tmp.toString());
            } finally {
                Files.deleteIfExists(tmp); // once loaded, the mapping outlives the file: nothing left in /tmp
            }
            return RESOURCE + " (via a temporary copy)";
        }
    }

    private static String names(int isas) {
        List<String> names = new ArrayList<>();
        for (Isa i : Isa.values()) {
            if ((isas & i.bit) != 0) {
                names.add(i.configName());
            }
        }
        return String.join(", ", names);
    }

    /** Whether the library loaded (its scalar kernel then runs on any CPU). */
    public static boolean available() {
        return Holder.ISAS != 0;
    }

    /** Why the library did or did not load, and the instruction sets it found. */
    public static String status() {
        return Holder.STATUS;
    }

    /** Whether {@code isa}'s kernel can run here. */
    public static boolean supports(Isa isa) {
        return (Holder.ISAS & isa.bit) != 0;
    }

    /** @throws IllegalStateException naming the kernel and the library's status if {@code isa} does not run here */
    private static void requireSupported(Isa isa) {
        if (!supports(isa)) {
            throw new IllegalStateException("native int8 kernel " + isa.configName() + " does not run here: "
                + status());
        }
    }

    /**
     * The kernel to compute with: the one {@value #ISA_PROPERTY} names when it is set (whether or not it runs here:
     * {@link #supports} says), else {@link #best()}.
     *
     * @throws IllegalArgumentException if the property names no kernel
     */
    public static Isa selected() {
        String wanted = System.getProperty(ISA_PROPERTY);
        return wanted == null || wanted.isBlank() ? best() : Isa.parse(wanted);
    }

    /** The fastest kernel this CPU runs, or null when the library did not load. */
    public static Isa best() {
        for (Isa isa : new Isa[] {Isa.AVX512_VNNI, Isa.AVX2, Isa.SCALAR}) {
            if (supports(isa)) {
                return isa;
            }
        }
        return null;
    }

    /**
     * Output rows of row groups {@code [g0, g1)} of {@code w} (rows {@code 16·g0} up to {@code min(16·g1, rows)})
     * for {@code n} quantised activation rows, as {@link Int8Products} defines them.
     *
     * @param xq  activation quants (n, cols)
     * @param xd  their block scales (n, cols / 32)
     * @param xc  {@code -128 · Σ xq} per block (n, cols / 32)
     * @param out (n, rows) row-major; only the range's rows are written
     * @throws IllegalStateException    if {@code isa} is not supported here
     * @throws IllegalArgumentException if a range or an array's length does not fit the shapes
     */
    public static void product(Isa isa, NativeWeights w, int g0, int g1, byte[] xq, float[] xd, int[] xc, int n,
                               float[] out) {
        requireSupported(isa);
        int blocks = w.cols() / 32;
        if (g0 < 0 || g1 > w.groups() || g0 > g1 || n < 1) {
            throw new IllegalArgumentException("row groups [" + g0 + ", " + g1 + ") of " + w.groups() + ", n = " + n);
        }
        if ((long) n * w.cols() > xq.length || (long) n * blocks > xd.length || (long) n * blocks > xc.length
            || (long) n * w.rows() > out.length) {
            throw new IllegalArgumentException("arrays too short for n = " + n + " rows of " + w.cols()
                + " columns and " + w.rows() + " outputs: xq " + xq.length + ", xd " + xd.length + ", xc "
                + xc.length + ", out " + out.length);
        }
        int status;
        try {
            long base = w.memory().address();
            status = product0(isa.bit, base, base + w.scalesOffset(), blocks, g0, g1, xq, xd, xc, n, out, w.rows());
        } finally {
            Reference.reachabilityFence(w); // its memory is freed only once w is unreachable
        }
        if (status == 1) {
            throw new OutOfMemoryError("native int8 product: the JVM could not expose an array to native code");
        } else if (status == 2) {
            throw new UnsupportedOperationException("native int8 product: this JVM hands native code copies of "
                + "arrays, and threads writing rows of one output would lose each other's; run on HotSpot");
        }
    }

    /**
     * {@link Int8Products#quantize} on a native kernel, with the same results bit for bit.
     *
     * @throws IllegalStateException    if {@code isa} is not supported here
     * @throws IllegalArgumentException if cols is not a positive multiple of 32 or an array is too short
     */
    public static void quantize(Isa isa, float[] x, int n, int cols, byte[] xq, float[] xd, int[] xc) {
        requireSupported(isa);
        if (cols <= 0 || cols % 32 != 0 || n < 1) {
            throw new IllegalArgumentException("quantize: cols must be a positive multiple of 32 and n >= 1, got cols "
                + cols + ", n " + n);
        }
        long blocks = (long) n * (cols / 32);
        if ((long) n * cols > x.length || (long) n * cols > xq.length || blocks > xd.length || blocks > xc.length) {
            throw new IllegalArgumentException("quantize: arrays too short for n = " + n + " rows of " + cols
                + " columns: x " + x.length + ", xq " + xq.length + ", xd " + xd.length + ", xc " + xc.length);
        }
        if (!quantize0(isa.bit, x, n, cols, xq, xd, xc)) {
            throw new OutOfMemoryError("native int8 quantize: the JVM could not expose an array to native code");
        }
    }

    /**
     * Reads bytes {@code [from, to)} of {@code m} as fast as {@code isa}'s reader can (see {@code reviver_int8.c}:
     * 64-byte loads from two streams), for the benchmark's memory-bandwidth probe; returns the sum of the bytes'
     * unsigned values, so the reads are not optimised away.
     *
     * @throws IllegalStateException    if {@code isa} is not supported here or {@code m} is closed
     * @throws IllegalArgumentException if the range is not inside {@code m}
     */
    public static long read(Isa isa, NativeMemory m, long from, long to) {
        requireSupported(isa);
        if (from < 0 || to > m.bytes() || from > to) {
            throw new IllegalArgumentException("read [" + from + ", " + to + ") of " + m.bytes() + " bytes");
        }
        try {
            return read0(isa.bit, m.address(), from, to);
        } finally {
            Reference.reachabilityFence(m);
        }
    }

    /** {@code bytes} (> 0) of native memory aligned to a huge page; its address, or 0 when there is not that much. */
    static long allocate(long bytes, boolean[] hugePagesAdvised) {
        return allocate0(bytes, hugePagesAdvised);
    }

    static void free(long address) {
        free0(address);
    }

    /** Copies all of {@code src} to native memory at {@code address} (the caller checked the range). */
    static void putBytes(long address, byte[] src) {
        putBytes0(address, src, src.length);
    }

    static void putShorts(long address, short[] src) {
        putShorts0(address, src, src.length);
    }

    private static native long allocate0(long bytes, boolean[] hugePagesAdvised);

    private static native void free0(long address);

    private static native void putBytes0(long address, byte[] src, int length);

    private static native void putShorts0(long address, short[] src, int length);

    private static native long read0(int isa, long address, long from, long to);

    private static native int isas();

    private static native boolean quantize0(int isa, float[] x, int n, int cols, byte[] xq, float[] xd, int[] xc);

    private static native int product0(int isa, long w, long ws, int blocks, int g0, int g1, byte[] xq,
                                           float[] xd, int[] xc, int n, float[] out, int rows);
}
