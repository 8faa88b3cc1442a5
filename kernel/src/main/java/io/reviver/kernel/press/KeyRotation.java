package io.reviver.kernel.press;

/**
 * The model's rotary position embedding applied to one key head at a known position, forward or inverse. Lets a
 * press store keys before RoPE (inverse rotation on the way in, forward rotation on reconstruction). Thread-safe.
 */
public interface KeyRotation {

    /**
     * Rotates {@code headSize} floats of {@code vec} from {@code off} to {@code position}'s angle, or back from it
     * when {@code inverse}.
     */
    void rotate(float[] vec, int off, int position, boolean inverse);
}
