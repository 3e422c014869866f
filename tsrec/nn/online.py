"""A linear correction of a window model's forecast, refitted online in closed form (fast and slow weights).

:class:`OnlineRidge` wraps a window model (the *slow* weights, trained by
``fit`` and then left alone) and adds to its forecast a linear correction (the
*fast* weights) that an online ridge regression refits from sufficient
statistics kept at constant memory (``online_update="ridge"`` in the
estimators).

The correction works in each window's instance-normalised units, channel by
channel (one correction shared by every target and series, as the model is).
For target ``j`` of a window ``x`` (its ``context`` rows, in the scaled units
the model reads) with mean ``m`` and standard deviation ``s``, and the model's
forecast ``yhat`` of that target (``horizon`` values; the mean of its quantiles
for a quantile model), the features are::

    phi = [(x[-lags:] - m) / s, (yhat - m) / s, 1]           (lags + horizon + 1 values)

and the forecast is ``yhat + s * (phi @ W)``, the same shift for every quantile
of the target. ``W`` solves ``(A + alpha I) W = B``, where ``A = sum w s^2 phi
phi^T`` and ``B = sum w s^2 phi r^T`` run over the windows whose targets were
observed, ``r = (y - yhat) / s`` is the model's error in the window's units,
and ``w = forgetting ** age`` down-weights old windows (exponential forgetting;
see :meth:`OnlineRidge.accumulated`). The factor ``s^2`` makes ``W`` minimise
the squared error in scaled units, ``sum w |s (r - phi W)|^2``: without it a
nearly flat window (small ``s``) would weigh ``1 / s^2`` times more than its
error does, and dominate the fit. (``s`` is taken in fixed units there, the
scaling's at the first update, ``unit``: the online scaling statistics move.)
``A``, ``B`` and ``W`` are buffers (float64), saved with the weights; all zero
at the start, where the forecast is the wrapped model's exactly.

With ``blend_half_life`` the corrected forecast is then weighed against
persistence (the window's last value) by their recent errors, per target and
forecast step ``k``: ``L_model[k]`` and ``L_last[k]`` are exponentially
weighted means of the two forecasts' squared errors (scaled units) over the
windows whose targets were observed, each window weighing ``(1 - lam) *
lam ** age``, ``lam = 0.5 ** (1 / blend_half_life)`` and ``age`` in rows,
both means starting at 1; once a window has been observed (with the
correction's first statistics), the point forecast moves to ``w * forecast +
(1 - w) * last``, ``w = L_last^4 / (L_model^4 + L_last^4)`` (every quantile
of a target by the same shift). Online ensembling with persistence as the second
expert (OneNet, Wen et al. 2023, weighs two models by their recent losses);
see ``benchmarks/rules/2026-12-04_persistence_blend.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .covariates import lookahead
from .missing import carry_forward

__all__ = ["OnlineRidge"]


class OnlineRidge(nn.Module):
    """A window model plus an online ridge correction of its forecast (see the module docstring).

    The penalty may be chosen online (``alpha="auto"`` in :meth:`solved`): the
    solutions at every penalty of :attr:`AUTO_ALPHAS` are kept, each scored
    by the squared error it made on the windows observed after it was solved
    (discounted as the statistics are), beside no correction at all; the
    forecast uses the best so far (no correction until one has scored better).
    With ``lags="auto"`` the features hold the whole window and the candidates
    are every penalty at every lag count of :attr:`AUTO_LAGS` (the newest lags,
    the forecast and 1: a sub-block of the same statistics), so that the
    correction can grow as the windows accumulate; a fixed ``alpha`` then uses
    the whole window.

    Parameters
    ----------
    inner : nn.Module
        A window model (``forward(x) -> (B, horizon, c_out)``; a
        :class:`~tsrec.nn.window.WindowModel`, an ensemble, or one inside
        :class:`~tsrec.nn.missing.MaskedInput` or
        :class:`~tsrec.nn.covariates.CovariateModel`).
    context : int
        Rows of the window (the first ``context`` rows of ``x``; a model with
        known-future covariates reads ``lookahead`` rows after them).
    n_targets, n_quantiles : int
        The targets (the first input channels) and the quantiles per target
        (``c_out = n_targets * n_quantiles``).
    lags : int, "auto" or None, default=None
        The newest window rows among the features (None: all ``context``;
        "auto": all, the candidates of ``alpha="auto"`` using the counts of
        :attr:`AUTO_LAGS`).
    eps : float, default=1e-5
        Added to the window variance (as the instance normalisation does).
    blend_half_life : int, optional
        Weigh the forecast against persistence by their recent errors, whose
        means have this half-life in rows (see the module docstring); None:
        no blend.

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.lru import LRUModel
    >>> from tsrec.nn.window import WindowModel
    >>> body = LRUModel(8, 1, horizon=4, d_model=16, d_state=8, n_layers=1, skip_last=False)
    >>> model = OnlineRidge(WindowModel(body, c_in=1, c_out=1, horizon=4, context=32, patch_len=8), 32, 1)
    >>> x = torch.randn(5, 32, 1)
    >>> torch.equal(model(x), model.inner(x))  # no observations yet: the wrapped model's forecast
    True
    >>> phi = model.features(x.double(), model.inner(x).double())
    >>> A, B, total = model.accumulated(model.decayed(0.99, 1), phi, torch.randn(5, 4), torch.ones(5), torch.ones(5))
    >>> model.set_solution(A, B, total, model.solve(A, B, alpha=1.0))
    >>> bool((model(x) - model.inner(x)).abs().sum() > 0)
    True
    """

    #: The penalties that ``alpha="auto"`` chooses from, the largest (nearest the model's forecast) first.
    AUTO_ALPHAS = (1e5, 1e4, 1e3, 1e2, 1e1)
    #: The lag counts that ``lags="auto"`` (with ``alpha="auto"``) chooses from (at most the context), fewest first.
    AUTO_LAGS = (8, 24, 96, 336)
    #: The power of the error means in the blend's weight: ``w = L_last^p / (L_model^p + L_last^p)``.
    BLEND_POWER = 4

    def __init__(self, inner: nn.Module, context: int, n_targets: int, n_quantiles: int = 1,
                 lags: int | str | None = None, eps: float = 1e-5, blend_half_life: int | None = None) -> None:
        super().__init__()
        if inner.c_out != n_targets * n_quantiles:
            raise ValueError(f"the model has {inner.c_out} outputs, not n_targets * n_quantiles = "
                             f"{n_targets * n_quantiles}")
        if not (lags is None or lags == "auto" or isinstance(lags, int) and 1 <= lags <= context):
            raise ValueError(f"lags must be None, 'auto' or in [1, context={context}], got {lags!r}")
        if not (blend_half_life is None or isinstance(blend_half_life, int) and blend_half_life >= 1):
            raise ValueError(f"blend_half_life must be None or an integer >= 1, got {blend_half_life!r}")
        self.inner = inner
        self.c_in, self.c_out, self.horizon = inner.c_in, inner.c_out, inner.horizon
        self.lookahead = lookahead(inner)
        self.context, self.n_targets, self.n_quantiles = context, n_targets, n_quantiles
        auto = lags == "auto"
        self.lags, self.eps = context if auto or lags is None else int(lags), eps
        # the lag counts whose solutions alpha="auto" compares (the features of each: the newest lags, f and 1)
        self.lag_sets = tuple(sorted({min(k, context) for k in self.AUTO_LAGS})) if auto else (self.lags,)
        d = self.lags + self.horizon + 1
        self.register_buffer("gram", torch.zeros(d, d, dtype=torch.float64))
        self.register_buffer("cross", torch.zeros(d, self.horizon, dtype=torch.float64))
        self.register_buffer("total", torch.zeros((), dtype=torch.float64))
        self.register_buffer("weights", torch.zeros(d, self.horizon, dtype=torch.float64))
        # each target's reference scale (the scaling's at the first update): weighs the windows by their variance
        # in fixed units, whatever the online scaling statistics do after it
        self.register_buffer("unit", torch.zeros(n_targets, dtype=torch.float64))
        # alpha="auto": the solution at each penalty of AUTO_ALPHAS, and the discounted squared error each made
        # (first: no correction) on the windows that arrived since it was solved
        k = len(self.AUTO_ALPHAS) * len(self.lag_sets)
        self.register_buffer("candidates", torch.zeros(k, d, self.horizon, dtype=torch.float64))
        self.register_buffer("scores", torch.zeros(k + 1, dtype=torch.float64))
        self.blend_half_life = blend_half_life
        if blend_half_life is not None:  # the error means of the forecast (0) and of persistence (1), per step
            self.register_buffer("blend_errors", torch.ones(2, self.horizon, n_targets, dtype=torch.float64))

    @property
    def n_features(self) -> int:
        """Features per (window, target): ``lags + horizon + 1``."""
        return self.lags + self.horizon + 1

    def init_state(self, batch_size: int, device=None, dtype=None):  # pragma: no cover - window models carry none
        return self.inner.init_state(batch_size, device=device, dtype=dtype)

    def features(self, x: Tensor, yhat: Tensor) -> Tensor:
        """``phi`` ``(B * n_targets, n_features)`` of windows ``x`` ``(B, >= context, C)`` and forecasts ``yhat``
        ``(B, horizon, c_out)``, row ``b * n_targets + j`` for target ``j`` of window ``b`` (in their dtype)."""
        return self._phi(x, yhat)[0]

    def _phi(self, x: Tensor, yhat: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`features` and the targets' window std ``(B, 1, n_targets)``."""
        w, std, mean = self._window(x)
        z = (w[:, -self.lags:] - mean) / std  # (B, lags, nt)
        f = (self._point(yhat) - mean) / std  # (B, H, nt)
        phi = torch.cat([z, f, torch.ones_like(f[:, :1])], dim=1)  # (B, d, nt)
        return phi.transpose(1, 2).reshape(-1, self.n_features), std

    def _point(self, yhat: Tensor) -> Tensor:
        """``(B, horizon, n_targets)``: the forecast of each target (the mean of its quantiles)."""
        nt, nq = self.n_targets, self.n_quantiles
        return yhat.reshape(yhat.shape[0], self.horizon, nt, nq).mean(-1) if nq > 1 else yhat

    def errors(self, x: Tensor, yhat: Tensor, actual: Tensor) -> Tensor:
        """``r`` ``(B * n_targets, horizon)``: the errors of ``yhat`` against ``actual`` ``(B, horizon, n_targets)``
        (scaled units) in each window's normalised units, rows as :meth:`features`'."""
        _, std, _ = self._window(x)
        return ((actual - self._point(yhat)) / std).transpose(1, 2).reshape(-1, self.horizon)

    def scales(self, x: Tensor) -> Tensor:
        """``s`` ``(B * n_targets,)``: each target window's standard deviation (scaled units), rows as
        :meth:`features`'."""
        return self._window(x)[1].reshape(-1)

    def _window(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The targets' window ``(B, context, n_targets)`` (NaN carried forward) and its std and mean."""
        w = x[:, : self.context, : self.n_targets]
        if bool(torch.isnan(w).any()):
            w = carry_forward(w)
        mean = w.mean(1, keepdim=True)
        std = torch.sqrt(w.var(1, keepdim=True, unbiased=False) + self.eps)
        return w, std, mean

    def correction(self, x: Tensor, yhat: Tensor) -> Tensor:
        """What is added to forecasts ``yhat`` ``(B, horizon, c_out)`` of windows ``x``: ``(B, horizon, c_out)``."""
        phi, std = self._phi(x, yhat)
        c = (phi @ self.weights.to(phi.dtype)).reshape(x.shape[0], self.n_targets, self.horizon).transpose(1, 2)
        c = c * std
        return c.repeat_interleave(self.n_quantiles, dim=-1) if self.n_quantiles > 1 else c

    def forward(self, x: Tensor, **kwargs) -> Tensor:
        """The wrapped model's forecast plus the correction, blended with persistence where ``blend_half_life``
        is set (neither before any observation). ``kwargs`` go to the wrapped model (``members=True`` of an
        ensemble: each member's forecast, shifted by the correction and the blend of their mean)."""
        out = self.inner(x, **kwargs)
        if not bool(self.total > 0):
            return out
        members = bool(kwargs.get("members"))
        out = out + self.correction(x, out.mean(0) if members else out)
        if self.blend_half_life is None:
            return out
        return out + self.blend_shift(x, out.mean(0) if members else out)

    # ------------------------------------------------------------------ the blend with persistence
    def blend_weight(self) -> Tensor:
        """``(horizon, n_targets)``: the forecast's weight against persistence, ``L_last^p / (L_model^p +
        L_last^p)`` (1 where both means are 0)."""
        model, last = self.blend_errors ** self.BLEND_POWER
        total = model + last
        return torch.where(total > 0, last / torch.where(total > 0, total, 1.0), 1.0)

    def persistence(self, x: Tensor) -> Tensor:
        """``(B, 1, n_targets)``: each window's last value of each target (NaN carried forward)."""
        w = x[:, : self.context, : self.n_targets]
        if bool(torch.isnan(w[:, -1]).any()):
            w = carry_forward(w)
        return w[:, -1:]

    def blend_shift(self, x: Tensor, yhat: Tensor) -> Tensor:
        """What the blend adds to forecasts ``yhat`` ``(B, horizon, c_out)`` of windows ``x``: each target's
        point forecast moved ``1 - w`` of the way to its persistence, ``(B, horizon, c_out)``."""
        w = self.blend_weight().to(yhat.dtype)
        shift = (1 - w) * (self.persistence(x).to(yhat.dtype) - self._point(yhat))
        return shift.repeat_interleave(self.n_quantiles, dim=-1) if self.n_quantiles > 1 else shift

    def blend_updated(self, elapsed: int, model_errors: Tensor, last_errors: Tensor, ages: Tensor) -> Tensor:
        """The error means after ``elapsed`` rows in which windows ``ages`` rows old (``(n,)``, counted from the
        last row) had their squared errors ``model_errors`` and ``last_errors`` ``(n, horizon, n_targets)``
        observed (a NaN, an unobserved target, adds nothing): ``lam ** elapsed`` times the old means plus
        ``(1 - lam) * lam ** age`` times each window's errors; ``(2, horizon, n_targets)`` float64."""
        lam = 0.5 ** (1 / self.blend_half_life)
        new = torch.stack([model_errors, last_errors], dim=1).to(torch.float64)  # (n, 2, H, nt)
        weight = (1 - lam) * lam ** ages.to(torch.float64)
        added = (torch.nan_to_num(new, nan=0.0) * weight[:, None, None, None]).sum(0)
        return self.blend_errors * lam ** int(elapsed) + added

    # ------------------------------------------------------------------ the online ridge
    def decayed(self, forgetting: float, elapsed: int) -> tuple[Tensor, Tensor, Tensor]:
        """The statistics ``(A, B, total)`` after ``elapsed`` steps: ``forgetting ** elapsed`` times the buffers'."""
        decay = float(forgetting) ** int(elapsed)
        return self.gram * decay, self.cross * decay, self.total * decay

    @staticmethod
    def accumulated(stats: tuple[Tensor, Tensor, Tensor], phi: Tensor, r: Tensor, w: Tensor,
                    s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``stats`` ``(A, B, total)`` plus the rows ``phi`` ``(n, d)`` and ``r`` ``(n, horizon)`` of weights ``w``
        ``(n,)`` and window scales ``s`` ``(n,)``: ``A += sum w s^2 phi phi^T``, ``B += sum w s^2 phi r^T``,
        ``total += sum w`` (float64)."""
        gram, cross, total = stats
        phi, r, w, s = (t.to(torch.float64) for t in (phi, r, w, s))
        weighted = phi * (w * s**2)[:, None]
        return gram + weighted.T @ phi, cross + weighted.T @ r, total + w.sum()

    def candidate_losses(self, phi: Tensor, r: Tensor, w: Tensor, s: Tensor) -> Tensor:
        """``(len(AUTO_ALPHAS) + 1,)``: ``sum w s^2 |r - phi W|^2`` over the rows, for no correction (``W = 0``)
        and each of the current :attr:`candidates` (float64)."""
        phi, r, w, s = (t.to(torch.float64) for t in (phi, r, w, s))
        ws = (w * s**2)[None, :, None]
        # no correction as a zero candidate, through the same sums: a tie with zero candidates is exact
        weights = torch.cat([torch.zeros_like(self.candidates[:1]), self.candidates])
        resid = r[None] - torch.einsum("nd,kdh->knh", phi, weights)
        return (ws * resid**2).sum((1, 2))

    @staticmethod
    def solve(gram: Tensor, cross: Tensor, alpha: float | Sequence[float]) -> Tensor:
        """``W`` of ``(gram + alpha I) W = cross`` (float64); for a sequence of penalties, one ``W`` each, stacked."""
        eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
        if isinstance(alpha, (int, float)):
            return torch.linalg.solve(gram + float(alpha) * eye, cross)
        a = torch.as_tensor(alpha, dtype=gram.dtype, device=gram.device)[:, None, None]
        return torch.linalg.solve(gram[None] + a * eye, cross.expand(len(alpha), -1, -1))

    def solved(self, gram: Tensor, cross: Tensor, alpha: float | str,
               scores: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """The weights for statistics ``(gram, cross)``: at penalty ``alpha``, or for ``"auto"`` those of the
        best of ``scores`` (see the class docstring; zero where no correction scored best), with the
        candidates' new solutions."""
        if alpha != "auto":
            return self.solve(gram, cross, alpha), None
        each = []
        for k in self.lag_sets:  # the newest k lags, the forecast and 1; the other weights zero
            idx = torch.arange(self.lags - k, self.n_features, device=gram.device)
            w = torch.zeros(len(self.AUTO_ALPHAS), *cross.shape, dtype=cross.dtype, device=cross.device)
            w[:, idx] = self.solve(gram[idx][:, idx], cross[idx], self.AUTO_ALPHAS)
            each.append(w)
        candidates = torch.cat(each)
        best = int(torch.argmin(scores))  # ties: the first, the most conservative
        return (torch.zeros_like(cross) if best == 0 else candidates[best - 1]), candidates

    def set_solution(self, gram: Tensor, cross: Tensor, total: Tensor, weights: Tensor, unit: Tensor | None = None,
                     candidates: Tensor | None = None, scores: Tensor | None = None,
                     blend_errors: Tensor | None = None) -> None:
        """Commit new statistics, their solution, (once) the reference scales, ``alpha="auto"``'s candidates
        and scores, and the blend's error means into the buffers."""
        for name, value in (("gram", gram), ("cross", cross), ("total", total), ("weights", weights), ("unit", unit),
                            ("candidates", candidates), ("scores", scores), ("blend_errors", blend_errors)):
            if value is not None:
                getattr(self, name).copy_(value)
