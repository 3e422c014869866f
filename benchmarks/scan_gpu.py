"""GPU benchmark of the scan cores: CuPy kernels against torch paths, in one run.

    PYTHONPATH=. python benchmarks/scan_gpu.py [--quick] [--out benchmarks/RESULTS.md]

Prints tables and appends them, with the device and date, to benchmarks/RESULTS.md.

- linear_scan forward (real float32, and one complex64 case): the CuPy kernel, the
  per-step torch loop (tsrec.scan.cpu.linear_scan_fwd: time-major addcmul per step),
  a log-depth torch scan (Hillis-Steele doubling: log2(L) vectorised steps), and
  `accelerated_scan` (warp kernel, float32, power-of-two L) when importable. Achieved
  GB/s counts the floor bytes (time-varying: read a, b, write h = 3 s per element;
  time-invariant: read b, write h = 2 s), next to a device-to-device copy measured in
  the same run (read + write).
- Aaren scan: CuPy forward and forward+backward against the torch path (logcumsumexp +
  linear scan in torch).
- LEM: CuPy forward and forward+backward against the torch loop (the reference) and
  torch.nn.LSTM (cuDNN) at the same hidden size, batch and length. LEM is timed from the
  input projections u (B, L, 4H) (its input GEMM is outside); the LSTM includes its own.

Exits with a message (status 0) when there is no CUDA GPU with CuPy.
"""

from __future__ import annotations

import argparse
import datetime
import math
import platform
import statistics
import sys
from pathlib import Path

import torch

import tsrec.scan
from tsrec.scan import cpu


def cuda_time(fn, max_reps: int = 20, budget_s: float = 2.0) -> float:
    """Median milliseconds of fn() on the GPU (CUDA events), after a warm-up call."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(max_reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
        if sum(times) / 1000 > budget_s and len(times) >= 3:
            break
    return statistics.median(times)


def copy_bandwidth() -> float:
    """GB/s of a device-to-device copy of 1 GiB (bytes read + written)."""
    n = 1 << 28
    src = torch.empty(n, dtype=torch.float32, device="cuda").uniform_()
    dst = torch.empty_like(src)
    ms = cuda_time(lambda: dst.copy_(src))
    return 2 * src.numel() * 4 / (ms / 1000) / 1e9


@torch.no_grad()
def doubling_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h_t = a_t h_{t-1} + b_t by log2(L) vectorised combine steps (Hillis-Steele)."""
    A = a.expand_as(b).clone()
    H = b.clone()
    L = b.shape[1]
    k = 1
    while k < L:
        H[:, k:] = torch.addcmul(H[:, k:], A[:, k:], H[:, :-k])
        A[:, k:] = A[:, k:] * A[:, :-k]
        k *= 2
    return H


def accelerated_scan_fn():
    try:
        from accelerated_scan.warp import scan  # type: ignore[import-not-found]

        return scan
    except Exception:
        return None


def fmt_ms(ms):
    return "n/a" if ms is None else f"{ms:.3f}"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


LINEAR_SHAPES = [(16, 4096, 1024), (4, 16384, 4096), (64, 4096, 256), (1, 65536, 64), (32, 1024, 4096)]
LINEAR_QUICK = [(16, 4096, 1024), (1, 16384, 64)]
AAREN_SHAPES = [(16, 4096, 4, 64), (4, 16384, 8, 64), (64, 1024, 4, 32)]
AAREN_QUICK = AAREN_SHAPES[:1]
LEM_SHAPES = [(64, 1000, 128), (64, 1000, 256), (16, 4096, 256), (256, 500, 64)]
LEM_QUICK = [(64, 500, 128)]


