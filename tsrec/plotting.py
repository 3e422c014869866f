"""Plots of forecasts (needs matplotlib: ``pip install tsrec[plot]``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["plot_forecast"]


def plot_forecast(
    history: pd.DataFrame | pd.Series,
    forecast: pd.DataFrame | pd.Series,
    actual: pd.DataFrame | pd.Series | None = None,
    quantiles: pd.DataFrame | None = None,
    column: str | None = None,
    last: int | None = 300,
    ax: Any = None,
):
    """Plot the end of a history, a forecast and, optionally, what happened.

    Parameters
    ----------
    history, forecast, actual : DataFrame or Series
        Indexed by time; ``column`` picks one channel of a DataFrame (default: the first).
    quantiles : DataFrame, optional
        Output of ``predict_quantiles``: columns (target, quantile); the outermost
        pair is drawn as a band.
    last : int or None
        How many history rows to show.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plot_forecast needs matplotlib: pip install 'tsrec[plot]'") from e

    def pick(obj):
        if obj is None or isinstance(obj, pd.Series):
            return obj
        return obj[column if column is not None else obj.columns[0]]

    col = column if column is not None else (history.columns[0] if isinstance(history, pd.DataFrame) else history.name)
    h = pick(history)
    if last is not None:
        h = h.iloc[-last:]
    if ax is None:  # a Figure outside pyplot: no global backend switch, shows in notebooks, saves anywhere
        fig = Figure(figsize=(10, 4))
        ax = fig.subplots()
    else:
        fig = ax.figure
    ax.plot(h.index, h.to_numpy(), color="0.3", lw=1, label="history")
    if actual is not None:
        a = pick(actual)
        ax.plot(a.index, a.to_numpy(), color="0.3", lw=1, ls="--", label="actual")
    f = pick(forecast)
    ax.plot(f.index, f.to_numpy(), color="C0", lw=1.5, label="forecast")
    if quantiles is not None:
        qs = quantiles[col if col in quantiles.columns.get_level_values(0) else quantiles.columns[0][0]]
        lo, hi = qs.columns.min(), qs.columns.max()
        ax.fill_between(qs.index, qs[lo].to_numpy(), qs[hi].to_numpy(), color="C0", alpha=0.2,
                        label=f"{lo:g}-{hi:g} quantiles")
    ax.set_title(str(col))
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return fig
