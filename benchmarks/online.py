"""Leak-free multivariate online forecasting (protocol P2 of ../shared/REFERENCES.md) on ETTm1 and ETTh2.

Borders of the OnlineTSF repository (``settings.py::get_borders``): hourly ETT
train [0, 2880), validation [2880, 3600), test [3600, 14400); ETTm the same
times, four times the rows (train [0, 11520), validation up to 14400, test up
to 57600). All seven channels, standardised by the mean and std of the train
rows; MSE and MAE on those scaled values over every test origin t (the last
input row; t = 3599 .. 14399 - H hourly), every step t+1..t+H and channel.

`--datasets weather` runs the same protocol on the Jena weather data (all 21 channels, 10-minute rows), which
P2's papers do not use, at P2's proportions (train 20%, validation to 25%, test the rest; a day is 144 rows).

Every method forecasts at every origin and learns only from rows already
observed at that origin:

- persistence (the last row) and seasonal naive (the same hour a day before);
- online ridge: channel independent, 336 lags minus the last value -> the next
  H values minus it, refitted once a day (24 h of rows) from the start of
  validation on every window whose targets are observed, the training rows'
  included (statistics from validation's start only: ETTm1 H=24 test 0.437
  against 0.441, session 26); its penalty chosen on the validation origins;
- tsrec ``LRUForecaster`` (defaults: window model, automatic look-back, up to
  ``--epochs`` epochs), fitted offline on the train rows (its early stopping on
  the last 10% of them), then streamed through validation and test in chunks of
  ``--stride`` rows: at the origins of a chunk (the row before it and its rows
  but the last) it forecasts with the weights it has, then ``partial_fit``
  takes the chunk (its gradient steps use windows whose targets lie in rows
  already seen). ``frozen``: no weight updates (``update_params=False``; the
  stream still moves); ``OGD``: one gradient step per chunk at the default lr
  (plain online gradient descent); other candidates differ in lr, steps and
  replay; ``ridge``: ``online_update="ridge"``, the weights frozen and the
  online closed-form correction of the forecast refitted at every chunk (its
  penalty and forgetting factor per candidate). The configuration reported as
  "best" is the one with the lowest MSE on the validation origins (never the test).

P2 updates after every row on the newest complete window; a stride of k rows
means that the forecast at an origin uses weights updated up to k - 1 rows
earlier (leak-free, staler). Published numbers: Proceed (KDD 2025) Tables 3-4.

    python benchmarks/online.py --quick                       # ETTh2 H=24, the first 2,000 test origins
    python benchmarks/online.py --datasets ETTh2 ETTm1 --horizons 24 48 96 --results benchmarks/RESULTS.md
    # base models and the means of their forecasts (every subset), one chosen per cell on validation:
    python benchmarks/online.py --datasets ETTh2 --param linear_path="'dense'" --save /tmp/p2 --label dense
    python benchmarks/online.py --datasets ETTh2 --param linear_path="'sparse'" --save /tmp/p2 --label sparse
    python benchmarks/online.py --combine /tmp/p2 dense sparse
    # a second validation fold (fit one validation length earlier), the choices by the mean of the two:
    python benchmarks/online.py --datasets ETTh2 --fold --save /tmp/p2f --label dense
    # the figures of record since session 24: the dense base, the ridge candidates, weighed against persistence
    # (persistence_blend=96, adopted by benchmarks/rules/2026-12-04_persistence_blend.md):
    python benchmarks/online.py --datasets ETTh2 ETTm1 --epochs 4 --stride 16 --threads 1 \
        --param linear_path="'dense'" --param persistence_blend=96 --fold \
        --candidates "ridge alpha auto, forgetting 0.999" "ridge alpha auto, forgetting 0.9999" \
        "ridge alpha 1000, forgetting 0.999" "ridge alpha 1000, forgetting 0.9999"
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime as dt
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from online_throughput import machine  # noqa: E402  (the same machine line in both online benchmarks)

CHANNELS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
PUBLISHED = {  # Proceed Tables 3-4 (REFERENCES.md): best published P2 test MSE, and PatchTST frozen / + OGD
    "best published (Proceed)": {("ETTm1", 24): 0.424, ("ETTm1", 48): 0.561, ("ETTm1", 96): 0.642,
                                 ("ETTh2", 24): 1.735, ("ETTh2", 48): 3.114, ("ETTh2", 96): 5.555},
    "PatchTST frozen (published)": {("ETTm1", 24): 0.549, ("ETTm1", 48): 0.726, ("ETTm1", 96): 0.769,
                                    ("ETTh2", 24): 2.880, ("ETTh2", 48): 4.103, ("ETTh2", 96): 6.178},
    "PatchTST + OGD (published)": {("ETTm1", 24): 0.455, ("ETTm1", 48): 0.598, ("ETTm1", 96): 0.674,
                                   ("ETTh2", 24): 2.092, ("ETTh2", 48): 3.434, ("ETTh2", 96): 5.770},
}


def borders(name: str) -> tuple[int, int, int, int]:
    """(train end, validation end, test end, rows per day) of an ETT dataset under P2; for weather (not in P2's
    papers), P2's proportions of its 52,696 rows: train 20%, validation to 25%, test the rest."""
    if name == "weather":
        n = 52_696
        return n // 5, n // 4, n, 144
    k = 4 if name.startswith("ETTm") else 1
    return 2880 * k, 3600 * k, 14400 * k, 24 * k


