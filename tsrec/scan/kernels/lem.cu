// The recurrent part of LEM (Rusch et al. 2021): a persistent forward kernel and a fused
// backward through time. Compiled at run time by CuPy (NVRTC): no header.
//
// u is (B, L, 4H): the input projections of every step in the order (dt1, dt2, z, y);
// w is (3H, H) = [W1; W2; Wz] (applied to y_{n-1}), wy is (H, H) (applied to the new z_n):
//
//     s1 = sigmoid(W1 y + u1)   s2 = sigmoid(W2 y + u2)   dt1 = dt s1   dt2 = dt s2
//     cz = tanh(Wz y + uz)      z' = (1 - dt1) z + dt1 cz
//     cy = tanh(Wy z' + uy)     y' = (1 - dt2) y + dt2 cy
//
// Work split. gridDim.x = P blocks share the hidden units: block p owns the U units
// j0 = p * U .. j0 + U - 1 (those >= H are padding) and keeps, in shared memory, the slices of
// the four weight matrices it needs for the whole run: the forward kernel their rows (for
// W x), the backward kernel their columns (for W^T x). gridDim.y groups of batch rows, BB rows
// each, run independently. The P blocks of a group exchange the full state vectors through
// global memory (the outputs y and z themselves; du in the backward pass) and meet at a
// barrier between two dependent phases, twice per step. That barrier needs all P blocks of
// a group resident at once: the host launches these kernels cooperatively (all blocks of the
// grid start together, or the launch fails), after checking occupancy x SMs covers the grid,
// and at most one block per SM (see cupy.py).
//
// Inside a block, a task is one (batch row b, own unit uu), index b * U + uu; thread tid
// takes tasks tid, tid + blockDim.x, ... in every phase, so each task's own state stays with
// one thread. Weights are stored as w_s[(g * H + k) * U + uu]: the 32 lanes of a warp read 32
// consecutive words (units), the state vector is a broadcast; state rows are padded to H + 1.

#ifndef TSREC_SHARED_BUFFER
// (a CPU emulation of these kernels for tests defines its own per-block buffer)
#define TSREC_SHARED_BUFFER(name) extern __shared__ double name[]
#endif

#ifndef TSREC_SPIN_WAIT
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
#define TSREC_SPIN_WAIT() __nanosleep(32)
#else
#define TSREC_SPIN_WAIT()
#endif
#endif

