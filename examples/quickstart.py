"""Quickstart: fit a forecaster on a DataFrame, forecast, score, stream, save and load.

    python examples/quickstart.py          # full settings
    python examples/quickstart.py --fast   # small settings (or TSREC_EXAMPLE_FAST=1)

Data: the weekly CO2 series at Mauna Loa that ships with statsmodels (offline).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from tsrec import LRUForecaster
from tsrec.datasets import load_default
from tsrec.estimators import BaseForecaster


def main() -> None:
    parser = argparse.ArgumentParser(description="tsrec quickstart")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    args = parser.parse_args()

    df = load_default()  # DataFrame: weekly DatetimeIndex, one column "co2"
    horizon = 13  # one quarter ahead
    train, test = df.iloc[:-104], df.iloc[-104:]
    size = dict(d_model=16, d_state=16, n_layers=1, max_epochs=2, stride=16) if args.fast else \
        dict(d_model=32, d_state=32, n_layers=2, max_epochs=20, stride=2)
    model = LRUForecaster(horizon=horizon, chunk_length=104, random_state=0, verbose=not args.fast, **size)

    model.fit(train)  # rows = weeks, columns = channels
    print("next quarter after the fitted rows:")
    print(model.predict().round(2).to_string())  # a DataFrame with the future weekly index, in ppm

    mse = -model.score(test)  # rolling forecasts over the next two years
    naive = np.mean((test["co2"].to_numpy()[52:] - test["co2"].to_numpy()[:-52]) ** 2)  # same week last year
    print(f"rolling {horizon}-week forecasts over {len(test)} weeks: MSE {mse:.3f} (seasonal naive {naive:.3f})")

    model.partial_fit(test.iloc[:4])  # four new weeks arrive: state advances, weights take a step
    print(f"after streaming 4 weeks the forecast starts at {model.predict().index[0].date()}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "co2.safetensors"
        model.save(path)  # JSON config + safetensors weights, no pickle
        loaded = BaseForecaster.load(path)
        assert np.allclose(loaded.predict().to_numpy(), model.predict().to_numpy())
        print(f"saved and loaded {type(loaded).__name__}: same forecasts")


if __name__ == "__main__":
    main()
