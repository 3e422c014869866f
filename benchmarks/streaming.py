"""Streaming benchmark: prequential (test-then-train) MSE, throughput and memory on ETTh1 and ETTm1.

Protocol (REFERENCES.md, "For streams"): the OT column, standardised by the
mean and std of the first 10% of rows; every model learns the first 10% (the
warm-up), then forecasts the next 24 steps at an origin, is scored (MSE
averaged over the 24 steps), sees the next 16 rows with ``partial_fit`` (one
gradient step for the tsrec models), and so on to the end of the series
(:func:`tsrec.evaluation.prequential` with ``step=16``; every model is scored
at the same origins). Persistence is also run at every origin (``step=1``)
to check the harness against the published 0.218 (ETTh1) / 0.079 (ETTm1).

Models: the tsrec forecasters (d_model 64, 2 layers; the stateful ``context=None`` model with one gradient
step per chunk, and for LRU and S4 also the default window model with ``online_update="ridge"``: its
weights frozen after the warm-up, its forecast corrected online in closed form), persistence, seasonal
naive, river's SNARIMAX and an online linear regression on 48 lagged
changes (forecast recursively), and sktime's NaiveForecaster (seasonal mean
of the last week) kept current by ``update``. A separate run streams a real
series looped to ``--rss-steps`` steps through LRUForecaster (d_model 64, one
gradient step per 16 rows, a forecast after each chunk) and records the
resident memory.

Each model runs in its own process on one torch thread, ``--jobs`` at a time;
the timing profile of LRUForecaster runs first, alone.
Results are printed and appended to benchmarks/RESULTS.md.

    python benchmarks/streaming.py            # full run (about 10 min on 2 idle cores)
    python benchmarks/streaming.py --quick    # ETTm1 cut to 20k rows, 3 epochs, 20k-step memory run
    python benchmarks/streaming.py --rss-steps 1000000 --only rss   # the 10^6-step memory run alone
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import multiprocessing as mp
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HORIZON, STEP = 24, 16
#: a tsrec forecaster's name with this suffix: its window model with online_update="ridge"
RIDGE_SUFFIX = " (window, online ridge)"
#: the same window model, frozen after the warm-up (``partial_fit(update_params=False)``): the control
FROZEN_SUFFIX = " (window, frozen)"
#: the online ridge window model with ``persistence_blend=96`` (session 24)
BLEND_SUFFIX = " (window, online ridge, persistence blend)"
SEASON = {"ETTh1": 24, "ETTm1": 96}


def load(name: str, rows: int | None) -> tuple[np.ndarray, int]:
    from tsrec.datasets import load_ett

    y = load_ett(name, download=False)["OT"].to_numpy(np.float64)
    if rows:
        y = y[:rows]
    w = int(0.1 * len(y))
    z = (y - y[:w].mean()) / y[:w].std()
    return z[:, None], w


# ------------------------------------------------------------------ baselines
class RiverSNARIMAX:
    """river's SNARIMAX(p=4, d=1, q=1; seasonal AR(1) at the daily period) behind fit / partial_fit / predict.

    Its regressor is river's default (StandardScaler | LinearRegression) with SGD at lr 1e-3 and the gradient
    clipped at 1: with the default lr 0.01 and no clipping it diverges to inf on ETTm1."""

    def __init__(self, horizon: int, season: int):
        self.horizon, self.season = horizon, season

    def fit(self, X):
        from river import linear_model, optim, preprocessing, time_series

        regressor = preprocessing.StandardScaler() | linear_model.LinearRegression(
            optimizer=optim.SGD(1e-3), intercept_lr=1e-3, clip_gradient=1.0)
        self.model = time_series.SNARIMAX(p=4, d=1, q=1, m=self.season, sp=1, sq=0, regressor=regressor)
        return self.partial_fit(X)

    def partial_fit(self, X, update_params: bool = True):
        for v in np.asarray(X)[:, 0]:
            self.model.learn_one(float(v))
        return self

    def predict(self):
        return np.asarray(self.model.forecast(horizon=self.horizon), dtype=float)[:, None]


class RiverLagRegression:
    """river LinearRegression (SGD, lr 1e-3, gradient clipped) from the last ``n_lags`` changes to the next
    change, forecast recursively (the model of an online AR on differences)."""

    def __init__(self, horizon: int, n_lags: int = 48):
        self.horizon, self.n_lags = horizon, n_lags

    def fit(self, X):
        from river import linear_model, optim

        self.model = linear_model.LinearRegression(optimizer=optim.SGD(1e-3), intercept_lr=1e-3, clip_gradient=1.0)
        self.diffs: list[float] = []
        self.last: float | None = None
        return self.partial_fit(X)

    def _x(self, d: list[float]) -> dict[str, float]:
        return {f"d{k}": d[-1 - k] for k in range(self.n_lags)}

    def partial_fit(self, X, update_params: bool = True):
        for v in np.asarray(X)[:, 0]:
            v = float(v)
            if self.last is not None:
                dv = v - self.last
                if len(self.diffs) >= self.n_lags:
                    self.model.learn_one(self._x(self.diffs), dv)
                self.diffs = (self.diffs + [dv])[-self.n_lags :]
            self.last = v
        return self

    def predict(self):
        d, level, out = list(self.diffs), self.last, []
        for _ in range(self.horizon):
            step = self.model.predict_one(self._x(d)) if len(d) >= self.n_lags else 0.0
            level += step
            out.append(level)
            d = d[1:] + [step]
        return np.asarray(out)[:, None]


class SktimeSeasonalMean:
    """sktime NaiveForecaster(strategy="mean", sp=season, window of 7 seasons): each step forecast as the mean
    of the same phase over the last week, kept current with ``update`` after every chunk.

    (sktime's ExponentialSmoothing/Theta cannot take new data with ``update(update_params=False)`` -- statsmodels'
    Holt-Winters results have no ``append``, so their forecasts stay anchored at the end of the warm-up -- and a
    refit per chunk costs seconds; the seasonal mean is the classical model whose ``update`` is exact and cheap.)"""

    def __init__(self, horizon: int, season: int):
        self.horizon, self.season = horizon, season

    def fit(self, X):
        import pandas as pd
        from sktime.forecasting.naive import NaiveForecaster

        self.t = len(X)
        self.model = NaiveForecaster(strategy="mean", sp=self.season, window_length=7 * self.season)
        self.model.fit(pd.Series(np.asarray(X)[:, 0]), fh=np.arange(1, self.horizon + 1))
        return self

    def partial_fit(self, X, update_params: bool = True):
        import pandas as pd

        y = pd.Series(np.asarray(X)[:, 0], index=pd.RangeIndex(self.t, self.t + len(X)))
        self.model.update(y, update_params=True)
        self.t += len(X)
        return self

    def predict(self):
        return self.model.predict().to_numpy()[:, None]


#: the estimators' defaults before session 11 (and 12: no Theta combination), which this benchmark's figures of
#: record used (pinned since)
PINNED = dict(loss="mse", instance_norm=True, theta_weight=0.0)


def make_model(kind: str, dataset: str, quick: bool):
    from tsrec.estimators import FORECASTERS
    from tsrec.evaluation import Persistence, SeasonalNaive

    season = SEASON[dataset]
    suffix = next((s for s in (RIDGE_SUFFIX, FROZEN_SUFFIX, BLEND_SUFFIX) if kind.endswith(s)), None)
    if suffix is not None:  # a window model (automatic look-back), its weights frozen
        name = kind[: -len(suffix)]
        extra = {"LRUForecaster": dict(d_state=64), "S4Forecaster": dict(d_state=64)}.get(name, {})
        if suffix == BLEND_SUFFIX:
            extra["persistence_blend"] = 96
        # context: the automatic look-back of session 10's figures of record (504 rows at H = 24; at most eight
        # horizons, 192, since session 22's rule benchmarks/rules/2026-12-04_context_horizons.md)
        return FORECASTERS[name](horizon=HORIZON, d_model=64, n_layers=2, max_epochs=3 if quick else 5,
                                 device="cpu", random_state=0, online_update="ridge", context=504, **PINNED,
                                 **extra)
    if kind in FORECASTERS:
        extra = {"LRUForecaster": dict(d_state=64), "AarenForecaster": dict(n_heads=4),
                 "TransformerForecaster": dict(n_heads=4, window=192), "LEMForecaster": dict(),
                 "S4Forecaster": dict(d_state=64)}.get(kind, {})
        return FORECASTERS[kind](
            horizon=HORIZON, context=None, lr_schedule="constant", d_model=64, n_layers=2, chunk_length=96, lr=1e-3,
            batch_size=32,
            max_epochs=3 if quick else 5, stride=4 if dataset == "ETTh1" else 16, n_steps=1, device="cpu",
            random_state=0, **PINNED, **extra)
    return {
        "Persistence": lambda: Persistence(HORIZON),
        "SeasonalNaive": lambda: SeasonalNaive(HORIZON, season),
        "river.SNARIMAX": lambda: RiverSNARIMAX(HORIZON, season),
        "river.LinearRegression(48 lagged changes)": lambda: RiverLagRegression(HORIZON),
        "sktime.NaiveForecaster(seasonal mean)": lambda: SktimeSeasonalMean(HORIZON, season),
    }[kind]()


# ------------------------------------------------------------------ jobs
def _setup_worker() -> None:
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")


def run_prequential(kind: str, dataset: str, rows: int | None, quick: bool, step: int = STEP) -> dict:
    _setup_worker()
    from tsrec.evaluation import prequential

    z, w = load(dataset, rows)
    est = make_model(kind, dataset, quick)
    r = prequential(est, z, horizon=HORIZON, warmup=w, step=step, update_params=not kind.endswith(FROZEN_SUFFIX))
    return {"dataset": dataset, "model": kind, "step": step, **r.summary(),
            "update_ms": 1e3 * r.update_seconds / max(r.n_origins - 1, 1),
            "predict_ms": 1e3 * r.predict_seconds / max(r.n_origins, 1)}


def run_rss(steps: int, n_series: int = 1) -> dict:
    """LRUForecaster (d_model 64) on ETTh1 OT looped: 16-row chunks, one gradient step and one forecast each.
    ``n_series`` > 1: a panel of that many copies of the series, each started at its own offset (one batched
    ``partial_fit`` and ``predict`` per chunk of every series)."""
    _setup_worker()
    from tsrec import LRUForecaster
    from tsrec.evaluation import rss_mb

    z, w = load("ETTh1", None)
    n = len(z)
    offsets = [(97 * i) % n for i in range(n_series)]

    def rows(idx: np.ndarray):
        return z[idx] if n_series == 1 else [z[(idx + o) % n] for o in offsets]

    f = LRUForecaster(horizon=HORIZON, context=None, lr_schedule="constant", d_model=64, d_state=64, n_layers=2,
                      chunk_length=96, max_epochs=1, stride=8, n_steps=1, lr=1e-3, device="cpu",
                      random_state=0, **PINNED).fit(rows(np.arange(w)))
    pos = w
    marks, t_start, done = [], None, 0
    warm = 1024  # steps before the first RSS mark (optimizer state, allocator pools)
    n_chunks = (steps + STEP - 1) // STEP
    every = max(n_chunks // 10, 1)
    for i in range(n_chunks):
        idx = np.arange(pos, pos + STEP) % n
        f.partial_fit(rows(idx))
        f.predict()
        pos += STEP
        done += STEP
        if done == warm:
            t_start, rss0 = time.perf_counter(), rss_mb()["rss"]
            marks.append((done, rss0))
        elif done > warm and (i % every == 0 or i == n_chunks - 1):
            marks.append((done, rss_mb()["rss"]))
    seconds = time.perf_counter() - t_start
    rss = [m[1] for m in marks]
    return {"steps": done, "n_series": n_series, "throughput": n_series * (done - warm) / seconds,
            "rss_start_mb": rss[0], "rss_end_mb": rss[-1],
            "rss_max_mb": max(rss), "rss_growth_mb": rss[-1] - rss[0], "marks": marks, "peak_mb": rss_mb()["peak"]}


def run_profile(chunks: int = 300) -> dict:
    """Where the time of one 16-row partial_fit + predict goes (LRU, d_model 64), by cProfile cumulative time."""
    _setup_worker()
    import cProfile
    import pstats

    import torch

    from tsrec import LRUForecaster

    z, w = load("ETTh1", None)

    def fresh():
        return LRUForecaster(horizon=HORIZON, context=None, lr_schedule="constant", d_model=64, d_state=64,
                             n_layers=2, chunk_length=96, max_epochs=1, stride=8, device="cpu",
                             random_state=0, **PINNED).fit(z[:w])

    def loop(f, start, n):
        t = time.perf_counter()
        for i in range(n):
            f.partial_fit(z[start + STEP * i : start + STEP * (i + 1)])
            f.predict()
        return (time.perf_counter() - t) / n

    f = fresh()
    loop(f, w, 20)
    out = {"chunk_ms_1thread": 1e3 * loop(f, w + 320, chunks // 3)}
    torch.set_num_threads(2)
    out["chunk_ms_2threads"] = 1e3 * loop(f, w + 320 + STEP * (chunks // 3), chunks // 3)
    torch.set_num_threads(1)
    prof = cProfile.Profile()
    start = w + 320 + 2 * STEP * (chunks // 3)
    prof.enable()
    loop(f, start, chunks // 3)
    prof.disable()
    st = pstats.Stats(prof)
    total = sum(v[3] for k, v in st.stats.items() if k[2] in ("partial_fit", "predict") and "base.py" in k[0])
    parts = {}
    wanted = {
        "input validation (to_batch, seam check)": [("base.py", "_continue")],
        "gradient step: forward + loss": [("training.py", "sequence_loss")],
        "gradient step: backward + clip": [("training.py", "_backward_ok")],
        "gradient step: optimizer (AdamW)": [("adam.py", "step")],
        "advance the state over the new rows": [("base.py", "_advance")],
        "predict (model over the buffer)": [("base.py", "predict")],
        "linear_scan forward (numba, all calls)": [("cpu.py", "linear_scan_fwd")],
        "linear_scan backward (numba)": [("cpu.py", "linear_scan_bwd")],
    }
    for label, keys in wanted.items():
        sec = 0.0
        for key in keys:
            for (file, line, func), v in st.stats.items():
                if file.endswith(key[0]) and func == key[1]:
                    if len(key) == 3:  # only the calls of key[2] made directly by key[1]
                        for (_f2, _l2, fn2), v2 in st.stats.items():
                            if fn2 == key[2] and (file, line, func) in v2[4]:
                                sec += v2[4][(file, line, func)][3]
                    else:
                        sec += v[3]
        parts[label] = sec / total
    out["shares"] = parts
    # the eager-PyTorch floor of the same work: one gradient step on the 40-row segment (16 new rows
    # after the 24-row buffer) and one no-grad forward over the buffer, without any tsrec bookkeeping
    from tsrec.training import gradient_steps

    seq = torch.from_numpy(z[w : w + HORIZON + STEP].astype(np.float32))[None]
    cfg = f._train_config()

    def timed(fn, n=100):
        fn()
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return 1e3 * (time.perf_counter() - t) / n

    out["floor_step_ms"] = timed(lambda: gradient_steps(f.model_, f._optimizer, seq, None, HORIZON, 1, cfg))
    with torch.no_grad():
        out["floor_forward_ms"] = timed(lambda: f.model_(seq[:, :HORIZON]))
    return out


# ------------------------------------------------------------------ report
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
            f"load average at start {os.getloadavg()[0]:.1f}")


def table(rows: list[dict]) -> str:
    lines = ["| dataset | model | origins | MSE | MAE | throughput (obs/s) | update ms/chunk | predict ms | fit s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        mse, mae = (f"{v:.4f}" if np.isfinite(v) and abs(v) < 1e6 else "diverged" for v in (r["mse"], r["mae"]))
        lines.append(f"| {r['dataset']} | {r['model']} | {r['n_origins']} | {mse} | {mae} | "
                     f"{r['throughput']:,.0f} | {r['update_ms']:.2f} | {r['predict_ms']:.2f} | "
                     f"{r['fit_seconds']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="ETTm1 cut to 20k rows, 3 epochs, 20k-step memory run")
    p.add_argument("--jobs", type=int, default=2, help="models run at once, one process and torch thread each")
    p.add_argument("--rss-steps", type=int, default=None, help="length of the memory run (default 100k; quick 20k)")
    p.add_argument("--rss-series", type=int, default=1, help="series in the memory run's panel")
    p.add_argument("--models", nargs="*", default=None, help="subset of model names")
    p.add_argument("--only", choices=["prequential", "rss", "profile"], default=None)
    p.add_argument("--results", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = p.parse_args()
    from tsrec.estimators import FORECASTERS

    rows_m = 20_000 if args.quick else None
    rss_steps = args.rss_steps or (20_000 if args.quick else 100_000)
    kinds = list(FORECASTERS) + [k + s for k in ("LRUForecaster", "S4Forecaster")
                                 for s in (RIDGE_SUFFIX, FROZEN_SUFFIX, BLEND_SUFFIX)]
    kinds += ["Persistence", "SeasonalNaive", "river.SNARIMAX", "river.LinearRegression(48 lagged changes)",
              "sktime.NaiveForecaster(seasonal mean)"]
    if args.models:
        kinds = [k for k in kinds if k in args.models]
    header = f"machine: {machine()}\ndate: {dt.datetime.now().isoformat(timespec='seconds')}\n" \
             f"command: python {' '.join(sys.argv)}"
    print(header, flush=True)
    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")
    results: dict = {"table": [], "check": []}
    if args.only in (None, "profile"):  # alone, so that its timings see no other job
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            results["profile"] = pool.submit(run_profile).result()
        print("profile", results["profile"], flush=True)
    with cf.ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
        futs = {}
        if args.only in (None, "rss"):
            futs[pool.submit(run_rss, rss_steps, args.rss_series)] = ("rss",)
        if args.only in (None, "prequential"):
            for ds in ("ETTm1", "ETTh1"):  # the longer one first
                rows = rows_m if ds == "ETTm1" else None
                futs[pool.submit(run_prequential, "Persistence", ds, rows, args.quick, 1)] = ("check", ds)
                for kind in kinds:
                    futs[pool.submit(run_prequential, kind, ds, rows, args.quick)] = ("table", ds, kind)
        for fut in cf.as_completed(futs):
            tag = futs[fut]
            try:
                res = fut.result()
            except Exception as e:  # a baseline that fails is reported, not fatal
                print(f"{tag}: failed: {type(e).__name__}: {e}", flush=True)
                continue
            if tag[0] in ("table", "check"):
                results[tag[0]].append(res)
                print(f"{res['dataset']:6s} {res['model']:32s} step {res['step']:2d} mse {res['mse']:.4f} "
                      f"{res['throughput']:10,.0f} obs/s", flush=True)
            else:
                results[tag[0]] = res
                print(tag[0], {k: v for k, v in res.items() if k != "marks"}, flush=True)
    wall = time.perf_counter() - t0
    out = [f"\n## Streaming (prequential), {dt.date.today().isoformat()}\n", "```", header,
           f"wall time: {wall:.0f} s ({args.jobs} jobs; load average at end {os.getloadavg()[0]:.1f})", "```", ""]
    order = {k: i for i, k in enumerate(kinds)}
    if results["check"]:
        out.append("Harness check, persistence at every origin (step 1; REFERENCES.md: 0.218 ETTh1, 0.079 ETTm1"
                   + (", full series" if not args.quick else "; ETTm1 cut to 20k rows in --quick") + "): "
                   + ", ".join(f"{r['dataset']} {r['mse']:.4f}" for r in sorted(results["check"],
                                                                                   key=lambda r: r["dataset"])))
        out.append("")
    if results["table"]:
        rows = sorted(results["table"], key=lambda r: (r["dataset"], order.get(r["model"], 99)))
        out.append(f"Prequential MSE/MAE on OT (standardised by the first 10%), warm-up 10%, horizon 24, a forecast "
                   f"every {STEP} rows, then `partial_fit` on those {STEP} rows (tsrec: one gradient step). "
                   f"Throughput = rows ingested / time in predict + partial_fit, one core per model.\n")
        out.append(table(rows))
        out.append("")
    if "rss" in results and isinstance(results["rss"], dict):
        r = results["rss"]
        panel = f"a panel of {r['n_series']} copies at different offsets, " if r["n_series"] > 1 else ""
        out.append(f"Memory over a long stream: LRUForecaster (d_model 64, d_state 64, 2 layers), ETTh1 OT looped, "
                   f"{panel}{r['steps']:,} steps in 16-row chunks (one gradient step + one 24-step forecast per "
                   "chunk): "
                   f"RSS {r['rss_start_mb']:.1f} MB after 1,024 steps, {r['rss_end_mb']:.1f} MB at the end, max "
                   f"{r['rss_max_mb']:.1f} MB, growth {r['rss_growth_mb']:+.1f} MB; throughput {r['throughput']:,.0f} "
                   f"obs/s (rows of all series). RSS marks (steps, MB): "
                   + ", ".join(f"({s:,}, {m:.1f})" for s, m in r["marks"]))
        out.append("")
    if "profile" in results and isinstance(results["profile"], dict):
        r = results["profile"]
        out.append(f"Where the time goes (LRU d_model 64, one 16-row `partial_fit` + `predict`): "
                   f"{r['chunk_ms_1thread']:.1f} ms per chunk on 1 torch thread "
                   f"({STEP / r['chunk_ms_1thread'] * 1e3:,.0f} obs/s), {r['chunk_ms_2threads']:.1f} ms on 2 threads. "
                   f"Shares of the time under cProfile (they overlap: the scan loop is inside the others):\n")
        out += [f"- {k}: {v:.0%}" for k, v in r["shares"].items()]
        out.append(f"\nThe same work in plain eager PyTorch, without tsrec's bookkeeping: one gradient step on the "
                   f"{HORIZON + STEP}-row segment {r['floor_step_ms']:.1f} ms, one no-grad forward over the "
                   f"{HORIZON}-row buffer {r['floor_forward_ms']:.1f} ms.")
        out.append("")
    text = "\n".join(out)
    print(text)
    path = Path(args.results)
    if not path.exists():
        path.write_text("# Benchmark results\n")
    with path.open("a") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
