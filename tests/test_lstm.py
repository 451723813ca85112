"""rnnlab.LSTM and LSTMCell.

Shapes, finite-difference gradients, step by step against the whole sequence, equality
with torch.nn.LSTM / LSTMCell, interop, dropout, bad input, a loss that goes down.
"""

import itertools

import numpy as np
import pytest

import rnnlab
from _helpers import close as _close, to_np as _np
from rnnlab import LSTM, LSTMCell, assert_gradients_close, check_module, interop
from rnnlab.gradcheck import numerical_gradient, relative_error
from rnnlab.nn.recurrent.lstm import lstm_step_backward, lstm_step_forward

T, N, D, H = 4, 3, 3, 4


# -------------------------------------------------------------------- shapes and layout
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes_dtypes_and_final_states(xp, device, randn, num_layers, batch_first):
    m = LSTM(D, H, num_layers=num_layers, batch_first=batch_first).to(device)
    assert m.dtype == np.float32 and m.training
    x = (
        randn(N, T, D, dtype=np.float32)
        if batch_first
        else randn(T, N, D, dtype=np.float32)
    )
    out, hx = m(x)
    assert isinstance(hx, tuple) and len(hx) == 2
    h_n, c_n = hx
    assert out.shape == ((N, T, H) if batch_first else (T, N, H))
    assert h_n.shape == c_n.shape == (num_layers, N, H)
    assert out.dtype == h_n.dtype == c_n.dtype == np.float32
    last = out[:, -1] if batch_first else out[-1]
    # the last layer's final h is the last output
    np.testing.assert_array_equal(_np(h_n[-1]), _np(last))
    assert np.abs(_np(out)).max() < 1  # h = o * tanh(c) with o in (0, 1)
    assert not np.allclose(_np(c_n), _np(h_n))
    dx, d0 = m.backward(xp.ones_like(out), (xp.ones_like(h_n), xp.ones_like(c_n)))
    assert isinstance(d0, tuple) and len(d0) == 2
    dh0, dc0 = d0
    assert dx.shape == x.shape and dh0.shape == dc0.shape == (num_layers, N, H)
    assert dx.dtype == dh0.dtype == dc0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in m.grads.values())


def test_parameters_follow_torch_layout():
    m = LSTM(3, 5, num_layers=2)
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {
        "W_xh_l0": (20, 3),
        "W_hh_l0": (20, 5),
        "b_h_l0": (20,),
        "W_xh_l1": (20, 5),
        "W_hh_l1": (20, 5),
        "b_h_l1": (20,),
    }
    assert all(v.dtype == np.float32 for v in m.params.values())
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in m.params.values())
    assert {k: v.shape for k, v in m.grads.items()} == shapes and not any(
        g.any() for g in m.grads.values()
    )
    assert set(LSTM(3, 5, num_layers=2, bias=False).params) == {
        "W_xh_l0",
        "W_hh_l0",
        "W_xh_l1",
        "W_hh_l1",
    }
    assert all(
        v.dtype == np.float64 for v in LSTM(3, 5, dtype=np.float64).params.values()
    )
    cell = LSTMCell(3, 5)
    assert {k: v.shape for k, v in cell.params.items()} == {
        "W_xh": (20, 3),
        "W_hh": (20, 5),
        "b_h": (20,),
    }
    assert set(LSTMCell(3, 5, bias=False).params) == {"W_xh", "W_hh"}


def test_batch_first_is_a_transpose(xp, device, randn):
    rnnlab.seed(1)
    a = LSTM(D, H, num_layers=2, dtype=np.float64).to(device)
    rnnlab.seed(1)
    b = LSTM(D, H, num_layers=2, batch_first=True, dtype=np.float64).to(device)
    x, h0, c0, g = randn(T, N, D), randn(2, N, H), randn(2, N, H), randn(T, N, H)
    out_a, (hn_a, cn_a) = a(x, (h0, c0))
    out_b, (hn_b, cn_b) = b(x.transpose(1, 0, 2).copy(), (h0, c0))
    np.testing.assert_array_equal(_np(out_b), _np(out_a).transpose(1, 0, 2))
    np.testing.assert_array_equal(_np(hn_b), _np(hn_a))
    np.testing.assert_array_equal(_np(cn_b), _np(cn_a))
    dx_a, (dh_a, dc_a) = a.backward(g)
    dx_b, (dh_b, dc_b) = b.backward(g.transpose(1, 0, 2).copy())
    tol = dict(rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(_np(dx_b), _np(dx_a).transpose(1, 0, 2), **tol)
    np.testing.assert_allclose(_np(dh_b), _np(dh_a), **tol)
    np.testing.assert_allclose(_np(dc_b), _np(dc_a), **tol)


def test_missing_states_and_state_gradients_are_zeros(xp, device, randn):
    m = LSTM(D, H, num_layers=2, dtype=np.float64).to(device)
    x, g = randn(T, N, D), randn(T, N, H)
    h0, c0, gh, gc = (randn(2, N, H) for _ in range(4))
    z = xp.zeros((2, N, H))
    for hx, full in [
        (None, (z, z)),
        ((h0, None), (h0, z)),
        ((None, c0), (z, c0)),
        ((None, None), (z, z)),
    ]:
        for d_hx, d_full in [
            (None, (z, z)),
            ((gh, None), (gh, z)),
            ((None, gc), (z, gc)),
        ]:
            m.zero_grad()
            out, (hn, cn) = m(x, hx)
            dx, (dh0, dc0) = m.backward(g, d_hx)
            got = [_np(a).copy() for a in (out, hn, cn, dx, dh0, dc0)] + [
                _np(v).copy() for v in m.grads.values()
            ]
            m.zero_grad()
            out, (hn, cn) = m(x, full)
            dx, (dh0, dc0) = m.backward(g, d_full)
            want = [_np(a) for a in (out, hn, cn, dx, dh0, dc0)] + [
                _np(v) for v in m.grads.values()
            ]
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a, b)


