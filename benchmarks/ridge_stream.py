"""Does a streamed ridge partner forecast a stream better than a fixed one? (defaults, long single series)

For each series of a ``defaults.py`` set: ``LRUForecaster(horizon=h)`` with defaults is fitted on the first
``--fit-share`` of its rows. Where the fit took the ridge partner (``frame_.ridge_share > 0``), two copies of it
stream the rest in chunks of ``h`` rows, each forecasting the chunk before an updating ``partial_fit`` takes it:

- ``streamed``: after each call the chunk's windows join the ridge's sums and the map is solved again (what
  ``online_update="ridge"`` does since format 26: :func:`tsrec.estimators.online.streamed_ridge`);
- ``fixed``: the same model, its map as the fit left it (what the default ``online_update="sgd"`` does).

Both take the same gradient steps on the network (``online_update="sgd"``). This judged whether the default
should stream the map too (benchmarks/rules/2026-12-07_p2_streamed_ridge.md): it should not. Reported per
series: MAE of each over every chunk's ``h`` values (at most ``--chunks`` chunks), seasonal naive's at the same
origins, and the ratio streamed / fixed; the set's geometric mean of that ratio. Series whose fit took no ridge
are listed (both copies would be the same model).

    python benchmarks/ridge_stream.py --set fresh_n --save /tmp/ridge_stream_n.csv
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import defaults  # noqa: E402  (the series sets)
from online_throughput import machine  # noqa: E402


def stream_ridge(f, rows: np.ndarray, n_new: int) -> None:
    """Add the windows that the last ``n_new`` of ``rows`` (raw, the series so far) complete to ``f``'s ridge."""
    from tsrec.estimators.online import streamed_ridge
    from tsrec.training import ridge_host

    host = ridge_host(f.model_)
    out = streamed_ridge(host, [f.scaler_], [rows[:, None]], [n_new], f.device_)
    if out is not None:
        host.set_ridge(share=host.ridge_share, **out)


def run(s, fit_share: float, chunks: int, seed: int) -> dict:
    import tsrec

    y = s.y.to_frame("y")
    n_fit = int(len(y) * fit_share)
    t = time.perf_counter()
    f = tsrec.LRUForecaster(horizon=s.horizon, random_state=seed, device="cpu").fit(y.iloc[:n_fit])
    row = {"series": s.name, "rows": len(y), "fit_rows": n_fit, "horizon": s.horizon,
           "ridge_share": f.frame_.ridge_share, "fit_s": time.perf_counter() - t}
    if not f.frame_.ridge_share:
        return row
    copies = {"streamed": f, "fixed": copy.deepcopy(f)}
    errors = {name: [] for name in copies} | {"seasonal naive": []}
    values = y["y"].to_numpy()
    for k in range(chunks):
        a = n_fit + k * s.horizon
        if a + s.horizon > len(y):
            break
        actual = values[a : a + s.horizon]
        for name, g in copies.items():
            errors[name].append(np.abs(g.predict().to_numpy().ravel() - actual))
            g.partial_fit(y.iloc[a : a + s.horizon])
            if name == "streamed":
                stream_ridge(g, values[: a + s.horizon], s.horizon)
        m = s.period if s.period and s.period <= a else 1
        errors["seasonal naive"].append(np.abs(defaults.seasonal_naive(values[:a], s.horizon, m) - actual))
    row.update({f"mae {name}": float(np.mean(e)) for name, e in errors.items()})
    row["chunks"] = len(errors["fixed"])
    row["streamed / fixed"] = row["mae streamed"] / row["mae fixed"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--set", default="fresh_n", help="a defaults.py set (its SET_name_list function)")
    p.add_argument("--fit-share", type=float, default=0.7)
    p.add_argument("--chunks", type=int, default=100, help="most chunks streamed per series")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--save", default=None, help="a CSV of the per-series rows")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    print(f"machine: {machine()}\ndate: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
          f"command: python {' '.join(sys.argv)}", flush=True)
    rows = []
    for s in getattr(defaults, f"{args.set}_list")():
        rows.append(run(s, args.fit_share, args.chunks, args.seed))
        print(rows[-1], flush=True)
        if args.save:
            pd.DataFrame(rows).to_csv(args.save, index=False)
    df = pd.DataFrame(rows)
    took = df[df["ridge_share"] > 0]
    print(df.to_string(index=False))
    if len(took):
        ratio = np.exp(np.log(took["streamed / fixed"]).mean())
        print(f"{len(took)} of {len(df)} fits took the ridge; MAE streamed / fixed, geometric mean {ratio:.4f}, "
              f"worst {took['streamed / fixed'].max():.4f}, better on {(took['streamed / fixed'] < 1).sum()}")


if __name__ == "__main__":
    main()