__device__ __forceinline__ float sigmoid_(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ double sigmoid_(double x) { return 1.0 / (1.0 + exp(-x)); }
__device__ __forceinline__ float tanh_(float x) { return tanhf(x); }
__device__ __forceinline__ double tanh_(double x) { return tanh(x); }

// Barrier of the gridDim.x blocks with this blockIdx.y, on a counter zeroed before the launch.
// The counter only grows: after the m-th barrier it holds m * gridDim.x; each thread keeps m
// in `target`. Writes before the barrier are visible after it (fence, atomic, fence: the
// pattern of cooperative_groups' grid sync); readers load exchanged data with __ldcg (L2).
// A wait of more than 2^36 clock cycles (tens of seconds; a step takes microseconds) can only
// be a block that never started, which the cooperative launch rules out: trap (a launch error)
// rather than hang, as a last resort.
__device__ __forceinline__ void group_sync(unsigned long long* counter, unsigned long long& target) {
    __syncthreads();
    if (gridDim.x > 1) {
        target += gridDim.x;
        if (threadIdx.x == 0) {
            __threadfence();
            atomicAdd(counter, 1ULL);
            volatile unsigned long long* vc = counter;
            const long long start = clock64();
            while (*vc < target) {
                TSREC_SPIN_WAIT();
                if (clock64() - start > (1LL << 36)) __trap();
            }
            __threadfence();
        }
        __syncthreads();
    }
}

template <typename T>
__device__ __forceinline__ void lem_forward(const T* __restrict__ u, const T* __restrict__ w,
                                            const T* __restrict__ wy, const T* __restrict__ y0,
                                            const T* __restrict__ z0, T* y, T* z, T* gates,
                                            unsigned long long* counters, long long B, long long L,
                                            int H, int U, int BB, T dt, int has_y0, int has_z0,
                                            int save_gates) {
    TSREC_SHARED_BUFFER(smem_raw);
    const int HP = H + 1;
    T* w_s = reinterpret_cast<T*>(smem_raw);  // 4 * H * U: rows j0.. of W1, W2, Wz, Wy
    T* y_s = w_s + 4LL * H * U;               // BB * HP: y_{n-1}
    T* z_s = y_s + BB * HP;                   // BB * HP: z_{n-1}, then z_n
    T* s2_s = z_s + BB * HP;                  // BB * U: s2 of the own units
    const int tid = threadIdx.x, nt = blockDim.x;
    const int j0 = blockIdx.x * U;
    const long long b0 = (long long)blockIdx.y * BB;
    const int nb = (int)(B - b0 < BB ? B - b0 : BB);
    const long long H4 = 4LL * H;
    unsigned long long* counter = counters + blockIdx.y;
    unsigned long long target = 0;

    for (long long i = tid; i < 4LL * H * U; i += nt) {
        const int uu = (int)(i % U);
        const long long gk = i / U;
        const int k = (int)(gk % H), g = (int)(gk / H);
        const int j = j0 + uu;
        T val = T(0);
        if (j < H) val = g < 3 ? w[((long long)g * H + j) * H + k] : wy[(long long)j * H + k];
        w_s[i] = val;
    }
    for (int i = tid; i < nb * H; i += nt) {
        const int b = i / H, k = i - b * H;
        z_s[b * HP + k] = has_z0 ? z0[(b0 + b) * H + k] : T(0);
    }

    for (long long n = 0; n < L; ++n) {
        for (int i = tid; i < nb * H; i += nt) {
            const int b = i / H, k = i - b * H;
            T val;
            if (n == 0)
                val = has_y0 ? y0[(b0 + b) * H + k] : T(0);
            else
                val = __ldcg(y + ((b0 + b) * L + n - 1) * H + k);
            y_s[b * HP + k] = val;
        }
        __syncthreads();
        // phase 1: z_n of the own units
        for (int task = tid; task < nb * U; task += nt) {
            const int b = task / U, uu = task - b * U, j = j0 + uu;
            if (j >= H) continue;
            const T* yb = y_s + b * HP;
            T r1 = T(0), r2 = T(0), rz = T(0);
            for (int k = 0; k < H; ++k) {
                const T yk = yb[k];
                r1 += w_s[(0LL * H + k) * U + uu] * yk;
                r2 += w_s[(1LL * H + k) * U + uu] * yk;
                rz += w_s[(2LL * H + k) * U + uu] * yk;
            }
            const long long row = (b0 + b) * L + n;
            const T* un = u + row * H4;
            const T s1 = sigmoid_(r1 + un[j]);
            const T s2 = sigmoid_(r2 + un[H + j]);
            const T cz = tanh_(rz + un[2 * H + j]);
            const T dt1 = dt * s1;
            z[row * H + j] = (T(1) - dt1) * z_s[b * HP + j] + dt1 * cz;
            s2_s[b * U + uu] = s2;
            if (save_gates) {
                T* gt = gates + row * H4;
                gt[j] = s1;
                gt[H + j] = s2;
                gt[2 * H + j] = cz;
            }
        }
        group_sync(counter, target);
        for (int i = tid; i < nb * H; i += nt) {
            const int b = i / H, k = i - b * H;
            z_s[b * HP + k] = __ldcg(z + ((b0 + b) * L + n) * H + k);
        }
        __syncthreads();
        // phase 2: y_n of the own units
        for (int task = tid; task < nb * U; task += nt) {
            const int b = task / U, uu = task - b * U, j = j0 + uu;
            if (j >= H) continue;
            const T* zb = z_s + b * HP;
            T ry = T(0);
            for (int k = 0; k < H; ++k) ry += w_s[(3LL * H + k) * U + uu] * zb[k];
            const long long row = (b0 + b) * L + n;
            const T cy = tanh_(ry + u[row * H4 + 3 * H + j]);
            const T dt2 = dt * s2_s[b * U + uu];
            y[row * H + j] = (T(1) - dt2) * y_s[b * HP + j] + dt2 * cy;
            if (save_gates) gates[row * H4 + 3 * H + j] = cy;
        }
        group_sync(counter, target);
    }
}

// Backward through time from the gates saved by the forward pass (s1, s2, cz, cy in the
// layout of u). gy, gz are the gradients of the outputs y, z. Writes du (B, L, 4H) (the
// gradients of the pre-activations, which are those of u) and the gradients of y0, z0;
// the weight gradients are GEMMs of du with y_{n-1} and z_n, done by the caller.
// Per step n (backwards), with dy, dz the total gradients of y_n, z_n of the own units:
//   A: day = dy dt2 (1 - cy^2)                                        -> du[n, 3H + k]
//   B: dzt = dz + (Wy^T day)_k; daz = dzt dt1 (1 - cz^2);
//      da1 = dzt (cz - z_{n-1}) dt s1 (1 - s1); da2 = dy (cy - y_{n-1}) dt s2 (1 - s2)
//                                                                     -> du[n, 0:3H]
//      dz <- dzt (1 - dt1)
//   C: dy <- dy (1 - dt2) + (W1^T da1 + W2^T da2 + Wz^T daz)_k; then add gy, gz of step n - 1.
template <typename T>
__device__ __forceinline__ void lem_backward(const T* __restrict__ w, const T* __restrict__ wy,
                                             const T* __restrict__ y, const T* __restrict__ z,
                                             const T* __restrict__ y0, const T* __restrict__ z0,
                                             const T* __restrict__ gates, const T* __restrict__ gy,
                                             const T* __restrict__ gz, T* du, T* dy0, T* dz0,
                                             unsigned long long* counters, long long B, long long L,
                                             int H, int U, int BB, T dt, int has_y0, int has_z0) {
    TSREC_SHARED_BUFFER(smem_raw);
    const int HP = H + 1;
    T* w_s = reinterpret_cast<T*>(smem_raw);  // 4 * H * U: columns j0.. of W1, W2, Wz, Wy
    T* x_s = w_s + 4LL * H * U;               // 4 * BB * HP: da1, da2, daz, day of all units
    T* dy_s = x_s + 4LL * BB * HP;            // BB * U
    T* dz_s = dy_s + BB * U;                  // BB * U
    const int tid = threadIdx.x, nt = blockDim.x;
    const int j0 = blockIdx.x * U;
    const long long b0 = (long long)blockIdx.y * BB;
    const int nb = (int)(B - b0 < BB ? B - b0 : BB);
    const long long H4 = 4LL * H;
    unsigned long long* counter = counters + blockIdx.y;
    unsigned long long target = 0;

    for (long long i = tid; i < 4LL * H * U; i += nt) {
        const int uu = (int)(i % U);
        const long long gr = i / U;
        const int r = (int)(gr % H), g = (int)(gr / H);
        const int k = j0 + uu;
        T val = T(0);
        if (k < H) val = g < 3 ? w[((long long)g * H + r) * H + k] : wy[(long long)r * H + k];
        w_s[i] = val;
    }
    for (int task = tid; task < nb * U; task += nt) {
        const int b = task / U, uu = task - b * U, k = j0 + uu;
        if (k >= H) continue;
        const long long last = ((b0 + b) * L + L - 1) * H + k;
        dy_s[task] = gy[last];
        dz_s[task] = gz[last];
    }

    for (long long n = L - 1; n >= 0; --n) {
        // A
        for (int task = tid; task < nb * U; task += nt) {
            const int b = task / U, uu = task - b * U, k = j0 + uu;
            if (k >= H) continue;
            const long long row = (b0 + b) * L + n;
            const T* gt = gates + row * H4;
            const T s2 = gt[H + k], cy = gt[3 * H + k];
            du[row * H4 + 3 * H + k] = dy_s[task] * dt * s2 * (T(1) - cy * cy);
        }
        group_sync(counter, target);
        for (int i = tid; i < nb * H; i += nt) {
            const int b = i / H, r = i - b * H;
            x_s[(3LL * BB + b) * HP + r] = __ldcg(du + ((b0 + b) * L + n) * H4 + 3 * H + r);
        }
        __syncthreads();
        // B
        for (int task = tid; task < nb * U; task += nt) {
            const int b = task / U, uu = task - b * U, k = j0 + uu;
            if (k >= H) continue;
            const T* xb = x_s + (3LL * BB + b) * HP;
            T acc = T(0);
            for (int r = 0; r < H; ++r) acc += w_s[(3LL * H + r) * U + uu] * xb[r];
            const long long row = (b0 + b) * L + n;
            const T* gt = gates + row * H4;
            const T s1 = gt[k], s2 = gt[H + k], cz = gt[2 * H + k], cy = gt[3 * H + k];
            T y_prev, z_prev;
            if (n > 0) {
                y_prev = y[(row - 1) * H + k];
                z_prev = z[(row - 1) * H + k];
            } else {
                y_prev = has_y0 ? y0[(b0 + b) * H + k] : T(0);
                z_prev = has_z0 ? z0[(b0 + b) * H + k] : T(0);
            }
            const T dzt = dz_s[task] + acc;
            const T dt1 = dt * s1;
            T* dun = du + row * H4;
            dun[k] = dzt * (cz - z_prev) * dt * s1 * (T(1) - s1);
            dun[H + k] = dy_s[task] * (cy - y_prev) * dt * s2 * (T(1) - s2);
            dun[2 * H + k] = dzt * dt1 * (T(1) - cz * cz);
            dz_s[task] = dzt * (T(1) - dt1);
        }
        group_sync(counter, target);
        for (long long i = tid; i < 3LL * nb * H; i += nt) {
            const int g = (int)(i / ((long long)nb * H));
            const int rest = (int)(i - (long long)g * nb * H);
            const int b = rest / H, r = rest - b * H;
            x_s[((long long)g * BB + b) * HP + r] = __ldcg(du + ((b0 + b) * L + n) * H4 + g * H + r);
        }
        __syncthreads();
        // C
        for (int task = tid; task < nb * U; task += nt) {
            const int b = task / U, uu = task - b * U, k = j0 + uu;
            if (k >= H) continue;
            const T* x1 = x_s + (0LL * BB + b) * HP;
            const T* x2 = x_s + (1LL * BB + b) * HP;
            const T* xz = x_s + (2LL * BB + b) * HP;
            T acc = T(0);
            for (int r = 0; r < H; ++r)
                acc += w_s[(0LL * H + r) * U + uu] * x1[r] + w_s[(1LL * H + r) * U + uu] * x2[r] +
                       w_s[(2LL * H + r) * U + uu] * xz[r];
            const long long row = (b0 + b) * L + n;
            const T dt2 = dt * gates[row * H4 + H + k];
            const T dy_prev = dy_s[task] * (T(1) - dt2) + acc;
            if (n > 0) {
                dy_s[task] = dy_prev + gy[(row - 1) * H + k];
                dz_s[task] = dz_s[task] + gz[(row - 1) * H + k];
            } else {
                dy0[(b0 + b) * H + k] = dy_prev;
                dz0[(b0 + b) * H + k] = dz_s[task];
            }
        }
        // no barrier needed here: the next step's phase A touches only this thread's own
        // dy_s and a new row of du, and x_s is rewritten only after the next group_sync.
    }
}

#define TSREC_LEM(SUFFIX, T)                                                                        \
    extern "C" __global__ void lem_forward_##SUFFIX(                                               \
        const T* u, const T* w, const T* wy, const T* y0, const T* z0, T* y, T* z, T* gates,         \
        unsigned long long* counters, long long B, long long L, int H, int U, int BB, T dt,         \
        int has_y0, int has_z0, int save_gates) {                                                  \
        lem_forward<T>(u, w, wy, y0, z0, y, z, gates, counters, B, L, H, U, BB, dt, has_y0,         \
                       has_z0, save_gates);                                                        \
    }                                                                                              \
    extern "C" __global__ void lem_backward_##SUFFIX(                                              \
        const T* w, const T* wy, const T* y, const T* z, const T* y0, const T* z0,                  \
        const T* gates, const T* gy, const T* gz, T* du, T* dy0, T* dz0,                           \
        unsigned long long* counters, long long B, long long L, int H, int U, int BB, T dt,         \
        int has_y0, int has_z0) {                                                                  \
        lem_backward<T>(w, wy, y, z, y0, z0, gates, gy, gz, du, dy0, dz0, counters, B, L, H, U,    \
                        BB, dt, has_y0, has_z0);                                                   \
    }

TSREC_LEM(f32, float)
TSREC_LEM(f64, double)