def test_backward_accumulates_and_leaves_inputs_alone(xp, device, randn):
    m = LSTM(D, H, num_layers=2, dtype=np.float64).to(device)
    x, g = randn(T, N, D), randn(T, N, H)
    h0, c0, gh, gc = (randn(2, N, H) for _ in range(4))
    held = [x, h0, c0, g, gh, gc]
    copies = [_np(a).copy() for a in held]
    out, (hn, cn) = m(x, (h0, c0))
    outs = [out, hn, cn]
    out_copies = [_np(a).copy() for a in outs]
    m.backward(g, (gh, gc))
    once = {k: _np(v).copy() for k, v in m.grads.items()}
    assert all(v.any() for v in once.values())
    m(x, (h0, c0))  # a second call, pending until the next backward
    m.backward(g, (gh, gc))
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
    # layer's state buffer hs[1:], which backward reads again (dW_hh = sum_t dz_t^T
    # h_{t-1}). A caller who scales or masks the output in place (out *= mask) silently
    # gets a wrong W_hh gradient; PyTorch raises instead. rnnlab.RNN and GRU share the
    # pattern; returning a copy of the output (or keeping one in the cache) would fix
    # it.
    m = LSTM(D, H, num_layers=num_layers, dtype=np.float64).to(device)
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
    for c in itertools.product(
        [1, 2, 3], [False, True], [True, False], ["none", "both"]
    )
] + [
    # num_layers, batch_first, bias, hx, dropout
    (1, False, True, "h0", 0.0),
    (2, True, False, "c0", 0.0),
    (3, False, True, "h0", 0.0),
    (2, False, True, "both", 0.5),
    (3, True, True, "none", 0.3),
    (3, False, False, "c0", 0.4),
]


