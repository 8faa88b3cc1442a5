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

    /**
     * The rotation as a dot product, when this rotation offers one (null, the default, when not): lets attention
     * score a query against a pre-RoPE key at many positions without rotating the key at each.
     */
    default DotForm dotForm() {
        return null;
    }

    /**
     * For every query {@code q}, pre-RoPE key {@code x} and position {@code p} (headSize floats each):
     * {@code q · R(p)·x = pairProducts(q, x) · features(p)}, exact in real arithmetic (in floats, within rounding
     * of the direct form). For rotation pair i with elements (a, b) and angle θ: {@code q·R x} restricted to the
     * pair is {@code cos θ·(q_a x_a + q_b x_b) + sin θ·(q_b x_a − q_a x_b)}, so the pair products hold the two
     * brackets and the features the cosine and sine; elements RoPE leaves alone pair with a feature of 1.
     * Thread-safe.
     */
    interface DotForm {

        /** The features of {@code position}: headSize floats, a table row the caller must not modify. */
        float[] features(int position);

        /**
         * Writes {@code scale · pairProducts(q, x)}: headSize floats at {@code out[outOff]}, in the order of
         * {@link #features}.
         */
        void pairProducts(float[] q, int qOff, float[] x, int xOff, float scale, float[] out, int outOff);
    }
}
