"""Recurrent layers over whole sequences, with hand-written backpropagation through time.

Same constructor, shapes and semantics as ``torch.nn.RNN``. What makes it fast:

* the input projection :math:`x_t W_{xh}^\\top + b_h` of *all* time steps is one
  matrix product, written straight into the preallocated state buffer;
* the loop over time does only what must be sequential: one
  ``(N, H) @ (H, H)`` product and one elementwise update per step, in place;
* in the backward pass the weight gradients and the input gradient of all steps
  are one matrix product each, after the loop.
"""
from __future__ import annotations

import numpy as np

from .backend import array_module
from .cells import init_uniform
from .checks import check_float_array, check_shape
from .functional import activation
from .layers import dropout_mask
from .module import Module


def rnn_layer_forward(x, h0, W_xh, W_hh, b_h, nonlinearity: str):
    """Run one RNN layer over a sequence.

    Parameters
    ----------
    x : array, shape (T, N, D)
    h0 : array, shape (N, H)
    W_xh : (H, D), W_hh : (H, H), b_h : (H,) or None

    Returns
    -------
    hs : array, shape (T + 1, N, H)
        ``hs[0] = h0`` and ``hs[1:]`` the outputs; kept for the backward pass.
    """
    xp = array_module(x)
    T, N, D = x.shape
    H = W_hh.shape[0]
    f, _ = activation(nonlinearity)
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    # Input projection of every step in one product, written into hs[1:].
    xp.matmul(x.reshape(T * N, D), W_xh.T, out=hs[1:].reshape(T * N, H))
    if b_h is not None:
        hs[1:] += b_h
    W_hhT, tmp = W_hh.T, xp.empty((N, H), dtype=x.dtype)
    for t in range(T):  # the sequential part: h_t = f(a_t + h_{t-1} W_hh^T)
        xp.matmul(hs[t], W_hhT, out=tmp)
        hs[t + 1] += tmp
        f(hs[t + 1], out=hs[t + 1])
    return hs


def rnn_layer_backward(dout, dh_n, x, hs, W_xh, W_hh, nonlinearity: str):
    """BPTT through one RNN layer.

    Parameters
    ----------
    dout : array, shape (T, N, H), gradient w.r.t. the outputs ``hs[1:]``
    dh_n : array, shape (N, H), or None, gradient w.r.t. the final state
    x, hs : the forward's input and state buffer

    Returns
    -------
    dx : (T, N, D), dh0 : (N, H), dW_xh : (H, D), dW_hh : (H, H), db_h : (H,)
    """
    xp = array_module(dout)
    T, N, H = dout.shape
    _, df = activation(nonlinearity)
    delta = df(hs[1:], out=xp.empty_like(dout))  # phi'(a_t) for all steps; becomes delta_t in place
    dh = xp.zeros((N, H), dtype=dout.dtype) if dh_n is None else dh_n.copy()
    for t in range(T - 1, -1, -1):  # dh = dL/dh_t from above and from the future
        dh += dout[t]
        delta[t] *= dh
        xp.matmul(delta[t], W_hh, out=dh)  # dL/dh_{t-1} through W_hh
    d2 = delta.reshape(T * N, H)
    dW_hh = d2.T @ hs[:-1].reshape(T * N, H)
    dW_xh = d2.T @ x.reshape(T * N, -1)
    dx = (d2 @ W_xh).reshape(x.shape)
    return dx, dh, dW_xh, dW_hh, d2.sum(axis=0)


