/*
 * Reviver's native int8 weight products (JNI), called by io.reviver.kernel.tensor.NativeQ8.
 *
 * One arithmetic, three instruction sets (scalar C, AVX2, AVX-512 VNNI). For output row r of a Q8_0 weight matrix
 * and activation row t, with the activations quantised per 32-column block by
 * io.reviver.kernel.tensor.Int8Products.quantize (int8 values xq, one float scale xd per block):
 *
 *     acc = 0f
 *     for k in 0 .. blocks-1:                    (in this order)
 *         isum = sum over the 32 columns c of block k of  wq[r, c] * xq[t, c]       (exact, in int32)
 *         acc  = fma((float) isum, ws[r, k] * xd[t, k], acc)                        (the product rounded first)
 *     out[t, r] = acc
 *
 * isum is exact, so how its terms are grouped does not matter, and every float operation is named above: the
 * scalar kernel and the vector kernels give the same bits, and so does the Java reference
 * (Int8Products.reference). Build with -ffp-contract=off so that the compiler fuses nothing else.
 *
 * Weight layout (QuantizedMatrix.q8Interleaved, copied into native memory by NativeWeights): rows in groups of 16; the
 * 512 bytes of group g, block k start at (g * blocks + k) * 512, and byte 64 j + 4 i + b holds row 16 g + i, column
 * 32 k + 4 j + b (j < 8, i < 16, b < 4) as an unsigned byte q + 128 (q the Q8_0 quant). The block's 16 scales
 * (the file's fp16 bits, 0 for rows past the matrix's end; widened to float exactly here) are at
 * ws[(g * blocks + k) * 16 + i]: 544 bytes per 16 rows and 32 columns, what the file holds. So one 64-byte vector
 * holds 4 columns of 16 rows: vpdpbusd against 4 activation bytes broadcast to every lane sums them for 16 rows at
 * once, and a block's 8 such instructions leave each row's isum in its own lane (no horizontal sums).
 * Unsigned weights times signed activations is what vpdpbusd multiplies; xc[t, k] = -128 * sum of the block's
 * xq starts each sum, so it comes out as the signed isum, exactly.
 *
 * Activations: xq (n, blocks * 32) int8, xd (n, blocks) float, xc (n, blocks) int32; out (n, rows) row-major.
 * They are quantised here too (quantize0), by Int8Products.quantize's arithmetic, bit for bit.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define REVIVER_X86 1
#endif

/* instruction-set bits reported to Java (NativeQ8.Isa) */
#define ISA_SCALAR 1
#define ISA_AVX512_VNNI 2
#define ISA_AVX2 4

/* what product0 returns (NativeQ8.product) */
#define STATUS_OK 0
#define STATUS_NO_ARRAY 1 /* the JVM could not expose an array: nothing computed */
#define STATUS_COPIED 2   /* the JVM exposed a copy of the output: nothing computed */

/* activation rows per block of the sweep: about this many bytes of quantised activations stay in L2 while the
 * thread's row groups pass over them */
#define X_BLOCK_BYTES (256 * 1024)

/* how far ahead of the block being computed each stream of weights is prefetched, for G row groups (streams) in
 * flight. A C harness over 1.35 GB of 8,192 x 2,048 matrices on huge pages, 2 threads, means of 4-6 rounds in GB/s
 * (its 2-stream reader: 58-63 GB/s the same minutes):
 *   two groups: B=1 57.6 at 2,048 against 56.0 at 4,096 and 49.2 without; B=8 44.0 against 41.5 and 24.1;
 *   four groups: B=1 55.0-64.2 without, 56.0-63.9 at 1,024, 59.4 at 2,048; B=2 53.8 at 1,024, 47.9 without,
 *   against 46.2 for two groups at 2,048. */
#define PREFETCH_BYTES(G, SN) ((G) >= 4 && (SN) <= 2 ? 1024 : 2048)

/* native weight memory is aligned to, and advised as, 2 MiB huge pages: streaming 1.3 GB per decode step through
 * 4 KiB pages costs a page walk every 4 KiB, nested ones in a virtual machine (the same harness, one row group at
 * a time: B=1 46.7 GB/s on advised huge pages against 36.3 on 4 KiB pages, B=8 39.7 against 35.4) */
#define HUGE_PAGE (2u << 20)

