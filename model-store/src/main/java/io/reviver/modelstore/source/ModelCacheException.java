package io.reviver.modelstore.source;

import io.reviver.modelstore.ModelStoreException;

/**
 * The local model cache cannot be used: its directory cannot be created or written, an entry lock cannot be
 * taken, or a completed download cannot be moved into place. The message names the cache path involved.
 */
public class ModelCacheException extends ModelStoreException {
    private static final long serialVersionUID = 1L;

    public ModelCacheException(String message) {
        super(message);
    }

    public ModelCacheException(String message, Throwable cause) {
        super(message, cause);
    }
}
