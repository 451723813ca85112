"""Long short-term memory: one step, the cell module and the multi-layer sequence layer.

Gate order and semantics follow ``torch.nn.LSTM`` (i, f, g, o), so weights map
one-to-one. The elementwise maths of a step lives in two functions,
:func:`lstm_pointwise_forward` and :func:`lstm_pointwise_backward`, that the step
functions (for reading) and the sequence layer (for speed) both call.
"""

from __future__ import annotations

from ... import kernels
from ...backend import array_module, fused, launch
from ..sequences import hold_grads, hold_states
from .base import CellBase, RecurrentBase
from ..functional import sigmoid


def lstm_pointwise_forward(z, c_prev, c, tanh_c, h, zh=None):
    r"""The elementwise part of an LSTM step, in place (one fused kernel on the GPU).

    .. math::
        i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o), \quad g = \tanh(z_g), \quad
        c_t = f \odot c_{t-1} + i \odot g, \quad h_t = o \odot \tanh(c_t)

    Parameters
    ----------
    z : array, shape (N, 4H)
        Pre-activations ``[z_i, z_f, z_g, z_o]``; overwritten with the gates ``[i, f, g,
        o]``.
    c_prev : array, shape (N, H)
    c, tanh_c, h : arrays, shape (N, H), written
        The new cell state, its tanh, the new hidden state.
    zh : array, shape (N, 4H), optional
        Added to ``z`` first: the sequence layer passes the recurrent product
        :math:`W_{hh} h_{t-1}` here, so that on the GPU the addition happens inside the
        fused kernel.
    """
    xp = array_module(z)
    H = c.shape[-1]
    if fused(z):
        if zh is None:
            launch(kernels.LSTM_FORWARD, c_prev, H, z, c, tanh_c, h)
        else:
            launch(kernels.LSTM_FORWARD_ZH, zh, c_prev, H, z, c, tanh_c, h)
        return
    if zh is not None:
        z += zh
    sigmoid(z[:, : 2 * H], out=z[:, : 2 * H])  # i, f
    xp.tanh(z[:, 2 * H : 3 * H], out=z[:, 2 * H : 3 * H])  # g
    sigmoid(z[:, 3 * H :], out=z[:, 3 * H :])  # o
    i, f, g, o = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H], z[:, 3 * H :]
    xp.multiply(f, c_prev, out=c)
    c += i * g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)


def lstm_pointwise_backward(dh, dc, gates, c_prev, tanh_c, dz, dout=None):
    r"""Backward of :func:`lstm_pointwise_forward`, in place (fused on the GPU).

    Parameters
    ----------
    dh : array, shape (N, H), the total gradient w.r.t. :math:`h_t`
    dc : array, shape (N, H)
        In: the gradient w.r.t. :math:`c_t` from step :math:`t+1`. Out: the gradient
        w.r.t. :math:`c_{t-1}`.
    gates : array, shape (N, 4H), ``[i, f, g, o]`` from the forward
    c_prev, tanh_c : arrays, shape (N, H)
    dz : array, shape (N, 4H), written: the gradient w.r.t. the pre-activations.
    dout : array, shape (N, H), optional
        The gradient of the step's output, added into ``dh`` in place first (by the
        sequence layer, so that on the GPU the addition happens inside the fused
        kernel).
    """
    H = dh.shape[-1]
    if fused(dh):
        if dout is None:
            launch(kernels.LSTM_BACKWARD, dh, gates, c_prev, tanh_c, H, dc, dz)
        else:
            launch(
                kernels.LSTM_BACKWARD_DOUT, dout, gates, c_prev, tanh_c, H, dh, dc, dz
            )
        return
    if dout is not None:
        dh += dout
    i, f, g, o = (
        gates[:, :H],
        gates[:, H : 2 * H],
        gates[:, 2 * H : 3 * H],
        gates[:, 3 * H :],
    )
    dc += dh * o * (1 - tanh_c * tanh_c)  # through h_t = o * tanh(c_t)
    dz[:, :H] = dc * g * i * (1 - i)  # d z_i
    dz[:, H : 2 * H] = dc * c_prev * f * (1 - f)  # d z_f
    dz[:, 2 * H : 3 * H] = dc * i * (1 - g * g)  # d z_g
    dz[:, 3 * H :] = dh * tanh_c * o * (1 - o)  # d z_o
    dc *= f  # d c_{t-1}


