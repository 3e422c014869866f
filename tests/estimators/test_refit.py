"""``refit``: after early stopping, the network trained again on every window for the epochs it chose (format 28)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import tsrec

KW = dict(horizon=24, context=96, d_model=16, n_layers=1, max_epochs=4, patience=2, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def ot(etth1):
    """3,000 hourly rows of ETTh1's oil temperature."""
    return etth1[["OT"]].iloc[:3000]


@pytest.mark.parametrize("name", ["LRUForecaster", "S4Forecaster"])
def test_a_refit_is_a_fit_on_every_row_for_the_epochs_early_stopping_chose(ot, name):
    """With no partner and no dropout, the refitted weights are those of a fit from the same seed on every window
    (no rows held out) for the epoch count the refit's own early stopping chose: the same initial weights, windows,
    shuffles and schedule. Its forecasts differ from the early-stopped fit's, which never trained on the held-out
    rows."""
    kw = dict(KW, theta_weight=0.0, validation_fraction=0.25)
    refitted = getattr(tsrec, name)(refit=True, **kw).fit(ot)
    epochs = int(np.argmin(refitted.history_["val_loss"])) + 1
    assert len(refitted.history_["refit_loss"]) == epochs
    every_row = getattr(tsrec, name)(**dict(kw, early_stopping=False, max_epochs=epochs)).fit(ot)
    for (k, p), q in zip(refitted.model_.named_parameters(), every_row.model_.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=k)
    np.testing.assert_array_equal(refitted.predict().to_numpy(), every_row.predict().to_numpy())
    stopped = getattr(tsrec, name)(**kw).fit(ot)
    assert np.abs(stopped.predict().to_numpy() - refitted.predict().to_numpy()).max() > 1e-3


def test_what_the_held_out_windows_chose_stays(ot, tmp_path):
    """Under the defaults' ``theta_weight="auto"`` a long fit chooses the partner's, naive and ridge shares and a
    ridge map on its held-out windows: a refit keeps every one of them as the first network chose them (the same
    as without the refit) and only the network's weights move; saved and loaded, it forecasts the same."""
    base = tsrec.LRUForecaster(**KW).fit(ot)
    refitted = tsrec.LRUForecaster(refit=True, **KW).fit(ot)
    assert refitted.frame_ == base.frame_ and base.frame_.ridge_share > 0
    torch.testing.assert_close(refitted.model_.ridge_weight, base.model_.ridge_weight, rtol=0, atol=0)
    moved = [k for (k, p), q in zip(refitted.model_.named_parameters(), base.model_.parameters())
             if not torch.equal(p, q)]
    assert moved
    np.testing.assert_allclose(refitted.history_["val_loss"], base.history_["val_loss"], rtol=0, atol=0)
    refitted.save(tmp_path / "refit.safetensors")
    loaded = tsrec.LRUForecaster.load(tmp_path / "refit.safetensors")
    assert loaded.refit is True and loaded.history_["refit_loss"] == refitted.history_["refit_loss"]
    np.testing.assert_array_equal(loaded.predict().to_numpy(), refitted.predict().to_numpy())


def test_a_series_too_short_to_hold_rows_out_is_fitted_as_without_a_refit():
    """Ten per cent of 60 monthly rows is under a horizon: no rows are held out, so there is nothing to refit on
    and ``refit=True`` fits exactly as ``refit=False``."""
    y = pd.DataFrame({"y": 50 + 10 * np.sin(2 * np.pi * np.arange(60) / 12) + np.arange(60) * 0.3},
                     index=pd.date_range("2015-01-01", periods=60, freq="MS"))
    kw = dict(horizon=12, d_model=8, n_layers=1, max_epochs=3, random_state=0, device="cpu")
    a = tsrec.LRUForecaster(refit=True, **kw).fit(y)
    b = tsrec.LRUForecaster(**kw).fit(y)
    assert "refit_loss" not in a.history_
    np.testing.assert_array_equal(a.predict().to_numpy(), b.predict().to_numpy())


@pytest.mark.parametrize("bad", [dict(early_stopping=False), dict(validation_fraction=0.0), dict(refit="yes")])
def test_a_refit_without_held_out_rows_is_refused_and_changes_nothing(ot, bad):
    """``refit=True`` with no early stopping (or none held out) has no epoch count to refit for: ValueError naming
    ``refit``, and an earlier fit stays as it was."""
    f = tsrec.LRUForecaster(**dict(KW, max_epochs=1)).fit(ot.iloc[:1000])
    before = f.predict().to_numpy()
    with pytest.raises(ValueError, match="refit"):
        clone(f).set_params(**{"refit": True, **bad}).fit(ot.iloc[:1000])
    with pytest.raises(ValueError, match="refit"):
        f.set_params(**{"refit": True, **bad}).fit(ot.iloc[:1000])
    np.testing.assert_array_equal(f.predict().to_numpy(), before)


def test_a_refit_with_dropout_is_reproducible_whatever_the_global_rng(ot):
    """The refit's dropout draws from the fit's seed, not from torch's global generator: two fits of one seed
    give the same forecasts though the global generator moved between them."""
    kw = dict(KW, theta_weight=0.0, dropout=0.3, validation_fraction=0.25, max_epochs=2)
    a = tsrec.LRUForecaster(refit=True, **kw).fit(ot.iloc[:1500])
    torch.rand(1000)
    b = tsrec.LRUForecaster(refit=True, **kw).fit(ot.iloc[:1500])
    assert "refit_loss" in a.history_
    np.testing.assert_array_equal(a.predict().to_numpy(), b.predict().to_numpy())
