// The native forward kernel, compiled once per instruction set by scripts/build-native.mjs
// (-DNNPIPE_ISA=avx512 with -mavx512*, avx2 with -mavx2, sse2 with no flags; one generic build off x86)
// and chosen at run time by addon.cc. Written with GCC vector extensions, LANES floats per vector.
//
// Exactness: the same float32 operations, in the same order, as forward-kernel.wat, so its results are
// the WebAssembly engine's bit for bit (kernels-native.test.ts checks it for every instruction set):
//   - every output column is ((0 + x[k1] w[k1]) + x[k2] w[k2] + ...) + b, k ascending, one rounding per
//     multiply and per add (built with -ffp-contract=off: no fused multiply-add, no reassociation);
//   - zero inputs may be skipped or not: a sum that starts at +0 never becomes -0, so adding a zero
//     product (weights are finite) never changes it;
//   - the sigmoid is the .wat's Cephes exp polynomial, operation for operation.
// Vector width only changes how many columns are computed at once, never a column's arithmetic.
//
// Schedule: tiles of kTileRows rows go through every layer before the next tile, so activations stay in
// L1. The first layer skips zero inputs (MNIST pixels are ~80% zero): per row, the nonzero inputs are
// compacted into a list (AVX-512: vcompressps; AVX2: a permutation table), and each listed input adds
// its contiguous W row slice into accumulators held in registers; the inputs go in blocks whose W rows
// stay in L1 while every row of the tile uses them. Later layers are dense and register-blocked: a
// block of R rows x C vectors of columns accumulates in registers, so each loaded W vector serves R
// rows and each broadcast input serves C vectors.
#include "kernel.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_*() (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

#ifndef NNPIPE_ISA
#error "compile with -DNNPIPE_ISA=<name> (scripts/build-native.mjs does)"
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define NNPIPE_LANES 16
#define NNPIPE_DENSE_R 4
#define NNPIPE_DENSE_C 4
#elif defined(__AVX2__)
#define NNPIPE_LANES 8
#define NNPIPE_DENSE_R 3
#define NNPIPE_DENSE_C 3
#else
#define NNPIPE_LANES 4
#define NNPIPE_DENSE_R 3
#define NNPIPE_DENSE_C 3
#endif
/** Widest column block of the sparse first layer (accumulators in registers). */
constexpr int32_t kSparseC = 8;

