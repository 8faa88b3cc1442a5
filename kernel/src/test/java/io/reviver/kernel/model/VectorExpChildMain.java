package io.reviver.kernel.model;

/**
 * Child-JVM probe for {@link VectorExpTest}: prints {@link VectorExpTest#fingerprint()}, the bits of the vector
 * softmax and SwiGLU over fixed seeded rows, as computed in this JVM (run with {@code -Xint}: nothing compiled).
 */
public final class VectorExpChildMain {

    private VectorExpChildMain() {
    }

    public static void main(String[] args) {
        System.out.println("fingerprint " + VectorExpTest.fingerprint());
    }
}
