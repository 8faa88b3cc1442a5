package io.reviver.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.options.ListContainerOptions;

/**
 * A real S3 server that misbehaves on purpose: S3Proxy (in-memory jclouds "transient" store) on 127.0.0.1, and in
 * front of it a small HTTP/1.1 proxy that clients talk to, which injects faults per request (not per connection:
 * clients keep connections alive and every request on a connection gets its own decision):
 * <ul>
 *   <li>{@link Fault#INTERNAL_ERROR}: {@code 500 InternalError} with an S3 XML error body;</li>
 *   <li>{@link Fault#SLOW_DOWN}: {@code 503 SlowDown} (throttling) with an S3 XML error body;</li>
 *   <li>{@link Fault#RESET}: the client connection is reset (SO_LINGER 0, so the peer sees a TCP RST) either
 *       before the request reaches the server (after part of the request body was read, if it has one;
 *       {@link ResetPoint#REQUEST}) or after the server executed it, part-way through the response
 *       ({@link ResetPoint#RESPONSE}: the status line and headers and half of the body, or half of the header
 *       block when there is no body).</li>
 * </ul>
 * Errors are answered after the request body was consumed (sending {@code 100 Continue} first when the client
 * asked for it), and the connection stays open, as S3 does. The proxy understands enough HTTP/1.1 to find
 * message boundaries: Content-Length and chunked bodies in both directions, HEAD/1xx/204/304 responses without
 * body, {@code Expect: 100-continue} (interim responses are relayed), {@code Connection: close}. Each request
 * is forwarded on a fresh connection to S3Proxy, so a reset or an idle timeout on one side never leaves a stale
 * connection on the other.
 *
 * <p>Decisions are deterministic given the seed: the n-th request of an operation ({@link Op}) seen while faults
 * are enabled gets the fault drawn from a hash of (seed, operation, n). So the faults among the first n requests
 * of each operation do not depend on how concurrent clients interleave their requests (only which of the
 * concurrent requests gets them does). Rates can differ per operation, e.g. to make sure the rare ones (object
 * GETs, PUTs, COPYs) see faults too. Faults start disabled, so setup can run clean; {@link #direct()} also
 * reaches the store without going through HTTP at all.
 */
final class FaultyS3 implements AutoCloseable {

    /** What is done to one request. */
    enum Fault { NONE, INTERNAL_ERROR, SLOW_DOWN, RESET }

    /** Where a {@link Fault#RESET} cuts the exchange. */
    enum ResetPoint { REQUEST, RESPONSE }

    /** The S3 operation of a request, as far as the proxy can tell from method, path, query and headers. */
    enum Op {
        GET_OBJECT(true), HEAD_OBJECT(true), LIST(true), HEAD_BUCKET(true),
        PUT_OBJECT(false), COPY_OBJECT(false), UPLOAD_PART(false), MULTIPART_INIT(false), MULTIPART_COMPLETE(false),
        MULTIPART_ABORT(false), DELETE_OBJECT(false), DELETE_OBJECTS(false), OTHER(false);

        final boolean read;

        Op(boolean read) {
            this.read = read;
        }
    }

    private static final String ACCESS = "faulty-access";
    private static final String SECRET = "faulty-secret";
    private static final int MAX_HEAD_BYTES = 64 * 1024;

    private final long seed;
    private final BlobStoreContext context;
    private final S3Proxy s3proxy;
    private final int upstreamPort;
    private final ServerSocket listener;
    private final ExecutorService connections;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    private volatile boolean enabled;
    private volatile double[] rates = {0, 0, 0}; // 500, 503, reset
    private final Map<Op, double[]> opRates = new ConcurrentHashMap<>();

    private final AtomicLong[] decisions = new AtomicLong[Op.values().length];
    private final AtomicLong requests = new AtomicLong();
    private final long[][] counts = new long[Op.values().length][Fault.values().length]; // guarded by counts
    private final long[] resetPoints = new long[ResetPoint.values().length]; // guarded by counts
    private final List<String> injected = new ArrayList<>(); // guarded by counts

