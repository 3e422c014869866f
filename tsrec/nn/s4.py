"""S4 and S4D structured state space layers (Gu, Goel, Re 2022; Gu, Gupta, Goel, Re 2022).

Each of the H = d_model channels is an independent linear time-invariant SSM::

    x' = A x + B u,   y = C x + D u

with a complex state of N/2 modes, the other half being their complex
conjugates, so that y = 2 Re(C x) + D u is real. Discretised with step dt,
x_k = Abar x_{k-1} + Bbar u_k, the output is a causal convolution with the
kernel K_l = C Abar^l Bbar plus D u, computed by FFT (padded to 2L: no
wrap-around).

``mode="s4d"``: A is diagonal; the kernel is a Vandermonde product,
K_l = 2 Re(sum_n C_n Bbar_n Abar_n^l), discretised by ZOH or bilinear.

``mode="s4"``: A = Lambda - P P* is diagonal plus rank one (the normal plus
low-rank form of HiPPO-LegS in its eigenbasis), discretised bilinearly. The
kernel's generating function at the roots of unity is a Cauchy kernel with a
rank-1 Woodbury correction; C is stored as C~ = C (I - Abar^l_max) and solved
back to C when stepping or carrying a state.

State carry: a chunk of length L starting from the state x0 adds
2 Re(C Abar^(l+1) x0) to output l and ends in the state
Abar^L x0 + sum_l Abar^(L-1-l) Bbar u_l, so chunked and whole-sequence forward
passes agree.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..scan import linear_scan
from .blocks import Block, Stack, State

__all__ = ["S4", "S4Model", "hippo_legs", "legs_nplr", "ssm_init"]

MODES = ("s4d", "s4")
INITS = ("legs", "inv", "lin")
DISCRETIZATIONS = ("zoh", "bilinear")
KERNELS = ("fft", "scan")


def hippo_legs(N: int) -> tuple[Tensor, Tensor]:
    """The HiPPO-LegS matrices in float64, in the stable sign convention.

    A_nk = -sqrt(2n+1) sqrt(2k+1) for n > k, -(n+1) for n = k, 0 above the
    diagonal; B_n = sqrt(2n+1).

    Returns
    -------
    A : Tensor
        ``(N, N)``.
    B : Tensor
        ``(N,)``.
    """
    n = torch.arange(N, dtype=torch.float64)
    r = torch.sqrt(2 * n + 1)
    A = torch.tril(-r[:, None] * r[None, :], diagonal=-1) - torch.diag(n + 1)
    return A, r.clone()


def legs_nplr(N: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Normal plus low-rank form of HiPPO-LegS, A = V (diag(W) - p p*) V*, half of each conjugate pair kept.

    With P_n = sqrt(n + 1/2), A + P P^T = -I/2 + S with S skew-symmetric, so
    A + P P^T = V diag(W) V* with V unitary and Re W = -1/2. The N
    eigenvalues come in conjugate pairs; the N/2 with negative imaginary part
    are kept, the rest are their conjugates.

    Parameters
    ----------
    N : int
        Even state size.

    Returns
    -------
    W : Tensor
        Eigenvalues ``(N/2,)``, complex128.
    P : Tensor
        V* P ``(N/2,)``, the low-rank term in the eigenbasis.
    B : Tensor
        V* B ``(N/2,)``.
    V : Tensor
        The eigenvectors kept ``(N, N/2)``; the full basis is ``[V, conj(V)]``.
    """
    if N % 2:
        raise ValueError(f"the state size must be even, got {N}")
    A, B = hippo_legs(N)
    P = torch.sqrt(torch.arange(N, dtype=torch.float64) + 0.5)
    S = A + P[:, None] * P[None, :] + 0.5 * torch.eye(N, dtype=torch.float64)  # skew-symmetric
    w_im, V = torch.linalg.eigh(-1j * S.to(torch.complex128))  # S v = i w v, w real
    order = torch.argsort(w_im)[: N // 2]  # negative imaginary parts
    w_im, V = w_im[order], V[:, order]
    if w_im.abs().min() < 1e-6:
        raise ValueError("HiPPO-LegS has a zero eigenvalue pair at this size")
    W = torch.complex(torch.full_like(w_im, -0.5), w_im)
    Vh = V.conj().T
    return W, Vh @ P.to(torch.complex128), Vh @ B.to(torch.complex128), V


def ssm_init(init: str, N: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """Diagonal initialisations of (A, B[, P]) for N/2 modes, complex128.

    ``"legs"``: the diagonal of the LegS normal plus low-rank form (S4D-LegS),
    with B and P = V* B, V* P from :func:`legs_nplr` (not clipped).
    ``"inv"``: A_n = -1/2 + i (N/pi)(N/(2n+1) - 1), B = 1 (S4D-Inv).
    ``"lin"``: A_n = -1/2 + i pi n, B = 1 (S4D-Lin).
    P is None except for ``"legs"``.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if N % 2:
        raise ValueError(f"d_state must be even (conjugate pairs), got {N}")
    n = torch.arange(N // 2, dtype=torch.float64)
    if init == "legs":
        W, P, B, _ = legs_nplr(N)
        return W, B, P
    imag = math.pi * n if init == "lin" else (N / math.pi) * (N / (2 * n + 1) - 1)
    A = torch.complex(torch.full_like(n, -0.5), imag)
    return A, torch.ones_like(A), None


def _fftconv(u: Tensor, K: Tensor) -> Tensor:
    """Causal convolution of u (B, H, L) with K (H, L), zero-padded to 2L."""
    L = u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(K, n=2 * L), n=2 * L)[..., :L]


def _krylov(A: Tensor, v: Tensor, L: int) -> Tensor:
    """[v, A v, ..., A^(L-1) v] as ``(..., N, L)`` for A ``(..., N, N)``, v ``(..., N)``, by doubling."""
    out = v.unsqueeze(-1)
    power = A
    while out.shape[-1] < L:
        out = torch.cat([out, power @ out], dim=-1)
        if out.shape[-1] < L:
            power = power @ power
    return out[..., :L]


def _input_to_state(u: Tensor, M: Tensor) -> Tensor:
    """sum_l M[h, k, l] u[b, h, l] for real u (B, H, L) and complex M (H, K, L), as one real batched matmul."""
    K = M.shape[1]
    Mr = torch.view_as_real(M.transpose(1, 2)).flatten(-2)  # (H, L, 2K)
    out = torch.bmm(u.transpose(0, 1).contiguous(), Mr)  # channel-major operands keep bmm on its fast path
    return torch.view_as_complex(out.transpose(0, 1).unflatten(-1, (K, 2)).contiguous())


def _state_to_output(x: Tensor, M: Tensor) -> Tensor:
    """Re(sum_k x[b, h, k] M[h, k, l]) for complex x (B, H, K) and M (H, K, L), as one real batched matmul."""
    xr = torch.cat([x.real, x.imag], -1).transpose(0, 1).contiguous()  # (H, B, 2K)
    return torch.bmm(xr, torch.cat([M.real, -M.imag], 1)).transpose(0, 1)


def _conj_full(v: Tensor) -> Tensor:
    """The N/2 kept modes completed with their conjugates: (..., N/2) -> (..., N)."""
    return torch.cat([v, v.conj()], dim=-1)


class S4(nn.Module):
    """One S4/S4D layer, ``(B, L, d_model) -> (B, L, d_model)``, d_model independent SSM channels.

    Parameters
    ----------
    d_model : int
        Number H of channels (width of input and output).
    d_state : int
        State size N per channel (even; N/2 complex modes are stored).
    mode : {"s4d", "s4"}
        Diagonal A (S4D) or diagonal plus rank one HiPPO-LegS A (S4, needs
        ``init="legs"`` and bilinear discretisation).
    init : {"legs", "inv", "lin"}
        Initialisation of A and B (see :func:`ssm_init`).
    discretization : {"zoh", "bilinear"} or None
        None picks "zoh" for S4D and "bilinear" for S4 (the only one it has).
    kernel : {"fft", "scan"}
        S4D only: FFT convolution with the Vandermonde kernel, or the state
        recurrence with :func:`tsrec.scan.linear_scan` (same outputs).
    l_max : int
        S4 only: the length C~ refers to. Longer inputs run in chunks of
        ``l_max`` with the state carried (exactly the same outputs).
    dt_min, dt_max : float
        dt is drawn log-uniformly in [dt_min, dt_max] per channel.
    backend : str
        Scan backend for ``kernel="scan"``.

    Notes
    -----
    Parameters: ``log_dt`` (H,), ``log_A_real`` = log(-Re A) and ``A_imag``
    (H, N/2), ``B`` and ``C`` (``C_tilde`` in mode S4) complex (H, N/2) stored
    as real (..., 2), ``P`` (S4 only, with Q = P), ``D`` (H,). C ~ complex
    N(0, 1), D ~ N(0, 1). ``recurrent_parameters`` names the SSM parameters.
    A single step (L = 1) runs the recurrence x_k = Abar x_{k-1} + Bbar u_k,
    y_k = 2 Re(C x_k) + D u_k (for S4 with the bilinear DPLR matrices, O(N)).
    In mode S4 the final state and the effect of a carried state use the dense
    N x N discrete matrices (as state-spaces does for its state forward):
    O(H N^2 L) per chunk on top of the O(H N L) Cauchy kernel.
    """

    #: parameters of the recurrence: lower learning rate, no weight decay (S4 adds "P")
    recurrent_parameters: tuple[str, ...] = ("log_dt", "log_A_real", "A_imag", "B")

    def __init__(
        self, d_model: int, d_state: int = 64, mode: str = "s4d", init: str = "legs", discretization: str | None = None,
        kernel: str = "fft", l_max: int = 1024, dt_min: float = 1e-3, dt_max: float = 1e-1, backend: str = "auto",
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if discretization is None:
            discretization = "zoh" if mode == "s4d" else "bilinear"
        if discretization not in DISCRETIZATIONS:
            raise ValueError(f"discretization must be one of {DISCRETIZATIONS}, got {discretization!r}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        if mode == "s4":
            if init != "legs":
                raise ValueError(f"mode='s4' is the DPLR HiPPO-LegS SSM: needs init='legs', got {init!r}")
            if discretization != "bilinear":
                raise ValueError("mode='s4' supports only discretization='bilinear'")
            if kernel != "fft":
                raise ValueError("kernel='scan' needs a diagonal A: use mode='s4d'")
        if l_max < 1:
            raise ValueError(f"l_max must be positive, got {l_max}")
        if not 0 < dt_min <= dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, got {dt_min}, {dt_max}")
        self.d_model, self.d_state, self.mode, self.init = d_model, d_state, mode, init
        self.discretization, self.kernel, self.l_max, self.backend = discretization, kernel, int(l_max), backend
        H, N2 = d_model, d_state // 2
        dtype = torch.get_default_dtype()
        A, B, P = ssm_init(init, d_state)

        def real(v: Tensor) -> Tensor:
            return torch.view_as_real(v.expand(H, N2).contiguous()).to(dtype).contiguous()

        log_span = math.log(dt_max) - math.log(dt_min)
        self.log_dt = nn.Parameter(torch.rand(H, dtype=dtype) * log_span + math.log(dt_min))
        self.log_A_real = nn.Parameter(torch.log(-A.real).expand(H, N2).to(dtype).contiguous())
        self.A_imag = nn.Parameter(A.imag.expand(H, N2).to(dtype).contiguous())
        self.B = nn.Parameter(real(B))
        C = torch.randn(H, N2, dtype=torch.complex128)
        if mode == "s4":
            self.P = nn.Parameter(real(P))
            self.C_tilde = nn.Parameter(real(C))  # C (I - Abar^l_max), drawn directly as in state-spaces
            self.recurrent_parameters = (*S4.recurrent_parameters, "P")
        else:
            self.C = nn.Parameter(real(C))
        self.D = nn.Parameter(torch.randn(H, dtype=dtype))
        self._cache_key: tuple | None = None
        self._cache: dict[str, Tensor] | None = None

    # ----------------------------------------------------------------- parameters
    def _cdtype(self) -> torch.dtype:
        return torch.complex128 if self.D.dtype == torch.float64 else torch.complex64

    def eigenvalues(self) -> Tensor:
        """The continuous diagonal part Lambda = -exp(log_A_real) + i A_imag, ``(H, N/2)`` complex."""
        return torch.complex(-torch.exp(self.log_A_real), self.A_imag)

    def _discrete_diag(self) -> tuple[Tensor, Tensor]:
        """S4D: (log Abar, Bbar), each (H, N/2)."""
        dt = torch.exp(self.log_dt)[:, None]
        A, B = self.eigenvalues(), torch.view_as_complex(self.B)
        dtA = dt * A
        if self.discretization == "zoh":
            return dtA, torch.expm1(dtA) / A * B
        return torch.log((1 + dtA / 2) / (1 - dtA / 2)), dt * B / (1 - dtA / 2)

    def _dense(self) -> tuple[Tensor, Tensor]:
        """S4: Abar (H, N, N) and Bbar (H, N) of the conjugate-completed bilinear DPLR system.

        A1 = (2/dt - A)^(-1) = R - R P P* R / (1 + P* R P) with R = diag(1 / (2/dt - Lambda))
        (Woodbury), and then Abar = A1 (2/dt + A) = (4/dt) A1 - I, Bbar = 2 A1 B: no dense solve.
        """
        dt = torch.exp(self.log_dt)
        Lam = _conj_full(self.eigenvalues())
        P = _conj_full(torch.view_as_complex(self.P))
        B = _conj_full(torch.view_as_complex(self.B))
        R = 1 / (2 / dt[:, None] - Lam)  # (H, N)
        RP, PR = R * P, P.conj() * R
        A1 = torch.diag_embed(R) - RP.unsqueeze(-1) * PR.unsqueeze(-2) / (1 + (PR * P).sum(-1))[:, None, None]
        eye = torch.eye(Lam.shape[-1], dtype=A1.dtype, device=A1.device)
        Abar = (4 / dt)[:, None, None] * A1 - eye
        Bbar = 2 * (A1 @ B.unsqueeze(-1)).squeeze(-1)
        return Abar, Bbar

    def _solve_C(self, Abar: Tensor) -> Tensor:
        """S4: C (conjugate-completed, (H, N)) from C~ = C (I - Abar^l_max)."""
        Ct = _conj_full(torch.view_as_complex(self.C_tilde))
        eye = torch.eye(Abar.shape[-1], dtype=Abar.dtype, device=Abar.device)
        M = eye - torch.linalg.matrix_power(Abar, self.l_max)
        return torch.linalg.solve(M.mT, Ct.unsqueeze(-1)).squeeze(-1)  # C M = C~

    def output_matrix(self) -> Tensor:
        """C ``(H, N/2)`` acting on the state, y = 2 Re(C x) + D u (in mode S4 solved back from C~)."""
        if self.mode == "s4d":
            return torch.view_as_complex(self.C)
        return self._solve_C(self._dense()[0])[..., : self.d_state // 2]

    # ----------------------------------------------------------------- kernels
    def _vandermonde(self, log_Abar: Tensor, L: int) -> Tensor:
        """Abar^l for l = 0..L-1, (H, N/2, L)."""
        steps = torch.arange(L, device=log_Abar.device, dtype=self.D.dtype)
        w = log_Abar.unsqueeze(-1) * steps
        return torch.polar(torch.exp(w.real), w.imag)  # exp(w), faster than the complex exp on CPU

    def _kernel_dplr(self, L: int) -> Tensor:
        """S4: K_0..K_{L-1} (H, L) for C~ defined at length L, by the Cauchy kernel at the L-th roots of unity.

        At z on the unit circle, sum_l K_l z^l = C~ (I - Abar z)^(-1) Bbar
        = 2 C~ M(z)^(-1) B with M(z) = (2/dt)(1 - z) - (1 + z)(Lambda - P P*)
        (the bilinear transform, scaled by (1 + z) so that z = -1 is regular).
        With R = diag(1 / ((2/dt)(1 - z) - (1 + z) Lambda)) the Woodbury
        identity gives 2 [k(C~, B) - (1 + z) k(C~, P) k(P*, B) / (1 + (1 + z) k(P*, P))],
        k(a, b) = sum_n a_n b_n R_n, a Cauchy sum over all N modes (kept ones and their conjugates).
        """
        dt = torch.exp(self.log_dt)
        Lam = self.eigenvalues()
        P, B, Ct = (torch.view_as_complex(p) for p in (self.P, self.B, self.C_tilde))
        k = torch.arange(L // 2 + 1, device=Lam.device, dtype=self.D.dtype)
        z = torch.exp(torch.complex(torch.zeros_like(k), -2 * math.pi * k / L))  # (Lz,)
        a = (2 / dt)[:, None, None] * (1 - z)  # (H, 1, Lz)
        b = 1 + z  # (Lz,)
        r = 1 / (a - b * Lam.unsqueeze(-1))  # (H, N/2, Lz)
        rc = 1 / (a - b * Lam.conj().unsqueeze(-1))

        def cauchy(v: Tensor) -> Tensor:
            return torch.einsum("hn,hnz->hz", v, r) + torch.einsum("hn,hnz->hz", v.conj(), rc)

        Q = P.conj()
        k00, k01, k10, k11 = cauchy(Ct * B), cauchy(Ct * P), cauchy(Q * B), cauchy(Q * P)
        Khat = 2 * (k00 - b * k01 * k10 / (1 + b * k11))
        return torch.fft.irfft(Khat, n=L)

    def kernel_values(self, L: int) -> Tensor:
        """The convolution kernel K_0..K_{L-1}, ``(H, L)`` (without the D term)."""
        if self.mode == "s4d":
            log_Abar, Bbar = self._discrete_diag()
            C = torch.view_as_complex(self.C)
            return 2 * torch.einsum("hn,hnl->hl", C * Bbar, self._vandermonde(log_Abar, L)).real
        if L > self.l_max:
            raise ValueError(f"mode='s4' computes kernels up to l_max={self.l_max}, asked for {L}")
        return self._kernel_dplr(self.l_max)[:, :L]

    # ----------------------------------------------------------------- state
    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        return {"x": torch.zeros(batch_size, self.d_model, self.d_state // 2, dtype=cdtype, device=device)}

    def _step_terms(self) -> dict[str, Tensor]:
        if self.mode == "s4d":
            log_Abar, Bbar = self._discrete_diag()
            return {"Abar": torch.exp(log_Abar), "Bbar": Bbar, "C": torch.view_as_complex(self.C)}
        dt = torch.exp(self.log_dt)[:, None]
        Lam = self.eigenvalues()
        P = torch.view_as_complex(self.P)
        Dg = 1 / (2 / dt - Lam)
        return {
            "a0": 2 / dt + Lam, "P": P, "Q": P.conj(), "Dg": Dg, "B2": 2 * torch.view_as_complex(self.B),
            "denom": 1 + 2 * (P.conj() * Dg * P).sum(-1, keepdim=True).real, "C": self.output_matrix(),
        }

    def _cached_step_terms(self) -> dict[str, Tensor]:
        """The step's matrices; reused while the parameters are unchanged and no gradient is recorded."""
        if torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()):
            return self._step_terms()
        key = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in self.parameters())
        if self._cache is None or self._cache_key != key:
            self._cache, self._cache_key = self._step_terms(), key
        return self._cache

    def step(self, u: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One step: u ``(B, H)`` -> y ``(B, H)``, x_k = Abar x_{k-1} + Bbar u_k, y_k = 2 Re(C x_k) + D u_k."""
        t = self._cached_step_terms()
        uc = u.to(self._cdtype()).unsqueeze(-1)
        x = None if state is None else state["x"].to(self._cdtype())
        if self.mode == "s4d":
            x = t["Bbar"] * uc if x is None else t["Abar"] * x + t["Bbar"] * uc
        else:
            # bilinear DPLR: x_k = A1 (A0 x_{k-1} + 2 B u_k), A0 = 2/dt + A, A1 = (2/dt - A)^(-1) by Woodbury;
            # P* v sums over all N modes: 2 Re of the sum over the kept half.
            v = t["B2"] * uc
            if x is not None:
                v = v + t["a0"] * x - t["P"] * (2 * (t["Q"] * x).sum(-1, keepdim=True).real)
            w = t["Dg"] * v
            x = w - t["Dg"] * t["P"] * (2 * (t["Q"] * w).sum(-1, keepdim=True).real) / t["denom"]
        y = 2 * (t["C"] * x).sum(-1).real + self.D * u
        return y, {"x": x}

    # ----------------------------------------------------------------- forward
    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        Bsz, L, H = x.shape
        x0 = None if state is None else state["x"].to(self._cdtype())
        if L == 1:
            y, new = self.step(x[:, 0], state)
            return y.unsqueeze(1), new
        if self.mode == "s4d" and self.kernel == "scan":
            return self._forward_scan(x, x0)
        u = x.transpose(1, 2)  # (B, H, L)
        if self.mode == "s4d":
            y, x1 = self._forward_diag(u, x0)
        else:
            ys = []
            x1 = x0
            for start in range(0, L, self.l_max):
                y, x1 = self._forward_dplr(u[..., start : start + self.l_max], x1)
                ys.append(y)
            y = torch.cat(ys, dim=-1)
        return y.transpose(1, 2), {"x": x1}

    def _forward_diag(self, u: Tensor, x0: Tensor | None) -> tuple[Tensor, Tensor]:
        L = u.shape[-1]
        log_Abar, Bbar = self._discrete_diag()
        C = torch.view_as_complex(self.C)
        vand = self._vandermonde(log_Abar, L)  # (H, N/2, L)
        K = 2 * torch.einsum("hn,hnl->hl", C * Bbar, vand).real
        y = _fftconv(u, K) + self.D[:, None] * u
        x1 = _input_to_state(u, vand.flip(-1)) * Bbar  # sum_l Abar^(L-1-l) Bbar u_l
        if x0 is not None:
            Abar = torch.exp(log_Abar)
            y = y + 2 * _state_to_output(x0 * C, vand * Abar.unsqueeze(-1))  # 2 Re(C Abar^(l+1) x0)
            x1 = x1 + torch.exp(log_Abar * L) * x0
        return y, x1

    def _forward_scan(self, x: Tensor, x0: Tensor | None) -> tuple[Tensor, State]:
        Bsz, L, H = x.shape
        log_Abar, Bbar = self._discrete_diag()
        C = torch.view_as_complex(self.C)
        N2 = Bbar.shape[-1]
        bu = x.to(Bbar.dtype).unsqueeze(-1) * Bbar  # (B, L, H, N/2)
        h0 = None if x0 is None else x0.reshape(Bsz, H * N2)
        h = linear_scan(torch.exp(log_Abar).reshape(-1), bu.reshape(Bsz, L, H * N2), h0, backend=self.backend)
        h = h.view(Bsz, L, H, N2)
        y = 2 * torch.einsum("blhn,hn->blh", h, C).real + self.D * x
        return y, {"x": h[:, -1]}

    def _forward_dplr(self, u: Tensor, x0: Tensor | None) -> tuple[Tensor, Tensor]:
        L, N2 = u.shape[-1], self.d_state // 2
        y = _fftconv(u, self._kernel_dplr(self.l_max)[:, :L]) + self.D[:, None] * u
        Abar, Bbar = self._dense()
        S = _krylov(Abar, Bbar, L)  # (H, N, L): Abar^l Bbar
        x1 = _input_to_state(u, S.flip(-1))
        if x0 is not None:
            x0f = _conj_full(x0)
            C = self._solve_C(Abar)
            rows = _krylov(Abar.mT, (C.unsqueeze(-2) @ Abar).squeeze(-2), L)  # (H, N, L): (C Abar^(l+1))^T
            y = y + _state_to_output(x0f, rows)
            x1 = x1 + (torch.linalg.matrix_power(Abar, L) @ x0f.permute(1, 2, 0)).permute(2, 0, 1)  # Abar^L x0
        return y, x1[..., :N2]


class S4Model(Stack):
    """A stack of S4/S4D blocks: encoder -> n_layers x [norm -> S4 -> GELU -> GLU -> residual] -> head.

    Parameters
    ----------
    c_in, c_out, horizon : int
        Input channels, output channels and forecast steps (see :class:`tsrec.nn.blocks.Stack`).
    d_model : int
        Width of the residual stream = number of SSM channels per layer.
    d_state : int
        SSM state size N (even).
    n_layers : int
        Number of blocks.
    mode, init, discretization, kernel, l_max :
        As for :class:`S4` (``discretization=None``: "zoh" for S4D, "bilinear" for S4).
    dropout : float
        Dropout in the blocks.
    skip_last : bool
        Add the last observed target value to the forecasts (learn the change).
    n_quantiles : int
        Quantiles per target (output channels are (target, quantile) pairs).
    backend : str
        Scan backend for ``kernel="scan"``.
    """

    def __init__(
        self, c_in: int, c_out: int, horizon: int, d_model: int = 64, d_state: int = 64, n_layers: int = 2,
        mode: str = "s4d", init: str = "legs", discretization: str | None = None, kernel: str = "fft",
        l_max: int = 1024, dropout: float = 0.0, skip_last: bool = True, n_quantiles: int = 1, backend: str = "auto",
    ) -> None:
        blocks = [
            Block(
                S4(d_model, d_state, mode=mode, init=init, discretization=discretization, kernel=kernel, l_max=l_max,
                   backend=backend),
                d_model, dropout, kind="glu",
            )
            for _ in range(n_layers)
        ]
        super().__init__(blocks, c_in, c_out, horizon, d_model, skip_last, n_quantiles)
