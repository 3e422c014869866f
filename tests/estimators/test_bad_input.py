"""The bad-input matrix: every forecaster, every public method, every kind of bad input.

Each bad call must raise ValueError or TypeError with a message that names the
problem, and leave a fitted estimator exactly as it was: same weights, same
stream (buffers, state, index bookkeeping, replay), same scaler and the same
forecasts. Hyperparameters are validated at fit (scikit-learn style): the
constructor stores anything, ``fit`` and the first ``partial_fit`` reject it.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from tests._settings import NAMES, make

N_FIT, N_HIST = 300, 120

_FITTED: dict[str, object] = {}
_SNAPSHOTS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def frame(etth1):
    return etth1[["HUFL", "MUFL", "OT"]].iloc[:400]


def fitted(name, frame):
    """A fresh copy of one quantile-trained, streamed estimator per forecaster (so predict_quantiles works too).

    Each test gets its own deep copy: a call that corrupts the estimator shows in its own case
    and cannot hide (or cause) a failure in another one.
    """
    if name not in _FITTED:
        f = make(name, loss="quantile", max_epochs=1, replay_size=4).fit(frame.iloc[:N_FIT - 20])
        f.partial_fit(frame.iloc[N_FIT - 20 : N_FIT])  # a moved stream: replay, optimizer and n_updates in use
        _FITTED[name] = f
        _SNAPSHOTS[name] = snapshot(copy.deepcopy(f))
    return copy.deepcopy(_FITTED[name])


def fitted_snapshot(name) -> dict:
    """The :func:`snapshot` of every copy :func:`fitted` gives (taken once, on a copy of its own: a deep copy
    holds the same weights, stream and scaler, and forecasts the same)."""
    return _SNAPSHOTS[name]


def snapshot(f, **predict_kw) -> dict:
    """Everything a failed call must leave alone: the forecasts, the hyperparameters and every fitted
    attribute (``model_`` weights, ``scaler_``, ``history_``, ``device_``, ``n_features_in_``,
    ``feature_names_in_``, ``target_names_``, ``covariate_names_``, the stream with its buffers, state,
    metas and replay, and the streaming optimizer), whichever attributes the estimator holds. ``predict_kw``:
    what the forecast needs (``X_future`` of a model with known-future covariates)."""
    snap = {"forecast": f.predict_quantiles(**predict_kw), "params": f.get_params()}
    for key, value in vars(f).items():
        if not (key.endswith("_") or key.startswith("_")):
            continue  # a hyperparameter: in params
        if isinstance(value, torch.nn.Module):
            value = {k: v.detach().clone() for k, v in value.state_dict().items()}
        elif isinstance(value, torch.optim.Optimizer):
            value = copy.deepcopy(value.state_dict())
        else:
            value = copy.deepcopy(value)
        snap[key] = value
    assert {"model_", "scaler_", "history_", "device_", "n_features_in_", "feature_names_in_", "target_names_",
            "covariate_names_", "_stream"} <= snap.keys()
    return snap


def _same(a, b) -> bool:
    """Exact equality, recursively: tensors and arrays bit for bit, NaN equal to NaN."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype and \
            bool(torch.equal(a, b) or (a.is_floating_point() and torch.equal(a.isnan(), b.isnan())
                                       and torch.equal(a.nan_to_num(), b.nan_to_num())))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and a.index.equals(b.index) and a.columns.equals(b.columns)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(_same(getattr(a, fl.name), getattr(b, fl.name))
                                          for fl in dataclasses.fields(a))
    if type(a).__module__.startswith("tsrec") and hasattr(a, "__dict__"):  # the scaler, a stream object
        return type(a) is type(b) and _same(vars(a), vars(b))
    return type(a) is type(b) and a == b


def assert_unchanged(f, snap: dict, **predict_kw) -> None:
    now = snapshot(f, **predict_kw)
    assert now.keys() == snap.keys(), "a failed call added or removed fitted attributes"
    for key in snap:
        assert _same(snap[key], now[key]), f"a failed call changed the estimator's {key}"