namespace nnpipe {
namespace NNPIPE_ISA {

extern const int32_t kLanes = NNPIPE_LANES;  // extern: a namespace-scope const is internal otherwise
constexpr int L = NNPIPE_LANES;

typedef float vf __attribute__((vector_size(L * 4)));
typedef uint32_t vu __attribute__((vector_size(L * 4)));

// memcpy: unaligned and alias-safe; compiles to one vector load/store.
static inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
static inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
static inline vf splat(float s) {
  const vf lane0 = {s};
  return __builtin_shuffle(lane0, vu{});  // one broadcast (vf{} + s would add 0 first, a loop inserts lane by lane)
}

// ---- first layer: compaction of the nonzero inputs ------------------------------------------------

/** Scalar compaction of x[k], k in [from, to): branch-free (write, then advance past a nonzero). */
static inline int32_t compactTail(const float* x, int32_t from, int32_t to, int32_t base, int32_t nPad, float* vals, int32_t* offs, int32_t n) {
  for (int32_t k = from; k < to; k++) {
    const float v = x[k];
    vals[n] = v;
    offs[n] = (base + k) * nPad;
    n += v != 0.0f;  // -0 counts as zero, NaN as nonzero
  }
  return n;
}

/**
 * Left-packs the nonzero x[k], k < inputs, into vals and the offsets of their W rows ((base + k) * nPad
 * floats) into offs; returns how many. The lists have room for 16 entries past the last input (group
 * stores run past the count).
 */
static int32_t compactFloats(const float* x, int32_t inputs, int32_t base, int32_t nPad, float* vals, int32_t* offs) {
  int32_t n = 0;
  int32_t k = 0;
#if NNPIPE_LANES == 16
  const __m512 zero = _mm512_setzero_ps();
  __m512i kOffs = _mm512_mullo_epi32(_mm512_set1_epi32(nPad), _mm512_setr_epi32(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8, base + 9, base + 10, base + 11, base + 12, base + 13, base + 14, base + 15));
  const __m512i step = _mm512_set1_epi32(16 * nPad);
  for (; k + 16 <= inputs; k += 16) {
    const __m512 v = _mm512_loadu_ps(x + k);
    const __mmask16 m = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
    _mm512_storeu_ps(vals + n, _mm512_maskz_compress_ps(m, v));
    _mm512_storeu_si512(offs + n, _mm512_maskz_compress_epi32(m, kOffs));
    n += __builtin_popcount(m);
    kOffs = _mm512_add_epi32(kOffs, step);
  }
#elif NNPIPE_LANES == 8
  alignas(32) static int32_t table[256][8];  // entry m: the lanes set in m, in order (filled once)
  static const bool filled = [] {
    for (int m = 0; m < 256; m++) {
      int j = 0;
      for (int lane = 0; lane < 8; lane++) if (m & (1 << lane)) table[m][j++] = lane;
      while (j < 8) table[m][j++] = 0;
    }
    return true;
  }();
  (void)filled;
  const __m256 zero = _mm256_setzero_ps();
  __m256i kOffs = _mm256_mullo_epi32(_mm256_set1_epi32(nPad), _mm256_setr_epi32(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7));
  const __m256i step = _mm256_set1_epi32(8 * nPad);
  for (; k + 8 <= inputs; k += 8) {
    const __m256 v = _mm256_loadu_ps(x + k);
    const int m = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
    const __m256i perm = _mm256_load_si256(reinterpret_cast<const __m256i*>(table[m]));
    _mm256_storeu_ps(vals + n, _mm256_permutevar8x32_ps(v, perm));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(offs + n), _mm256_permutevar8x32_epi32(kOffs, perm));
    n += __builtin_popcount(m);
    kOffs = _mm256_add_epi32(kOffs, step);
  }
#else
  // Groups of 8 that are all (±)zero cost one test: MNIST rows have long zero runs.
  for (; k + 8 <= inputs; k += 8) {
    uint32_t any = 0;
    for (int j = 0; j < 8; j++) {
      uint32_t bits;
      std::memcpy(&bits, x + k + j, 4);
      any |= bits << 1;  // drops the sign: -0 counts as zero
    }
    if (any != 0) n = compactTail(x, k, k + 8, base, nPad, vals, offs, n);
  }
#endif
  return compactTail(x, k, inputs, base, nPad, vals, offs, n);
}

/** The same for bytes (pixels): value = float(byte) / divisor, correctly rounded, as layerBytes in the .wat. */
static int32_t compactBytes(const uint8_t* x, int32_t inputs, float divisor, int32_t base, int32_t nPad, float* vals, int32_t* offs) {
  int32_t n = 0;
  int32_t k = 0;
#if NNPIPE_LANES == 16
  const __m512 div = _mm512_set1_ps(divisor);
  __m512i kOffs = _mm512_mullo_epi32(_mm512_set1_epi32(nPad), _mm512_setr_epi32(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8, base + 9, base + 10, base + 11, base + 12, base + 13, base + 14, base + 15));
  const __m512i step = _mm512_set1_epi32(16 * nPad);
  for (; k + 16 <= inputs; k += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k));
    const __mmask16 m = _mm_cmpneq_epi8_mask(bytes, _mm_setzero_si128());
    const __m512 v = _mm512_div_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)), div);
    _mm512_storeu_ps(vals + n, _mm512_maskz_compress_ps(m, v));
    _mm512_storeu_si512(offs + n, _mm512_maskz_compress_epi32(m, kOffs));
    n += __builtin_popcount(m);
    kOffs = _mm512_add_epi32(kOffs, step);
  }
#endif
  for (; k < inputs; k++) {
    const float v = static_cast<float>(x[k]) / divisor;
    vals[n] = v;
    offs[n] = (base + k) * nPad;
    n += x[k] != 0;
  }
  return n;
}

/**
 * C vectors of one row: acc[c] += vals[i] * W[offs[i] + c * L] for the entries i in [from, to), the
 * accumulators loaded from and stored back to `out` (the row's running sums).
 */
template <int C>
static void sparseBlock(const float* vals, const int32_t* offs, int32_t from, int32_t to, const float* w, float* out) {
  vf acc[C];
#pragma GCC unroll 16
  for (int c = 0; c < C; c++) acc[c] = load(out + c * L);
  for (int32_t i = from; i < to; i++) {
    const vf s = splat(vals[i]);
    const float* wp = w + offs[i];
#pragma GCC unroll 16
    for (int c = 0; c < C; c++) acc[c] = acc[c] + s * load(wp + c * L);
  }
#pragma GCC unroll 16
  for (int c = 0; c < C; c++) store(out + c * L, acc[c]);
}

