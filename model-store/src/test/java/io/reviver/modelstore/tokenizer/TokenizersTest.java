package io.reviver.modelstore.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.modelstore.gguf.GgufMetadata;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Small hand-built vocabularies: merge order, byte fallback, pre-tokenisation, BOS rules and bad metadata. */
class TokenizersTest {

    /** A byte-level vocabulary: the 256 byte characters, then one token per merge, then BOS/EOS. */
    static GgufMetadata gpt2(String pre, String... merges) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevelBpeTokenizer.BYTE_TO_CHAR[b]));
        }
        for (String m : merges) {
            tokens.add(m.replace(" ", ""));
        }
        tokens.add("<|bos|>");
        tokens.add("<|eos|>");
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, 1);
        types[tokens.size() - 2] = 3;
        types[tokens.size() - 1] = 3;
        return GgufMetadata.builder().putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", pre)
            .putStringArray("tokenizer.ggml.tokens", tokens.toArray(String[]::new))
            .putInt32Array("tokenizer.ggml.token_type", types)
            .putStringArray("tokenizer.ggml.merges", merges)
            .putUint32("tokenizer.ggml.bos_token_id", tokens.size() - 2)
            .putUint32("tokenizer.ggml.eos_token_id", tokens.size() - 1).build();
    }

    @Test
    void byteLevelMergesApplyInRankOrder() {
        // "Ġ" is the byte character of the space; rank order decides "abc" = (ab)c, not a(bc)
        Tokenizer t = Tokenizers.fromGguf(gpt2("llama-bpe", "a b", "b c", "ab c", "Ġ ab"));
        int ab = 256;
        int abc = 258;
        int spaceAb = 259;
        assertArrayEquals(new int[] {abc}, t.encode("abc"));
        // " abc" = Ġ a b c -> Ġ (ab) c -> "ab c" (rank 2) beats "Ġ ab" (rank 3)
        assertArrayEquals(new int[] {'x', ' ' /* the id of the byte token of the space, 'Ġ' */, abc}, t.encode("x abc"));
        assertArrayEquals(new int[] {'x', spaceAb}, t.encode("x ab"));
        assertArrayEquals(new int[] {ab}, t.encode("ab"));
        assertEquals("x abc", t.decode(t.encode("x abc")));
        // no BOS unless the model asks for it: gpt2 defaults to false
        assertArrayEquals(t.encode("ab"), t.encode("ab", true));
        assertTrue(t.isSpecial(t.bosId().orElseThrow()));
        assertEquals(0, t.tokenBytes(t.eosId().orElseThrow()).length);
    }

    @Test
    void preTokenizersSplitDigitsAndContractionsDifferently() {
        Tokenizer llama3 = Tokenizers.fromGguf(gpt2("llama-bpe"));
        Tokenizer qwen2 = Tokenizers.fromGguf(gpt2("qwen2"));
        Tokenizer gpt2 = Tokenizers.fromGguf(gpt2("gpt2"));
        String text = "I'M 12345 héllo  🌍\t\nx";
        // with no merges every id is a byte; the split only shows through round trips and identical bytes
        for (Tokenizer t : List.of(llama3, qwen2, gpt2)) {
            assertEquals(text, t.decode(t.encode(text)));
            assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, t.encode(text).length);
        }
        // a merge across a digit boundary applies only where the pre-tokenizer keeps the digits together
        Tokenizer l = Tokenizers.fromGguf(gpt2("llama-bpe", "1 2", "12 3"));
        Tokenizer q = Tokenizers.fromGguf(gpt2("qwen2", "1 2", "12 3"));
        assertArrayEquals(new int[] {257, '4'}, l.encode("1234"));
        assertArrayEquals(new int[] {'1', '2', '3', '4'}, q.encode("1234"));
    }

    static GgufMetadata spm(String[] tokens, float[] scores, int[] types) {
        return GgufMetadata.builder().putString("tokenizer.ggml.model", "llama")
            .putStringArray("tokenizer.ggml.tokens", tokens).putFloat32Array("tokenizer.ggml.scores", scores)
            .putInt32Array("tokenizer.ggml.token_type", types).putUint32("tokenizer.ggml.bos_token_id", 1)
            .putUint32("tokenizer.ggml.eos_token_id", 2).build();
    }

    @Test
    void sentencePieceMergesByScoreAndFallsBackToBytes() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            scores.add(0f);
            types.add(6);
        }
        String[] pieces = {"▁", "h", "e", "l", "o", "he", "ll", "llo", "▁he", "▁hello", "w"};
        float[] pieceScores = {-1, -2, -2, -2, -2, -3, -4, -5, -6, -7, -2};
        for (int i = 0; i < pieces.length; i++) {
            tokens.add(pieces[i]);
            scores.add(pieceScores[i]);
            types.add(1);
        }
        float[] s = new float[scores.size()];
        int[] ty = new int[types.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
            ty[i] = types.get(i);
        }
        Tokenizer t = Tokenizers.fromGguf(spm(tokens.toArray(String[]::new), s, ty));
        int base = 259;
        // "▁hello": best-scored merges first: he(-3), ll(-4), llo(-5), ▁he(-6), ▁hello(-7)
        assertArrayEquals(new int[] {base + 9}, t.encode("hello"));
        // BOS by default for llama; 'é' has no piece: its two UTF-8 bytes via <0xC3><0xA9>
        int[] ids = t.encode("hello é", true);
        assertArrayEquals(new int[] {1, base + 9, base, 3 + 0xC3, 3 + 0xA9}, ids);
        assertEquals("hello é", t.decode(ids));
        assertEquals("w", t.decode(t.encode("w")));
    }

    @Test
    void badMetadataIsNamed() {
        TokenizerException e = assertThrows(TokenizerException.class,
            () -> Tokenizers.fromGguf(GgufMetadata.builder().build()));
        assertTrue(e.getMessage().contains("'tokenizer.ggml.model'"));
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(GgufMetadata.builder()
            .putString("tokenizer.ggml.model", "bert").putStringArray("tokenizer.ggml.tokens", new String[] {"a"}).build()));
        assertTrue(e.getMessage().contains("'bert'"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(gpt2("falcon")));
        assertTrue(e.getMessage().contains("'falcon'"), e.getMessage());
        GgufMetadata.Builder unknownMerge = GgufMetadata.builder();
        gpt2("gpt2").entries().forEach(unknownMerge::put);
        unknownMerge.putStringArray("tokenizer.ggml.merges", new String[] {"a zz"});
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(unknownMerge.build()));
        assertTrue(e.getMessage().contains("'azz'"), e.getMessage());
        GgufMetadata mismatched = GgufMetadata.builder().putString("tokenizer.ggml.model", "llama")
            .putStringArray("tokenizer.ggml.tokens", new String[] {"a", "b"})
            .putFloat32Array("tokenizer.ggml.scores", new float[] {0f}).build();
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(mismatched));
        assertTrue(e.getMessage().contains("'tokenizer.ggml.scores' has 1"), e.getMessage());
        GgufMetadata badBos = GgufMetadata.builder().putString("tokenizer.ggml.model", "gpt2")
            .putStringArray("tokenizer.ggml.tokens", new String[] {"a"}).putStringArray("tokenizer.ggml.merges", new String[0])
            .putUint32("tokenizer.ggml.bos_token_id", 7).build();
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(badBos));
        assertTrue(e.getMessage().contains("'tokenizer.ggml.bos_token_id' = 7"), e.getMessage());
    }
}
