"""rnnlab.RNN: shapes, finite-difference gradients, equality with torch.nn.RNN.

Also dropout and bad input.
"""

import itertools

import numpy as np
import pytest

import rnnlab
from rnnlab import RNN, Linear, assert_gradients_close, check_module, interop
from _helpers import close as _close

T, N, D, H = 4, 3, 3, 4


def _np(a):
    return rnnlab.to_numpy(a)


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes_and_final_state(xp, device, randn, num_layers, batch_first):
    m = RNN(D, H, num_layers=num_layers, batch_first=batch_first).to(device)
    x = (
        randn(N, T, D, dtype=np.float32)
        if batch_first
        else randn(T, N, D, dtype=np.float32)
    )
    out, h_n = m(x)
    assert out.shape == ((N, T, H) if batch_first else (T, N, H))
    assert h_n.shape == (num_layers, N, H)
    assert out.dtype == h_n.dtype == np.float32
    last = out[:, -1] if batch_first else out[-1]
    np.testing.assert_array_equal(_np(h_n[-1]), _np(last))
    dx, dh0 = m.backward(xp.ones_like(out))
    assert dx.shape == x.shape and dh0.shape == (num_layers, N, H)
    assert dx.dtype == dh0.dtype == np.float32


def test_parameters_follow_torch_layout():
    m = RNN(3, 5, num_layers=2)
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {
        "W_xh_l0": (5, 3),
        "W_hh_l0": (5, 5),
        "b_h_l0": (5,),
        "W_xh_l1": (5, 5),
        "W_hh_l1": (5, 5),
        "b_h_l1": (5,),
    }
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in m.params.values())
    assert set(RNN(3, 5, bias=False).params) == {"W_xh_l0", "W_hh_l0"}


def test_batch_first_is_a_transpose(xp, device, randn):
    rnnlab.seed(1)
    a = RNN(D, H, num_layers=2, dtype=np.float64).to(device)
    rnnlab.seed(1)
    b = RNN(D, H, num_layers=2, batch_first=True, dtype=np.float64).to(device)
    x, h0, g = randn(T, N, D), randn(2, N, H), randn(T, N, H)
    out_a, hn_a = a(x, h0)
    out_b, hn_b = b(x.transpose(1, 0, 2).copy(), h0)
    np.testing.assert_array_equal(_np(out_b), _np(out_a).transpose(1, 0, 2))
    np.testing.assert_array_equal(_np(hn_b), _np(hn_a))
    dx_a, dh_a = a.backward(g)
    dx_b, dh_b = b.backward(g.transpose(1, 0, 2).copy())
    np.testing.assert_allclose(
        _np(dx_b), _np(dx_a).transpose(1, 0, 2), rtol=1e-14, atol=1e-15
    )
    np.testing.assert_allclose(_np(dh_b), _np(dh_a), rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------- gradients
GRAD_CASES = [
    # num_layers, nonlinearity, batch_first, bias, with_h0, dropout
    (1, "tanh", False, True, True, 0.0),
    (1, "relu", False, True, False, 0.0),
    (2, "tanh", True, True, True, 0.0),
    (2, "relu", True, False, True, 0.0),
    (3, "tanh", False, False, False, 0.0),
    (3, "relu", False, True, True, 0.0),
    (2, "tanh", False, True, True, 0.5),
    (3, "relu", True, True, True, 0.3),
]


@pytest.mark.parametrize(
    "num_layers, nonlinearity, batch_first, bias, with_h0, dropout", GRAD_CASES
)
def test_gradients_by_finite_differences(
    xp, device, randn, num_layers, nonlinearity, batch_first, bias, with_h0, dropout
):
    m = RNN(
        D,
        H,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        batch_first=batch_first,
        dropout=dropout,
        dtype=np.float64,
    ).to(device)
    # with dropout > 0 the masks are live; check_module reseeds so they stay fixed
    assert m.training
    x = randn(N, T, D) if batch_first else randn(T, N, D)
    inputs = (x, randn(num_layers, N, H)) if with_h0 else (x,)
    errors = check_module(m, *inputs)
    assert set(errors) == {f"param {k}" for k in m.params} | {
        f"input {i}" for i in range(len(inputs))
    }
    assert_gradients_close(errors, tol=1e-6)


def test_dropout_is_live_in_training_and_off_in_eval(xp, device, randn):
    m = RNN(D, H, num_layers=3, dropout=0.5, dtype=np.float64).to(device)
    ref = RNN(D, H, num_layers=3, dtype=np.float64).to(device)
    ref.load_state_dict(m.state_dict())
    x = randn(T, N, D)
    out_ref, hn_ref = ref(x)
    out_train, hn_train = m(x)
    # dropout changes the training output
    assert not np.allclose(_np(out_train), _np(out_ref))
    # layer 0 is before any dropout
    np.testing.assert_array_equal(_np(hn_train[0]), _np(hn_ref[0]))
    m.eval()
    out_eval, hn_eval = m(x)
    np.testing.assert_array_equal(_np(out_eval), _np(out_ref))
    np.testing.assert_array_equal(_np(hn_eval), _np(hn_ref))


def test_dropout_applies_between_layers_only(xp, device, randn):
    m = RNN(D, H, num_layers=1, dropout=0.5, dtype=np.float64).to(device)
    x = randn(T, N, D)
    out_train, _ = m(x)
    out_eval, _ = m.eval()(x)
    np.testing.assert_array_equal(_np(out_train), _np(out_eval))


def test_backward_accumulates_and_leaves_output_alone(xp, device, randn):
    m = RNN(D, H, num_layers=2, dtype=np.float64).to(device)
    x, g = randn(T, N, D), randn(T, N, H)
    out, _ = m(x)
    out_copy, g_copy, x_copy = _np(out).copy(), _np(g).copy(), _np(x).copy()
    m.backward(g)
    once = {k: _np(v).copy() for k, v in m.grads.items()}
    m(x)  # a second call, pending until the next backward
    m.backward(g)
    for k, v in m.grads.items():
        np.testing.assert_allclose(_np(v), 2 * once[k], rtol=1e-14, atol=1e-15)
    for a, b in [(out, out_copy), (g, g_copy), (x, x_copy)]:
        # nothing the caller holds is overwritten
        np.testing.assert_array_equal(_np(a), b)


def test_seeded_sequence_problem_loss_goes_down(xp, device, on):
    # Predict the running sum of a random sequence at every step: needs memory across
    # time.
    rnnlab.seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 16, 1)).astype(np.float32)
    y = np.cumsum(x, axis=0) / 4
    rnn, head = RNN(1, 16).to(device), Linear(16, 1).to(device)
    opt = rnnlab.Adam(rnn.parameters() + head.parameters(), lr=0.02)
    x, y = on(x), on(y)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        h, _ = rnn(x)
        loss, dpred = rnnlab.mse(head(h), y)
        rnn.backward(head.backward(dpred))
        opt.step()
        losses.append(loss)
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.2 * losses[0]


