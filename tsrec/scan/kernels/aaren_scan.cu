// Aaren scan (prefix softmax-weighted means), fused forward, in its stable first-order form:
//
//     l_t = logaddexp(l_{t-1}, s_t)          (log of the running sum of weights)
//     g_t = exp(s_t - l_t)                   (in (0, 1])
//     o_t = (1 - g_t) o_{t-1} + g_t v_t      (the running weighted mean)
//
// starting from (l, o) = (l0, o0) when a state is carried, else (-inf, 0).
// A score of -inf has g_t = 0 (not exp(-inf - (-inf)) = NaN): masked or padded steps leave
// (l, o) unchanged, so o is 0 (or the carried o0) while every score so far is -inf.
// s is (B, L, K), v and o are (B, L, K, E), l0 is (B, K), o0 is (B, K, E), all contiguous.
//
// Compiled at run time by CuPy (NVRTC): no header. Entry points aaren_scan_f32 / _f64.
//
// The work split is that of linear_scan.cu: a column is one (batch, head, feature) triple
// n = bi * K * E + k * E + e, a block is (32 columns) x (ny sub-chunks of CH steps) and walks
// time in tiles of ny * CH steps. Per tile, three rounds through shared memory:
//   1. each sub-chunk's log-sum-exp of scores; each thread folds those before it into its
//      carried l, then computes l_t, g_t, a_t = 1 - g_t and b_t = g_t v_t for its steps;
//   2. each sub-chunk's affine map o -> A o + H; each thread folds those before it into the
//      carried o, replays its steps and writes o_t.
// The E threads of one head compute the same l_t (cheap, s is read from cache); the thread
// with e == 0 writes l_t (if write_l, for the backward pass) and the final l.

#define NY_MAX 16

__device__ __forceinline__ float neg_inf(float) { return __int_as_float(0xff800000); }
__device__ __forceinline__ double neg_inf(double) { return __longlong_as_double(0xfff0000000000000ULL); }
__device__ __forceinline__ float exp_(float x) { return expf(x); }
__device__ __forceinline__ double exp_(double x) { return exp(x); }
__device__ __forceinline__ float log1p_(float x) { return log1pf(x); }
__device__ __forceinline__ double log1p_(double x) { return log1p(x); }
__device__ __forceinline__ float abs_(float x) { return fabsf(x); }
__device__ __forceinline__ double abs_(double x) { return fabs(x); }

// log(exp(x) + exp(y)), exact at -inf: logaddexp(-inf, y) = y, logaddexp(-inf, -inf) = -inf.
template <typename T>
__device__ __forceinline__ T logaddexp(T x, T y) {
    const T m = x > y ? x : y;
    if (m == neg_inf(m)) return m;
    return m + log1p_(exp_(-abs_(x - y)));
}

