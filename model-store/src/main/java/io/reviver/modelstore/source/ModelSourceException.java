package io.reviver.modelstore.source;

import io.reviver.modelstore.ModelStoreException;

/**
 * A model source cannot be read: the path or object does not exist, is a directory, is unreadable, no Hadoop
 * FileSystem is available for its scheme, its sidecar checksum is malformed, or the transfer failed or was
 * truncated. The message names the path or URI.
 */
public class ModelSourceException extends ModelStoreException {
    private static final long serialVersionUID = 1L;

    public ModelSourceException(String message) {
        super(message);
    }

    public ModelSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
