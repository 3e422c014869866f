"""The `tsrec` command: every subcommand on small slices of ETTh1/ETTh2 written as CSV files."""

from __future__ import annotations

import importlib.util
import json
import sys
import types

import numpy as np
import pandas as pd
import pytest

from tsrec.cli import main, read_table
from tsrec.estimators import BaseForecaster, LRUForecaster

SMALL = ["--param", "horizon=4", "--param", "max_epochs=1", "--param", "d_model=8", "--param", "d_state=8",
         "--param", "n_layers=1", "--param", "stride=8", "--param", "chunk_length=32", "--param", "random_state=0",
         "--param", "device=cpu", "--param", "context=24"]  # a window of 24 rows: the 40-row test file is a history


@pytest.fixture(scope="module")
def files(etth1, tmp_path_factory):
    """train.csv (300 rows) and test.csv (the next 40) of three ETTh1 channels, as written by pandas."""
    d = tmp_path_factory.mktemp("cli")
    frame = etth1[["HUFL", "MUFL", "OT"]].rename_axis("date")
    frame.iloc[:300].to_csv(d / "train.csv")
    frame.iloc[300:340].to_csv(d / "test.csv")
    return d


@pytest.fixture(scope="module")
def fitted(files):
    """`tsrec fit` with OT as target and HUFL, MUFL as covariates."""
    model = files / "lru.safetensors"
    rc = main(["fit", str(files / "train.csv"), "--model", "lru", "--target", "OT", "--covariates", "HUFL", "MUFL",
               "--out", str(model), "--quiet", *SMALL])
    assert rc == 0
    return model


def test_fit_saves_safe_model(fitted, etth1):
    est = BaseForecaster.load(fitted)
    assert type(est) is LRUForecaster
    assert est.target_names_ == ["OT"] and est.covariate_names_ == ["HUFL", "MUFL"]
    assert est.horizon == 4 and est.d_model == 8 and est.device == "cpu" and est.verbose is False
    assert fitted.read_bytes()[8:9] == b"{"  # a safetensors header, not a pickle
    # the same as fitting in Python
    train = etth1[["HUFL", "MUFL", "OT"]].iloc[:300]
    ref = LRUForecaster(**{k: v for k, v in est.get_params().items()}).fit(train[["HUFL", "MUFL"]], train[["OT"]])
    np.testing.assert_allclose(est.predict().to_numpy(), ref.predict().to_numpy(), rtol=1e-5)


def test_predict_writes_forecast(fitted, files, etth1):
    out = files / "forecast.csv"
    assert main(["predict", str(fitted), "--out", str(out)]) == 0
    got = read_table(out)
    assert list(got.columns) == ["OT"] and len(got) == 4
    assert got.index[0] == etth1.index[300]
    # CSV text: the parser may round the last bit (measured 1 ulp), so not bit-identical
    np.testing.assert_allclose(got.to_numpy(), BaseForecaster.load(fitted).predict().to_numpy(), rtol=1e-6)
    # after a new history: the test rows
    assert main(["predict", str(fitted), "--data", str(files / "test.csv"), "--out", str(out)]) == 0
    got = read_table(out)
    assert got.index[0] == etth1.index[340]


def test_evaluate_prints_rolling_scores(fitted, files, etth1, capsys):
    metrics = files / "metrics.json"
    assert main(["evaluate", str(fitted), str(files / "test.csv"), "--json", str(metrics)]) == 0
    out = capsys.readouterr().out
    assert "MSE" in out and "MAE" in out
    m = json.loads(metrics.read_text())
    test = etth1[["HUFL", "MUFL", "OT"]].iloc[300:340]
    est = BaseForecaster.load(fitted)
    assert m["mse"] == pytest.approx(-est.score(test[["HUFL", "MUFL"]], test[["OT"]]), rel=1e-9)
    assert m["n_forecasts"] == 40 and m["horizon"] == 4
    # the MAE of the same rolling forecasts, computed here
    preds, actual = est.rolling_forecasts(test[["HUFL", "MUFL"]], test[["OT"]])
    assert m["mae"] == pytest.approx(float(np.nanmean(np.abs(preds[0] - actual[0]))), rel=1e-9)
    assert 0 < m["mae"] <= np.sqrt(m["mse"])
    assert f"MSE {m['mse']:.6g} MAE {m['mae']:.6g}" in out


