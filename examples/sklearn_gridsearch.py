"""scikit-learn: a Pipeline with a tsrec forecaster, tuned by GridSearchCV over TimeSeriesSplit folds.

    python examples/sklearn_gridsearch.py [--fast]   (or TSREC_EXAMPLE_FAST=1)

Data: hourly ETTh1. The target is the oil temperature (OT); three load
channels are covariates observed alongside it. The pipeline scales the
covariates (any transformer with pandas output fits here) and hands them with
the target to the forecaster: ``fit(X, y)`` with ``X`` the covariates.

``score(X, y)`` treats each validation fold as the continuation of the training
fold (rolling forecasts, negative MSE in the target's units), which is what
``TimeSeriesSplit`` hands over, so ``GridSearchCV`` compares real forecasts.
"""

from __future__ import annotations

import argparse
import os

from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsrec import LRUForecaster
from tsrec.datasets import load_ett


def main() -> None:
    parser = argparse.ArgumentParser(description="GridSearchCV with TimeSeriesSplit")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    args = parser.parse_args()

    df = load_ett("ETTh1")
    n_train, n_test = (800, 200) if args.fast else (8640, 2880)
    X, y = df[["HUFL", "MUFL", "LUFL"]], df[["OT"]]
    X_train, y_train = X.iloc[:n_train], y.iloc[:n_train]
    X_test, y_test = X.iloc[n_train : n_train + n_test], y.iloc[n_train : n_train + n_test]

    base = dict(d_model=8, d_state=8, n_layers=1, max_epochs=1, stride=16) if args.fast else \
        dict(d_model=32, d_state=32, n_layers=2, max_epochs=10, stride=2)
    pipe = make_pipeline(
        StandardScaler().set_output(transform="pandas"),  # scales the covariates, keeps the DataFrame
        LRUForecaster(horizon=24, chunk_length=96, random_state=0, **base),
    )
    grid = {"lruforecaster__lr": [1e-3, 3e-3]}
    if not args.fast:
        grid["lruforecaster__d_model"] = [16, 32]
    search = GridSearchCV(pipe, grid, cv=TimeSeriesSplit(n_splits=2 if args.fast else 3))
    search.fit(X_train, y_train)
    for params, mean, std in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                                 search.cv_results_["std_test_score"]):
        print(f"{params}: CV score (-MSE) {mean:.4f} +- {std:.4f}")
    print(f"best: {search.best_params_}")
    # the refitted best pipeline continues from the end of the training rows
    print(f"held-out -MSE of rolling 24-hour forecasts: {search.score(X_test, y_test):.4f}")
    history_X, history_y = X.iloc[: n_train + n_test], y.iloc[: n_train + n_test]
    print("next hours after the test rows:")
    print(search.best_estimator_.predict(history_X, y=history_y).round(2).head())


if __name__ == "__main__":
    main()
