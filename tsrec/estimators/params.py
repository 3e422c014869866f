"""Hyperparameters and fitted attributes, each declared once.

A :class:`Param` names a hyperparameter, its default, its numpydoc type, its
doc line and the rule that validates it. :data:`COMMON_PARAMS` are those
every forecaster shares; each forecaster adds its model's own in
``_model_params``. From the same declarations, :func:`check_params` validates
an estimator (at ``fit``, not in ``__init__``: scikit-learn rules) and
:func:`render_docstring` writes the class docstring's Parameters and
Attributes sections. :data:`FITTED_ATTRIBUTES` lists the state that ``fit``
sets.

A rule is a function ``rule(name, value, estimator)`` that raises ValueError
naming the parameter; the estimator is there for rules that depend on an
earlier parameter (``quantiles`` on ``loss``, ``n_heads`` on ``d_model``).
"""

from __future__ import annotations

import inspect
import math
import numbers
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.window import LINEAR_PATHS
from ..scan import BACKENDS
from ..training import LR_SCHEDULES
from .covariates import CALENDAR

__all__ = ["Param", "Attribute", "COMMON_PARAMS", "FITTED_ATTRIBUTES", "check_params", "render_docstring"]

#: ``rule(name, value, estimator)``: raises ValueError when ``value`` is not allowed
Rule = Callable[[str, Any, Any], None]

LOSSES = ("mse", "mae", "quantile")


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its name, default, numpydoc type, doc text and validation rule.

    ``shown_default`` replaces ``repr(default)`` in the docstring when that
    reads badly (``pi/10`` rather than ``0.3141592653589793``).
    """

    name: str
    default: Any
    type: str
    doc: str
    rule: Rule | None = None
    shown_default: str | None = None

    def render(self) -> str:
        """The numpydoc entry, indented for a class docstring."""
        if self.shown_default is not None:
            default = self.shown_default
        elif isinstance(self.default, str):
            default = f'"{self.default}"'
        else:
            default = repr(self.default)
        return _entry(f"{self.name} : {self.type}, default={default}", self.doc)


@dataclass(frozen=True)
class Attribute:
    """One fitted attribute: its name, numpydoc type and doc text (private ones are not documented)."""

    name: str
    type: str
    doc: str

    def render(self) -> str:
        return _entry(f"{self.name} : {self.type}", self.doc)


def _entry(head: str, doc: str) -> str:
    r"""A numpydoc entry: ``head``, then ``doc`` wrapped and indented; a line of ``doc`` that starts with ``"- "``
    is a list item (its continuation lines indented under its text), an empty line stays empty.

    >>> print(_entry("k : int", "Rows:\n\n- " + "one more row " * 7 + "\n- none"))
    k : int
        Rows:
    <BLANKLINE>
        - one more row one more row one more row one more row one more row one more
          row one more row
        - none
    """
    lines = [head]
    for par in doc.split("\n"):
        item = par.startswith("- ")
        lines += ["    " + line for line in textwrap.wrap(par, width=76, subsequent_indent="  " if item else "",
                                                             break_on_hyphens=False)]
        if not par:
            lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------- rules
def is_int(v: Any) -> bool:
    """An integer, not a bool (numpy integers count)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def is_real(v: Any) -> bool:
    """A real number, not a bool (numpy numbers count)."""
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def rule(test: Callable[[Any], bool], expected: str) -> Rule:
    """A rule that raises ``ValueError("<name> must be <expected>, got <value>")`` where ``test`` fails."""

    def check(name: str, value: Any, est: Any) -> None:
        if not test(value):
            raise ValueError(f"{name} must be {expected}, got {value!r}")

    return check


def integer(minimum: int = 1, none: bool = False) -> Rule:
    """An integer >= ``minimum`` (or None with ``none``)."""
    expected = ("None or " if none else "") + f"an integer >= {minimum}"
    return rule(lambda v: (none and v is None) or (is_int(v) and v >= minimum), expected)


def boolean() -> Rule:
    return rule(lambda v: isinstance(v, (bool, np.bool_)), "True or False")


def one_of(choices: tuple) -> Rule:
    """One of ``choices`` (strings, and None where listed)."""
    return rule(lambda v: (v is None and None in choices) or (isinstance(v, str) and v in choices),
                f"one of {choices}")


def _refit(name: str, value: Any, est: Any) -> None:
    """``refit``: True or False, and True only with early stopping on held-out rows."""
    boolean()(name, value, est)
    if value and not (est.early_stopping and est.validation_fraction > 0):
        raise ValueError(f"refit=True needs early stopping on held-out rows (it refits for the epochs early "
                         f"stopping chose), got early_stopping={est.early_stopping!r}, "
                         f"validation_fraction={est.validation_fraction!r}")