def test_future_covariates_and_calendar_features(files, etth1, capsys):
    """--future-covariates (a covariate column known ahead; predict reads it from --future) and
    --calendar-features give the model Python would fit, and the same forecast."""
    model = files / "future.safetensors"
    assert main(["fit", str(files / "train.csv"), "--target", "OT", "--covariates", "MUFL", "--future-covariates",
                 "HUFL", "--calendar-features", "hour,dayofweek", "--out", str(model), "--quiet", *SMALL]) == 0
    est = BaseForecaster.load(model)
    assert est.future_covariates == ("HUFL",) and est.calendar_features == ("hour", "dayofweek")
    assert est.covariate_names_ == ["MUFL", "HUFL"]
    future = files / "future.csv"
    etth1[["HUFL"]].rename_axis("date").iloc[300:304].to_csv(future)
    out = files / "future_forecast.csv"
    assert main(["predict", str(model), "--future", str(future), "--out", str(out)]) == 0
    expected = est.predict(X_future=etth1[["HUFL"]].iloc[300:304])
    np.testing.assert_allclose(read_table(out)["OT"].to_numpy(), expected["OT"].to_numpy(), rtol=1e-6)
    assert main(["predict", str(model), "--out", str(out)]) == 2
    assert "--future" in capsys.readouterr().err
    assert main(["evaluate", str(model), str(files / "test.csv")]) == 0
    assert main(["fit", str(files / "train.csv"), "--calendar-features", "auto", "--out", str(model), "--quiet",
                 *SMALL]) == 0
    assert BaseForecaster.load(model).covariates_.calendar == ("hour", "dayofweek")