def bench_linear(shapes, copy_gbs: float) -> str:
    from tsrec.scan import cupy as cb

    acc = accelerated_scan_fn()
    rows = []
    cases = [(s, kind, torch.float32) for s in shapes for kind in ("tv", "ti")] + [(shapes[0], "ti", torch.complex64)]
    for (B, L, D), kind, dtype in cases:
        real = torch.float32
        b = torch.randn(B, L, D, device="cuda", dtype=real)
        if dtype.is_complex:
            b = torch.complex(b, torch.randn_like(b))
        shape_a = (B, L, D) if kind == "tv" else (D,)
        a = 0.5 + 0.5 * torch.rand(shape_a, device="cuda", dtype=real)
        if dtype.is_complex:
            a = torch.polar(a, torch.rand_like(a))
        elem = b.element_size()
        floor_bytes = (3 if kind == "tv" else 2) * elem * B * L * D
        t_cupy = cuda_time(lambda: cb.linear_scan_fwd(a, b))
        t_loop = cuda_time(lambda: cpu.linear_scan_fwd(a, b), max_reps=5)
        t_dbl = cuda_time(lambda: doubling_scan(a, b), max_reps=5)
        t_best = min(t_loop, t_dbl)
        t_acc = None
        if acc is not None and not dtype.is_complex and L & (L - 1) == 0:
            try:
                gates = a.expand(B, L, D).transpose(1, 2).contiguous()
                tokens = b.transpose(1, 2).contiguous()
                t_acc = cuda_time(lambda: acc(gates, tokens))
            except Exception as err:  # shape limits of the package
                print(f"accelerated_scan failed at {(B, L, D)}: {err}", file=sys.stderr)
        gbs = floor_bytes / (t_cupy / 1000) / 1e9
        rows.append([
            f"{B}x{L}x{D}", kind, str(dtype).replace("torch.", ""), fmt_ms(t_cupy), fmt_ms(t_loop), fmt_ms(t_dbl),
            f"{t_best / t_cupy:.1f}x", fmt_ms(t_acc), f"{gbs:.0f}", f"{100 * gbs / copy_gbs:.0f}%",
        ])
        a = b = None  # free the inputs before the next case allocates its own
        torch.cuda.empty_cache()
    headers = ["B x L x D", "a", "dtype", "cupy ms", "torch loop ms", "torch doubling ms", "best torch / cupy",
               "accelerated_scan ms", "cupy GB/s (floor bytes)", "of copy GB/s"]
    return table(headers, rows)


def bench_aaren(shapes, copy_gbs: float) -> str:
    from tsrec.scan import cupy as cb

    rows = []
    for B, L, K, E in shapes:
        s = torch.randn(B, L, K, device="cuda")
        v = torch.randn(B, L, K, E, device="cuda")
        floor_bytes = 4 * B * L * (K + 2 * K * E)
        t_cupy = cuda_time(lambda: cb.aaren_scan(s, v))
        t_torch = cuda_time(lambda: tsrec.scan.aaren_scan(s, v, backend="torch"), max_reps=5)
        sg, vg = s.clone().requires_grad_(), v.clone().requires_grad_()

        def fb(backend):
            o, (log_norm, _) = tsrec.scan.aaren_scan(sg, vg, backend=backend)
            (o.sum() + log_norm.sum()).backward()

        t_cupy_fb = cuda_time(lambda: fb("cupy"))
        t_torch_fb = cuda_time(lambda: fb("torch"), max_reps=5)
        gbs = floor_bytes / (t_cupy / 1000) / 1e9
        rows.append([f"{B}x{L}x{K}x{E}", fmt_ms(t_cupy), fmt_ms(t_torch), f"{t_torch / t_cupy:.1f}x",
                     fmt_ms(t_cupy_fb), fmt_ms(t_torch_fb), f"{t_torch_fb / t_cupy_fb:.1f}x",
                     f"{gbs:.0f} ({100 * gbs / copy_gbs:.0f}%)"])
    headers = ["B x L x K x E", "cupy fwd ms", "torch fwd ms", "speed-up", "cupy fwd+bwd ms", "torch fwd+bwd ms",
               "speed-up", "cupy fwd GB/s (of copy)"]
    return table(headers, rows)


