"""Study: the window model's linear path at long horizons (dense, none, period-sparse), LRU with the recipe.

The window model adds ``Linear(context -> horizon)`` of each normalised target
window to its forecast (``tsrec.nn.window.WindowModel``, ``linear_skip``). At
H = 720 that map holds most of the weights. This script swaps it, by patching
``WindowModel`` in this process only, for

- ``none``: no linear path;
- ``sparse``: a SparseTSF-style path, one shared ``Linear(ceil(L / w) -> ceil(H / w))``
  over the ``w`` phase subsequences of the window (every ``w``-th row), its
  outputs interleaved back (``w`` = ``--period``);

and runs ``benchmarks/long_horizon.py``'s protocol for LRUForecaster (``--split val``
scores the validation origins after a fit on the training rows; ``test`` the test
origins after a fit on train + validation). The variant is not a hyperparameter of
the package.

    python benchmarks/linear_path_study.py --dataset ETTh1 --horizon 720 --path sparse --period 24 --split val
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tsrec.nn.window as window  # noqa: E402


class SparseLinear(nn.Module):
    """``(..., context) -> (..., horizon)`` through one linear map shared by the ``period`` phases.

    >>> m = SparseLinear(context=10, horizon=7, period=4)
    >>> m(torch.randn(2, 3, 10)).shape
    torch.Size([2, 3, 7])
    """

    def __init__(self, context: int, horizon: int, period: int) -> None:
        super().__init__()
        self.context, self.horizon, self.period = context, horizon, period
        self.n_in, self.n_out = math.ceil(context / period), math.ceil(horizon / period)
        self.lin = nn.Linear(self.n_in, self.n_out)
        nn.init.zeros_(self.lin.weight)  # as the dense path: the model starts without it
        nn.init.zeros_(self.lin.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.n_in * self.period - self.context
        x = nn.functional.pad(x, (pad, 0)) if pad else x  # zeros in front: the phases stay aligned to the end
        y = self.lin(x.unflatten(-1, (self.n_in, self.period)).transpose(-1, -2))  # (..., period, n_out)
        return y.transpose(-1, -2).flatten(-2)[..., : self.horizon]


def patch(path: str, period: int) -> None:
    """Make every ``WindowModel`` built after this call use the linear path ``path``."""
    init = window.WindowModel.__init__

    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if self.linear is not None and path == "none":
            self.linear = None
        elif self.linear is not None and path == "sparse":
            self.linear = SparseLinear(self.context, self.horizon, period)

    window.WindowModel.__init__ = patched


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ETTh1")
    ap.add_argument("--horizon", type=int, default=720)
    ap.add_argument("--path", choices=["dense", "none", "sparse"], default="sparse")
    ap.add_argument("--period", type=int, default=24)
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--stride", type=int, default=1, help="training windows every this many rows")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    patch(args.path, args.period)
    import long_horizon

    z, b = long_horizon.scaled_splits(args.dataset)
    P, A, n_params, fit_s, epochs, _ = long_horizon.run_model(
        "LRUForecaster", z, b, args.horizon, 10, args.stride, {"random_state": args.seed}, split=args.split)
    print(f"{args.dataset}-{args.horizon} {args.split}, linear path {args.path}"
          f"{f' (period {args.period})' if args.path == 'sparse' else ''}: MSE {np.mean((P - A) ** 2):.4f}, "
          f"MAE {np.mean(np.abs(P - A)):.4f}, {n_params:,} parameters, fit {fit_s:.0f} s, {epochs} epochs")


if __name__ == "__main__":
    main()
