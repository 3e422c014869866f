"""Numba kernels for the scan cores on CPU (imported lazily by :mod:`tsrec.scan.cpu`).

Every kernel works on C-contiguous numpy views of torch tensors (zero-copy).
The linear-scan kernels work on a range ``[j0, j1)`` of jobs (batch row,
block of channels) and release the GIL, so :mod:`tsrec.scan.cpu` runs the
ranges of a large scan on a few Python threads (numba's own threading layer
is not used: its OpenMP team spins beside torch's and slowed every later
torch op 10-100x in a process on one torch thread). Within a job the loop
runs over time and, inside, over a contiguous block of channels, so the
inner loop streams whole rows and vectorises. The LEM kernels are the fused elementwise part of one step. All
are compiled once per argument types and cached on disk (``cache=True``).

Complex arrays are used as numba complex64/complex128 directly (``np.conj``
of a real number is the number itself, so one source serves both), except
in the time-invariant backward, which is faster on interleaved real pairs.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def scan_tv(a, b, h0, out, reverse, blk, j0, j1):  # pragma: no cover - compiled
    """out[i, t] = a[i, t] * out[i, t -/+ 1] + b[i, t], started from h0[i]."""
    B, L, D = b.shape
    nblk = (D + blk - 1) // blk
    for job in range(j0, j1):
        i = job // nblk
        d0 = (job - i * nblk) * blk
        n = min(blk, D - d0)
        h = h0[i, d0 : d0 + n].copy()
        for s in range(L):
            t = L - 1 - s if reverse else s
            at = a[i, t, d0 : d0 + n]
            bt = b[i, t, d0 : d0 + n]
            ot = out[i, t, d0 : d0 + n]
            for d in range(n):
                h[d] = at[d] * h[d] + bt[d]
                ot[d] = h[d]


@njit(nogil=True, cache=True)
def scan_ti(a, b, h0, out, reverse, blk, j0, j1):  # pragma: no cover - compiled
    """As :func:`scan_tv` with one decay per channel, ``a`` of shape (D,)."""
    B, L, D = b.shape
    nblk = (D + blk - 1) // blk
    for job in range(j0, j1):
        i = job // nblk
        d0 = (job - i * nblk) * blk
        n = min(blk, D - d0)
        h = h0[i, d0 : d0 + n].copy()
        ad = a[d0 : d0 + n].copy()
        for s in range(L):
            t = L - 1 - s if reverse else s
            bt = b[i, t, d0 : d0 + n]
            ot = out[i, t, d0 : d0 + n]
            for d in range(n):
                h[d] = ad[d] * h[d] + bt[d]
                ot[d] = h[d]


@njit(nogil=True, cache=True)
def scan_tv_bwd(a, h, h0, g, dh, da, dh0, need_da, blk, j0, j1):  # pragma: no cover - compiled
    """Fused backward of the time-varying scan.

    dh_t = g_t + conj(a_{t+1}) dh_{t+1};  da_t = dh_t conj(h_{t-1});  dh0 = conj(a_0) dh_0.
    """
    B, L, D = g.shape
    nblk = (D + blk - 1) // blk
    for job in range(j0, j1):
        i = job // nblk
        d0 = (job - i * nblk) * blk
        n = min(blk, D - d0)
        acc = np.zeros(n, dtype=g.dtype)  # conj(a_{t+1}) dh_{t+1}
        for t in range(L - 1, -1, -1):
            at = a[i, t, d0 : d0 + n]
            gt = g[i, t, d0 : d0 + n]
            dht = dh[i, t, d0 : d0 + n]
            for d in range(n):
                dht[d] = gt[d] + acc[d]
            if need_da:
                hp = h[i, t - 1, d0 : d0 + n] if t > 0 else h0[i, d0 : d0 + n]
                dat = da[i, t, d0 : d0 + n]
                for d in range(n):
                    dat[d] = dht[d] * np.conj(hp[d])
            for d in range(n):
                acc[d] = np.conj(at[d]) * dht[d]
        dh0[i, d0 : d0 + n] = acc


@njit(nogil=True, cache=True)
def scan_ti_bwd(a, h, h0, g, dh, da_rows, dh0, need_da, blk, j0, j1):  # pragma: no cover - compiled
    """Fused backward of the time-invariant scan (real dtypes; complex ones use :func:`scan_ti_bwd_pairs`).

    As :func:`scan_tv_bwd`, with the gradient of the shared decay summed over
    time into ``da_rows[i]`` (per batch row, in a wider dtype: partial sums
    over 64 steps in the data's dtype are added into it).
    """
    B, L, D = g.shape
    nblk = (D + blk - 1) // blk
    for job in range(j0, j1):
        i = job // nblk
        d0 = (job - i * nblk) * blk
        n = min(blk, D - d0)
        ad = a[d0 : d0 + n].copy()
        acc = np.zeros(n, dtype=g.dtype)
        s = np.zeros(n, dtype=g.dtype)
        tot = np.zeros(n, dtype=da_rows.dtype)
        for t in range(L - 1, -1, -1):
            gt = g[i, t, d0 : d0 + n]
            dht = dh[i, t, d0 : d0 + n]
            for d in range(n):
                v = gt[d] + acc[d]
                dht[d] = v
                acc[d] = ad[d] * v
            if need_da:
                hp = h[i, t - 1, d0 : d0 + n] if t > 0 else h0[i, d0 : d0 + n]
                for d in range(n):
                    s[d] += dht[d] * hp[d]
                if t % 64 == 0:
                    for d in range(n):
                        tot[d] += s[d]
                        s[d] = 0
        dh0[i, d0 : d0 + n] = acc
        da_rows[i, d0 : d0 + n] = tot


@njit(nogil=True, cache=True)
def scan_ti_bwd_pairs(ar, ai, h, h0, g, dh, da_rows, dh0, need_da, blk, j0, j1):  # pragma: no cover - compiled
    """:func:`scan_ti_bwd` for complex data seen as interleaved (re, im) floats.

    ``h``, ``h0``, ``g``, ``dh``, ``dh0`` are real views with a last axis of
    2D; ``ar``, ``ai`` the real and imaginary parts of ``a``; ``da_rows`` is
    real (B, 2D) in a wider dtype. In this form the loop runs 1.5x faster
    than with numba's complex numbers.
    """
    B, L, D2 = g.shape
    D = D2 // 2
    nblk = (D + blk - 1) // blk
    for job in range(j0, j1):
        i = job // nblk
        d0 = (job - i * nblk) * blk
        n = min(blk, D - d0)
        accr = np.zeros(n, dtype=g.dtype)
        acci = np.zeros(n, dtype=g.dtype)
        sr = np.zeros(n, dtype=g.dtype)
        si = np.zeros(n, dtype=g.dtype)
        totr = np.zeros(n, dtype=da_rows.dtype)
        toti = np.zeros(n, dtype=da_rows.dtype)
        cr = ar[d0 : d0 + n].copy()
        ci = ai[d0 : d0 + n].copy()
        for t in range(L - 1, -1, -1):
            gt = g[i, t, 2 * d0 : 2 * (d0 + n)]
            dht = dh[i, t, 2 * d0 : 2 * (d0 + n)]
            hp = h[i, t - 1, 2 * d0 : 2 * (d0 + n)] if t > 0 else h0[i, 2 * d0 : 2 * (d0 + n)]
            if need_da:  # one loop for everything: splitting it ran slower
                for d in range(n):
                    vr = gt[2 * d] + accr[d]
                    vi = gt[2 * d + 1] + acci[d]
                    dht[2 * d] = vr
                    dht[2 * d + 1] = vi
                    accr[d] = cr[d] * vr + ci[d] * vi  # conj(a) v
                    acci[d] = cr[d] * vi - ci[d] * vr
                    pr = hp[2 * d]
                    pi = hp[2 * d + 1]
                    sr[d] += vr * pr + vi * pi  # v conj(h_{t-1})
                    si[d] += vi * pr - vr * pi
                if t % 64 == 0:
                    for d in range(n):
                        totr[d] += sr[d]
                        toti[d] += si[d]
                        sr[d] = 0
                        si[d] = 0
            else:
                for d in range(n):
                    vr = gt[2 * d] + accr[d]
                    vi = gt[2 * d + 1] + acci[d]
                    dht[2 * d] = vr
                    dht[2 * d + 1] = vi
                    accr[d] = cr[d] * vr + ci[d] * vi
                    acci[d] = cr[d] * vi - ci[d] * vr
        for d in range(n):
            dh0[i, 2 * (d0 + d)] = accr[d]
            dh0[i, 2 * (d0 + d) + 1] = acci[d]
            da_rows[i, 2 * (d0 + d)] = totr[d]
            da_rows[i, 2 * (d0 + d) + 1] = toti[d]


# ---------------------------------------------------------------------------------------------
# LEM: the elementwise part of one step, fused (serial: one step is a few thousand numbers; the
# GEMMs between these calls run on torch's threads). Time-major buffers, so that one step is one
# contiguous block: G3[t, b] holds the gates (s1, s2, zh) and Gy[t, b] the gate yh of step t;
# Y[t, b] and Z[t, b] the states before step t (Y[0] = y0); du[t, b] the gradient of the gates.
# The incoming gradients gY, gZ are batch-major (B, L, H). c = (dt, 1) in the data's dtype.
# Each loop writes one output from few inputs over contiguous blocks of H, which LLVM
# vectorises (one loop with several outputs ran 2.5x slower).


@njit(cache=True)
def lem_fwd_z(G3, j, Z, Zo, t, c):  # pragma: no cover - compiled
    """Z[t + 1] = z + dt s1 (zh - z) with z = Z[t] and the gates in G3[j]; also into Zo[:, t].

    On entry G3[j] holds sigmoid of all three pre-activations (torch applied one
    sigmoid to the contiguous block); zh = tanh(a) is recovered from p = sigmoid(a)
    as (2p - 1) / (p^2 + (1 - p)^2) and stored in place.
    """
    dt, one = c[0], c[1]
    B, H = Z.shape[1], Z.shape[2]
    for b in range(B):
        s1 = G3[j, b, :H]
        zh = G3[j, b, 2 * H :]
        zp = Z[t, b]
        zn = Z[t + 1, b]
        zo = Zo[b, t]
        for h in range(H):
            p = zh[h]
            zh[h] = (p + p - one) / (p * p + (one - p) * (one - p))
        for h in range(H):
            zn[h] = zp[h] + dt * s1[h] * (zh[h] - zp[h])
        for h in range(H):
            zo[h] = zn[h]


@njit(cache=True)
def lem_fwd_y(G3, Gy, j, Y, Yo, t, c):  # pragma: no cover - compiled
    """Y[t + 1] = y + dt s2 (yh - y) with y = Y[t], s2 in G3[j] and yh in Gy[j]; also into Yo[:, t]."""
    dt = c[0]
    B, H = Y.shape[1], Y.shape[2]
    for b in range(B):
        s2 = G3[j, b, H : 2 * H]
        yh = Gy[j, b]
        yp = Y[t, b]
        yn = Y[t + 1, b]
        yo = Yo[b, t]
        for h in range(H):
            yn[h] = yp[h] + dt * s2[h] * (yh[h] - yp[h])
        for h in range(H):
            yo[h] = yn[h]


@njit(cache=True)
def lem_bwd_y(G3, Gy, Y, dy, du, t, c):  # pragma: no cover - compiled
    """du2 = dy dt (yh - y_{t-1}) s2 (1 - s2) and duy = dy dt s2 (1 - yh^2), into du[t]."""
    dt, one = c[0], c[1]
    B, H = Y.shape[1], Y.shape[2]
    for b in range(B):
        s2 = G3[t, b, H : 2 * H]
        yh = Gy[t, b]
        yp = Y[t, b]
        d = dy[b]
        du2 = du[t, b, H : 2 * H]
        duy = du[t, b, 3 * H :]
        for h in range(H):
            du2[h] = d[h] * dt * s2[h] * (yh[h] - yp[h]) * (one - s2[h])
        for h in range(H):
            duy[h] = d[h] * dt * s2[h] * (one - yh[h] * yh[h])


@njit(cache=True)
def lem_bwd_z(G3, Z, dy, dz, gY, gZ, du, dy_acc, dz_acc, t, c):  # pragma: no cover - compiled
    """du1, duz from dz into du[t]; the parts of dy_{t-1}, dz_{t-1} that bypass the GEMMs.

    dy_acc = gy_{t-1} + dy (1 - dt s2),  dz_acc = gz_{t-1} + dz (1 - dt s1)  (no g terms at t = 0).
    """
    dt, one = c[0], c[1]
    B, H = Z.shape[1], Z.shape[2]
    for b in range(B):
        s1 = G3[t, b, :H]
        s2 = G3[t, b, H : 2 * H]
        zh = G3[t, b, 2 * H :]
        zp = Z[t, b]
        e = dz[b]
        d = dy[b]
        du1 = du[t, b, :H]
        duz = du[t, b, 2 * H : 3 * H]
        ya = dy_acc[b]
        za = dz_acc[b]
        for h in range(H):
            du1[h] = e[h] * dt * s1[h] * (zh[h] - zp[h]) * (one - s1[h])
        for h in range(H):
            duz[h] = e[h] * dt * s1[h] * (one - zh[h] * zh[h])
        if t > 0:
            gy = gY[b, t - 1]
            gz = gZ[b, t - 1]
            for h in range(H):
                ya[h] = gy[h] + d[h] * (one - dt * s2[h])
            for h in range(H):
                za[h] = gz[h] + e[h] * (one - dt * s1[h])
        else:
            for h in range(H):
                ya[h] = d[h] * (one - dt * s2[h])
            for h in range(H):
                za[h] = e[h] * (one - dt * s1[h])