template <typename T, int CH>
__device__ __forceinline__ void aaren_tiles(const T* __restrict__ s, const T* __restrict__ v,
                                            const T* __restrict__ l0, const T* __restrict__ o0,
                                            T* __restrict__ o, T* __restrict__ l_all,
                                            T* __restrict__ l_last, long long B, long long L,
                                            long long K, long long E, int has_state, int write_l) {
    __shared__ T tile_l[NY_MAX][32];
    __shared__ T tile_a[NY_MAX][32];
    __shared__ T tile_h[NY_MAX][32];
    if (blockDim.x != 32 || blockDim.y > NY_MAX) __trap();  // the host launches (32, ny <= NY_MAX)
    const int tx = threadIdx.x, ty = threadIdx.y, ny = blockDim.y;
    const long long KE = K * E;
    const long long ncol = B * KE;
    const long long col = (long long)blockIdx.x * 32 + tx;
    const bool active = col < ncol;
    long long vbase = 0, sbase = 0, bk = 0, e = 0;
    if (active) {
        const long long bi = col / KE;
        const long long rem = col - bi * KE;
        const long long k = rem / E;
        e = rem - k * E;
        vbase = bi * L * KE + rem;  // v, o: (bi, t, k, e) at vbase + t * KE
        sbase = bi * L * K + k;     // s, l_all: (bi, t, k) at sbase + t * K
        bk = bi * K + k;            // l0, l_last: (bi, k)
    }
    const T ninf = neg_inf(T(0));
    T l_carry = ninf, o_carry = T(0);
    if (has_state && active) {
        l_carry = l0[bk];
        o_carry = o0[col];  // o0 (B, K, E) flattened is the column index
    }

    for (long long s0 = 0; s0 < L; s0 += (long long)ny * CH) {
        const long long sb = s0 + (long long)ty * CH;
        T av[CH], bv[CH];  // scores and values, then a_t = 1 - g_t and b_t = g_t v_t
#pragma unroll
        for (int i = 0; i < CH; ++i) {
            const long long t = sb + i;
            if (active && t < L) {
                av[i] = s[sbase + t * K];
                bv[i] = v[vbase + t * KE];
            } else {
                av[i] = ninf;
                bv[i] = T(0);
            }
        }
        // round 1: log-sum-exp of the scores
        T lsub = ninf;
#pragma unroll
        for (int i = 0; i < CH; ++i) lsub = logaddexp(lsub, av[i]);
        tile_l[ty][tx] = lsub;
        __syncthreads();
        T l = l_carry;
        for (int j = 0; j < ty; ++j) l = logaddexp(l, tile_l[j][tx]);
        T l_next = l;
        for (int j = ty; j < ny; ++j) l_next = logaddexp(l_next, tile_l[j][tx]);
        // gates and the affine map of this sub-chunk
        T A = T(1), H = T(0);
#pragma unroll
        for (int i = 0; i < CH; ++i) {
            const long long t = sb + i;
            T gi = T(0);  // past the end: a = 1, b = 0, the identity
            if (active && t < L) {
                l = logaddexp(l, av[i]);
                gi = av[i] == ninf ? T(0) : exp_(av[i] - l);  // l = -inf too when all so far are
                if (write_l && e == 0) l_all[sbase + t * K] = l;
            }
            av[i] = T(1) - gi;
            bv[i] = gi * bv[i];
            H = av[i] * H + bv[i];
            A = av[i] * A;
        }
        // round 2: the running mean
        tile_a[ty][tx] = A;
        tile_h[ty][tx] = H;
        __syncthreads();
        T c = o_carry;
        for (int j = 0; j < ty; ++j) c = tile_a[j][tx] * c + tile_h[j][tx];
        T c_next = c;
        for (int j = ty; j < ny; ++j) c_next = tile_a[j][tx] * c_next + tile_h[j][tx];
#pragma unroll
        for (int i = 0; i < CH; ++i) {
            c = av[i] * c + bv[i];
            const long long t = sb + i;
            if (active && t < L) o[vbase + t * KE] = c;
        }
        o_carry = c_next;
        l_carry = l_next;
        __syncthreads();  // the next tile overwrites the tiles in shared memory
    }
    if (active && ty == 0 && e == 0) l_last[bk] = l_carry;
}

// CH must match AAREN_CHUNK in tsrec/scan/cupy.py.
extern "C" __global__ void __launch_bounds__(32 * NY_MAX)
    aaren_scan_f32(const float* s, const float* v, const float* l0, const float* o0, float* o,
                   float* l_all, float* l_last, long long B, long long L, long long K, long long E,
                   int has_state, int write_l) {
    aaren_tiles<float, 8>(s, v, l0, o0, o, l_all, l_last, B, L, K, E, has_state, write_l);
}

extern "C" __global__ void __launch_bounds__(32 * NY_MAX)
    aaren_scan_f64(const double* s, const double* v, const double* l0, const double* o0, double* o,
                   double* l_all, double* l_last, long long B, long long L, long long K, long long E,
                   int has_state, int write_l) {
    aaren_tiles<double, 8>(s, v, l0, o0, o, l_all, l_last, B, L, K, E, has_state, write_l);
}
