"""Optuna tuning: search spaces, pruning on the training curve, shared storage, OptunaSearchCV, on ETTh1."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests._settings import make, needs

optuna = needs("optuna")

from optuna.distributions import FloatDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import TimeSeriesSplit  # noqa: E402

import tsrec  # noqa: E402
from tsrec import LRUForecaster  # noqa: E402
from tsrec.estimators import FORECASTERS  # noqa: E402
from tsrec.tuning import default_search_space, tune  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

TINY = dict(horizon=4, d_model=16, d_state=16, n_layers=1, batch_size=32, chunk_length=32, stride=4,
            device="cpu", random_state=0)


@pytest.fixture(scope="module")
def ot(etth1):
    return etth1[["OT"]].iloc[:480]


@pytest.mark.parametrize("cls", list(FORECASTERS.values()), ids=list(FORECASTERS))
def test_default_search_space_gives_valid_estimators(cls):
    est = cls()
    space = default_search_space(est)
    assert {"lr", "d_model", "n_layers", "dropout"} <= set(space)
    assert space["lr"].log and space["lr"].low < est.lr < space["lr"].high
    assert set(space) <= set(est.get_params())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):  # every sampled point is a valid configuration
        trial = study.ask(space)
        clone(est).set_params(**trial.params)._check_params()
        study.tell(trial, 0.0)


def test_median_pruner_prunes_a_bad_trial(ot):
    est = LRUForecaster(**TINY, max_epochs=6, patience=10)
    lrs = [3e-3, 1e-7, 1e-7]  # a good learning rate first, then ones that learn nothing

    study, best = tune(est, ot, lambda trial: {"lr": lrs[trial.number]}, n_trials=3,
                       pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    states = [t.state for t in study.trials]
    assert len(states) == 3 and states[0] == TrialState.COMPLETE and TrialState.PRUNED in states
    complete, pruned = study.trials[0], [t for t in study.trials if t.state == TrialState.PRUNED]
    assert len(complete.intermediate_values) == 6  # one report per epoch
    assert all(len(t.intermediate_values) < 6 for t in pruned)  # stopped early
    # the reports are negated validation losses (the study maximises the score)
    assert all(v < 0 for v in complete.intermediate_values.values())
    assert complete.value == study.best_value and best.lr == 3e-3
    assert best.predict().index[0] == ot.index[-1] + pd.Timedelta(hours=1)  # refitted on all of X


def test_hyperband_pruner_prunes_a_bad_trial(ot):
    est = LRUForecaster(**TINY, max_epochs=4, patience=10)
    lrs = [3e-3, 2e-3] + [1e-7] * 6
    study, _ = tune(est, ot, lambda trial: {"lr": lrs[trial.number]}, n_trials=8, study_name="hyperband",
                    pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=4, reduction_factor=2))
    assert TrialState.PRUNED in [t.state for t in study.trials]


def test_cv_reports_the_running_mean_per_fold(ot):
    est = LRUForecaster(**TINY, max_epochs=1)
    space = {"lr": FloatDistribution(1e-3, 1e-2, log=True)}
    study, best = tune(est, ot, space, n_trials=2, cv=TimeSeriesSplit(3),
                       sampler=optuna.samplers.RandomSampler(seed=1))
    for t in study.trials:
        assert t.state == TrialState.COMPLETE and sorted(t.intermediate_values) == [0, 1, 2]
        assert t.value == pytest.approx(t.intermediate_values[2]) and t.value < 0
    assert best.lr == study.best_params["lr"]
    assert study.best_value == max(t.value for t in study.trials)


def test_panel_and_covariates_holdout(etth1):
    df = etth1[["HUFL", "OT"]].iloc[:600]
    est = LRUForecaster(**TINY, max_epochs=1)
    study, best = tune(est, [df.iloc[:300], df.iloc[300:]], {"lr": FloatDistribution(1e-3, 1e-2, log=True)},
                       n_trials=1)
    assert len(best.predict()) == 2
    study, best = tune(est, df[["HUFL"]], {"lr": FloatDistribution(1e-3, 1e-2, log=True)}, n_trials=1,
                       y=df[["OT"]])
    assert list(best.predict().columns) == ["OT"]


WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import optuna, pandas as pd, torch
    torch.set_num_threads(1)
    from optuna.distributions import FloatDistribution
    from tsrec import LRUForecaster
    from tsrec.tuning import tune

    data, storage, me, other = sys.argv[1:5]
    df = pd.read_csv(data, index_col=0, parse_dates=True)
    est = LRUForecaster(horizon=4, d_model=16, d_state=16, n_layers=1, max_epochs=2, batch_size=32,
                        chunk_length=32, stride=4, device="cpu", random_state=0)
    Path(me).touch()  # start together, so that both workers get trials
    deadline = time.time() + 120
    while not Path(other).exists() and time.time() < deadline:
        time.sleep(0.05)
    tune(est, df, {"lr": FloatDistribution(1e-4, 1e-2, log=True)}, n_trials=6, storage=storage,
         study_name="shared", refit=False)
    """
)


def _run_workers(tmp_path: Path, ot: pd.DataFrame, storage: str) -> None:
    data = tmp_path / "ot.csv"
    ot.to_csv(data)
    env = {**os.environ, "PYTHONPATH": str(Path(tsrec.__file__).resolve().parents[1])}
    ready = [str(tmp_path / "ready0"), str(tmp_path / "ready1")]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(data), storage, ready[i], ready[1 - i]], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(2)]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out.decode()[-3000:]


def test_two_processes_share_a_journal_file(tmp_path, ot):
    from tsrec.tuning import make_storage

    journal = str(tmp_path / "study.journal")
    _run_workers(tmp_path, ot.iloc[:300], journal)
    study = optuna.load_study(study_name="shared", storage=make_storage(journal))
    assert 6 <= len(study.trials) <= 7  # n_trials in total (one more if both finish at the same moment)
    # every trial finished (the default MedianPruner may prune some), and both workers ran trials
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert study.best_trial.state == TrialState.COMPLETE


def test_rdb_url_storage_continues_a_study(tmp_path, ot):
    needs("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    est = LRUForecaster(**TINY, max_epochs=1)
    space = {"lr": FloatDistribution(1e-3, 1e-2, log=True)}
    tune(est, ot.iloc[:300], space, n_trials=1, storage=url, study_name="s", refit=False)
    study, best = tune(est, ot.iloc[:300], space, n_trials=2, storage=url, study_name="s")
    assert len(study.trials) == 2 and len(optuna.load_study(study_name="s", storage=url).trials) == 2
    assert best.lr == study.best_params["lr"]


def test_optuna_search_cv_every_estimator(name, small_frame, etth1):
    from optuna_integration import OptunaSearchCV

    search = OptunaSearchCV(make(name), {"lr": FloatDistribution(1e-4, 1e-2, log=True)}, cv=TimeSeriesSplit(2),
                            n_trials=2, random_state=0)
    search.fit(small_frame)
    assert len(search.trials_) == 2 and np.isfinite(search.best_score_) and search.best_score_ < 0
    assert 1e-4 <= search.best_params_["lr"] <= 1e-2
    # the best of the trials run, and the refitted estimator uses it
    top = max(search.trials_, key=lambda t: t.value)
    assert search.best_params_ == top.params and search.best_score_ == top.value
    assert search.best_estimator_.lr == search.best_params_["lr"]
    out = search.best_estimator_.predict()
    assert out.shape == (4, 3) and np.isfinite(out.to_numpy()).all()
    assert search.score(etth1[list(small_frame.columns)].iloc[600:650]) < 0  # the continuation