def load(name: str) -> np.ndarray:
    from tsrec.datasets import load_ett, load_weather

    if name == "weather":
        z = load_weather(download=False, consecutive=True).to_numpy(np.float64)  # all 21 channels
    else:
        z = load_ett(name, download=False)[CHANNELS].to_numpy(np.float64)
    train_end = borders(name)[0]
    return (z - z[:train_end].mean(0)) / z[:train_end].std(0)


class Scores:
    """Running sums of squared and absolute errors over (origin, step, channel)."""

    def __init__(self) -> None:
        self.se = self.ae = 0.0
        self.n = 0

    def add(self, pred: np.ndarray, true: np.ndarray) -> None:
        err = pred - true
        self.se += float(np.sum(err**2))
        self.ae += float(np.sum(np.abs(err)))
        self.n += err.size

    def result(self) -> dict:
        return {"mse": self.se / self.n, "mae": self.ae / self.n, "n": self.n}


def targets(z: np.ndarray, origins: np.ndarray, H: int) -> np.ndarray:
    """(n_origins, H, C): rows t+1..t+H of every origin t."""
    return z[origins[:, None] + 1 + np.arange(H)]


# ------------------------------------------------------------------ baselines
def naive(z: np.ndarray, origins: np.ndarray, H: int, period: int | None) -> dict:
    """Persistence (period None) or seasonal naive, scored over ``origins`` in blocks."""
    s = Scores()
    k = np.arange(1, H + 1)
    back = np.zeros(H, dtype=int) if period is None else k - period * np.ceil(k / period).astype(int)
    for start in range(0, len(origins), 2048):
        o = origins[start : start + 2048]
        s.add(z[o[:, None] + back], targets(z, o, H))  # row t + k - period * ceil(k / period), or t
    return s.result()


