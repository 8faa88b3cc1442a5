package io.reviver.modelstore.tokenizer;

import io.reviver.modelstore.ModelStoreException;

/** Tokenizer metadata is missing, inconsistent or of an unsupported kind; the message names the key and value. */
public class TokenizerException extends ModelStoreException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }
}
