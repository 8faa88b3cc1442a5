package io.reviver.kernel.opencl;

import com.aparapi.Kernel;

/**
 * A kernel that Aparapi translates but the OpenCL compiler rejects ({@code half} is an OpenCL C type name):
 * Aparapi then silently runs it on its Java thread pool — the fall-back {@link OpenClAttentionBackend} must catch.
 */
final class BrokenKernel extends Kernel {

    float[] out = new float[64];

    @Override
    public void run() {
        int half = getGlobalId(0) / 2;
        out[getGlobalId(0)] = half;
    }
}
