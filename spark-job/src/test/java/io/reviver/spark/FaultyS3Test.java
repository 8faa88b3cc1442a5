package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.reviver.spark.FaultyS3.Fault;
import io.reviver.spark.FaultyS3.Op;
import io.reviver.spark.FaultyS3.ResetPoint;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/** The fault-injecting S3 fixture itself, driven by a plain AWS SDK v2 client with the SDK's retries off. */
class FaultyS3Test {

    private static final String BUCKET = "faulty-unit";

    private static S3Client client(FaultyS3 s3) {
        return S3Client.builder()
            .endpointOverride(URI.create(s3.endpoint()))
            .region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(
                AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())))
            .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
            .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none()))
            .build();
    }

    @Test
    void withFaultsOffEveryRequestSucceeds() throws Exception {
        try (FaultyS3 s3 = FaultyS3.start(1); S3Client c = client(s3)) {
            s3.rates(0.3, 0.3, 0.3); // set but not enabled
            c.createBucket(b -> b.bucket(BUCKET));
            byte[] small = "hello faults".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 20; i++) {
                String key = "dir/o" + i;
                c.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(small));
            }
            for (int i = 0; i < 20; i++) {
                final int k = i;
                assertArrayEquals(small, c.getObjectAsBytes(b -> b.bucket(BUCKET).key("dir/o" + k)).asByteArray());
                assertEquals(small.length, c.headObject(b -> b.bucket(BUCKET).key("dir/o" + k)).contentLength());
            }
            assertEquals(20, c.listObjectsV2(b -> b.bucket(BUCKET).prefix("dir/")).contents().size());
            c.copyObject(b -> b.sourceBucket(BUCKET).sourceKey("dir/o0").destinationBucket(BUCKET)
                .destinationKey("copy/o0"));

            // Multipart: a 5 MiB part and a small last part.
            byte[] part1 = new byte[5 * 1024 * 1024];
            Arrays.fill(part1, (byte) 'a');
            byte[] part2 = "tail".getBytes(StandardCharsets.UTF_8);
            String upload = c.createMultipartUpload(b -> b.bucket(BUCKET).key("big")).uploadId();
            String e1 = c.uploadPart(b -> b.bucket(BUCKET).key("big").uploadId(upload).partNumber(1),
                RequestBody.fromBytes(part1)).eTag();
            String e2 = c.uploadPart(b -> b.bucket(BUCKET).key("big").uploadId(upload).partNumber(2),
                RequestBody.fromBytes(part2)).eTag();
            c.completeMultipartUpload(b -> b.bucket(BUCKET).key("big").uploadId(upload)
                .multipartUpload(CompletedMultipartUpload.builder().parts(
                    CompletedPart.builder().partNumber(1).eTag(e1).build(),
                    CompletedPart.builder().partNumber(2).eTag(e2).build()).build()));
            assertEquals(part1.length + part2.length, c.getObjectAsBytes(b -> b.bucket(BUCKET).key("big"))
                .asByteArray().length);

            c.deleteObject(b -> b.bucket(BUCKET).key("copy/o0"));
            List<ObjectIdentifier> ids = new ArrayList<>();
            for (S3Object o : c.listObjectsV2(b -> b.bucket(BUCKET).prefix("dir/")).contents()) {
                ids.add(ObjectIdentifier.builder().key(o.key()).build());
            }
            c.deleteObjects(b -> b.bucket(BUCKET).delete(Delete.builder().objects(ids).build()));
            assertEquals(List.of("big"), s3.keys(BUCKET, ""));

            assertEquals(0, s3.count(Fault.INTERNAL_ERROR) + s3.count(Fault.SLOW_DOWN) + s3.count(Fault.RESET),
                s3.summary());
            assertEquals(s3.requests(), s3.count(Fault.NONE));
            assertEquals(20, s3.requests(Op.PUT_OBJECT), s3.summary());
            assertEquals(21, s3.requests(Op.GET_OBJECT), s3.summary());
            assertEquals(20, s3.requests(Op.HEAD_OBJECT), s3.summary());
            assertEquals(2, s3.requests(Op.LIST), s3.summary());
            assertEquals(1, s3.requests(Op.COPY_OBJECT), s3.summary());
            assertEquals(1, s3.requests(Op.MULTIPART_INIT), s3.summary());
            assertEquals(2, s3.requests(Op.UPLOAD_PART), s3.summary());
            assertEquals(1, s3.requests(Op.MULTIPART_COMPLETE), s3.summary());
            assertEquals(1, s3.requests(Op.DELETE_OBJECT), s3.summary());
            assertEquals(1, s3.requests(Op.DELETE_OBJECTS), s3.summary());
        }
    }

    /** What the client saw of one call. */
    private static Fault outcome(Supplier<Object> call) {
        try {
            call.get();
            return Fault.NONE;
        } catch (S3Exception e) {
            // HEAD answers carry no body, hence no error code: the status alone tells.
            String code = e.awsErrorDetails().errorCode();
            if (e.statusCode() == 500 && (code == null || code.equals("InternalError"))) {
                return Fault.INTERNAL_ERROR;
            }
            if (e.statusCode() == 503 && (code == null || code.equals("SlowDown"))) {
                return Fault.SLOW_DOWN;
            }
            throw e;
        } catch (SdkClientException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IOException) {
                    return Fault.RESET;
                }
            }
            throw e;
        }
    }

    /** Runs {@code n} calls (PUT, GET, HEAD, LIST in turn) with faults on; returns what the client saw. */
    private static List<Fault> run(FaultyS3 s3, S3Client c, int n) {
        byte[] body = new byte[10_000];
        Arrays.fill(body, (byte) 'x');
        c.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromBytes(body));
        s3.resetCounts();
        s3.enable();
        List<Fault> seen = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            seen.add(switch (i % 4) {
                case 0 -> outcome(() -> c.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromBytes(body)));
                case 1 -> outcome(() -> c.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asByteArray());
                case 2 -> outcome(() -> c.headObject(b -> b.bucket(BUCKET).key("k")));
                default -> outcome(() -> c.listObjectsV2(b -> b.bucket(BUCKET)));
            });
        }
        s3.disable();
        return seen;
    }

    @Test
    void injectsTheConfiguredFractionsAndTheClientSeesEachFault() throws Exception {
        int n = 800;
        List<Fault> first;
        try (FaultyS3 s3 = FaultyS3.start(42); S3Client c = client(s3)) {
            s3.createBucket(BUCKET);
            s3.rates(0.1, 0.1, 0.1);
            first = run(s3, c, n);
            String table = s3.summary();
            System.out.println("FaultyS3Test counts:\n" + table);

            // One HTTP request per call (no retries), each fault seen by the client as what it is.
            assertEquals(n, s3.requests(), table);
            Map<Fault, Long> seen = new EnumMap<>(Fault.class);
            for (Fault f : first) {
                seen.merge(f, 1L, Long::sum);
            }
            for (Fault f : Fault.values()) {
                assertEquals(s3.count(f), seen.getOrDefault(f, 0L), f + "\n" + table);
            }
            // The fractions: 10 % each, within 4 binomial standard deviations (sd = sqrt(800 * .1 * .9) = 8.5).
            for (Fault f : List.of(Fault.INTERNAL_ERROR, Fault.SLOW_DOWN, Fault.RESET)) {
                assertTrue(Math.abs(s3.count(f) - 80) < 34, f + ": " + s3.count(f) + "\n" + table);
            }
            assertTrue(s3.resets(ResetPoint.REQUEST) > 0 && s3.resets(ResetPoint.RESPONSE) > 0, table);
            assertTrue(s3.faults(true) > 0 && s3.faults(false) > 0, table);
            for (Op op : List.of(Op.PUT_OBJECT, Op.GET_OBJECT, Op.HEAD_OBJECT, Op.LIST)) {
                for (Fault f : Fault.values()) {
                    assertTrue(s3.count(op, f) > 0, op + " " + f + "\n" + table);
                }
            }

            // Off again: all clean, on the connections the client kept.
            s3.resetCounts();
            for (int i = 0; i < 40; i++) {
                assertEquals(10_000, c.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asByteArray().length);
            }
            assertEquals(40, s3.count(Fault.NONE));
            assertEquals(40, s3.requests());
        }

        // Deterministic given the seed (requests arrive in one order here): the same faults again, and others
        // with another seed.
        try (FaultyS3 s3 = FaultyS3.start(42); S3Client c = client(s3)) {
            s3.createBucket(BUCKET);
            s3.rates(0.1, 0.1, 0.1);
            assertEquals(first, run(s3, c, n));
        }
        try (FaultyS3 s3 = FaultyS3.start(43); S3Client c = client(s3)) {
            s3.createBucket(BUCKET);
            s3.rates(0.1, 0.1, 0.1);
            assertNotEquals(first, run(s3, c, n));
        }
    }

    @Test
    void rejectsRatesAboveOne() throws Exception {
        try (FaultyS3 s3 = FaultyS3.start(1)) {
            try {
                s3.rates(0.5, 0.5, 0.1);
                fail("accepted rates summing to 1.1");
            } catch (IllegalArgumentException expected) {
                // fine
            }
        }
    }
}
