"""Files of earlier format versions keep loading: version-1 files written by tsrec 0.1.0 (main at 97e07ac)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import FORMAT_VERSION, BaseForecaster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format_v1"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_version_1_files_load_and_forecast_as_they_did(name, tmp_path):
    f = BaseForecaster.load(FIXTURES / f"{name}.safetensors")
    assert type(f) is getattr(tsrec, name)
    # the hyperparameters version 1 lacked take the values that give its model back: dense, single rows
    assert (f.head, f.patch_len, f.instance_norm, f.channel_independent, f.lr_schedule) == (
        "dense", 1, False, False, "constant")
    assert f.context == EXPECTED[name]["context"] and f.frame_.context == f.context and not f.frame_.direct
    forecast = f.predict()
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == ["y"]
    np.testing.assert_array_equal(forecast.to_numpy().ravel(), np.asarray(EXPECTED[name]["predict"], dtype=np.float64))
    # saved again, the file is of the current version and gives the same forecast
    f.save(tmp_path / "v2.safetensors")
    g = BaseForecaster.load(tmp_path / "v2.safetensors")
    assert FORMAT_VERSION == 2
    np.testing.assert_array_equal(g.predict().to_numpy(), forecast.to_numpy())
    # and it keeps streaming
    g.partial_fit(pd.DataFrame({"y": [0.1, 0.2], "x": [0.3, 0.4]},
                               index=pd.date_range(forecast.index[0], periods=2, freq="h"))[["x"]],
                  pd.DataFrame({"y": [0.1, 0.2]}, index=pd.date_range(forecast.index[0], periods=2, freq="h")))
    assert np.isfinite(g.predict().to_numpy()).all()
