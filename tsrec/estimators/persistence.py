"""The tsrec model file: one safetensors file, no pickle anywhere.

Tensors: the weights (``model.*``), the carried stream state (``state.*``),
the scaler statistics (``scaler.*``; where the fit scaled series by series also each
series' as ``scaler.series.<i>.*``) and the stream buffers (``buffer.<i>``,
which may hold NaN under ``missing="mask"``). A version-2 file, without the
hyperparameters that version 3 added (``ensemble_size``, ``missing``, ``scaling``,
``future_covariates``, ``calendar_features``), loads with the values that give
its model back (:data:`V2_PARAMS`). Since version 3 the file also holds what
``partial_fit`` continues with: the optimizer state (``optimizer.<param>.<key>``;
its parameter groups as JSON), the replay reservoir (``replay.<j>``) and the replay tails (``tail.<i>``), and the
conformal calibration errors (``calibration.errors``; see
:mod:`tsrec.estimators.conformal`). So save, load and ``partial_fit`` gives what
``partial_fit`` without the round trip gives.
Metadata (strings, as safetensors keeps them): the format marker and
:data:`FORMAT_VERSION`, the class name, the hyperparameters and the fitted
metadata as JSON. :func:`load` checks every part before it builds anything.
Files of versions 1 and 2 load too: the parts they lack start afresh (no
optimizer state, an empty reservoir and calibration), and the hyperparameters
they lack take the values that give their models back (:data:`V1_PARAMS`) or
else their declared defaults. Version 4 added the online correction's
hyperparameters (``online_update`` and its settings; an earlier file loads with
gradient updates, :data:`V3_PARAMS`) and gave the stream model
(``context=None``) its causal instance normalisation (``instance_norm``, which
its dense head had ignored): a stream model of an earlier file loads with
``instance_norm=False``. The correction's statistics travel with the weights
(``model.*``).
Version 5 added ``linear_path`` (a file of version 4 or earlier loads with the dense
path its window model has, :data:`V4_PARAMS`). Version 6 added ``theta_weight`` (a file
of version 5 or earlier loads without the Theta combination, :data:`V5_PARAMS`). Version 7 added
``partner`` (a file of version 6 or earlier loads with the Theta method, :data:`V6_PARAMS`). Version 8 added
the frame's ``one_season`` (a file of version 7 or earlier loads with the partner it had, ``one_season=False``).
Version 9 added the frame's ``estimated_rows`` (a file of version 8 or earlier loads with the damped partner it had,
the grid for every window: ``estimated_rows=0``). Version 10 added the frame's ``partner_rows`` (a file of
version 9 or earlier loads with the partner reading the network's window, ``partner_rows=0``, and its buffers).
Version 11 lets ``partner_rows`` hold seasons of rows before a seasonal window shorter than two seasons (a file of
version 10 or earlier loads with the partner it had, on the network's window). Version 12 added the frame's
``history_one_season``: that partner may forecast rows of one season less that season (a file of version 11 or
earlier loads forecasting them without a season, ``history_one_season=False``). Version 13 added the frame's
``naive_blend``: the damped partner of a long enough seasonal window is blended with seasonal naive (a file of
version 12 or earlier loads with damped Holt alone, ``naive_blend=False``). Version 14 lets ``partner_rows`` hold
the seasons of rows before a seasonal window shorter than four seasons (a file of version 13 or earlier of a window
of two to four seasons loads with the partner it had, on the window: ``partner_rows=0``). Version 15 added the
frame's ``history_blend``: the partner that reads the seasons before a window is blended with seasonal naive where
that backtests better (a file of version 14 or earlier loads with that partner alone, ``history_blend=False``).
Version 16 added the hyperparameter ``persistence_blend`` and, where it is set, the online ridge correction's
``blend_errors`` (a file of version 15 or earlier loads without the blend, :data:`V15_PARAMS`). Version 17 lets a
series be indexed by a ``PeriodIndex``: each series' meta records the periods' frequency, ``period`` (a file of
version 16 or earlier loads with none: timestamps). Version 18 added the frame's ``naive_share``: the direct
head's forecast may move a share of the way to seasonal naive (a file of version 17 or earlier loads without it,
``naive_share=0.0``). Version 19 added the frame's ``naive_period``: that share may go to naive, the last value,
instead (a file of version 18 or earlier loads with the share it had, of seasonal naive: ``naive_period=None``).
Version 20 added the hyperparameter ``weight_average`` (a file of version 19 or earlier loads with the training
it was fitted with, ``weight_average=False``: :data:`V19_PARAMS`). Version 21 added the frame's
``horizon_errors``: the damped partner of a series indexed daily or finer may be chosen, per window, by its errors
a horizon ahead as well as one step ahead (a file of version 20 or earlier loads with the partner it had,
``horizon_errors=False``). Version 22 added the frame's ``seasonal_skip``: a short monthly or quarterly fit's
network may learn the change from seasonal naive instead of the last value (a file of version 21 or earlier
loads with the last value, ``seasonal_skip=False``). Version 23 added the frame's ``skip_per_window``: that skip
is decided once per fit, on its rows, and every window takes it (a file of version 22 loads as it was trained,
each window taking it where its own first differences show the season: ``skip_per_window=True`` where it has
``seasonal_skip``). Version 24 added the hyperparameter ``start_padding`` (a file of version 23 or earlier loads
without it, :data:`V23_PARAMS`: it was fitted on series of ``context + horizon`` rows or more). Version 25 added
the frame's ``ridge_share``: a long single-series fit's forecast may move a share of the way to a ridge
regression's of the window, its map saved as the window model's buffers ``ridge_weight`` and ``ridge_bias`` (a
file of version 24 or earlier loads without it, ``ridge_share=0.0``). Version 26 added the sums that map solves,
the float64 buffers ``ridge_gram``, ``ridge_cross`` and ``ridge_penalty``, to which an updating ``partial_fit``
adds its windows (a file of version 25 loads without them: its map stays as it was saved), and the hyperparameter
``ridge_share`` (a file of version 25 or earlier loads with ``"auto"``, :data:`V25_PARAMS`). Version 27 added the
hyperparameter ``cross_ridge_rows``, a second, cross-channel ridge map beside that one, with its buffers
``cross_ridge_weight``, ``cross_ridge_bias``, ``cross_ridge_gram``, ``cross_ridge_xy`` and ``cross_ridge_penalty``
(a file of version 26 or earlier loads without it, :data:`V26_PARAMS`). Version 28 added the hyperparameter
``refit`` (a file of version 27 or earlier loads with ``refit=False``, :data:`V27_PARAMS`: it was fitted without).
Version 29 added the frame's ``tail_season``: the partner that reads the rows before a short window of a series
indexed monthly or coarser may keep a season that two to four seasons of rows fail the seasonality test for (a file
of version 28 or earlier loads without it, ``tail_season=False``). Version 30 added the frame's
``positive_differences``: that partner takes a season that only the rows' first differences show only where they
correlate positively at the period (a file of version 29 or earlier loads without it, ``positive_differences=False``:
its partner takes such a season of either sign, as it was fitted).
:meth:`BaseForecaster.save <tsrec.estimators.BaseForecaster.save>` and
:meth:`BaseForecaster.load <tsrec.estimators.BaseForecaster.load>` are the
public face of this module.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from ..data import Batch, SeriesMeta, StandardScaler
from ..nn.window import WindowModel
from ..training import resolve_device, seeded
from .conformal import Calibration
from .covariates import Covariates
from .frame import Frame, history_rows, holds_one_season
from .params import is_int, is_real
from .stream import Stream

if TYPE_CHECKING:
    from .base import BaseForecaster

__all__ = ["FORMAT_VERSION", "save", "load"]

#: The version this tsrec writes (every later version reads every earlier one).
FORMAT_VERSION = 30
#: The versions this tsrec reads.
READABLE_VERSIONS = tuple(str(v) for v in range(1, FORMAT_VERSION + 1))
#: The metadata keys of a file, and the keys of its "fitted" JSON object.
META_KEYS = {"format", "format_version", "class", "params", "fitted"}
FITTED_KEYS = {"target_names", "covariate_names", "metas", "kind", "is_list", "ids", "c_in", "c_out", "n_series",
               "history", "has_feature_names", "frame"}
#: The fitted keys version 3 added (what ``partial_fit`` continues with besides the stream).
V3_FITTED_KEYS = {"optimizer", "replay_seen", "replay_series", "n_updates", "calibration_size"}
#: Tensor name prefixes (``<prefix>.<rest>``) of a file.
TENSOR_PREFIXES = ("model", "state", "scaler", "buffer", "optimizer", "replay", "tail", "calibration")
#: Optional fitted keys (a file without them has none of what they hold): the covariates of the fit.
OPTIONAL_FITTED_KEYS = {"covariates"}
#: Version 1 (tsrec 0.1.0) had none of these hyperparameters: the values that give its models back.
V1_PARAMS = {"head": "dense", "patch_len": 1, "instance_norm": False, "channel_independent": False,
             "lr_schedule": "constant"}


def migrate_v1(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Version-1 hyperparameters and fitted keys as version 2 reads them (a version-1 model is a dense
    stream model over single rows, without instance normalisation; the learning rate was constant)."""
    params = {**V1_PARAMS, **params}
    fitted = {**fitted, "frame": {"context": params.get("context"), "patch_len": 1, "direct": False, "period": None}}
    return params, fitted