/* fp16 bits to float, exactly (subnormals, infinities and NaN included) */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t man = h & 0x3FF;
    uint32_t bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        exp = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            exp--;
        }
        bits = sign | (exp << 23) | ((man & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void scalar_rows(const uint8_t *w, const uint16_t *ws, int blocks, int g0, int g1, const int8_t *xq,
                        const float *xd, const int32_t *xc, int n, float *out, int rows) {
    const int cols = blocks * 32;
    for (int g = g0; g < g1; g++) {
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < 16 && 16 * g + i < rows; i++) {
                float acc = 0.0f;
                for (int k = 0; k < blocks; k++) {
                    const uint8_t *wb = w + ((size_t) g * blocks + k) * 512;
                    const int8_t *xb = xq + (size_t) t * cols + 32 * k;
                    int32_t isum = xc[(size_t) t * blocks + k];
                    for (int j = 0; j < 8; j++) {
                        for (int b = 0; b < 4; b++) {
                            isum += (int32_t) wb[64 * j + 4 * i + b] * (int32_t) xb[4 * j + b];
                        }
                    }
                    float sc = half_to_float(ws[((size_t) g * blocks + k) * 16 + i]) * xd[(size_t) t * blocks + k];
                    acc = fmaf((float) isum, sc, acc);
                }
                out[(size_t) t * rows + 16 * g + i] = acc;
            }
        }
    }
}

/* Int8Products.quantize, operation for operation (Java's Math.rint is round-half-even, nearbyintf's default mode;
 * Java's (int) of NaN is 0; Math.max propagates NaN, hence the flag). */
static void quantize_block_scalar(const float *x, int8_t *xq, float *xd, int32_t *xc) {
    float amax = 0.0f;
    int nan = 0;
    for (int c = 0; c < 32; c++) {
        float a = fabsf(x[c]);
        if (a != a) {
            nan = 1;
        } else if (a > amax) {
            amax = a;
        }
    }
    if (nan) {
        amax = NAN;
    }
    float d = amax / 127.0f;
    float id = d == 0.0f ? 0.0f : 1.0f / d;
    int32_t sum = 0;
    for (int c = 0; c < 32; c++) {
        float v = x[c] * id;
        int32_t q = 0;
        if (v == v) {
            float r = nearbyintf(v);
            q = r > 127.0f ? 127 : r < -127.0f ? -127 : (int32_t) r;
        }
        xq[c] = (int8_t) q;
        sum += q;
    }
    *xd = d;
    *xc = -128 * sum;
}

static void quantize_scalar(const float *x, int n, int cols, int8_t *xq, float *xd, int32_t *xc) {
    int blocks = cols / 32;
    for (int t = 0; t < n; t++) {
        for (int k = 0; k < blocks; k++) {
            size_t b = (size_t) t * blocks + k;
            quantize_block_scalar(x + 32 * b, xq + 32 * b, xd + b, xc + b);
        }
    }
}

#ifdef REVIVER_X86
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

/* acc += u (64 bytes, one per lane-byte) . (4 activation bytes at p, broadcast to every lane); the broadcast is
 * folded into the instruction's memory operand, which C intrinsics leave to the compiler (gcc 12 does not). */
#define DPBUSD_BCAST(acc, u, p) \
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*(const int32_t *) (p)))

/* Row groups [g, g + G) against activation rows [t0, t0 + SN); G <= 4 and SN <= 8 are compile-time constants after
 * inlining. With G = 4 and SN > 4 the 32 accumulators do not all fit in registers: the compiler keeps some in L1 (a
 * load folded into the FMA and a store per block), which a C harness found no slower in cache (B=8, one thread,
 * 256 x 2,048: 293-295 GMAC/s over four groups, 280-296 over two). Several row groups are several streams of
 * weights (group g + 1 starts blocks * 512 bytes after group g), which keep more of memory's bandwidth busy than
 * one: the harness above, B=1 57.6 GB/s with two groups against 50.6 with one (4,096 bytes of prefetch), 55-64 with
 * four; B=8 44.0 with two against 41.2 with one. Each row's sum still runs over k in order. */
