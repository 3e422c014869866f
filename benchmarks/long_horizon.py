"""Long-horizon forecasting on ETTh1/ETTm1/Weather under the standard protocol.

Protocol (``../shared/datasets/SOURCES.md``): train/val/test borders 12/4/4 months
(ETTm: x4 rows); StandardScaler fitted on the train rows; every test window of
``look-back`` inputs and ``horizon`` targets whose targets lie in the test split
(2785 origins for ETTh1 at horizon 96); MSE and MAE on the scaled values, all
channels. The baselines (persistence, seasonal naive, channel-independent Ridge
on the last 336 values) validate the harness against REFERENCES.md.

tsrec models are fitted on the train + validation rows with
``validation_fraction`` equal to the validation split (so early stopping uses
exactly the standard validation rows), refitted on all of them for the epochs
early stopping chose (``refit=True``, since session 48), and scored with
``rolling_forecasts`` over the test rows as a continuation. Every model runs the same recipe (``RECIPE``):
the direct head over segments of a 336-row window with instance normalisation and
channel independence (one network for all channels, as PatchTST/DLinear).

    python benchmarks/long_horizon.py --datasets ETTh1 --horizons 96 --models baselines LRUForecaster
"""

from __future__ import annotations

import argparse
import itertools
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tsrec  # noqa: E402
from tsrec.datasets import load_dataset, split_borders  # noqa: E402

PUBLISHED = {  # fair MSE (every test origin, REFERENCES.md): best published model of the cell
    ("ETTh1", 96): ("SegRNN", 0.351), ("ETTh1", 720): ("SparseTSF", 0.426),
    ("ETTm1", 96): ("DUET", 0.279), ("ETTm1", 720): ("DUET", 0.405),
}
#: the recipe every model runs with (chosen on validation splits, see RESULTS.md): a direct head over
#: 24-row segments of a 336-row window, two layers, instance normalisation, channel independence, one-cycle
#: lr (the ETTh1 validation split); the MAE loss and look-back 336 (the validation splits of ETTh1, ETTh2, ETTm1
#: and ETTm2 pooled, session 5). A batch of 32 windows holds 32 x 7 channel series (channel independence), the
#: 224 series per step of the study. No Theta combination (the default since session 12): the recipe's figures
#: of record were made without it. Since session 48 the network is refitted on every fitted row for the epochs
#: early stopping chose (``refit=True``, benchmarks/rules/2026-12-07_refit.md; the test protocol then trains on
#: the validation rows too, which the published anchors use for early stopping only); figures of record made
#: before it say so.
RECIPE = dict(context=336, patch_len="auto", d_model=64, n_layers=2, dropout=0.3, lr=1e-3, batch_size=32,
              lr_schedule="onecycle", loss="mae", skip_last=False, instance_norm=True, theta_weight=0.0, refit=True)
DEFAULTS = {
    "LRUForecaster": dict(d_state=64, r_min=0.5, r_max=0.99),
    "LEMForecaster": dict(),
    "S4Forecaster": dict(d_state=64),
    "AarenForecaster": dict(n_heads=4),
    "TransformerForecaster": dict(n_heads=4, window=None),
}


def machine() -> str:
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name"))
    except Exception:
        model = platform.processor()
    return f"{model}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def scaled_splits(name: str):
    # weather: one duplicated stamp and one gap; published results treat the rows as consecutive
    df = load_dataset(name, consecutive=True) if name == "weather" else load_dataset(name)
    b = split_borders(name, len(df))
    train = df.iloc[: b.train_end]
    mean, std = train.mean(), train.std(ddof=0)
    z = (df - mean) / std
    return z.iloc[: b.test_end], b