def lstm_step_forward(x, h_prev, c_prev, W_xh, W_hh, b_h=None):
    r"""One LSTM step: :math:`z = W_{xh} x_t + W_{hh} h_{t-1} + b_h`, then the gates.

    The elementwise part is :func:`lstm_pointwise_forward`.

    Parameters
    ----------
    x : (N, D); h_prev, c_prev : (N, H); W_xh : (4H, D); W_hh : (4H, H)
    b_h : (4H,) or None

    Returns
    -------
    h, c : arrays, shape (N, H)
    cache : for :func:`lstm_step_backward`
    """
    xp = array_module(x)
    z = x @ W_xh.T + h_prev @ W_hh.T
    if b_h is not None:
        z += b_h
    c, tanh_c, h = (xp.empty_like(c_prev) for _ in range(3))
    lstm_pointwise_forward(z, c_prev, c, tanh_c, h)
    return h, c, (x, h_prev, c_prev, z, tanh_c, W_xh, W_hh, b_h is not None)


def lstm_step_backward(dh, dc, cache):
    """Backward of :func:`lstm_step_forward`.

    Returns
    -------
    dx : (N, D), dh_prev : (N, H), dc_prev : (N, H)
    dW_xh : (4H, D), dW_hh : (4H, H), db_h : (4H,) or None
    """
    x, h_prev, c_prev, gates, tanh_c, W_xh, W_hh, has_bias = cache
    dz = array_module(dh).empty_like(gates)
    dc = dc.copy()
    lstm_pointwise_backward(dh, dc, gates, c_prev, tanh_c, dz)
    return (
        dz @ W_xh,
        dz @ W_hh,
        dc,
        dz.T @ x,
        dz.T @ h_prev,
        dz.sum(axis=0) if has_bias else None,
    )