static inline __attribute__((always_inline)) AVX512_TARGET void
avx512_tile(const uint8_t *w, const uint16_t *ws, int blocks, const int8_t *xq, const float *xd, const int32_t *xc,
            int t0, const int SN, const int G, float *out, int rows, int g) {
    const int cols = blocks * 32;
    __m512 acc[4][8];
#pragma GCC unroll 4
    for (int h = 0; h < G; h++) {
#pragma GCC unroll 8
        for (int s = 0; s < SN; s++) {
            acc[h][s] = _mm512_setzero_ps();
        }
    }
    for (int k = 0; k < blocks; k++) {
#pragma GCC unroll 4
        for (int h = 0; h < G; h++) {
            const uint8_t *wb = w + ((size_t) (g + h) * blocks + k) * 512;
            /* the hardware prefetchers alone leave a core waiting on memory while it computes several sequences
             * (B=8 from memory: 24.1 GB/s without, 44.0 with); prefetching never faults, so running past the
             * memory's end is harmless */
            for (int l = 0; l < 512; l += 64) {
                _mm_prefetch((const char *) (wb + PREFETCH_BYTES(G, SN) + l), _MM_HINT_T0);
            }
            __m512i w0 = _mm512_loadu_si512(wb), w1 = _mm512_loadu_si512(wb + 64);
            __m512i w2 = _mm512_loadu_si512(wb + 128), w3 = _mm512_loadu_si512(wb + 192);
            __m512i w4 = _mm512_loadu_si512(wb + 256), w5 = _mm512_loadu_si512(wb + 320);
            __m512i w6 = _mm512_loadu_si512(wb + 384), w7 = _mm512_loadu_si512(wb + 448);
            __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (ws + ((size_t) (g + h) * blocks + k) * 16)));
#pragma GCC unroll 8
            for (int s = 0; s < SN; s++) {
                const int8_t *xb = xq + (size_t) (t0 + s) * cols + 32 * k;
                __m512i a = _mm512_set1_epi32(xc[(size_t) (t0 + s) * blocks + k]);
                DPBUSD_BCAST(a, w0, xb);
                DPBUSD_BCAST(a, w1, xb + 4);
                DPBUSD_BCAST(a, w2, xb + 8);
                DPBUSD_BCAST(a, w3, xb + 12);
                DPBUSD_BCAST(a, w4, xb + 16);
                DPBUSD_BCAST(a, w5, xb + 20);
                DPBUSD_BCAST(a, w6, xb + 24);
                DPBUSD_BCAST(a, w7, xb + 28);
                __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(xd[(size_t) (t0 + s) * blocks + k]));
                acc[h][s] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), sc, acc[h][s]);
            }
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < G; h++) {
        int live = rows - 16 * (g + h);
        __mmask16 m = live >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << live) - 1);
#pragma GCC unroll 8
        for (int s = 0; s < SN; s++) {
            _mm512_mask_storeu_ps(out + (size_t) (t0 + s) * rows + 16 * (g + h), m, acc[h][s]);
        }
    }
}

/* row groups [g, g + G) (G a constant) against the sn (1 to 8) activation rows from t, in one pass */
static inline __attribute__((always_inline)) AVX512_TARGET void
avx512_pass(const uint8_t *w, const uint16_t *ws, int blocks, const int8_t *xq, const float *xd, const int32_t *xc,
            int t, int sn, const int G, float *out, int rows, int g) {
    switch (sn) {
        case 1: avx512_tile(w, ws, blocks, xq, xd, xc, t, 1, G, out, rows, g); break;
        case 2: avx512_tile(w, ws, blocks, xq, xd, xc, t, 2, G, out, rows, g); break;
        case 3: avx512_tile(w, ws, blocks, xq, xd, xc, t, 3, G, out, rows, g); break;
        case 4: avx512_tile(w, ws, blocks, xq, xd, xc, t, 4, G, out, rows, g); break;
        case 5: avx512_tile(w, ws, blocks, xq, xd, xc, t, 5, G, out, rows, g); break;
        case 6: avx512_tile(w, ws, blocks, xq, xd, xc, t, 6, G, out, rows, g); break;
        case 7: avx512_tile(w, ws, blocks, xq, xd, xc, t, 7, G, out, rows, g); break;
        default: avx512_tile(w, ws, blocks, xq, xd, xc, t, 8, G, out, rows, g); break;
    }
}

/* row groups [g, g + G) (G = 1 or 2, a constant) against activation rows [tb, te), 8 at a time */
static inline __attribute__((always_inline)) AVX512_TARGET void
avx512_groups(const uint8_t *w, const uint16_t *ws, int blocks, const int8_t *xq, const float *xd, const int32_t *xc,
              int tb, int te, const int G, float *out, int rows, int g) {
    int t = tb;
    for (; t + 8 <= te; t += 8) {
        avx512_tile(w, ws, blocks, xq, xd, xc, t, 8, G, out, rows, g);
    }
    if (t < te) {
        avx512_pass(w, ws, blocks, xq, xd, xc, t, te - t, G, out, rows, g);
    }
}

