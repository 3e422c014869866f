"""Screen classical partners for the defaults' combination, offline, from saved network forecasts.

Dated (session 56): ``today`` below is the partner of sessions 14-16, damped Holt or the one-season Theta on the
network's window. Since then the defaults have gained a history partner that reads the seasons before the window,
its seasonal-naive blends, naive and ridge shares and a coarse share, none of which ``mix`` reproduces. Its "today"
row is no longer the defaults' forecast. For a partner candidate in today's pipeline, patch :mod:`tsrec.nn.window`
and run ``defaults.py`` as ``benchmarks/holt_winters_partner.py`` does.

The defaults forecast ``(1 - w) * network + w * partner``, with ``partner`` a classical
forecast of the network's own window (``theta_weight``, ``partner``). This script asks which
classical partner, on which history, would serve the combination better,
without retraining: it mixes the network's own forecasts (``defaults.py
--param theta_weight=0.0 --folds 4 --save DIR``) with partners computed by
statsforecast on the same validation origins, and scores the mixes by MAE over
seasonal naive's (geometric mean over the series of a set).

Three steps, because statsforecast pins other pandas than tsrec's environment:

    python benchmarks/defaults.py --set short --split val --folds 4 --models LRUForecaster \\
        --param theta_weight=0.0 --save NET/short          # and --set trend, --set unseen
    python benchmarks/partner_screen.py windows --out W.pkl                   # tsrec's environment
    SF/bin/python benchmarks/partner_screen.py partners W.pkl --models theta dotm autoets --history window \\
        --out P.pkl                          # an environment with statsforecast (pip install statsforecast)
    python benchmarks/partner_screen.py score W.pkl P.pkl --net NET --sets short trend

Or at today's shares, with any partner written in Python (``score`` uses fixed shares and network forecasts
saved by whatever version made them; in session 16 such a screen said better on the trend set where the run through
the estimators said worse):

    python benchmarks/partner_screen.py collect --set trend --out trend.pkl   # one LRU fit per block, defaults
    python benchmarks/partner_screen.py mix trend.pkl --partner mypartners:holt
        # mypartners.holt(window, history, horizon, period) -> (horizon,) array, importable
    python benchmarks/partner_screen.py mix trend.pkl --fewest 1.0   # today's partner, other shares

``collect`` fits with the defaults and keeps, per forecast origin, the network's own forecast (the same fit with
its share set to 0), the window its frame reads, the rows before the origin, the actual values and the share the
fit chose; ``mix`` prints the network, today's combination (the defaults' forecasts, exactly) and the candidate's
at the same share. The candidate's figure is an estimate: early stopping scores the combination, so a fit with the
candidate could stop at another epoch (fits too short for a validation tail are exact).

``--history window`` gives each partner the rows the network sees (its
automatic context); ``--history long`` the last ``max(context, 20 periods)``
rows before the origin, what ``defaults.py`` gives Holt-Winters and Theta;
``--history long-params`` fits on those rows and runs the fitted model over
the window alone (the ETS models: statsforecast's ``forward``).
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

FOLDS = 4
SETS = ("short", "trend", "unseen")


def windows(out: str) -> None:
    """Per set and series: (name, horizon, period, [(window, history, actual, frame period)] per origin), in
    the order ``defaults.py --folds 4`` saves its forecasts."""
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import defaults

    from tsrec.estimators.frame import infer_period, resolve

    lists = {"short": defaults.short_series_list, "trend": defaults.trend_series_list,
             "unseen": defaults.unseen_series_list}
    data = {}
    for name, series_list in lists.items():
        rows = []
        for s in series_list():
            y = s.y.to_numpy(float)
            period = infer_period(pd.infer_freq(s.y.index), y)
            items = []
            for fold in reversed(range(FOLDS)):  # oldest block first, as run_series
                n_fit, block = defaults.origins_of(len(y), s.horizon, "val", fold)
                frame = resolve("auto", "auto", "auto", [n_fit], s.horizon, 0.1, period)
                items += [(y[o - frame.context : o], y[:o], y[o : o + s.horizon], frame.period) for o in block]
            rows.append((s.name, s.horizon, s.period, items))
        data[name] = rows
    with open(out, "wb") as f:
        pickle.dump(data, f)


def _model(name: str, m: int):
    from statsforecast.models import AutoETS, AutoTheta, DynamicOptimizedTheta, Theta

    seasonal = m > 1
    return {
        "theta": lambda: Theta(season_length=m, decomposition_type="additive"),
        "dotm": lambda: DynamicOptimizedTheta(season_length=m, decomposition_type="additive"),
        "autotheta": lambda: AutoTheta(season_length=m, decomposition_type="additive"),
        "damped": lambda: AutoETS(season_length=m, model="AAA" if seasonal else "AAN", damped=True),
        "holt": lambda: AutoETS(season_length=m, model="AAA" if seasonal else "AAN", damped=False),
        "autoets": lambda: AutoETS(season_length=m, model="ZZZ"),
        "autoets_additive": lambda: AutoETS(season_length=m, model="AZA" if seasonal else "AZZ"),
    }[name]()


def damped_grid(x: np.ndarray, h: int, period: int | None) -> np.ndarray:
    """tsrec's damped Holt for windows (:func:`tsrec.nn.damped.damped_forecast`; tsrec's environment)."""
    import torch

    from tsrec.nn.damped import damped_forecast

    return damped_forecast(torch.from_numpy(np.asarray(x, float))[None], h, period)[0].numpy()


def _forecast(name: str, x: np.ndarray, h: int, period: int | None, window: np.ndarray | None = None) -> np.ndarray:
    """The partner's forecast of ``h`` steps from ``x``: seasonal where ``x`` holds two periods and two rows,
    else (or where the seasonal fit fails) without a season; the last value where both fail. ``window``: fit on
    ``x``, then run the fitted model (its parameters) over ``window`` alone and forecast from there."""
    if name == "damped_grid":
        return damped_grid(x if window is None else window, h, period)
    m = period if period and period > 1 and len(x) >= 2 * period + 2 else 1
    for season in dict.fromkeys((m, 1)):
        try:
            if window is None:
                return np.asarray(_model(name, season).forecast(y=x, h=h)["mean"], float)
            return np.asarray(_model(name, season).fit(y=x).forward(y=window, h=h)["mean"], float)
        except Exception:  # statsforecast raises on too few rows for a model
            continue
    return np.repeat((x if window is None else window)[-1], h)


def partners(window_file: str, models: list[str], history: str, sets: list[str], out: str) -> None:
    with open(window_file, "rb") as f:
        data = pickle.load(f)
    res = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for set_name in sets:
            for name, h, period, items in data[set_name]:
                for model in models:
                    res[(set_name, name, model)] = np.stack([
                        _forecast(model, win if history == "window" else hist[-max(len(win), 20 * period):], h,
                                  frame_period, win if history == "long-params" else None)
                        for win, hist, _, frame_period in items])
    with open(out, "wb") as f:
        pickle.dump({"history": history, "forecasts": res}, f)


def score(window_file: str, partner_files: list[str], net: str, sets: list[str], weights: list[float]) -> None:
    """Print, per set, the geometric mean of MAE / seasonal naive of the network alone, each partner alone and
    each mix ``(1 - w) * network + w * partner``."""
    with open(window_file, "rb") as f:
        data = pickle.load(f)
    forecasts = {}
    for file in partner_files:
        with open(file, "rb") as f:
            p = pickle.load(f)
        forecasts.update({(s, n, f"{m} ({p['history']})"): v for (s, n, m), v in p["forecasts"].items()})
    for set_name in sets:
        folder, ratios = Path(net) / set_name, {}
        for name, *_ in data[set_name]:
            stem = name.replace("/", "_")
            actual = np.load(folder / f"{stem}__actual.npy")
            network = np.load(folder / f"{stem}__LRUForecaster.npy")
            naive = np.mean(np.abs(np.load(folder / f"{stem}__seasonal naive.npy") - actual))
            def ratio(p: np.ndarray) -> float:
                return float(np.mean(np.abs(p - actual)) / naive)

            ratios.setdefault("network alone", []).append(ratio(network))
            for label in ("Theta", "Holt-Winters"):
                ratios.setdefault(f"{label} (defaults.py)", []).append(ratio(np.load(folder / f"{stem}__{label}.npy")))
            for (s, n, partner), p in forecasts.items():
                if (s, n) == (set_name, name):
                    ratios.setdefault(f"{partner} alone", []).append(ratio(p))
                    for w in weights:
                        ratios.setdefault(f"{partner}, share {w}", []).append(ratio((1 - w) * network + w * p))
        print(f"{set_name} ({len(data[set_name])} series), validation blocks, MAE / seasonal naive:")
        for label, r in ratios.items():
            print(f"  {label:36s} {np.exp(np.mean(np.log(r))):.3f}")


#: the defaults.py sets that ``collect`` knows, by the name of their list function
COLLECT_SETS = {"standard": "series_list", "short": "short_series_list", "trend": "trend_series_list",
                "unseen": "unseen_series_list", "tiny": "tiny_series_list", "fertility48": "fertility_check_list",
                "fertility_b": "fertility_b_list", "fertility_c": "fertility_c_list",
                "short_new": "short_new_list", "yearly_r": "yearly_r_list", "panels_r": "panels_r_list",
                "hourly10d": "hourly_stretch_list", "seasonal7": "seasonal_seven_list", "oneseason": "one_season_list",
                "seasonal_r": "seasonal_r_list", "panels_small": "panels_small_list",
                "seasonal_new": "seasonal_new_list"}


def collect(set_name: str, folds: int, seed: int) -> list[dict]:
    """One record per series: its name, horizon, period and, per origin of ``folds`` validation blocks, what
    :func:`mix` needs (tsrec's environment)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import defaults
    import torch

    import tsrec
    from tsrec.training import set_theta_weight

    torch.set_num_threads(1)
    out = []
    for s in getattr(defaults, COLLECT_SETS[set_name])():
        y, frame = s.y.to_numpy(float), s.y.to_frame("y")
        origins = []
        for fold in reversed(range(folds)):
            n_fit, block = defaults.origins_of(len(y), s.horizon, "val", fold)
            est = tsrec.LRUForecaster(horizon=s.horizon, random_state=seed, device="cpu").fit(frame.iloc[:n_fit])
            fr, H = est.frame_, s.horizon
            set_theta_weight(est.model_, 0.0)  # the same fit's network alone
            preds, _ = est.rolling_forecasts(frame.iloc[n_fit : block[-1] + H])
            # the window as the model reads it (scaled, float32) and back: a partner's choice among near-equal
            # fits can turn on the rounding
            mean, scale = est.scaler_.mean[0], est.scaler_.scale[0]
            for o in block:
                window = ((y[o - fr.context : o] - mean) / scale).astype(np.float32).astype(float) * scale + mean
                origins.append(dict(net=preds[0][o - n_fit, :, 0], window=window, history=y[:o],
                                    actual=y[o : o + H], context=fr.context, period=fr.period,
                                    share=fr.theta_weight, one_season=fr.one_season))
        out.append(dict(name=s.name, horizon=s.horizon, period=s.period, origins=origins))
        print(f"{s.name}: {len(origins)} origins, contexts {sorted({o['context'] for o in origins})}", flush=True)
    return out


def today(window: np.ndarray, history: np.ndarray, horizon: int, period: int | None,
          one_season: bool = False) -> np.ndarray:
    """Today's partner: damped Holt on the window, or the one-season Theta where the window holds one season."""
    import torch

    from tsrec.nn.damped import damped_forecast
    from tsrec.nn.theta import one_season_forecast

    x = torch.tensor(window, dtype=torch.float64)[None]
    f = one_season_forecast(x, horizon, period) if one_season else damped_forecast(x, horizon, period)
    return f[0].numpy()


def mix(records: list[dict], partner=None, fewest: float | None = None) -> None:
    """Print the geometric mean of MAE / seasonal naive of the network, today's combination and the candidate's:
    ``partner`` (default today's) at the fit's share, which ``fewest`` remaps: a share above 0.5 (a fit with fewer
    than 48 windows; at most 0.75 today) becomes ``0.5 + (fewest - 0.5) * (share - 0.5) / 0.25``."""
    rows = {"network": [], "today": [], "candidate": []}
    for r in records:
        err = {k: [] for k in rows}
        sn = []
        for o in r["origins"]:
            h, m, w = r["horizon"], r["period"], o["share"]
            w_cand = w if fewest is None or w <= 0.5 else 0.5 + (fewest - 0.5) * (w - 0.5) / 0.25
            hist = o["history"]
            naive = np.resize(hist[-m:], h) if len(hist) >= m else np.repeat(hist[-1], h)
            sn.append(np.mean(np.abs(naive - o["actual"])))
            mine = today(o["window"], hist, h, o["period"], o["one_season"])
            cand = mine if partner is None else np.asarray(partner(o["window"], hist, h, o["period"]), dtype=float)
            for k, f in (("network", o["net"]), ("today", (1 - w) * o["net"] + w * mine),
                         ("candidate", (1 - w_cand) * o["net"] + w_cand * cand)):
                err[k].append(np.mean(np.abs(f - o["actual"])))
        for k in rows:
            rows[k].append(np.mean(err[k]) / np.mean(sn))
    base = np.array(rows["today"])
    for k, v in rows.items():
        v = np.array(v)
        print(f"{k:10s} {np.exp(np.mean(np.log(v))):.4f}   series better / worse by 5% than today: "
              f"{np.sum(v < 0.95 * base)} / {np.sum(v > 1.05 * base)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)
    w = sub.add_parser("windows", help="the windows and histories of every validation origin (tsrec's environment)")
    w.add_argument("--out", required=True)
    p = sub.add_parser("partners", help="partner forecasts (an environment with statsforecast)")
    p.add_argument("windows")
    p.add_argument("--models", nargs="+", default=["theta", "dotm", "autotheta", "damped"])
    p.add_argument("--history", choices=["window", "long", "long-params"], default="window")
    p.add_argument("--sets", nargs="+", choices=SETS, default=["short", "trend"])
    p.add_argument("--out", required=True)
    s = sub.add_parser("score", help="score the mixes against the saved network forecasts")
    s.add_argument("windows")
    s.add_argument("partners", nargs="+")
    s.add_argument("--net", required=True, help="a folder with one --save folder per set, named as the set")
    s.add_argument("--sets", nargs="+", choices=SETS, default=["short", "trend"])
    s.add_argument("--weights", nargs="+", type=float, default=[0.5])
    c = sub.add_parser("collect", help="network forecasts, windows and today's shares (tsrec's environment)")
    c.add_argument("--set", choices=sorted(COLLECT_SETS), required=True)
    c.add_argument("--folds", type=int, default=FOLDS)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True)
    m = sub.add_parser("mix", help="mix collected network forecasts with a partner at today's shares")
    m.add_argument("records")
    m.add_argument("--partner", help="module:function, f(window, history, horizon, period); default today's")
    m.add_argument("--fewest", type=float, help="the candidate's share at 24 windows and fewer (today's: 0.75)")
    args = ap.parse_args()
    if args.step == "collect":
        Path(args.out).write_bytes(pickle.dumps(collect(args.set, args.folds, args.seed)))
    elif args.step == "mix":
        partner = None
        if args.partner:
            module, name = args.partner.split(":")
            partner = getattr(importlib.import_module(module), name)
        mix(pickle.loads(Path(args.records).read_bytes()), partner, args.fewest)
    elif args.step == "windows":
        windows(args.out)
    elif args.step == "partners":
        partners(args.windows, args.models, args.history, args.sets, args.out)
    else:
        score(args.windows, args.partners, args.net, args.sets, args.weights)


if __name__ == "__main__":
    main()
