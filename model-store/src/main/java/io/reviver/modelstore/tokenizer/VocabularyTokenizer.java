package io.reviver.modelstore.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/** What both tokenizer kinds share: the vocabulary look-ups and decoding by concatenating {@link #tokenBytes}. */
abstract class VocabularyTokenizer implements Tokenizer {

    final Vocabulary vocab;

    VocabularyTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return vocab.tokens.length;
    }

    @Override
    public OptionalInt bosId() {
        return vocab.bos;
    }

    @Override
    public OptionalInt eosId() {
        return vocab.eos;
    }

    @Override
    public String token(int id) {
        return vocab.token(id);
    }

    @Override
    public boolean isSpecial(int id) {
        vocab.token(id);
        return vocab.isControl(id);
    }
}