def test_long_panel_and_quantiles(tmp_path, etth1):
    """A long unique_id/ds/y CSV in, a long CSV out; a quantile model writes target_q columns."""
    from tsrec.datasets import load_ett

    h2 = load_ett("ETTh2", download=False)
    long = pd.concat([etth1[["OT"]].iloc[:200].assign(unique_id="ETTh1"),
                      h2[["OT"]].iloc[:200].assign(unique_id="ETTh2")]).rename(columns={"OT": "y"})
    long.rename_axis("ds").reset_index()[["unique_id", "ds", "y"]].to_csv(tmp_path / "panel.csv", index=False)
    model, out = tmp_path / "panel.safetensors", tmp_path / "panel_forecast.csv"
    assert main(["fit", str(tmp_path / "panel.csv"), "--out", str(model), "--quiet", *SMALL,
                 "--param", "loss=quantile", "--param", "quantiles=[0.1,0.5,0.9]"]) == 0
    assert main(["predict", str(model), "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["unique_id", "ds", "y"] and got["unique_id"].tolist() == ["ETTh1"] * 4 + ["ETTh2"] * 4
    assert main(["predict", str(model), "--quantiles", "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["unique_id", "ds", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert (got["y_q0.1"] <= got["y_q0.9"]).all()


def test_fit_progress_bar(tmp_path, etth1, capsys):
    etth1[["OT"]].iloc[:200].to_csv(tmp_path / "ot.csv")
    assert main(["fit", str(tmp_path / "ot.csv"), "--out", str(tmp_path / "m.safetensors"), *SMALL]) == 0
    err = capsys.readouterr().err
    assert "epoch" in err and "1/1" in err  # the tqdm bar of the training loop


def test_user_errors_exit_2(tmp_path, files, capsys):
    train = str(files / "train.csv")
    assert main(["fit", train, "--model", "nope", "--out", str(tmp_path / "m")]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert main(["fit", train, "--param", "hidden=3"]) == 2
    assert "no parameter 'hidden'" in capsys.readouterr().err
    assert main(["fit", train, "--target", "XX"]) == 2
    assert "lacks columns ['XX']" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["predict", str(files / "train.csv"), "--out", str(tmp_path / "f.csv")]) == 2
    assert "not a readable tsrec model" in capsys.readouterr().err
    assert main(["fit", train, *SMALL, "--param", "horizon=0"]) == 2
    assert "horizon" in capsys.readouterr().err


@pytest.mark.skipif(not any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet")),
                    reason="no Parquet engine installed")
def test_parquet_round_trip(tmp_path, etth1):
    etth1[["OT"]].iloc[:200].rename_axis("date").reset_index().to_parquet(tmp_path / "ot.parquet")
    model, out = tmp_path / "m.safetensors", tmp_path / "f.parquet"
    assert main(["fit", str(tmp_path / "ot.parquet"), "--out", str(model), "--quiet", *SMALL]) == 0
    assert main(["predict", str(model), "--out", str(out)]) == 0
    got = pd.read_parquet(out)
    assert got.shape == (4, 2)
    # the same forecast as the saved model gives in Python, timestamps and values, after the Parquet round trip
    expected = BaseForecaster.load(model).predict()
    assert list(got.columns) == [got.columns[0], "OT"]
    pd.testing.assert_index_equal(pd.DatetimeIndex(got.iloc[:, 0]), expected.index, check_names=False)
    assert expected.index[0] == etth1.index[200]
    np.testing.assert_array_equal(got["OT"].to_numpy(), expected["OT"].to_numpy())


def test_tune_wiring(files, tmp_path, monkeypatch, capsys):
    """`tsrec tune` hands its options to tsrec.tuning.tune and saves the refitted best estimator."""
    seen = {}

    def fake_tune(estimator, X, search_space=None, n_trials=20, cv=None, pruner=None, storage=None,
                  study_name=None, n_jobs=1, y=None):
        seen.update(estimator=estimator, X=X, n_trials=n_trials, cv=cv, pruner=pruner, storage=storage,
                    study_name=study_name, n_jobs=n_jobs, y=y)
        best = estimator.set_params(lr=1e-3).fit(X, y)
        study = types.SimpleNamespace(trials=[1, 2], best_value=-1.5, best_params={"lr": 1e-3})
        return study, best

    monkeypatch.setitem(sys.modules, "tsrec.tuning", types.SimpleNamespace(tune=fake_tune))
    out = tmp_path / "best.safetensors"
    rc = main(["tune", str(files / "train.csv"), "--target", "OT", "--n-trials", "2", "--cv", "2",
               "--pruner", "median", "--storage", str(tmp_path / "journal.log"), "--study-name", "s",
               "--out", str(out), *SMALL])
    assert rc == 0
    assert seen["n_trials"] == 2 and seen["cv"].n_splits == 2 and seen["study_name"] == "s"
    assert type(seen["pruner"]).__name__ == "MedianPruner" and seen["y"] is None
    assert list(seen["X"].columns) == ["OT"] and seen["estimator"].horizon == 4
    assert BaseForecaster.load(out).lr == 1e-3
    assert "best value -1.5" in capsys.readouterr().out


def test_tune_without_tuning_module(files, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tsrec.tuning", None)  # import fails as if the module were missing
    assert main(["tune", str(files / "train.csv"), "--n-trials", "1"]) == 2
    assert "tsrec tune needs tsrec.tuning and Optuna" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("tsrec.tuning") is None or importlib.util.find_spec("optuna") is None,
                    reason="tsrec.tuning or optuna not installed")
def test_tune_real(files, tmp_path):
    out = tmp_path / "best.safetensors"
    rc = main(["tune", str(files / "train.csv"), "--target", "OT", "--n-trials", "2", "--quiet", "--out", str(out),
               *SMALL])
    assert rc == 0
    assert BaseForecaster.load(out).predict().shape == (4, 1)


def test_demo_fast(tmp_path, capsys):
    assert main(["demo", "--epochs", "1", "--fast", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "LRUForecaster" in out and "seasonal naive" in out
    fc = pd.read_csv(tmp_path / "forecast.csv")
    assert len(fc) == 52 and np.isfinite(fc["co2"]).all()
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"
