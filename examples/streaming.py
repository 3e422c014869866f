"""Streaming: keep a forecaster learning on a live feed with ``partial_fit``, at constant memory.

    python examples/streaming.py [--fast]   (or TSREC_EXAMPLE_FAST=1)

Data: hourly ETTh1 oil temperature (OT). The model is fitted on a first month,
then the feed arrives a day at a time: before each day we forecast it, then the
day is streamed in. ``partial_fit`` advances the recurrent state over the new
rows only and takes gradient steps on them; a
copy streamed with ``update_params=False`` only advances its state, for
comparison.
"""

from __future__ import annotations

import argparse
import copy
import os

import numpy as np

from tsrec import LRUForecaster
from tsrec.datasets import load_ett


def main() -> None:
    parser = argparse.ArgumentParser(description="streaming with partial_fit")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    args = parser.parse_args()

    ot = load_ett("ETTh1")[["OT"]]
    first, days, chunk = (480, 5, 24) if args.fast else (720, 60, 24)
    size = dict(d_model=16, d_state=16, n_layers=1, max_epochs=2, stride=8) if args.fast else \
        dict(d_model=32, d_state=32, n_layers=2, max_epochs=10, stride=2)
    learner = LRUForecaster(horizon=chunk, chunk_length=96, n_steps=2, random_state=0, **size)
    learner.fit(ot.iloc[:first])
    frozen = copy.deepcopy(learner)

    errors = {"learning": [], "state only": []}
    for day in range(days):
        rows = ot.iloc[first + day * chunk : first + (day + 1) * chunk]
        for label, model in (("learning", learner), ("state only", frozen)):
            forecast = model.predict()  # the next 24 hours, made before they arrive
            assert forecast.index[0] == rows.index[0]
            errors[label].append(float(np.mean((forecast.to_numpy() - rows.to_numpy()) ** 2)))
        learner.partial_fit(rows)  # O(24 rows): state, scaler and weights move on
        frozen.partial_fit(rows, update_params=False)  # state and scaler buffer only
        if day % max(1, days // 6) == 0 or day == days - 1:
            print(f"day {day + 1:3d} ({rows.index[0].date()}): day-ahead MSE learning {errors['learning'][-1]:7.3f}"
                  f"   state only {errors['state only'][-1]:7.3f}")
    for label, errs in errors.items():
        print(f"{label:10s}: mean day-ahead MSE over {days} days {np.mean(errs):.3f}")
    print(f"the stream kept {len(learner._stream.buffers[0])} raw rows and the model state, "
          "however long it ran")


if __name__ == "__main__":
    main()
