"""tsrec.plotting.plot_forecast on real forecasts (ETTh1), headless (Agg)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests._settings import make, needs

matplotlib = needs("matplotlib")
matplotlib.use("Agg")

from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tsrec.plotting import plot_forecast  # noqa: E402


@pytest.fixture(scope="module")
def fitted(etth1):
    """A quantile model on 400 rows of two ETTh1 channels, its forecast, quantiles and what happened."""
    hist, actual = etth1[["OT", "HUFL"]].iloc[:400], etth1[["OT", "HUFL"]].iloc[400:404]
    f = make("LRUForecaster", loss="quantile", quantiles=(0.1, 0.5, 0.9), max_epochs=1, stride=8).fit(hist)
    return hist, f.predict(), f.predict_quantiles(), actual


def lines(fig):
    return {ln.get_label(): ln for ln in fig.axes[0].get_lines()}


def test_returns_figure_with_history_forecast_actual(fitted):
    hist, fc, _, actual = fitted
    backend = matplotlib.get_backend()
    fig = plot_forecast(hist, fc, actual=actual, last=100)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert matplotlib.get_backend() == backend  # no global backend switch
    ls = lines(fig)
    assert set(ls) == {"history", "actual", "forecast"}
    np.testing.assert_array_equal(ls["history"].get_ydata(), hist["OT"].to_numpy()[-100:])
    np.testing.assert_array_equal(ls["forecast"].get_ydata(), fc["OT"].to_numpy())
    np.testing.assert_array_equal(ls["actual"].get_ydata(), actual["OT"].to_numpy())
    assert fig.axes[0].get_title() == "OT"
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quantile_band(fitted):
    hist, fc, qs, _ = fitted
    assert qs[("OT", 0.1)].le(qs[("OT", 0.9)]).all()
    fig = plot_forecast(hist, fc, quantiles=qs, column="HUFL")
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1 and bands[0].get_label() == "0.1-0.9 quantiles"
    ys = bands[0].get_paths()[0].vertices[:, 1]
    lo, hi = qs[("HUFL", 0.1)].to_numpy(), qs[("HUFL", 0.9)].to_numpy()
    assert ys.min() == pytest.approx(lo.min()) and ys.max() == pytest.approx(hi.max())
    assert fig.axes[0].get_title() == "HUFL"
    np.testing.assert_array_equal(lines(fig)["forecast"].get_ydata(), fc["HUFL"].to_numpy())


def test_series_inputs_and_given_axes(fitted):
    import matplotlib.pyplot as plt

    hist, fc, _, _ = fitted
    fig, axes = plt.subplots(1, 2)
    try:
        out = plot_forecast(hist["HUFL"], fc["HUFL"], last=None, ax=axes[1])
        assert out is fig
        assert len(axes[1].get_lines()) == 2 and len(axes[0].get_lines()) == 0
        assert len(axes[1].get_lines()[0].get_xdata()) == len(hist)
        np.testing.assert_array_equal(axes[1].get_lines()[1].get_ydata(), fc["HUFL"].to_numpy())
    finally:
        plt.close(fig)
