"""Teaching implementations: one step and one gate at a time, states in Python lists.

These follow the equations as a first derivation would: a separate matrix product
per gate and per step, and weight gradients summed step by step. They compute
exactly what :class:`rnnlab.RNN`, :class:`rnnlab.LSTM` and :class:`rnnlab.GRU`
compute (one layer, with bias, zero initial state), and exist so the benchmark
(:mod:`rnnlab.course.bench`) can show what the fast layers' techniques buy. The tests
check that both agree.

Each function takes ``x`` (T, N, D), the layer's ``params`` dict (keys ``*_l0``)
and the upstream gradient ``dout`` (T, N, H), and returns
``(output, dx, grads)`` with ``grads`` under the layer's parameter names. They
run on CuPy arrays too: the benchmark's "straightforward GPU port".
"""

from __future__ import annotations

from ..backend import array_module
from ..nn.recurrent.rnn import rnn_step_backward, rnn_step_forward
from ..nn.functional import sigmoid


def naive_rnn(x, params, dout):
    """Vanilla tanh RNN: :func:`rnnlab.rnn_step_forward` per step, caches in a list."""
    xp = array_module(x)
    W_xh, W_hh, b_h = params["W_xh_l0"], params["W_hh_l0"], params["b_h_l0"]
    T, N, _ = x.shape
    h, caches, outs = xp.zeros((N, W_hh.shape[0]), x.dtype), [], []
    for t in range(T):
        h, c = rnn_step_forward(x[t], h, W_xh, W_hh, b_h)
        caches.append(c)
        outs.append(h)
    grads = {k: xp.zeros_like(v) for k, v in params.items()}
    dh, dxs = xp.zeros_like(h), [None] * T
    for t in reversed(range(T)):
        dxs[t], dh, gx, gh, gb = rnn_step_backward(dout[t] + dh, caches[t])
        grads["W_xh_l0"] += gx
        grads["W_hh_l0"] += gh
        grads["b_h_l0"] += gb
    return xp.stack(outs), xp.stack(dxs), grads


def naive_lstm(x, params, dout):
    """LSTM with one product per gate (i, f, g, o) and per step."""
    xp = array_module(x)
    W_x, W_h, b = (xp.split(params[k], 4) for k in ("W_xh_l0", "W_hh_l0", "b_h_l0"))
    T, N, _ = x.shape
    H = W_h[0].shape[1]
    h, c = xp.zeros((N, H), x.dtype), xp.zeros((N, H), x.dtype)
    caches, outs = [], []
    for t in range(T):
        i = sigmoid(x[t] @ W_x[0].T + h @ W_h[0].T + b[0])
        f = sigmoid(x[t] @ W_x[1].T + h @ W_h[1].T + b[1])
        g = xp.tanh(x[t] @ W_x[2].T + h @ W_h[2].T + b[2])
        o = sigmoid(x[t] @ W_x[3].T + h @ W_h[3].T + b[3])
        c_new = f * c + i * g
        h_new = o * xp.tanh(c_new)
        caches.append((x[t], h, c, i, f, g, o, c_new))
        h, c = h_new, c_new
        outs.append(h)
    dW_x, dW_h, db = ([xp.zeros_like(w) for w in ws] for ws in (W_x, W_h, b))
    dh, dc, dxs = xp.zeros_like(h), xp.zeros_like(c), [None] * T
    for t in reversed(range(T)):
        xt, h_prev, c_prev, i, f, g, o, c_t = caches[t]
        dh = dh + dout[t]
        tanh_c = xp.tanh(c_t)
        dc = dc + dh * o * (1 - tanh_c**2)
        dz = [
            dc * g * i * (1 - i),
            dc * c_prev * f * (1 - f),
            dc * i * (1 - g**2),
            dh * tanh_c * o * (1 - o),
        ]
        dc = dc * f
        dxs[t], dh = 0, 0
        for k in range(4):
            dW_x[k] += dz[k].T @ xt
            dW_h[k] += dz[k].T @ h_prev
            db[k] += dz[k].sum(axis=0)
            dxs[t] = dxs[t] + dz[k] @ W_x[k]
            dh = dh + dz[k] @ W_h[k]
    grads = {
        "W_xh_l0": xp.concatenate(dW_x),
        "W_hh_l0": xp.concatenate(dW_h),
        "b_h_l0": xp.concatenate(db),
    }
    return xp.stack(outs), xp.stack(dxs), grads


def naive_gru(x, params, dout):
    """GRU (PyTorch's form) with one product per gate (r, z, n) and per step."""
    xp = array_module(x)
    W_x, W_h, b = (xp.split(params[k], 3) for k in ("W_xh_l0", "W_hh_l0", "b_h_l0"))
    b_hn = params["b_hn_l0"]
    T, N, _ = x.shape
    H = W_h[0].shape[1]
    h, caches, outs = xp.zeros((N, H), x.dtype), [], []
    for t in range(T):
        r = sigmoid(x[t] @ W_x[0].T + h @ W_h[0].T + b[0])
        z = sigmoid(x[t] @ W_x[1].T + h @ W_h[1].T + b[1])
        hn = h @ W_h[2].T + b_hn
        n = xp.tanh(x[t] @ W_x[2].T + b[2] + r * hn)
        caches.append((x[t], h, r, z, hn, n))
        h = (1 - z) * n + z * h
        outs.append(h)
    dW_x, dW_h, db = ([xp.zeros_like(w) for w in ws] for ws in (W_x, W_h, b))
    db_hn = xp.zeros_like(b_hn)
    dh, dxs = xp.zeros_like(h), [None] * T
    for t in reversed(range(T)):
        xt, h_prev, r, z, hn, n = caches[t]
        dh = dh + dout[t]
        dn = dh * (1 - z) * (1 - n**2)
        # w.r.t. the input projections
        dzx = [
            dn * hn * r * (1 - r),
            dh * (h_prev - n) * z * (1 - z),
            dn,
        ]
        dzh = dzx[:2] + [dn * r]  # w.r.t. the recurrent ones
        dh = dh * z
        dxs[t] = 0
        for k in range(3):
            dW_x[k] += dzx[k].T @ xt
            dW_h[k] += dzh[k].T @ h_prev
            db[k] += dzx[k].sum(axis=0)
            dxs[t] = dxs[t] + dzx[k] @ W_x[k]
            dh = dh + dzh[k] @ W_h[k]
        db_hn += dzh[2].sum(axis=0)
    grads = {
        "W_xh_l0": xp.concatenate(dW_x),
        "W_hh_l0": xp.concatenate(dW_h),
        "b_h_l0": xp.concatenate(db),
        "b_hn_l0": db_hn,
    }
    return xp.stack(outs), xp.stack(dxs), grads


NAIVE = {"rnn": naive_rnn, "lstm": naive_lstm, "gru": naive_gru}
