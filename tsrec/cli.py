"""The ``tsrec`` command (``python -m tsrec``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]


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
    model = LRUForecaster(horizon=horizon, chunk_length=156, d_model=32, d_state=32, n_layers=2, lr=3e-3,
                          max_epochs=args.epochs, stride=2, random_state=0, verbose=not args.quiet)
    model.fit(train)
    forecast = model.predict()
    seconds = time.perf_counter() - t0
    naive = train.iloc[-season:].to_numpy()[:horizon]
    y = test.to_numpy()
    rows = [("LRUForecaster", forecast.to_numpy()), ("seasonal naive (52 weeks)", naive)]
    print(f"\n{'model':28s} {'MSE':>8s} {'MAE':>8s}")
    for label, pred in rows:
        print(f"{label:28s} {np.mean((pred - y) ** 2):8.3f} {np.mean(np.abs(pred - y)):8.3f}")
    print(f"\ntrained {len(model.history_['loss'])} epochs in {seconds:.1f} s")
    forecast.assign(actual=test["co2"].to_numpy()).to_csv(out / "forecast.csv", index_label="date")
    try:
        from .plotting import plot_forecast

        fig = plot_forecast(train, forecast, actual=test, last=5 * season)
        fig.savefig(out / "forecast.png", dpi=100, bbox_inches="tight")
        print(f"wrote {out / 'forecast.csv'} and {out / 'forecast.png'}")
    except ImportError:
        print(f"wrote {out / 'forecast.csv'} (install tsrec[plot] for the plot)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsrec", description="Forecast time series with recurrent and state-space models.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit LRUForecaster on the embedded CO2 series and compare with seasonal naive")
    demo.add_argument("--out", default="out/demo", help="folder for forecast.csv and forecast.png")
    demo.add_argument("--epochs", type=int, default=30)
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