# ---------------------------------------------------------------------- against PyTorch
def _torch_reference(torch, tm, x, h0, gout, ghn):
    """Outputs and gradients of torch.nn.RNN for L = <out, gout> + <h_n, ghn>."""
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    out, hn = tm(xt, h0t)
    loss = (out * torch.tensor(gout)).sum()
    if ghn is not None:
        loss = loss + (hn * torch.tensor(ghn)).sum()
    tm.zero_grad()
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in tm.named_parameters()}
    return (
        out.detach().numpy(),
        hn.detach().numpy(),
        xt.grad.numpy(),
        h0t.grad.numpy(),
        grads,
    )


TORCH_CASES = list(
    itertools.product(
        [1, 2, 3], ["tanh", "relu"], [False, True], [False, True], [False, True]
    )
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    "num_layers, nonlinearity, batch_first, with_h0, with_dhn", TORCH_CASES
)
def test_equals_torch_rnn(
    xp, device, torch, dtype, num_layers, nonlinearity, batch_first, with_h0, with_dhn
):
    Tn, Nn, Dn, Hn = 5, 3, 4, 6
    torch.manual_seed(100 * num_layers + 7)
    tm = torch.nn.RNN(
        Dn,
        Hn,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        batch_first=batch_first,
        dtype=getattr(torch, np.dtype(dtype).name),
    )
    m = interop.from_torch(tm).to(device)
    assert (
        m.dtype == dtype and m.batch_first == batch_first and m.num_layers == num_layers
    )

    rng = np.random.default_rng(num_layers)
    xshape = (Nn, Tn, Dn) if batch_first else (Tn, Nn, Dn)
    oshape = (Nn, Tn, Hn) if batch_first else (Tn, Nn, Hn)
    x = rng.standard_normal(xshape).astype(dtype)
    h0 = (
        rng.standard_normal((num_layers, Nn, Hn)).astype(dtype)
        if with_h0
        else np.zeros((num_layers, Nn, Hn), dtype)
    )
    gout = rng.standard_normal(oshape).astype(dtype)
    ghn = rng.standard_normal((num_layers, Nn, Hn)).astype(dtype) if with_dhn else None

    # torch gets an explicit zero h0 when rnnlab gets None: the same function, and it
    # gives dh0
    out_t, hn_t, dx_t, dh0_t, grads_t = _torch_reference(torch, tm, x, h0, gout, ghn)
    on = lambda a: None if a is None else rnnlab.to_device(a, device)  # noqa: E731
    out, hn = m(on(x), on(h0) if with_h0 else None)
    dx, dh0 = m.backward(on(gout), on(ghn))

    check = _close(dtype)
    check(_np(out), out_t, "output")
    check(_np(hn), hn_t, "h_n")
    check(_np(dx), dx_t, "dx")
    check(_np(dh0), dh0_t, "dh0")
    grads = interop.torch_state_dict(m, grads=True)
    assert list(grads) == list(grads_t)
    for k in grads_t:
        assert grads[k].dtype == dtype
        check(grads[k], grads_t[k], k)