static AVX512_TARGET void avx512_rows(const uint8_t *w, const uint16_t *ws, int blocks, int g0, int g1,
                                      const int8_t *xq, const float *xd, const int32_t *xc, int n, float *out,
                                      int rows) {
    int xBlock = X_BLOCK_BYTES / (blocks * 32);
    xBlock = xBlock < 8 ? 8 : xBlock & ~7;
    for (int tb = 0; tb < n; tb += xBlock) {
        int te = tb + xBlock < n ? tb + xBlock : n;
        int g = g0;
        if (te - tb <= 8) {
            /* a decode step's few rows: four streams of weights, every row in one pass. Through JNI, 76 products
             * of 8,192 x 2,048 from memory (ad-hoc harness, two alternations, ms): B=1 22.2-25.2 against 30.6-39.6
             * over two groups, B=4 25.8-30.6 against 28.9-30.6. B=8 in the C harness (2 threads, alternating, GB/s):
             * 128,256 x 2,048 39.0-43.8 against 38.7-39.0 over two groups; 2,048 x 8,192 42.3-43.1 against
             * 34.6-37.8; a whole B=8 decode step of a Llama-3.2-1B-shaped model (two JVMs each, alternating, 3
             * rounds): 37.4-43.6 ms against 39.6-45.0. (Two passes of 4 rows over four groups had lost to one pass
             * of 8 over two through JNI.) */
            for (; g + 4 <= g1; g += 4) {
                avx512_pass(w, ws, blocks, xq, xd, xc, tb, te - tb, 4, out, rows, g);
            }
        }
        for (; g + 2 <= g1; g += 2) {
            avx512_groups(w, ws, blocks, xq, xd, xc, tb, te, 2, out, rows, g);
        }
        if (g < g1) {
            avx512_groups(w, ws, blocks, xq, xd, xc, tb, te, 1, out, rows, g);
        }
    }
}

