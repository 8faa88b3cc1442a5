package io.reviver.kernel.press;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.CRC32;

/**
 * A compressed KV cache written to bytes and read back: a self-describing header checked before the body (format
 * id {@code RVKV}, serial version, the press's name and parameters, the sequence's shape, lengths and seed), the
 * exact entries of every (layer, KV head), each head's Count-Sketch (parameters, per-head hash seed, its table of
 * key ‖ value buckets, counts, bitmap), and a CRC-32 of everything before it. Reading validates each field with a message naming it,
 * checks that the press given to {@link #read} has the same name and parameters as the writer's and would build
 * sketches with the same width and seeds, so a snapshot can only be resumed under the policy that made it.
 */
public final class KvSnapshot {

    /** Format id: "RVKV". */
    public static final int MAGIC = 0x52564B56;
    /**
     * Serial version of the layout below. 2: sketches placed by {@code SketchHash} (shared with the attention
     * backends) with one key ‖ value table; version 1 used another hash and cannot be read.
     */
    public static final int VERSION = 2;

    private KvSnapshot() {
    }

    /** Writes {@code cache} (compressed or not) to {@code out}. */
    public static void write(PressedKvCache cache, OutputStream out) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(buf);
        PressContext c = cache.context();
        d.writeInt(MAGIC);
        d.writeInt(VERSION);
        d.writeUTF(cache.press().name());
        d.writeUTF(cache.press().describe());
        d.writeInt(c.nLayers());
        d.writeInt(c.nKvHeads());
        d.writeInt(c.headSize());
        d.writeInt(c.kvMul());
        d.writeInt(c.capacity());
        d.writeInt(c.promptLength());
        d.writeLong(c.seed());
        d.writeBoolean(cache.isCompressed());
        for (int len : cache.lengths()) {
            d.writeInt(len);
        }
        int hs = c.headSize();
        for (int l = 0; l < c.nLayers(); l++) {
            for (int g = 0; g < c.nKvHeads(); g++) {
                PressedKvCache.HeadStore h = cache.head(l, g);
                d.writeInt(h.count);
                d.writeInt(h.revivals);
                for (int i = 0; i < h.count; i++) {
                    d.writeInt(h.positions[i]);
                    d.writeFloat(h.score[i]);
                }
                for (int i = 0; i < h.count * hs; i++) {
                    d.writeFloat(h.keys[i]);
                }
                for (int i = 0; i < h.count * hs; i++) {
                    d.writeFloat(h.values[i]);
                }
                if (h.vague instanceof CountSketch sk) {
                    d.writeByte(1);
                    d.writeByte(sk.mode().ordinal());
                    d.writeInt(sk.rows());
                    d.writeInt(sk.width());
                    d.writeLong(sk.seed());
                    d.writeInt(sk.size());
                    writeFloats(d, sk.table());
                    if (sk.counts() != null) {
                        for (int v : sk.counts()) {
                            d.writeInt(v);
                        }
                    }
                    for (long w : sk.present()) {
                        d.writeLong(w);
                    }
                } else if (h.vague == null) {
                    d.writeByte(0);
                } else {
                    throw new IllegalArgumentException("cannot snapshot vague store " + h.vague.getClass().getName());
                }
            }
        }
        d.flush();
        byte[] body = buf.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(body);
        DataOutputStream o = new DataOutputStream(out);
        o.write(body);
        o.writeLong(crc.getValue());
        o.flush();
    }

    /** The snapshot of {@code cache} as bytes. */
    public static byte[] toBytes(PressedKvCache cache) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(cache, out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /**
     * Reads a snapshot written under {@code press}.
     *
     * @param rotation the model's RoPE (for presses keeping pre-RoPE keys), or null
     * @throws IllegalArgumentException naming the field for a bad magic, version, press, shape, count, position,
     *                                  sketch parameter or checksum, or a truncated snapshot
     */
    public static PressedKvCache read(InputStream in, KvPress press, KeyRotation rotation) throws IOException {
        byte[] all = in.readAllBytes();
        if (all.length < 12) {
            throw new IllegalArgumentException("KV snapshot of " + all.length + " bytes is truncated");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        long stored = new DataInputStream(new ByteArrayInputStream(all, all.length - 8, 8)).readLong();
        DataInputStream d = new DataInputStream(new ByteArrayInputStream(all, 0, all.length - 8));
        try {
            int magic = d.readInt();
            if (magic != MAGIC) {
                throw new IllegalArgumentException(String.format("not a KV snapshot: magic 0x%08x, expected 0x%08x",
                    magic, MAGIC));
            }
            int version = d.readInt();
            if (version != VERSION) {
                throw new IllegalArgumentException("KV snapshot serial version " + version + " is not supported (this "
                    + "build reads " + VERSION + ")");
            }
            if (crc.getValue() != stored) {
                throw new IllegalArgumentException("KV snapshot checksum mismatch: the file is corrupt");
            }
            String name = d.readUTF();
            String described = d.readUTF();
            if (!name.equals(press.name()) || !described.equals(press.describe())) {
                throw new IllegalArgumentException("KV snapshot was written by press " + described + ", not "
                    + press.describe());
            }
            PressContext c = new PressContext(d.readInt(), d.readInt(), d.readInt(), d.readInt(), d.readInt(),
                d.readInt(), d.readLong(), rotation);
            if ((long) c.nLayers() * c.nKvHeads() * c.headSize() > 1L << 24 || c.capacity() > 1 << 24) {
                throw new IllegalArgumentException("KV snapshot shape out of range: " + c);
            }
            boolean compressed = d.readBoolean();
            int[] lengths = new int[c.nLayers()];
            for (int l = 0; l < lengths.length; l++) {
                lengths[l] = d.readInt();
                if (lengths[l] < 0 || lengths[l] > c.capacity()) {
                    throw new IllegalArgumentException("KV snapshot: layer " + l + " length " + lengths[l]
                        + " outside [0, " + c.capacity() + "]");
                }
            }
            PressedKvCache cache = new PressedKvCache(press, c);
            int hs = c.headSize();
            for (int l = 0; l < c.nLayers(); l++) {
                for (int g = 0; g < c.nKvHeads(); g++) {
                    PressedKvCache.HeadStore h = cache.head(l, g);
                    int count = d.readInt();
                    if (count < 0 || count > lengths[l]) {
                        throw new IllegalArgumentException("KV snapshot: head (" + l + ", " + g + ") count " + count
                            + " outside [0, " + lengths[l] + "]");
                    }
                    h.revivals = d.readInt();
                    h.ensure(count + 1);
                    int prev = -1;
                    for (int i = 0; i < count; i++) {
                        int p = d.readInt();
                        if (p <= prev || p >= lengths[l]) {
                            throw new IllegalArgumentException("KV snapshot: head (" + l + ", " + g + ") position " + p
                                + " out of order or beyond length " + lengths[l]);
                        }
                        h.positions[i] = p;
                        h.score[i] = d.readFloat();
                        prev = p;
                    }
                    for (int i = 0; i < count * hs; i++) {
                        h.keys[i] = d.readFloat();
                    }
                    for (int i = 0; i < count * hs; i++) {
                        h.values[i] = d.readFloat();
                    }
                    h.count = count;
                    int hasSketch = d.readByte();
                    if ((hasSketch == 1) != (h.vague instanceof CountSketch)) {
                        throw new IllegalArgumentException("KV snapshot: head (" + l + ", " + g + ") "
                            + (hasSketch == 1 ? "has" : "lacks") + " a sketch but press " + press.describe()
                            + (h.vague == null ? " keeps none" : " keeps one"));
                    }
                    if (hasSketch == 1) {
                        readSketch(d, (CountSketch) h.vague, l, g);
                    }
                }
            }
            cache.restore(lengths, compressed);
            if (d.available() != 0) {
                throw new IllegalArgumentException("KV snapshot has " + d.available() + " unexpected trailing bytes");
            }
            return cache;
        } catch (EOFException e) {
            throw new IllegalArgumentException("KV snapshot is truncated", e);
        }
    }

    private static void readSketch(DataInputStream d, CountSketch sk, int l, int g) throws IOException {
        int mode = d.readByte();
        int rows = d.readInt();
        int width = d.readInt();
        long seed = d.readLong();
        if (mode != sk.mode().ordinal() || rows != sk.rows() || width != sk.width() || seed != sk.seed()) {
            throw new IllegalArgumentException("KV snapshot: head (" + l + ", " + g + ") sketch (mode " + mode + ", d="
                + rows + ", w=" + width + ", seed " + seed + ") differs from the press's (mode " + sk.mode().ordinal()
                + ", d=" + sk.rows() + ", w=" + sk.width() + ", seed " + sk.seed() + ")");
        }
        int size = d.readInt();
        readFloats(d, sk.table());
        if (sk.counts() != null) {
            int[] counts = sk.counts();
            for (int i = 0; i < counts.length; i++) {
                counts[i] = d.readInt();
            }
        }
        long[] present = sk.present();
        int bits = 0;
        for (int i = 0; i < present.length; i++) {
            present[i] = d.readLong();
            bits += Long.bitCount(present[i]);
        }
        if (bits != size) {
            throw new IllegalArgumentException("KV snapshot: head (" + l + ", " + g + ") sketch size " + size
                + " but its bitmap holds " + bits + " positions");
        }
        sk.setSize(size);
    }

    private static void writeFloats(DataOutputStream d, float[] x) throws IOException {
        for (float v : x) {
            d.writeFloat(v);
        }
    }

    private static void readFloats(DataInputStream d, float[] x) throws IOException {
        for (int i = 0; i < x.length; i++) {
            x[i] = d.readFloat();
        }
    }
}
