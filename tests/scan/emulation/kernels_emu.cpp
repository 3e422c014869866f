// The scan kernels compiled for the CPU emulation (cuda_emu.h), each behind a C launcher
// emu_<kernel>(grid_x, grid_y, block_x, block_y, shared_bytes, <kernel arguments>) for ctypes.
#include "cuda_emu.h"

#include "linear_scan.cu"
#include "aaren_scan.cu"
#include "lem.cu"

#define EMU_ARGS(...) __VA_ARGS__
#define EMU_EXPORT(NAME, CONCURRENT, PARAMS, ARGS)                                              \
    extern "C" void emu_##NAME(unsigned grid_x_, unsigned grid_y_, unsigned block_x_, unsigned block_y_, size_t smem_, \
                               EMU_ARGS PARAMS) {                                               \
        emu::launch(dim3(grid_x_, grid_y_), dim3(block_x_, block_y_), smem_, CONCURRENT, [=] { NAME ARGS; });         \
    }

#define EMU_LINEAR(S, T)                                                                          \
    EMU_EXPORT(linear_scan_##S##_tv, false,                                                       \
               (const T* a, const T* b, const T* c, T* h, long long B, long long L, long long D,  \
                long long seg, int has_c, int rev),                                               \
               (a, b, c, h, B, L, D, seg, has_c, rev))                                            \
    EMU_EXPORT(linear_scan_##S##_ti, false,                                                       \
               (const T* a, const T* b, const T* c, T* h, long long B, long long L, long long D,  \
                long long seg, int has_c, int rev),                                               \
               (a, b, c, h, B, L, D, seg, has_c, rev))                                            \
    EMU_EXPORT(linear_scan_summary_##S##_tv, false,                                               \
               (const T* a, const T* b, T* sa, T* sh, long long B, long long L, long long D,      \
                long long seg, int rev),                                                          \
               (a, b, sa, sh, B, L, D, seg, rev))                                                 \
    EMU_EXPORT(linear_scan_summary_##S##_ti, false,                                               \
               (const T* a, const T* b, T* sa, T* sh, long long B, long long L, long long D,      \
                long long seg, int rev),                                                          \
               (a, b, sa, sh, B, L, D, seg, rev))                                                 \
    EMU_EXPORT(linear_scan_carry_##S, false,                                                      \
               (const T* sa, const T* sh, const T* h0, T* c, long long ncol, int nseg, int has),  \
               (sa, sh, h0, c, ncol, nseg, has))

EMU_LINEAR(f32, float)
EMU_LINEAR(f64, double)
EMU_LINEAR(c64, c64)
EMU_LINEAR(c128, c128)

#define EMU_AAREN(S, T)                                                                           \
    EMU_EXPORT(aaren_scan_##S, false,                                                             \
               (const T* s, const T* v, const T* l0, const T* o0, T* o, T* l_all, T* l_last,     \
                long long B, long long L, long long K, long long E, int has_state, int write_l),  \
               (s, v, l0, o0, o, l_all, l_last, B, L, K, E, has_state, write_l))
EMU_AAREN(f32, float)
EMU_AAREN(f64, double)

#define EMU_LEM(S, T)                                                                             \
    EMU_EXPORT(lem_forward_##S, true,                                                             \
               (const T* u, const T* w, const T* wy, const T* y0, const T* z0, T* y, T* z,        \
                T* gates, unsigned long long* counters, long long B, long long L, int H, int U,   \
                int BB, T dt, int has_y0, int has_z0, int save_gates),                            \
               (u, w, wy, y0, z0, y, z, gates, counters, B, L, H, U, BB, dt, has_y0, has_z0,      \
                save_gates))                                                                      \
    EMU_EXPORT(lem_backward_##S, true,                                                            \
               (const T* w, const T* wy, const T* y, const T* z, const T* y0, const T* z0,        \
                const T* gates, const T* gy, const T* gz, T* du, T* dy0, T* dz0,                  \
                unsigned long long* counters, long long B, long long L, int H, int U, int BB,     \
                T dt, int has_y0, int has_z0),                                                    \
               (w, wy, y, z, y0, z0, gates, gy, gz, du, dy0, dz0, counters, B, L, H, U, BB, dt,  \
                has_y0, has_z0))
EMU_LEM(f32, float)
EMU_LEM(f64, double)
