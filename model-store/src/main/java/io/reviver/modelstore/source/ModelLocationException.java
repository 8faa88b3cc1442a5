package io.reviver.modelstore.source;

import io.reviver.modelstore.ModelStoreException;

/**
 * A model location string or an expected SHA-256 string cannot be parsed. The message quotes the bad value and
 * says what form was expected.
 */
public class ModelLocationException extends ModelStoreException {
    private static final long serialVersionUID = 1L;

    public ModelLocationException(String message) {
        super(message);
    }

    public ModelLocationException(String message, Throwable cause) {
        super(message, cause);
    }
}
