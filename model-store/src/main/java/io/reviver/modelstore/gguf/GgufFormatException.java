package io.reviver.modelstore.gguf;

import io.reviver.modelstore.ModelStoreException;

/**
 * A GGUF file is malformed, truncated, of an unsupported version or type, or lacks a required key. The
 * message names the file, the key or tensor, and the bad value.
 */
public class GgufFormatException extends ModelStoreException {
    private static final long serialVersionUID = 1L;

    public GgufFormatException(String message) {
        super(message);
    }

    public GgufFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
