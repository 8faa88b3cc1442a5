package io.reviver.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.Serializable;

/**
 * One document on its way through the job: its stable index in the corpus, id, text, and once measured its token
 * count and cost. Shuffled between the measuring and the summarising stage, with the Kryo {@link KryoSer}.
 */
public final class DocumentWork implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long index;
    private final String id;   // null when the input row had none
    private final String text; // null when the input row had none
    private final int tokens;  // -1 until measured
    private final long cost;   // -1 until measured

    public DocumentWork(long index, String id, String text, int tokens, long cost) {
        this.index = index;
        this.id = id;
        this.text = text;
        this.tokens = tokens;
        this.cost = cost;
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

    public int tokens() {
        return tokens;
    }

    public long cost() {
        return cost;
    }

    /** This document with its measurement. */
    public DocumentWork measured(int tokens, long cost) {
        return new DocumentWork(index, id, text, tokens, cost);
    }

    /** Kryo serializer: the five fields in order; strings may be null. */
    public static final class KryoSer extends Serializer<DocumentWork> {
        public KryoSer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, DocumentWork d) {
            out.writeLong(d.index);
            out.writeString(d.id);
            out.writeString(d.text);
            out.writeInt(d.tokens);
            out.writeLong(d.cost);
        }

        @Override
        public DocumentWork read(Kryo kryo, Input in, Class<DocumentWork> type) {
            long index = in.readLong();
            String id = in.readString();
            String text = in.readString();
            int tokens = in.readInt();
            long cost = in.readLong();
            return new DocumentWork(index, id, text, tokens, cost);
        }
    }
}
