// Linear recurrence h_t = a_t * h_{t-1} + b_t over (B, L, D) tensors, channel-contiguous.
//
// Compiled at run time by CuPy (NVRTC), so this file includes no header.
// Entry points are extern "C", one per dtype: f32, f64, c64, c128 (complex as interleaved
// (re, im) pairs, the layout of torch/numpy complex), and per kind of decay: _tv for a
// time-varying a (B, L, D), _ti for a time-invariant a (D,).
//
// Work split. A "column" is one (batch, channel) pair n = bi * D + d; its L elements sit at
// base(n) + t * D with base(n) = bi * L * D + d. A block is (32, ny) threads, ny <= NY_MAX:
// threadIdx.x picks one of 32 consecutive columns (a warp reads 32 consecutive elements per
// step when D >= 32), threadIdx.y one of ny sub-chunks of CH steps. The block walks the time
// axis of its columns in tiles of ny * CH steps:
//   1. each thread loads its CH (a, b) pairs into registers and reduces them to the affine
//      map h -> A h + H of its sub-chunk (A = product of the a's, H = scan from zero);
//   2. the ny maps meet in shared memory; each thread folds the maps of the sub-chunks before
//      its own into the tile's carry-in, which gives its own carry-in;
//   3. each thread replays its CH steps from that carry-in and writes h.
// Every input element is read once and every output element written once.
//
// Few columns and a long time axis: time is also split into gridDim.y segments, in three
// launches (reduce, then scan):
//   linear_scan_summary_*  the affine map (A, H) of every (segment, column), no output;
//   linear_scan_carry_*    folds those maps along the segments: the carry-in of each segment;
//   linear_scan_*          the scan itself, segment g starting from carry-in g.
// With one segment, the last launch alone does the work, starting from h0 (or zero).
//
// reverse != 0 runs the recurrence from the last step to the first: logical step s maps to
// time t = L - 1 - s. Segments, tiles and sub-chunks are cut along logical steps.

#define NY_MAX 16

struct __align__(8) c64 {  // the alignment of a complex64 element: one 8-byte access
    float re, im;
};
struct __align__(16) c128 {
    double re, im;
};

template <typename T>
__device__ __forceinline__ T one();
template <typename T>
__device__ __forceinline__ T zero();
template <>
__device__ __forceinline__ float one<float>() { return 1.0f; }
template <>
__device__ __forceinline__ float zero<float>() { return 0.0f; }
template <>
__device__ __forceinline__ double one<double>() { return 1.0; }
template <>
__device__ __forceinline__ double zero<double>() { return 0.0; }
template <>
__device__ __forceinline__ c64 one<c64>() { c64 r; r.re = 1.0f; r.im = 0.0f; return r; }
template <>
__device__ __forceinline__ c64 zero<c64>() { c64 r; r.re = 0.0f; r.im = 0.0f; return r; }
template <>
__device__ __forceinline__ c128 one<c128>() { c128 r; r.re = 1.0; r.im = 0.0; return r; }
template <>
__device__ __forceinline__ c128 zero<c128>() { c128 r; r.re = 0.0; r.im = 0.0; return r; }

// madd(a, h, b) = a * h + b
__device__ __forceinline__ float madd(float a, float h, float b) { return a * h + b; }
__device__ __forceinline__ double madd(double a, double h, double b) { return a * h + b; }
__device__ __forceinline__ c64 madd(c64 a, c64 h, c64 b) {
    c64 r;
    r.re = a.re * h.re - a.im * h.im + b.re;
    r.im = a.re * h.im + a.im * h.re + b.im;
    return r;
}
__device__ __forceinline__ c128 madd(c128 a, c128 h, c128 b) {
    c128 r;
    r.re = a.re * h.re - a.im * h.im + b.re;
    r.im = a.re * h.im + a.im * h.re + b.im;
    return r;
}
template <typename T>
__device__ __forceinline__ T mul(T a, T h) { return madd(a, h, zero<T>()); }

