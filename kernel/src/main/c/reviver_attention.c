/*
 * Reviver's native decode attention (JNI), called by io.reviver.kernel.tensor.NativeAttention. Built into the same
 * library as the int8 products (reviver_int8.c).
 *
 * One call is the attention of one KV head's group of query heads against one sequence's entries, the step
 * ElementOps.attend defines: scores, a softmax per head, the weighted values. Its arithmetic is that of
 * io.reviver.kernel.model.ElementOps.vector() on 16 float lanes as JDK 17 compiles it, operation for operation, so
 * the two give the same bits, NaN payloads aside (build with -ffp-contract=off, so the compiler fuses nothing that
 * is not named here):
 *
 *   score[h, j] = S(chain) * scale, chain = fma(q[h, 15 + 16 i ..], k[j, ..], ... fma(q[h, 0..15], k[j, 0..15], 0))
 *                 lane-wise over the width's 16-float groups in order, S = ElementOps' butterfly lane sum: lanes
 *                 i and i ^ 8 added, then i ^ 4, i ^ 2, i ^ 1 (the result of lane 0);
 *   softmax       max; e = VectorExp's exponential of (x - max) in 16-lane groups, their lane-wise running sum
 *                 added lane 0 to 15 in order from 0 in float, then the leftover entries' e added in double;
 *                 every entry times (float) (1 / sum);
 *   out[h, c]     = fma(v[len - 1, c], w[h, len - 1], ... fma(v[0, c], w[h, 0], 0)) in order of j.
 *
 * The scores of 16 positions are summed together: each position's 16-lane vector of products, and the four levels
 * of the butterfly applied to 16 such vectors at once with shuffles (each level pairs the same lanes as the one-
 * vector butterfly, so each position's sum is the same tree), leaving position p's sum in lane p. Keys and values
 * are read once per call, in order, each block of 16 rows prefetched while the one before is computed: a C harness
 * over 8 sequences' caches of the 1B model's shapes (320 positions, one thread, medians of 8 alternated rounds) ran
 * 24.8 ns per position and KV head so, against 32.7 without software prefetch and 27.2 with each block prefetched
 * only as it starts.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define REVIVER_X86 1
#endif

/* what attend0 returns (NativeAttention.attend) */
#define STATUS_OK 0
#define STATUS_NO_ARRAY 1 /* the JVM could not expose an array: nothing computed */
#define STATUS_COPIED 2   /* the JVM exposed a copy of an array: nothing computed */

/* VectorExp's constants, the same floats */
#define EXP_LOG2E 1.44269504088896341f
#define EXP_LN2_HI 0.693359375f
#define EXP_LN2_LO (-2.12194440e-4f)
#define EXP_ROUND 12582912.0f /* 1.5 * 2^23 */
#define EXP_ROUND_BITS 0x4B400000
#define EXP_LO (-104.0f)
#define EXP_HI 89.0f
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f


/* VectorExp.exp: one lane's arithmetic, in the same order (Java's Math.min/max keep NaN) */
static float exp_lane(float x) {
    float c = x != x ? x : x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
    float t = fmaf(c, EXP_LOG2E, EXP_ROUND);
    float nf = t - EXP_ROUND;
    float r = fmaf(nf, -EXP_LN2_HI, c);
    r = fmaf(nf, -EXP_LN2_LO, r);
    float p = fmaf(r, EXP_P0, EXP_P1);
    p = fmaf(p, r, EXP_P2);
    p = fmaf(p, r, EXP_P3);
    p = fmaf(p, r, EXP_P4);
    p = fmaf(p, r, EXP_P5);
    float y = fmaf(p, r * r, r) + 1.0f;
    int32_t tb;
    memcpy(&tb, &t, sizeof tb);
    int32_t n = tb - EXP_ROUND_BITS;
    int32_t n1 = n >> 1;
    int32_t n2 = n - n1;
    uint32_t b1 = (uint32_t) (n1 + 127) << 23, b2 = (uint32_t) (n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return y * s1 * s2;
}

#ifdef REVIVER_X86
#define AVX512F_TARGET __attribute__((target("avx512f")))

/* slot s of a 16-position block holds position SLOT[s]: the shuffles below leave slot s's sum in lane SLOT[s]
 * (an involution: SLOT[SLOT[s]] = s), so placing position SLOT[s] there leaves position p's sum in lane p */
static const int SLOT[16] = {0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15};

/* lane SLOT[s] of the result: the butterfly sum of a[s] (ElementOps' tree) */
static inline __attribute__((always_inline)) AVX512F_TARGET __m512 sum16(const __m512 a[16]) {
    __m512 b[8], c[4], d[2];
    /* i and i ^ 8: b[p] holds a[p]'s 8 sums in lanes 0-7 and a[p + 8]'s in lanes 8-15 */
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) {
        b[p] = _mm512_add_ps(_mm512_shuffle_f32x4(a[p], a[p + 8], 0x44), _mm512_shuffle_f32x4(a[p], a[p + 8], 0xEE));
    }
    /* i and i ^ 4: c[p]'s quarters hold the 4 sums of a[p], a[p + 8], a[p + 4], a[p + 12] */
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++) {
        c[p] = _mm512_add_ps(_mm512_shuffle_f32x4(b[p], b[p + 4], 0x88), _mm512_shuffle_f32x4(b[p], b[p + 4], 0xDD));
    }
    /* i and i ^ 2: each quarter of d[p] holds 2 sums of c[p]'s quarter, then 2 of c[p + 2]'s */
