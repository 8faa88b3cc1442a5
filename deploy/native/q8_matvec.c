/*
 * Native reference for the engine's decode kernel: how fast can this machine's cores run a Q8_0 matrix-vector
 * product at all? Not part of the product; deploy/native-matvec.sh builds and runs it, and docs/engine-bench.md
 * compares its figures with the Java engine's.
 *
 * Matrix: rows x 2048 columns of Q8_0 (per 32-column block: 32 signed bytes, one float scale), filled from a
 * seeded xorshift generator with quants in [-127, 127]. Kernels, one output float per row:
 *   float-shifts : the Java kernel's arithmetic (JavaTensorOps, lane-group byte order): one 32-byte load per
 *                  block, four lane groups of 8 taken apart by shifts, converted to floats, multiplied with float
 *                  activations; per block a scaled add into one 8-lane accumulator.
 *   int8-madd    : activations quantised to int8 per 32-column block (as llama.cpp does for Q8_0 x Q8_0): the
 *                  32 byte products summed with vpmaddubsw / vpmaddwd (AVX2), one convert and one FMA per block.
 *   read         : no arithmetic beyond summing the same quants as 32-bit integers (8 accumulators) and the
 *                  scales as floats: the rate at which these cores stream the matrix.
 * Each is timed over whole passes (best of `passes`), rows split statically over OpenMP threads.
 * Output: one JSON object per line {kernel, threads, rows, bytes, gbPerS, nsPerBlock}.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLS 2048
#define BLOCKS (COLS / 32)

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rng_state = 20261126;
static uint64_t next_random(void) { /* xorshift64 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static float hsum(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* q: (rows, COLS) quants, block k of row r at (r * BLOCKS + k) * 32; d: (rows, BLOCKS); x: (COLS) floats in
 * lane-group order within each block (column 8j + i of the block at x[32k + 8j + i] matches byte 4i + j). */
static float row_float_shifts(const int8_t *q, const float *d, const float *x) {
    __m256 acc = _mm256_setzero_ps();
    for (int k = 0; k < BLOCKS; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *) (q + k * 32));
        const float *xc = x + k * 32;
        __m256 g0 = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24));
        __m256 g1 = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 16), 24));
        __m256 g2 = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 8), 24));
        __m256 g3 = _mm256_cvtepi32_ps(_mm256_srai_epi32(v, 24));
        __m256 s = _mm256_mul_ps(g0, _mm256_loadu_ps(xc));
        __m256 t = _mm256_mul_ps(g1, _mm256_loadu_ps(xc + 8));
        s = _mm256_fmadd_ps(g2, _mm256_loadu_ps(xc + 16), s);
        t = _mm256_fmadd_ps(g3, _mm256_loadu_ps(xc + 24), t);
        acc = _mm256_fmadd_ps(_mm256_add_ps(s, t), _mm256_broadcast_ss(d + k), acc);
    }
    return hsum(acc);
}

/* xq: (COLS) int8 activations, dx: (BLOCKS) their scales. vpmaddubsw multiplies unsigned by signed bytes, so the
 * weights' signs move onto the activations first (|w| * sign(w) x). */
static float row_int8_madd(const int8_t *q, const float *d, const int8_t *xq, const float *dx) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int k = 0; k < BLOCKS; k++) {
        __m256i w = _mm256_loadu_si256((const __m256i *) (q + k * 32));
        __m256i xv = _mm256_loadu_si256((const __m256i *) (xq + k * 32));
        __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w));
        __m256i quads = _mm256_madd_epi16(pairs, ones);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(quads), _mm256_set1_ps(d[k] * dx[k]), acc);
    }
    return hsum(acc);
}

static float row_read(const int8_t *q, const float *d) {
    __m256i a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_si256();
    for (int k = 0; k + 8 <= BLOCKS; k += 8) {
        for (int i = 0; i < 8; i++) {
            a[i] = _mm256_add_epi32(a[i], _mm256_loadu_si256((const __m256i *) (q + (k + i) * 32)));
        }
    }
    __m256 s = _mm256_setzero_ps(); /* the scales too, so that every byte counted is read */
    for (int k = 0; k < BLOCKS; k += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(d + k));
    __m256i t = a[0];
    for (int i = 1; i < 8; i++) t = _mm256_add_epi32(t, a[i]);
    return (float) _mm256_extract_epi32(t, 0) + hsum(s);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ROWS THREADS PASSES\n", argv[0]);
        return 2;
    }
    long rows = atol(argv[1]);
    int threads = atoi(argv[2]);
    int passes = atoi(argv[3]);
    if (rows < 1 || threads < 1 || passes < 1) {
        fprintf(stderr, "ROWS, THREADS and PASSES must be >= 1\n");
        return 2;
    }
    omp_set_num_threads(threads);
    int8_t *q = aligned_alloc(64, (size_t) rows * COLS);
    float *d = aligned_alloc(64, sizeof(float) * rows * BLOCKS);
    float *x = aligned_alloc(64, sizeof(float) * COLS);
    int8_t *xq = aligned_alloc(64, COLS);
    float *dx = aligned_alloc(64, sizeof(float) * BLOCKS);
    float *out = aligned_alloc(64, sizeof(float) * rows);
    if (!q || !d || !x || !xq || !dx || !out) {
        fprintf(stderr, "out of memory for %ld rows\n", rows);
        return 1;
    }
    for (size_t i = 0; i < (size_t) rows * COLS; i++) q[i] = (int8_t) ((int) (next_random() % 255) - 127);
    for (long i = 0; i < rows * BLOCKS; i++) d[i] = (float) (next_random() % 1000) * 1e-5f;
    for (int i = 0; i < COLS; i++) {
        x[i] = (float) (next_random() % 2001) * 1e-3f - 1.0f;
        xq[i] = (int8_t) ((int) (next_random() % 255) - 127);
    }
    for (int k = 0; k < BLOCKS; k++) dx[k] = 1.0f / 127;
    double bytes = (double) rows * COLS + 4.0 * rows * BLOCKS;
    const char *names[3] = {"float-shifts", "int8-madd", "read"};
    for (int kernel = 0; kernel < 3; kernel++) {
        double best = 1e30;
        for (int pass = 0; pass < passes; pass++) {
            double t0 = seconds();
#pragma omp parallel for schedule(static)
            for (long r = 0; r < rows; r++) {
                const int8_t *qr = q + (size_t) r * COLS;
                const float *dr = d + r * BLOCKS;
                out[r] = kernel == 0 ? row_float_shifts(qr, dr, x)
                       : kernel == 1 ? row_int8_madd(qr, dr, xq, dx) : row_read(qr, dr);
            }
            double t = seconds() - t0;
            if (t < best) best = t;
        }
        volatile float sink = out[rows - 1];
        (void) sink;
        printf("{\"kernel\": \"%s\", \"threads\": %d, \"rows\": %ld, \"bytes\": %.0f, \"gbPerS\": %.2f, "
               "\"nsPerBlock\": %.3f}\n", names[kernel], threads, rows, bytes, bytes / best / 1e9,
               best * 1e9 * threads / ((double) rows * BLOCKS));
    }
    return 0;
}
