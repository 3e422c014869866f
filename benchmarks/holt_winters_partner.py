"""Screen: the defaults with their damped partner averaged with Holt-Winters on monthly and quarterly series.

A diagnosis screen on seen sets (session 56), not a change to the package. It runs ``benchmarks/defaults.py`` with
its arguments after patching :mod:`tsrec.nn.window`. Every damped partner of a fit with a period of 4 or 12 (the
window's damped Holt, its seasonal-naive blend, and the history partner and its blend) then forecasts the mean of
its own forecast and statsmodels' damped additive Holt-Winters (``ExponentialSmoothing(trend="add",
damped_trend=True, seasonal="add", initialization_method="estimated")``). Holt-Winters is fitted on the same rows,
wherever they hold at least two seasons and two rows. Compare with a plain ``defaults.py`` run of the same
arguments (needs statsmodels).

    python benchmarks/holt_winters_partner.py --set two_years --split val --folds 2 --models LRUForecaster \\
        --threads 1 --seed 0
"""
from __future__ import annotations

import runpy
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tsrec.nn import window  # noqa: E402


def with_holt_winters(method):
    """``method`` (a partner: rows ``(N, L)``, horizon, period) averaged with Holt-Winters row by row."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    def partner(rows, horizon, period=None, *args, **kwargs):
        out = method(rows, horizon, period, *args, **kwargs)
        if period not in (4, 12) or rows.dim() != 2:
            return out
        x = rows.detach().to(torch.float64).cpu().numpy()
        mixed = out.detach().to(torch.float64).cpu().clone()
        for i, row in enumerate(x):
            r = row[np.isfinite(row)]
            if len(r) < 2 * period + 2 or np.ptp(r) == 0:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    f = ExponentialSmoothing(r, trend="add", damped_trend=True, seasonal="add",
                                             seasonal_periods=period,
                                             initialization_method="estimated").fit().forecast(horizon)
                except (ValueError, np.linalg.LinAlgError):
                    continue
            if np.isfinite(f).all():
                mixed[i] = 0.5 * mixed[i] + 0.5 * torch.from_numpy(np.asarray(f, dtype=np.float64))
        return mixed.to(device=out.device, dtype=out.dtype)

    return partner


def main() -> None:
    window.history_forecast = with_holt_winters(window.history_forecast)
    window.history_blend_forecast = with_holt_winters(window.history_blend_forecast)
    window.naive_blend_forecast = with_holt_winters(window.naive_blend_forecast)
    window.PARTNERS["damped"] = with_holt_winters(window.PARTNERS["damped"])
    sys.argv = [str(Path(__file__).with_name("defaults.py"))] + sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
