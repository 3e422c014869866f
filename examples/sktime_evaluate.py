"""sktime: evaluate a tsrec forecaster with sktime's ``evaluate`` and an expanding window.

    python examples/sktime_evaluate.py [--fast]   (or TSREC_EXAMPLE_FAST=1)

``tsrec.sktime.TsrecForecaster`` wraps any tsrec estimator as an sktime
forecaster (``update`` maps to ``partial_fit``). Needs ``pip install
tsrec[sktime]``; exits 0 with a message when sktime or ``tsrec.sktime`` is
missing.
"""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description="sktime evaluate with ExpandingWindowSplitter")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    args = parser.parse_args()
    try:
        from sktime.forecasting.model_evaluation import evaluate
        from sktime.performance_metrics.forecasting import MeanAbsoluteError, MeanSquaredError
        from sktime.split import ExpandingWindowSplitter

        from tsrec.sktime import TsrecForecaster
    except ImportError as e:
        print(f"skipped: this example needs sktime and tsrec.sktime (pip install 'tsrec[sktime]'): {e}")
        return 0

    from tsrec import LRUForecaster
    from tsrec.datasets import load_default

    y = load_default()["co2"]  # weekly pd.Series
    horizon = 13
    if args.fast:
        y = y.iloc[-500:]
    size = dict(d_model=8, d_state=8, n_layers=1, max_epochs=1, stride=16) if args.fast else \
        dict(d_model=32, d_state=32, n_layers=2, max_epochs=10, stride=2)
    forecaster = TsrecForecaster(forecaster=LRUForecaster(horizon=horizon, chunk_length=104, random_state=0, **size))
    cv = ExpandingWindowSplitter(initial_window=len(y) - (2 if args.fast else 8) * horizon,
                                 step_length=horizon, fh=list(range(1, horizon + 1)))
    results = evaluate(forecaster, y=y, cv=cv, strategy="refit" if args.fast else "update",
                       scoring=[MeanSquaredError(), MeanAbsoluteError()])
    cols = [c for c in results.columns if c.startswith("test_")] + ["fit_time"]
    print(results[cols].round(4).to_string())
    print(f"mean over {len(results)} folds: " + ", ".join(f"{c} {results[c].mean():.4f}" for c in cols[:-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
