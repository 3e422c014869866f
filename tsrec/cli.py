"""The ``tsrec`` command (``python -m tsrec``): fit, predict, evaluate, tune and demo on CSV/Parquet files.

Tables are read with pandas. A file with ``unique_id``, ``ds`` and ``y``
columns is a panel in long format (one global model over every series, other
columns covariates). Any other file is one series: the time column (``--time-col``,
or the first of date/ds/time/timestamp/datetime, or a first column of text)
becomes a DatetimeIndex, and ``--target`` picks the forecast columns
(default: all), ``--covariates`` the columns observed alongside them.

Models are saved with :meth:`BaseForecaster.save` (safetensors + JSON, no pickle).

Examples
--------
::

    tsrec fit ETTh1.csv --model lru --target OT --param horizon=24 --param max_epochs=10 --out lru.safetensors
    tsrec predict lru.safetensors --out forecast.csv
    tsrec evaluate lru.safetensors ETTh1_test.csv
    tsrec tune ETTh1.csv --model lru --target OT --n-trials 20 --storage sqlite:///tsrec.db --out best.safetensors
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["main", "build_parser", "read_table", "write_table"]

LONG_COLUMNS = ("unique_id", "ds", "y")
TIME_COLUMNS = ("date", "ds", "time", "timestamp", "datetime")


class CLIError(Exception):
    """A user error: printed as ``tsrec: error: ...`` with exit status 2."""


# ------------------------------------------------------------------ files
def read_table(path: str | Path, time_col: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file as tsrec input.

    A long frame (``unique_id``, ``ds``, ``y``) keeps its columns, ``ds`` parsed
    as datetimes unless it is numeric. Otherwise the time column becomes a
    DatetimeIndex (none found: a RangeIndex).
    """
    path = Path(path)
    if not path.exists():
        raise CLIError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(path)
        except ImportError as e:
            raise CLIError(f"reading Parquet needs pyarrow or fastparquet (pip install pyarrow): {e}") from None
    elif suffix in (".csv", ".txt", ".gz"):
        df = pd.read_csv(path)
    else:
        raise CLIError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")
    if set(LONG_COLUMNS) <= set(df.columns):
        if not pd.api.types.is_numeric_dtype(df["ds"]):
            df["ds"] = pd.to_datetime(df["ds"])
        return df
    if time_col is None:
        lower = {str(c).lower(): c for c in df.columns}
        found = [lower[c] for c in TIME_COLUMNS if c in lower]
        if found:
            time_col = found[0]
        elif len(df.columns) and not pd.api.types.is_numeric_dtype(df[df.columns[0]]):
            time_col = df.columns[0]
    if time_col is not None:
        if time_col not in df.columns:
            raise CLIError(f"{path}: no time column {time_col!r}; columns are {list(map(str, df.columns))}")
        idx = df[time_col]
        if not pd.api.types.is_numeric_dtype(idx):
            try:
                idx = pd.to_datetime(idx)
            except (ValueError, TypeError) as e:
                raise CLIError(f"{path}: time column {time_col!r} does not parse as dates: {e}") from None
        df = df.drop(columns=[time_col]).set_index(pd.Index(idx, name=str(time_col)))
    return df


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a forecast as CSV or Parquet (a wide frame's index becomes a ``ds`` column)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(df.columns, pd.MultiIndex):  # quantiles: (target, q) -> "target_q0.1"
        df = df.copy()
        df.columns = [str(t) if q == "" else f"{t}_q{q:g}" for t, q in df.columns]
    if "ds" not in df.columns:
        df = df.rename_axis("ds").reset_index()
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            df.to_parquet(path, index=False)
        except ImportError as e:
            raise CLIError(f"writing Parquet needs pyarrow or fastparquet (pip install pyarrow): {e}") from None
    else:
        df.to_csv(path, index=False)


def _split_columns(df: pd.DataFrame, targets: list[str] | None, covariates: list[str] | None,
                   what: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(X, y) for ``fit(X, y)`` from a wide or a long table."""
    cols = [str(c) for c in df.columns]
    df = df.set_axis(cols, axis=1)
    if set(LONG_COLUMNS) <= set(cols):  # long: y is the target, other columns covariates (all by default)
        if targets and targets != ["y"]:
            raise CLIError(f"{what} is a long (unique_id, ds, y) table: its target is y; drop --target")
        extra = [c for c in cols if c not in LONG_COLUMNS]
        covs = extra if covariates in (None, ["rest"]) else covariates
        missing = [c for c in covs if c not in cols]
        if missing:
            raise CLIError(f"{what} lacks columns {missing}; it has {cols}")
        return df[list(LONG_COLUMNS) + list(covs)], None
    if covariates == ["rest"]:
        if not targets:
            raise CLIError("--covariates rest needs --target")
        covariates = [c for c in cols if c not in targets]
    targets = targets or [c for c in cols if c not in (covariates or [])]
    missing = [c for c in list(targets) + list(covariates or []) if c not in cols]
    if missing:
        raise CLIError(f"{what} lacks columns {missing}; it has {cols}")
    if covariates:
        return df[covariates], df[targets]
    return df[targets], None


def _model_columns(model: Any, df: pd.DataFrame, what: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(X, y) of a table for a fitted model: the columns it was fitted with."""
    if set(LONG_COLUMNS) <= set(map(str, df.columns)):
        return _split_columns(df, None, model.covariate_names_, what)
    return _split_columns(df, model.target_names_, model.covariate_names_ or None, what)


# ----------------------------------------------------------------- models
def _estimator_class(name: str):
    from .estimators import FORECASTERS

    key = name.lower().removesuffix("forecaster")
    for cls_name, cls in FORECASTERS.items():
        if cls_name.lower().removesuffix("forecaster") == key:
            return cls
    raise CLIError(f"unknown model {name!r}; choose one of {sorted(FORECASTERS)} (or lru, aaren, ...)")


def _parse_value(text: str) -> Any:
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError):
            continue
    return text


def _parse_params(items: list[str], cls) -> dict[str, Any]:
    params: dict[str, Any] = {}
    known = set(cls._get_param_names())
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CLIError(f"--param takes key=value, got {item!r}")
        if key not in known:
            raise CLIError(f"{cls.__name__} has no parameter {key!r}; it has {sorted(known)}")
        v = _parse_value(value)
        params[key] = tuple(v) if isinstance(v, list) else v
    return params


def _load(path: str):
    from .estimators import BaseForecaster

    try:
        return BaseForecaster.load(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such model file") from None


def _names(text: str | None) -> list[str]:
    """``a,b`` -> ["a", "b"]."""
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _covariate_params(args: argparse.Namespace, params: dict[str, Any]) -> list[str] | None:
    """``--future-covariates`` and ``--calendar-features`` into ``params``; the covariate columns of the fit
    (the future covariates are covariates: added to ``--covariates``)."""
    covariates = args.covariates
    if args.future_covariates is not None:
        future = _names(args.future_covariates)
        if not future:
            raise CLIError("--future-covariates takes column names: a,b")
        params["future_covariates"] = tuple(future)
        if covariates != ["rest"]:
            covariates = list(covariates or []) + [c for c in future if c not in (covariates or [])]
    if args.calendar_features is not None:
        value = args.calendar_features.strip()
        params["calendar_features"] = {"auto": "auto", "none": None}.get(value.lower(), tuple(_names(value)))
    return covariates


# --------------------------------------------------------------- commands
def _fit(args: argparse.Namespace) -> int:
    cls = _estimator_class(args.model)
    params = _parse_params(args.param, cls)
    params.setdefault("verbose", not args.quiet)
    covariates = _covariate_params(args, params)
    est = cls(**params)
    X, y = _split_columns(read_table(args.data, args.time_col), args.target, covariates, args.data)
    t0 = time.perf_counter()
    est.fit(X, y)
    est.save(args.out)
    n_epochs = len(est.history_["loss"])
    val = est.history_["val_loss"]
    print(f"fitted {cls.__name__} on {args.data}: targets {est.target_names_}"
          + (f", covariates {est.covariate_names_}" if est.covariate_names_ else "")
          + f"; {n_epochs} epochs in {time.perf_counter() - t0:.1f} s"
          + (f", best validation loss {min(val):.4g}" if val else ""))
    print(f"saved {args.out}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    model = _load(args.model)
    X = y = None
    if args.data is not None:
        X, y = _model_columns(model, read_table(args.data, args.time_col), args.data)
    future = None
    if args.future is not None:
        future = read_table(args.future, args.time_col)
    elif getattr(model, "future_covariates", None):
        raise CLIError(f"the model has future covariates {list(model.future_covariates)}: pass their values over "
                       f"the next {model.horizon} steps with --future FILE")
    if args.quantiles:
        if model.loss != "quantile":
            raise CLIError("--quantiles needs a model fitted with --param loss=quantile")
        out = model.predict_quantiles(X, y, X_future=future)
    else:
        out = model.predict(X, y, X_future=future)
    frames = out if isinstance(out, list) else [out]
    if len(frames) > 1:  # a panel given as a list: one table with a unique_id column
        frames = [f.rename_axis("ds").reset_index().assign(unique_id=i) for i, f in enumerate(frames)]
        out = pd.concat(frames, ignore_index=True)
    else:
        out = frames[0]
    write_table(out, args.out)
    print(f"wrote {len(out)} rows of forecasts to {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    model = _load(args.model)
    X, y = _model_columns(model, read_table(args.data, args.time_col), args.data)
    preds, actuals = model.rolling_forecasts(X, y)
    err = np.concatenate([(p - a).reshape(-1, p.shape[-1]) for p, a in zip(preds, actuals)])  # (n, targets)
    if np.isnan(err).all():
        raise CLIError(f"{args.data} has no rows to score")
    metrics = {"mse": float(np.nanmean(err**2)), "mae": float(np.nanmean(np.abs(err))),
               "n_forecasts": int(sum(p.shape[0] for p in preds)), "horizon": int(model.horizon),
               "per_target": {t: {"mse": float(np.nanmean(err[:, j] ** 2)), "mae": float(np.nanmean(np.abs(err[:, j])))}
                              for j, t in enumerate(model.target_names_)}}
    print(f"rolling forecasts of {type(model).__name__} over {args.data}: {metrics['n_forecasts']} origins, "
          f"horizon {metrics['horizon']}")
    print(f"{'target':16s} {'MSE':>12s} {'MAE':>12s}")
    for t, m in metrics["per_target"].items():
        print(f"{t:16s} {m['mse']:12.6g} {m['mae']:12.6g}")
    print(f"{'all':16s} {metrics['mse']:12.6g} {metrics['mae']:12.6g}")
    print(f"MSE {metrics['mse']:.6g} MAE {metrics['mae']:.6g}")
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, indent=2))
    return 0


def _pruner(name: str | None):
    if name is None:
        return None
    import optuna

    pruners = {"median": optuna.pruners.MedianPruner, "hyperband": optuna.pruners.HyperbandPruner,
               "none": optuna.pruners.NopPruner}
    return pruners[name]()


def _tune(args: argparse.Namespace) -> int:
    try:
        from .tuning import tune
    except ImportError as e:
        missing = getattr(e, "name", None) or str(e)
        raise CLIError(f"tsrec tune needs tsrec.tuning and Optuna (pip install 'tsrec[optuna]'); "
                       f"could not import {missing}") from None
    cls = _estimator_class(args.model)
    params = _parse_params(args.param, cls)
    params.setdefault("verbose", False)
    est = cls(**params)
    X, y = _split_columns(read_table(args.data, args.time_col), args.target, args.covariates, args.data)
    kwargs: dict[str, Any] = {"n_trials": args.n_trials, "pruner": _pruner(args.pruner), "storage": args.storage,
                              "study_name": args.study_name, "n_jobs": args.n_jobs}
    if args.cv is not None:
        from sklearn.model_selection import TimeSeriesSplit

        kwargs["cv"] = TimeSeriesSplit(n_splits=args.cv)
    if y is not None:
        kwargs["y"] = y
    if args.quiet:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial
    study, best = tune(est, X, **kwargs)
    best.save(args.out)
    print(f"{len(study.trials)} trials; best value {study.best_value:.6g} with {study.best_params}")
    print(f"saved the refitted best {type(best).__name__} to {args.out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .datasets import load_default
    from .estimators import LRUForecaster

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = load_default()  # weekly CO2 at Mauna Loa (shipped with statsmodels), 2284 rows
    horizon, season = 52, 52
    train, test = df.iloc[:-horizon], df.iloc[-horizon:]
    print(f"data: statsmodels CO2, {len(df)} weekly rows; fit on {len(train)}, forecast the last {horizon} weeks")
    t0 = time.perf_counter()
    fast = dict(max_epochs=2, stride=8) if args.fast else {}
    if args.epochs is not None:
        fast["max_epochs"] = args.epochs
    # the default model: only the horizon (and a seed) is set; context, segments and the rest come from the data
    model = LRUForecaster(horizon=horizon, random_state=0, verbose=not args.quiet, **fast).fit(train)
    forecast = model.predict()
    seconds = time.perf_counter() - t0
    # the 80% interval: the same model trained on the 10% and 90% quantiles (pinball loss)
    band = LRUForecaster(horizon=horizon, loss="quantile", quantiles=(0.1, 0.5, 0.9), random_state=0,
                         verbose=False, **fast).fit(train).predict_quantiles(quantiles=(0.1, 0.9))
    y = test["co2"].to_numpy()
    rows = [("LRUForecaster (defaults)", forecast["co2"].to_numpy()),
            ("seasonal naive (52 weeks)", train["co2"].to_numpy()[-season:][:horizon])]
    try:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        hw = ExponentialSmoothing(train["co2"].to_numpy(), trend="add", seasonal="add", seasonal_periods=season,
                                  initialization_method="estimated").fit()
        rows.append(("Holt-Winters (additive)", hw.forecast(horizon)))
    except ImportError:  # pragma: no cover - statsmodels ships the data, so it is there
        pass
    lower, upper = band[("co2", 0.1)].to_numpy(), band[("co2", 0.9)].to_numpy()
    print(f"\n{'model':28s} {'MSE':>8s} {'MAE':>8s}")
    for label, pred in rows:
        print(f"{label:28s} {np.mean((pred - y) ** 2):8.3f} {np.mean(np.abs(pred - y)):8.3f}")
    print(f"\n80% interval (quantile model): {np.mean((y >= lower) & (y <= upper)):.0%} of the {horizon} weeks inside")
    print(f"default model: {model.frame_}, {len(model.history_['loss'])} epochs in {seconds:.1f} s")
    forecast.assign(actual=y, lower_80=lower, upper_80=upper).to_csv(out / "forecast.csv", index_label="date")
    try:
        from .plotting import plot_forecast

        fig = plot_forecast(train, forecast, actual=test, quantiles=band, last=5 * season)
        fig.savefig(out / "forecast.png", dpi=100, bbox_inches="tight")
        print(f"wrote {out / 'forecast.csv'} and {out / 'forecast.png'}")
    except ImportError:
        print(f"wrote {out / 'forecast.csv'} (install tsrec[plot] for the plot)")
    return 0


# ----------------------------------------------------------------- parser
def _data_args(p: argparse.ArgumentParser, columns: bool = True) -> None:
    p.add_argument("--time-col",
                   help="the time column (default: date/ds/time/timestamp/datetime or a text first column)")
    if columns:
        p.add_argument("--target", nargs="+", help="target columns (default: every column but the covariates)")
        p.add_argument("--covariates", nargs="+",
                       help="covariate columns observed with the targets ('rest': every other column)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tsrec`` command."""
    parser = argparse.ArgumentParser(prog="tsrec",
                                     description="Forecast time series with recurrent and state-space models.")
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="fit a forecaster on a CSV/Parquet file and save it")
    fit.add_argument("data", help="CSV or Parquet: one series (a time column and value columns) or a long "
                                  "unique_id/ds/y table")
    fit.add_argument("--model", default="lru", help="LRUForecaster, AarenForecaster, ... or lru, aaren, ...")
    fit.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="a hyperparameter, value as JSON/Python literal (repeat: --param horizon=24 --param lr=1e-3)")
    _data_args(fit)
    fit.add_argument("--future-covariates", metavar="A,B",
                     help="covariate columns whose values are known in advance (predict then needs --future)")
    fit.add_argument("--calendar-features", metavar="auto|hour,dayofweek",
                     help="covariates from the dates: 'auto' (by the step), 'none', or names (hour, dayofweek, "
                          "month, dayofyear, dayofmonth, quarter, minute)")
    fit.add_argument("--out", default="model.safetensors", help="model file to write (safetensors)")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=_fit)

    pred = sub.add_parser("predict", help="forecast with a saved model, after its stream or a new history")
    pred.add_argument("model", help="model file written by `tsrec fit`")
    pred.add_argument("--data", help="a history to forecast after (default: the end of what was fitted)")
    _data_args(pred, columns=False)
    pred.add_argument("--future", metavar="FILE",
                      help="the future covariates over the next horizon steps (a time column and those columns, or "
                           "a long unique_id/ds table), for a model fitted with --future-covariates")
    pred.add_argument("--quantiles", action="store_true", help="write every trained quantile (loss=quantile models)")
    pred.add_argument("--out", default="forecast.csv", help="CSV or Parquet file to write")
    pred.set_defaults(func=_predict)

    ev = sub.add_parser("evaluate", help="rolling MSE/MAE of a saved model over the continuation of its data")
    ev.add_argument("model", help="model file written by `tsrec fit`")
    ev.add_argument("data", help="rows that continue what the model was fitted on")
    _data_args(ev, columns=False)
    ev.add_argument("--json", help="also write the metrics to this JSON file")
    ev.set_defaults(func=_evaluate)

    tune = sub.add_parser("tune", help="tune hyperparameters with Optuna (tsrec.tuning.tune) and save the best model")
    tune.add_argument("data", help="CSV or Parquet file, as for fit")
    tune.add_argument("--model", default="lru")
    tune.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="fixed hyperparameters")
    _data_args(tune)
    tune.add_argument("--n-trials", type=int, default=20)
    tune.add_argument("--cv", type=int, help="TimeSeriesSplit folds (default: tune's own validation)")
    tune.add_argument("--pruner", choices=["median", "hyperband", "none"], help="default: tune's own")
    tune.add_argument("--storage", help="Optuna storage shared by workers: a JournalStorage file path or an RDB URL "
                                        "(sqlite:///tsrec.db, postgresql://...)")
    tune.add_argument("--study-name", help="study to create or join")
    tune.add_argument("--n-jobs", type=int, default=1, help="trials run in parallel in this process")
    tune.add_argument("--out", default="best.safetensors", help="file for the refitted best model")
    tune.add_argument("--quiet", action="store_true")
    tune.set_defaults(func=_tune)

    demo = sub.add_parser("demo", help="fit LRUForecaster with its defaults on the embedded CO2 series and compare "
                                       "with seasonal naive and Holt-Winters")
    demo.add_argument("--out", default="out/demo", help="folder for forecast.csv and forecast.png")
    demo.add_argument("--epochs", type=int, default=None, help="max_epochs (default: the model's own)")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--fast", action="store_true", help="two epochs on every 8th window (a smoke run)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``tsrec`` command; returns the exit status (2 on a user error, with its message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CLIError, ValueError, TypeError) as e:
        print(f"tsrec {args.command}: error: {e}", file=sys.stderr)
        return 2