// SUMMARY = false: write h for logical steps [g * seg_len, min(L, (g + 1) * seg_len)) of
//   segment g = blockIdx.y, starting from carry_in[g * ncol + col] (if has_carry) or zero.
// SUMMARY = true: write the affine map (A, H) of that range to sum_a, sum_h [g * ncol + col].
template <typename T, bool TV, int CH, bool SUMMARY>
__device__ __forceinline__ void scan_tiles(const T* __restrict__ a, const T* __restrict__ b,
                                           const T* __restrict__ carry_in, T* __restrict__ h,
                                           T* __restrict__ sum_a, T* __restrict__ sum_h,
                                           long long B, long long L, long long D, long long seg_len,
                                           int has_carry, int reverse) {
    __shared__ T tile_a[NY_MAX][32];
    __shared__ T tile_h[NY_MAX][32];
    if (blockDim.x != 32 || blockDim.y > NY_MAX) __trap();  // the host launches (32, ny <= NY_MAX)
    const int tx = threadIdx.x, ty = threadIdx.y, ny = blockDim.y;
    const long long ncol = B * D;
    const long long col = (long long)blockIdx.x * 32 + tx;
    const bool active = col < ncol;
    long long base = 0, d = 0;
    if (active) {
        const long long bi = col / D;
        d = col - bi * D;
        base = bi * L * D + d;
    }
    const long long g = blockIdx.y;
    const long long s_begin = g * seg_len;
    const long long s_end = (s_begin + seg_len < L) ? s_begin + seg_len : L;

    T a_const = one<T>();
    if (!TV && active) a_const = a[d];
    T carry = zero<T>();  // h just before the current tile
    if (!SUMMARY && has_carry && active) carry = carry_in[g * ncol + col];
    T carry_a = one<T>();  // SUMMARY: product of the a's of the tiles done

    for (long long s0 = s_begin; s0 < s_end; s0 += (long long)ny * CH) {
        const long long sb = s0 + (long long)ty * CH;  // this thread's first logical step
        T av[CH], bv[CH];
#pragma unroll
        for (int i = 0; i < CH; ++i) {
            const long long s = sb + i;
            if (active && s < s_end) {
                const long long t = reverse ? L - 1 - s : s;
                const long long off = base + t * D;
                av[i] = TV ? a[off] : a_const;
                bv[i] = b[off];
            } else {  // the identity map: steps past the end change nothing
                av[i] = one<T>();
                bv[i] = zero<T>();
            }
        }
        T A = one<T>(), H = zero<T>();
#pragma unroll
        for (int i = 0; i < CH; ++i) {
            H = madd(av[i], H, bv[i]);
            A = mul(av[i], A);
        }
        tile_a[ty][tx] = A;
        tile_h[ty][tx] = H;
        __syncthreads();
        T c = carry;  // carry-in of this thread's sub-chunk
        for (int j = 0; j < ty; ++j) c = madd(tile_a[j][tx], c, tile_h[j][tx]);
        T c_next = c;  // carry-in of the next tile (the same in every thread of the column)
        for (int j = ty; j < ny; ++j) c_next = madd(tile_a[j][tx], c_next, tile_h[j][tx]);
        if (SUMMARY) {
            for (int j = 0; j < ny; ++j) carry_a = mul(tile_a[j][tx], carry_a);
        } else {
            T hh = c;
#pragma unroll
            for (int i = 0; i < CH; ++i) {
                hh = madd(av[i], hh, bv[i]);
                const long long s = sb + i;
                if (active && s < s_end) {
                    const long long t = reverse ? L - 1 - s : s;
                    h[base + t * D] = hh;
                }
            }
        }
        carry = c_next;
        __syncthreads();  // the next tile overwrites tile_a, tile_h
    }
    if (SUMMARY && active && ty == 0) {
        sum_a[g * ncol + col] = carry_a;
        sum_h[g * ncol + col] = carry;
    }
}

// carry_in[g] = h before segment g: fold the segment maps in logical order from h0 (or zero).
template <typename T>
__device__ __forceinline__ void fold_segments(const T* __restrict__ sum_a, const T* __restrict__ sum_h,
                                              const T* __restrict__ h0, T* __restrict__ carry_in,
                                              long long ncol, int nseg, int has_h0) {
    const long long col = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= ncol) return;
    T c = has_h0 ? h0[col] : zero<T>();
    for (int g = 0; g < nseg; ++g) {
        carry_in[(long long)g * ncol + col] = c;
        c = madd(sum_a[(long long)g * ncol + col], c, sum_h[(long long)g * ncol + col]);
    }
}

#define TSREC_LINEAR_SCAN(SUFFIX, T, CH)                                                            \
    extern "C" __global__ void __launch_bounds__(32 * NY_MAX)                                       \
        linear_scan_##SUFFIX##_tv(const T* a, const T* b, const T* carry_in, T* h, long long B,      \
                                  long long L, long long D, long long seg_len, int has_carry,      \
                                  int reverse) {                                                   \
        scan_tiles<T, true, CH, false>(a, b, carry_in, h, 0, 0, B, L, D, seg_len, has_carry,         \
                                       reverse);                                                   \
    }                                                                                              \
    extern "C" __global__ void __launch_bounds__(32 * NY_MAX)                                       \
        linear_scan_##SUFFIX##_ti(const T* a, const T* b, const T* carry_in, T* h, long long B,      \
                                  long long L, long long D, long long seg_len, int has_carry,      \
                                  int reverse) {                                                   \
        scan_tiles<T, false, CH, false>(a, b, carry_in, h, 0, 0, B, L, D, seg_len, has_carry,        \
                                        reverse);                                                  \
    }                                                                                              \
    extern "C" __global__ void __launch_bounds__(32 * NY_MAX)                                       \
        linear_scan_summary_##SUFFIX##_tv(const T* a, const T* b, T* sum_a, T* sum_h, long long B,   \
                                          long long L, long long D, long long seg_len,             \
                                          int reverse) {                                           \
        scan_tiles<T, true, CH, true>(a, b, 0, 0, sum_a, sum_h, B, L, D, seg_len, 0, reverse);      \
    }                                                                                              \
    extern "C" __global__ void __launch_bounds__(32 * NY_MAX)                                       \
        linear_scan_summary_##SUFFIX##_ti(const T* a, const T* b, T* sum_a, T* sum_h, long long B,   \
                                          long long L, long long D, long long seg_len,             \
                                          int reverse) {                                           \
        scan_tiles<T, false, CH, true>(a, b, 0, 0, sum_a, sum_h, B, L, D, seg_len, 0, reverse);     \
    }                                                                                              \
    extern "C" __global__ void linear_scan_carry_##SUFFIX(const T* sum_a, const T* sum_h,           \
                                                          const T* h0, T* carry_in,                \
                                                          long long ncol, int nseg, int has_h0) {  \
        fold_segments<T>(sum_a, sum_h, h0, carry_in, ncol, nseg, has_h0);                          \
    }

// CH (steps per thread per tile) must match LINEAR_CHUNK in tsrec/scan/cupy.py.
TSREC_LINEAR_SCAN(f32, float, 8)
TSREC_LINEAR_SCAN(f64, double, 8)
TSREC_LINEAR_SCAN(c64, c64, 8)
TSREC_LINEAR_SCAN(c128, c128, 4)
