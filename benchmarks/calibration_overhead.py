"""The cost of the online conformal calibration in ``partial_fit``, against the same calls without it.

An ``LRUForecaster(horizon=24)`` (default window model) is fitted on 4000 hourly rows of ETTh1 OT
(one epoch), then streams the next 200 rows one row per ``partial_fit`` call, with
``update_params=False`` (state only; the calibration origins are scored in one pass when
``predict_interval`` reads them, here once at the end) and with ``update_params=True`` (the origins
are scored before each update). "without" patches the calibration out (no origin is kept or
scored). Best of two runs each, one torch thread; prints the seconds and the ratio::

    python benchmarks/calibration_overhead.py
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

import tsrec
from tsrec.datasets import load_ett
from tsrec.estimators.base import BaseForecaster


def main() -> dict[str, float]:
    torch.set_num_threads(1)
    ot = load_ett("ETTh1", download=False)[["OT"]]
    f = tsrec.LRUForecaster(horizon=24, max_epochs=1, stride=8, random_state=0, device="cpu").fit(ot.iloc[:4000])
    with_cal = (BaseForecaster._pending_with, BaseForecaster._scored)
    without = (lambda self, values: [(np.zeros((0, 1)), None, 0)], lambda self, pending: self._calibration)
    ratios = {}
    try:
        for update in (False, True):
            best: dict[str, float] = {}
            for _ in range(2):
                for label, fns in (("with", with_cal), ("without", without)):
                    BaseForecaster._pending_with, BaseForecaster._scored = fns
                    g = copy.deepcopy(f)
                    t = time.perf_counter()
                    for i in range(4000, 4200):
                        g.partial_fit(ot.iloc[i : i + 1], update_params=update)
                    if label == "with":
                        g.predict_interval()  # scores what a state-only stream deferred
                    best[label] = min(best.get(label, np.inf), time.perf_counter() - t)
            ratios[f"update_params={update}"] = best["with"] / best["without"]
            print(f"update_params={update}: with {best['with']:.3f} s, without {best['without']:.3f} s, "
                  f"ratio {ratios[f'update_params={update}']:.2f}")
    finally:
        BaseForecaster._pending_with, BaseForecaster._scored = with_cal
    return ratios


if __name__ == "__main__":
    main()
