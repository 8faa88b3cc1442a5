/**
 * The OpenCL attention backend, written in Java with Aparapi — the only package that imports Aparapi.
 * {@link io.reviver.kernel.opencl.OpenClAttentionBackend} is the host side (device discovery and logging, range
 * sizing, buffer transfers, fall-back detection, disposal) of one {@code *Kernel} class per device body:
 * {@link io.reviver.kernel.opencl.AttentionKernel} (attention over exact and sketch-reconstructed tokens),
 * {@link io.reviver.kernel.opencl.SketchInsertKernel}, {@link io.reviver.kernel.opencl.SketchReconstructKernel}
 * (both estimators: SIGNED, and MEAN with a bucket-count table) and a hash probe for tests. Their reference is {@link io.reviver.kernel.attention.JavaAttentionBackend}.
 *
 * <p>Runtime needs: {@code libOpenCL.so.1} (Debian {@code ocl-icd-libopencl1}) and an ICD such as
 * {@code pocl-opencl-icd}; Aparapi's JNI library is loaded from the {@code aparapi-jni} jar. Kernel classes must
 * be compiled with debug information (Maven's default), which Aparapi reads to generate OpenCL C.
 *
 * <p>Known limitations: every call transfers each input array whole (KV blocks and sketches are not kept resident
 * on the device between calls, and a KV array larger than the batch needs is still copied whole); one work-group
 * per (pair, query head), so a decode step with few pairs leaves a large GPU mostly idle; the local size is fixed
 * per backend (default 64) and not checked against the compiled kernel's maximum work-group size; the fused
 * attention-over-sketch kernel supports SIGNED sketches only (KVReviver's MEAN sketches are reconstructed by
 * {@code SketchReconstructKernel} in one call per head and attended as gathered entries); the MEAN insert
 * increments counts on one work item per (sketch, row); on the PoCL CPU
 * device exact attention is slower than the single-threaded Java reference (see {@code AttentionBench}), while
 * sketch reconstruction and attention over sketched tokens are faster.
 */
package io.reviver.kernel.opencl;
