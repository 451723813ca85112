"""Gated recurrent units: one step, the cell module, and the multi-layer sequence layer.

rnnlab follows PyTorch's (and cuDNN's) form, where the reset gate multiplies
:math:`W_{hn} h_{t-1} + b_{hn}` *after* the matrix product; Cho et al. (2014) apply
it to :math:`h_{t-1}` before. The chapter "Gated recurrent units" compares the two.
As for the LSTM, the elementwise maths of a step lives in
:func:`gru_pointwise_forward` / :func:`gru_pointwise_backward`, shared by the step
functions and the sequence layer.
"""

from __future__ import annotations

import numpy as np

from ... import kernels
from ...backend import array_module, fused, launch
from ..sequences import hold_grads, hold_states
from .base import CellBase, RecurrentBase, init_uniform
from ..functional import sigmoid


def gru_pointwise_forward(zx, zh, h_prev, h, hn, b_hn=None):
    r"""The elementwise part of a GRU step, in place (one fused kernel on the GPU).

    .. math::
        r = \sigma(z^x_r + z^h_r),\quad u = \sigma(z^x_u + z^h_u),\quad n = \tanh(z^x_n
        + r \odot (z^h_n + b_{hn})),\quad h_t = (1 - u) \odot n + u \odot h_{t-1}

    (:math:`u` is PyTorch's update gate :math:`z`.)

    Parameters
    ----------
    zx : array, shape (N, 3H)
        Input projections ``W_xh x_t + b_h``; overwritten with ``[r, u, n]``.
    zh : array, shape (N, 3H)
        Recurrent projections ``W_hh h_{t-1}``, read only.
    h_prev : array, shape (N, H)
    h : array, shape (N, H), written.
    hn : array, shape (N, H), written
        :math:`W_{hn} h_{t-1} + b_{hn}`, which the backward pass needs.
    b_hn : array, shape (H,), or None
    """
    xp = array_module(zx)
    H = h.shape[-1]
    if fused(zx):
        if b_hn is None:
            launch(kernels.GRU_FORWARD, zh, h_prev, H, zx, h, hn)
        else:
            launch(kernels.GRU_FORWARD_BIAS, zh, b_hn, h_prev, H, zx, h, hn)
        return
    if b_hn is None:
        hn[...] = zh[:, 2 * H :]
    else:
        xp.add(zh[:, 2 * H :], b_hn, out=hn)
    ru = zx[:, : 2 * H]
    ru += zh[:, : 2 * H]
    sigmoid(ru, out=ru)
    r, u, n = zx[:, :H], zx[:, H : 2 * H], zx[:, 2 * H :]
    n += r * hn
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)  # h = n + u * (h_prev - n)
    h *= u
    h += n


def gru_pointwise_backward(dh, gates, hn, h_prev, dzx, dzh, dout=None):
    r"""Backward of :func:`gru_pointwise_forward` (one fused kernel on the GPU).

    Parameters
    ----------
    dh : array, shape (N, H)
        The total gradient w.r.t. :math:`h_t`; overwritten with the part of
        :math:`\partial L/\partial h_{t-1}` that bypasses the matrix product
        (:math:`dh \odot u`).
    gates : array, shape (N, 3H), ``[r, u, n]``
    hn : array, shape (N, H), :math:`W_{hn} h_{t-1} + b_{hn}`
    h_prev : array, shape (N, H)
    dzx, dzh : arrays, shape (N, 3H), written
        Gradients w.r.t. the input and recurrent projections (they differ only in the
        n block: :math:`dz^h_n = r \odot dz^x_n`).
    dout : array, shape (N, H), optional
        Added into ``dh`` first (the sequence layer's output gradient; inside the kernel
        on the GPU).
    """
    H = dh.shape[-1]
    if fused(dh):
        if dout is None:
            launch(kernels.GRU_BACKWARD, gates, hn, h_prev, H, dh, dzx, dzh)
        else:
            launch(kernels.GRU_BACKWARD_DOUT, dout, gates, hn, h_prev, H, dh, dzx, dzh)
        return
    if dout is not None:
        dh += dout
    r, u, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
    dn = dzx[:, 2 * H :]
    dn[...] = dh * (1 - u) * (1 - n * n)  # d(pre-activation of n)
    dzx[:, :H] = dn * hn * r * (1 - r)  # d z_r
    dzx[:, H : 2 * H] = dh * (h_prev - n) * u * (1 - u)  # d z_u
    dzh[:, : 2 * H] = dzx[:, : 2 * H]
    dzh[:, 2 * H :] = dn * r
    dh *= u