#pragma GCC unroll 2
    for (int p = 0; p < 2; p++) {
        d[p] = _mm512_add_ps(_mm512_shuffle_ps(c[p], c[p + 2], 0x44), _mm512_shuffle_ps(c[p], c[p + 2], 0xEE));
    }
    /* i and i ^ 1: quarter Q holds the sums of quarter Q of c[0], c[2], c[1], c[3] */
    return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
}

/* scores of one head (W 16-float groups) for positions [j0, j0 + count), count <= 16, into s[j0, j0 + count) */
static inline __attribute__((always_inline)) AVX512F_TARGET void
score_block(const __m512 *qv, int W, const float *k, int stride, int j0, int count, __m512 scale, float *s) {
    __m512 a[16];
#pragma GCC unroll 16
    for (int slot = 0; slot < 16; slot++) {
        int p = SLOT[slot];
        __m512 acc = _mm512_setzero_ps();
        if (p < count) {
            const float *row = k + (size_t) (j0 + p) * stride;
#pragma GCC unroll 16
            for (int c = 0; c < W; c++) {
                acc = _mm512_fmadd_ps(qv[c], _mm512_loadu_ps(row + 16 * c), acc);
            }
        }
        a[slot] = acc;
    }
    __m512 r = _mm512_mul_ps(sum16(a), scale);
    _mm512_mask_storeu_ps(s + j0, count >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << count) - 1), r);
}

/* score_block for four 64-wide heads at once over a whole block: each key row is loaded once and serves the four
 * heads, where score_block loads it once per head (the same chains and sums, so the same bits). With 4 query heads
 * per KV head (the 1B model's shape), a C harness of a B=8 decode step's attention (8 sequences' caches, 230
 * positions, 2 threads, from memory, four alternated rounds) took 4.1-5.0 ms against 5.3-5.5 with score_block, and
 * 0.19-0.20 ms against 0.21-0.25 for one sequence's caches in L2. */
static inline __attribute__((always_inline)) AVX512F_TARGET void
score_block_4x64(const float *q, const float *k, int stride, int j0, __m512 scale, float *s, int sStride) {
    __m512 qv[4][4];
#pragma GCC unroll 4
    for (int h = 0; h < 4; h++) {
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            qv[h][c] = _mm512_loadu_ps(q + (size_t) h * 64 + 16 * c);
        }
    }
    __m512 a[4][16];
#pragma GCC unroll 16
    for (int slot = 0; slot < 16; slot++) {
        const float *row = k + (size_t) (j0 + SLOT[slot]) * stride;
        __m512 k0 = _mm512_loadu_ps(row), k1 = _mm512_loadu_ps(row + 16);
        __m512 k2 = _mm512_loadu_ps(row + 32), k3 = _mm512_loadu_ps(row + 48);
#pragma GCC unroll 4
        for (int h = 0; h < 4; h++) {
            __m512 acc = _mm512_fmadd_ps(qv[h][0], k0, _mm512_setzero_ps());
            acc = _mm512_fmadd_ps(qv[h][1], k1, acc);
            acc = _mm512_fmadd_ps(qv[h][2], k2, acc);
            a[h][slot] = _mm512_fmadd_ps(qv[h][3], k3, acc);
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < 4; h++) {
        _mm512_storeu_ps(s + (size_t) h * sStride + j0, _mm512_mul_ps(sum16(a[h]), scale));
    }
}