def divisor_of(other: str) -> Rule:
    """A positive integer that divides the parameter ``other``."""

    def check(name: str, value: Any, est: Any) -> None:
        total = getattr(est, other)
        if not is_int(value) or value < 1 or total % value:
            raise ValueError(f"{name} must be a positive divisor of {other}={total}, got {value!r}")

    return check


def _quantiles(name: str, value: Any, est: Any) -> None:
    """Checked only for ``loss="quantile"``: increasing numbers in (0, 1)."""
    if est.loss != "quantile":
        return
    try:
        q = np.asarray(value, dtype=float) if value is not None else np.array([])
    except (TypeError, ValueError):
        q = np.array([np.nan])
    if q.ndim != 1 or q.size == 0 or not (q > 0).all() or not (q < 1).all() or (np.diff(q) <= 0).any():
        raise ValueError(f"{name} must be increasing numbers in (0, 1), got {value!r}")


def _context(name: str, value: Any, est: Any) -> None:
    if not (value is None or value == "auto" and isinstance(value, str) or is_int(value) and value >= 1):
        raise ValueError(f"{name} must be None, 'auto' or an integer >= 1, got {value!r}")


def _patch_len(name: str, value: Any, est: Any) -> None:
    if not (isinstance(value, str) and value == "auto" or is_int(value) and value >= 1):
        raise ValueError(f"{name} must be 'auto' or an integer >= 1, got {value!r}")


def _stride(name: str, value: Any, est: Any) -> None:
    if not (isinstance(value, str) and value == "auto" or is_int(value) and value >= 1):
        raise ValueError(f"{name} must be 'auto' or an integer >= 1, got {value!r}")


def _future_covariates(name: str, value: Any, est: Any) -> None:
    ok = value is None or isinstance(value, (tuple, list)) and len(value) > 0 and \
        all(isinstance(c, str) for c in value) and len(set(value)) == len(value)
    if not ok:
        raise ValueError(f"{name} must be None or a non-empty tuple of distinct column names, got {value!r}")


def _calendar_features(name: str, value: Any, est: Any) -> None:
    if value is None or isinstance(value, str) and value == "auto":
        return
    ok = isinstance(value, (tuple, list)) and len(value) > 0 and all(isinstance(c, str) and c in CALENDAR
                                                                     for c in value) and len(set(value)) == len(value)
    if not ok:
        raise ValueError(f"{name} must be None, 'auto' or a non-empty tuple of distinct names from "
                         f"{tuple(CALENDAR)}, got {value!r}")


def _is_device(v: Any) -> bool:
    return isinstance(v, str) and (v in ("auto", "cpu", "cuda") or v.startswith("cuda:"))