    private FaultyS3(long seed) throws Exception {
        this.seed = seed;
        for (int i = 0; i < decisions.length; i++) {
            decisions[i] = new AtomicLong();
        }
        context = ContextBuilder.newBuilder("transient").credentials(ACCESS, SECRET).overrides(new Properties())
            .build(BlobStoreContext.class);
        upstreamPort = freePort();
        s3proxy = S3Proxy.builder().blobStore(context.getBlobStore())
            .endpoint(URI.create("http://127.0.0.1:" + upstreamPort))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET)
            .build();
        s3proxy.start();
        for (int i = 0; i < 500 && !"STARTED".equals(s3proxy.getState()); i++) {
            Thread.sleep(10);
        }
        if (!"STARTED".equals(s3proxy.getState())) {
            throw new IllegalStateException("S3Proxy did not start: " + s3proxy.getState());
        }
        listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        connections = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "faulty-s3-connection");
            t.setDaemon(true);
            return t;
        });
        Thread acceptor = new Thread(this::acceptLoop, "faulty-s3-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts S3Proxy and the faulting proxy in front of it; faults are off and all rates 0 until set. */
    static FaultyS3 start(long seed) throws Exception {
        return new FaultyS3(seed);
    }

    /** The URL clients use (through the faulting proxy). */
    String endpoint() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    String accessKey() {
        return ACCESS;
    }

    String secretKey() {
        return SECRET;
    }

    /** The store behind S3Proxy, reached in-process: never faulted, never counted. */
    BlobStore direct() {
        return context.getBlobStore();
    }

    /** Creates a bucket directly in the store. */
    void createBucket(String bucket) {
        direct().createContainerInLocation(null, bucket);
    }

    /** Puts an object directly into the store. */
    void put(String bucket, String key, byte[] bytes) {
        BlobStore store = direct();
        store.putBlob(bucket, store.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
    }

    /** Every key under {@code prefix}, listed directly in the store (recursively, sorted). */
    List<String> keys(String bucket, String prefix) {
        List<String> keys = new ArrayList<>();
        ListContainerOptions options = ListContainerOptions.Builder.recursive();
        if (!prefix.isEmpty()) {
            options = options.prefix(prefix);
        }
        for (StorageMetadata m : direct().list(bucket, options)) {
            keys.add(m.getName());
        }
        keys.sort(null);
        return keys;
    }

    /** Points s3a at this server for {@code bucket} only (per-bucket keys, path-style, plain HTTP). */
    void configureBucket(Configuration conf, String bucket) {
        String b = "fs.s3a.bucket." + bucket + ".";
        conf.set(b + "endpoint", endpoint());
        conf.set(b + "endpoint.region", "us-east-1");
        conf.set(b + "path.style.access", "true");
        conf.set(b + "connection.ssl.enabled", "false");
        conf.set(b + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set(b + "access.key", ACCESS);
        conf.set(b + "secret.key", SECRET);
    }

    /** Sets the fraction of requests (while enabled) answered 500, answered 503, and reset. */
    FaultyS3 rates(double internalError, double slowDown, double reset) {
        rates = checked(internalError, slowDown, reset);
        return this;
    }

    /** Sets other fractions for some operations (e.g. rare ones that must see faults too). */
    FaultyS3 rates(Set<Op> ops, double internalError, double slowDown, double reset) {
        double[] r = checked(internalError, slowDown, reset);
        for (Op op : ops) {
            opRates.put(op, r);
        }
        return this;
    }

    private static double[] checked(double internalError, double slowDown, double reset) {
        if (internalError < 0 || slowDown < 0 || reset < 0 || internalError + slowDown + reset > 1) {
            throw new IllegalArgumentException("rates must be >= 0 and sum to <= 1");
        }
        return new double[] {internalError, slowDown, reset};
    }

    void enable() {
        enabled = true;
    }

    void disable() {
        enabled = false;
    }

    /** Requests seen by the proxy (faulted or not, enabled or not). */
    long requests() {
        return requests.get();
    }

    /** Requests seen for one operation. */
    long requests(Op op) {
        synchronized (counts) {
            long n = 0;
            for (long c : counts[op.ordinal()]) {
                n += c;
            }
            return n;
        }
    }

    /** Requests that got {@code fault} ({@link Fault#NONE}: forwarded untouched). */
    long count(Fault fault) {
        synchronized (counts) {
            long n = 0;
            for (long[] row : counts) {
                n += row[fault.ordinal()];
            }
            return n;
        }
    }

    /** Requests of one operation that got {@code fault}. */
    long count(Op op, Fault fault) {
        synchronized (counts) {
            return counts[op.ordinal()][fault.ordinal()];
        }
    }

    /** Faults other than NONE injected into reads ({@code true}) or writes ({@code false}). */
    long faults(boolean reads) {
        synchronized (counts) {
            long n = 0;
            for (Op op : Op.values()) {
                if (op.read == reads) {
                    for (Fault f : Fault.values()) {
                        n += f == Fault.NONE ? 0 : counts[op.ordinal()][f.ordinal()];
                    }
                }
            }
            return n;
        }
    }

    /** Resets injected at one point. */
    long resets(ResetPoint point) {
        synchronized (counts) {
            return resetPoints[point.ordinal()];
        }
    }

    /** Forgets all counts (rates, seed position and the enabled flag are kept). */
    void resetCounts() {
        synchronized (counts) {
            for (long[] row : counts) {
                java.util.Arrays.fill(row, 0);
            }
            java.util.Arrays.fill(resetPoints, 0);
            injected.clear();
            requests.set(0);
        }
    }

    /** A table of the counts: per operation, requests and each fault, and the reset points. */
    String summary() {
        StringBuilder sb = new StringBuilder();
        synchronized (counts) {
            sb.append(String.format(Locale.ROOT, "%-18s %8s %8s %8s %8s%n", "op", "ok", "500", "503", "reset"));
            for (Op op : Op.values()) {
                long[] row = counts[op.ordinal()];
                if (row[0] + row[1] + row[2] + row[3] > 0) {
                    sb.append(String.format(Locale.ROOT, "%-18s %8d %8d %8d %8d%n", op, row[0], row[1], row[2],
                        row[3]));
                }
            }
            sb.append(String.format(Locale.ROOT, "requests %d; resets before the server %d, mid-response %d",
                requests.get(), resetPoints[0], resetPoints[1]));
        }
        return sb.toString();
    }

    @Override
    public void close() throws Exception {
        listener.close();
        for (Socket s : open) {
            closeQuietly(s);
        }
        connections.shutdownNow();
        s3proxy.stop();
        context.close();
    }

    // ---- fault decisions ----

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static double uniform(long seed, long n, int salt) {
        return (mix(mix(seed + 0x9e3779b97f4a7c15L * n) + salt) >>> 11) * 0x1.0p-53;
    }

    /** The fault of the next request, and (for resets) where to cut. */
    private Object[] decide(Op op) {
        if (!enabled) {
            return new Object[] {Fault.NONE, null};
        }
        double[] p = opRates.getOrDefault(op, rates);
        long n = decisions[op.ordinal()].incrementAndGet();
        long opSeed = mix(seed + 0x632be59bd9b4e019L * (op.ordinal() + 1));
        double u = uniform(opSeed, n, 0);
        Fault f;
        if (u < p[0]) {
            f = Fault.INTERNAL_ERROR;
        } else if (u < p[0] + p[1]) {
            f = Fault.SLOW_DOWN;
        } else if (u < p[0] + p[1] + p[2]) {
            f = Fault.RESET;
        } else {
            f = Fault.NONE;
        }
        ResetPoint point = uniform(opSeed, n, 1) < 0.5 ? ResetPoint.REQUEST : ResetPoint.RESPONSE;
        return new Object[] {f, f == Fault.RESET ? point : null};
    }

    private void record(Head req, Op op, Fault fault, ResetPoint point) {
        synchronized (counts) {
            requests.incrementAndGet();
            counts[op.ordinal()][fault.ordinal()]++;
            if (point != null) {
                resetPoints[point.ordinal()]++;
            }
            if (fault != Fault.NONE) {
                injected.add(op + " " + fault + (point == null ? "" : " " + point) + " " + req.method + " "
                    + req.target);
            }
        }
    }

    /** The faults injected since the counts were last reset, in order: operation, fault, method and target. */
    List<String> injected() {
        synchronized (counts) {
            return new ArrayList<>(injected);
        }
    }

    // ---- the proxy ----

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                open.add(client);
                connections.execute(() -> serve(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** One client connection: requests one after the other until either side closes. */
    private void serve(Socket client) {
        try (client) {
            client.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(client.getInputStream());
            OutputStream out = new BufferedOutputStream(client.getOutputStream());
            while (true) {
                Head req = Head.read(in);
                if (req == null) {
                    return; // client closed the connection between requests
                }
                Op op = classify(req);
                Object[] d = decide(op);
                Fault fault = (Fault) d[0];
                ResetPoint point = (ResetPoint) d[1];
                record(req, op, fault, point);
                boolean keepAlive = switch (fault) {
                    case NONE -> forward(req, in, out, client, false);
                    case INTERNAL_ERROR, SLOW_DOWN -> error(req, in, out, fault);
                    case RESET -> {
                        if (point == ResetPoint.REQUEST) {
                            resetBeforeServer(req, in, out, client);
                        } else {
                            forward(req, in, out, client, true);
                        }
                        yield false;
                    }
                };
                if (!keepAlive || req.connectionClose()) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away or the proxy is closing: nothing to do
        } finally {
            open.remove(client);
        }
    }

    /** Answers with an S3 error after consuming the request body; the connection stays usable. */
    private static boolean error(Head req, InputStream in, OutputStream out, Fault fault) throws IOException {
        if (req.hasBody()) {
            if (req.expectContinue()) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            copyBody(req, in, OutputStream.nullOutputStream());
        }
        boolean internal = fault == Fault.INTERNAL_ERROR;
        String requestId = Long.toHexString(System.nanoTime()).toUpperCase(Locale.ROOT);
        String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
            + (internal ? "InternalError" : "SlowDown") + "</Code><Message>"
            + (internal ? "We encountered an internal error. Please try again." : "Please reduce your request rate.")
            + "</Message><Resource>" + escape(req.path()) + "</Resource><RequestId>" + requestId
            + "</RequestId></Error>";
        byte[] body = req.method.equals("HEAD") ? new byte[0] : xml.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + (internal ? "500 Internal Server Error" : "503 Slow Down") + "\r\n"
            + "Content-Type: application/xml\r\n"
            + "Content-Length: " + body.length + "\r\n"
            + "x-amz-request-id: " + requestId + "\r\n"
            + "Server: FaultyS3\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return true;
    }

    /** Resets the client connection before the request reaches the server, after half its body (if any). */
    private static void resetBeforeServer(Head req, InputStream in, OutputStream out, Socket client)
        throws IOException {
        if (req.hasBody()) {
            if (req.expectContinue()) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            long length = req.contentLength();
            if (length > 0) {
                skipFully(in, length / 2);
            } else if (req.chunked()) {
                readLine(in); // the first chunk-size line
            }
        }
        reset(client);
    }

    /**
     * Forwards one request to S3Proxy on a fresh connection and relays its response. With {@code cut}, the
     * response is relayed only in part and the client connection reset.
     *
     * @return whether the client connection may carry another request
     */
    private boolean forward(Head req, InputStream in, OutputStream out, Socket client, boolean cut)
        throws IOException {
        try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
            upstream.setTcpNoDelay(true);
            upstream.setSoTimeout(120_000);
            InputStream uin = new BufferedInputStream(upstream.getInputStream());
            OutputStream uout = new BufferedOutputStream(upstream.getOutputStream());
            uout.write(req.raw);
            uout.flush();
            Head resp;
            if (req.hasBody()) {
                if (req.expectContinue()) {
                    resp = Head.read(uin);
                    if (resp == null) {
                        throw new EOFException("S3Proxy closed the connection before answering");
                    }
                    if (resp.status != 100) {
                        // A final answer without the body: relay it, and close, since the client may or may not
                        // send the body anyway.
                        relayResponse(req, resp, uin, out, client, cut);
                        return false;
                    }
                    out.write(resp.raw);
                    out.flush();
                }
                copyBody(req, in, uout);
                uout.flush();
            }
            do {
                resp = Head.read(uin);
                if (resp == null) {
                    throw new EOFException("S3Proxy closed the connection before answering");
                }
                if (resp.status >= 100 && resp.status < 200) {
                    out.write(resp.raw);
                    out.flush();
                }
            } while (resp.status >= 100 && resp.status < 200);
            return relayResponse(req, resp, uin, out, client, cut) && !resp.connectionClose();
        }
    }

    /** Relays a final response (head and body); with {@code cut}, only part of it, then resets the client. */
    private static boolean relayResponse(Head req, Head resp, InputStream uin, OutputStream out, Socket client,
                                         boolean cut) throws IOException {
        boolean noBody = req.method.equals("HEAD") || resp.status == 204 || resp.status == 304;
        if (cut) {
            long length = noBody ? 0 : resp.contentLength();
            if (length > 1) {
                out.write(resp.raw);
                copyExactly(uin, out, length / 2);
            } else if (!noBody && resp.chunked()) {
                out.write(resp.raw);
                String line = readLine(uin);
                out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                long size = Long.parseLong(line.split(";")[0].trim(), 16);
                copyExactly(uin, out, size / 2);
            } else {
                out.write(resp.raw, 0, resp.raw.length / 2);
            }
            out.flush();
            reset(client);
            return false;
        }
        out.write(resp.raw);
        if (noBody) {
            out.flush();
            return true;
        }
        if (resp.contentLength() >= 0 || resp.chunked()) {
            copyBody(resp, uin, out);
            out.flush();
            return true;
        }
        uin.transferTo(out); // delimited by the server closing the connection
        out.flush();
        return false;
    }

    /** Closes with SO_LINGER 0: the peer gets a TCP RST ("connection reset"), not an orderly FIN. */
    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Copies a message body framed by the head's Content-Length or chunked transfer coding. */
    private static void copyBody(Head head, InputStream in, OutputStream out) throws IOException {
        if (head.chunked()) {
            while (true) {
                String line = readLine(in);
                out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                long size = Long.parseLong(line.split(";")[0].trim(), 16);
                if (size == 0) {
                    String trailer;
                    do {
                        trailer = readLine(in);
                        out.write((trailer + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    } while (!trailer.isEmpty());
                    return;
                }
                copyExactly(in, out, size);
                String crlf = readLine(in);
                if (!crlf.isEmpty()) {
                    throw new IOException("malformed chunk end: '" + crlf + "'");
                }
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        }
        long length = head.contentLength();
        if (length > 0) {
            copyExactly(in, out, length);
        }
    }

    private static void copyExactly(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException(n + " body bytes missing");
            }
            out.write(buf, 0, r);
            n -= r;
        }
    }

    private static void skipFully(InputStream in, long n) throws IOException {
        copyExactly(in, OutputStream.nullOutputStream(), n);
    }

    /** A CRLF-terminated line without its terminator. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("connection closed mid-line");
            }
            if (prev == '\r' && c == '\n') {
                byte[] b = line.toByteArray();
                return new String(b, 0, b.length - 1, StandardCharsets.US_ASCII);
            }
            line.write(c);
            if (line.size() > MAX_HEAD_BYTES) {
                throw new IOException("line too long");
            }
            prev = c;
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Which S3 operation a request is (path-style addressing: /bucket[/key][?query]). */
    static Op classify(Head req) {
        String target = req.target;
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        String trimmed = path.startsWith("/") ? path.substring(1) : path;
        int slash = trimmed.indexOf('/');
        boolean hasKey = slash >= 0 && slash < trimmed.length() - 1;
        boolean uploadId = hasParam(query, "uploadId");
        switch (req.method) {
            case "GET":
                return hasKey ? Op.GET_OBJECT : Op.LIST;
            case "HEAD":
                return hasKey ? Op.HEAD_OBJECT : Op.HEAD_BUCKET;
            case "PUT":
                if (!hasKey) {
                    return Op.OTHER;
                }
                if (uploadId) {
                    return Op.UPLOAD_PART;
                }
                return req.header("x-amz-copy-source") != null ? Op.COPY_OBJECT : Op.PUT_OBJECT;
            case "POST":
                if (hasParam(query, "delete")) {
                    return Op.DELETE_OBJECTS;
                }
                if (hasParam(query, "uploads")) {
                    return Op.MULTIPART_INIT;
                }
                return uploadId ? Op.MULTIPART_COMPLETE : Op.OTHER;
            case "DELETE":
                if (!hasKey) {
                    return Op.OTHER;
                }
                return uploadId ? Op.MULTIPART_ABORT : Op.DELETE_OBJECT;
            default:
                return Op.OTHER;
        }
    }

    private static boolean hasParam(String query, String name) {
        for (String p : query.split("&")) {
            int eq = p.indexOf('=');
            if ((eq < 0 ? p : p.substring(0, eq)).equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The start line and headers of an HTTP/1.1 message, with their raw bytes. */
    static final class Head {
        final byte[] raw;
        final String method; // requests
        final String target; // requests
        final int status; // responses
        private final Map<String, String> headers;

        private Head(byte[] raw, String method, String target, int status, Map<String, String> headers) {
            this.raw = raw;
            this.method = method;
            this.target = target;
            this.status = status;
            this.headers = headers;
        }

        /** Reads a head up to and including the empty line; null on end of stream before its first byte. */
        static Head read(InputStream in) throws IOException {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int c = in.read();
                if (c < 0) {
                    if (buf.size() == 0) {
                        return null;
                    }
                    throw new EOFException("connection closed inside a message head");
                }
                buf.write(c);
                if (buf.size() > MAX_HEAD_BYTES) {
                    throw new IOException("message head too long");
                }
                matched = (c == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (c == '\r' ? 1 : 0);
            }
            byte[] raw = buf.toByteArray();
            String[] lines = new String(raw, StandardCharsets.ISO_8859_1).split("\r\n");
            Map<String, String> headers = new java.util.HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim(), (a, b) -> a + "," + b);
                }
            }
            String[] start = lines[0].split(" ", 3);
            if (start.length < 2) {
                throw new IOException("malformed start line: " + lines[0]);
            }
            if (start[0].startsWith("HTTP/")) {
                return new Head(raw, null, null, Integer.parseInt(start[1]), headers);
            }
            return new Head(raw, start[0], start[1], 0, headers);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String path() {
            int q = target.indexOf('?');
            return q < 0 ? target : target.substring(0, q);
        }

        boolean chunked() {
            String te = header("transfer-encoding");
            return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
        }

        /** The Content-Length, or -1 if absent (or chunked, which takes precedence). */
        long contentLength() {
            String cl = header("content-length");
            return chunked() || cl == null ? -1 : Long.parseLong(cl.trim());
        }

        boolean hasBody() {
            return chunked() || contentLength() > 0;
        }

        boolean expectContinue() {
            String e = header("expect");
            return e != null && e.equalsIgnoreCase("100-continue");
        }

        boolean connectionClose() {
            String c = header("connection");
            return c != null && c.toLowerCase(Locale.ROOT).contains("close");
        }
    }
}