#: Version 2 had none of these hyperparameters: the values that give its models back.
V2_PARAMS = {"ensemble_size": 1, "missing": "raise", "scaling": "global", "future_covariates": None,
             "calendar_features": None}


def migrate_v2(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Version-2 hyperparameters and fitted keys as version 3 reads them (no optimizer, replay or
    calibration state was saved: those start fresh)."""
    fitted = {"optimizer": None, "replay_seen": 0, "replay_series": [], "n_updates": 0, "calibration_size": None,
              **fitted}
    return {**V2_PARAMS, **params}, fitted


#: Version 3 had none of these hyperparameters (``online_update`` and its settings): the values that give its
#: models back (gradient updates, no correction).
V3_PARAMS = {"online_update": "sgd", "online_alpha": "auto", "online_forgetting": 0.9999, "online_lags": 24}


def migrate_v3(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Version-3 hyperparameters as version 4 reads them: the online settings of :data:`V3_PARAMS`, and, since
    the dense head (``context=None``) ignored ``instance_norm`` before version 4, a version-3 stream model loads
    with ``instance_norm=False`` (its model back, without the causal instance normalisation of version 4)."""
    params = {**V3_PARAMS, **params}
    frame = fitted.get("frame")
    if isinstance(frame, dict) and frame.get("direct") is False:
        params = {**params, "instance_norm": False}
    return params, fitted


#: Version 4 had no ``linear_path``: its window models have the dense path.
V4_PARAMS = {"linear_path": "dense"}


def migrate_v4(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Version-4 hyperparameters as version 5 reads them: the dense linear path of :data:`V4_PARAMS`."""
    return {**V4_PARAMS, **params}, fitted


#: Version 5 had no ``theta_weight``: its window models forecast with the network alone.
V5_PARAMS = {"theta_weight": 0.0}


def migrate_v5(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Version-5 hyperparameters as version 6 reads them: no Theta combination (:data:`V5_PARAMS`)."""
    return {**V5_PARAMS, **params}, fitted


#: Version 6 had no ``partner``: its combination's partner was the Theta method.
V6_PARAMS = {"partner": "theta"}


def migrate_v6(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Version-6 hyperparameters as version 7 reads them: the Theta partner (:data:`V6_PARAMS`)."""
    return {**V6_PARAMS, **params}, fitted


#: Version 15 had no ``persistence_blend``: no blend of the forecast with persistence.
V15_PARAMS = {"persistence_blend": None}


def migrate_v15(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Hyperparameters of version 15 or earlier as version 16 reads them: no blend with persistence
    (:data:`V15_PARAMS`)."""
    return {**V15_PARAMS, **params}, fitted


#: Version 19 had no ``weight_average``: its fits kept the last step's weights of their best epoch.
V19_PARAMS = {"weight_average": False}


def migrate_v19(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Hyperparameters of version 19 or earlier as version 20 reads them: no weight average (:data:`V19_PARAMS`)."""
    return {**V19_PARAMS, **params}, fitted


#: Version 23 had no ``start_padding``: a fit needed ``context + horizon`` rows in every series.
V23_PARAMS = {"start_padding": False}


def migrate_v23(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Hyperparameters of version 23 or earlier as version 24 reads them: no start padding (:data:`V23_PARAMS`)."""
    return {**V23_PARAMS, **params}, fitted


V25_PARAMS = {"ridge_share": "auto"}


def migrate_v25(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Hyperparameters of version 25 or earlier as version 26 reads them: the ridge share chosen as
    ``theta_weight="auto"`` chose it (:data:`V25_PARAMS`)."""
    return {**V25_PARAMS, **params}, fitted


#: Version 26 had no cross-channel ridge.
V26_PARAMS = {"cross_ridge_rows": 0}


def migrate_v26(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Hyperparameters of version 26 or earlier as version 27 reads them: no cross-channel ridge
    (:data:`V26_PARAMS`)."""
    return {**V26_PARAMS, **params}, fitted


#: Version 27 had no refit.
V27_PARAMS = {"refit": False}


def migrate_v27(params: dict, fitted: dict) -> tuple[dict, dict]:
    """Hyperparameters of version 27 or earlier as version 28 reads them: fitted without a refit
    (:data:`V27_PARAMS`)."""
    return {**V27_PARAMS, **params}, fitted


def _json_id(uid: Any) -> Any:
    """A series id as JSON keeps it: ints and strings as they are, anything else as its string."""
    if isinstance(uid, np.generic):
        uid = uid.item()
    return uid if isinstance(uid, (str, int)) and not isinstance(uid, bool) else str(uid)


def save(est: BaseForecaster, path: str | Path) -> None:
    """Write a fitted forecaster to ``path`` (see the module docstring for the layout)."""
    from safetensors.torch import save_file

    check_is_fitted(est, "model_")
    st = est._stream
    tensors: dict[str, Tensor] = {f"model.{k}": v.detach().cpu().contiguous()
                                  for k, v in est.model_.state_dict().items()}
    if st.state is not None:
        tensors.update({f"state.{k}": v.detach().cpu().contiguous() for k, v in st.state.items()})
    tensors.update({f"scaler.{k}": torch.from_numpy(np.asarray(v, dtype=np.float64))
                    for k, v in est.scaler_.state().items()})
    for i, sc in enumerate(est.series_scalers_ or []):  # scaling="series": scaler.series.<i>.<statistic>
        tensors.update({f"scaler.series.{i}.{k}": torch.from_numpy(np.asarray(v, dtype=np.float64))
                        for k, v in sc.state().items()})
    tensors.update({f"buffer.{i}": torch.from_numpy(np.ascontiguousarray(b)) for i, b in enumerate(st.buffers)})
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in est.get_params(deep=False).items()}
    fitted = {
        "target_names": est.target_names_, "covariate_names": est.covariate_names_,
        "metas": [m.to_json() for m in st.metas], "kind": st.kind, "is_list": st.is_list,
        "ids": [_json_id(i) for i in st.ids], "c_in": est.model_.c_in, "c_out": est.model_.c_out,
        "n_series": len(st.buffers), "history": est.history_,
        "has_feature_names": hasattr(est, "feature_names_in_"),
        "frame": dataclasses.asdict(est.frame_),
    }
    tensors.update(_continuation_tensors(est, fitted))
    covariates = getattr(est, "covariates_", None)
    if covariates is not None and covariates.active:
        fitted["covariates"] = covariates.to_json()
    meta = {"format": "tsrec", "format_version": str(FORMAT_VERSION), "class": type(est).__name__,
            "params": json.dumps(params), "fitted": json.dumps(fitted)}
    save_file(tensors, str(path), metadata=meta)


def load(cls: type[BaseForecaster], path: str | Path, device: str | None = None) -> BaseForecaster:
    """Read a file written by :func:`save` as a ``cls`` (or a subclass of it). Never unpickles.

    The file is read by safetensors (a JSON header and raw tensor bytes), and
    every part is checked before anything is built: the format marker and
    version, the class (a known tsrec forecaster, and ``cls`` or a subclass
    of it), the exact set of metadata, hyperparameter and fitted keys, the
    tensor names, and the shapes of the weights, state, scaler and buffers.
    Any mismatch raises ValueError.
    """
    from safetensors import SafetensorError
    from safetensors.torch import safe_open

    from . import FORECASTERS

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as e:
        raise ValueError(f"{path} is not a readable tsrec model file ({type(e).__name__}: {e})") from None
    if meta.get("format") != "tsrec":
        raise ValueError(f"{path} is not a tsrec model file (no tsrec format marker)")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ValueError(f"{path} has format version {version!r}; this tsrec reads versions "
                         f"{', '.join(READABLE_VERSIONS)}")
    if set(meta) != META_KEYS:
        raise ValueError(f"{path} has unexpected metadata keys {sorted(set(meta) ^ META_KEYS)}")
    name = meta.get("class")
    klass = FORECASTERS.get(name)
    if klass is None:
        raise ValueError(f"{path} holds an unknown estimator class {name!r}")
    if not issubclass(klass, cls):  # every known class is a BaseForecaster
        raise ValueError(f"{path} holds a {name}, not a {cls.__name__}")
    try:
        params, fitted = json.loads(meta["params"]), json.loads(meta["fitted"])
    except (KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} has a damaged config: {e}") from None
    if not isinstance(params, dict) or not isinstance(fitted, dict):
        raise ValueError(f"{path} has a damaged config (params and fitted must be JSON objects)")
    if version == "1":
        params, fitted = migrate_v1(params, fitted)
    if version in ("1", "2"):
        params, fitted = migrate_v2(params, fitted)
    if version in ("1", "2", "3"):
        params, fitted = migrate_v3(params, fitted)
    if version in ("1", "2", "3", "4"):
        params, fitted = migrate_v4(params, fitted)
    if version in ("1", "2", "3", "4", "5"):
        params, fitted = migrate_v5(params, fitted)
    if version in ("1", "2", "3", "4", "5", "6"):
        params, fitted = migrate_v6(params, fitted)
    if int(version) <= 15:
        params, fitted = migrate_v15(params, fitted)
    if int(version) <= 19:
        params, fitted = migrate_v19(params, fitted)
    if int(version) <= 23:
        params, fitted = migrate_v23(params, fitted)
    if int(version) <= 25:
        params, fitted = migrate_v25(params, fitted)
    if int(version) <= 26:
        params, fitted = migrate_v26(params, fitted)
    if int(version) <= 27:
        params, fitted = migrate_v27(params, fitted)
    known = set(klass._get_param_names())
    if set(params) != known:
        raise ValueError(f"{path} has unknown hyperparameters {sorted(set(params) - known)} or lacks "
                         f"{sorted(known - set(params))} for {name}")
    required = FITTED_KEYS | V3_FITTED_KEYS
    if set(fitted) - OPTIONAL_FITTED_KEYS != required:
        raise ValueError(f"{path} has unexpected fitted keys {sorted((set(fitted) - OPTIONAL_FITTED_KEYS) ^ required)}")
    bad_names = [k for k in tensors if k.split(".", 1)[0] not in TENSOR_PREFIXES]
    if bad_names:
        raise ValueError(f"{path} has unexpected tensors {bad_names[:5]}")
    for key in ("quantiles", "future_covariates", "calendar_features"):  # tuples, saved as JSON lists
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    if device is not None:
        params["device"] = device
    try:
        return _from_parts(klass, params, fitted, tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"{path} is not a valid {name} file: {e}") from None


def _from_parts(klass: type[BaseForecaster], params: dict, fitted: dict,
                tensors: dict[str, Tensor]) -> BaseForecaster:
    """Build a fitted estimator from the checked parts of a saved file (raises on any inconsistency)."""
    est = klass(**params)
    est._check_params()
    dev = resolve_device(est.device)
    c_in, c_out, n_series = int(fitted["c_in"]), int(fitted["c_out"]), int(fitted["n_series"])
    n_t, n_c = len(fitted["target_names"]), len(fitted["covariate_names"])
    covariates = Covariates.from_json(fitted["covariates"]) if "covariates" in fitted else Covariates()
    if covariates.n_static and len(covariates.statics) != n_series:
        raise ValueError("the saved statics do not match n_series")
    if any(c not in fitted["covariate_names"] for c in covariates.future):
        raise ValueError("the saved future covariates are not among the covariates")
    if c_in != n_t + n_c + covariates.n_extra or c_out != n_t * est._n_quantiles or n_series < 1:
        raise ValueError(f"inconsistent sizes: c_in={c_in}, c_out={c_out}, {n_t} targets, {n_c} covariates, "
                         f"{n_series} series")
    if fitted["kind"] not in ("frame", "array", "long") or not all(
            isinstance(n, str) for n in fitted["target_names"] + fitted["covariate_names"]):
        raise ValueError("the fitted kind or column names are damaged")
    if len(fitted["metas"]) != n_series or len(fitted["ids"]) not in (0, n_series):
        raise ValueError("the series metadata do not match n_series")
    frame = _frame(fitted["frame"], est)
    with seeded(0):
        model = est._build_model(c_in, n_t, list(fitted["covariate_names"]), frame, covariates)
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    _without_absent_ridge_sums(model, weights)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        raise ValueError(f"weights do not match the configuration: {e}") from None
    model.to(dev).eval()
    state = {k[len("state."):]: v.to(dev) for k, v in tensors.items() if k.startswith("state.")} or None
    if frame.context is None:
        ref = model.init_state(n_series, device=dev)
        if state is None or set(state) != set(ref) or any(
                state[k].shape != ref[k].shape or state[k].dtype != ref[k].dtype for k in ref):
            raise ValueError("the stream state does not match the model")
    elif state is not None:
        raise ValueError("a model with a fixed context carries no stream state")
    scaler_t = {k[len("scaler."):]: v for k, v in tensors.items() if k.startswith("scaler.")}
    series_t = {k[len("series."):]: scaler_t.pop(k) for k in list(scaler_t) if k.startswith("series.")}
    scaler = _scaler(scaler_t, c_in)
    series = None
    if est.scaling == "series" or est.scaling == "auto" and series_t:  # "auto": as its fit chose
        series = [_scaler({k.split(".", 1)[1]: v for k, v in series_t.items() if k.split(".", 1)[0] == str(i)}, c_in)
                  for i in range(n_series)]
        if sum(len(sc.state()) for sc in series) != len(series_t):
            raise ValueError("the per-series scaler statistics do not match the series")
    elif series_t:
        raise ValueError("per-series scaler statistics in a file of a scaling='global' model")
    buffers = [tensors[f"buffer.{i}"].numpy().astype(np.float64) for i in range(n_series)]
    if len([k for k in tensors if k.startswith("buffer.")]) != n_series or any(
            b.ndim != 2 or b.shape[1] != c_in or not 1 <= b.shape[0] <= (frame.window_rows or 0) + est.horizon
            for b in buffers):
        raise ValueError("the stream buffers do not match the model")
    nan_ok = est.missing == "mask"  # its buffers may hold missing values
    if not all(np.isfinite(b).all() or nan_ok and not np.isinf(b).any() for b in buffers):
        raise ValueError("the stream buffers hold NaN/inf")
    batch = Batch([np.zeros((0, c_in))], [], list(fitted["target_names"]), list(fitted["covariate_names"]),
                  fitted["kind"], bool(fitted["is_list"]), fitted["ids"])
    stream = Stream(buffers=buffers, state=state, metas=[SeriesMeta.from_json(m) for m in fitted["metas"]],
                    kind=fitted["kind"], is_list=bool(fitted["is_list"]), ids=fitted["ids"])
    _restore_continuation(est, model, stream, fitted, tensors, c_in, n_series, frame)
    est._set_fitted(model, scaler, batch, stream, fitted.get("history", {}), dev, frame, series, covariates)
    if not fitted.get("has_feature_names") and hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    est._optimizer = _optimizer(est, model, fitted["optimizer"], tensors)
    est._calibration = _calibration(est, fitted["calibration_size"], tensors, n_t)
    return est


def _scaler(t: dict[str, Tensor], c_in: int) -> StandardScaler:
    """A scaler from its saved statistics, checked (count, mean, m2 and, after missing values, n_obs)."""
    keys = {"count", "mean", "m2"} | ({"n_obs"} if "n_obs" in t else set())
    if set(t) != keys or t["count"].shape != (1,) or any(t[k].shape != (c_in,) for k in keys - {"count"}):
        raise ValueError("the scaler statistics do not match the model")
    scaler = StandardScaler.from_state({k: v.numpy().astype(np.float64) for k, v in t.items()})
    if not all(np.isfinite(v).all() for v in scaler.state().values()):
        raise ValueError("the scaler statistics hold NaN/inf")
    return scaler
def _continuation_tensors(est: BaseForecaster, fitted: dict) -> dict[str, Tensor]:
    """Version 3: the optimizer state, replay reservoir and tails, and calibration as tensors (their
    JSON parts go into ``fitted``)."""
    st, tensors = est._stream, {}
    opt = None
    if est._optimizer is not None:
        sd = est._optimizer.state_dict()
        for i, per in sd["state"].items():
            for key, v in per.items():
                tensors[f"optimizer.{i}.{key}"] = (v if isinstance(v, Tensor) else torch.tensor(v)).detach().cpu()
        groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
        opt = {"param_groups": groups, "state": {str(i): sorted(per) for i, per in sd["state"].items()}}
    tensors.update({f"replay.{j}": torch.from_numpy(np.array(w)) for j, w in enumerate(st.replay)})
    tensors.update({f"tail.{i}": torch.from_numpy(np.array(t)) for i, t in enumerate(st.tails or [])})
    tensors["calibration.errors"] = torch.from_numpy(np.ascontiguousarray(est._calibration.errors))
    fitted.update(optimizer=opt, replay_seen=int(st.replay_seen), replay_series=[int(i) for i in st.replay_series],
                  n_updates=int(st.n_updates),
                  calibration_size=int(est._calibration.size))
    return {k: v.contiguous() for k, v in tensors.items()}


def _restore_continuation(est: BaseForecaster, model: torch.nn.Module, stream: Stream, fitted: dict,
                          tensors: dict[str, Tensor], c_in: int, n_series: int, frame: Frame) -> None:
    """The replay reservoir, tails and counters into ``stream`` (checked; none in a version-1 or -2 file)."""
    window = (frame.context or est.chunk_length) + est.horizon
    replay = [tensors[f"replay.{j}"].numpy().astype(np.float64) for j in range(len(
        [k for k in tensors if k.startswith("replay.")]))]
    tails = [tensors[f"tail.{i}"].numpy().astype(np.float64) for i in range(len(
        [k for k in tensors if k.startswith("tail.")]))]
    if len(replay) > est.replay_size or any(w.shape != (window, c_in) for w in replay):
        raise ValueError("the replay reservoir does not match the model")
    if tails and (len(tails) != n_series or any(t.ndim != 2 or t.shape[1] != c_in or len(t) > window
                                                for t in tails)):
        raise ValueError("the replay tails do not match the model")
    # NaN marks a missing value under missing="mask"; inf is never data
    if any(np.isinf(w).any() or (est.missing != "mask" and np.isnan(w).any()) for w in replay + tails):
        raise ValueError("the replay reservoir or tails hold NaN/inf")
    seen, n_updates = fitted["replay_seen"], fitted["n_updates"]
    if not is_int(seen) or not is_int(n_updates) or seen < len(replay) or n_updates < 0:
        raise ValueError("the replay or update counters are damaged")
    tags = fitted["replay_series"]
    if not isinstance(tags, list) or (tags and (len(tags) != len(replay) or not all(
            is_int(t) and 0 <= t < n_series for t in tags))):
        raise ValueError("the replay windows' series are damaged")
    stream.replay, stream.tails, stream.replay_seen, stream.n_updates = replay, tails or None, seen, n_updates
    stream.replay_series = list(tags)


def _optimizer(est: BaseForecaster, model: torch.nn.Module, saved: Any,
               tensors: dict[str, Tensor]) -> torch.optim.Optimizer | None:
    """The ``partial_fit`` optimizer as saved (None when the file has none)."""
    from ..training import make_optimizer

    names = [k for k in tensors if k.startswith("optimizer.")]
    if saved is None:
        if names:
            raise ValueError("optimizer tensors without an optimizer")
        return None
    if not isinstance(saved, dict) or set(saved) != {"param_groups", "state"}:
        raise ValueError("the saved optimizer is damaged")
    state = {int(i): {key: tensors[f"optimizer.{i}.{key}"] for key in keys} for i, keys in saved["state"].items()}
    if len(names) != sum(len(v) for v in state.values()):
        raise ValueError("the optimizer tensors do not match the saved optimizer")
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in saved["param_groups"]]
    opt = make_optimizer(model, est._train_config())
    opt.load_state_dict({"state": state, "param_groups": groups})  # checks the groups' sizes
    return opt


def _calibration(est: BaseForecaster, size: Any, tensors: dict[str, Tensor], n_t: int) -> Calibration:
    """The conformal calibration as saved (empty in a version-1 or -2 file)."""
    if size is None:
        return est._calibration
    errors = tensors["calibration.errors"].numpy()
    if not is_int(size) or size < 0 or errors.dtype != np.float32 or errors.ndim != 4 or \
            errors.shape[1:] != (est.horizon, n_t, est._n_quantiles) or len(errors) > size or \
            np.isinf(errors).any() or (est.missing != "mask" and np.isnan(errors).any()):  # NaN: a missing target
        raise ValueError("the calibration errors do not match the model")
    return Calibration(errors.copy(), int(size))


def _without_absent_ridge_sums(model: torch.nn.Module, weights: dict[str, Tensor]) -> None:
    """Drop the ridge sums of each window model whose file holds none of them (a file of version 25, or a map
    given without its sums): its map then stays as it was saved, through any stream; the same for the
    cross-channel map's sums, and for that map itself where the file holds none of it (one given no cross map).
    One buffer of a group saved without the others still fails the strict load."""
    groups = [("ridge_gram", "ridge_cross", "ridge_penalty"),
              ("cross_ridge_gram", "cross_ridge_xy", "cross_ridge_penalty"),
              ("cross_ridge_weight", "cross_ridge_bias", "cross_ridge_gram", "cross_ridge_xy", "cross_ridge_penalty")]
    for prefix, m in model.named_modules():
        if not isinstance(m, WindowModel):
            continue
        for names in groups:
            keys = [f"{prefix}.{n}" if prefix else n for n in names]
            if getattr(m, names[0]) is not None and not any(k in weights for k in keys):
                for n in names:
                    setattr(m, n, None)


def _frame(d: Any, est: BaseForecaster) -> Frame:
    """The saved frame, checked against the hyperparameters it was resolved from."""
    keys = {"context", "patch_len", "direct", "period"}
    # version 6 added theta_weight, version 8 one_season, version 9 estimated_rows, version 10 partner_rows,
    # version 12 history_one_season, version 13 naive_blend, version 15 history_blend, version 18 naive_share,
    # version 19 naive_period, version 21 horizon_errors, version 22 seasonal_skip, version 23 skip_per_window,
    # version 25 ridge_share, version 29 tail_season, version 30 positive_differences
    added = ("theta_weight", "one_season", "estimated_rows", "partner_rows", "history_one_season", "naive_blend",
             "history_blend", "naive_share", "naive_period", "horizon_errors", "seasonal_skip", "skip_per_window",
             "ridge_share", "tail_season", "positive_differences")
    later = [set(added[:k]) for k in range(1, len(added) + 1)]
    if not isinstance(d, dict) or set(d) not in (keys, *(keys | k for k in later)):
        raise ValueError("the saved frame is damaged")
    frame = Frame(d["context"], d["patch_len"], d["direct"], d["period"], d.get("theta_weight"),
                  d.get("one_season", False), d.get("estimated_rows", 0), d.get("partner_rows", 0),
                  d.get("history_one_season", False), d.get("naive_blend", False), d.get("history_blend", False),
                  d.get("naive_share", 0.0), d.get("naive_period"), d.get("horizon_errors", False),
                  d.get("seasonal_skip", False),
                  d.get("skip_per_window", d.get("seasonal_skip", False)),  # version 22: the skip per window
                  d.get("ridge_share", 0.0), d.get("tail_season", False), d.get("positive_differences", False))
    ok_context = frame.context is None or (is_int(frame.context) and frame.context >= 1)
    if not ok_context or (est.context != "auto" and est.context != frame.context):
        raise ValueError(f"the saved context {frame.context!r} does not match context={est.context!r}")
    if not is_int(frame.patch_len) or not 1 <= frame.patch_len <= (frame.context or 1) or \
            est.patch_len not in ("auto", frame.patch_len):
        raise ValueError(f"the saved patch_len {frame.patch_len!r} does not match patch_len={est.patch_len!r}")
    if not isinstance(frame.direct, bool) or (frame.direct and frame.context is None) or \
            est.head not in ("auto", "direct" if frame.direct else "dense"):
        raise ValueError(f"the saved head (direct={frame.direct!r}) does not match head={est.head!r}")
    if frame.period is not None and not (is_int(frame.period) and frame.period >= 1):
        raise ValueError(f"the saved period {frame.period!r} is damaged")
    w = frame.theta_weight
    if w is not None and (not is_real(w) or not 0 <= w <= 1 or not frame.direct or
                          est.theta_weight not in ("auto", w)):
        raise ValueError(f"the saved theta_weight {w!r} does not match theta_weight={est.theta_weight!r}")
    if not isinstance(frame.one_season, bool) or (frame.one_season and not (holds_one_season(frame) and
                                                                            est.theta_weight == "auto")):
        raise ValueError(f"the saved one_season {frame.one_season!r} does not match the frame or "
                         f"theta_weight={est.theta_weight!r}")
    if not is_int(frame.estimated_rows) or frame.estimated_rows < 0:
        raise ValueError(f"the saved estimated_rows {frame.estimated_rows!r} is damaged")
    if not is_int(frame.partner_rows) or frame.partner_rows < 0 or \
            (frame.partner_rows and frame.partner_rows != history_rows(est, frame)):
        raise ValueError(f"the saved partner_rows {frame.partner_rows!r} does not match the frame or "
                         f"theta_weight={est.theta_weight!r}, partner={est.partner!r}")
    if not isinstance(frame.history_one_season, bool) or \
            (frame.history_one_season and not (frame.partner_rows and (frame.period or 1) > 1)):
        raise ValueError(f"the saved history_one_season {frame.history_one_season!r} does not match the frame")
    if not isinstance(frame.naive_blend, bool) or \
            (frame.naive_blend and not (frame.direct and est.partner == "damped" and (frame.period or 1) > 1)):
        raise ValueError(f"the saved naive_blend {frame.naive_blend!r} does not match the frame or "
                         f"partner={est.partner!r}")
    if not isinstance(frame.tail_season, bool) or (frame.tail_season and not frame.history_one_season):
        raise ValueError(f"the saved tail_season {frame.tail_season!r} does not match the frame")
    if not isinstance(frame.positive_differences, bool) or \
            (frame.positive_differences and not frame.history_one_season):
        raise ValueError(f"the saved positive_differences {frame.positive_differences!r} does not match the frame")
    if not isinstance(frame.history_blend, bool) or \
            (frame.history_blend and not (frame.partner_rows and (frame.period or 1) > 1)):
        raise ValueError(f"the saved history_blend {frame.history_blend!r} does not match the frame")
    if not isinstance(frame.horizon_errors, bool) or \
            (frame.horizon_errors and not (frame.direct and est.partner == "damped")):
        raise ValueError(f"the saved horizon_errors {frame.horizon_errors!r} does not match the frame or "
                         f"partner={est.partner!r}")
    if not isinstance(frame.seasonal_skip, bool) or (frame.seasonal_skip and not (
            frame.direct and est.skip_last and est.theta_weight == "auto" and (frame.period or 1) > 1)):
        raise ValueError(f"the saved seasonal_skip {frame.seasonal_skip!r} does not match the frame or "
                         f"skip_last={est.skip_last!r}, theta_weight={est.theta_weight!r}")
    if not isinstance(frame.skip_per_window, bool) or (frame.skip_per_window and not frame.seasonal_skip):
        raise ValueError(f"the saved skip_per_window {frame.skip_per_window!r} does not match the frame")
    s, p = frame.naive_share, frame.naive_period
    if p is not None and (not is_int(p) or p != 1 or not s):
        raise ValueError(f"the saved naive_period {p!r} does not match the frame")
    seasonal = p is None and (frame.period or 1) > 1 and (frame.context or 0) >= frame.period
    if not is_real(s) or not 0 <= s <= 1 or (s and not (frame.direct and est.theta_weight == "auto"
                                                        and (seasonal or p == 1))):
        raise ValueError(f"the saved naive_share {s!r} does not match the frame or theta_weight={est.theta_weight!r}")
    r, wanted = frame.ridge_share, est.ridge_share
    chosen = wanted == "auto" and est.theta_weight == "auto" or wanted != "auto" and r == wanted
    if not is_real(r) or not 0 <= r <= 1 or (r and not (frame.direct and chosen)):
        raise ValueError(f"the saved ridge_share {r!r} does not match the frame, theta_weight={est.theta_weight!r} "
                         f"or ridge_share={wanted!r}")
    return frame