def ridge_windows(z: np.ndarray, origins: np.ndarray, H: int, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Channel-independent ridge rows at ``origins``: X (n * C, lags), Y (n * C, H), both minus the last value."""
    last = z[origins]  # (n, C)
    x = z[origins[:, None] - lags + 1 + np.arange(lags)] - last[:, None]  # (n, lags, C)
    y = z[origins[:, None] + 1 + np.arange(H)] - last[:, None]  # (n, H, C)
    return x.transpose(0, 2, 1).reshape(-1, lags), y.transpose(0, 2, 1).reshape(-1, H)


def online_ridge(z: np.ndarray, name: str, H: int, test_origins: np.ndarray, lags: int = 336,
                 alphas: tuple[float, ...] = (1.0, 100.0, 10_000.0)) -> dict:
    """The online ridge: refitted once a day on every window whose targets are observed by then.

    Sufficient statistics (X'X, X'Y) grow by the windows that completed during
    the day; each alpha is scored on the validation origins, the best one on
    the test origins."""
    train_end, val_end, _, day = borders(name)
    C = z.shape[1]
    xtx, xty = np.zeros((lags, lags)), np.zeros((lags, H))
    done = lags - 1  # windows with origin < done have been added

    def add_until(now: int) -> None:  # every window whose targets end at or before row ``now``
        nonlocal xtx, xty, done
        stop = now - H + 1  # origins o with o + H <= now
        for a in range(done, stop, 4096):
            o = np.arange(a, min(a + 4096, stop))
            X, Y = ridge_windows(z, o, H, lags)
            xtx += X.T @ X
            xty += X.T @ Y
        done = max(done, stop)

    val_origins = np.arange(train_end - 1, val_end - 1)
    scores = {a: (Scores(), Scores()) for a in alphas}
    all_origins = np.concatenate([val_origins, test_origins])
    for start in range(train_end - 1, int(all_origins[-1]) + 1, day):
        add_until(start)  # refit at the start of each day on what is observed at its first origin
        o = all_origins[(all_origins >= start) & (all_origins < start + day)]
        if len(o) == 0:
            continue
        X, Y = ridge_windows(z, o, H, lags)
        for a in alphas:
            W = np.linalg.solve(xtx + a * np.eye(lags), xty)
            pred = (X @ W).reshape(len(o), C, H).transpose(0, 2, 1) + z[o][:, None]
            true = Y.reshape(len(o), C, H).transpose(0, 2, 1) + z[o][:, None]
            is_val = o < val_end - 1
            if is_val.any():
                scores[a][0].add(pred[is_val], true[is_val])
            if (~is_val).any():
                scores[a][1].add(pred[~is_val], true[~is_val])
    best = min(alphas, key=lambda a: scores[a][0].result()["mse"])
    return {**scores[best][1].result(), "val_mse": scores[best][0].result()["mse"], "alpha": best}


# ------------------------------------------------------------------ tsrec
CANDIDATES = {  # name -> partial_fit settings (None: frozen)
    "frozen": None,
    "OGD": {},
    "OGD lr 3e-4": {"lr": 3e-4},
    "OGD lr 1e-4": {"lr": 1e-4},
    "OGD lr 1e-4, replay 512": {"lr": 1e-4, "replay_size": 512},
    **{f"ridge alpha {a:g}, forgetting {g:g}" if a != "auto" else f"ridge alpha auto, forgetting {g:g}":
       {"online_update": "ridge", "online_alpha": a, "online_forgetting": g}
       for a in ("auto", 1000.0) for g in (0.999, 0.9999, 1.0)},
}


def tsrec_fit(z: np.ndarray, name: str, H: int, epochs: int, seed: int, stride: int | str, extra: dict | None = None,
              train_end: int | None = None):
    """The offline fit on the train rows (``train_end``: on the rows before it instead)."""
    from tsrec import LRUForecaster

    train_end = borders(name)[0] if train_end is None else train_end
    # fitted with the ridge correction's buffers (inert until a "ridge" update: the same weights and forecasts
    # as online_update="sgd"), so that every candidate starts from the one fit
    # loss, instance_norm and theta_weight: the defaults before sessions 11 and 12, which the figures of record
    # used (pinned since)
    f = LRUForecaster(horizon=H, max_epochs=epochs, random_state=seed, device="cpu", stride=stride,
                      online_update="ridge", **{"loss": "mse", "instance_norm": True, "theta_weight": 0.0,
                                                **(extra or {})})
    t = time.perf_counter()
    f.fit(z[:train_end])
    return f, time.perf_counter() - t


def tsrec_stream(f, z: np.ndarray, start: int, stop: int, stride: int, last_origin: int, score_from: int,
                 update: bool, keep_forecasts: list | None = None) -> tuple[Scores, Scores, float]:
    """Stream ``f`` (its stream ends at row start - 1) through rows [start, stop): forecasts at every origin
    in [start - 1, last_origin], then ``partial_fit`` of the chunk (``update``: with its gradient steps).
    Scores origins before ``score_from`` in the first Scores (validation), the others in the second (test).
    ``keep_forecasts``: a list that receives the scored forecasts, (origins, H, C) float32 per chunk."""
    H = f.horizon
    val, test = Scores(), Scores()
    t = time.perf_counter()
    for a in range(start, stop, stride):
        chunk = z[a : min(a + stride, stop)]
        preds, _ = f.rolling_forecasts(chunk)
        o = np.arange(a - 1, a - 1 + len(chunk))
        keep = o <= last_origin
        if keep.any():
            p, o = preds[0][keep], o[keep]
            if keep_forecasts is not None:
                keep_forecasts.append(p.astype(np.float32))
            true = targets(z, o, H)
            is_val = o < score_from
            if is_val.any():
                val.add(p[is_val], true[is_val])
            if (~is_val).any():
                test.add(p[~is_val], true[~is_val])
        f.partial_fit(chunk, update_params=update)
    return val, test, time.perf_counter() - t


def run_cell(name: str, H: int, args) -> list[dict]:
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    z = load(name)
    train_end, val_end, test_end, day = borders(name)
    last_origin = test_end - H - 1 if not args.max_origins else min(test_end - H - 1, val_end - 1 + args.max_origins)
    test_origins = np.arange(val_end - 1, last_origin + 1)
    rows = [{"dataset": name, "H": H, "method": "persistence", **naive(z, test_origins, H, None)},
            {"dataset": name, "H": H, "method": "seasonal naive", **naive(z, test_origins, H, day)}]
    t = time.perf_counter()
    rows.append({"dataset": name, "H": H, "method": "online ridge", **online_ridge(z, name, H, test_origins),
                 "seconds": time.perf_counter() - t})
    fit_stride = int(args.fit_stride) if args.fit_stride.isdigit() else args.fit_stride
    base, fit_s = tsrec_fit(z, name, H, args.epochs, args.seed, fit_stride, args.extra)
    stop = last_origin + 2  # rolling_forecasts forecasts at every row of a chunk but its last
    candidates = {c: CANDIDATES[c] for c in (args.candidates or CANDIDATES)}

    def validate(fitted, start: int, phase: str) -> tuple[dict, dict]:
        """Every candidate on a copy of ``fitted`` (fitted on the rows before ``start``), streamed from ``start``
        to the validation's end: {candidate: (MSE there, the streamed model, seconds)} and, with --save, the
        forecasts (else None)."""
        scores, forecasts = {}, {}
        for cand, settings in candidates.items():
            f = copy.deepcopy(fitted).set_params(**{"online_update": "sgd", **(settings or {})})
            forecasts[cand] = [] if args.save else None  # kept only to be saved
            v, _, sec = tsrec_stream(f, z, start, val_end, args.stride, last_origin, val_end - 1,
                                     settings is not None, forecasts[cand])
            scores[cand] = (v.result()["mse"], f, sec)
            print(f"{name} H={H} {cand}: {phase} MSE {v.result()['mse']:.4f} ({sec:.0f} s)", flush=True)
        return scores, forecasts

    val_scores, val_forecasts = validate(base, train_end, "validation")
    fold_scores, fold_forecasts = {}, {}
    if args.fold:  # the same candidates fitted one validation length earlier, scored up to the validation's end
        start = train_end - (val_end - train_end)
        early, _ = tsrec_fit(z, name, H, args.epochs, args.seed, fit_stride, args.extra, train_end=start)
        fold_scores, fold_forecasts = validate(early, start, "fold")

    def choice_score(c: str) -> float:  # the validation MSE, averaged with the fold's under --fold
        return (val_scores[c][0] + fold_scores[c][0]) / 2 if args.fold else val_scores[c][0]

    best = min(val_scores, key=choice_score)
    # the test phase: frozen, OGD and the best on validation
    for cand in dict.fromkeys([c for c in ("frozen", "OGD") if c in val_scores] + [best]):
        vmse, f, vsec = val_scores[cand]
        test_forecasts = [] if args.save and cand == best else None
        _, te, sec = tsrec_stream(f, z, val_end, stop, args.stride, last_origin, val_end - 1,
                                  CANDIDATES[cand] is not None, test_forecasts)
        if test_forecasts is not None:
            phases = {"val": (train_end - 1, np.concatenate(val_forecasts[best])),
                      "test": (val_end - 1, np.concatenate(test_forecasts))}
            if args.fold:
                phases["fold"] = (2 * train_end - val_end - 1, np.concatenate(fold_forecasts[best]))
            save_forecasts(Path(args.save), f"{name}_{H}_{args.label}", z, phases, H)
        label = f"tsrec LRU {cand}" + (" (best on validation)" if cand == best else "")
        rows.append({"dataset": name, "H": H, "method": label, **te.result(), "val_mse": vmse,
                     **({"fold_mse": fold_scores[cand][0]} if args.fold else {}),
                     "seconds": vsec + sec, "fit_seconds": fit_s, "context": f.frame_.context})
        print(rows[-1], flush=True)
    return rows


def save_forecasts(folder: Path, stem: str, z: np.ndarray, phases: dict[str, tuple[int, np.ndarray]], H: int) -> None:
    """Save the forecasts of one cell's chosen candidate (``--save``) in each phase (``{phase: (first origin,
    forecasts)}``: val, test and, with ``--fold``, fold), and the actual values of those origins, as
    ``STEM_PHASE.npy`` and ``DATA_H_PHASE_actual.npy``."""
    folder.mkdir(parents=True, exist_ok=True)
    cell = "_".join(stem.split("_")[:2])
    for phase, (o0, pred) in phases.items():
        np.save(folder / f"{stem}_{phase}.npy", pred)
        np.save(folder / f"{cell}_{phase}_actual.npy", targets(z, np.arange(o0, o0 + len(pred)), H).astype(np.float32))


def combine(folder: str, labels: list[str]) -> str:
    """Per cell saved in ``folder``: each label's chosen candidate and the mean of every subset of two or more of
    them, scored on the validation and test origins; the contender with the lowest validation MSE is the cell's
    choice (where every label saved the ``--fold`` phase: the lowest mean of the validation and fold MSEs). The
    table shows each label alone and the choice (with more than five labels the subsets' columns are left out)."""
    folder = Path(folder)
    cells = sorted({tuple(f.name.split("_")[:2]) for f in folder.glob("*_val_actual.npy")},
                   key=lambda c: (c[0], int(c[1])))
    cells = [(d, h) for d, h in cells if all((folder / f"{d}_{h}_{lab}_test.npy").exists() for lab in labels)]
    subsets = [s for k in range(1, len(labels) + 1) for s in itertools.combinations(labels, k)]
    names = {s: s[0] if len(s) == 1 else "mean of " + " + ".join(s) for s in subsets}
    shown = subsets if len(labels) <= 5 else subsets[: len(labels)]
    out = ["| cell | " + " | ".join(names[s] for s in shown) + " | chosen on validation |",
           "|---|" + "---|" * (len(shown) + 1)]
    for d, h in cells:
        score = {}
        fold = all((folder / f"{d}_{h}_{lab}_fold.npy").exists() for lab in labels)
        for phase in ("val", "test", "fold") if fold else ("val", "test"):
            # one subset's mean at a time (float32 sums, float64 error sums): memory for the labels' forecasts
            actual = np.load(folder / f"{d}_{h}_{phase}_actual.npy")
            preds = {lab: np.load(folder / f"{d}_{h}_{lab}_{phase}.npy") for lab in labels}
            for s in subsets:
                mean = sum(preds[lab] for lab in s) / np.float32(len(s))
                score.setdefault(s, {})[phase] = float(np.mean((mean - actual) ** 2, dtype=np.float64))
            del preds
        for s in subsets:
            score[s]["choice"] = (score[s]["val"] + score[s]["fold"]) / 2 if fold else score[s]["val"]
        chosen = min(subsets, key=lambda s: score[s]["choice"])

        def cell(s: tuple[str, ...]) -> str:
            return (f"{score[s]['test']:.3f} [val {score[s]['val']:.4f}" + (f", fold {score[s]['fold']:.4f}" if fold
                                                                           else "") + "]")

        out.append(f"| {d} H={h} | " + " | ".join(cell(s) for s in shown) + f" | {names[chosen]}: {cell(chosen)} |")
    return "\n".join(out)


def report(rows: list[dict], args, header: str, wall: float) -> str:
    cells = sorted({(r["dataset"], r["H"]) for r in rows}, key=lambda c: (c[0] != "ETTm1", c[1]))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    by = {(r["dataset"], r["H"], r["method"]): r for r in rows}
    out = ["", f"## Online, protocol P2 (leak-free, multivariate), {dt.date.today().isoformat()}", "", "```", header,
           f"wall time: {wall:.0f} s", "```", "",
           "Test MSE (MAE) on scaled values, every test origin"
           + (f" (the first {args.max_origins} only)" if args.max_origins else "")
           + f"; tsrec streams in chunks of {args.stride} rows, fitted for at most {args.epochs} epochs "
           f"(training windows every {args.fit_stride} rows), "
           f"seed {args.seed}. "
           "Validation MSE (online, leak-free) in brackets for the tsrec candidates"
           + (" (and the fold's: the candidates fitted one validation length earlier, scored from there to the "
              "validation's end; the choice by the mean of the two)" if args.fold else "") + ".", "",
           "| method | " + " | ".join(f"{d} H={h}" for d, h in cells) + " |",
           "|---|" + "---:|" * len(cells)]
    for m in methods:
        vals = []
        for d, h in cells:
            r = by.get((d, h, m))
            if r is None:
                vals.append("-")
            else:
                extra = f" [val {r['val_mse']:.3f}" + (f", fold {r['fold_mse']:.3f}" if "fold_mse" in r else "") \
                    + "]" if "val_mse" in r and m.startswith("tsrec") else ""
                vals.append(f"{r['mse']:.3f} ({r['mae']:.3f}){extra}")
        out.append(f"| {m} | " + " | ".join(vals) + " |")
    for label, table in PUBLISHED.items():
        out.append(f"| {label} | " + " | ".join(f"{table[c]:.3f}" if c in table else "-" for c in cells) + " |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="*", default=["ETTh2", "ETTm1"])
    p.add_argument("--horizons", nargs="*", type=int, default=[24, 48, 96])
    p.add_argument("--stride", type=int, default=16, help="rows per partial_fit call")
    p.add_argument("--epochs", type=int, default=10, help="most offline epochs (early stopping may stop sooner)")
    p.add_argument("--fit-stride", default="auto", help="rows between the offline training windows")
    p.add_argument("--max-origins", type=int, default=None, help="score only the first N test origins")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", nargs="*", default=None, choices=list(CANDIDATES),
                   help="the tsrec candidates (default all; frozen and OGD are always tested)")
    p.add_argument("--quick", action="store_true", help="ETTh2 H=24, 2,000 test origins, 3 epochs")
    p.add_argument("--results", default=None, help="append the table to this file")
    p.add_argument("--param", action="append", default=[],
                   help="a hyperparameter of the offline fit, key=value (a Python literal)")
    p.add_argument("--save", default=None, help="a folder: the validation and test forecasts of each cell's "
                   "best candidate on validation, as DATA_H_LABEL_{val,test}.npy (for --combine)")
    p.add_argument("--label", default="base", help="the LABEL of --save's files")
    p.add_argument("--fold", action="store_true",
                   help="a second validation: the candidates fitted on the train rows but the last validation "
                   "length, scored from there to the validation's end; a candidate is chosen by the mean of the "
                   "two validation MSEs")
    p.add_argument("--combine", nargs="+", default=None, metavar=("FOLDER", "LABEL"),
                   help="FOLDER LABEL...: score each label's saved forecasts and the mean of every subset of them per "
                   "cell, and stop")
    args = p.parse_args()
    if args.combine:
        print(combine(args.combine[0], args.combine[1:]))
        return
    args.extra = {k: ast.literal_eval(v) for k, v in (kv.split("=", 1) for kv in args.param)}
    if args.quick:
        args.datasets, args.horizons, args.max_origins, args.epochs = ["ETTh2"], [24], args.max_origins or 2000, 3
    header = (f"machine: {machine()}\ndate: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
              f"command: python {' '.join(sys.argv)}")
    print(header, flush=True)
    t0 = time.perf_counter()
    rows = []
    for name in args.datasets:
        for H in args.horizons:
            rows += run_cell(name, H, args)
    text = report(rows, args, header, time.perf_counter() - t0)
    print(text)
    if args.results:
        with open(args.results, "a") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