/* quantize_scalar's results, 32 values per step; a block with a value that is not finite goes to the scalar code */
static AVX512_TARGET void avx512_quantize(const float *x, int n, int cols, int8_t *xq, float *xd, int32_t *xc) {
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    size_t total = (size_t) n * (cols / 32);
    for (size_t b = 0; b < total; b++) {
        const float *xb = x + 32 * b;
        __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        __mmask16 nan = _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
        if (nan || !(amax <= 3.4028235e38f)) { /* NaN or infinity somewhere (max_ps does not propagate NaN) */
            quantize_block_scalar(xb, xq + 32 * b, xd + b, xc + b);
            continue;
        }
        float d = amax / 127.0f;
        float id = d == 0.0f ? 0.0f : 1.0f / d;
        if (!(id <= 3.4028235e38f)) { /* a subnormal scale: 1/d is infinite and 0 * id would be NaN */
            quantize_block_scalar(xb, xq + 32 * b, xd + b, xc + b);
            continue;
        }
        __m512 s = _mm512_set1_ps(id);
        __m512 r0 = _mm512_roundscale_ps(_mm512_mul_ps(v0, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r1 = _mm512_roundscale_ps(_mm512_mul_ps(v1, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r0, lo), hi));
        __m512i q1 = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r1, lo), hi));
        _mm_storeu_si128((__m128i *) (xq + 32 * b), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *) (xq + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
        xd[b] = d;
        xc[b] = -128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

/* ---- AVX2 (with FMA and F16C): x86-64 CPUs without AVX-512 VNNI, such as AMD's Zen 2 and Zen 3 or Intel's
 * Skylake servers ----
 *
 * The same weight layout and arithmetic as the AVX-512 kernel, 8 rows to a 256-bit vector: a 64-byte vector j of
 * a block holds rows 0-7 in its first 32 bytes and rows 8-15 in its second. AVX2 has no vpdpbusd; its byte product
 * (vpmaddubsw) multiplies unsigned by signed bytes and adds pairs into int16 with saturation, and q + 128 (up to 255)
 * times an activation (up to 127 in magnitude) would saturate a pair. So the weights are made signed again
 * (q = u ^ 0x80, -128 to 127), and each lane multiplies |q| (unsigned, at most 128) by the activation with q's sign
 * (vpsignb: the activation, its negation or 0, at most 127 in magnitude, since quantize never makes -128): a pair is
 * at most 2 * 128 * 127 = 32,512, so no pair saturates, and vpmaddwd against 1 adds the two pairs of each row's 4
 * columns into int32. Their sum over the block is the signed isum itself, exact, so xc (the unsigned weights'
 * correction) is not needed here, and the float arithmetic after it is the AVX-512 kernel's: the same bits.
 * (The other way round, |activation| times the weight with the activation's sign, would wrap at q = -128.)
 * Speed, on this project's AVX-512 machine standing in for an AVX2 one (a Llama-3.2-1B-shaped model, 2 threads,
 * JVM run with -XX:UseAVX=2 so the Java parts and attention take 8-lane vectors as on such a CPU; one JVM each,
 * three 2 s rounds): decode B=1 29.5-30.7 ms a step and B=8 105-112 against the Java backend's 74-76 and
 * 248-260; a prefill of 8 x 128 tokens 14.8 s against 30.1 s. So B=8 is bound by this arithmetic (four
 * instructions per 32 byte products, where one vpdpbusd makes 64), B=1 by memory as with AVX-512 (26-33 ms the
 * same minutes). */
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

/* the 8 rows' dot products (int32 lanes) of their 4 columns in a 32-byte half vector (|q| in aq, q in sq) with the
 * 4 activation bytes at x */
static inline __attribute__((always_inline)) AVX2_TARGET __m256i avx2_dot4(__m256i aq, __m256i sq, const int8_t *x) {
    int32_t four;
    memcpy(&four, x, sizeof four);
    __m256i p16 = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(_mm256_set1_epi32(four), sq));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* row group g (16 rows, the two halves of each 64-byte vector) against activation rows [t0, t0 + SN), SN <= 4 a
 * compile-time constant after inlining; each row's sum runs over k in order, as in the AVX-512 kernel */
static inline __attribute__((always_inline)) AVX2_TARGET void
avx2_tile(const uint8_t *w, const uint16_t *ws, int blocks, const int8_t *xq, const float *xd, int t0, const int SN,
          float *out, int rows, int g) {
    const int cols = blocks * 32;
    const __m256i flip = _mm256_set1_epi8((char) 0x80);
    __m256 acc[2][4];
#pragma GCC unroll 4
    for (int s = 0; s < SN; s++) {
        acc[0][s] = _mm256_setzero_ps();
        acc[1][s] = _mm256_setzero_ps();
    }
    for (int k = 0; k < blocks; k++) {
        const uint8_t *wb = w + ((size_t) g * blocks + k) * 512;
        for (int l = 0; l < 512; l += 64) { /* as in the AVX-512 kernel: the stream's next 2 KiB */
            _mm_prefetch((const char *) (wb + 2048 + l), _MM_HINT_T0);
        }
        __m256 dw[2];
        dw[0] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (ws + ((size_t) g * blocks + k) * 16)));
        dw[1] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (ws + ((size_t) g * blocks + k) * 16 + 8)));
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i isum[4];
#pragma GCC unroll 4
            for (int s = 0; s < SN; s++) {
                isum[s] = _mm256_setzero_si256();
            }
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m256i sq = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *) (wb + 64 * j + 32 * h)), flip);
                __m256i aq = _mm256_abs_epi8(sq);
#pragma GCC unroll 4
                for (int s = 0; s < SN; s++) {
                    const int8_t *xs = xq + (size_t) (t0 + s) * cols + 32 * k + 4 * j;
                    isum[s] = _mm256_add_epi32(isum[s], avx2_dot4(aq, sq, xs));
                }
            }
#pragma GCC unroll 4
            for (int s = 0; s < SN; s++) {
                __m256 sc = _mm256_mul_ps(dw[h], _mm256_set1_ps(xd[(size_t) (t0 + s) * blocks + k]));
                acc[h][s] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[s]), sc, acc[h][s]);
            }
        }
    }
    int live = rows - 16 * g;
#pragma GCC unroll 4
    for (int s = 0; s < SN; s++) {
        float *o = out + (size_t) (t0 + s) * rows + 16 * g;
        if (live >= 16) {
            _mm256_storeu_ps(o, acc[0][s]);
            _mm256_storeu_ps(o + 8, acc[1][s]);
        } else {
            float tmp[16];
            _mm256_storeu_ps(tmp, acc[0][s]);
            _mm256_storeu_ps(tmp + 8, acc[1][s]);
            memcpy(o, tmp, (size_t) live * sizeof(float));
        }
    }
}