# ------------------------------------------------------------ declarations
#: The hyperparameters every forecaster shares (``n_layers`` is each model's own: its default differs).
COMMON_PARAMS: tuple[Param, ...] = (
    Param("horizon", 1, "int", "Number of future steps forecast at once.", integer()),
    Param("context", "auto", 'int, "auto" or None',
          "Rows of look-back. An int: a fixed window, the model restarting from a zero state on each window. "
          '"auto": chosen at ``fit`` from the data, a third of the rows left for training in the shortest series, '
          "at most 512 and at most eight horizons or three seasons, whichever is more (``frame_`` holds the "
          "choice; see :func:`tsrec.estimators.frame.resolve`). A stream started "
          'by ``partial_fit`` on an unfitted estimator has no history to choose from, so there "auto" means None. '
          "None: the model is stateful over the whole history (trained on chunks of ``chunk_length`` steps).",
          _context),
    Param("head", "auto", '{"auto", "direct", "dense"}',
          '"direct": the forecast of all ``horizon`` steps is read from the end of the window (a '
          ":class:`~tsrec.nn.window.WindowModel`: segments, instance normalisation, channel independence) and "
          'training scores that forecast only. "dense": the network forecasts after every row and training scores '
          'every step whose targets exist (the stateful model of ``context=None``). "auto": direct for a fixed or '
          "automatic context, dense for None.", one_of(("auto", "direct", "dense"))),
    Param("patch_len", "auto", 'int or "auto"',
          "Rows per segment of the direct head: the recurrence runs over ``context / patch_len`` segments, each "
          'embedded by one linear layer. "auto": the seasonal period (from the index frequency, else the '
          "autocorrelation), at most an eighth of the context; 1 for the dense head.", _patch_len),
    Param("instance_norm", "robust", 'bool, "robust" or "last"',
          "True: normalise each window by its own mean and standard deviation and map the forecast back (RevIN). "
          '"robust" (the default): the same, with the mean and standard deviation of the window clipped at its '
          "median plus or minus five robust standard deviations, so that a fault or a spike in the window does not "
          "inflate the scale of the forecast (:func:`tsrec.nn.window.window_moments`); on a window without such "
          'values it is RevIN. "last": take each window relative to its last value, without scaling, and add that '
          "value back to the forecast (NLinear, SegRNN; direct head only). The stream model of ``context=None`` "
          "normalises each row by running (exponentially weighted) statistics carried in its state instead (for "
          'True and "robust" alike), with a time constant of four seasonal periods (at least 16 rows; 64 without a '
          "period): see "
          ":class:`tsrec.nn.causal_norm.CausalInstanceNorm`.",
          rule(lambda v: isinstance(v, (bool, np.bool_)) or isinstance(v, str) and v in ("last", "robust"),
               'True, False, "robust" or "last"')),
    Param("channel_independent", True, "bool",
          "One network shared by the targets of a wide frame: each target is its own series, with all the "
          "covariates beside it (direct head only; the dense head reads all channels at once).", boolean()),
    Param("chunk_length", 128, "int", "Length of the training chunks when ``context`` is None.", integer()),
    Param("d_model", 64, "int", "Width of the residual stream.", integer()),
    Param("dropout", 0.0, "float", "Dropout inside the blocks.",
          rule(lambda v: is_real(v) and 0 <= v < 1, "in [0, 1)")),
    Param("lr", 3e-3, "float", "AdamW learning rate (recurrence parameters get half of it and no weight decay).",
          rule(lambda v: is_real(v) and 0 < v < math.inf, "a positive number"), shown_default="3e-3"),
    Param("lr_schedule", "onecycle", '{"onecycle", "cosine", "constant"}',
          "Learning-rate schedule over the ``max_epochs`` planned epochs of ``fit`` (see "
          ":func:`tsrec.training.lr_factor`); ``partial_fit`` steps at ``lr``.", one_of(LR_SCHEDULES)),
    Param("weight_decay", 0.01, "float", "AdamW weight decay of the weight matrices.",
          rule(lambda v: is_real(v) and 0 <= v < math.inf, ">= 0")),
    Param("max_epochs", 20, "int", "Passes over the training windows.", integer()),
    Param("batch_size", 32, "int", "Windows per optimiser step.", integer()),
    Param("early_stopping", True, "bool",
          "Stop when the loss on a validation tail (the last ``validation_fraction`` of every series) has not "
          "improved for ``patience`` epochs, and restore the best weights.", boolean()),
    Param("patience", 5, "int", "Epochs without improvement before stopping.", integer()),
    Param("weight_average", False, "bool",
          "Score and keep, after each epoch of ``fit``, the average of the weights over about that epoch's "
          "optimiser steps (an exponential moving average, decay ``1 - 1 / steps per epoch``, bias-corrected) "
          "instead of its last step's weights: early stopping then picks among smooth averages rather than noisy "
          "snapshots, and fits vary less with the seed; training goes on from the live weights. A fit without "
          "validation windows keeps the live weights; ``partial_fit`` steps are not averaged. Not the default: "
          "level with it on two fresh sets of 30 series (``benchmarks/rules/2026-12-05_weight_average_defaults.md``).",
          boolean()),
    Param("validation_fraction", 0.1, "float", "Share of every series held out as the validation tail.",
          rule(lambda v: is_real(v) and 0 <= v < 0.5, "in [0, 0.5)")),
    Param("refit", False, "bool",
          "After early stopping, train the network again from its initial weights on every window, the "
          "held-out ones too, for the epoch count early stopping chose (the learning-rate schedule planned over "
          "those epochs), so it learns from the newest rows as well. What the held-out windows chose stays as the "
          "first network chose it (the partner's, ridge and naive shares, the ridge map, the intervals' "
          "calibration); ``history_[\"refit_loss\"]`` holds the refit's epochs. A series too short to hold "
          "rows out has nothing to refit on. Needs ``early_stopping`` and a ``validation_fraction`` above 0. Not "
          "the default: level on eight validation sets of the defaults (session 33); adopted for the "
          "long-horizon recipe by ``benchmarks/rules/2026-12-07_refit.md``.",
          _refit),
    Param("stride", "auto", 'int or "auto"',
          'Step between consecutive training windows (and validation windows). "auto": 1, or the smallest step '
          "that keeps at most 16384 training windows per epoch on long series.", _stride),
    Param("start_padding", False, "bool",
          "With a fixed ``context``, let a series shorter than ``context + horizon`` rows (but of ``horizon + 2`` "
          "or more) train too: ``fit`` pads its start with its first row to that length (one training window, "
          "no validation rows), as a forecast from a history shorter than the context reads it (a partner that "
          "reads more rows skips the padding), and ``predict`` takes such histories. ``partial_fit`` trains on "
          "a series' windows once it holds ``context + horizon`` rows, with or without. For panels of unequal "
          "length, where a context set by the shortest series would be short for the rest: give ``context`` "
          'as an int (``"auto"`` still follows the shortest series). False: a fit on such a series is an error.',
          boolean()),
    Param("loss", "mae", '{"mse", "mae", "quantile"}',
          'Training loss: "mae", the absolute error (the forecast is a median; chosen on the validation blocks of '
          '``benchmarks/defaults.py``), "mse" the squared error (a mean), "quantile" the pinball loss at '
          "``quantiles``.", one_of(LOSSES)),
    Param("quantiles", (0.1, 0.5, 0.9), "tuple of float", 'Quantiles trained when ``loss="quantile"``.',
          _quantiles),
    Param("n_steps", 1, "int", "Gradient steps per ``partial_fit`` call.", integer()),
    Param("replay_size", 0, "int", "Windows kept in the reservoir replay buffer of ``partial_fit`` (0 = none).",
          integer(0)),
    Param("skip_last", True, "bool", "Forecast the change from the last observed value (from seasonal naive in "
          'short monthly and quarterly fits with ``theta_weight="auto"`` whose rows show the season: '
          "``frame_.seasonal_skip``).", boolean()),
    Param("linear_path", "dense", '{"dense", "sparse", "none"}',
          "The linear map of each normalised window added to the direct head's forecast (shared by the targets; "
          'the dense head has none). "dense": ``Linear(context -> horizon)``, the NLinear path. "sparse": one '
          "``Linear(ceil(context / period) -> ceil(horizon / period))`` shared by the ``period`` phases of the "
          "window, each phase forecast from its own past (SparseTSF; :class:`~tsrec.nn.window.PeriodLinear`), with "
          "``period`` the seasonal period of ``frame_`` (dense where none was found or the context is shorter than "
          "one period): ``period**2`` times fewer weights. On validation it helped long seasonal series and hurt "
          'short or unseasonal ones (``benchmarks/RESULTS.md``). "none": no linear path.',
          one_of(LINEAR_PATHS)),
    Param("theta_weight", "auto", 'float or "auto"',
          "The share of the classical partner (``partner``) in the direct head's forecast: each target's forecast "
          "is ``(1 - theta_weight) * network + theta_weight * partner``, both made from the same window (the name "
          "is the Theta method's, the first partner). The network is trained on its own forecast; early stopping, "
          "prediction and streaming use the combination. 0: the network alone. The dense head of "
          '``context=None`` has no window and ignores it. "auto": set at ``fit`` from the data '
          "(``frame_.theta_weight`` holds the share used):\n\n"
          "- 0.5; where the partner sees the season (no period, or a window of two periods and two rows) and the "
          "fit has fewer than 48 training windows, more: 0.75 at 24 or fewer, linear in the log of the windows "
          "between (:func:`~tsrec.estimators.frame.auto_theta_weight`);\n"
          "- where the window is too short for the partner to see the season: 0.9 when the damped partner reads "
          "the seasons before the window (:func:`~tsrec.estimators.frame.history_share`); where it cannot "
          "(the Theta partner, covariates, the missing-value mask, the online correction, periods "
          "over 128), 0.5 of a partner that removes the window's one season where it holds one, and 0 where it "
          "holds less than a season of a series whose differences show one;\n"
          "- 0.25 more where the damped partner reads the rows before a short non-seasonal window and the "
          "series trends smoothly (:func:`~tsrec.estimators.frame.smooth_trend`);\n"
          "- then, where the validation tail holds at least ten horizons of forecast origins, the share among 0, "
          "0.25, 0.5, 0.75 and 1 with the least validation loss; and, for a plain window model (or ensemble, "
          "or the model inside ``online_update=\"ridge\"``'s correction) fitted on one series, the forecast "
          "then moves a share of the way to a ridge regression's of the window (the next ``horizon`` values on "
          "the window's, solved in closed form over the training windows, its penalty chosen on the validation "
          "windows), the share among 0, 0.25 and 0.5 with the least validation loss (``frame_.ridge_share``, "
          ":func:`~tsrec.estimators.frame.auto_ridge_share`); under ``online_update=\"ridge\"`` an updating "
          "``partial_fit`` adds the windows its rows complete to that ridge and solves it again;\n"
          "- else, on an index that steps by more than a day (weekly, monthly, quarterly, yearly), with a plain "
          "window model (or ensemble) whose damped partner reads the window alone, or, in a fit of one series "
          "indexed monthly or coarser, the seasons before a window of two to four seasons, 0.75 where the share is "
          "still 0.5 (after the naive share below is chosen; :func:`~tsrec.estimators.frame.coarse_share`);\n"
          "- last, on an index that steps by less than a day (hourly and finer), with windows of a day's rows or "
          "more and a plain window model (or ensemble), the forecast moves 0.2 of the way to seasonal naive "
          "(the window's last day repeated) where, on the validation windows, seasonal naive beats naive and "
          "the model's loss is above half of seasonal naive's (``frame_.naive_share``, "
          ":func:`~tsrec.estimators.frame.auto_naive_share`); on a daily or coarser index (or none), it moves "
          "half of the way to naive (the last value; ``frame_.naive_period`` 1) where the fit has 32 validation "
          "windows or more, naive forecasts them no worse than seasonal naive, and the model's loss there is "
          "above 0.8 of naive's.\n\n"
          '"auto" also gives a monthly or quarterly fit of fewer than 100 training windows the seasonal skip: '
          "the network learns the change from seasonal naive, not from the last value, in every window, where "
          "the first differences of the fit's rows show the season (``frame_.seasonal_skip``, "
          ":func:`~tsrec.estimators.frame.wants_seasonal_skip`).\n\n"
          "Each rule was chosen on the validation blocks of real series and judged on series it had not seen "
          "(``benchmarks/RESULTS.md``, ``benchmarks/rules/``).",
          rule(lambda v: v == "auto" and isinstance(v, str) or is_real(v) and 0 <= v <= 1,
               'a number in [0, 1] or "auto"')),
    Param("ridge_share", "auto", 'float or "auto"',
          "The share of a ridge regression's forecast in a long single-series fit's (the next ``horizon`` scaled "
          "values on the window's, one map for every target, solved in closed form over the training windows, "
          "its penalty chosen on the validation windows: :mod:`tsrec.nn.ridge`). \"auto\": chosen with "
          "``theta_weight=\"auto\"`` as that parameter says (0, 0.25 or 0.5 by the validation loss, where the "
          "validation tail holds ten horizons of origins; else none). A number: that share, whatever "
          "``theta_weight`` is, for a window model (a fixed or automatic ``context``) fitted on one series "
          "without known-future or static covariates or the missing-value mask, with validation windows "
          "(``early_stopping`` and ``validation_fraction > 0``); a fit that cannot take it raises ValueError. 0: "
          "no ridge. The ridge comes after the partner's share and before the naive one "
          "(``frame_.ridge_share``). Under ``online_update=\"ridge\"`` an updating ``partial_fit`` adds the "
          "windows its rows complete to the ridge and solves it again; under ``\"sgd\"`` its map stays as "
          "``fit`` left it.",
          rule(lambda v: v == "auto" and isinstance(v, str) or is_real(v) and 0 <= v <= 1,
               'a number in [0, 1] or "auto"')),
    Param("cross_ridge_rows", 0, "int",
          "Where a fit gives the ridge of ``ridge_share`` a share above 0, a second, cross-channel ridge as well: "
          "every target's last ``cross_ridge_rows`` scaled values, each minus its last, to every target's next "
          "``horizon`` values minus its last (one map over the targets, for wide frames whose channels move "
          "together; :mod:`tsrec.nn.ridge`), its penalty chosen on the validation windows; the ridge forecast is "
          "then the mean of the two maps'. At most the resolved ``context``; a number above 0 needs a fit that "
          "``ridge_share`` can be given a number for, else ``fit`` raises ValueError. It streams with the other "
          "map under ``online_update=\"ridge\"``. 0: none.",
          integer(0)),
    Param("partner", "damped", '{"damped", "theta"}',
          "The classical forecast that ``theta_weight`` mixes into the direct head's. \"damped\": damped Holt, a "
          "level and a damped trend on the deseasonalised window, the smoothing weights and the damping chosen "
          "per window by the least squared one-step errors on a grid, or, on a window of 20 rows or fewer, "
          "estimated with the initial state as statsmodels estimates them (:mod:`tsrec.nn.damped`); it follows "
          "a trend the window shows. With a seasonal period, a window of two seasons and three rows or more "
          "whose differences show the season, and whose last rows seasonal naive forecast better, gets it "
          "blended with seasonal naive, each weighted by the other's error there (``frame_.naive_blend``, "
          ":func:`~tsrec.nn.damped.naive_blend_forecast`). On a series indexed daily or finer each window gets "
          "the grid's point of the least squared errors one step ahead or of those one step and ``horizon`` steps "
          "ahead, whichever forecast the window's last rows better from the rows before them "
          "(``frame_.horizon_errors``): fitted to the next row alone, an hourly window's trend can follow its last "
          "hours and run off over a day."
          ' With ``theta_weight="auto"`` and a plain window model or ensemble (no covariates, missing-value mask '
          "or online correction), ``fit`` gives windows too short to estimate it rows before the origin "
          "(``frame_.partner_rows``, :func:`~tsrec.estimators.frame.history_rows`):\n\n"
          "- a non-seasonal window of 20 rows or fewer: the 40 rows before the origin;\n"
          "- a seasonal window shorter than four seasons: the 8 seasons before the origin (at most 1024 rows), "
          "less their additive index where they or their differences show the season (the differences by a "
          "positive autocorrelation at the period: ``frame_.positive_differences``), less their one season "
          "where they hold one but not two and a backtest on their last rows prefers it "
          "(``frame_.history_one_season``; on a monthly or quarterly series, also where they hold two to four "
          "seasons that fail the seasonality test, from their last two seasons and a row: ``frame_.tail_season``), "
          "blended with seasonal naive where that forecast their last rows "
          "better (``frame_.history_blend``; :func:`~tsrec.nn.damped.history_blend_forecast`).\n\n"
          '"theta": the Theta method (simple exponential smoothing plus half the least-squares drift, '
          "deseasonalised; :func:`~tsrec.nn.theta.theta_forecast`). Damped Holt and each of its adaptations were "
          "chosen on the validation blocks of real series and judged on series they had not seen "
          "(``benchmarks/RESULTS.md``, ``benchmarks/rules/``).", one_of(("damped", "theta"))),
    Param("ensemble_size", 1, "int",
          "Networks trained side by side from different initialisations, each on its own loss; the forecast is "
          "their mean (a deep ensemble, :class:`~tsrec.nn.window.WindowEnsemble`), combined with the classical "
          "partner and the naive shares as one network's forecast would be. Costs that many times the "
          "time and memory of one; direct head only.", integer()),
    Param("device", "auto", '{"auto", "cpu", "cuda"}', 'Where the model runs ("auto": CUDA when available).',
          rule(_is_device, "'auto', 'cpu' or 'cuda[:n]'")),
    Param("backend", "auto", '{"auto", "torch", "cupy", "reference"}', "Scan backend (see :mod:`tsrec.scan`).",
          one_of(BACKENDS)),
    Param("random_state", None, "int or None",
          "Seed of the weights and of the window order: the same seed, data and device give the same forecasts.",
          rule(lambda v: v is None or is_int(v), "None or an int")),
    Param("verbose", False, "bool", "Show a progress bar while training.", boolean()),
    Param("future_covariates", None, "tuple of str or None",
          "Columns of X (the covariates, with the targets given as y) whose values are known in advance: "
          "prices, holidays, weather forecasts. Besides their past, the model reads their values over the "
          "forecast horizon (per horizon step, through a small network whose output is added to the forecast): "
          "from the rows of X after each origin when training, streaming and scoring, from ``X_future`` at "
          "``predict``. Both heads (direct and dense, ``context=None``) take them.", _future_covariates),
    Param("calendar_features", None, 'None, "auto" or tuple of str',
          "Covariates derived from the DatetimeIndex, sin/cos encodings of the position in a cycle (one of "
          f"{tuple(CALENDAR)}), read over the horizon like known-future covariates (``predict`` needs nothing for "
          'them) and as input channels. "auto": the cycles longer than the step (see '
          ":func:`tsrec.estimators.covariates.auto_calendar`: hourly data gets hour and day of week, daily data "
          'day of week and day of year, ...); none without a DatetimeIndex. An explicit tuple needs a '
          "DatetimeIndex (ValueError otherwise).", _calendar_features),
    Param("missing", "raise", '{"raise", "mask"}',
          '"raise": NaN values and gaps in a DatetimeIndex or integer index (a missing stamp at the step the '
          "index has) raise ValueError naming the first one; an index that steps by business days may skip "
          "weekdays (holidays: its rows are consecutive trading days). "
          '"mask": NaN values (targets and covariates) are accepted at ``fit``, ``partial_fit`` and ``predict``, '
          "and a gap in an index is filled with rows of NaN (the index reindexed to its full grid). A NaN target "
          "is left out of the loss; in the model's input each NaN is replaced by the last observed value of its "
          "channel (within the window for a fixed context; carried in the state for ``context=None``), else 0 in "
          "scaled units, and one channel per target says where it was observed (see "
          ":class:`~tsrec.nn.missing.MaskedInput`). The scaling statistics leave NaN out.",
          one_of(("raise", "mask"))),
    Param("scaling", "auto", '{"auto", "global", "series"}',
          '"global": one mean and standard deviation per channel, pooled over the series of a panel. "series": '
          "each series of a panel scaled by its own statistics (``series_scalers_``; updated online per series "
          "by ``partial_fit``, saved with the model), so series of very different levels share one model. "
          "``predict(X=history)`` then scales each given series by the statistics of the rows given (a series "
          'need not be one of the fitted panel). "auto": "series" where, in some target, the standard deviations '
          "of the fitted series differ by more than 1,000 times (:func:`~tsrec.data.scales_differ`), else "
          '"global" (``series_scalers_`` is then None); chosen once per ``fit``, kept by ``partial_fit``. One '
          "series is scaled the same way under every value.", one_of(("auto", "global", "series"))),
    Param("online_update", "sgd", '{"sgd", "ridge"}',
          'What an updating ``partial_fit`` changes. "sgd": ``n_steps`` gradient steps on the weights. "ridge": '
          "the weights stay as ``fit`` left them, and a linear correction of the forecast (fast weights, "
          ":class:`~tsrec.nn.online.OnlineRidge`) is refitted in closed form on every window whose targets have "
          "arrived: a ridge regression, in each window's normalised units and channel by channel, of the model's "
          "error on the window's newest ``online_lags`` values, the model's forecast and 1, from statistics kept "
          "at constant memory (old windows weigh ``online_forgetting`` per row of age); and a ridge partner "
          "(``ridge_share``) adds those windows to its sums and is solved again. Right after ``fit`` the "
          "forecast is the model's; saved with the model. Needs the direct head (not ``context=None``).",
          one_of(("sgd", "ridge"))),
    Param("online_alpha", "auto", 'float or "auto"',
          'Ridge penalty of ``online_update="ridge"`` (on the sum of the squared errors in scaled units: a larger '
          'value keeps the forecast nearer the model\'s). "auto": chosen online among 1e1 .. 1e5 (and no '
          "correction), each scored by the errors it made on the windows that arrived after it was solved "
          "(see :class:`~tsrec.nn.online.OnlineRidge`).",
          rule(lambda v: v == "auto" and isinstance(v, str) or is_real(v) and 0 < v < math.inf,
               "a positive number or 'auto'")),
    Param("online_forgetting", 0.9999, "float",
          'Forgetting factor of ``online_update="ridge"``: a window observed ``k`` rows ago weighs '
          "``online_forgetting ** k`` (1.0: every window the same).",
          rule(lambda v: is_real(v) and 0 < v <= 1, "in (0, 1]")),
    Param("online_lags", 24, 'int, "auto" or None',
          'The newest window rows among the features of ``online_update="ridge"`` (at most the context; None: '
          "the whole context). Fewer features vary less on few windows (24 measured best of 8, 24, 48, 96 and "
          "all on the P2 validation phases of ETTm1 and ETTh2, ``benchmarks/online.py``) and solve faster. "
          '"auto" (with ``online_alpha="auto"``): the whole context in the statistics, and the lag count chosen '
          "online with the penalty, among 8, 24, 96 and 336 (see :class:`~tsrec.nn.online.OnlineRidge`).",
          rule(lambda v: v is None or v == "auto" and isinstance(v, str) or is_int(v) and v >= 1,
               "None, 'auto' or an integer >= 1")),
    Param("persistence_blend", None, "int or None",
          'With ``online_update="ridge"``: weigh the forecast against persistence (each target\'s last value) by '
          "their recent errors, per target and step ahead; the value is the half-life, in rows, of the error "
          "means (each window enters once its targets have arrived; both means start equal). Right after "
          "``fit`` the forecast is the model's; from the first updating call on, the weight is ``L_last^4 / "
          "(L_model^4 + L_last^4)`` of the two mean squared errors (:class:`~tsrec.nn.online.OnlineRidge`), "
          "moved by every updating ``partial_fit``. A stream that drifts away from what the model learned falls "
          "back on persistence, one that does not stays with the model (96 in ``benchmarks/online.py``'s "
          "protocol P2: ``benchmarks/rules/2026-12-04_persistence_blend.md``). None: no blend.",
          rule(lambda v: v is None or is_int(v) and v >= 1, "None or an integer >= 1")),
)