@pytest.mark.parametrize("num_layers, batch_first, bias, hx, dropout", GRAD_CASES)
def test_gradients_by_finite_differences(
    xp, device, rng, on, num_layers, batch_first, bias, hx, dropout
):
    Tg, Ng, Dg, Hg = 3, 2, 2, 3  # every entry is perturbed twice: keep the arrays small
    m = LSTM(
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

    def s(want):
        if hx in ("both", want):
            return on(rng.standard_normal((num_layers, Ng, Hg)))
        return None

    inputs = (x,) if hx == "none" else (x, (s("h0"), s("c0")))
    errors = check_module(m, *inputs)
    # leaves x, h0, c0; None skipped
    checked = {"none": [0], "both": [0, 1, 2], "h0": [0, 1], "c0": [0, 2]}[hx]
    assert set(errors) == {f"param {k}" for k in m.params} | {
        f"input {i}" for i in checked
    }
    assert_gradients_close(errors, tol=1e-6)


@pytest.mark.parametrize("bias", [True, False])
def test_step_functions_match_finite_differences(xp, randn, bias):
    args = [
        randn(N, D),
        randn(N, H),
        randn(N, H),
        randn(4 * H, D, scale=0.5),
        randn(4 * H, H, scale=0.5),
    ]
    args += [randn(4 * H)] if bias else []
    dh, dc = randn(N, H), randn(N, H)
    full = args if bias else args + [None]

    def loss():
        h, c, _ = lstm_step_forward(*full)
        return float((h * dh).sum() + (c * dc).sum())

    h, c, cache = lstm_step_forward(*full)
    assert h.shape == c.shape == (N, H)
    # dx, dh_prev, dc_prev, dW_xh, dW_hh, db_h
    grads = lstm_step_backward(dh, dc, cache)
    assert len(grads) == 6
    if not bias:
        assert grads[5] is None
    for name, arr, ana in zip(
        ["x", "h_prev", "c_prev", "W_xh", "W_hh", "b_h"], args, grads
    ):
        assert ana.shape == arr.shape, name
        assert relative_error(ana, numerical_gradient(loss, arr)) < 1e-7, name


def test_step_forward_value(xp, randn):
    x, h, c, Wx, Wh, b = (
        randn(N, D),
        randn(N, H),
        randn(N, H),
        randn(4 * H, D),
        randn(4 * H, H),
        randn(4 * H),
    )
    h1, c1, _ = lstm_step_forward(x, h, c, Wx, Wh, b)
    x, h, c, Wx, Wh, b = (_np(a) for a in (x, h, c, Wx, Wh, b))
    z = x @ Wx.T + h @ Wh.T + b
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    i, f, g, o = (
        sig(z[:, :H]),
        sig(z[:, H : 2 * H]),
        np.tanh(z[:, 2 * H : 3 * H]),
        sig(z[:, 3 * H :]),
    )
    c_ref = f * c + i * g
    np.testing.assert_allclose(_np(c1), c_ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(_np(h1), o * np.tanh(c_ref), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cell_gradients(xp, device, randn, bias, with_hx):
    cell = LSTMCell(D, H, bias=bias, dtype=np.float64).to(device)
    inputs = (randn(N, D), (randn(N, H), randn(N, H))) if with_hx else (randn(N, D),)
    errors = check_module(cell, *inputs)
    expected = {"param W_xh", "param W_hh", "input 0"}
    expected |= {"param b_h"} if bias else set()
    expected |= {"input 1", "input 2"} if with_hx else set()
    assert set(errors) == expected
    assert_gradients_close(errors, tol=1e-6)


def test_cell_equals_the_step_functions(xp, device, randn):
    cell = LSTMCell(D, H, dtype=np.float64).to(device)
    x, h, c, dh, dc = randn(N, D), randn(N, H), randn(N, H), randn(N, H), randn(N, H)
    h1, c1 = cell(x, (h, c))
    p = cell.params
    rh, rc, cache = lstm_step_forward(x, h, c, p["W_xh"], p["W_hh"], p["b_h"])
    np.testing.assert_array_equal(_np(h1), _np(rh))
    np.testing.assert_array_equal(_np(c1), _np(rc))
    dx, (dh_prev, dc_prev) = cell.backward(dh, dc)
    rdx, rdh, rdc, rWx, rWh, rb = lstm_step_backward(dh, dc, cache)
    for got, want in [
        (dx, rdx),
        (dh_prev, rdh),
        (dc_prev, rdc),
        (cell.grads["W_xh"], rWx),
        (cell.grads["W_hh"], rWh),
        (cell.grads["b_h"], rb),
    ]:
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-14, atol=1e-15)


def test_cell_defaults_are_zeros(xp, device, randn):
    cell = LSTMCell(D, H, dtype=np.float64).to(device)
    x, dh = randn(N, D), randn(N, H)
    z = xp.zeros((N, H))
    h1, c1 = cell(x)
    h2, c2 = cell(x, (z, z))
    np.testing.assert_array_equal(_np(h1), _np(h2))
    np.testing.assert_array_equal(_np(c1), _np(c2))
    a = cell.backward(dh, z)
    b = cell.backward(dh)  # dc=None means zeros
    for u, v in zip(a[1] + (a[0],), b[1] + (b[0],)):
        np.testing.assert_array_equal(_np(u), _np(v))


def test_cell_float32_keeps_dtype(xp, device, randn):
    cell = LSTMCell(D, H).to(device)
    h, c = cell(randn(N, D, dtype=np.float32))
    dx, (dh, dc) = cell.backward(
        randn(N, H, dtype=np.float32), randn(N, H, dtype=np.float32)
    )
    assert (
        h.dtype
        == c.dtype
        == dx.dtype
        == dh.dtype
        == dc.dtype
        == cell.grads["W_hh"].dtype
        == np.float32
    )


# -------------------------------------------------------- step by step = whole sequence
def _cells_like(lstm):
    """One LSTMCell per layer holding the weights of ``lstm``."""
    cells = []
    for l in range(lstm.num_layers):
        d_in = lstm.input_size if l == 0 else lstm.hidden_size
        cell = LSTMCell(d_in, lstm.hidden_size, bias=lstm.bias, dtype=lstm.dtype).to(
            lstm.device
        )
        for ours, theirs in [("W_xh", "W_xh_l"), ("W_hh", "W_hh_l")] + (
            [("b_h", "b_h_l")] if lstm.bias else []
        ):
            cell.params[ours][...] = lstm.params[f"{theirs}{l}"]
        cells.append(cell)
    return cells


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_step_by_step_equal_the_whole_sequence(
    xp, device, randn, num_layers, bias
):
    L = num_layers
    lstm = LSTM(D, H, num_layers=L, bias=bias, dtype=np.float64).to(device)
    cells = _cells_like(lstm)
    x, h0, c0 = randn(T, N, D), randn(L, N, H), randn(L, N, H)
    dout, dh_n, dc_n = randn(T, N, H), randn(L, N, H), randn(L, N, H)

    out, (h_n, c_n) = lstm(x, (h0, c0))
    inp = [x[t] for t in range(T)]
    finals = []
    # each layer's cell over time, feeding the next layer
    for l, cell in enumerate(cells):
        h, c, outs = h0[l], c0[l], []
        for t in range(T):
            h, c = cell(inp[t], (h, c))
            outs.append(h)
        finals.append((h, c))
        inp = outs
    tol = dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(out), np.stack([_np(o) for o in inp]), **tol)
    np.testing.assert_allclose(_np(h_n), np.stack([_np(f[0]) for f in finals]), **tol)
    np.testing.assert_allclose(_np(c_n), np.stack([_np(f[1]) for f in finals]), **tol)

    dx, (dh0, dc0) = lstm.backward(dout, (dh_n, dc_n))
    d_above = [dout[t] for t in range(T)]
    d_first = [None] * L
    for l in range(L - 1, -1, -1):  # top layer first, each in reverse time
        dh, dc, dxs = dh_n[l], dc_n[l], [None] * T
        for t in range(T - 1, -1, -1):
            dxs[t], (dh, dc) = cells[l].backward(d_above[t] + dh, dc)
        d_first[l] = (dh, dc)
        d_above = dxs
    tol = dict(rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(_np(dx), np.stack([_np(d) for d in d_above]), **tol)
    np.testing.assert_allclose(_np(dh0), np.stack([_np(d[0]) for d in d_first]), **tol)
    np.testing.assert_allclose(_np(dc0), np.stack([_np(d[1]) for d in d_first]), **tol)
    for l, cell in enumerate(cells):
        for k in cell.params:
            np.testing.assert_allclose(
                _np(cell.grads[k]), _np(lstm.grads[f"{k}_l{l}"]), err_msg=k, **tol
            )
        # every cached step was consumed
        with pytest.raises(RuntimeError, match="with no pending forward"):
            cell.backward(dout[0])


# ---------------------------------------------------------------------- against PyTorch
def _torch_lstm(torch, tm, x, h0, c0, gout, ghn, gcn):
    """Outputs and gradients of torch.nn.LSTM.

    For L = <out, gout> + <h_n, ghn> + <c_n, gcn>.
    """
    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = (
        torch.tensor(h0, requires_grad=True),
        torch.tensor(c0, requires_grad=True),
    )
    out, (hn, cn) = tm(xt, (h0t, c0t))
    loss = (out * torch.tensor(gout)).sum()
    if ghn is not None:
        loss = loss + (hn * torch.tensor(ghn)).sum()
    if gcn is not None:
        loss = loss + (cn * torch.tensor(gcn)).sum()
    tm.zero_grad()
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in tm.named_parameters()}
    d = lambda a: a.detach().numpy()  # noqa: E731
    return dict(
        out=d(out),
        h_n=d(hn),
        c_n=d(cn),
        dx=d(xt.grad),
        dh0=d(h0t.grad),
        dc0=d(c0t.grad),
    ), grads


def _compare_with_torch(
    torch, tm, m, device, dtype, seed, hx_mode="both", dhx_mode="both"
):
    """Run ``tm`` and ``m`` (same weights) on the same data and compare everything."""
    L, Nn, Tn, Dn, Hn = m.num_layers, 3, 5, m.input_size, m.hidden_size
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((Nn, Tn, Dn) if m.batch_first else (Tn, Nn, Dn)).astype(
        dtype
    )
    gout = rng.standard_normal((Nn, Tn, Hn) if m.batch_first else (Tn, Nn, Hn)).astype(
        dtype
    )
    s = lambda: rng.standard_normal((L, Nn, Hn)).astype(dtype)  # noqa: E731
    z = np.zeros((L, Nn, Hn), dtype)
    h0, c0, ghn, gcn = s(), s(), s(), s()
    h0 = h0 if hx_mode in ("both", "h0") else z
    c0 = c0 if hx_mode in ("both", "c0") else z
    ghn = ghn if dhx_mode in ("both", "h") else None
    gcn = gcn if dhx_mode in ("both", "c") else None
    # torch gets explicit zero states where rnnlab gets None: the same function, and it
    # gives dh0, dc0
    want, grads_t = _torch_lstm(torch, tm, x, h0, c0, gout, ghn, gcn)

    on = lambda a: None if a is None else rnnlab.to_device(a, device)  # noqa: E731
    hx = {
        "none": None,
        "both": (on(h0), on(c0)),
        "h0": (on(h0), None),
        "c0": (None, on(c0)),
    }[hx_mode]
    d_hx = None if dhx_mode == "none" else (on(ghn), on(gcn))
    m.zero_grad()
    out, (hn, cn) = m(on(x), hx)
    dx, (dh0, dc0) = m.backward(on(gout), d_hx)
    got = dict(out=out, h_n=hn, c_n=cn, dx=dx, dh0=dh0, dc0=dc0)
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
@pytest.mark.parametrize("num_layers, batch_first, with_hx, with_dhx", TORCH_CASES)
def test_equals_torch_lstm(
    xp, device, torch, direction, dtype, num_layers, batch_first, with_hx, with_dhx
):
    tdtype = getattr(torch, np.dtype(dtype).name)
    if direction == "from_torch":
        torch.manual_seed(100 * num_layers + 7)
        tm = torch.nn.LSTM(
            4, 6, num_layers=num_layers, batch_first=batch_first, dtype=tdtype
        )
        m = interop.from_torch(tm).to(device)
    else:
        rnnlab.seed(100 * num_layers + 8)
        m = LSTM(4, 6, num_layers=num_layers, batch_first=batch_first, dtype=dtype)
        tm = interop.to_torch(m)
        m.to(device)
        assert isinstance(tm, torch.nn.LSTM)
    assert (
        m.dtype == dtype and m.batch_first == batch_first and m.num_layers == num_layers
    )
    _compare_with_torch(
        torch,
        tm,
        m,
        device,
        dtype,
        seed=num_layers,
        hx_mode="both" if with_hx else "none",
        dhx_mode="both" if with_dhx else "none",
    )


@pytest.mark.parametrize(
    "hx_mode, dhx_mode", [("h0", "c"), ("c0", "h"), ("h0", "h"), ("c0", "c")]
)
def test_equals_torch_with_partial_states(xp, device, torch, hx_mode, dhx_mode):
    torch.manual_seed(11)
    tm = torch.nn.LSTM(D, H, num_layers=2, dtype=torch.float64)
    _compare_with_torch(
        torch,
        tm,
        interop.from_torch(tm).to(device),
        device,
        np.float64,
        seed=3,
        hx_mode=hx_mode,
        dhx_mode=dhx_mode,
    )


@pytest.mark.parametrize("batch_first", [False, True])
def test_equals_torch_in_eval_mode_with_dropout(xp, device, torch, batch_first):
    torch.manual_seed(3)
    tm = torch.nn.LSTM(
        D, H, num_layers=3, dropout=0.4, batch_first=batch_first, dtype=torch.float64
    ).eval()
    m = interop.from_torch(tm).to(device)
    assert not m.training and m.dropout == 0.4
    _compare_with_torch(torch, tm, m, device, np.float64, seed=5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_equals_torch_without_bias(xp, device, torch, dtype):
    torch.manual_seed(4)
    tm = torch.nn.LSTM(
        D, H, num_layers=2, bias=False, dtype=getattr(torch, np.dtype(dtype).name)
    )
    m = interop.from_torch(tm).to(device)
    assert set(m.params) == {"W_xh_l0", "W_hh_l0", "W_xh_l1", "W_hh_l1"}
    _compare_with_torch(torch, tm, m, device, dtype, seed=6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_equals_torch_lstmcell(xp, device, torch, dtype, bias):
    torch.manual_seed(7)
    tcell = torch.nn.LSTMCell(
        D, H, bias=bias, dtype=getattr(torch, np.dtype(dtype).name)
    )
    cell = LSTMCell(D, H, bias=bias, dtype=dtype)
    cell.params["W_xh"][...] = tcell.weight_ih.detach().numpy()
    cell.params["W_hh"][...] = tcell.weight_hh.detach().numpy()
    if bias:
        cell.params["b_h"][...] = (tcell.bias_ih + tcell.bias_hh).detach().numpy()
    cell.to(device)
    rng = np.random.default_rng(8)
    steps = 3
    xs = rng.standard_normal((steps, N, D)).astype(dtype)
    h0, c0 = (
        rng.standard_normal((N, H)).astype(dtype),
        rng.standard_normal((N, H)).astype(dtype),
    )
    gh, gc = (
        rng.standard_normal((steps, N, H)).astype(dtype),
        rng.standard_normal((N, H)).astype(dtype),
    )

    # torch: L = sum_t <h_t, gh_t> + <c_T, gc>
    xt = torch.tensor(xs, requires_grad=True)
    h0t, c0t = (
        torch.tensor(h0, requires_grad=True),
        torch.tensor(c0, requires_grad=True),
    )
    ht, ct, loss, hs_t = h0t, c0t, 0, []
    for t in range(steps):
        ht, ct = tcell(xt[t], (ht, ct))
        hs_t.append(ht.detach().numpy())
        loss = loss + (ht * torch.tensor(gh[t])).sum()
    loss = loss + (ct * torch.tensor(gc)).sum()
    loss.backward()

    on = lambda a: rnnlab.to_device(a, device)  # noqa: E731
    h, c, hs = on(h0), on(c0), []
    for t in range(steps):
        h, c = cell(on(xs[t]), (h, c))
        hs.append(_np(h))
    dh, dc, dxs = xp.zeros((N, H), dtype), on(gc), [None] * steps
    for t in range(steps - 1, -1, -1):
        dxs[t], (dh, dc) = cell.backward(on(gh[t]) + dh, dc)

    check = _close(dtype)
    check(np.stack(hs), np.stack(hs_t), "h")
    check(_np(c), ct.detach().numpy(), "c")
    check(np.stack([_np(d) for d in dxs]), xt.grad.numpy(), "dx")
    check(_np(dh), h0t.grad.numpy(), "dh0")
    check(_np(dc), c0t.grad.numpy(), "dc0")
    check(_np(cell.grads["W_xh"]), tcell.weight_ih.grad.numpy(), "weight_ih")
    check(_np(cell.grads["W_hh"]), tcell.weight_hh.grad.numpy(), "weight_hh")
    if bias:  # b_h = bias_ih + bias_hh, so both torch biases get b_h's gradient
        check(_np(cell.grads["b_h"]), tcell.bias_ih.grad.numpy(), "bias_ih")
        check(_np(cell.grads["b_h"]), tcell.bias_hh.grad.numpy(), "bias_hh")


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
    m = LSTM(
        D,
        H,
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        dropout=dropout,
        dtype=dtype,
    ).train(training)
    tm = interop.to_torch(m)
    assert isinstance(tm, torch.nn.LSTM)
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
    assert type(back) is LSTM
    assert (
        back.num_layers,
        back.bias,
        back.batch_first,
        back.dropout,
        back.training,
    ) == (num_layers, bias, batch_first, dropout, training)
    assert list(back.params) == list(m.params)
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
    tm = torch.nn.LSTM(
        D,
        H,
        num_layers=num_layers,
        batch_first=batch_first,
        dtype=getattr(torch, np.dtype(dtype).name),
    )
    tm2 = interop.to_torch(interop.from_torch(tm))
    assert (
        isinstance(tm2, torch.nn.LSTM)
        and tm2.batch_first == batch_first
        and tm2.num_layers == num_layers
    )
    rng = np.random.default_rng(0)
    x = torch.tensor(
        rng.standard_normal((N, T, D) if batch_first else (T, N, D)).astype(dtype)
    )
    hx = tuple(
        torch.tensor(rng.standard_normal((num_layers, N, H)).astype(dtype))
        for _ in range(2)
    )
    with torch.no_grad():
        out, (hn, cn) = tm(x, hx)
        out2, (hn2, cn2) = tm2(x, hx)
    # the two PyTorch bias vectors are folded into one, so only the rounding of b_ih +
    # b_hh differs
    for a, b in [(out2, out), (hn2, hn), (cn2, cn)]:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)
    sd, sd2 = tm.state_dict(), tm2.state_dict()
    assert list(sd) == list(sd2)
    for k in sd:
        if k.startswith("weight"):
            assert torch.equal(sd[k], sd2[k]), k
    for l in range(num_layers):
        torch.testing.assert_close(
            sd2[f"bias_ih_l{l}"] + sd2[f"bias_hh_l{l}"],
            sd[f"bias_ih_l{l}"] + sd[f"bias_hh_l{l}"],
            rtol=0,
            atol=0,
        )
        assert not sd2[f"bias_hh_l{l}"].any()


@pytest.mark.parametrize("bias", [True, False])
def test_torch_state_dict_has_torchs_keys_and_shapes(torch, bias):
    m = LSTM(D, H, num_layers=3, bias=bias)
    theirs = torch.nn.LSTM(D, H, num_layers=3, bias=bias).state_dict()
    for grads in (False, True):
        ours = interop.torch_state_dict(m, grads=grads)
        assert list(ours) == list(theirs)
        for k in theirs:
            assert ours[k].shape == tuple(theirs[k].shape), k
            assert ours[k].dtype == np.float32, k


def test_torch_state_dict_values_and_bias_split(torch):
    m = LSTM(D, H, num_layers=1)
    for v in m.grads.values():
        v[...] = np.arange(v.size, dtype=v.dtype).reshape(v.shape)
    sd = interop.torch_state_dict(m)
    np.testing.assert_array_equal(sd["weight_ih_l0"], m.params["W_xh_l0"])
    np.testing.assert_array_equal(sd["weight_hh_l0"], m.params["W_hh_l0"])
    np.testing.assert_array_equal(sd["bias_ih_l0"], m.params["b_h_l0"])
    assert not sd["bias_hh_l0"].any()
    g = interop.torch_state_dict(m, grads=True)
    np.testing.assert_array_equal(g["weight_hh_l0"], m.grads["W_hh_l0"])
    np.testing.assert_array_equal(g["bias_ih_l0"], m.grads["b_h_l0"])
    # dL/db_hh = dL/db_ih = dL/db_h
    np.testing.assert_array_equal(g["bias_hh_l0"], m.grads["b_h_l0"])
    sd["weight_ih_l0"][...] = 0  # a copy, not a view of the module's arrays
    assert m.params["W_xh_l0"].any()


def test_from_torch_sums_the_two_biases(torch):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(D, H, num_layers=2, dtype=torch.float64)
    m = interop.from_torch(tm)
    sd = tm.state_dict()
    for l in range(2):
        np.testing.assert_array_equal(
            m.params[f"b_h_l{l}"], (sd[f"bias_ih_l{l}"] + sd[f"bias_hh_l{l}"]).numpy()
        )
        np.testing.assert_array_equal(
            m.params[f"W_hh_l{l}"], sd[f"weight_hh_l{l}"].numpy()
        )
        np.testing.assert_array_equal(
            m.params[f"W_xh_l{l}"], sd[f"weight_ih_l{l}"].numpy()
        )


def test_training_flag_is_carried_over(torch):
    tm = torch.nn.LSTM(D, H)
    assert interop.from_torch(tm.train()).training
    assert not interop.from_torch(tm.eval()).training
    assert interop.to_torch(LSTM(D, H)).training
    assert not interop.to_torch(LSTM(D, H).eval()).training


def test_from_torch_rejects_proj_size(torch):
    with pytest.raises(ValueError, match="proj_size"):
        interop.from_torch(torch.nn.LSTM(D, H, proj_size=2))


# --------------------------------------------------------------------------- dropout
def test_dropout_is_live_in_training_and_off_in_eval(xp, device, randn):
    m = LSTM(D, H, num_layers=3, dropout=0.5, dtype=np.float64).to(device)
    ref = LSTM(D, H, num_layers=3, dtype=np.float64).to(device)
    ref.load_state_dict(m.state_dict())
    x, g = randn(T, N, D), randn(T, N, H)
    out_ref, (hn_ref, cn_ref) = ref(x)
    dx_ref, _ = ref.backward(g)
    out_train, (hn_train, cn_train) = m(x)
    # dropout changes the training output
    assert not np.allclose(_np(out_train), _np(out_ref))
    dx_train, _ = m.backward(g)
    # and the gradient (through the same masks)
    assert not np.allclose(_np(dx_train), _np(dx_ref))
    # layer 0 is before any dropout
    np.testing.assert_array_equal(_np(hn_train[0]), _np(hn_ref[0]))
    np.testing.assert_array_equal(_np(cn_train[0]), _np(cn_ref[0]))
    out_again, _ = m(x)
    # a fresh mask every forward
    assert not np.array_equal(_np(out_again), _np(out_train))
    m.eval()
    m.zero_grad()
    out_eval, (hn_eval, cn_eval) = m(x)
    dx_eval, _ = m.backward(g)
    for a, b in [
        (out_eval, out_ref),
        (hn_eval, hn_ref),
        (cn_eval, cn_ref),
        (dx_eval, dx_ref),
    ]:
        np.testing.assert_array_equal(_np(a), _np(b))
    for k in m.grads:
        np.testing.assert_array_equal(_np(m.grads[k]), _np(ref.grads[k]))


def test_dropout_applies_between_layers_only(xp, device, randn):
    m = LSTM(D, H, num_layers=1, dropout=0.5, dtype=np.float64).to(device)
    x = randn(T, N, D)
    out_train, (hn_train, cn_train) = m(x)
    out_eval, (hn_eval, cn_eval) = m.eval()(x)
    np.testing.assert_array_equal(_np(out_train), _np(out_eval))
    np.testing.assert_array_equal(_np(cn_train), _np(cn_eval))


# --------------------------------------------------------------------------- bad input
def _x(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


def test_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"\bx\b must have 3 dimensions \(T, N, input_size\), got shape \(4, 3\)",
    ):
        LSTM(D, H)(_x(T, D))
    with pytest.raises(
        ValueError, match=r"\bx\b must have 3 dimensions \(N, T, input_size\)"
    ):
        LSTM(D, H, batch_first=True)(_x(T, N, D, 1))


def test_wrong_input_size():
    with pytest.raises(
        ValueError, match=r"\bx\b has size 5 in its last dimension, expected 3"
    ):
        LSTM(D, H)(_x(T, N, 5))


@pytest.mark.parametrize("shape", [(1, N, H), (2, N + 1, H), (2, N, H + 1), (N, H)])
@pytest.mark.parametrize("which", ["h0", "c0"])
def test_wrong_initial_state_shape(shape, which):
    good, bad = _x(2, N, H), _x(*shape)
    hx = (bad, good) if which == "h0" else (good, bad)
    with pytest.raises(
        ValueError, match=rf"\b{which}\b has shape .*, expected \(2, 3, 4\)"
    ):
        LSTM(D, H, num_layers=2)(_x(T, N, D), hx)
    hx = (bad, None) if which == "h0" else (None, bad)  # partial states are checked too
    with pytest.raises(ValueError, match=rf"\b{which}\b has shape"):
        LSTM(D, H, num_layers=2)(_x(T, N, D), hx)


@pytest.mark.parametrize(
    "hx",
    [_x(1, N, H), [_x(1, N, H), _x(1, N, H)], (_x(1, N, H),), (_x(1, N, H),) * 3],
    ids=["array", "list", "1-tuple", "3-tuple"],
)
def test_hx_not_a_pair(hx):
    with pytest.raises(TypeError, match=r"expected a tuple \(h0, c0\)"):
        LSTM(D, H)(_x(T, N, D), hx)


def test_wrong_dtype():
    with pytest.raises(
        TypeError,
        match=r"\bx\b has dtype float64 but the module's parameters are float32",
    ):
        LSTM(D, H)(_x(T, N, D, dtype=np.float64))
    with pytest.raises(TypeError, match=r"\bh0\b has dtype float64"):
        LSTM(D, H)(_x(T, N, D), (_x(1, N, H, dtype=np.float64), _x(1, N, H)))
    with pytest.raises(TypeError, match=r"\bc0\b has dtype float64"):
        LSTM(D, H)(_x(T, N, D), (_x(1, N, H), _x(1, N, H, dtype=np.float64)))
    with pytest.raises(TypeError, match=r"\bx\b has dtype int64"):
        LSTM(D, H)(_x(T, N, D, dtype=np.int64))
    with pytest.raises(
        TypeError, match=r"\bx\b must be a NumPy or CuPy array, got list"
    ):
        LSTM(D, H)(_x(T, N, D).tolist())


def test_device_mismatch(need_cuda):
    cupy = need_cuda
    m = LSTM(D, H).to("cuda")
    with pytest.raises(
        ValueError, match=r"\bx\b is on cpu but the module's parameters are on cuda"
    ):
        m(_x(T, N, D))
    with pytest.raises(ValueError, match=r"\bc0\b is on cpu"):
        m(
            cupy.zeros((T, N, D), np.float32),
            (cupy.zeros((1, N, H), np.float32), _x(1, N, H)),
        )


@pytest.mark.parametrize("shape", [(0, N, D), (T, 0, D)], ids=["T=0", "N=0"])
def test_empty_sequence_or_batch(shape):
    with pytest.raises(ValueError, match=r"\bx\b is empty"):
        LSTM(D, H)(_x(*shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(bad):
    x = _x(T, N, D)
    x[2, 1, 0] = bad
    with pytest.raises(ValueError, match=r"\bx\b contains NaN or infinite values"):
        LSTM(D, H)(x)
    c0 = _x(1, N, H)
    c0[0, 0, 0] = bad
    with pytest.raises(ValueError, match=r"\bc0\b contains NaN or infinite values"):
        LSTM(D, H)(_x(T, N, D), (None, c0))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(input_size=0, hidden_size=4),
            r"\binput_size\b must be a positive integer",
        ),
        (
            dict(input_size=3, hidden_size=4, num_layers=0),
            r"\bnum_layers\b must be a positive integer",
        ),
        (
            dict(input_size=3, hidden_size=4, num_layers=2, dropout=1.0),
            r"\bdropout\b must be in \[0, 1\)",
        ),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTM(**kwargs)


def test_backward_before_forward():
    with pytest.raises(
        RuntimeError, match="LSTM.backward called with no pending forward"
    ):
        LSTM(D, H).backward(_x(T, N, H))


@pytest.mark.parametrize("batch_first", [False, True])
def test_wrong_d_output_shape(batch_first):
    m = LSTM(D, H, num_layers=2, batch_first=batch_first)
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


@pytest.mark.parametrize("which", ["d_h_n", "d_c_n"])
def test_wrong_final_state_gradient_shape(which):
    m = LSTM(D, H, num_layers=2)
    m(_x(T, N, D))
    good, bad = _x(2, N, H), _x(1, N, H)
    d_hx = (bad, good) if which == "d_h_n" else (good, bad)
    with pytest.raises(
        ValueError, match=rf"\b{which}\b has shape \(1, 3, 4\), expected \(2, 3, 4\)"
    ):
        m.backward(_x(T, N, H), d_hx)
    d_hx = (bad, None) if which == "d_h_n" else (None, bad)
    with pytest.raises(ValueError, match=rf"\b{which}\b has shape"):
        m.backward(_x(T, N, H), d_hx)
    with pytest.raises(TypeError, match=r"expected a tuple \(d_h_n, d_c_n\)"):
        m.backward(_x(T, N, H), good)


# ---------------------------------------------------------------- bad input to the cell
def test_cell_wrong_input():
    cell = LSTMCell(D, H)
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
    with pytest.raises(TypeError, match=r"\bx\b has dtype float64"):
        cell(_x(N, D, dtype=np.float64))


def test_cell_wrong_states():
    cell = LSTMCell(D, H)
    with pytest.raises(
        ValueError, match=r"\bh\b has shape \(3, 5\), expected \(3, 4\)"
    ):
        cell(_x(N, D), (_x(N, H + 1), _x(N, H)))
    with pytest.raises(
        ValueError, match=r"\bc\b has shape \(2, 4\), expected \(3, 4\)"
    ):
        cell(_x(N, D), (_x(N, H), _x(N - 1, H)))
    with pytest.raises(
        TypeError, match=r"\bhx\b must be a tuple \(h, c\), got ndarray"
    ):
        cell(_x(N, D), _x(N, H))
    with pytest.raises(TypeError, match=r"\bhx\b must be a tuple \(h, c\), got list"):
        cell(_x(N, D), [_x(N, H), _x(N, H)])
    c = _x(N, H)
    c[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"\bc\b contains NaN"):
        cell(_x(N, D), (_x(N, H), c))


def test_cell_backward_more_times_than_forward():
    cell = LSTMCell(D, H)
    with pytest.raises(
        RuntimeError, match="LSTMCell.backward called with no pending forward"
    ):
        cell.backward(_x(N, H))
    cell(_x(N, D))
    cell(_x(N, D))
    cell.backward(_x(N, H))
    cell.backward(_x(N, H))
    with pytest.raises(RuntimeError, match="with no pending forward"):
        cell.backward(_x(N, H))


def test_cell_backward_wrong_gradient_shapes():
    cell = LSTMCell(D, H)
    cell(_x(N, D))
    with pytest.raises(ValueError, match=r"\bdh\b has shape \(4,\), expected \(3, 4\)"):
        cell.backward(_x(H))
    with pytest.raises(ValueError, match=r"\bdc\b has shape \(4,\), expected \(3, 4\)"):
        cell.backward(_x(N, H), _x(H))
    with pytest.raises(TypeError, match=r"\bdh\b has dtype float64"):
        cell.backward(_x(N, H, dtype=np.float64))
    cell.backward(_x(N, H))  # the failed calls consumed nothing