static AVX2_TARGET void avx2_rows(const uint8_t *w, const uint16_t *ws, int blocks, int g0, int g1,
                                  const int8_t *xq, const float *xd, int n, float *out, int rows) {
    int xBlock = X_BLOCK_BYTES / (blocks * 32);
    xBlock = xBlock < 4 ? 4 : xBlock & ~3;
    for (int tb = 0; tb < n; tb += xBlock) {
        int te = tb + xBlock < n ? tb + xBlock : n;
        for (int g = g0; g < g1; g++) {
            int t = tb;
            for (; t + 4 <= te; t += 4) {
                avx2_tile(w, ws, blocks, xq, xd, t, 4, out, rows, g);
            }
            switch (te - t) {
                case 1: avx2_tile(w, ws, blocks, xq, xd, t, 1, out, rows, g); break;
                case 2: avx2_tile(w, ws, blocks, xq, xd, t, 2, out, rows, g); break;
                case 3: avx2_tile(w, ws, blocks, xq, xd, t, 3, out, rows, g); break;
                default: break;
            }
        }
    }
}

/* quantize_scalar's results, 32 values (four vectors of 8) per step; a block with a value that is not finite, or
 * whose scale's inverse is not, goes to the scalar code, as in avx512_quantize */
static AVX2_TARGET void avx2_quantize(const float *x, int n, int cols, int8_t *xq, float *xd, int32_t *xc) {
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    size_t total = (size_t) n * (cols / 32);
    for (size_t b = 0; b < total; b++) {
        const float *xb = x + 32 * b;
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        int nan = 0;
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(xb + 8 * i);
            nan |= _mm256_movemask_ps(_mm256_cmp_ps(v[i], v[i], _CMP_UNORD_Q));
            m = _mm256_max_ps(m, _mm256_and_ps(v[i], absMask));
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, m);
        float amax = 0.0f;
        for (int l = 0; l < 8; l++) {
            amax = lanes[l] > amax ? lanes[l] : amax;
        }
        if (nan || !(amax <= 3.4028235e38f)) {
            quantize_block_scalar(xb, xq + 32 * b, xd + b, xc + b);
            continue;
        }
        float d = amax / 127.0f;
        float id = d == 0.0f ? 0.0f : 1.0f / d;
        if (!(id <= 3.4028235e38f)) {
            quantize_block_scalar(xb, xq + 32 * b, xd + b, xc + b);
            continue;
        }
        const __m256 s = _mm256_set1_ps(id);
        __m256i q[4];
        __m256i sum = _mm256_setzero_si256();
        for (int i = 0; i < 4; i++) {
            __m256 r = _mm256_round_ps(_mm256_mul_ps(v[i], s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            q[i] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
            sum = _mm256_add_epi32(sum, q[i]);
        }
        /* int32 to int8 (every value is within [-127, 127]: the packs saturate nothing), then the lanes back in
         * order: packs interleave the two 128-bit halves */
        __m256i p16 = _mm256_packs_epi32(q[0], q[1]);  /* q0[0-3] q1[0-3] | q0[4-7] q1[4-7] */
        __m256i p16b = _mm256_packs_epi32(q[2], q[3]); /* q2[0-3] q3[0-3] | q2[4-7] q3[4-7] */
        __m256i p8 = _mm256_packs_epi16(p16, p16b);    /* q0[0-3] q1[0-3] q2[0-3] q3[0-3] | q0[4-7] ... */
        p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *) (xq + 32 * b), p8);
        int32_t ls[8];
        _mm256_storeu_si256((__m256i *) ls, sum);
        int32_t total8 = 0;
        for (int l = 0; l < 8; l++) {
            total8 += ls[l];
        }
        xd[b] = d;
        xc[b] = -128 * total8;
    }
}

#endif

JNIEXPORT jint JNICALL Java_io_reviver_kernel_tensor_NativeQ8_isas(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
    jint isas = ISA_SCALAR;
#ifdef REVIVER_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
        isas |= ISA_AVX512_VNNI;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        isas |= ISA_AVX2;
    }
#endif
    return isas;
}

/* Arguments are checked on the Java side (NativeQ8.product); here they are trusted. w and ws are the addresses of a
 * NativeWeights' quants and scales. Returns a STATUS_ code. */
