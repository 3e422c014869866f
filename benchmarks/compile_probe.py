"""What ``torch.compile`` buys the update step of a streaming window model (issue 12 item 2; not in the package).

One series, LRU defaults, fitted and streamed as in ``online_throughput.py``. The
"floor" of one ``partial_fit`` + ``predict``: one gradient step (MAE or MSE of the
forecasts of the update's windows, clipping, AdamW) and one no-grad forecast of the
newest window, without tsrec's bookkeeping. Two copies of the fitted model take
alternating blocks of steps in one process:

- eager: the model as shipped (the numba scan);
- compiled: the LRU's scan in closed form (``h_t = sum_k lambda^(t-k) B x_k`` from
  the ``(L, L, N)`` powers of lambda, real arithmetic: the numba scan is a graph
  break), and the loss with the model compiled as one graph (``fullgraph=True``,
  ``dynamic=False``); the forecast's network compiled likewise (its partner and naive shares stay eager).

    python benchmarks/compile_probe.py               # median ms per step, both, and their ratio
    python benchmarks/compile_probe.py --profile     # plus torch.profiler's table of the compiled step
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def closed_form_lru(self, x, state=None, last=False):
    """``tsrec.nn.lru.LRU.forward`` with the scan in closed form over the ``(L, L, N)`` powers of lambda."""
    n, L = self.d_state, x.shape[1]
    gamma = torch.exp(self.gamma_log).unsqueeze(-1)
    bu = x @ torch.cat([self.B_re * gamma, self.B_im * gamma], 0).T  # (B, L, 2n): real parts, then imaginary
    t = torch.arange(L, dtype=x.dtype, device=x.device)
    d = t[:, None] - t[None, :]
    lag = d.clamp(min=0)[..., None]
    mod = torch.exp(-lag * torch.exp(self.nu_log)) * (d >= 0).to(x.dtype)[..., None]
    p_re, p_im = mod * torch.cos(lag * torch.exp(self.theta_log)), mod * torch.sin(lag * torch.exp(self.theta_log))
    if last:
        p_re, p_im = p_re[-1:], p_im[-1:]
    b_re, b_im = bu[..., None, :, :n], bu[..., None, :, n:]
    h_re, h_im = (p_re * b_re - p_im * b_im).sum(-2), (p_re * b_im + p_im * b_re).sum(-2)
    if state is not None:  # + lambda^(t+1) h0
        steps = (t + 1)[-1:] if last else t + 1
        m0 = torch.exp(-steps[:, None] * torch.exp(self.nu_log))
        a_re, a_im = m0 * torch.cos(steps[:, None] * torch.exp(self.theta_log)), \
            m0 * torch.sin(steps[:, None] * torch.exp(self.theta_log))
        h0 = state["h"]
        h_re = h_re + a_re * h0.real[:, None] - a_im * h0.imag[:, None]
        h_im = h_im + a_re * h0.imag[:, None] + a_im * h0.real[:, None]
    y = torch.cat([h_re, h_im], -1) @ torch.cat([self.C_re, -self.C_im], 1).T + self.D * (x[:, -1:] if last else x)
    return y, {"h": torch.complex(h_re[:, -1], h_im[:, -1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=40)
    ap.add_argument("--block", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    import online_throughput as ot

    from tsrec.estimators.stream import update_batch
    from tsrec.nn.lru import LRU
    from tsrec.training import make_optimizer

    f, chunk = ot.fitted("defaults", 1)
    for i in range(5):
        f.partial_fit(chunk(i))
        f.predict()
    cfg = f._train_config()
    seq = update_batch(f._stream, [chunk(5)], f.scaler_, f.frame_.context, f.horizon, f.batch_size, f.device_)[0]
    ctx = f.frame_.context
    x, y, newest = seq[:, :ctx].contiguous(), seq[:, ctx:, :1].contiguous(), seq[-1:, -ctx:].contiguous()
    with torch.no_grad():  # the closed form against the shipped scan, on the fitted weights
        closed = copy.deepcopy(f.model_)
        for mod in closed.modules():
            if isinstance(mod, LRU):
                mod.forward = types.MethodType(closed_form_lru, mod)
        diff = float((closed(x) - f.model_(x)).abs().max())
    print(f"windows per step: {x.shape[0]}; closed form vs numba scan, max |forecast difference|: {diff:.2e}")

    def make(compiled: bool):
        m = copy.deepcopy(f.model_)
        if compiled:
            for mod in m.modules():
                if isinstance(mod, LRU):
                    mod.forward = types.MethodType(closed_form_lru, mod)
        opt = make_optimizer(m, cfg)
        opt.load_state_dict(f._optimizer.state_dict())
        params = list(m.parameters())

        def loss_fn(x, y):
            return (m(x) - y).abs().mean() if cfg.loss == "mae" else ((m(x) - y) ** 2).mean()

        forecast = m
        if compiled:  # the network compiled; its partner and naive shares (numba, a graph break) eager, as in forward
            loss_fn = torch.compile(loss_fn, dynamic=False, fullgraph=True)
            network = torch.compile(m.network_forecast, dynamic=False, fullgraph=True)

            def forecast(z):
                return m.with_theta(network(z), z)

        def step():
            m.train()
            opt.zero_grad(set_to_none=True)
            loss_fn(x, y).backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            m.eval()
            with torch.no_grad():
                forecast(newest)

        return step

    steps = {}
    for name, compiled in (("eager", False), ("compiled", True)):
        steps[name] = make(compiled)
        t0 = time.perf_counter()
        for _ in range(3):
            steps[name]()
        print(f"{name}: first three steps {time.perf_counter() - t0:.1f} s (compilation included)", flush=True)
    times = {name: [] for name in steps}
    for _ in range(args.blocks):
        for name, step in steps.items():
            t0 = time.process_time()
            for _ in range(args.block):
                step()
            times[name].append((time.process_time() - t0) / args.block)
    for name, t in times.items():
        print(f"{name}: {1e3 * np.median(t):.2f} ms per step (CPU, median of {args.blocks} blocks)")
    print(f"eager / compiled: {np.median(np.array(times['eager']) / np.array(times['compiled'])):.2f}x")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(50):
                steps["compiled"]()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


if __name__ == "__main__":
    main()