static AVX512F_TARGET void scores(const float *q, int heads, int width, float scale, const float *k, int stride,
                                  int len, float *s, int sStride) {
    const int W = width / 16;
    const __m512 vs = _mm512_set1_ps(scale);
    const int lines = (width * 4 + 63) / 64;
    for (int j0 = 0; j0 < len; j0 += 16) {
        int count = len - j0 < 16 ? len - j0 : 16;
        for (int r = 0; r < 16; r++) { /* the next block's keys (prefetches never fault: past the end harmless) */
            const char *row = (const char *) (k + (size_t) (j0 + 16 + r) * stride);
            for (int l = 0; l < lines; l++) {
                _mm_prefetch(row + 64 * l, _MM_HINT_T0);
            }
        }
        if (W == 4 && heads == 4 && count == 16) {
            score_block_4x64(q, k, stride, j0, vs, s, sStride);
            continue;
        }
        for (int h = 0; h < heads; h++) {
            __m512 qv[16]; /* width <= 256 */
            for (int c = 0; c < W; c++) {
                qv[c] = _mm512_loadu_ps(q + (size_t) h * width + 16 * c);
            }
            if (W == 4 && count == 16) { /* 64-wide heads, a whole block: the loops fully unrolled */
                score_block(qv, 4, k, stride, j0, 16, vs, s + (size_t) h * sStride);
            } else {
                score_block(qv, W, k, stride, j0, count, vs, s + (size_t) h * sStride);
            }
        }
    }
}

static AVX512F_TARGET void softmax(float *x, int len) {
    const int bound = len & ~15;
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    __mmask16 nan = 0;
    for (int i = 0; i < bound; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        vmax = _mm512_max_ps(vmax, v);
    }
    float max = bound > 0 ? _mm512_reduce_max_ps(vmax) : -INFINITY;
    for (int i = bound; i < len; i++) {
        if (x[i] != x[i]) {
            nan = 1;
        } else if (x[i] > max) {
            max = x[i];
        }
    }
    if (nan) {
        max = NAN; /* Java's max keeps NaN: every weight is then NaN */
    }
    const __m512 shift = _mm512_set1_ps(max), lo = _mm512_set1_ps(EXP_LO), hi = _mm512_set1_ps(EXP_HI);
    const __m512 round = _mm512_set1_ps(EXP_ROUND), one = _mm512_set1_ps(1.0f);
    __m512 sum = _mm512_setzero_ps();
    for (int i = 0; i < bound; i += 16) {
        __m512 xv = _mm512_sub_ps(_mm512_loadu_ps(x + i), shift);
        /* max_ps and min_ps return their second operand when either is NaN: NaN stays NaN, as in Java */
        __m512 c = _mm512_min_ps(hi, _mm512_max_ps(lo, xv));
        __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(EXP_LOG2E), round);
        __m512 nf = _mm512_sub_ps(t, round);
        __m512 r = _mm512_fmadd_ps(nf, _mm512_set1_ps(-EXP_LN2_HI), c);
        r = _mm512_fmadd_ps(nf, _mm512_set1_ps(-EXP_LN2_LO), r);
        __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(EXP_P0), _mm512_set1_ps(EXP_P1));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P2));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P3));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P4));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P5));
        __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), one);
        __m512i n = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(EXP_ROUND_BITS));
        __m512i n1 = _mm512_srai_epi32(n, 1);
        __m512i n2 = _mm512_sub_epi32(n, n1);
        __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, _mm512_set1_epi32(127)), 23));
        __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, _mm512_set1_epi32(127)), 23));
        __m512 e = _mm512_mul_ps(_mm512_mul_ps(y, s1), s2);
        sum = _mm512_add_ps(sum, e);
        _mm512_storeu_ps(x + i, e);
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, sum);
    float fsum = 0.0f; /* the lanes in order, as JDK 17's reduceLanes(ADD) adds them */
    for (int l = 0; l < 16; l++) {
        fsum += lanes[l];
    }
    double total = fsum;
    for (int i = bound; i < len; i++) {
        float e = exp_lane(x[i] - max);
        x[i] = e;
        total += e;
    }
    float inv = (float) (1.0 / total);
    const __m512 vinv = _mm512_set1_ps(inv);
    int i = 0;
    for (; i < bound; i += 16) {
        _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vinv));
    }
    for (; i < len; i++) {
        x[i] *= inv;
    }
}

/* out[h, c0 .. c0 + 16 CW) for heads [h0, h0 + H), H <= 4 and CW <= 4 compile-time constants after inlining */
static inline __attribute__((always_inline)) AVX512F_TARGET void
weighted_tile(const float *w, int wStride, int h0, const int H, const float *v, int stride, int len, int c0,
              const int CW, int width, float *out) {
    __m512 acc[4][4];
    for (int h = 0; h < H; h++) {
        for (int c = 0; c < CW; c++) {
            acc[h][c] = _mm512_setzero_ps();
        }
    }
    for (int j = 0; j < len; j++) {
        const float *row = v + (size_t) j * stride + c0;
        if ((j & 15) == 0) { /* the next 16 rows' part of the values, as for the keys */
            for (int r = 16; r < 32; r++) {
                for (int l = 0; l < CW; l++) {
                    _mm_prefetch((const char *) (row + (size_t) r * stride + 16 * l), _MM_HINT_T0);
                }
            }
        }
        __m512 pw[4];
        for (int h = 0; h < H; h++) {
            pw[h] = _mm512_set1_ps(w[(size_t) (h0 + h) * wStride + j]);
        }
        for (int c = 0; c < CW; c++) {
            __m512 vv = _mm512_loadu_ps(row + 16 * c);
            for (int h = 0; h < H; h++) {
                acc[h][c] = _mm512_fmadd_ps(vv, pw[h], acc[h][c]);
            }
        }
    }
    for (int h = 0; h < H; h++) {
        for (int c = 0; c < CW; c++) {
            _mm512_storeu_ps(out + (size_t) (h0 + h) * width + c0 + 16 * c, acc[h][c]);
        }
    }
}

