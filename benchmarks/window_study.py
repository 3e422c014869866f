"""The recipe study behind long_horizon.py's RECIPE: a WindowModel trained directly, ETTh1 channel-independent.

One run: a body (LRU, S4, LEM, Aaren or Transformer blocks) inside :class:`tsrec.nn.window.WindowModel`,
trained on every standard training window of every channel (each channel its own series, shuffled
together), AdamW with a one-cycle lr, gradient clipping at 1. After each epoch it prints the MSE on the
standard validation windows and on the test windows; the last line is the epoch that the validation
chose. Settings are chosen by the validation MSE only (the test column is reported, never used).

    python benchmarks/window_study.py --L 336 --P 24 --loss mse --epochs 6
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tsrec.datasets import load_ett, split_borders  # noqa: E402
from tsrec.nn.aaren import AarenModel  # noqa: E402
from tsrec.nn.lem import LEMModel  # noqa: E402
from tsrec.nn.lru import LRUModel  # noqa: E402
from tsrec.nn.s4 import S4Model  # noqa: E402
from tsrec.nn.transformer import TransformerModel  # noqa: E402
from tsrec.nn.window import WindowModel  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ds", default="ETTh1")
    ap.add_argument("--H", type=int, default=96)
    ap.add_argument("--L", type=int, default=720)
    ap.add_argument("--P", type=int, default=48)
    ap.add_argument("--model", default="lru", choices=["lru", "s4", "lem", "aaren", "tf"])
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--drop", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--linear", type=int, default=1, help="the linear path (1) or not (0)")
    ap.add_argument("--stride", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--loss", default="mse", choices=["mse", "mae"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--zero-head", action="store_true", help="start the body's head at zero (the linear path alone)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    df = load_ett(a.ds)
    b = split_borders(a.ds, len(df))
    v = df.to_numpy()
    z = ((v - v[: b.train_end].mean(0)) / v[: b.train_end].std(0)).astype(np.float32)

    def windows(lo: int, hi: int, stride: int = 1) -> torch.Tensor:
        starts = np.arange(lo, hi - a.L - a.H + 1, stride)
        w = z[starts[:, None] + np.arange(a.L + a.H)[None]]  # (N, L + H, C)
        return torch.from_numpy(np.ascontiguousarray(w.transpose(0, 2, 1).reshape(-1, a.L + a.H, 1)))

    train = windows(0, b.train_end, a.stride)
    val = windows(b.train_end - a.L, b.val_end)
    test = windows(b.val_end - a.L, b.test_end)
    kw = dict(c_in=a.P, c_out=1, horizon=a.H, d_model=a.d, n_layers=a.layers, dropout=a.drop, skip_last=False)
    bodies = {"lru": lambda: LRUModel(d_state=a.d, r_min=0.5, r_max=0.99, **kw),
              "s4": lambda: S4Model(d_state=64, **kw), "lem": lambda: LEMModel(d_hidden=a.d, **kw),
              "aaren": lambda: AarenModel(n_heads=4, **kw),
              "tf": lambda: TransformerModel(n_heads=4, window=None, **kw)}
    model = WindowModel(bodies[a.model](), 1, 1, a.H, a.L, a.P, linear_skip=bool(a.linear))
    if a.zero_head:
        torch.nn.init.zeros_(model.body.head.weight)
        torch.nn.init.zeros_(model.body.head.bias)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    steps = a.epochs * math.ceil(len(train) / a.bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=steps, pct_start=0.3)

    @torch.no_grad()
    def evaluate(w: torch.Tensor) -> tuple[float, float]:
        model.eval()
        se = ae = n = 0.0
        for i in range(0, len(w), 2048):
            x = w[i : i + 2048]
            err = model(x[:, : a.L]) - x[:, a.L :]
            se, ae, n = se + float((err**2).sum()), ae + float(err.abs().sum()), n + err.numel()
        model.train()
        return se / n, ae / n

    print(vars(a), "params", sum(p.numel() for p in model.parameters()), "train windows", len(train), flush=True)
    best = (math.inf, None)
    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.time()
    for epoch in range(a.epochs):
        perm = torch.randperm(len(train), generator=gen)
        for i in range(0, len(train), a.bs):
            x = train[perm[i : i + a.bs]]
            err = model(x[:, : a.L]) - x[:, a.L :]
            loss = (err**2).mean() if a.loss == "mse" else err.abs().mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        val_mse, _ = evaluate(val)
        test_mse, test_mae = evaluate(test)
        print(f"epoch {epoch} {time.time() - t0:.0f}s val {val_mse:.4f} test {test_mse:.4f} / {test_mae:.4f}",
              flush=True)
        if val_mse < best[0]:
            best = (val_mse, (test_mse, test_mae, epoch))
    print("chosen by validation (val MSE, (test MSE, test MAE, epoch))", best, f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