class RNN(Module):
    r"""Multi-layer vanilla RNN, a drop-in for ``torch.nn.RNN``.

    .. math:: h_t^{(l)} = \phi\big(W_{xh}^{(l)} h_t^{(l-1)} + W_{hh}^{(l)} h_{t-1}^{(l)} + b_h^{(l)}\big),
              \qquad h_t^{(0)} = x_t

    Derived in the chapters "Sequences and the vanilla RNN" and "Backpropagation through time".

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int, default 1
    nonlinearity : ``'tanh'`` (default) or ``'relu'``
    bias : bool, default True
    batch_first : bool, default False
        Inputs and outputs are (N, T, ...) instead of (T, N, ...).
    dropout : float, default 0
        Dropout on the outputs of every layer but the last, in training mode only.
    bidirectional : bool, default False (not available yet)
    dtype : parameter dtype, float32 by default

    Attributes
    ----------
    params : for each layer ``l``: ``W_xh_l{l}`` (hidden_size, in_l), ``W_hh_l{l}`` (hidden_size, hidden_size),
        ``b_h_l{l}`` (hidden_size,), where ``in_0 = input_size`` and ``in_l = hidden_size`` after.
        PyTorch keeps two bias vectors (``bias_ih``, ``bias_hh``) whose sum is ``b_h``; see :mod:`rnnlab.interop`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype=np.float32):
        super().__init__()
        activation(nonlinearity)
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if bidirectional:
            raise ValueError("bidirectional=True is not available yet in rnnlab.RNN (planned with the "
                             "deep and bidirectional RNNs chapter)")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.nonlinearity, self.bias, self.batch_first = nonlinearity, bias, batch_first
        self.dropout, self.bidirectional = dropout, bidirectional
        for l in range(num_layers):
            d_in = input_size if l == 0 else hidden_size
            self.add_param(f"W_xh_l{l}", init_uniform((hidden_size, d_in), hidden_size, dtype))
            self.add_param(f"W_hh_l{l}", init_uniform((hidden_size, hidden_size), hidden_size, dtype))
            if bias:
                self.add_param(f"b_h_l{l}", init_uniform((hidden_size,), hidden_size, dtype))

    def forward(self, x, h0=None):
        """Run the whole sequence.

        Parameters
        ----------
        x : array, shape (T, N, input_size), or (N, T, input_size) with ``batch_first``
        h0 : array, shape (num_layers, N, hidden_size), or None for zeros

        Returns
        -------
        output : array, shape (T, N, hidden_size) (or batch first): the last layer's states
        h_n : array, shape (num_layers, N, hidden_size): every layer's final state
        """
        p = self.params
        W = p["W_hh_l0"]
        order = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
        check_float_array("x", x, ndim=3, like=W, last=self.input_size, shape_desc=order)
        xp = array_module(x)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, N, _ = x.shape
        L, H = self.num_layers, self.hidden_size
        if h0 is None:
            h0 = xp.zeros((L, N, H), dtype=x.dtype)
        else:
            check_shape("h0", h0, (L, N, H), like=W)
        h_n = xp.empty((L, N, H), dtype=x.dtype)
        caches = []
        inp = x
        for l in range(L):
            hs = rnn_layer_forward(inp, h0[l], p[f"W_xh_l{l}"], p[f"W_hh_l{l}"], p.get(f"b_h_l{l}"), self.nonlinearity)
            h_n[l] = hs[T]
            out = hs[1:]
            mask = None
            if self.training and self.dropout > 0 and l < L - 1:
                mask = dropout_mask(out, self.dropout)
                out = out * mask
            caches.append((inp, hs, mask))
            inp = out
        self.cache = (caches, N)
        return (inp.transpose(1, 0, 2) if self.batch_first else inp), h_n

    def backward(self, d_output, d_h_n=None):
        """Backpropagation through time over the sequence of the last ``forward``.

        Parameters
        ----------
        d_output : array, same shape as ``output``
        d_h_n : array, shape (num_layers, N, hidden_size), or None

        Returns
        -------
        dx : array, same shape as ``x``
        dh0 : array, shape (num_layers, N, hidden_size)

        Parameter gradients are *added* to ``self.grads``.
        """
        caches, N = self.saved()
        p, g = self.params, self.grads
        L, H = self.num_layers, self.hidden_size
        T = caches[0][1].shape[0] - 1
        want = (N, T, H) if self.batch_first else (T, N, H)
        check_shape("d_output", d_output, want, like=p["W_hh_l0"])
        if d_h_n is not None:
            check_shape("d_h_n", d_h_n, (L, N, H), like=p["W_hh_l0"])
        dout = d_output.transpose(1, 0, 2) if self.batch_first else d_output
        dh0 = array_module(dout).empty((L, N, H), dtype=dout.dtype)
        for l in range(L - 1, -1, -1):
            inp, hs, mask = caches[l]
            dx, dh0[l], dW_xh, dW_hh, db_h = rnn_layer_backward(
                dout, None if d_h_n is None else d_h_n[l], inp, hs, p[f"W_xh_l{l}"], p[f"W_hh_l{l}"], self.nonlinearity)
            g[f"W_xh_l{l}"] += dW_xh
            g[f"W_hh_l{l}"] += dW_hh
            if self.bias:
                g[f"b_h_l{l}"] += db_h
            if l > 0 and caches[l - 1][2] is not None:
                dx *= caches[l - 1][2]  # through the dropout mask on the layer below's output
            dout = dx
        return (dout.transpose(1, 0, 2) if self.batch_first else dout), dh0

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s
