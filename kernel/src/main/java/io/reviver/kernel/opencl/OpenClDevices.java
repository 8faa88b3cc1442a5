package io.reviver.kernel.opencl;

import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.opencl.OpenCLLoader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Discovery of OpenCL devices through Aparapi, without Aparapi's silent defaults: the list is empty (and
 * {@link #problem()} says why) when the native library does not load or the ICD loader finds no platform.
 */
final class OpenClDevices {

    private final List<OpenCLDevice> devices;
    private final String problem;

    private OpenClDevices(List<OpenCLDevice> devices, String problem) {
        this.devices = devices;
        this.problem = problem;
    }

    /** Lists the OpenCL devices of every platform: GPUs first, then accelerators, then CPUs (stable otherwise). */
    static OpenClDevices discover() {
        try {
            if (!OpenCLLoader.isOpenCLAvailable()) {
                return new OpenClDevices(List.of(), "Aparapi's native library (aparapi-jni) or libOpenCL.so.1 failed to "
                    + "load; install ocl-icd-libopencl1 and an OpenCL driver (e.g. pocl-opencl-icd)");
            }
            List<OpenCLDevice> found = new ArrayList<>(OpenCLDevice.listDevices(null));
            found.sort(Comparator.comparingInt(OpenClDevices::typeRank));
            if (found.isEmpty()) {
                String vendors = System.getenv("OCL_ICD_VENDORS");
                return new OpenClDevices(List.of(), "no OpenCL platform/device found by the ICD loader"
                    + (vendors == null ? " (check /etc/OpenCL/vendors and clinfo)" : " (OCL_ICD_VENDORS=" + vendors + ")"));
            }
            return new OpenClDevices(List.copyOf(found), "");
        } catch (RuntimeException | LinkageError e) {
            return new OpenClDevices(List.of(), "OpenCL discovery failed: " + e);
        }
    }

    private static int typeRank(OpenCLDevice d) {
        Device.TYPE t = d.getType();
        if (t == Device.TYPE.GPU) {
            return 0;
        }
        return t == Device.TYPE.ACC ? 1 : 2;
    }

    List<OpenCLDevice> devices() {
        return devices;
    }

    /** Why no device was found; empty when {@link #devices()} is non-empty. */
    String problem() {
        return problem;
    }

    /** "OpenCL: platform / device (TYPE)" for logs and {@code BackendStatus.device}. */
    static String describe(OpenCLDevice d) {
        return "OpenCL: " + d.getOpenCLPlatform().getName() + " / " + d.getName() + " (" + d.getType() + ")";
    }
}
