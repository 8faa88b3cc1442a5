package io.reviver.kernel.opencl;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.AttentionBatch;
import io.reviver.kernel.attention.AttentionFixtures;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.BackendStatus;
import io.reviver.kernel.attention.BackendUnavailableException;
import io.reviver.kernel.attention.JavaAttentionBackend;

/**
 * Child-JVM probe for {@link OpenClAvailabilityTest}: opens the backend given as {@code args[0]} ({@code java},
 * {@code opencl}, {@code opencl-or-java}), runs one attention batch, compares it with the Java reference and prints
 * {@code status openCl=<bool> fallbacks=<n> match=<bool>}; exit code 0. On {@link BackendUnavailableException}
 * prints {@code UNAVAILABLE <message>} and exits with 3.
 */
public final class OpenClChildMain {

    static final int UNAVAILABLE_EXIT = 3;

    private OpenClChildMain() {
    }

    public static void main(String[] args) {
        BackendChoice choice = BackendChoice.parse("argument", args[0]);
        try (AttentionBackend backend = OpenClAttentionBackend.open(choice)) {
            AttentionBatch b = AttentionFixtures.batch(1, 64, 2, new int[] {9, 30}, 0);
            float[] out = new float[b.outputLength()];
            float[] ref = new float[b.outputLength()];
            backend.attend(b, out, null);
            try (JavaAttentionBackend reference = new JavaAttentionBackend()) {
                reference.attend(b, ref, null);
            }
            boolean match = true;
            for (int i = 0; i < out.length; i++) {
                match &= Math.abs(out[i] - ref[i]) <= 1e-5f;
            }
            BackendStatus st = backend.status();
            System.out.println("status openCl=" + st.openCl() + " fallbacks=" + st.fallbacks() + " match=" + match
                + " device=" + st.device() + " reason=" + st.reason());
        } catch (BackendUnavailableException e) {
            System.out.println("UNAVAILABLE " + e.getMessage());
            System.exit(UNAVAILABLE_EXIT);
        }
    }
}