# ------------------------------------------------------------------ the cases
def _nan(df):
    out = df.copy()
    out.iloc[len(df) // 2, -1] = np.nan
    return out


def _inf(df, sign=1.0):
    out = df.copy()
    out.iloc[1, 0] = sign * np.inf
    return out


def _mixed_index(df):
    idx = pd.Index([df.index[0]] + list(range(1, len(df))), dtype=object)
    return df.set_axis(idx)


def _as_strings(df):
    return df.assign(OT=df["OT"].map(lambda v: f"{v:.3f}"))


def _as_objects(df):
    return df.assign(OT=df["OT"].astype(object))


# name -> (make bad input from a well-formed frame, exception, message pattern)
CONTENT_CASES = {
    "nan_target": (_nan, ValueError, "NaN"),
    "inf_target": (_inf, ValueError, "inf"),
    "neg_inf_target": (lambda d: _inf(d, -1.0), ValueError, "inf"),
    "string_column": (_as_strings, TypeError, "non-numeric"),
    "object_column": (_as_objects, TypeError, "non-numeric"),
    "bool_column": (lambda d: d.assign(OT=d["OT"] > d["OT"].median()), TypeError, "non-numeric"),
    "complex_column": (lambda d: d.assign(OT=d["OT"] + 1j), TypeError, "non-numeric"),
    "datetime_column": (lambda d: d.assign(OT=d.index), TypeError, r"non-numeric.*df\.set_index\('OT'\)"),
    "unsorted_index": (lambda d: d.iloc[::-1], ValueError, "unsorted"),
    "shuffled_index": (lambda d: d.sample(frac=1.0, random_state=0), ValueError, "unsorted"),
    "duplicated_index": (lambda d: d.set_axis(d.index[:1].append(d.index[:-1])), ValueError, "duplicated"),
    "mixed_type_index": (_mixed_index, TypeError, "mixed-type"),
    "string_index": (lambda d: d.set_axis(d.index.astype(str)), TypeError,
                     r"PeriodIndex or an integer index.*df\.index = pd\.to_datetime\(df\.index\)"),
    "float_index": (lambda d: d.set_axis(np.arange(len(d)) + 0.5), TypeError, "PeriodIndex or an integer index"),
    "unsorted_period_index": (lambda d: d.set_axis(d.index.to_period("h")).iloc[::-1], ValueError, "unsorted"),
    "empty_frame": (lambda d: d.iloc[:0], ValueError, "empty"),
    "no_columns": (lambda d: d[[]], ValueError, "no columns"),
    "empty_list": (lambda d: [], ValueError, "empty list"),
    "array_3d": (lambda d: d.to_numpy()[None], ValueError, "1-D or 2-D"),
    "list_of_3d": (lambda d: [d.to_numpy()[None]], ValueError, "1-D or 2-D"),
    "scalar": (lambda d: 3.0, TypeError, "must be a pandas DataFrame"),
    "none_in_list": (lambda d: [None], TypeError, "must be a pandas DataFrame"),
    "list_of_numbers": (lambda d: list(d["OT"].to_numpy()), TypeError, r"list of numbers.*np\.asarray"),
    "string": (lambda d: "data.csv", TypeError, "must be a pandas DataFrame"),
    "dict": (lambda d: d.to_dict(), TypeError, "must be a pandas DataFrame"),
    "nan_in_array": (lambda d: _nan(d).to_numpy(), ValueError, "NaN"),
    "y_wrong_length": (lambda d: (d[["HUFL", "MUFL"]], d[["OT"]].iloc[:-1]), ValueError, "same steps"),
    "y_nan": (lambda d: (d[["HUFL", "MUFL"]], _nan(d[["OT"]])), ValueError, "NaN"),
    "gap_in_index": (lambda d: d.drop(d.index[10:13]), ValueError, "has a gap: no row between"),
}
# against what was fitted (not for fit, which may change the columns)
COLUMN_CASES = {
    "missing_column": (lambda d: d[["HUFL", "OT"]], ValueError, "columns differ"),
    "extra_column": (lambda d: d.assign(LUFL=1.0), ValueError, "columns differ"),
    "renamed_column": (lambda d: d.rename(columns={"OT": "ot"}), ValueError, "columns differ"),
    "reordered_columns": (lambda d: d[["OT", "HUFL", "MUFL"]], ValueError, "columns differ"),
    "array_wrong_width": (lambda d: d.to_numpy()[:, :2], ValueError, "columns differ"),
    "unexpected_y": (lambda d: (d[["HUFL", "MUFL"]], d[["OT"]]), ValueError, "columns differ"),
}
# the continuation of a stream (partial_fit, score)
SEAM_CASES = {
    "gap_at_seam": (lambda d: d.iloc[2:], ValueError, "gap"),
    "overlap_at_seam": (lambda d: d.set_axis(d.index - pd.Timedelta(hours=5)), ValueError, "overlap"),
    "changed_frequency": (lambda d: d.set_axis(pd.date_range(d.index[0], periods=len(d), freq="30min")),
                          ValueError, "frequency"),
    "int_index_after_datetime": (lambda d: d.reset_index(drop=True).set_axis(range(5, 5 + len(d))),
                                 ValueError, "DatetimeIndex"),
    "panel_for_one_series": (lambda d: [d, d], ValueError, "series"),
}

METHODS = ("fit", "predict", "partial_fit", "score", "predict_quantiles", "predict_interval", "historical_forecasts")
MATRIX = (
    [(c, m) for c in CONTENT_CASES for m in METHODS]
    + [(c, m) for c in COLUMN_CASES for m in METHODS if m != "fit"]
    + [(c, m) for c in SEAM_CASES for m in ("partial_fit", "score", "historical_forecasts")]
)
ALL_CASES = {**CONTENT_CASES, **COLUMN_CASES, **SEAM_CASES}


def _base(method: str, frame: pd.DataFrame) -> pd.DataFrame:
    if method == "fit":
        return frame.iloc[:N_FIT]
    if method in ("partial_fit", "score", "historical_forecasts"):
        return frame.iloc[N_FIT : N_FIT + 40]  # continues the fitted stream
    return frame.iloc[:N_HIST]  # a new history to forecast after


def _call(f, method: str, bad):
    X, y = bad if isinstance(bad, tuple) else (bad, None)
    if method == "predict_quantiles":
        return f.predict_quantiles(X, y)
    if method == "historical_forecasts":
        return f.historical_forecasts(X, y, update="partial_fit", coverage=0.8)
    return getattr(f, method)(X, y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, method", MATRIX, ids=[f"{c}-{m}" for c, m in MATRIX])
def test_bad_input_matrix(name, case, method, frame):
    f = fitted(name, frame)
    build, exc, pattern = ALL_CASES[case]
    base = _base(method, frame)
    snap = fitted_snapshot(name)
    with pytest.raises(exc, match=pattern):
        _call(f, method, build(base))
    assert_unchanged(f, snap)


_FITTED_RIDGE: dict[str, tuple] = {}  # name -> (the fitted estimator, its snapshot)
RIDGE_MATRIX = [(c, "partial_fit") for c in ALL_CASES]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, method", RIDGE_MATRIX, ids=[f"{c}-{m}" for c, m in RIDGE_MATRIX])
def test_bad_input_matrix_online_ridge(name, case, method, frame):
    """``online_update="ridge"``: a bad chunk leaves the correction's statistics and solution as they were."""
    if name not in _FITTED_RIDGE:
        f = make(name, loss="quantile", max_epochs=1, online_update="ridge").fit(frame.iloc[:N_FIT - 20])
        f.partial_fit(frame.iloc[N_FIT - 20 : N_FIT])
        assert float(f.model_.total) > 0
        _FITTED_RIDGE[name] = f, snapshot(copy.deepcopy(f))
    f, snap = copy.deepcopy(_FITTED_RIDGE[name][0]), _FITTED_RIDGE[name][1]
    build, exc, pattern = ALL_CASES[case]
    with pytest.raises(exc, match=pattern):
        _call(f, method, build(_base(method, frame)))
    assert_unchanged(f, snap)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_bases_are_valid(name, frame):
    """Every bad input is built from a well-formed one that each method accepts."""
    f = fitted(name, frame)
    assert np.isfinite(f.score(_base("score", frame)))
    assert f.predict(_base("predict", frame)).shape == (4, 3)
    assert f.predict_quantiles(_base("predict_quantiles", frame)).shape == (4, 9)
    assert f.predict_interval(_base("predict_interval", frame)).shape == (4, 6)
    assert len(f.historical_forecasts(_base("historical_forecasts", frame), update="partial_fit", coverage=0.8)) == \
        3 * 40 * 4
    f.partial_fit(_base("partial_fit", frame))
    clone(f).fit(_base("fit", frame))


def test_matrix_size():
    """The count reported in the issue notes: 254 distinct (case, method) pairs per estimator (164, then the
    gap case and predict_interval and historical_forecasts of issue 13, 240; then a PeriodIndex and a list of
    numbers, session 27; the PeriodIndex, read since session 28, is now an unsorted one), every case and public
    method in use."""
    assert len(MATRIX) == 254 and len(set(MATRIX)) == len(MATRIX)
    assert {c for c, _ in MATRIX} == set(ALL_CASES) and {m for _, m in MATRIX} == set(METHODS)
    assert all(callable(getattr(make(n), m, None)) for n in NAMES for m in METHODS)


# --------------------------------------------------------------- too few rows
@pytest.mark.parametrize("name", NAMES)
def test_too_few_rows(name, frame):
    f = fitted(name, frame)
    snap = snapshot(f)
    with pytest.raises(ValueError, match="too few rows"):
        f.fit(frame.iloc[:5])  # fewer than horizon + 2
    with pytest.raises(ValueError, match="too few rows"):
        clone(f).set_params(context=50).fit(frame.iloc[:40])  # fewer than context + horizon
    with pytest.raises(ValueError, match="too few rows"):
        f.fit([frame.iloc[:100], frame.iloc[100:104]])  # one series of a panel too short
    assert_unchanged(f, snap)
    g = make(name, context=16).partial_fit(frame.iloc[:40], update_params=False)
    before = g.predict()
    with pytest.raises(ValueError, match="too few rows"):
        g.predict(frame.iloc[:10])  # a history shorter than the look-back window
    pd.testing.assert_frame_equal(g.predict(), before)


@pytest.mark.parametrize("name", NAMES)
def test_other_bad_calls(name, frame):
    f = fitted(name, frame)
    snap = snapshot(f)
    nxt = frame.iloc[N_FIT : N_FIT + 10]
    with pytest.raises(TypeError, match="update_params"):
        f.partial_fit(nxt, update_params="no")
    with pytest.raises(ValueError, match="quantile 0.25 was not trained"):
        f.predict_quantiles(quantiles=[0.25])
    with pytest.raises(ValueError, match="pass y together with X"):
        f.predict(None, frame[["OT"]])
    with pytest.raises(TypeError, match="unknown fit parameters"):
        f.fit(frame.iloc[:N_FIT], epochs=3)
    nxt = frame.iloc[N_FIT : N_FIT + 10]
    for bad in (0, 1.0, 1, "0.8", True, float("nan")):
        with pytest.raises(ValueError, match="coverage must be a number in"):
            f.predict_interval(coverage=bad)
    for kw, message in (({"stride": 0}, "stride"), ({"stride": 2.0}, "stride"), ({"update": "fit"}, "update"),
                        ({"update": None}, "update"), ({"coverage": 1.5}, "coverage")):
        with pytest.raises(ValueError, match=message):
            f.historical_forecasts(nxt, **kw)
    assert_unchanged(f, snap)
    g = make(name).partial_fit(frame.iloc[:30], update_params=False)
    with pytest.raises(ValueError, match="loss='quantile'"):
        g.predict_quantiles()


# ------------------------------------------------------------ hyperparameters
COMMON_BAD_PARAMS = [
    ("horizon", 0), ("horizon", 1.5), ("horizon", True), ("context", 0), ("context", -3), ("chunk_length", 0),
    ("d_model", 0), ("d_model", 8.0), ("n_layers", 0), ("dropout", 1.0), ("dropout", -0.1), ("lr", 0.0),
    ("lr", -1e-3), ("lr", float("nan")), ("lr", float("inf")), ("lr", "fast"), ("weight_decay", -1.0),
    ("max_epochs", 0), ("batch_size", 0), ("patience", 0), ("validation_fraction", 0.6), ("stride", 0),
    ("loss", "huber"), ("loss", None), ("n_steps", 0), ("replay_size", -1), ("early_stopping", "yes"),
    ("skip_last", None), ("linear_path", "diagonal"), ("linear_path", None), ("partner", "holt"), ("partner", None),
    ("instance_norm", "mean"),
    ("instance_norm", None), ("verbose", 2), ("device", "tpu"),
    ("device", 0), ("backend", "fast"),
    ("random_state", "seed"), ("random_state", 1.5), ("ensemble_size", 0), ("ensemble_size", 2.0),
    ("future_covariates", ()), ("future_covariates", "HUFL"), ("future_covariates", ("HUFL", "HUFL")),
    ("calendar_features", ("weekday",)), ("calendar_features", "hourly"), ("calendar_features", ()),
    ("missing", "drop"), ("missing", None), ("scaling", "local"), ("scaling", None),
    ("online_update", "adam"), ("online_update", None), ("online_alpha", 0.0), ("online_alpha", float("inf")),
    ("online_forgetting", 0.0), ("online_forgetting", 1.5), ("online_lags", 0), ("online_lags", 2.0),
    ("persistence_blend", 0), ("persistence_blend", 2.5), ("persistence_blend", "96"),
]
QUANTILE_BAD = [(0.5, 0.1), (0.0, 0.5), (0.5, 1.0), (), "median", (0.1, float("nan"))]
MODEL_BAD_PARAMS = {
    "LRUForecaster": [("d_state", 0), ("r_min", 0.9995), ("r_max", 1.0), ("max_phase", 0.0)],
    "AarenForecaster": [("n_heads", 3), ("n_heads", 0)],
    "TransformerForecaster": [("n_heads", 3), ("window", 0), ("max_cache", 0)],
    "LEMForecaster": [("d_hidden", 0)],
    "S4Forecaster": [("d_state", 0)],
}
HYPER_CASES = [(n, p, v) for n in NAMES for p, v in COMMON_BAD_PARAMS + MODEL_BAD_PARAMS.get(n, [])]


@pytest.mark.parametrize("name, param, value", HYPER_CASES, ids=[f"{n}-{p}={v!r}" for n, p, v in HYPER_CASES])
def test_invalid_hyperparameter_checked_at_fit(name, param, value, frame):
    est = make(name, **{param: value})  # sklearn rule: the constructor stores anything unchanged
    assert est.get_params()[param] is value
    with pytest.raises(ValueError, match=param):
        est.fit(frame.iloc[:N_FIT])
    with pytest.raises(ValueError, match=param):
        make(name, **{param: value}).partial_fit(frame.iloc[:30])
    f = fitted(name, frame)  # a failed refit leaves the fitted estimator as it was
    snap = snapshot(f)
    old = f.get_params()[param]
    f.set_params(**{param: value})
    try:
        with pytest.raises(ValueError, match=param):
            f.fit(frame.iloc[:N_FIT])
    finally:
        f.set_params(**{param: old})
    assert_unchanged(f, snap)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("quantiles", QUANTILE_BAD, ids=repr)
def test_invalid_quantiles(name, quantiles, frame):
    with pytest.raises(ValueError, match="quantiles"):
        make(name, loss="quantile", quantiles=quantiles).fit(frame.iloc[:N_FIT])


# ------------------------------------------------------------------ covariates
def _covariate_model(name, frame):
    X, y = frame[["HUFL", "MUFL"]], frame[["OT"]]
    static = pd.DataFrame({"kind": ["a"], "size": [1.0]})
    f = make(name, loss="quantile", max_epochs=1, future_covariates=("HUFL",), calendar_features="auto")
    return f.fit(X.iloc[:N_FIT], y.iloc[:N_FIT], static=static), X, y, static


@pytest.mark.parametrize("name", NAMES)
def test_covariate_bad_calls(name, frame):
    """Missing, short, misaligned or malformed X_future; statics without a row, with an unseen category or a
    missing column; covariates that are not covariates: each a clear error that changes nothing."""
    f, X, y, static = _covariate_model(name, frame)
    xf = X.iloc[N_FIT : N_FIT + 4]
    snap = snapshot(f, X_future=xf)
    hist, hist_future = (X.iloc[:N_HIST], y.iloc[:N_HIST]), X.iloc[N_HIST : N_HIST + 4]
    cases = [
        (lambda: f.predict(), ValueError, "X_future"),
        (lambda: f.predict_quantiles(), ValueError, "X_future"),
        (lambda: f.predict(X_future=xf.iloc[:2]), ValueError, "horizon = 4"),
        (lambda: f.predict(X_future=X.iloc[N_FIT + 1 : N_FIT + 5]), ValueError, "misaligned"),
        (lambda: f.predict(X_future=xf[["MUFL"]]), ValueError, "lacks the future covariates"),
        (lambda: f.predict(X_future=xf.assign(HUFL=np.nan)), ValueError, "NaN"),
        (lambda: f.predict(X_future=np.zeros((4, 2))), ValueError, "array"),
        (lambda: f.predict(X_future="prices.csv"), TypeError, "X_future"),
        (lambda: f.predict(X_future=[xf, xf]), ValueError, "2 series"),
        (lambda: f.predict(X_future=xf, static=static), ValueError, "new history"),
        (lambda: f.predict(*hist, X_future=hist_future, static=static.assign(kind="b")), ValueError, "not seen"),
        (lambda: f.predict(*hist, X_future=hist_future, static=static[["kind"]]), ValueError, "lacks the static"),
        (lambda: f.predict(*hist, X_future=hist_future, static="a"), TypeError, "DataFrame"),
        (lambda: f.fit(X.iloc[:N_FIT], y.iloc[:N_FIT], static=pd.concat([static, static])), ValueError,
         "one row per series"),
        (lambda: f.fit(X.iloc[:N_FIT], y.iloc[:N_FIT], static=static.assign(size=np.nan)), ValueError, "NaN"),
        (lambda: f.fit(X.iloc[:N_FIT], y.iloc[:N_FIT], static=static.assign(kind=None)), ValueError, "missing"),
        (lambda: f.fit(X.iloc[:N_FIT], y.iloc[:N_FIT], static=[1.0]), TypeError, "DataFrame"),
        (lambda: f.fit(frame.iloc[:N_FIT]), ValueError, "not covariate columns"),  # no y: HUFL is a target
        (lambda: f.fit(X.iloc[:N_FIT].reset_index(drop=True), y.iloc[:N_FIT].reset_index(drop=True),
                       static=static) if f.set_params(calendar_features=("hour",)) else None, ValueError,
         "DatetimeIndex"),
    ]
    for call, exc, pattern in cases:
        try:
            with pytest.raises(exc, match=pattern):
                call()
        finally:
            f.set_params(calendar_features="auto")
        assert_unchanged(f, snap, X_future=xf)
    long = pd.concat([frame.iloc[:N_FIT].assign(unique_id=u).rename_axis("ds").reset_index() for u in "ab"])
    long = long.rename(columns={"OT": "y"})[["unique_id", "ds", "y", "HUFL", "MUFL"]]
    with pytest.raises(ValueError, match="no row for the series"):
        f.fit(long, static=static.set_axis(pd.Index(["a"], name="unique_id")))
    assert_unchanged(f, snap, X_future=xf)
    g = fitted(name, frame)  # no future covariates
    with pytest.raises(ValueError, match="no future_covariates"):
        g.predict(X_future=xf)
