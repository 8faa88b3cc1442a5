package io.reviver.kernel.model;

import io.reviver.modelstore.ModelStoreException;

/**
 * A model file is well-formed GGUF but describes a model this engine cannot run: an unsupported
 * architecture, hyper-parameters that are missing, inconsistent or out of range, or tensors whose shapes
 * disagree with the hyper-parameters. The message names the metadata key or tensor and the bad value.
 */
public class ModelConfigException extends ModelStoreException {
    private static final long serialVersionUID = 1L;

    public ModelConfigException(String message) {
        super(message);
    }

    public ModelConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
