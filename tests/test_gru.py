"""rnnlab.GRU and GRUCell.

Shapes, finite-difference gradients, step by step against the whole sequence, equality
with torch.nn.GRU / GRUCell, interop, dropout, bad input, a loss that goes down.
"""

import itertools

import numpy as np
import pytest

import rnnlab
from _helpers import close as _close, to_np as _np
from rnnlab import GRU, GRUCell, assert_gradients_close, check_module, interop
from rnnlab.gradcheck import numerical_gradient, relative_error
from rnnlab.nn.recurrent.gru import gru_step_backward, gru_step_forward

T, N, D, H = 4, 3, 3, 4


# -------------------------------------------------------------------- shapes and layout
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes_dtypes_and_final_state(xp, device, randn, num_layers, batch_first):
    m = GRU(D, H, num_layers=num_layers, batch_first=batch_first).to(device)
    assert m.dtype == np.float32 and m.training
    x = (
        randn(N, T, D, dtype=np.float32)
        if batch_first
        else randn(T, N, D, dtype=np.float32)
    )
    out, h_n = m(x)
    assert not isinstance(h_n, tuple)
    assert out.shape == ((N, T, H) if batch_first else (T, N, H))
    assert h_n.shape == (num_layers, N, H)
    assert out.dtype == h_n.dtype == np.float32
    last = out[:, -1] if batch_first else out[-1]
    # the last layer's final h is the last output
    np.testing.assert_array_equal(_np(h_n[-1]), _np(last))
    assert np.abs(_np(out)).max() < 1  # a convex combination of tanh values and h0 = 0
    dx, dh0 = m.backward(xp.ones_like(out), xp.ones_like(h_n))
    assert not isinstance(dh0, tuple)
    assert dx.shape == x.shape and dh0.shape == (num_layers, N, H)
    assert dx.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in m.grads.values())


def test_parameters_follow_torch_layout():
    m = GRU(3, 5, num_layers=2)
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {
        "W_xh_l0": (15, 3),
        "W_hh_l0": (15, 5),
        "b_h_l0": (15,),
        "b_hn_l0": (5,),
        "W_xh_l1": (15, 5),
        "W_hh_l1": (15, 5),
        "b_h_l1": (15,),
        "b_hn_l1": (5,),
    }
    assert all(v.dtype == np.float32 for v in m.params.values())
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in m.params.values())
    assert {k: v.shape for k, v in m.grads.items()} == shapes and not any(
        g.any() for g in m.grads.values()
    )
    assert set(GRU(3, 5, num_layers=2, bias=False).params) == {
        "W_xh_l0",
        "W_hh_l0",
        "W_xh_l1",
        "W_hh_l1",
    }
    assert all(
        v.dtype == np.float64 for v in GRU(3, 5, dtype=np.float64).params.values()
    )
    cell = GRUCell(3, 5)
    assert {k: v.shape for k, v in cell.params.items()} == {
        "W_xh": (15, 3),
        "W_hh": (15, 5),
        "b_h": (15,),
        "b_hn": (5,),
    }
    assert set(GRUCell(3, 5, bias=False).params) == {"W_xh", "W_hh"}


