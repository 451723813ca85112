"""rnnlab.nn.recurrent.rnn: the pure RNN step functions and RNNCell.

Step by step against the whole-sequence RNN.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import (
    RNN,
    RNNCell,
    assert_gradients_close,
    check_module,
    rnn_step_backward,
    rnn_step_forward,
)
from rnnlab.gradcheck import numerical_gradient, relative_error

N, D, H, T = 3, 4, 5, 6


def _cell_like(rnn):
    """An RNNCell holding the weights of a one-layer RNN."""
    cell = RNNCell(
        rnn.input_size,
        rnn.hidden_size,
        bias=rnn.bias,
        nonlinearity=rnn.nonlinearity,
        dtype=rnn.dtype,
    ).to(rnn.device)
    cell.params["W_xh"][...] = rnn.params["W_xh_l0"]
    cell.params["W_hh"][...] = rnn.params["W_hh_l0"]
    if rnn.bias:
        cell.params["b_h"][...] = rnn.params["b_h_l0"]
    return cell


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_step_forward_value(xp, randn, nonlinearity, bias):
    x, h, Wx, Wh, b = randn(N, D), randn(N, H), randn(H, D), randn(H, H), randn(H)
    out, _ = rnn_step_forward(x, h, Wx, Wh, b if bias else None, nonlinearity)
    x, h, Wx, Wh, b = (rnnlab.to_numpy(a) for a in (x, h, Wx, Wh, b))
    a = x @ Wx.T + h @ Wh.T + (b if bias else 0)
    ref = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    assert out.shape == (N, H)
    np.testing.assert_allclose(rnnlab.to_numpy(out), ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_backward_matches_finite_differences(xp, randn, nonlinearity):
    args = [
        randn(N, D),
        randn(N, H),
        randn(H, D, scale=0.5),
        randn(H, H, scale=0.5),
        randn(H),
    ]
    dh = randn(N, H)

    def loss():
        h, _ = rnn_step_forward(*args, nonlinearity=nonlinearity)
        return float((h * dh).sum())

    _, cache = rnn_step_forward(*args, nonlinearity=nonlinearity)
    grads = rnn_step_backward(dh, cache)  # dx, dh_prev, dW_xh, dW_hh, db_h
    for name, arr, ana in zip(["x", "h_prev", "W_xh", "W_hh", "b_h"], args, grads):
        assert ana.shape == arr.shape, name
        assert relative_error(ana, numerical_gradient(loss, arr)) < 1e-7, name


def test_step_backward_without_bias_returns_none(xp, randn):
    _, cache = rnn_step_forward(
        randn(N, D), randn(N, H), randn(H, D), randn(H, H), None
    )
    assert rnn_step_backward(randn(N, H), cache)[4] is None


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_h", [True, False])
def test_cell_gradients(xp, device, randn, nonlinearity, bias, with_h):
    cell = RNNCell(D, H, bias=bias, nonlinearity=nonlinearity, dtype=np.float64).to(
        device
    )
    inputs = (randn(N, D), randn(N, H)) if with_h else (randn(N, D),)
    errors = check_module(cell, *inputs)
    expected = {"param W_xh", "param W_hh", "input 0"}
    expected |= {"param b_h"} if bias else set()
    expected |= {"input 1"} if with_h else set()
    assert set(errors) == expected
    assert_gradients_close(errors, tol=1e-6)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_cell_equals_the_step_functions(xp, device, randn, nonlinearity):
    cell = RNNCell(D, H, nonlinearity=nonlinearity, dtype=np.float64).to(device)
    x, h, dh = randn(N, D), randn(N, H), randn(N, H)
    out = cell(x, h)
    ref, cache = rnn_step_forward(
        x, h, cell.params["W_xh"], cell.params["W_hh"], cell.params["b_h"], nonlinearity
    )
    np.testing.assert_array_equal(rnnlab.to_numpy(out), rnnlab.to_numpy(ref))
    dx, dh_prev = cell.backward(dh)
    rdx, rdh, rWx, rWh, rb = rnn_step_backward(dh, cache)
    for got, want in [
        (dx, rdx),
        (dh_prev, rdh),
        (cell.grads["W_xh"], rWx),
        (cell.grads["W_hh"], rWh),
        (cell.grads["b_h"], rb),
    ]:
        np.testing.assert_allclose(
            rnnlab.to_numpy(got), rnnlab.to_numpy(want), rtol=1e-14, atol=1e-15
        )


def test_cell_default_state_is_zeros(xp, device, randn):
    cell = RNNCell(D, H, dtype=np.float64).to(device)
    x = randn(N, D)
    np.testing.assert_array_equal(
        rnnlab.to_numpy(cell(x)), rnnlab.to_numpy(cell(x, xp.zeros((N, H))))
    )


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_step_by_step_equals_rnn_whole_sequence(
    xp, device, randn, nonlinearity, bias
):
    rnn = RNN(D, H, nonlinearity=nonlinearity, bias=bias, dtype=np.float64).to(device)
    cell = _cell_like(rnn)
    x, h0 = randn(T, N, D), randn(1, N, H)
    dout, dh_n = randn(T, N, H), randn(1, N, H)

    # forward: the cell one step at a time
    out, h_n = rnn(x, h0)
    h, steps = h0[0], []
    for t in range(T):
        h = cell(x[t], h)
        steps.append(rnnlab.to_numpy(h))
    np.testing.assert_allclose(
        rnnlab.to_numpy(out), np.stack(steps), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        rnnlab.to_numpy(h_n[0]), steps[-1], rtol=1e-12, atol=1e-14
    )

    # backward: the cell's steps in reverse order, feeding dh from the output and from
    # the future
    dx, dh0 = rnn.backward(dout, dh_n)
    dh_next, dxs = dh_n[0], [None] * T
    for t in range(T - 1, -1, -1):
        dxs[t], dh_next = cell.backward(dout[t] + dh_next)
    tol = dict(rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(
        rnnlab.to_numpy(dx), np.stack([rnnlab.to_numpy(d) for d in dxs]), **tol
    )
    np.testing.assert_allclose(rnnlab.to_numpy(dh0[0]), rnnlab.to_numpy(dh_next), **tol)
    for ours, theirs in [("W_xh", "W_xh_l0"), ("W_hh", "W_hh_l0")] + (
        [("b_h", "b_h_l0")] if bias else []
    ):
        np.testing.assert_allclose(
            rnnlab.to_numpy(cell.grads[ours]), rnnlab.to_numpy(rnn.grads[theirs]), **tol
        )
    # every cached step was consumed
    with pytest.raises(RuntimeError, match="with no pending forward"):
        cell.backward(dout[0])


def test_cell_float32_keeps_dtype(xp, device, randn):
    cell = RNNCell(D, H).to(device)
    h = cell(randn(N, D, dtype=np.float32))
    dx, dh = cell.backward(randn(N, H, dtype=np.float32))
    assert h.dtype == dx.dtype == dh.dtype == cell.grads["W_hh"].dtype == np.float32


# --------------------------------------------------------------------------- bad input
def test_cell_wrong_rank():
    with pytest.raises(
        ValueError,
        match=r"\bx\b must have 2 dimensions \(N, input_size\), got shape \(2, 3, 4\)",
    ):
        RNNCell(D, H)(np.zeros((2, 3, D), np.float32))


def test_cell_wrong_input_size():
    with pytest.raises(
        ValueError, match=r"\bx\b has size 3 in its last dimension, expected 4"
    ):
        RNNCell(D, H)(np.zeros((N, 3), np.float32))


def test_cell_wrong_h_shape():
    with pytest.raises(
        ValueError, match=r"\bh\b has shape \(3, 4\), expected \(3, 5\)"
    ):
        RNNCell(D, H)(np.zeros((N, D), np.float32), np.zeros((N, 4), np.float32))


def test_cell_wrong_dtype():
    with pytest.raises(TypeError, match=r"\bx\b has dtype float64"):
        RNNCell(D, H)(np.zeros((N, D)))
    with pytest.raises(TypeError, match=r"\bh\b has dtype float64"):
        RNNCell(D, H)(np.zeros((N, D), np.float32), np.zeros((N, H)))


def test_cell_non_finite_input():
    x = np.zeros((N, D), np.float32)
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"\bx\b contains NaN"):
        RNNCell(D, H)(x)
    with pytest.raises(ValueError, match=r"\bh\b contains NaN or infinite"):
        RNNCell(D, H)(np.zeros((N, D), np.float32), np.full((N, H), np.inf, np.float32))


def test_cell_empty_batch():
    with pytest.raises(ValueError, match=r"\bx\b is empty"):
        RNNCell(D, H)(np.zeros((0, D), np.float32))


def test_cell_device_mismatch(need_cuda):
    cupy = need_cuda
    cell = RNNCell(D, H).to("cuda")
    with pytest.raises(ValueError, match=r"\bx\b is on cpu"):
        cell(np.zeros((N, D), np.float32))
    with pytest.raises(ValueError, match=r"\bh\b is on cpu"):
        cell(cupy.zeros((N, D), np.float32), np.zeros((N, H), np.float32))


def test_cell_bad_nonlinearity():
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'gelu'"
    ):
        RNNCell(D, H, nonlinearity="gelu")


def test_cell_backward_before_forward():
    with pytest.raises(RuntimeError, match="backward called with no pending forward"):
        RNNCell(D, H).backward(np.zeros((N, H), np.float32))
    # to() drops the cache; still a clean error
    cell = RNNCell(D, H).to(dtype=np.float64)
    with pytest.raises(RuntimeError, match="backward"):
        cell.backward(np.zeros((N, H)))


def test_cell_backward_wrong_dh_shape():
    # Regression (was a bug): RNNCell.backward does not check dh. A dh of shape
    # (hidden_size,) broadcasts against (N, hidden_size) and silently gives wrong
    # gradients.
    cell = RNNCell(D, H)
    cell(np.ones((N, D), np.float32))
    with pytest.raises(ValueError, match=r"\bdh\b"):
        cell.backward(np.ones((H,), np.float32))
