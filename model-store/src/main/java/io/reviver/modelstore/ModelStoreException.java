package io.reviver.modelstore;

/**
 * Base of every error the model store raises for bad input (malformed files, missing keys, unreadable
 * sources, cache corruption). Messages name the offending key, tensor, path or value so a user can act
 * on them without a stack trace.
 */
public class ModelStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelStoreException(String message) {
        super(message);
    }

    public ModelStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