def test_batch_first_is_a_transpose(xp, device, randn):
    rnnlab.seed(1)
    a = GRU(D, H, num_layers=2, dtype=np.float64).to(device)
    rnnlab.seed(1)
    b = GRU(D, H, num_layers=2, batch_first=True, dtype=np.float64).to(device)
    x, h0, g = randn(T, N, D), randn(2, N, H), randn(T, N, H)
    out_a, hn_a = a(x, h0)
    out_b, hn_b = b(x.transpose(1, 0, 2).copy(), h0)
    np.testing.assert_array_equal(_np(out_b), _np(out_a).transpose(1, 0, 2))
    np.testing.assert_array_equal(_np(hn_b), _np(hn_a))
    dx_a, dh_a = a.backward(g)
    dx_b, dh_b = b.backward(g.transpose(1, 0, 2).copy())
    tol = dict(rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(_np(dx_b), _np(dx_a).transpose(1, 0, 2), **tol)
    np.testing.assert_allclose(_np(dh_b), _np(dh_a), **tol)


def test_missing_state_and_state_gradient_are_zeros(xp, device, randn):
    m = GRU(D, H, num_layers=2, dtype=np.float64).to(device)
    x, g = randn(T, N, D), randn(T, N, H)
    z = xp.zeros((2, N, H))
    runs = []
    for h0, d_h_n in [(None, None), (z, z)]:
        m.zero_grad()
        out, h_n = m(x, h0)
        dx, dh0 = m.backward(g, d_h_n)
        runs.append(
            [_np(a).copy() for a in (out, h_n, dx, dh0)]
            + [_np(v).copy() for v in m.grads.values()]
        )
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_backward_accumulates_and_leaves_inputs_alone(xp, device, randn):
    m = GRU(D, H, num_layers=2, dtype=np.float64).to(device)
    x, h0, g, gh = randn(T, N, D), randn(2, N, H), randn(T, N, H), randn(2, N, H)
    held = [x, h0, g, gh]
    copies = [_np(a).copy() for a in held]
    out, hn = m(x, h0)
    outs = [out, hn]
    out_copies = [_np(a).copy() for a in outs]
    m.backward(g, gh)
    once = {k: _np(v).copy() for k, v in m.grads.items()}
    assert all(v.any() for v in once.values())
    m(x, h0)  # a second call, pending until the next backward
    m.backward(g, gh)
    for k, v in m.grads.items():
        np.testing.assert_allclose(_np(v), 2 * once[k], rtol=1e-14, atol=1e-15)
    for a, b in zip(held + outs, copies + out_copies):
        # nothing the caller holds is overwritten
        np.testing.assert_array_equal(_np(a), b)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_changing_the_output_in_place_leaves_the_gradients_alone(
    xp, device, randn, num_layers
):
    # Regression (was a bug): the output that forward returns is a view of the last
    # layer's state buffer hs[1:], which backward reads again as h_{t-1} in every gate's
    # gradient. A caller who scales or masks the output in place (out *= mask) silently
    # gets wrong dx and parameter gradients; PyTorch raises instead. rnnlab.RNN and LSTM
    # share the pattern; returning a copy of the output (or keeping one in the cache)
    # would fix it.
    m = GRU(D, H, num_layers=num_layers, dtype=np.float64).to(device)
    x, g = randn(T, N, D), randn(T, N, H)
    m(x)
    dx_ref, _ = m.backward(g)
    ref = {k: _np(v).copy() for k, v in m.grads.items()}
    m.zero_grad()
    out, _ = m(x)
    out *= 2.0  # the caller's array, to do with as it likes
    dx, _ = m.backward(g)
    np.testing.assert_array_equal(_np(dx), _np(dx_ref))
    for k in ref:
        np.testing.assert_array_equal(_np(m.grads[k]), ref[k], err_msg=k)


# ------------------------------------------------------------------- finite differences
GRAD_CASES = [
    c + (0.0,)
    for c in itertools.product([1, 2, 3], [False, True], [True, False], [False, True])
] + [
    # num_layers, batch_first, bias, with_h0, dropout
    (2, False, True, True, 0.5),
    (3, True, True, False, 0.3),
    (3, False, False, True, 0.4),
]


@pytest.mark.parametrize("num_layers, batch_first, bias, with_h0, dropout", GRAD_CASES)
def test_gradients_by_finite_differences(
    xp, device, rng, on, num_layers, batch_first, bias, with_h0, dropout
):
    Tg, Ng, Dg, Hg = 3, 2, 2, 3  # every entry is perturbed twice: keep the arrays small
    m = GRU(
        Dg,
        Hg,
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        dropout=dropout,
        dtype=np.float64,
    ).to(device)
    # with dropout > 0 the masks are live; check_module reseeds so they stay fixed
    assert m.training
    x = on(rng.standard_normal((Ng, Tg, Dg) if batch_first else (Tg, Ng, Dg)))
    inputs = (x, on(rng.standard_normal((num_layers, Ng, Hg)))) if with_h0 else (x,)
    errors = check_module(m, *inputs)
    assert set(errors) == {f"param {k}" for k in m.params} | {
        f"input {i}" for i in range(len(inputs))
    }
    assert ("param b_hn_l0" in errors) == bias
    assert_gradients_close(errors, tol=1e-6)


@pytest.mark.parametrize("bias", [True, False])
def test_step_functions_match_finite_differences(xp, randn, bias):
    args = [
        randn(N, D),
        randn(N, H),
        randn(3 * H, D, scale=0.5),
        randn(3 * H, H, scale=0.5),
    ]
    args += [randn(3 * H), randn(H)] if bias else []
    dh = randn(N, H)

    def loss():
        h, _ = gru_step_forward(*args)
        return float((h * dh).sum())

    h, cache = gru_step_forward(*args)
    assert h.shape == (N, H)
    grads = gru_step_backward(dh, cache)  # dx, dh_prev, dW_xh, dW_hh, db_h, db_hn
    assert len(grads) == 6
    if not bias:
        assert grads[4] is None and grads[5] is None
    for name, arr, ana in zip(
        ["x", "h_prev", "W_xh", "W_hh", "b_h", "b_hn"], args, grads
    ):
        assert ana.shape == arr.shape, name
        assert relative_error(ana, numerical_gradient(loss, arr)) < 1e-7, name


def test_step_backward_gives_db_hn_without_b_h(xp, randn):
    # Regression (was a bug): gru_step_backward decides from b_h alone whether there are
    # biases (has_bias = b_h is not None), so gru_step_forward(..., b_h=None, b_hn=b_hn)
    # uses b_hn but its backward returns db_hn=None, against its docstring ("biases None
    # if absent").
    x, h, Wx, Wh, bn, dh = (
        randn(N, D),
        randn(N, H),
        randn(3 * H, D),
        randn(3 * H, H),
        randn(H),
        randn(N, H),
    )

    def loss():
        return float((gru_step_forward(x, h, Wx, Wh, None, bn)[0] * dh).sum())

    _, cache = gru_step_forward(x, h, Wx, Wh, None, bn)
    grads = gru_step_backward(dh, cache)
    assert grads[4] is None  # there is no b_h
    assert grads[5] is not None, "db_hn is missing although b_hn was used"
    assert relative_error(grads[5], numerical_gradient(loss, bn)) < 1e-7


def test_step_forward_value_resets_after_the_product(xp, randn):
    # PyTorch's form: n = tanh(W_xn x + b_n + r * (W_hn h + b_hn)), not Cho et al.'s
    # W_hn (r * h)
    x, h, Wx, Wh, b, bn = (
        randn(N, D),
        randn(N, H),
        randn(3 * H, D),
        randn(3 * H, H),
        randn(3 * H),
        randn(H),
    )
    h1, _ = gru_step_forward(x, h, Wx, Wh, b, bn)
    x, h, Wx, Wh, b, bn = (_np(a) for a in (x, h, Wx, Wh, b, bn))
    zx, zh = x @ Wx.T + b, h @ Wh.T
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    r = sig(zx[:, :H] + zh[:, :H])
    u = sig(zx[:, H : 2 * H] + zh[:, H : 2 * H])
    n = np.tanh(zx[:, 2 * H :] + r * (zh[:, 2 * H :] + bn))
    np.testing.assert_allclose(_np(h1), (1 - u) * n + u * h, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_h", [True, False])
def test_cell_gradients(xp, device, randn, bias, with_h):
    cell = GRUCell(D, H, bias=bias, dtype=np.float64).to(device)
    inputs = (randn(N, D), randn(N, H)) if with_h else (randn(N, D),)
    errors = check_module(cell, *inputs)
    expected = {"param W_xh", "param W_hh", "input 0"}
    expected |= {"param b_h", "param b_hn"} if bias else set()
    expected |= {"input 1"} if with_h else set()
    assert set(errors) == expected
    assert_gradients_close(errors, tol=1e-6)


def test_cell_equals_the_step_functions(xp, device, randn):
    cell = GRUCell(D, H, dtype=np.float64).to(device)
    x, h, dh = randn(N, D), randn(N, H), randn(N, H)
    h1 = cell(x, h)
    p = cell.params
    rh, cache = gru_step_forward(x, h, p["W_xh"], p["W_hh"], p["b_h"], p["b_hn"])
    np.testing.assert_array_equal(_np(h1), _np(rh))
    dx, dh_prev = cell.backward(dh)
    rdx, rdh, rWx, rWh, rb, rbn = gru_step_backward(dh, cache)
    for got, want in [
        (dx, rdx),
        (dh_prev, rdh),
        (cell.grads["W_xh"], rWx),
        (cell.grads["W_hh"], rWh),
        (cell.grads["b_h"], rb),
        (cell.grads["b_hn"], rbn),
    ]:
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-14, atol=1e-15)


def test_cell_default_state_is_zeros(xp, device, randn):
    cell = GRUCell(D, H, dtype=np.float64).to(device)
    x = randn(N, D)
    np.testing.assert_array_equal(_np(cell(x)), _np(cell(x, xp.zeros((N, H)))))


def test_cell_float32_keeps_dtype(xp, device, randn):
    cell = GRUCell(D, H).to(device)
    h = cell(randn(N, D, dtype=np.float32))
    dx, dh = cell.backward(randn(N, H, dtype=np.float32))
    assert (
        h.dtype
        == dx.dtype
        == dh.dtype
        == cell.grads["W_hh"].dtype
        == cell.grads["b_hn"].dtype
        == np.float32
    )


# -------------------------------------------------------- step by step = whole sequence
def _cells_like(gru):
    """One GRUCell per layer holding the weights of ``gru``."""
    cells = []
    for l in range(gru.num_layers):
        d_in = gru.input_size if l == 0 else gru.hidden_size
        cell = GRUCell(d_in, gru.hidden_size, bias=gru.bias, dtype=gru.dtype).to(
            gru.device
        )
        for k in cell.params:
            cell.params[k][...] = gru.params[f"{k}_l{l}"]
        cells.append(cell)
    return cells


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_step_by_step_equal_the_whole_sequence(
    xp, device, randn, num_layers, bias
):
    L = num_layers
    gru = GRU(D, H, num_layers=L, bias=bias, dtype=np.float64).to(device)
    cells = _cells_like(gru)
    assert sum(len(c.params) for c in cells) == len(gru.params)
    x, h0, dout, dh_n = randn(T, N, D), randn(L, N, H), randn(T, N, H), randn(L, N, H)

    out, h_n = gru(x, h0)
    inp, finals = [x[t] for t in range(T)], []
    # each layer's cell over time, feeding the next layer
    for l, cell in enumerate(cells):
        h, outs = h0[l], []
        for t in range(T):
            h = cell(inp[t], h)
            outs.append(h)
        finals.append(h)
        inp = outs
    tol = dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(out), np.stack([_np(o) for o in inp]), **tol)
    np.testing.assert_allclose(_np(h_n), np.stack([_np(f) for f in finals]), **tol)

    dx, dh0 = gru.backward(dout, dh_n)
    d_above, d_first = [dout[t] for t in range(T)], [None] * L
    for l in range(L - 1, -1, -1):  # top layer first, each in reverse time
        dh, dxs = dh_n[l], [None] * T
        for t in range(T - 1, -1, -1):
            dxs[t], dh = cells[l].backward(d_above[t] + dh)
        d_first[l] = dh
        d_above = dxs
    tol = dict(rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(_np(dx), np.stack([_np(d) for d in d_above]), **tol)
    np.testing.assert_allclose(_np(dh0), np.stack([_np(d) for d in d_first]), **tol)
    for l, cell in enumerate(cells):
        for k in cell.params:
            np.testing.assert_allclose(
                _np(cell.grads[k]), _np(gru.grads[f"{k}_l{l}"]), err_msg=k, **tol
            )
        # every cached step was consumed
        with pytest.raises(RuntimeError, match="with no pending forward"):
            cell.backward(dout[0])


# ---------------------------------------------------------------------- against PyTorch
def _compare_with_torch(torch, tm, m, device, dtype, seed, with_h0=True, with_dhn=True):
    """Run ``tm`` and ``m`` (same weights) on the same data.

    Compare outputs, states and every gradient.
    """
    L, Nn, Tn, Dn, Hn = m.num_layers, 3, 5, m.input_size, m.hidden_size
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((Nn, Tn, Dn) if m.batch_first else (Tn, Nn, Dn)).astype(
        dtype
    )
    gout = rng.standard_normal((Nn, Tn, Hn) if m.batch_first else (Tn, Nn, Hn)).astype(
        dtype
    )
    h0 = (
        rng.standard_normal((L, Nn, Hn)).astype(dtype)
        if with_h0
        else np.zeros((L, Nn, Hn), dtype)
    )
    ghn = rng.standard_normal((L, Nn, Hn)).astype(dtype) if with_dhn else None

    # torch gets an explicit zero h0 where rnnlab gets None: the same function, and it
    # gives dh0
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out_t, hn_t = tm(xt, h0t)
    loss = (out_t * torch.tensor(gout)).sum()
    if ghn is not None:
        loss = loss + (hn_t * torch.tensor(ghn)).sum()
    tm.zero_grad()
    loss.backward()
    grads_t = {k: p.grad.numpy() for k, p in tm.named_parameters()}
    want = dict(
        out=out_t.detach().numpy(),
        h_n=hn_t.detach().numpy(),
        dx=xt.grad.numpy(),
        dh0=h0t.grad.numpy(),
    )

    on = lambda a: None if a is None else rnnlab.to_device(a, device)  # noqa: E731
    m.zero_grad()
    out, hn = m(on(x), on(h0) if with_h0 else None)
    dx, dh0 = m.backward(on(gout), on(ghn))
    got = dict(out=out, h_n=hn, dx=dx, dh0=dh0)
    check = _close(dtype)
    for k in want:
        assert got[k].dtype == dtype, k
        check(_np(got[k]), want[k], k)
    grads = interop.torch_state_dict(m, grads=True)
    assert list(grads) == list(grads_t)
    for k in grads_t:
        assert grads[k].dtype == dtype, k
        check(grads[k], grads_t[k], k)


TORCH_CASES = list(
    itertools.product([1, 2, 3], [False, True], [False, True], [False, True])
)


@pytest.mark.parametrize("direction", ["from_torch", "to_torch"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("num_layers, batch_first, with_h0, with_dhn", TORCH_CASES)
def test_equals_torch_gru(
    xp, device, torch, direction, dtype, num_layers, batch_first, with_h0, with_dhn
):
    tdtype = getattr(torch, np.dtype(dtype).name)
    if direction == "from_torch":
        torch.manual_seed(100 * num_layers + 7)
        tm = torch.nn.GRU(
            4, 6, num_layers=num_layers, batch_first=batch_first, dtype=tdtype
        )
        m = interop.from_torch(tm).to(device)
    else:
        rnnlab.seed(100 * num_layers + 8)
        m = GRU(4, 6, num_layers=num_layers, batch_first=batch_first, dtype=dtype)
        tm = interop.to_torch(m)
        m.to(device)
        assert isinstance(tm, torch.nn.GRU)
    assert (
        m.dtype == dtype and m.batch_first == batch_first and m.num_layers == num_layers
    )
    _compare_with_torch(
        torch, tm, m, device, dtype, seed=num_layers, with_h0=with_h0, with_dhn=with_dhn
    )


@pytest.mark.parametrize("batch_first", [False, True])
def test_equals_torch_in_eval_mode_with_dropout(xp, device, torch, batch_first):
    torch.manual_seed(3)
    tm = torch.nn.GRU(
        D, H, num_layers=3, dropout=0.4, batch_first=batch_first, dtype=torch.float64
    ).eval()
    m = interop.from_torch(tm).to(device)
    assert not m.training and m.dropout == 0.4
    _compare_with_torch(torch, tm, m, device, np.float64, seed=5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_equals_torch_without_bias(xp, device, torch, dtype):
    torch.manual_seed(4)
    tm = torch.nn.GRU(
        D, H, num_layers=2, bias=False, dtype=getattr(torch, np.dtype(dtype).name)
    )
    m = interop.from_torch(tm).to(device)
    assert set(m.params) == {"W_xh_l0", "W_hh_l0", "W_xh_l1", "W_hh_l1"}
    _compare_with_torch(torch, tm, m, device, dtype, seed=6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_equals_torch_grucell(xp, device, torch, dtype, bias):
    torch.manual_seed(7)
    tcell = torch.nn.GRUCell(
        D, H, bias=bias, dtype=getattr(torch, np.dtype(dtype).name)
    )
    cell = GRUCell(D, H, bias=bias, dtype=dtype)
    cell.params["W_xh"][...] = tcell.weight_ih.detach().numpy()
    cell.params["W_hh"][...] = tcell.weight_hh.detach().numpy()
    if bias:
        b_hh = tcell.bias_hh.detach().numpy()
        cell.params["b_h"][...] = tcell.bias_ih.detach().numpy() + np.concatenate(
            [b_hh[: 2 * H], np.zeros(H, dtype)]
        )
        cell.params["b_hn"][...] = b_hh[2 * H :]
    cell.to(device)
    rng = np.random.default_rng(8)
    steps = 3
    xs = rng.standard_normal((steps, N, D)).astype(dtype)
    h0, gh = (
        rng.standard_normal((N, H)).astype(dtype),
        rng.standard_normal((steps, N, H)).astype(dtype),
    )

    # torch: L = sum_t <h_t, gh_t>
    xt, h0t = torch.tensor(xs, requires_grad=True), torch.tensor(h0, requires_grad=True)
    ht, loss, hs_t = h0t, 0, []
    for t in range(steps):
        ht = tcell(xt[t], ht)
        hs_t.append(ht.detach().numpy())
        loss = loss + (ht * torch.tensor(gh[t])).sum()
    loss.backward()

    on = lambda a: rnnlab.to_device(a, device)  # noqa: E731
    h, hs = on(h0), []
    for t in range(steps):
        h = cell(on(xs[t]), h)
        hs.append(_np(h))
    dh, dxs = xp.zeros((N, H), dtype), [None] * steps
    for t in range(steps - 1, -1, -1):
        dxs[t], dh = cell.backward(on(gh[t]) + dh)

    check = _close(dtype)
    check(np.stack(hs), np.stack(hs_t), "h")
    check(np.stack([_np(d) for d in dxs]), xt.grad.numpy(), "dx")
    check(_np(dh), h0t.grad.numpy(), "dh0")
    check(_np(cell.grads["W_xh"]), tcell.weight_ih.grad.numpy(), "weight_ih")
    check(_np(cell.grads["W_hh"]), tcell.weight_hh.grad.numpy(), "weight_hh")
    # bias_ih feeds b_h; bias_hh's r, z blocks feed b_h and its n block is b_hn
    if bias:
        g, gn = _np(cell.grads["b_h"]), _np(cell.grads["b_hn"])
        check(g, tcell.bias_ih.grad.numpy(), "bias_ih")
        check(np.concatenate([g[: 2 * H], gn]), tcell.bias_hh.grad.numpy(), "bias_hh")


# --------------------------------------------------------------------------- interop
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    "batch_first, num_layers, training",
    [(False, 1, True), (True, 3, False), (False, 2, True)],
)
def test_rnnlab_to_torch_to_rnnlab_is_bit_identical(
    torch, dtype, bias, batch_first, num_layers, training
):
    rnnlab.seed(2)
    # torch warns about dropout on a single layer
    dropout = 0.25 if num_layers > 1 else 0.0
    m = GRU(
        D,
        H,
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        dropout=dropout,
        dtype=dtype,
    ).train(training)
    tm = interop.to_torch(m)
    assert isinstance(tm, torch.nn.GRU)
    assert all(p.dtype == getattr(torch, np.dtype(dtype).name) for p in tm.parameters())
    assert (
        tm.input_size,
        tm.hidden_size,
        tm.num_layers,
        tm.bias,
        tm.batch_first,
        tm.dropout,
        tm.training,
    ) == (D, H, num_layers, bias, batch_first, dropout, training)
    back = interop.from_torch(tm)
    assert type(back) is GRU
    assert (
        back.num_layers,
        back.bias,
        back.batch_first,
        back.dropout,
        back.training,
    ) == (num_layers, bias, batch_first, dropout, training)
    assert set(back.params) == set(m.params)
    for k, p in m.params.items():
        q = back.params[k]
        assert q.dtype == p.dtype == dtype, k
        assert p.tobytes() == q.tobytes(), k  # bit-identical


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("num_layers, batch_first", [(1, False), (2, True), (3, False)])
def test_torch_to_rnnlab_to_torch_computes_the_same(
    torch, dtype, tol, num_layers, batch_first
):
    torch.manual_seed(1)
    tm = torch.nn.GRU(
        D,
        H,
        num_layers=num_layers,
        batch_first=batch_first,
        dtype=getattr(torch, np.dtype(dtype).name),
    )
    tm2 = interop.to_torch(interop.from_torch(tm))
    assert (
        isinstance(tm2, torch.nn.GRU)
        and tm2.batch_first == batch_first
        and tm2.num_layers == num_layers
    )
    rng = np.random.default_rng(0)
    x = torch.tensor(
        rng.standard_normal((N, T, D) if batch_first else (T, N, D)).astype(dtype)
    )
    h0 = torch.tensor(rng.standard_normal((num_layers, N, H)).astype(dtype))
    with torch.no_grad():
        out, hn = tm(x, h0)
        out2, hn2 = tm2(x, h0)
    # the r and z blocks of the two PyTorch biases are folded into one: only that
    # rounding differs
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(hn2.numpy(), hn.numpy(), rtol=tol, atol=tol)
    sd, sd2 = tm.state_dict(), tm2.state_dict()
    assert list(sd) == list(sd2)
    for k in sd:
        if k.startswith("weight"):
            assert torch.equal(sd[k], sd2[k]), k
    for l in range(num_layers):
        ih, hh, ih2, hh2 = (
            sd[f"bias_ih_l{l}"],
            sd[f"bias_hh_l{l}"],
            sd2[f"bias_ih_l{l}"],
            sd2[f"bias_hh_l{l}"],
        )
        torch.testing.assert_close(
            ih2[: 2 * H] + hh2[: 2 * H], ih[: 2 * H] + hh[: 2 * H], rtol=0, atol=0
        )
        assert not hh2[: 2 * H].any()
        # n blocks kept apart
        assert torch.equal(ih2[2 * H :], ih[2 * H :]) and torch.equal(
            hh2[2 * H :], hh[2 * H :]
        )


@pytest.mark.parametrize("bias", [True, False])
def test_torch_state_dict_has_torchs_keys_and_shapes(torch, bias):
    m = GRU(D, H, num_layers=3, bias=bias)
    theirs = torch.nn.GRU(D, H, num_layers=3, bias=bias).state_dict()
    for grads in (False, True):
        ours = interop.torch_state_dict(m, grads=grads)
        assert list(ours) == list(theirs)
        for k in theirs:
            assert ours[k].shape == tuple(theirs[k].shape), k
            assert ours[k].dtype == np.float32, k


def test_torch_state_dict_values_and_bias_split(torch):
    m = GRU(D, H, num_layers=1)
    for v in m.grads.values():
        v[...] = np.arange(1, v.size + 1, dtype=v.dtype).reshape(v.shape)
    sd = interop.torch_state_dict(m)
    np.testing.assert_array_equal(sd["weight_ih_l0"], m.params["W_xh_l0"])
    np.testing.assert_array_equal(sd["weight_hh_l0"], m.params["W_hh_l0"])
    np.testing.assert_array_equal(sd["bias_ih_l0"], m.params["b_h_l0"])
    assert not sd["bias_hh_l0"][: 2 * H].any()
    np.testing.assert_array_equal(sd["bias_hh_l0"][2 * H :], m.params["b_hn_l0"])
    g = interop.torch_state_dict(m, grads=True)
    np.testing.assert_array_equal(g["weight_hh_l0"], m.grads["W_hh_l0"])
    np.testing.assert_array_equal(g["bias_ih_l0"], m.grads["b_h_l0"])
    np.testing.assert_array_equal(g["bias_hh_l0"][: 2 * H], m.grads["b_h_l0"][: 2 * H])
    np.testing.assert_array_equal(g["bias_hh_l0"][2 * H :], m.grads["b_hn_l0"])
    sd["bias_hh_l0"][...] = 0  # a copy, not a view of the module's arrays
    assert m.params["b_hn_l0"].any()


def test_from_torch_splits_the_n_block_of_bias_hh(torch):
    torch.manual_seed(0)
    tm = torch.nn.GRU(D, H, num_layers=2, dtype=torch.float64)
    m = interop.from_torch(tm)
    sd = {k: v.numpy() for k, v in tm.state_dict().items()}
    for l in range(2):
        ih, hh = sd[f"bias_ih_l{l}"], sd[f"bias_hh_l{l}"]
        np.testing.assert_array_equal(
            m.params[f"b_h_l{l}"][: 2 * H], ih[: 2 * H] + hh[: 2 * H]
        )
        np.testing.assert_array_equal(m.params[f"b_h_l{l}"][2 * H :], ih[2 * H :])
        np.testing.assert_array_equal(m.params[f"b_hn_l{l}"], hh[2 * H :])
        np.testing.assert_array_equal(m.params[f"W_xh_l{l}"], sd[f"weight_ih_l{l}"])
        np.testing.assert_array_equal(m.params[f"W_hh_l{l}"], sd[f"weight_hh_l{l}"])


def test_training_flag_is_carried_over(torch):
    tm = torch.nn.GRU(D, H)
    assert interop.from_torch(tm.train()).training
    assert not interop.from_torch(tm.eval()).training
    assert interop.to_torch(GRU(D, H)).training
    assert not interop.to_torch(GRU(D, H).eval()).training


# --------------------------------------------------------------------------- dropout
def test_dropout_is_live_in_training_and_off_in_eval(xp, device, randn):
    m = GRU(D, H, num_layers=3, dropout=0.5, dtype=np.float64).to(device)
    ref = GRU(D, H, num_layers=3, dtype=np.float64).to(device)
    ref.load_state_dict(m.state_dict())
    x, g = randn(T, N, D), randn(T, N, H)
    out_ref, hn_ref = ref(x)
    dx_ref, _ = ref.backward(g)
    out_train, hn_train = m(x)
    # dropout changes the training output
    assert not np.allclose(_np(out_train), _np(out_ref))
    dx_train, _ = m.backward(g)
    # and the gradient (through the same masks)
    assert not np.allclose(_np(dx_train), _np(dx_ref))
    # layer 0 is before any dropout
    np.testing.assert_array_equal(_np(hn_train[0]), _np(hn_ref[0]))
    out_again, _ = m(x)
    # a fresh mask every forward
    assert not np.array_equal(_np(out_again), _np(out_train))
    m.eval()
    m.zero_grad()
    out_eval, hn_eval = m(x)
    dx_eval, _ = m.backward(g)
    for a, b in [(out_eval, out_ref), (hn_eval, hn_ref), (dx_eval, dx_ref)]:
        np.testing.assert_array_equal(_np(a), _np(b))
    for k in m.grads:
        np.testing.assert_array_equal(_np(m.grads[k]), _np(ref.grads[k]))


def test_dropout_applies_between_layers_only(xp, device, randn):
    m = GRU(D, H, num_layers=1, dropout=0.5, dtype=np.float64).to(device)
    x = randn(T, N, D)
    out_train, hn_train = m(x)
    out_eval, hn_eval = m.eval()(x)
    np.testing.assert_array_equal(_np(out_train), _np(out_eval))
    np.testing.assert_array_equal(_np(hn_train), _np(hn_eval))


# --------------------------------------------------------------------------- bad input
def _x(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


def test_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"\bx\b must have 3 dimensions \(T, N, input_size\), got shape \(4, 3\)",
    ):
        GRU(D, H)(_x(T, D))
    with pytest.raises(
        ValueError, match=r"\bx\b must have 3 dimensions \(N, T, input_size\)"
    ):
        GRU(D, H, batch_first=True)(_x(T, N, D, 1))


def test_wrong_input_size():
    with pytest.raises(
        ValueError, match=r"\bx\b has size 5 in its last dimension, expected 3"
    ):
        GRU(D, H)(_x(T, N, 5))


@pytest.mark.parametrize("shape", [(1, N, H), (2, N + 1, H), (2, N, H + 1), (N, H)])
def test_wrong_h0_shape(shape):
    with pytest.raises(ValueError, match=r"\bh0\b has shape .*, expected \(2, 3, 4\)"):
        GRU(D, H, num_layers=2)(_x(T, N, D), _x(*shape))


@pytest.mark.parametrize(
    "h0",
    [(_x(1, N, H),), [_x(1, N, H)], _x(1, N, H).tolist()],
    ids=["tuple", "list", "nested"],
)
def test_h0_not_an_array(h0):
    with pytest.raises(
        TypeError, match=r"\bh0\b must be an array of shape \(1, 3, 4\)"
    ):
        GRU(D, H)(_x(T, N, D), h0)


def test_wrong_dtype():
    with pytest.raises(
        TypeError,
        match=r"\bx\b has dtype float64 but the module's parameters are float32",
    ):
        GRU(D, H)(_x(T, N, D, dtype=np.float64))
    with pytest.raises(TypeError, match=r"\bh0\b has dtype float64"):
        GRU(D, H)(_x(T, N, D), _x(1, N, H, dtype=np.float64))
    with pytest.raises(
        TypeError,
        match=r"\bx\b has dtype float64 but the module's parameters are float32",
    ):
        GRUCell(D, H)(_x(N, D, dtype=np.float64))
    with pytest.raises(
        TypeError, match=r"\bx\b must be a NumPy or CuPy array, got list"
    ):
        GRU(D, H)(_x(T, N, D).tolist())


def test_device_mismatch(need_cuda):
    cupy = need_cuda
    m = GRU(D, H).to("cuda")
    with pytest.raises(
        ValueError, match=r"\bx\b is on cpu but the module's parameters are on cuda"
    ):
        m(_x(T, N, D))
    with pytest.raises(ValueError, match=r"\bh0\b is on cpu"):
        m(cupy.zeros((T, N, D), np.float32), _x(1, N, H))


@pytest.mark.parametrize("shape", [(0, N, D), (T, 0, D)], ids=["T=0", "N=0"])
def test_empty_sequence_or_batch(shape):
    with pytest.raises(ValueError, match=r"\bx\b is empty"):
        GRU(D, H)(_x(*shape))


@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_non_finite_input(bad):
    x = _x(T, N, D)
    x[2, 1, 0] = bad
    with pytest.raises(ValueError, match=r"\bx\b contains NaN or infinite values"):
        GRU(D, H)(x)
    h0 = _x(1, N, H)
    h0[0, 0, 0] = bad
    with pytest.raises(ValueError, match=r"\bh0\b contains NaN or infinite values"):
        GRU(D, H)(_x(T, N, D), h0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(input_size=3, hidden_size=0),
            r"\bhidden_size\b must be a positive integer",
        ),
        (
            dict(input_size=3, hidden_size=4, num_layers=1.5),
            r"\bnum_layers\b must be a positive integer",
        ),
        (
            dict(input_size=3, hidden_size=4, num_layers=2, dropout=-0.1),
            r"\bdropout\b must be in \[0, 1\)",
        ),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GRU(**kwargs)


def test_backward_before_forward():
    with pytest.raises(
        RuntimeError, match="GRU.backward called with no pending forward"
    ):
        GRU(D, H).backward(_x(T, N, H))


@pytest.mark.parametrize("batch_first", [False, True])
def test_wrong_d_output_shape(batch_first):
    m = GRU(D, H, num_layers=2, batch_first=batch_first)
    m(_x(N, T, D) if batch_first else _x(T, N, D))
    want = r"\(3, 4, 4\)" if batch_first else r"\(4, 3, 4\)"
    wrong = _x(T, N, H) if batch_first else _x(N, T, H)
    with pytest.raises(
        ValueError, match=rf"\bd_output\b has shape .*, expected {want}"
    ):
        m.backward(wrong)
    with pytest.raises(TypeError, match=r"\bd_output\b has dtype float64"):
        m.backward(
            _x(N, T, H, dtype=np.float64)
            if batch_first
            else _x(T, N, H, dtype=np.float64)
        )


def test_wrong_d_h_n_shape():
    m = GRU(D, H, num_layers=2)
    m(_x(T, N, D))
    with pytest.raises(
        ValueError, match=r"\bd_h_n\b has shape \(1, 3, 4\), expected \(2, 3, 4\)"
    ):
        m.backward(_x(T, N, H), _x(1, N, H))
    with pytest.raises(TypeError, match=r"\bd_h_n\b must be an array"):
        m.backward(_x(T, N, H), (_x(2, N, H),))


# ---------------------------------------------------------------- bad input to the cell
def test_cell_wrong_input():
    cell = GRUCell(D, H)
    with pytest.raises(
        ValueError,
        match=r"\bx\b must have 2 dimensions \(N, input_size\), got shape \(2, 3, 3\)",
    ):
        cell(_x(2, N, D))
    with pytest.raises(
        ValueError, match=r"\bx\b has size 2 in its last dimension, expected 3"
    ):
        cell(_x(N, 2))
    with pytest.raises(ValueError, match=r"\bx\b is empty"):
        cell(_x(0, D))
    with pytest.raises(
        ValueError, match=r"\bh\b has shape \(3, 5\), expected \(3, 4\)"
    ):
        cell(_x(N, D), _x(N, H + 1))
    with pytest.raises(TypeError, match=r"\bh\b has dtype float64"):
        cell(_x(N, D), _x(N, H, dtype=np.float64))
    h = _x(N, H)
    h[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"\bh\b contains NaN or infinite"):
        cell(_x(N, D), h)


def test_cell_backward_more_times_than_forward():
    cell = GRUCell(D, H)
    with pytest.raises(
        RuntimeError, match="GRUCell.backward called with no pending forward"
    ):
        cell.backward(_x(N, H))
    cell(_x(N, D))
    cell(_x(N, D))
    cell.backward(_x(N, H))
    cell.backward(_x(N, H))
    with pytest.raises(RuntimeError, match="with no pending forward"):
        cell.backward(_x(N, H))


def test_cell_backward_wrong_dh():
    cell = GRUCell(D, H)
    cell(_x(N, D))
    with pytest.raises(ValueError, match=r"\bdh\b has shape \(4,\), expected \(3, 4\)"):
        cell.backward(_x(H))
    with pytest.raises(TypeError, match=r"\bdh\b has dtype float64"):
        cell.backward(_x(N, H, dtype=np.float64))
    cell.backward(_x(N, H))  # the failed calls consumed nothing