typedef void (*SparseBlockFn)(const float*, const int32_t*, int32_t, int32_t, const float*, float*);
static const SparseBlockFn kSparseBlocks[kSparseC + 1] = {
    nullptr, sparseBlock<1>, sparseBlock<2>, sparseBlock<3>, sparseBlock<4>, sparseBlock<5>, sparseBlock<6>, sparseBlock<7>, sparseBlock<8>,
};

/**
 * The first layer for `tile` rows. Every row's nonzero inputs are compacted first; then the inputs are
 * walked in blocks of kBlockInputs (their W rows, kBlockInputs x nPad floats, stay in L1 while every row
 * of the tile uses them), each row adding its entries of the block to its running sums in `out`. A
 * column's sum still runs over k ascending (block after block), then the bias is added: the .wat's
 * order. (Software prefetching of the next tile's rows was measured: no gain over the hardware's.)
 */
static void sparseTile(const Layer& layer, const Scratch& s, const void* x, float divisor, int32_t tile, float* out) {
  const int32_t inputs = layer.inputs;
  const int32_t blocks = (inputs + kBlockInputs - 1) / kBlockInputs;
  int32_t* starts = s.blockStarts;  // tile x (blocks + 1): where each block's entries begin in a row's list
  for (int32_t r = 0; r < tile; r++) {
    float* vals = s.vals + static_cast<size_t>(r) * s.listStride;
    int32_t* offs = s.offs + static_cast<size_t>(r) * s.listStride;
    int32_t* at = starts + r * (blocks + 1);
    int32_t n = 0;
    for (int32_t b = 0; b < blocks; b++) {
      at[b] = n;
      const int32_t from = b * kBlockInputs;
      const int32_t count = inputs - from < kBlockInputs ? inputs - from : kBlockInputs;
      n += divisor > 0.0f ? compactBytes(static_cast<const uint8_t*>(x) + static_cast<size_t>(r) * inputs + from, count, divisor, from, layer.nPad, vals + n, offs + n)
                          : compactFloats(static_cast<const float*>(x) + static_cast<size_t>(r) * inputs + from, count, from, layer.nPad, vals + n, offs + n);
    }
    at[blocks] = n;
  }
  std::memset(out, 0, sizeof(float) * tile * layer.nPad);
  const int32_t vectors = layer.nPad / L;
  for (int32_t b = 0; b < blocks; b++) {
    for (int32_t r = 0; r < tile; r++) {
      const float* vals = s.vals + static_cast<size_t>(r) * s.listStride;
      const int32_t* offs = s.offs + static_cast<size_t>(r) * s.listStride;
      const int32_t* at = starts + r * (blocks + 1);
      float* row = out + static_cast<size_t>(r) * layer.nPad;
      // The row's vectors in as few, as even passes as possible (accumulators in registers).
      int32_t left = vectors;
      int32_t column = 0;
      for (int32_t passes = (vectors + kSparseC - 1) / kSparseC; passes > 0; passes--) {
        const int32_t width = (left + passes - 1) / passes;
        kSparseBlocks[width](vals, offs, at[b], at[b + 1], layer.w + column, row + column);
        column += width * L;
        left -= width;
      }
    }
  }
  for (int32_t r = 0; r < tile; r++) {
    float* row = out + static_cast<size_t>(r) * layer.nPad;
    for (int32_t c = 0; c < layer.nPad; c += L) store(row + c, load(row + c) + load(layer.b + c));
  }
}

// ---- later layers: dense, register-blocked -------------------------------------------------------

/** R rows x C vectors: out[r][c] = sum over k of x[r][k] * W[k][c] + b[c], k ascending. */
template <int R, int C>
static void denseBlock(const float* x, int32_t xStride, int32_t inputs, const float* w, int32_t wStride, const float* b, float* out, int32_t outStride) {
  vf acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; r++)
#pragma GCC unroll 16
    for (int c = 0; c < C; c++) acc[r][c] = vf{};
  for (int32_t k = 0; k < inputs; k++) {
    const float* wp = w + static_cast<size_t>(k) * wStride;
    vf wv[C];
#pragma GCC unroll 16
    for (int c = 0; c < C; c++) wv[c] = load(wp + c * L);
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
      const vf s = splat(x[r * xStride + k]);
#pragma GCC unroll 16
      for (int c = 0; c < C; c++) acc[r][c] = acc[r][c] + s * wv[c];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; r++)
#pragma GCC unroll 16
    for (int c = 0; c < C; c++) store(out + r * outStride + c * L, acc[r][c] + load(b + c * L));
}

typedef void (*DenseBlockFn)(const float*, int32_t, int32_t, const float*, int32_t, const float*, float*, int32_t);