#: What ``fit`` (or the first ``partial_fit``) sets; a failed first ``partial_fit`` removes all of it.
FITTED_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("model_", "torch.nn.Module", "The trained network (a :mod:`tsrec.nn` model), in eval mode."),
    Attribute("scaler_", "tsrec.data.StandardScaler",
              "Per-channel scaling statistics (targets, then covariates); ``partial_fit`` updates them online."),
    Attribute("series_scalers_", "list of tsrec.data.StandardScaler or None",
              'With ``scaling="series"``, the statistics of each series of the stream (in its order); else None.'),
    Attribute("frame_", "tsrec.estimators.frame.Frame",
              "The settings resolved at ``fit``: ``context``, ``patch_len``, ``direct`` (the head), the "
              "seasonal ``period`` the automatic settings used and the direct head's ``theta_weight``."),
    Attribute("history_", "dict", 'Per-epoch "loss", "val_loss" and "lr" of the last ``fit``.'),
    Attribute("device_", "torch.device", "Where the model runs."),
    Attribute("target_names_", "list of str", "Names of the forecast columns."),
    Attribute("covariate_names_", "list of str", "Names of the covariate columns (empty without ``y``)."),
    Attribute("n_features_in_", "int",
              "Number of columns of ``X`` seen in ``fit`` (the covariates when ``y`` is given, else the targets)."),
    Attribute("feature_names_in_", "ndarray of str",
              "Names of the columns of ``X`` seen in ``fit``; defined only when ``X`` has column names."),
    Attribute("covariates_", "tsrec.estimators.covariates.Covariates",
              "The known-future, calendar and static covariates of the fit (and each fitted series' static row)."),
    Attribute("_stream", "Stream", "The buffers and carried state the forecasts continue from."),
    Attribute("_optimizer", "torch.optim.Optimizer or None",
              "The optimizer of ``partial_fit`` (made at its first update)."),
    Attribute("_calibration", "tsrec.estimators.conformal.Calibration",
              "The forecast errors ``predict_interval`` is calibrated on (validation tail, then streamed origins)."),
    Attribute("_pending", "list or None", "Streamed rows whose calibration origins are not scored yet."),
    Attribute("_deferred", "tuple of tsrec.estimators.conformal.StepForecasts",
              "Calibration origins forecast by ``partial_fit``'s gradient steps, scored when the calibration is read."),
)