static AVX512F_TARGET void weighted(const float *w, int wStride, int heads, const float *v, int stride, int len,
                                    int width, float *out) {
    const int W = width / 16;
    for (int c0 = 0; c0 < W; c0 += 4) {
        int cw = W - c0 < 4 ? W - c0 : 4;
        int h0 = 0;
        if (cw == 4) {
            for (; h0 + 4 <= heads; h0 += 4) {
                weighted_tile(w, wStride, h0, 4, v, stride, len, 16 * c0, 4, width, out);
            }
        }
        for (; h0 < heads; h0++) { /* one head at a time: each column's chain is the same whatever the grouping */
            switch (cw) {
                case 1: weighted_tile(w, wStride, h0, 1, v, stride, len, 16 * c0, 1, width, out); break;
                case 2: weighted_tile(w, wStride, h0, 1, v, stride, len, 16 * c0, 2, width, out); break;
                case 3: weighted_tile(w, wStride, h0, 1, v, stride, len, 16 * c0, 3, width, out); break;
                default: weighted_tile(w, wStride, h0, 1, v, stride, len, 16 * c0, 4, width, out); break;
            }
        }
    }
}
#endif

JNIEXPORT jboolean JNICALL Java_io_reviver_kernel_tensor_NativeAttention_supported0(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
#ifdef REVIVER_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? JNI_TRUE : JNI_FALSE;
#else
    return JNI_FALSE;
#endif
}

/* Arguments are checked on the Java side (NativeAttention.attend): width a multiple of 16 up to 256, len >= 1,
 * every range inside its array; the CPU has AVX-512F. Returns a STATUS_ code. */
JNIEXPORT jint JNICALL Java_io_reviver_kernel_tensor_NativeAttention_attend0(
    JNIEnv *env, jclass cls, jfloatArray q, jint qOff, jint heads, jint width, jfloat scale, jfloatArray k,
    jfloatArray v, jint kvOff, jint stride, jint len, jfloatArray scoresArr, jint sOff, jint sStride,
    jfloatArray out, jint outOff) {
    (void) cls;
#ifdef REVIVER_X86
    /* critical regions: no other JNI call until released, the code between only computes. Several threads write
     * disjoint parts of one output array at once, so a copy (which would be written back whole) is refused. */
    jfloatArray arrays[5] = {q, k, v, scoresArr, out};
    float *ptr[5] = {NULL, NULL, NULL, NULL, NULL};
    jint status = STATUS_OK;
    int got = 0;
    for (; got < 5; got++) {
        jboolean copied = JNI_FALSE;
        ptr[got] = (float *) (*env)->GetPrimitiveArrayCritical(env, arrays[got], &copied);
        if (ptr[got] == NULL) {
            status = STATUS_NO_ARRAY;
            break;
        }
        if (copied) {
            status = STATUS_COPIED;
            got++;
            break;
        }
    }
    if (status == STATUS_OK) {
        float *s = ptr[3] + sOff;
        scores(ptr[0] + qOff, heads, width, scale, ptr[1] + kvOff, stride, len, s, sStride);
        for (int h = 0; h < heads; h++) {
            softmax(s + (size_t) h * sStride, len);
        }
        weighted(s, sStride, heads, ptr[2] + kvOff, stride, len, width, ptr[4] + outOff);
    }
    while (got > 0) {
        got--;
        /* inputs and refused copies are dropped; the outputs (the arrays themselves) kept */
        (*env)->ReleasePrimitiveArrayCritical(env, arrays[got], ptr[got],
                                              status == STATUS_OK && got >= 3 ? 0 : JNI_ABORT);
    }
    return status;
#else
    (void) env; (void) q; (void) qOff; (void) heads; (void) width; (void) scale; (void) k; (void) v; (void) kvOff;
    (void) stride; (void) len; (void) scoresArr; (void) sOff; (void) sStride; (void) out; (void) outOff;
    return STATUS_NO_ARRAY;
#endif
}