template <int R>
struct DenseRow {
  static constexpr DenseBlockFn fns[NNPIPE_DENSE_C + 1] = {
      nullptr, denseBlock<R, 1>, denseBlock<R, 2>, denseBlock<R, 3>,
#if NNPIPE_DENSE_C >= 4
      denseBlock<R, 4>,
#endif
  };
};

static DenseBlockFn denseBlockFor(int r, int c) {
  switch (r) {
    case 1: return DenseRow<1>::fns[c];
    case 2: return DenseRow<2>::fns[c];
    case 3: return DenseRow<3>::fns[c];
#if NNPIPE_DENSE_R >= 4
    case 4: return DenseRow<4>::fns[c];
#endif
  }
  return nullptr;
}

/** `rows` rows of a dense layer: x rows xStride apart, out rows layer.nPad apart. */
static void denseTile(const float* x, int32_t xStride, int32_t rows, const Layer& layer, float* out) {
  const int32_t vectors = layer.nPad / L;
  for (int32_t r = 0; r < rows; r += NNPIPE_DENSE_R) {
    const int32_t height = rows - r < NNPIPE_DENSE_R ? rows - r : NNPIPE_DENSE_R;
    int32_t left = vectors;
    int32_t passes = (vectors + NNPIPE_DENSE_C - 1) / NNPIPE_DENSE_C;
    int32_t column = 0;
    for (; passes > 0; passes--) {
      const int32_t width = (left + passes - 1) / passes;
      denseBlockFor(height, width)(x + static_cast<size_t>(r) * xStride, xStride, layer.inputs, layer.w + column, layer.nPad, layer.b + column,
                                   out + static_cast<size_t>(r) * layer.nPad + column, layer.nPad);
      column += width * L;
      left -= width;
    }
  }
}

// ---- activations ---------------------------------------------------------------------------------

/** forward-kernel.wat's sigmoid, operation for operation (see the comments there). */
static inline vf sigmoid(vf v) {
  vf t = (vf)((vu)v | 0x80000000u);  // -|v|
  const vf floor = splat(-87.3f);
  t = t < floor ? floor : t;  // pmax: a NaN t stays NaN
  vf y = t * 1.44269504088896341f + 12582912.0f;
  const vf n = y - 12582912.0f;
  const vf scale = (vf)(((vu)y + 0xb4c0007fu) << 23);  // 2^n
  vf r = t - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  y = splat(1.9875691500e-4f);
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = (y * (r * r) + r) + 1.0f;
  const vf e = y * scale;
  const vf d = 1.0f / (1.0f + e);
  return v >= 0.0f ? d : e * d;
}

/** In place on `count` floats (a multiple of L): 1 relu, 2 step, 3 sigmoid; rules as activations.ts. */
static void activate(float* p, int32_t count, int32_t activation) {
  if (activation == kIdentity) return;
  for (int32_t i = 0; i < count; i += L) {
    const vf v = load(p + i);
    vf out;
    if (activation == kSigmoid) out = sigmoid(v);
    else if (activation == kRelu) out = v > 0.0f ? v : (v == v ? vf{} : v);  // -0 -> +0, NaN stays
    else out = v > 0.0f ? splat(1.0f) : vf{};                                // step(NaN) = 0
    store(p + i, out);
  }
}

// ---- the whole pass ------------------------------------------------------------------------------

void forward(const Net& net, const Scratch& scratch, const void* x, float divisor, int32_t rows, float* logits) {
  const Layer& first = net.layers[0];
  const int32_t last = net.layerCount - 1;
  const Layer& top = net.layers[last];
  const size_t rowBytes = static_cast<size_t>(first.inputs) * (divisor > 0.0f ? 1 : 4);
  const char* input = static_cast<const char*>(x);
  for (int32_t r0 = 0; r0 < rows; r0 += kTileRows) {
    const int32_t tile = rows - r0 < kTileRows ? rows - r0 : kTileRows;
    sparseTile(first, scratch, input + r0 * rowBytes, divisor, tile, scratch.tile[0]);
    for (int32_t k = 1; k <= last; k++) {
      activate(scratch.tile[k - 1], tile * net.layers[k - 1].nPad, net.activation);
      denseTile(scratch.tile[k - 1], net.layers[k - 1].nPad, tile, net.layers[k], scratch.tile[k]);
    }
    const float* result = scratch.tile[last];
    for (int32_t r = 0; r < tile; r++) {
      std::memcpy(logits + static_cast<size_t>(r0 + r) * top.outputs, result + static_cast<size_t>(r) * top.nPad, top.outputs * sizeof(float));
    }
  }
}

}  // namespace NNPIPE_ISA
}  // namespace nnpipe