JNIEXPORT jint JNICALL Java_io_reviver_kernel_tensor_NativeQ8_product0(
    JNIEnv *env, jclass cls, jint isa, jlong w, jlong ws, jint blocks, jint g0, jint g1, jbyteArray xq,
    jfloatArray xd, jintArray xc, jint n, jfloatArray out, jint rows) {
    (void) cls;
    /* critical regions (activations and output only): no other JNI call until released (none after a failed
     * one), the kernels only compute. Several threads write disjoint rows of one output array at once, so the JVM
     * must hand out the array itself, not a copy (HotSpot does): a copy is refused. */
    const uint8_t *pw = (const uint8_t *) (uintptr_t) w;
    const uint16_t *pws = (const uint16_t *) (uintptr_t) ws;
    jboolean copied = JNI_FALSE;
    float *pxd = NULL, *pout = NULL;
    int32_t *pxc = NULL;
    int8_t *pxq = NULL;
    jint status = STATUS_NO_ARRAY;
    if ((pxq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL)) != NULL
        && (pxd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL)) != NULL
        && (pxc = (*env)->GetPrimitiveArrayCritical(env, xc, NULL)) != NULL
        && (pout = (*env)->GetPrimitiveArrayCritical(env, out, &copied)) != NULL) {
        status = copied ? STATUS_COPIED : STATUS_OK;
    }
    if (status == STATUS_OK) {
#ifdef REVIVER_X86
        if (isa == ISA_AVX512_VNNI) {
            avx512_rows(pw, pws, blocks, g0, g1, pxq, pxd, pxc, n, pout, rows);
        } else if (isa == ISA_AVX2) {
            avx2_rows(pw, pws, blocks, g0, g1, pxq, pxd, n, pout, rows);
        } else
#endif
        {
            scalar_rows(pw, pws, blocks, g0, g1, pxq, pxd, pxc, n, pout, rows);
        }
    }
    if (pout != NULL) (*env)->ReleasePrimitiveArrayCritical(env, out, pout, status == STATUS_OK ? 0 : JNI_ABORT);
    if (pxc != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xc, pxc, JNI_ABORT);
    if (pxd != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xd, pxd, JNI_ABORT);
    if (pxq != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xq, pxq, JNI_ABORT);
    return status;
}

/* bytes of native memory (a multiple of HUGE_PAGE, checked on the Java side), aligned to HUGE_PAGE, advised as huge
 * pages and zeroed (which also places its pages now, not during the first product). Returns its address, 0 when
 * there is not that much; *advised (hugeOut[0]) is 1 when the kernel took the advice. */
JNIEXPORT jlong JNICALL Java_io_reviver_kernel_tensor_NativeQ8_allocate0(JNIEnv *env, jclass cls, jlong bytes,
                                                                        jbooleanArray hugeOut) {
    (void) cls;
    void *p = NULL;
    if (bytes <= 0 || posix_memalign(&p, HUGE_PAGE, (size_t) bytes) != 0) {
        return 0;
    }
    jboolean advised = JNI_FALSE;
#ifdef MADV_HUGEPAGE
    advised = madvise(p, (size_t) bytes, MADV_HUGEPAGE) == 0 ? JNI_TRUE : JNI_FALSE;
#endif
    memset(p, 0, (size_t) bytes);
    (*env)->SetBooleanArrayRegion(env, hugeOut, 0, 1, &advised);
    if ((*env)->ExceptionCheck(env)) { /* no room for the flag: nothing allocated, the exception stands */
        free(p);
        return 0;
    }
    return (jlong) (uintptr_t) p;
}

JNIEXPORT void JNICALL Java_io_reviver_kernel_tensor_NativeQ8_free0(JNIEnv *env, jclass cls, jlong address) {
    (void) env;
    (void) cls;
    free((void *) (uintptr_t) address);
}

/* copies src[0, length) to the native memory at address (the Java side checks the range) */
JNIEXPORT void JNICALL Java_io_reviver_kernel_tensor_NativeQ8_putBytes0(JNIEnv *env, jclass cls, jlong address,
                                                                       jbyteArray src, jint length) {
    (void) cls;
    (*env)->GetByteArrayRegion(env, src, 0, length, (jbyte *) (uintptr_t) address);
}

JNIEXPORT void JNICALL Java_io_reviver_kernel_tensor_NativeQ8_putShorts0(JNIEnv *env, jclass cls, jlong address,
                                                                        jshortArray src, jint length) {
    (void) cls;
    (*env)->GetShortArrayRegion(env, src, 0, length, (jshort *) (uintptr_t) address);
}