def check_params(est: Any, params: tuple[Param, ...]) -> None:
    """Validate the hyperparameters of ``est`` by the rules of ``params``, in order (raises ValueError)."""
    for p in params:
        if p.rule is not None:
            p.rule(p.name, getattr(est, p.name), est)


def render_docstring(cls: type) -> type:
    """Class decorator: render ``cls``'s Parameters and Attributes sections from its declarations.

    Puts the entries of ``cls._model_params`` and :data:`COMMON_PARAMS` where
    the docstring says ``%(parameters)s`` and the public entries of
    :data:`FITTED_ATTRIBUTES` where it says ``%(attributes)s``. Also checks
    that the declarations match ``__init__`` (names and defaults): a mismatch
    raises TypeError at import.
    """
    declared = cls._model_params + COMMON_PARAMS
    if cls.__init__ is not object.__init__:
        signature = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}
        names = [p.name for p in declared]
        if sorted(names) != sorted(signature) or any(signature[p.name] != p.default for p in declared):
            raise TypeError(f"{cls.__name__}: the declared hyperparameters {names} or their defaults do not "
                            f"match __init__ {signature}")
    if cls.__doc__:  # None under python -OO
        indent = "\n    "
        parameters = indent.join(p.render().replace("\n", indent) for p in declared).replace(indent + "\n", "\n\n")
        attributes = indent.join(a.render().replace("\n", indent) for a in FITTED_ATTRIBUTES
                                 if not a.name.startswith("_"))
        cls.__doc__ = cls.__doc__.replace("%(parameters)s", parameters).replace("%(attributes)s", attributes)
    return cls