def lstm_layer_forward(x, h0, c0, W_xh, W_hh, b_h, frozen=None):
    """One LSTM layer over a sequence: x (T, N, D), h0 and c0 (N, H); ``frozen`` as in
    :func:`rnnlab.nn.recurrent.rnn.rnn_layer_forward`.

    Returns
    -------
    hs, cs : arrays, shape (T + 1, N, H): states ``h_0..h_T`` and ``c_0..c_T``
    gates : array, shape (T, N, 4H): ``[i, f, g, o]`` of every step
    tanh_cs : array, shape (T, N, H)
    """
    xp = array_module(x)
    T, N, D = x.shape
    H = W_hh.shape[1]
    gates = xp.empty((T, N, 4 * H), dtype=x.dtype)
    # all input projections at once
    xp.matmul(x.reshape(T * N, D), W_xh.T, out=gates.reshape(T * N, 4 * H))
    if b_h is not None:
        gates += b_h
    hs, cs = (
        xp.empty((T + 1, N, H), dtype=x.dtype),
        xp.empty((T + 1, N, H), dtype=x.dtype),
    )
    tanh_cs = xp.empty((T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    W_hhT, tmp = W_hh.T, xp.empty((N, 4 * H), dtype=x.dtype)
    for t in range(T):
        xp.matmul(hs[t], W_hhT, out=tmp)
        lstm_pointwise_forward(
            gates[t], cs[t], cs[t + 1], tanh_cs[t], hs[t + 1], zh=tmp
        )
        if frozen is not None:
            hold_states(frozen[t], (hs[t + 1], cs[t + 1]), (hs[t], cs[t]))
    return hs, cs, gates, tanh_cs


def lstm_layer_backward(
    dout, dh_n, dc_n, x, hs, cs, gates, tanh_cs, W_xh, W_hh, record=None, frozen=None
):
    """BPTT through one LSTM layer.

    Returns ``dx, dh0, dc0, dW_xh, dW_hh, db_h``; ``record`` as in
    :func:`rnnlab.nn.recurrent.rnn.rnn_layer_backward`."""
    xp = array_module(dout)
    T, N, H = dout.shape
    dz = xp.empty_like(gates)
    dh = xp.zeros((N, H), dtype=dout.dtype) if dh_n is None else dh_n.copy()
    dc = xp.zeros((N, H), dtype=dout.dtype) if dc_n is None else dc_n.copy()
    for t in range(T - 1, -1, -1):
        # a frozen step's output is its carried state: both gradients pass it unchanged
        carried = None if frozen is None else (dh + dout[t], dc.copy())
        lstm_pointwise_backward(
            dh, dc, gates[t], cs[t], tanh_cs[t], dz[t], dout=dout[t]
        )
        if record is not None:
            record[t] = dh  # dL/dh_t, now that dout[t] has been added
        xp.matmul(dz[t], W_hh, out=dh)
        if frozen is not None:
            hold_grads(frozen[t], (dz[t],), (dh, dc), carried)
    d2 = dz.reshape(T * N, 4 * H)
    dW_hh = d2.T @ hs[:-1].reshape(T * N, H)
    dW_xh = d2.T @ x.reshape(T * N, -1)
    dx = (d2 @ W_xh).reshape(x.shape)
    return dx, dh, dc, dW_xh, dW_hh, d2.sum(axis=0)


class LSTMCell(CellBase):
    r"""An LSTM cell as a module, like ``torch.nn.LSTMCell``: ``forward(x, (h, c))``.

    ``forward`` returns ``(h', c')``.

    ``backward(dh, dc=None)`` returns ``(dx, (dh_prev, dc_prev))``, one step at a time
    (see :class:`rnnlab.nn.recurrent.base.CellBase`).

    Attributes
    ----------
    params : ``W_xh`` (4H, input_size), ``W_hh`` (4H, H), ``b_h`` (4H,)
        Row blocks in gate order i, f, g, o.
    """

    gates = 4

    def forward(self, x, hx=None):
        """x (N, input_size); hx a tuple (h, c) of (N, hidden_size), or None (zeros)."""
        if hx is not None and (not isinstance(hx, tuple) or len(hx) != 2):
            raise TypeError(f"hx must be a tuple (h, c), got {type(hx).__name__}")
        h, c = self._check_step(
            x, {"h": None, "c": None} if hx is None else {"h": hx[0], "c": hx[1]}
        )
        p = self.params
        h, c, cache = lstm_step_forward(x, h, c, p["W_xh"], p["W_hh"], p.get("b_h"))
        self.save_for_backward(cache)
        return h, c

    def backward(self, dh, dc=None):
        """Backward of the latest step not yet backpropagated.

        Returns ``(dx, (dh_prev, dc_prev))``."""
        dc = array_module(dh).zeros_like(dh) if dc is None else dc
        cache = self._pop(dh=dh, dc=dc)
        dx, dh_prev, dc_prev, dW_xh, dW_hh, db_h = lstm_step_backward(dh, dc, cache)
        self._add_grads(W_xh=dW_xh, W_hh=dW_hh, b_h=db_h)
        return dx, (dh_prev, dc_prev)


class LSTM(RecurrentBase):
    r"""Multi-layer LSTM, a drop-in for ``torch.nn.LSTM`` (without ``proj_size``).

    .. math::
        \begin{aligned}
        [z_i; z_f; z_g; z_o] &= W_{xh} x_t + W_{hh} h_{t-1} + b_h \\
        c_t &= \sigma(z_f) \odot c_{t-1} + \sigma(z_i) \odot \tanh(z_g) \\
        h_t &= \sigma(z_o) \odot \tanh(c_t)
        \end{aligned}

    Derived in the chapter "Long short-term memory".

    Parameters are those of :class:`rnnlab.RNN` (without ``nonlinearity``).

    ``forward(x, hx=None) -> (output, (h_n, c_n))`` with ``hx = (h0, c0)``, each
    (num_layers, N, H); ``backward(d_output, d_hx=None) -> (dx, (dh0, dc0))`` with
    ``d_hx = (d_h_n, d_c_n)``.

    Attributes
    ----------
    params : per layer ``W_xh_l{l}`` (4H, in_l), ``W_hh_l{l}`` (4H, H), ``b_h_l{l}``
        (4H,); row blocks in gate order i, f, g, o.
        ``b_h`` is PyTorch's ``bias_ih + bias_hh``.
    """

    gates = 4
    state_names = ("h", "c")

    def _layer_forward(self, key, x, state0, frozen=None):
        p = self.params
        hs, cs, gates, tanh_cs = lstm_layer_forward(
            x,
            state0[0],
            state0[1],
            p[f"W_xh_{key}"],
            p[f"W_hh_{key}"],
            p.get(f"b_h_{key}"),
            frozen,
        )
        return hs[1:], (hs[-1], cs[-1]), (hs, cs, gates, tanh_cs)

    def _layer_backward(self, key, dout, d_final, x, cache, record=None, frozen=None):
        p = self.params
        dx, dh0, dc0, dW_xh, dW_hh, db_h = lstm_layer_backward(
            dout,
            d_final[0],
            d_final[1],
            x,
            *cache,
            p[f"W_xh_{key}"],
            p[f"W_hh_{key}"],
            record,
            frozen,
        )
        self._add_grads(key, dW_xh, dW_hh, db_h)
        return dx, (dh0, dc0)