/* Int8Products.quantize on the given kernel; false when the JVM could not expose an array (nothing written). */
JNIEXPORT jboolean JNICALL Java_io_reviver_kernel_tensor_NativeQ8_quantize0(
    JNIEnv *env, jclass cls, jint isa, jfloatArray x, jint n, jint cols, jbyteArray xq, jfloatArray xd,
    jintArray xc) {
    (void) cls;
    float *px = NULL, *pxd = NULL;
    int8_t *pxq = NULL;
    int32_t *pxc = NULL;
    jboolean ok = (px = (*env)->GetPrimitiveArrayCritical(env, x, NULL)) != NULL
        && (pxq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL)) != NULL
        && (pxd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL)) != NULL
        && (pxc = (*env)->GetPrimitiveArrayCritical(env, xc, NULL)) != NULL;
    if (ok) {
#ifdef REVIVER_X86
        if (isa == ISA_AVX512_VNNI) {
            avx512_quantize(px, n, cols, pxq, pxd, pxc);
        } else if (isa == ISA_AVX2) {
            avx2_quantize(px, n, cols, pxq, pxd, pxc);
        } else
#endif
        {
            quantize_scalar(px, n, cols, pxq, pxd, pxc);
        }
    }
    if (pxc != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xc, pxc, 0);
    if (pxd != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xd, pxd, 0);
    if (pxq != NULL) (*env)->ReleasePrimitiveArrayCritical(env, xq, pxq, 0);
    if (px != NULL) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
    return ok;
}

/* The bandwidth probe's kernel: reads bytes [from, to) of native memory at a and returns the sum of their unsigned
 * values, so the reads cannot be dropped. Where AVX-512 runs, 64-byte loads from two streams (the range's two
 * halves) and no software prefetch: of the readers tried, the fastest (C, 2 threads over 1.3 GB: 66-81 GB/s,
 * against 53-62 for one stream prefetched as the weights are), so the benchmark's peak is the most this machine was
 * seen to read. Where only AVX2 runs, the same on 32-byte loads. */
static int64_t sum_bytes(const uint8_t *a, int64_t from, int64_t to) {
    int64_t sum = 0;
    for (int64_t i = from; i < to; i++) {
        sum += a[i];
    }
    return sum;
}

#ifdef REVIVER_X86
static AVX512_TARGET int64_t avx512_read(const uint8_t *a, int64_t from, int64_t to) {
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    __m512i s2 = _mm512_setzero_si512(), s3 = _mm512_setzero_si512();
    const __m512i zero = _mm512_setzero_si512();
    int64_t half = ((to - from) / 2) & ~(int64_t) 127;
    const uint8_t *p = a + from, *q = a + from + half;
    for (int64_t i = 0; i < half; i += 128) { /* vpsadbw against 0: the sum of each 8 unsigned bytes */
        s0 = _mm512_add_epi64(s0, _mm512_sad_epu8(_mm512_loadu_si512(p + i), zero));
        s1 = _mm512_add_epi64(s1, _mm512_sad_epu8(_mm512_loadu_si512(p + i + 64), zero));
        s2 = _mm512_add_epi64(s2, _mm512_sad_epu8(_mm512_loadu_si512(q + i), zero));
        s3 = _mm512_add_epi64(s3, _mm512_sad_epu8(_mm512_loadu_si512(q + i + 64), zero));
    }
    return _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)))
        + sum_bytes(a, from + 2 * half, to);
}

static AVX2_TARGET int64_t avx2_read(const uint8_t *a, int64_t from, int64_t to) {
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    __m256i s2 = _mm256_setzero_si256(), s3 = _mm256_setzero_si256();
    const __m256i zero = _mm256_setzero_si256();
    int64_t half = ((to - from) / 2) & ~(int64_t) 63;
    const uint8_t *p = a + from, *q = a + from + half;
    for (int64_t i = 0; i < half; i += 64) {
        s0 = _mm256_add_epi64(s0, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *) (p + i)), zero));
        s1 = _mm256_add_epi64(s1, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *) (p + i + 32)), zero));
        s2 = _mm256_add_epi64(s2, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *) (q + i)), zero));
        s3 = _mm256_add_epi64(s3, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *) (q + i + 32)), zero));
    }
    int64_t l[4];
    _mm256_storeu_si256((__m256i *) l, _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
    return l[0] + l[1] + l[2] + l[3] + sum_bytes(a, from + 2 * half, to);
}
#endif

JNIEXPORT jlong JNICALL Java_io_reviver_kernel_tensor_NativeQ8_read0(JNIEnv *env, jclass cls, jint isa,
                                                                    jlong address, jlong from, jlong to) {
    (void) env;
    (void) cls;
    const uint8_t *p = (const uint8_t *) (uintptr_t) address;
    int64_t sum = 0;
#ifdef REVIVER_X86
    if (isa == ISA_AVX512_VNNI) {
        sum = avx512_read(p, from, to);
    } else if (isa == ISA_AVX2) {
        sum = avx2_read(p, from, to);
    } else
#endif
    {
        sum = sum_bytes(p, from, to);
    }
    return sum;
}
