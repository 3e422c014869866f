"""LEM layer: the paper's equations, init, chunked state, gradcheck (the model contract: test_contract.py)."""

import math

import pytest
import torch
from torch.func import functional_call

from tsrec.nn.lem import LEM

DT = torch.float64
BACKENDS = ["torch", "reference"]


def direct_lem(layer: LEM, x: torch.Tensor, y0: torch.Tensor, z0: torch.Tensor):
    """The LEM equations written out with separate W*, V*, b* (Rusch et al. 2021)."""
    H, dt = layer.d_hidden, layer.dt
    V1, V2, Vz, Vy = layer.inp.weight.split(H, dim=0)
    b1, b2, bz, by = layer.inp.bias.split(H)
    W1, W2, Wz = layer.weight.split(H, dim=0)
    Wy = layer.weight_z
    y, z, outs = y0, z0, []
    for u in x.unbind(1):
        dt1 = dt * torch.sigmoid(y @ W1.T + u @ V1.T + b1)
        dt2 = dt * torch.sigmoid(y @ W2.T + u @ V2.T + b2)
        z = (1 - dt1) * z + dt1 * torch.tanh(y @ Wz.T + u @ Vz.T + bz)
        y = (1 - dt2) * y + dt2 * torch.tanh(z @ Wy.T + u @ Vy.T + by)  # uses the new z
        outs.append(y @ layer.out.weight.T + layer.out.bias)
    return torch.stack(outs, 1), y, z


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_matches_equations(backend):
    torch.manual_seed(0)
    layer = LEM(5, 7, dt=0.6, backend=backend).to(DT)
    x = torch.randn(3, 19, 5, dtype=DT) * 2
    y0, z0 = torch.randn(3, 7, dtype=DT), torch.randn(3, 7, dtype=DT)
    out, state = layer(x, {"y": y0, "z": z0})
    ref, y, z = direct_lem(layer, x, y0, z0)
    assert (out - ref).abs().max() < 1e-12
    assert (state["y"] - y).abs().max() < 1e-12 and (state["z"] - z).abs().max() < 1e-12
    # a fresh state is y0 = z0 = 0
    out0, _ = layer(x)
    zeros = torch.zeros(3, 7, dtype=DT)
    assert (out0 - direct_lem(layer, x, zeros, zeros)[0]).abs().max() < 1e-12
    assert all(torch.equal(v, zeros) for v in layer.init_state(3, dtype=DT).values())


def test_init_ranges_and_dt_check():
    torch.manual_seed(1)
    H = 16
    layer = LEM(4, H)
    bound = 1 / math.sqrt(H)
    for p in (layer.inp.weight, layer.inp.bias, layer.weight, layer.weight_z):
        assert p.abs().max() <= bound and p.abs().max() > 0.8 * bound  # drawn from the whole interval
    assert layer.weight.shape == (3 * H, H) and layer.weight_z.shape == (H, H) and layer.inp.out_features == 4 * H
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="dt"):
            LEM(4, H, dt=bad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_chunks(backend):
    torch.manual_seed(2)
    layer = LEM(4, 6, backend=backend).to(DT)
    x = torch.randn(2, 23, 4, dtype=DT)
    y_full, s_full = layer(x)
    ya, s = layer(x[:, :9])
    yb, s = layer(x[:, 9:10], s)
    yc, s = layer(x[:, 10:], s)
    assert (torch.cat([ya, yb, yc], 1) - y_full).abs().max() < 1e-12
    assert all((s[k] - s_full[k]).abs().max() < 1e-12 for k in ("y", "z"))


def test_gradcheck_layer():
    torch.manual_seed(4)
    layer = LEM(3, 4, dt=0.5, backend="torch").to(DT)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(2, 5, 3, dtype=DT, requires_grad=True)
    y0 = torch.randn(2, 4, dtype=DT, requires_grad=True)
    z0 = torch.randn(2, 4, dtype=DT, requires_grad=True)

    def f(x, y0, z0, *ps):
        out, s = functional_call(layer, dict(zip(names, ps, strict=True)), (x, {"y": y0, "z": z0}))
        return out, s["y"], s["z"]

    assert torch.autograd.gradcheck(f, (x, y0, z0, *params))