def bench_lem(shapes) -> str:
    rows = []
    for B, L, H in shapes:
        bound = 1 / math.sqrt(H)
        u = torch.randn(B, L, 4 * H, device="cuda")
        w = ((2 * torch.rand(3 * H, H, device="cuda") - 1) * bound).requires_grad_()
        wy = ((2 * torch.rand(H, H, device="cuda") - 1) * bound).requires_grad_()
        ug = u.clone().requires_grad_()
        dt = 0.2

        def fwd(backend):
            with torch.no_grad():
                tsrec.scan.lem_recurrence(u, w, wy, dt, backend=backend)

        def fwd_bwd(backend):
            y, z = tsrec.scan.lem_recurrence(ug, w, wy, dt, backend=backend)
            y.sum().backward()

        t_cupy = cuda_time(lambda: fwd("cupy"))
        t_cupy_fb = cuda_time(lambda: fwd_bwd("cupy"))
        t_ref = cuda_time(lambda: fwd("torch"), max_reps=3)
        t_ref_fb = cuda_time(lambda: fwd_bwd("torch"), max_reps=3)
        lstm = torch.nn.LSTM(H, H, batch_first=True).cuda()
        x = torch.randn(B, L, H, device="cuda")

        def lstm_fwd():
            with torch.no_grad():
                lstm(x)

        def lstm_fb():
            out, _ = lstm(x)
            out.sum().backward()

        t_lstm = cuda_time(lstm_fwd)
        t_lstm_fb = cuda_time(lstm_fb)
        rows.append([f"{B}x{L}x{H}", fmt_ms(t_cupy), fmt_ms(t_cupy_fb), fmt_ms(t_ref), fmt_ms(t_ref_fb),
                     f"{t_ref_fb / t_cupy_fb:.1f}x", fmt_ms(t_lstm), fmt_ms(t_lstm_fb),
                     f"{t_lstm_fb / t_cupy_fb:.2f}x"])
        u = ug = x = lstm = None  # free them before the next case allocates its own
        torch.cuda.empty_cache()
    headers = ["B x L x H", "cupy fwd ms", "cupy fwd+bwd ms", "torch loop fwd ms", "torch loop fwd+bwd ms",
               "loop / cupy (fwd+bwd)", "cuDNN LSTM fwd ms", "cuDNN LSTM fwd+bwd ms", "LSTM / cupy (fwd+bwd)"]
    return table(headers, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available() or not tsrec.scan.cupy_available():
        print("scan_gpu: no CUDA GPU with CuPy here; nothing to measure.")
        return 0
    torch.manual_seed(0)
    name = torch.cuda.get_device_name()
    import cupy

    copy_gbs = copy_bandwidth()
    head = (f"## GPU scan cores ({datetime.date.today().isoformat()})\n\n"
            f"{name}; torch {torch.__version__}, CuPy {cupy.__version__}, Python {platform.python_version()}. "
            f"Command: `PYTHONPATH=. python benchmarks/scan_gpu.py{' --quick' if args.quick else ''}`. "
            f"Medians of CUDA-event timings. Device-to-device copy: {copy_gbs:.0f} GB/s (read + write).\n")
    sections = [head]
    q = args.quick
    for title, fn in (("linear_scan forward", lambda: bench_linear(LINEAR_QUICK if q else LINEAR_SHAPES, copy_gbs)),
                      ("Aaren scan", lambda: bench_aaren(AAREN_QUICK if q else AAREN_SHAPES, copy_gbs)),
                      ("LEM recurrence", lambda: bench_lem(LEM_QUICK if q else LEM_SHAPES))):
        text = f"### {title}\n\n{fn()}\n"
        print(text, flush=True)
        sections.append(text)
    with open(args.out, "a") as fh:
        fh.write("\n".join(sections) + "\n")
    print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
