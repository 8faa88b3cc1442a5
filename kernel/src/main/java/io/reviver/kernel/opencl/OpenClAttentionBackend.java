package io.reviver.kernel.opencl;

import com.aparapi.Kernel;
import com.aparapi.Range;
import com.aparapi.device.OpenCLDevice;
import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.AttentionBatch;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.BackendStatus;
import io.reviver.kernel.attention.BackendUnavailableException;
import io.reviver.kernel.attention.CountSketchShape;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.attention.SketchMode;
import io.reviver.kernel.attention.SketchedTokens;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * {@link AttentionBackend} running each op as an Aparapi kernel on one OpenCL device: the host side of
 * {@link AttentionKernel}, {@link SketchInsertKernel} and {@link SketchReconstructKernel} (range sizing,
 * transfers, timing, dispose).
 *
 * <p>Open it with {@link #open(BackendChoice)}; the platform and device are logged at start-up. After every
 * execution the op checks {@link Kernel#isRunningCL()}: Aparapi silently falls back to a Java thread pool when
 * OpenCL fails, so a kernel that did not run as OpenCL (or failed to compile) either throws
 * {@link BackendUnavailableException} ({@link BackendChoice#OPENCL}) or, for
 * {@link BackendChoice#OPENCL_OR_JAVA}, logs a WARN, counts a fall-back in {@link #status()} and runs that op on
 * the {@link JavaAttentionBackend} from then on.
 *
 * <p>Not thread-safe: one instance per thread; calls into Aparapi are serialised across instances (see
 * {@code DEVICE_LOCK}). Buffers: the kernels run in Aparapi's automatic transfer mode, where every array the
 * kernel reads is written to the device and every array it writes is read back inside the one native call that
 * also holds the arrays pinned. Explicit mode ({@code put}/{@code get}) is not used: on a shared-memory (CPU) device
 * Aparapi builds each buffer on its array's address at execution time ({@code CL_MEM_USE_HOST_PTR}), and an
 * explicit {@code get} pins the array again later, so a collection that moved the array in between would copy
 * from the buffer at the old address (read from Aparapi's native source; not reproduced here, where a stress test
 * passed in both modes). Attention's keys and values are handed to Aparapi as the
 * caller's own arrays, so no host copy is made. The sketch ops copy their tables, counts and vectors into
 * kernel-owned arrays (and an insert copies the tables back): a press passes a different table per (layer, head)
 * on every call. Small index arrays, scratch and outputs are kernel-owned arrays that grow geometrically and are
 * reused across calls. The kernels keep a reference to the last arrays passed until the next call or
 * {@link #close()}.
 */
public final class OpenClAttentionBackend implements AttentionBackend {

    private static final Logger LOG = LogManager.getLogger(OpenClAttentionBackend.class);
    /** Stand-in for an empty input array (OpenCL buffers cannot be empty). */
    private static final float[] EMPTY = new float[1];
    /**
     * Serialises every Aparapi call (puts, executions, gets, disposal) across all instances of this class in the
     * JVM: an instance serves one thread, but a model runs its KV heads' attention on several threads, one backend
     * each, and concurrent executions of Aparapi kernels from two threads crashed PoCL (a SIGSEGV inside a
     * work-group) in CI. On a CPU device a kernel already uses every core, so little is lost.
     */
    private static final Object DEVICE_LOCK = new Object();
    /** Count table stand-in for SIGNED sketches (never read or written by the kernels). */
    private final int[] noCounts = new int[1];
    /** Kernel-owned copies of the callers' count tables (MEAN sketches), grown as needed. */
    private int[] insertCounts = new int[1];
    private int[] reconstructCounts = new int[1];
    /** Default work-group size of the attention and reconstruction kernels. */
    public static final int DEFAULT_LOCAL_SIZE = 64;

    /** The kernel-backed ops, each checked separately for having run as OpenCL. */
    enum Op { ATTEND, ATTEND_WITH_SKETCH, SKETCH_INSERT, SKETCH_RECONSTRUCT, SKETCH_INSERT_MEAN,
        SKETCH_RECONSTRUCT_MEAN, HASH }

    private final BackendChoice requested;
    private final OpenCLDevice device; // null: no device, every op on Java
    private final String deviceName;
    private final int localSize;
    private final JavaAttentionBackend reference = new JavaAttentionBackend();
    private final Map<Op, Boolean> onJava = new EnumMap<>(Op.class);
    private final Set<Op> confirmed = EnumSet.noneOf(Op.class); // ops seen running as OpenCL
    private final Map<Op, long[]> timings = new EnumMap<>(Op.class); // op -> {calls, nanos}
    private long fallbacks;
    private String lastReason = "";

    private final AttentionKernel attend = new AttentionKernel();
    private final AttentionKernel attendSketch = new AttentionKernel();
    private final SketchInsertKernel insert = new SketchInsertKernel();
    private final SketchReconstructKernel reconstruct = new SketchReconstructKernel();
    private final SketchHashKernel hash = new SketchHashKernel();

    private OpenClAttentionBackend(BackendChoice requested, OpenCLDevice device, int localSize, String problem) {
        this.requested = requested;
        this.device = device;
        this.localSize = localSize;
        attend.partial = new float[localSize];
        attendSketch.partial = new float[localSize];
        if (device == null) {
            this.deviceName = "java (no OpenCL device)";
            fallback(null, problem);
        } else {
            this.deviceName = OpenClDevices.describe(device);
        }
    }

    /** {@link #open(BackendChoice, int, int)} on the first device (GPUs first) with the default local size. */
    public static AttentionBackend open(BackendChoice choice) {
        return open(choice, 0, DEFAULT_LOCAL_SIZE);
    }

    /**
     * Opens the backend a job asked for.
     *
     * @param choice      {@code java} returns a {@link JavaAttentionBackend}; {@code opencl} throws
     *                    {@link BackendUnavailableException} when no OpenCL device exists; {@code opencl-or-java}
     *                    then logs a WARN and returns a backend whose ops all run on Java ({@code fallbacks = 1})
     * @param deviceIndex index into the OpenCL devices of all platforms, GPUs first then accelerators then CPUs
     *                    (e.g. the GPU address Spark assigned to the task); 0 = best
     * @param localSize   work-group size of the attention/reconstruction kernels, a power of two in [1, 1024];
     *                    clamped to the device's maximum
     */
    public static AttentionBackend open(BackendChoice choice, int deviceIndex, int localSize) {
        if (choice == null) {
            throw new IllegalArgumentException("choice must not be null");
        }
        if (localSize < 1 || localSize > 1024 || Integer.bitCount(localSize) != 1) {
            throw new IllegalArgumentException("localSize must be a power of two in [1, 1024], got " + localSize);
        }
        if (choice == BackendChoice.JAVA) {
            LOG.info("attention backend: java (configured)");
            return new JavaAttentionBackend();
        }
        OpenClDevices found = OpenClDevices.discover();
        List<OpenCLDevice> devices = found.devices();
        if (devices.isEmpty() || deviceIndex < 0 || deviceIndex >= devices.size()) {
            String problem = devices.isEmpty() ? found.problem()
                : "device index " + deviceIndex + " outside the " + devices.size() + " OpenCL devices";
            if (choice == BackendChoice.OPENCL) {
                throw new BackendUnavailableException("attention backend 'opencl' required but unavailable: " + problem);
            }
            return new OpenClAttentionBackend(choice, null, localSize, problem);
        }
        OpenCLDevice d = devices.get(deviceIndex);
        int local = Math.min(localSize, Integer.highestOneBit(Math.max(1, d.getMaxWorkGroupSize())));
        LOG.info("attention backend: {} (configured {}); platform '{}' version '{}'; device '{}' {} with {} compute "
                + "units, max work-group {}, global memory {} MiB, local memory {} KiB; local size {}",
            OpenClDevices.describe(d), choice, d.getOpenCLPlatform().getName(), d.getOpenCLPlatform().getVersion(),
            d.getName(), d.getType(), d.getMaxComputeUnits(), d.getMaxWorkGroupSize(), d.getGlobalMemSize() >> 20,
            d.getLocalMemSize() >> 10, local);
        return new OpenClAttentionBackend(choice, d, local, "");
    }

    @Override
    public BackendStatus status() {
        boolean cl = device != null && fallbacks == 0;
        return new BackendStatus(requested, cl, deviceName, fallbacks, lastReason);
    }

    /** Work-group size in use. */
    public int localSize() {
        return localSize;
    }

    /** Calls and accumulated wall time (ns, including transfers) of each op run on OpenCL: op → {calls, nanos}. */
    public Map<String, long[]> timings() {
        Map<String, long[]> copy = new LinkedHashMap<>();
        timings.forEach((op, t) -> copy.put(op.name(), t.clone()));
        return copy;
    }

    // ---------------------------------------------------------------- op 1 and op 4: attention

    @Override
    public void attend(AttentionBatch batch, float[] out, float[] weights) {
        synchronized (DEVICE_LOCK) {
            attendLocked(batch, out, weights);
        }
    }

    private void attendLocked(AttentionBatch batch, float[] out, float[] weights) {
        int[] wOff = batch.weightOffsets();
        batch.checkOutputs(out, weights, wOff[batch.pairs()]);
        if (isOnJava(Op.ATTEND)) {
            reference.attend(batch, out, weights);
            return;
        }
        long t0 = System.nanoTime();
        AttentionKernel k = attend;
        loadExact(k, batch, wOff);
        int[] zeros = new int[batch.pairs()];
        k.pass = 1;
        k.vagueLength = copy(k.vagueLength, zeros, zeros.length);
        k.slotOffset = copy(k.slotOffset, zeros, zeros.length);
        if (!execute(Op.ATTEND, k, size(batch.pairs(), batch.kvMul(), localSize), localSize)) {
            reference.attend(batch, out, weights);
            return;
        }
        readAttention(k, batch, out, weights, wOff[batch.pairs()]);
        time(Op.ATTEND, t0);
    }

    @Override
    public void attendWithSketch(AttentionBatch batch, SketchedTokens sketch, float[] out, float[] weights) {
        synchronized (DEVICE_LOCK) {
            attendWithSketchLocked(batch, sketch, out, weights);
        }
    }

    private void attendWithSketchLocked(AttentionBatch batch, SketchedTokens sketch, float[] out, float[] weights) {
        sketch.checkFor(batch);
        int[] wOff = batch.weightOffsets(sketch.vagueLength());
        batch.checkOutputs(out, weights, wOff[batch.pairs()]);
        if (isOnJava(Op.ATTEND_WITH_SKETCH)) {
            reference.attendWithSketch(batch, sketch, out, weights);
            return;
        }
        long t0 = System.nanoTime();
        AttentionKernel k = attendSketch;
        loadExact(k, batch, wOff);
        CountSketchShape shape = sketch.shape();
        int p = batch.pairs();
        int[] slotOffset = new int[p];
        int slots = 0;
        for (int i = 0; i < p; i++) {
            slotOffset[i] = slots;
            slots += sketch.vagueLength()[i];
        }
        int[] slotPair = new int[Math.max(slots, 1)];
        for (int i = 0; i < p; i++) {
            Arrays.fill(slotPair, slotOffset[i], slotOffset[i] + sketch.vagueLength()[i], i);
        }
        k.depth = shape.depth();
        k.width = shape.width();
        k.keyTables = sketch.keyTables();
        k.valueTables = sketch.valueTables();
        k.seeds = copy(k.seeds, sketch.seeds(), sketch.sketches());
        k.sketchOf = copy(k.sketchOf, sketch.sketchOf(), p);
        k.vagueStart = copy(k.vagueStart, sketch.vagueStart(), p);
        k.vagueLength = copy(k.vagueLength, sketch.vagueLength(), p);
        k.slotOffset = copy(k.slotOffset, slotOffset, p);
        k.slotPair = copy(k.slotPair, slotPair, slotPair.length);
        k.positions = copy(k.positions, sketch.positions(), sketch.positions().length);
        k.codes = ensureInts(k.codes, size(slots, shape.depth(), 1));
        k.reconKeys = ensure(k.reconKeys, size(slots, shape.headSize(), 1));
        k.reconValues = ensure(k.reconValues, size(slots, shape.headSize(), 1));
        // Pass 0 reconstructs each sketched token once (into kernel-owned arrays); pass 1 attends.
        k.pass = 0;
        boolean ran = slots == 0 || execute(Op.ATTEND_WITH_SKETCH, k, size(slots, localSize, 1), localSize);
        k.pass = 1;
        if (!ran || !execute(Op.ATTEND_WITH_SKETCH, k, size(p, batch.kvMul(), localSize), localSize)) {
            reference.attendWithSketch(batch, sketch, out, weights);
            return;
        }
        readAttention(k, batch, out, weights, wOff[p]);
        time(Op.ATTEND_WITH_SKETCH, t0);
    }

    /** Loads the exact part of a batch (keys and values by reference, small arrays copied) and puts it. */
    private static void loadExact(AttentionKernel k, AttentionBatch b, int[] wOff) {
        int p = b.pairs();
        k.kvMul = b.kvMul();
        k.headSize = b.headSize();
        k.scale = b.scale();
        k.queries = copy(k.queries, b.queries(), b.outputLength());
        // Large inputs: the caller's arrays, no host copy (see class comment); OpenCL has no empty buffers.
        k.keys = b.entries() == 0 ? EMPTY : b.keys();
        k.values = b.entries() == 0 ? EMPTY : b.values();
        k.useMask = b.valid() == null ? 0 : 1;
        if (b.valid() != null) {
            k.valid = copy(k.valid, b.valid(), b.entries());
        }
        k.blockStart = copy(k.blockStart, b.blockStart(), p);
        k.blockLength = copy(k.blockLength, b.blockLength(), p);
        k.weightOffset = copy(k.weightOffset, wOff, p);
        k.weights = ensure(k.weights, wOff[p]);
        k.out = ensure(k.out, b.outputLength());
    }

    private static void readAttention(AttentionKernel k, AttentionBatch b, float[] out, float[] weights, int nWeights) {
        System.arraycopy(k.out, 0, out, 0, b.outputLength());
        if (weights != null) {
            System.arraycopy(k.weights, 0, weights, 0, nWeights);
        }
    }

    // ---------------------------------------------------------------- op 2 and op 3: Count-Sketch

    @Override
    public void sketchInsert(CountSketchShape shape, float[] tables, int[] counts, int[] seeds, int[] tokenStart,
                             int[] tokenCount, int[] positions, float[] x) {
        synchronized (DEVICE_LOCK) {
            sketchInsertLocked(shape, tables, counts, seeds, tokenStart, tokenCount, positions, x);
        }
    }

    private void sketchInsertLocked(CountSketchShape shape, float[] tables, int[] counts, int[] seeds,
                                    int[] tokenStart, int[] tokenCount, int[] positions, float[] x) {
        int s = shape.checkInsert(tables, counts, seeds, tokenStart, tokenCount, positions, x);
        if (positions.length == 0) {
            return;
        }
        boolean mean = shape.mode() == SketchMode.MEAN;
        Op op = mean ? Op.SKETCH_INSERT_MEAN : Op.SKETCH_INSERT;
        if (isOnJava(op)) {
            reference.sketchInsert(shape, tables, counts, seeds, tokenStart, tokenCount, positions, x);
            return;
        }
        long t0 = System.nanoTime();
        SketchInsertKernel k = insert;
        k.depth = shape.depth();
        k.width = shape.width();
        k.headSize = shape.headSize();
        k.mean = mean ? 1 : 0;
        // Sketch ops copy every array into kernel-owned ones: a KV press calls them with a different table per
        // (layer, head), and each distinct array would cost Aparapi a new device buffer.
        k.tables = copy(k.tables, tables, tables.length);
        k.counts = mean ? (insertCounts = copy(insertCounts, counts, counts.length)) : noCounts;
        k.seeds = copy(k.seeds, seeds, s);
        k.tokenStart = copy(k.tokenStart, tokenStart, s);
        k.tokenCount = copy(k.tokenCount, tokenCount, s);
        k.positions = copy(k.positions, positions, positions.length);
        k.x = copy(k.x, x, x.length);
        k.codes = ensureInts(k.codes, size(positions.length, shape.depth(), 1));
        if (!execute(op, k, size(s, shape.depth(), localSize), localSize)) {
            reference.sketchInsert(shape, tables, counts, seeds, tokenStart, tokenCount, positions, x);
            return;
        }
        System.arraycopy(k.tables, 0, tables, 0, tables.length);
        if (mean) {
            System.arraycopy(k.counts, 0, counts, 0, counts.length);
        }
        time(op, t0);
    }

    @Override
    public void sketchReconstruct(CountSketchShape shape, float[] tables, int[] counts, int[] seeds, int[] sketchOf,
                                  int[] positions, int m, float[] out) {
        synchronized (DEVICE_LOCK) {
            sketchReconstructLocked(shape, tables, counts, seeds, sketchOf, positions, m, out);
        }
    }

    private void sketchReconstructLocked(CountSketchShape shape, float[] tables, int[] counts, int[] seeds,
                                         int[] sketchOf, int[] positions, int m, float[] out) {
        int s = shape.checkReconstruct(tables, counts, seeds, sketchOf, positions, m, out);
        if (m == 0) {
            return;
        }
        boolean mean = shape.mode() == SketchMode.MEAN;
        Op op = mean ? Op.SKETCH_RECONSTRUCT_MEAN : Op.SKETCH_RECONSTRUCT;
        if (isOnJava(op)) {
            reference.sketchReconstruct(shape, tables, counts, seeds, sketchOf, positions, m, out);
            return;
        }
        long t0 = System.nanoTime();
        SketchReconstructKernel k = reconstruct;
        k.depth = shape.depth();
        k.width = shape.width();
        k.headSize = shape.headSize();
        k.mean = mean ? 1 : 0;
        k.tables = copy(k.tables, tables, tables.length); // kernel-owned copies: see sketchInsert
        k.counts = mean ? (reconstructCounts = copy(reconstructCounts, counts, counts.length)) : noCounts;
        k.seeds = copy(k.seeds, seeds, s);
        k.sketchOf = copy(k.sketchOf, sketchOf, m);
        k.positions = copy(k.positions, positions, m);
        k.codes = ensureInts(k.codes, size(m, shape.depth(), 1));
        k.out = ensure(k.out, m * shape.headSize());
        if (!execute(op, k, size(m, localSize, 1), localSize)) {
            reference.sketchReconstruct(shape, tables, counts, seeds, sketchOf, positions, m, out);
            return;
        }
        System.arraycopy(k.out, 0, out, 0, m * shape.headSize());
        time(op, t0);
    }

    /**
     * Test probe: the device's {@code SketchHash.mix} for each (seeds[i], rows[i], positions[i]).
     *
     * @throws BackendUnavailableException if the hash kernel did not run as OpenCL
     */
    long[] deviceHashes(int[] seeds, int[] rows, int[] positions) {
        synchronized (DEVICE_LOCK) {
            return deviceHashesLocked(seeds, rows, positions);
        }
    }

    private long[] deviceHashesLocked(int[] seeds, int[] rows, int[] positions) {
        int n = positions.length;
        SketchHashKernel k = hash;
        k.count = n;
        k.seeds = copy(k.seeds, seeds, n);
        k.rows = copy(k.rows, rows, n);
        k.positions = copy(k.positions, positions, n);
        if (k.hashes.length < n) {
            k.hashes = new long[n];
        }
        if (isOnJava(Op.HASH) || !execute(Op.HASH, k, roundUp(n, localSize), localSize)) {
            throw new BackendUnavailableException("hash kernel did not run as OpenCL: " + lastReason);
        }
        return Arrays.copyOf(k.hashes, n);
    }

    // ---------------------------------------------------------------- execution, fall-back, buffers

    private boolean isOnJava(Op op) {
        return device == null || onJava.getOrDefault(op, false);
    }

    /**
     * Executes {@code k} over {@code global} items in groups of {@code local} on the device; returns false (after a
     * logged, counted fall-back) when it did not run as OpenCL, or throws when OpenCL was required.
     */
    boolean execute(Op op, Kernel k, int global, int local) {
        long t0 = System.nanoTime();
        try {
            k.execute(Range.create(device, global, local));
        } catch (RuntimeException | AssertionError | LinkageError e) {
            // Aparapi reports an OpenCL failure on a device-bound range as an AssertionError or runtime exception.
            fallback(op, op + " kernel failed on " + deviceName + ": " + e);
            return false;
        }
        if (!k.isRunningCL()) {
            fallback(op, op + " kernel ran on Aparapi's " + k.getTargetDevice().getShortDescription()
                + " instead of OpenCL device " + deviceName);
            return false;
        }
        if (confirmed.add(op)) {
            LOG.info("attention backend: {} first execution ran as OpenCL (isRunningCL = true) on {}: {} ms wall "
                + "(the first execution of a kernel class includes its compile)", op, deviceName,
                String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e6));
        }
        return true;
    }

    private void fallback(Op op, String reason) {
        if (requested == BackendChoice.OPENCL) {
            throw new BackendUnavailableException("attention backend 'opencl' required but " + reason);
        }
        fallbacks++;
        lastReason = reason;
        if (op != null) {
            onJava.put(op, true);
        }
        LOG.warn("attention backend '{}': falling back to java{}: {} (fallbacks so far: {})", requested,
            op == null ? "" : " for " + op, reason, fallbacks);
    }

    private void time(Op op, long t0) {
        long[] t = timings.computeIfAbsent(op, o -> new long[2]);
        t[0]++;
        t[1] += System.nanoTime() - t0;
    }

    /** {@code a·b·c} as an int array length or work size. @throws IllegalArgumentException beyond 2³¹ − 9 */
    private static int size(int a, int b, int c) {
        long n = (long) a * b * c;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("batch too large for one kernel launch (" + a + " × " + b + " × " + c
                + " > 2³¹); split it");
        }
        return (int) n;
    }

    private static int roundUp(int n, int multiple) {
        int r = (Math.max(n, 1) + multiple - 1) / multiple * multiple;
        if (r <= 0) {
            throw new IllegalArgumentException("work size " + n + " too large");
        }
        return r;
    }

    /** {@code current} if it holds {@code need} values, else a larger array (1.5× growth; at least 1). */
    private static float[] ensure(float[] current, int need) {
        return current.length >= need ? current : new float[Math.max(need, current.length + (current.length >> 1))];
    }

    private static float[] copy(float[] current, float[] src, int len) {
        float[] a = ensure(current, len);
        System.arraycopy(src, 0, a, 0, len);
        return a;
    }

    private static int[] ensureInts(int[] current, int need) {
        return current.length >= need ? current : new int[Math.max(need, current.length + (current.length >> 1))];
    }

    private static int[] copy(int[] current, int[] src, int len) {
        int[] a = ensureInts(current, len);
        System.arraycopy(src, 0, a, 0, len);
        return a;
    }

    private List<Kernel> kernels() {
        return List.of(attend, attendSketch, insert, reconstruct, hash);
    }

    @Override
    public void close() {
        synchronized (DEVICE_LOCK) {
            for (Kernel k : kernels()) {
                k.dispose();
            }
        }
        reference.close();
    }
}
