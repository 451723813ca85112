"""Recurrent layers over whole sequences, with hand-written backpropagation through time.

:class:`RecurrentBase` holds what RNN, LSTM and GRU share (PyTorch's constructor
arguments, input checks, ``batch_first``, the stack of layers, dropout between
layers); each architecture supplies one layer's forward and backward over time.
This module also holds the vanilla :class:`RNN`. What makes them fast:

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


def rnn_layer_backward(dout, dh_n, x, hs, W_xh, W_hh, nonlinearity: str, record=None):
    """BPTT through one RNN layer.

    Parameters
    ----------
    dout : array, shape (T, N, H), gradient w.r.t. the outputs ``hs[1:]``
    dh_n : array, shape (N, H), or None, gradient w.r.t. the final state
    x, hs : the forward's input and state buffer
    record : array, shape (T, N, H), optional
        If given, filled with :math:`\\partial L/\\partial h_t` for every step (see ``record_state_grads``).

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
        if record is not None:
            record[t] = dh
        delta[t] *= dh
        xp.matmul(delta[t], W_hh, out=dh)  # dL/dh_{t-1} through W_hh
    d2 = delta.reshape(T * N, H)
    dW_hh = d2.T @ hs[:-1].reshape(T * N, H)
    dW_xh = d2.T @ x.reshape(T * N, -1)
    dx = (d2 @ W_xh).reshape(x.shape)
    return dx, dh, dW_xh, dW_hh, d2.sum(axis=0)