def test_windows(z: pd.DataFrame, b, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, lookback, C) and targets (N, horizon, C) of every standard test origin."""
    v = z.to_numpy()
    starts = np.arange(b.val_end - lookback, b.test_end - lookback - horizon + 1)
    X = np.stack([v[s : s + lookback] for s in starts])
    Y = np.stack([v[s + lookback : s + lookback + horizon] for s in starts])
    return X, Y


def baselines(z, b, horizon: int, lookback: int = 336) -> dict[str, np.ndarray]:
    from sklearn.linear_model import Ridge

    X, Y = test_windows(z, b, lookback, horizon)
    season = {"h": 24, "15min": 96, "10min": 144}.get(pd.infer_freq(z.index[:100]), 24)
    reps = int(np.ceil(horizon / season))
    preds = {
        "persistence": np.repeat(X[:, -1:], horizon, axis=1),
        "seasonal naive": np.concatenate([X[:, -season:]] * reps, axis=1)[:, :horizon],
    }
    v = z.to_numpy()
    # channel-independent Ridge: one model for all channels, penalty chosen on the validation rows
    def cw(lo, hi):
        starts = np.arange(lo, hi - lookback - horizon + 1)
        xs = np.concatenate([np.stack([v[s : s + lookback, c] for s in starts]) for c in range(v.shape[1])])
        ys = np.concatenate([np.stack([v[s + lookback : s + lookback + horizon, c] for s in starts])
                             for c in range(v.shape[1])])
        return xs, ys

    xtr, ytr = cw(0, b.train_end)
    xva, yva = cw(b.train_end - lookback, b.val_end)
    best = min((float(np.mean((Ridge(alpha=a).fit(xtr, ytr).predict(xva) - yva) ** 2)), a)
               for a in (1, 10, 100, 1000, 10000))
    ridge = Ridge(alpha=best[1]).fit(xtr, ytr)
    preds["ridge (CI, 336)"] = np.stack([ridge.predict(X[:, :, c]) for c in range(X.shape[2])], axis=-1)
    return {k: p for k, p in preds.items()}, Y


def run_model(name: str, z, b, horizon: int, epochs: int, stride: int, extra: dict, defaults: bool = False,
              split: str = "test"):
    """Fit on the train + validation rows (early stopping on exactly the validation rows) and forecast every
    test origin with ``rolling_forecasts``. ``defaults``: the estimator's own defaults, only the protocol set
    (look-back 336, the validation rows, a seed), instead of the recipe. ``split="val"``: the same one level
    down, for choosing: fit on the training rows (early stopping on their last quarter) and forecast every
    validation origin; no test row is read. ``split="inner"``: one level further down, inside the training rows
    alone: the last validation-length of the training rows is scored after a fit on the rows before it (a
    second validation split, for choices the standard one cannot separate)."""
    if split == "val":
        trainval, test = z.iloc[: b.train_end], z.iloc[b.train_end : b.val_end]
        vf = 0.25
    elif split == "inner":
        cut = b.train_end - (b.val_end - b.train_end)
        trainval, test = z.iloc[:cut], z.iloc[cut : b.train_end]
        vf = 0.25
    else:
        trainval, test = z.iloc[: b.val_end], z.iloc[b.val_end :]
        vf = (b.val_end - b.train_end) / b.val_end
    params = dict(horizon=horizon, context=336, validation_fraction=vf, random_state=0, device="cpu")
    if not defaults:
        params.update(max_epochs=epochs, stride=stride, patience=3, **RECIPE, **DEFAULTS.get(name, {}))
    params.update(extra)
    est = getattr(tsrec, name)(**params)
    t0 = time.perf_counter()
    est.fit(trainval)
    fit_s = time.perf_counter() - t0
    preds, actual = est.rolling_forecasts(test)
    P, A = preds[0], actual[0]
    full = ~np.isnan(A).any(axis=(1, 2))
    P, A = P[full], A[full]
    n_params = sum(p.numel() for p in est.model_.parameters())
    return P, A, n_params, fit_s, len(est.history_["loss"]), est.frame_.context


def combine(files: list[str]) -> None:
    """Print the MSE and MAE of the mean of the forecasts in ``files`` (saved by ``--save``, one cell)."""
    cells = {"_".join(Path(f).name.split("_")[:2]) for f in files}
    if len(cells) != 1:
        raise SystemExit(f"--combine takes the forecasts of one cell, got {sorted(cells)}")
    actual = np.load(Path(files[0]).with_name(f"{cells.pop()}_actual.npy"))
    P = np.mean([np.load(f) for f in files], axis=0, dtype=np.float64)
    print(f"mean of {len(files)} fits ({', '.join(Path(f).stem for f in files)}): "
          f"MSE {np.mean((P - actual) ** 2):.4f}, MAE {np.mean(np.abs(P - actual)):.4f}")


def choose_subset(val_dir: str, test_dir: str) -> None:
    """Per cell saved in both folders (``--save`` of a ``--split val`` run and of a test run, the same fits
    otherwise): among the means of every non-empty subset of the fits saved in both, the one with the lowest
    validation MSE (ensemble selection on validation); print the five best on validation and the chosen one's
    test MSE and MAE, beside the mean of all of them."""
    val_dir, test_dir = Path(val_dir), Path(test_dir)
    for actual_file in sorted(test_dir.glob("*_actual.npy")):
        cell = actual_file.name[: -len("_actual.npy")]
        if not (val_dir / actual_file.name).exists():
            continue
        labels = sorted(f.stem[len(cell) + 1:] for f in test_dir.glob(f"{cell}_*.npy") if f != actual_file
                        and (val_dir / f"{f.stem}_[val].npy").exists())
        if not labels:
            continue
        files = {"val": (val_dir / actual_file.name, {lab: val_dir / f"{cell}_{lab}_[val].npy" for lab in labels}),
                 "test": (actual_file, {lab: test_dir / f"{cell}_{lab}.npy" for lab in labels})}
        actual = {phase: np.load(a).astype(np.float64) for phase, (a, _) in files.items()}
        preds = {phase: {lab: np.load(f).astype(np.float64) for lab, f in fs.items()}
                 for phase, (_, fs) in files.items()}

        def score(subset: tuple[str, ...], phase: str, metric=np.square) -> float:
            P = np.mean([preds[phase][lab] for lab in subset], axis=0)
            return float(np.mean(metric(P - actual[phase])))

        subsets = [s for k in range(1, len(labels) + 1) for s in itertools.combinations(labels, k)]
        ranked = sorted(subsets, key=lambda s: score(s, "val"))
        print(f"{cell}: the five best of {len(subsets)} subsets on validation (val MSE):")
        for s in ranked[:5]:
            print(f"  {score(s, 'val'):.4f}  {' + '.join(s)}")
        chosen, every = ranked[0], tuple(labels)
        for name, s in (("chosen on validation", chosen), (f"mean of all {len(labels)}", every)):
            print(f"{cell} {name} ({' + '.join(s)}): val MSE {score(s, 'val'):.4f}; test MSE {score(s, 'test'):.4f},"
                  f" MAE {score(s, 'test', np.abs):.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["ETTh1"])
    ap.add_argument("--horizons", nargs="+", type=int, default=[96])
    ap.add_argument("--models", nargs="+", default=["baselines", "LRUForecaster"])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--stride", type=int, default=1)
    ap.add_argument("--defaults", action="store_true", help="the estimators' defaults (+ look-back 336), no recipe")
    ap.add_argument("--param", action="append", default=[], help="extra hyperparameter key=value")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--split", choices=["test", "val", "inner"], default="test",
                    help="val: fit on the training rows, score the validation rows (for choosing; no Ridge row)")
    ap.add_argument("--ensemble", action="store_true", help="also score the mean forecast of the models run")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0], help="random_state of each fit (one row each)")
    ap.add_argument("--results", default=str(Path(__file__).with_name("RESULTS.md")))
    ap.add_argument("--save", default=None, help="a folder: each fit's test forecasts as DATA_H_LABEL.npy, and the "
                    "actual values as DATA_H_actual.npy (for ensembles of fits run apart; see --combine)")
    ap.add_argument("--combine", nargs="+", default=None, help="forecast .npy files saved by --save (one cell): "
                    "score their mean against the cell's actual values and stop")
    ap.add_argument("--choose-subset", nargs=2, default=None, metavar=("VAL_DIR", "TEST_DIR"),
                    help="folders saved by --save from a --split val run and a test run of the same fits: the mean "
                    "of the subset of fits with the lowest validation MSE, scored on the test rows, and stop")
    args = ap.parse_args()
    if args.choose_subset:
        choose_subset(*args.choose_subset)
        return
    if args.combine:
        combine(args.combine)
        return
    torch.set_num_threads(args.threads)
    extra = {}
    for kv in args.param:
        k, v = kv.split("=", 1)
        extra[k] = eval(v, {}, {})  # numbers, None, tuples from the command line
    rows = []
    for ds in args.datasets:
        z, b = scaled_splits(ds)
        for H in args.horizons:
            members = []
            for model in args.models:
                if model == "baselines" and args.split != "test":
                    continue
                if model == "baselines":
                    preds, Y = baselines(z, b, H)
                    for label, P in preds.items():
                        rows.append((ds, H, label, np.mean((P - Y) ** 2), np.mean(np.abs(P - Y)), "-", "-", 336,
                                     len(Y), "-"))
                    continue
                for seed in args.seeds:
                    P, A, n_params, fit_s, n_ep, ctx = run_model(model, z, b, H, args.epochs, args.stride,
                                                                 {"random_state": seed, **extra}, args.defaults,
                                                                 args.split)
                    label = model + (" (defaults)" if args.defaults else "") + (f" seed {seed}" if seed else "")
                    label += f" [{args.split}]" if args.split != "test" else ""
                    rows.append((ds, H, label, np.mean((P - A) ** 2), np.mean(np.abs(P - A)), n_params,
                                 f"{fit_s:.0f}", ctx, len(P), n_ep))
                    members.append((P, A, n_params, fit_s, ctx))
                    if args.save:
                        folder = Path(args.save)
                        folder.mkdir(parents=True, exist_ok=True)
                        np.save(folder / f"{ds}_{H}_{label.replace(' ', '_')}.npy", P.astype(np.float32))
                        np.save(folder / f"{ds}_{H}_actual.npy", A.astype(np.float32))
                    print(rows[-1], flush=True)
            if args.ensemble and len(members) > 1:
                P = np.mean([m[0] for m in members], axis=0)
                A = members[0][1]
                rows.append((ds, H, f"mean of the {len(members)} fits above", np.mean((P - A) ** 2),
                             np.mean(np.abs(P - A)), sum(m[2] for m in members), f"{sum(m[3] for m in members):.0f}",
                             members[0][4], len(P), "-"))
                print(rows[-1], flush=True)
            if (ds, H) in PUBLISHED:
                print(f"best fair published MSE {ds}-{H}: {PUBLISHED[ds, H][0]} {PUBLISHED[ds, H][1]}")
    header = ("| data | H | model | MSE | MAE | params | fit s | look-back | origins | epochs |\n"
              "|---|---|---|---|---|---|---|---|---|---|")
    lines = [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.3f} | {r[5]} | {r[6]} | {r[7]} | {r[8]} | {r[9]} |"
             for r in rows]
    table = "\n".join([header, *lines])
    print(table)
    cmd = "python benchmarks/long_horizon.py " + " ".join(sys.argv[1:])
    with open(args.results, "a") as f:
        f.write(f"\n### Long horizon, {date.today()}\n\nMachine: {machine()}. Command: `{cmd}`\n\n{table}\n")


if __name__ == "__main__":
    main()