def gru_step_forward(x, h_prev, W_xh, W_hh, b_h=None, b_hn=None):
    """One GRU step.

    x (N, D); h_prev (N, H); W_xh (3H, D); W_hh (3H, H); b_h (3H,); b_hn (H,)

    Returns ``h`` (N, H) and a cache for :func:`gru_step_backward`.
    """
    zx = x @ W_xh.T
    if b_h is not None:
        zx += b_h
    zh = h_prev @ W_hh.T
    xp = array_module(x)
    h, hn = xp.empty_like(h_prev), xp.empty_like(h_prev)
    gru_pointwise_forward(zx, zh, h_prev, h, hn, b_hn)
    return h, (x, h_prev, zx, hn, W_xh, W_hh, b_h is not None, b_hn is not None)


def gru_step_backward(dh, cache):
    """Backward of :func:`gru_step_forward`.

    Returns ``dx, dh_prev, dW_xh, dW_hh, db_h, db_hn`` (the biases None if absent)."""
    x, h_prev, gates, hn, W_xh, W_hh, has_b_h, has_b_hn = cache
    xp = array_module(dh)
    dzx, dzh = xp.empty_like(gates), xp.empty_like(gates)
    dh = dh.copy()
    gru_pointwise_backward(dh, gates, hn, h_prev, dzx, dzh)
    H = dh.shape[-1]
    dh += dzh @ W_hh
    db_h = dzx.sum(axis=0) if has_b_h else None
    db_hn = dzh[:, 2 * H :].sum(axis=0) if has_b_hn else None
    return dzx @ W_xh, dh, dzx.T @ x, dzh.T @ h_prev, db_h, db_hn


def gru_layer_forward(x, h0, W_xh, W_hh, b_h, b_hn, frozen=None):
    """One GRU layer over a sequence: x (T, N, D), h0 (N, H); ``frozen`` as in
    :func:`rnnlab.nn.recurrent.rnn.rnn_layer_forward`.

    Returns
    -------
    hs : (T + 1, N, H) states
    gates : (T, N, 3H) ``[r, u, n]``
    hns : (T, N, H) :math:`W_{hn} h_{t-1} + b_{hn}`
    """
    xp = array_module(x)
    T, N, D = x.shape
    H = W_hh.shape[1]
    gates = xp.empty((T, N, 3 * H), dtype=x.dtype)
    xp.matmul(x.reshape(T * N, D), W_xh.T, out=gates.reshape(T * N, 3 * H))
    if b_h is not None:
        gates += b_h
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)
    hns = xp.empty((T, N, H), dtype=x.dtype)
    hs[0] = h0
    W_hhT, zh = W_hh.T, xp.empty((N, 3 * H), dtype=x.dtype)
    for t in range(T):
        xp.matmul(hs[t], W_hhT, out=zh)
        gru_pointwise_forward(gates[t], zh, hs[t], hs[t + 1], hns[t], b_hn)
        if frozen is not None:
            hold_states(frozen[t], (hs[t + 1],), (hs[t],))
    return hs, gates, hns


def gru_layer_backward(
    dout, dh_n, x, hs, gates, hns, W_xh, W_hh, record=None, frozen=None
):
    """BPTT through one GRU layer.

    Returns ``dx, dh0, dW_xh, dW_hh, db_h, db_hn``; ``record`` as in
    :func:`rnnlab.nn.recurrent.rnn.rnn_layer_backward`."""
    xp = array_module(dout)
    T, N, H = dout.shape
    dzx, dzh = xp.empty_like(gates), xp.empty_like(gates)
    dh = xp.zeros((N, H), dtype=dout.dtype) if dh_n is None else dh_n.copy()
    tmp = xp.empty((N, H), dtype=dout.dtype)
    for t in range(T - 1, -1, -1):
        # a frozen step's output is its carried state: both gradients pass it unchanged
        carried = None if frozen is None else (dh + dout[t],)
        # dout[t] is added inside the pointwise step, unless dL/dh_t is needed here
        dout_t = dout[t]
        if record is not None:
            dh += dout_t
            dout_t = None
            record[t] = dh
        gru_pointwise_backward(dh, gates[t], hns[t], hs[t], dzx[t], dzh[t], dout=dout_t)
        xp.matmul(dzh[t], W_hh, out=tmp)
        dh += tmp
        if frozen is not None:
            hold_grads(frozen[t], (dzx[t], dzh[t]), (dh,), carried)
    dx2, dh2 = dzx.reshape(T * N, 3 * H), dzh.reshape(T * N, 3 * H)
    dW_xh = dx2.T @ x.reshape(T * N, -1)
    dW_hh = dh2.T @ hs[:-1].reshape(T * N, H)
    dx = (dx2 @ W_xh).reshape(x.shape)
    return dx, dh, dW_xh, dW_hh, dx2.sum(axis=0), dh2[:, 2 * H :].sum(axis=0)