@pytest.mark.parametrize("batch_first", [False, True])
def test_equals_torch_in_eval_mode_with_dropout(xp, device, torch, batch_first):
    torch.manual_seed(3)
    tm = torch.nn.RNN(
        D, H, num_layers=3, dropout=0.4, batch_first=batch_first, dtype=torch.float64
    ).eval()
    m = interop.from_torch(tm).to(device)
    assert not m.training and m.dropout == 0.4
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    h0 = rng.standard_normal((3, N, H))
    gout = rng.standard_normal((N, T, H) if batch_first else (T, N, H))
    out_t, hn_t, dx_t, dh0_t, grads_t = _torch_reference(torch, tm, x, h0, gout, None)
    out, hn = m(rnnlab.to_device(x, device), rnnlab.to_device(h0, device))
    dx, dh0 = m.backward(rnnlab.to_device(gout, device))
    check = _close(np.float64)
    check(_np(out), out_t, "output")
    check(_np(hn), hn_t, "h_n")
    check(_np(dx), dx_t, "dx")
    check(_np(dh0), dh0_t, "dh0")
    grads = interop.torch_state_dict(m, grads=True)
    for k in grads_t:
        check(grads[k], grads_t[k], k)


def test_equals_torch_without_bias(xp, device, torch):
    torch.manual_seed(4)
    tm = torch.nn.RNN(D, H, num_layers=2, bias=False, dtype=torch.float64)
    m = interop.from_torch(tm).to(device)
    rng = np.random.default_rng(6)
    x, h0, gout = (
        rng.standard_normal((T, N, D)),
        rng.standard_normal((2, N, H)),
        rng.standard_normal((T, N, H)),
    )
    out_t, hn_t, dx_t, dh0_t, grads_t = _torch_reference(torch, tm, x, h0, gout, None)
    out, hn = m(rnnlab.to_device(x, device), rnnlab.to_device(h0, device))
    dx, dh0 = m.backward(rnnlab.to_device(gout, device))
    check = _close(np.float64)
    for got, want, what in [
        (out, out_t, "out"),
        (hn, hn_t, "h_n"),
        (dx, dx_t, "dx"),
        (dh0, dh0_t, "dh0"),
    ]:
        check(_np(got), want, what)
    grads = interop.torch_state_dict(m, grads=True)
    assert (
        set(grads)
        == set(grads_t)
        == {"weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"}
    )
    for k in grads_t:
        check(grads[k], grads_t[k], k)


# --------------------------------------------------------------------------- bad input
def _x(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


def test_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"\bx\b must have 3 dimensions \(T, N, input_size\), got shape \(4, 3\)",
    ):
        RNN(D, H)(_x(T, D))
    with pytest.raises(
        ValueError, match=r"\bx\b must have 3 dimensions \(N, T, input_size\)"
    ):
        RNN(D, H, batch_first=True)(_x(T, N, D, 1))


def test_wrong_input_size():
    with pytest.raises(
        ValueError, match=r"\bx\b has size 5 in its last dimension, expected 3"
    ):
        RNN(D, H)(_x(T, N, 5))