class RecurrentBase(Module):
    """Shared machinery of the sequence layers: a stack of ``num_layers`` recurrent layers.

    A subclass sets ``gates`` (blocks of ``hidden_size`` rows in each weight matrix),
    ``state_names`` (``("h",)``, or ``("h", "c")`` for the LSTM) and implements

    * ``_layer_forward(l, x, state0) -> (out, final_state, cache)`` with ``x`` of shape
      (T, N, in_l), ``out`` (T, N, H) and states as tuples of (N, H) arrays;
    * ``_layer_backward(l, dout, d_final, x, cache, record) -> (dx, d_state0)``, adding the
      parameter gradients of layer ``l`` into ``self.grads`` and, when ``record`` is an array,
      writing :math:`\\partial L/\\partial h_t` of every step into it.

    Set ``record_state_grads = True`` on a layer to keep, after each ``backward``, the gradient
    of the loss w.r.t. every hidden state in ``state_grads``: a list with one (T, N, H) array per
    layer, time-major, holding :math:`\\partial L/\\partial h_t` (from the output at :math:`t` and
    from the steps after it). The gradient-flow chapter plots its norms.
    """

    gates = 1
    state_names = ("h",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=np.float32):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if bidirectional:
            raise ValueError(f"bidirectional=True is not available yet in rnnlab.{type(self).__name__} "
                             "(planned with the deep and bidirectional RNNs chapter)")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = dropout, bidirectional
        self.record_state_grads, self.state_grads = False, None
        G, H = self.gates, hidden_size
        for l in range(num_layers):
            d_in = input_size if l == 0 else hidden_size
            self.add_param(f"W_xh_l{l}", init_uniform((G * H, d_in), H, dtype))
            self.add_param(f"W_hh_l{l}", init_uniform((G * H, H), H, dtype))
            if bias:
                self.add_param(f"b_h_l{l}", init_uniform((G * H,), H, dtype))

    # --- states: one array (h) or a tuple (h, c) of shape (num_layers, N, H) ---
    def _states_in(self, hx, N, like, prefix=""):
        names = tuple(prefix + n + ("_n" if prefix else "0") for n in self.state_names)
        shape = (self.num_layers, N, self.hidden_size)
        if hx is None:
            return (None,) * len(names)
        parts = (hx,) if len(names) == 1 else hx
        if not isinstance(parts, tuple) or len(parts) != len(names):
            raise TypeError(f"expected a tuple ({', '.join(names)}), got {type(hx).__name__}")
        for name, a in zip(names, parts):
            if a is not None:
                check_shape(name, a, shape, like=like)
        return parts

    def _states_out(self, states):
        return states[0] if len(states) == 1 else tuple(states)

    def forward(self, x, hx=None):
        """Run the whole sequence through every layer.

        Parameters
        ----------
        x : array, shape (T, N, input_size), or (N, T, input_size) with ``batch_first``
        hx : initial state(s), shape (num_layers, N, hidden_size) each, or None for zeros

        Returns
        -------
        output : array, shape (T, N, hidden_size) (or batch first): the last layer's states
        final state(s) : shape (num_layers, N, hidden_size) each: every layer's state after the last step
        """
        W = self.params["W_hh_l0"]
        order = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
        check_float_array("x", x, ndim=3, like=W, last=self.input_size, shape_desc=order)
        xp = array_module(x)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, N, _ = x.shape
        L, H = self.num_layers, self.hidden_size
        hx = self._states_in(hx, N, W)
        zeros = xp.zeros((N, H), dtype=x.dtype)
        finals = tuple(xp.empty((L, N, H), dtype=x.dtype) for _ in self.state_names)
        caches, inp = [], x
        for l in range(L):
            state0 = tuple(zeros if s is None else s[l] for s in hx)
            out, last, cache = self._layer_forward(l, inp, state0)
            for f, v in zip(finals, last):
                f[l] = v
            mask = None
            if self.training and self.dropout > 0 and l < L - 1:
                mask = dropout_mask(out, self.dropout)
                out = out * mask
            caches.append((inp, cache, mask))
            inp = out
        self.cache = (caches, N)
        # A copy: the output is a view of a buffer the backward pass reads, and a caller
        # changing it in place must not change the gradients.
        out = (inp.transpose(1, 0, 2) if self.batch_first else inp).copy()
        return out, self._states_out(finals)

    def backward(self, d_output, d_hx=None):
        """Backpropagation through time over the sequence of the last ``forward``.

        Parameters
        ----------
        d_output : array, same shape as ``output``
        d_hx : gradient(s) w.r.t. the final state(s), shape (num_layers, N, hidden_size) each, or None

        Returns
        -------
        dx : array, same shape as ``x``
        gradient(s) w.r.t. the initial state(s), shape (num_layers, N, hidden_size) each

        Parameter gradients are *added* to ``self.grads``.
        """
        caches, N = self.saved()
        L, H = self.num_layers, self.hidden_size
        W = self.params["W_hh_l0"]
        T = caches[0][0].shape[0]
        check_shape("d_output", d_output, (N, T, H) if self.batch_first else (T, N, H), like=W)
        d_final = self._states_in(d_hx, N, W, prefix="d_")
        dout = d_output.transpose(1, 0, 2) if self.batch_first else d_output
        xp = array_module(dout)
        d_state0 = tuple(xp.empty((L, N, H), dtype=dout.dtype) for _ in self.state_names)
        records = [xp.empty((T, N, H), dtype=dout.dtype) for _ in range(L)] if self.record_state_grads else None
        for l in range(L - 1, -1, -1):
            inp, cache, _ = caches[l]
            dx, d0 = self._layer_backward(l, dout, tuple(None if d is None else d[l] for d in d_final), inp, cache,
                                          None if records is None else records[l])
            for a, v in zip(d_state0, d0):
                a[l] = v
            if l > 0 and caches[l - 1][2] is not None:
                dx *= caches[l - 1][2]  # through the dropout mask on the layer below's output
            dout = dx
        self.state_grads = records
        return (dout.transpose(1, 0, 2) if self.batch_first else dout), self._states_out(d_state0)

    def _add_grads(self, l: int, dW_xh, dW_hh, db_h) -> None:
        g = self.grads
        g[f"W_xh_l{l}"] += dW_xh
        g[f"W_hh_l{l}"] += dW_hh
        if self.bias:
            g[f"b_h_l{l}"] += db_h

    def _layer_forward(self, l, x, state0):
        raise NotImplementedError  # abstract

    def _layer_backward(self, l, dout, d_final, x, cache, record=None):
        raise NotImplementedError  # abstract

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


class RNN(RecurrentBase):
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

    ``forward(x, h0=None) -> (output, h_n)`` and ``backward(d_output, d_h_n=None) -> (dx, dh0)``,
    with the shapes of :meth:`RecurrentBase.forward` and :meth:`RecurrentBase.backward`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype=np.float32):
        activation(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)
        self.nonlinearity = nonlinearity

    def _layer_forward(self, l, x, state0):
        p = self.params
        hs = rnn_layer_forward(x, state0[0], p[f"W_xh_l{l}"], p[f"W_hh_l{l}"], p.get(f"b_h_l{l}"), self.nonlinearity)
        return hs[1:], (hs[-1],), hs

    def _layer_backward(self, l, dout, d_final, x, hs, record=None):
        p = self.params
        dx, dh0, dW_xh, dW_hh, db_h = rnn_layer_backward(dout, d_final[0], x, hs, p[f"W_xh_l{l}"], p[f"W_hh_l{l}"],
                                                         self.nonlinearity, record)
        self._add_grads(l, dW_xh, dW_hh, db_h)
        return dx, (dh0,)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")