class GRUCell(CellBase):
    r"""A GRU cell as a module, like ``torch.nn.GRUCell``.

    ``forward(x, h) -> h'``, ``backward(dh) -> (dx, dh_prev)``.

    Attributes
    ----------
    params : ``W_xh`` (3H, input_size), ``W_hh`` (3H, H), ``b_h`` (3H,), ``b_hn`` (H,)
        Row blocks in gate order r, z, n.
    """

    gates = 3

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32
    ):
        super().__init__(input_size, hidden_size, bias, dtype)
        if bias:
            self.add_param("b_hn", init_uniform((hidden_size,), hidden_size, dtype))

    def forward(self, x, h=None):
        """x (N, input_size), h (N, hidden_size) or None -> h' (N, hidden_size)."""
        (h,) = self._check_step(x, {"h": h})
        p = self.params
        h_next, cache = gru_step_forward(
            x, h, p["W_xh"], p["W_hh"], p.get("b_h"), p.get("b_hn")
        )
        self.save_for_backward(cache)
        return h_next

    def backward(self, dh):
        """Backward of the latest step not yet backpropagated: ``(dx, dh_prev)``."""
        dx, dh_prev, dW_xh, dW_hh, db_h, db_hn = gru_step_backward(dh, self._pop(dh=dh))
        self._add_grads(W_xh=dW_xh, W_hh=dW_hh, b_h=db_h, b_hn=db_hn)
        return dx, dh_prev


class GRU(RecurrentBase):
    r"""Multi-layer GRU, a drop-in for ``torch.nn.GRU``.

    .. math::
        \begin{aligned}
        r_t &= \sigma(W_{xr} x_t + W_{hr} h_{t-1} + b_r), \quad
        u_t = \sigma(W_{xu} x_t + W_{hu} h_{t-1} + b_u) \\
        n_t &= \tanh(W_{xn} x_t + b_n + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - u_t) \odot n_t + u_t \odot h_{t-1}
        \end{aligned}

    Derived in the chapter "Gated recurrent units". ``forward(x, h0=None) -> (output,
    h_n)``, ``backward(d_output, d_h_n=None) -> (dx, dh0)``.

    Attributes
    ----------
    params : per layer ``W_xh_l{l}`` (3H, in_l), ``W_hh_l{l}`` (3H, H),
        ``b_h_l{l}`` (3H,), ``b_hn_l{l}`` (H,).
        ``b_h`` is PyTorch's ``bias_ih`` plus the r and z blocks of ``bias_hh``;
        ``b_hn`` is the n block of ``bias_hh``, which cannot be merged because the reset
        gate multiplies it.
    """

    gates = 3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.bias:
            dtype, H = self.dtype, self.hidden_size
            for key in self.layer_keys:
                self.add_param(f"b_hn_{key}", init_uniform((H,), H, dtype))

    def _layer_forward(self, key, x, state0, frozen=None):
        p = self.params
        hs, gates, hns = gru_layer_forward(
            x,
            state0[0],
            p[f"W_xh_{key}"],
            p[f"W_hh_{key}"],
            p.get(f"b_h_{key}"),
            p.get(f"b_hn_{key}"),
            frozen,
        )
        return hs[1:], (hs[-1],), (hs, gates, hns)

    def _layer_backward(self, key, dout, d_final, x, cache, record=None, frozen=None):
        p = self.params
        dx, dh0, dW_xh, dW_hh, db_h, db_hn = gru_layer_backward(
            dout,
            d_final[0],
            x,
            *cache,
            p[f"W_xh_{key}"],
            p[f"W_hh_{key}"],
            record,
            frozen,
        )
        self._add_grads(key, dW_xh, dW_hh, db_h)
        if self.bias:
            self.grads[f"b_hn_{key}"] += db_hn
        return dx, (dh0,)
