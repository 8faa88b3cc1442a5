package io.reviver.modelstore.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE with scores ({@code tokenizer.ggml.model = llama}), as Llama 1/2 and Mistral use it: spaces
 * become U+2581 ("▁"), a leading "▁" is added ({@code tokenizer.ggml.add_space_prefix}, default true), the text
 * starts as one symbol per Unicode character, and the adjacent pair whose concatenation is the vocabulary token of
 * highest score is merged first (ties: leftmost) until no pair forms a token. Characters without a token are
 * encoded as their UTF-8 bytes with the byte-fallback tokens {@code <0xNN>}.
 */
final class SentencePieceBpeTokenizer extends VocabularyTokenizer {

    private static final char SPACE = '\u2581';

    private final boolean addSpacePrefix;
    /** (256) id of the byte-fallback token {@code <0xNN>} per byte, −1 when absent. */
    private final int[] byteTokens = new int[256];

    SentencePieceBpeTokenizer(Vocabulary vocab, boolean addSpacePrefix) {
        super(vocab);
        if (vocab.scores == null) {
            throw new TokenizerException("missing required metadata key 'tokenizer.ggml.scores' for tokenizer model 'llama'");
        }
        this.addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.ids.get(String.format("<0x%02X>", b));
            byteTokens[b] = id == null ? -1 : id;
        }
    }

    /** Doubly linked symbol list over the normalised text: symbol i covers text[start[i], start[i] + len[i]). */
    private record Bigram(int left, int right, float score, int size) {
    }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) {
            return new int[0];
        }
        String norm = (addSpacePrefix ? " " : "") + text;
        norm = norm.replace(' ', SPACE);
        // one symbol per code point
        int n = norm.codePointCount(0, norm.length());
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, off = 0; i < n; i++) {
            int cp = norm.codePointAt(off);
            start[i] = off;
            len[i] = Character.charCount(cp);
            off += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
            a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) {
            tryBigram(norm, start, len, i, i + 1, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            // stale if either side changed since the bigram was queued
            if (len[bg.left] == 0 || len[bg.right] == 0 || len[bg.left] + len[bg.right] != bg.size
                || next[bg.left] != bg.right) {
                continue;
            }
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) {
                prev[next[bg.right]] = bg.left;
            }
            if (prev[bg.left] >= 0) {
                tryBigram(norm, start, len, prev[bg.left], bg.left, queue);
            }
            if (next[bg.left] >= 0) {
                tryBigram(norm, start, len, bg.left, next[bg.left], queue);
            }
        }
        int[] out = new int[norm.length() * 4];
        int o = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            String sym = norm.substring(start[i], start[i] + len[i]);
            Integer id = vocab.ids.get(sym);
            if (id != null) {
                out[o++] = id;
                continue;
            }
            for (byte b : sym.getBytes(StandardCharsets.UTF_8)) {
                int bt = byteTokens[b & 0xFF];
                if (bt >= 0) {
                    out[o++] = bt;
                } else if (vocab.unknown.isPresent()) {
                    out[o++] = vocab.unknown.getAsInt();
                    break;
                } else {
                    throw new TokenizerException("character '" + sym + "' has no token, no byte-fallback token <0x"
                        + String.format("%02X", b & 0xFF) + "> and no 'tokenizer.ggml.unknown_token_id'");
                }
            }
        }
        return Arrays.copyOf(out, o);
    }

    private void tryBigram(String norm, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        String s = norm.substring(start[left], start[right] + len[right]);
        Integer id = vocab.ids.get(s);
        if (id != null) {
            queue.add(new Bigram(left, right, vocab.scores[id], s.length()));
        }
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        return vocab.withBos(encode(text), addBos, true);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean first = true;
        for (int id : ids) {
            byte[] b = tokenBytes(id);
            if (b.length == 0) {
                continue;
            }
            // the space prefix added at encoding is not part of the text
            if (first && addSpacePrefix && b[0] == ' ') {
                out.write(b, 1, b.length - 1);
            } else {
                out.writeBytes(b);
            }
            first = false;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        String t = vocab.token(id);
        if (vocab.isControl(id)) {
            return new byte[0];
        }
        if (vocab.types[id] == Vocabulary.TYPE_BYTE || (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">"))) {
            try {
                return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // not a byte token after all: fall through to text
            }
        }
        return t.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }
}
