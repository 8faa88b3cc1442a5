/**
 * The OpenCL attention backend, written in Java with Aparapi — the only package that imports Aparapi.
 * {@link io.reviver.kernel.opencl.OpenClAttentionBackend} is the host side (device discovery and logging, range
 * sizing, explicit buffer transfers, fall-back detection, disposal) of one {@code *Kernel} class per device body:
 * {@link io.reviver.kernel.opencl.AttentionKernel} (attention over exact and sketch-reconstructed tokens),
 * {@link io.reviver.kernel.opencl.SketchInsertKernel}, {@link io.reviver.kernel.opencl.SketchReconstructKernel}
 * and a hash probe for tests. Their reference is {@link io.reviver.kernel.attention.JavaAttentionBackend}.
 *
 * <p>Runtime needs: {@code libOpenCL.so.1} (Debian {@code ocl-icd-libopencl1}) and an ICD such as
 * {@code pocl-opencl-icd}; Aparapi's JNI library is loaded from the {@code aparapi-jni} jar. Kernel classes must
 * be compiled with debug information (Maven's default), which Aparapi reads to generate OpenCL C.
 *
 * <p>Known limitations: buffers are copied host → device on every call (the KV blocks are not yet resident on
 * the device); one work-group per (pair, query head), so a decode step with few pairs leaves a large GPU idle;
 * reconstruction re-evaluates the median of each sketched coordinate for every query head of the group.
 */
package io.reviver.kernel.opencl;
