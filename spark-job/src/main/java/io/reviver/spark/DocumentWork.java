package io.reviver.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.reviver.spark.engine.ContentHash;
import java.io.Serializable;

/**
 * One document on its way through the job: its stable index in the corpus, id, text, why it cannot be read (if
 * so), the SHA-256 of its text, and once measured its token count and cost. Shuffled between the measuring and the
 * summarising stage, with the Kryo {@link KryoSer}.
 */
public final class DocumentWork implements Serializable {
    private static final long serialVersionUID = 2L;

    private final long index;
    private final String id;      // null when the input row had none
    private final String text;    // null when the input row had none or it could not be read
    private final String problem; // null unless the reader could not read the document
    private final String sha;     // SHA-256 of text, null when text is null
    private final int tokens;     // -1 until measured
    private final long cost;      // -1 until measured

    private DocumentWork(long index, String id, String text, String problem, String sha, int tokens, long cost) {
        this.index = index;
        this.id = id;
        this.text = text;
        this.problem = problem;
        this.sha = sha;
        this.tokens = tokens;
        this.cost = cost;
    }

    /** A document as read: hashes its text. */
    public static DocumentWork read(long index, String id, String text, String problem) {
        return new DocumentWork(index, id, text, problem, text == null ? null : ContentHash.sha256(text), -1, -1);
    }

    public long index() {
        return index;
    }

    public String id() {
        return id;
    }

    public String text() {
        return text;
    }

    public String problem() {
        return problem;
    }

    /** SHA-256 (hex) of the text; null when there is none. */
    public String contentSha256() {
        return sha;
    }

    /**
     * What identifies the document's output row within one configuration: its id and content hash (the row's id
     * is {@code #index} when the input had none).
     */
    public String key() {
        return OutputSchema.key(id == null ? "#" + index : id, sha);
    }

    public int tokens() {
        return tokens;
    }

    public long cost() {
        return cost;
    }

    /** This document with its measurement. */
    public DocumentWork measured(int tokens, long cost) {
        return new DocumentWork(index, id, text, problem, sha, tokens, cost);
    }

    /** Kryo serializer: the seven fields in order; strings may be null. */
    public static final class KryoSer extends Serializer<DocumentWork> {
        public KryoSer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, DocumentWork d) {
            out.writeLong(d.index);
            out.writeString(d.id);
            out.writeString(d.text);
            out.writeString(d.problem);
            out.writeString(d.sha);
            out.writeInt(d.tokens);
            out.writeLong(d.cost);
        }

        @Override
        public DocumentWork read(Kryo kryo, Input in, Class<DocumentWork> type) {
            return new DocumentWork(in.readLong(), in.readString(), in.readString(), in.readString(),
                in.readString(), in.readInt(), in.readLong());
        }
    }
}
