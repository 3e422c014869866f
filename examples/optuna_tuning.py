"""Optuna: tune a forecaster with pruning of bad trials (``tsrec.tuning.tune``).

    python examples/optuna_tuning.py [--fast] [--storage sqlite:///tsrec.db]   (or TSREC_EXAMPLE_FAST=1)

The training loop reports each epoch's validation loss to the trial, so the
MedianPruner stops trials that fall behind early. With ``--storage`` (a
JournalStorage file, or an RDB URL such as ``postgresql://user@host/db``) any
number of processes or machines running this script with the same
``--study-name`` share one study. Needs ``pip install tsrec[optuna]``; exits 0
with a message when Optuna or ``tsrec.tuning`` is missing.
"""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description="Optuna tuning with pruning")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    parser.add_argument("--storage", help="Optuna storage shared by workers (journal file or RDB URL)")
    parser.add_argument("--study-name", default=None)
    args = parser.parse_args()
    try:
        import optuna

        from tsrec.tuning import tune
    except ImportError as e:
        print(f"skipped: this example needs Optuna and tsrec.tuning (pip install 'tsrec[optuna]'): {e}")
        return 0

    from tsrec import LRUForecaster
    from tsrec.datasets import load_ett

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ot = load_ett("ETTh1")[["OT"]]
    train = ot.iloc[:1000] if args.fast else ot.iloc[:8640]
    fixed = dict(d_model=8, d_state=8, n_layers=1, max_epochs=3, stride=16) if args.fast else \
        dict(max_epochs=20, stride=2)
    estimator = LRUForecaster(horizon=24, chunk_length=96, random_state=0, **fixed)
    study, best = tune(
        estimator, train, n_trials=3 if args.fast else 30,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1 if args.fast else 5, n_warmup_steps=1),
        storage=args.storage, study_name=args.study_name,
    )  # search_space=None: the estimator's default space
    states = [t.state.name for t in study.trials]
    print(f"{len(states)} trials: {states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned")
    print(f"best value {study.best_value:.4f} with {study.best_params}")
    print(f"refitted best estimator forecasts from {best.predict().index[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
