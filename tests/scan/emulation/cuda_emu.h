// A minimal CPU emulation of the CUDA execution model, enough to run tsrec's scan kernels
// (tsrec/scan/kernels/*.cu) on a machine without a GPU, for tests.
//
// Every thread of a block is a std::thread; __syncthreads is a std::barrier of the block.
// `__shared__` becomes `static`, so kernels with static shared memory must run one block at
// a time (concurrent = false); the LEM kernels use only the dynamic buffer
// (TSREC_SHARED_BUFFER), one per block, and run all blocks of a grid at once
// (concurrent = true), as their in-kernel barrier between blocks needs.
// No warp-level primitives: the kernels use none.
#pragma once
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {
inline thread_local dim3 thread_idx, block_idx, block_dim, grid_dim;
inline thread_local std::barrier<>* block_barrier = nullptr;
inline thread_local double* block_smem = nullptr;

template <class F>
void launch(dim3 grid, dim3 block, size_t smem_bytes, bool concurrent, F kernel) {
    const unsigned nt = block.x * block.y * block.z;
    const unsigned nb = grid.x * grid.y * grid.z;
    struct Block {
        std::unique_ptr<std::barrier<>> bar;
        std::vector<double> smem;
    };
    auto run = [&](unsigned first, unsigned last) {
        std::vector<Block> blocks(last - first);
        std::vector<std::thread> threads;
        for (unsigned bi = first; bi < last; ++bi) {
            Block& blk = blocks[bi - first];
            blk.bar = std::make_unique<std::barrier<>>(nt);
            blk.smem.assign(smem_bytes / sizeof(double) + 1, std::nan(""));  // garbage: NaN
            for (unsigned ti = 0; ti < nt; ++ti) {
                threads.emplace_back([&, bi, ti, blkp = &blk] {
                    thread_idx = dim3(ti % block.x, (ti / block.x) % block.y, ti / (block.x * block.y));
                    block_idx = dim3(bi % grid.x, (bi / grid.x) % grid.y, bi / (grid.x * grid.y));
                    block_dim = block;
                    grid_dim = grid;
                    block_barrier = blkp->bar.get();
                    block_smem = blkp->smem.data();
                    kernel();
                });
            }
        }
        for (auto& t : threads) t.join();
    };
    if (concurrent)
        run(0, nb);
    else
        for (unsigned bi = 0; bi < nb; ++bi) run(bi, bi + 1);
}
}  // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) alignas(n)
#define TSREC_SHARED_BUFFER(name) double* name = emu::block_smem
#define TSREC_SPIN_WAIT() std::this_thread::yield()

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
template <class T>
inline T __ldcg(const T* p) { return *(const volatile T*)p; }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline long long clock64() {  // nanoseconds stand in for clock cycles
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
[[noreturn]] inline void __trap() { std::abort(); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, sizeof f); return f; }
inline double __longlong_as_double(long long i) { double f; std::memcpy(&f, &i, sizeof f); return f; }