@pytest.mark.parametrize("shape", [(1, N, H), (2, N + 1, H), (2, N, H + 1), (N, H)])
def test_wrong_h0_shape(shape):
    with pytest.raises(ValueError, match=r"\bh0\b has shape .*, expected \(2, 3, 4\)"):
        RNN(D, H, num_layers=2)(_x(T, N, D), _x(*shape))


def test_wrong_dtype():
    with pytest.raises(
        TypeError,
        match=r"\bx\b has dtype float64 but the module's parameters are float32",
    ):
        RNN(D, H)(_x(T, N, D, dtype=np.float64))
    with pytest.raises(TypeError, match=r"\bh0\b has dtype float64"):
        RNN(D, H)(_x(T, N, D), _x(1, N, H, dtype=np.float64))
    with pytest.raises(TypeError, match=r"\bx\b has dtype int64"):
        RNN(D, H)(_x(T, N, D, dtype=np.int64))


def test_not_an_array():
    with pytest.raises(
        TypeError, match=r"\bx\b must be a NumPy or CuPy array, got list"
    ):
        RNN(D, H)(_x(T, N, D).tolist())


def test_device_mismatch(need_cuda):
    cupy = need_cuda
    m = RNN(D, H).to("cuda")
    with pytest.raises(
        ValueError, match=r"\bx\b is on cpu but the module's parameters are on cuda"
    ):
        m(_x(T, N, D))
    with pytest.raises(ValueError, match=r"\bh0\b is on cpu"):
        m(cupy.zeros((T, N, D), np.float32), _x(1, N, H))
    m(cupy.zeros((T, N, D), np.float32))
    with pytest.raises(ValueError, match=r"\bd_output\b is on cpu"):
        m.backward(_x(T, N, H))


@pytest.mark.parametrize("shape", [(0, N, D), (T, 0, D)], ids=["T=0", "N=0"])
def test_empty_sequence_or_batch(shape):
    with pytest.raises(ValueError, match=r"\bx\b is empty"):
        RNN(D, H)(_x(*shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(bad):
    x = _x(T, N, D)
    x[2, 1, 0] = bad
    with pytest.raises(ValueError, match=r"\bx\b contains NaN or infinite values"):
        RNN(D, H)(x)
    h0 = _x(1, N, H)
    h0[0, 0, 0] = bad
    with pytest.raises(ValueError, match=r"\bh0\b contains NaN or infinite values"):
        RNN(D, H)(_x(T, N, D), h0)


def test_bad_nonlinearity():
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"
    ):
        RNN(D, H, nonlinearity="sigmoid")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(input_size=0, hidden_size=4), "input_size"),
        (dict(input_size=3, hidden_size=2.5), "hidden_size"),
        (dict(input_size=3, hidden_size=4, num_layers=0), "num_layers"),
    ],
)
def test_bad_sizes(kwargs, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b must be a positive integer"):
        RNN(**kwargs)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_bad_dropout(p):
    with pytest.raises(ValueError, match=r"\bdropout\b must be in \[0, 1\)"):
        RNN(D, H, num_layers=2, dropout=p)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="backward called with no pending forward"):
        RNN(D, H).backward(_x(T, N, H))
    m = RNN(D, H)
    m(_x(T, N, D))
    m.to(dtype=np.float64)  # moving drops the cache: the old forward cannot be reused
    with pytest.raises(RuntimeError, match="backward called with no pending forward"):
        m.backward(_x(T, N, H, dtype=np.float64))


@pytest.mark.parametrize("batch_first", [False, True])
def test_wrong_d_output_shape(batch_first):
    m = RNN(D, H, num_layers=2, batch_first=batch_first)
    m(_x(N, T, D) if batch_first else _x(T, N, D))
    want = r"\(3, 4, 4\)" if batch_first else r"\(4, 3, 4\)"
    wrong = _x(T, N, H) if batch_first else _x(N, T, H)
    with pytest.raises(
        ValueError, match=rf"\bd_output\b has shape .*, expected {want}"
    ):
        m.backward(wrong)
    with pytest.raises(
        ValueError, match=r"\bd_h_n\b has shape \(1, 3, 4\), expected \(2, 3, 4\)"
    ):
        m.backward(_x(N, T, H) if batch_first else _x(T, N, H), _x(1, N, H))
    with pytest.raises(TypeError, match=r"\bd_output\b has dtype float64"):
        m.backward(
            _x(N, T, H, dtype=np.float64)
            if batch_first
            else _x(T, N, H, dtype=np.float64)
        )
