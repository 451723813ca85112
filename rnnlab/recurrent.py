"""Recurrent layers over whole sequences, with hand-written backpropagation through time.

:class:`RecurrentBase` holds what RNN, LSTM and GRU share (PyTorch's constructor
arguments, input checks, ``batch_first``, the stack of layers, dropout between
layers); each architecture supplies one layer's forward and backward over time.
This module also holds the vanilla :class:`RNN`. What makes them fast:

* the input projection :math:`x_t W_{xh}^\\top + b_h` of *all* time steps is one
  matrix product, written straight into the preallocated state buffer;
* the loop over time does only what must be sequential: one
  ``(N, H) @ (H, H)`` product and one elementwise update per step, in place;
* on the GPU that update is one fused kernel (:mod:`rnnlab.kernels`);
* in the backward pass the weight gradients and the input gradient of all steps
  are one matrix product each, after the loop.
"""
from __future__ import annotations

import numpy as np

from . import kernels
from .backend import array_module, fused, launch
from .cells import init_uniform
from .checks import check_float_array, check_shape
from .functional import activation
from .layers import dropout_mask
from .module import Module
from .sequences import Packing, reverse_time


def rnn_pointwise_forward(a, ah, nonlinearity: str) -> None:
    r"""The elementwise part of an RNN step in place: :math:`a \leftarrow \phi(a + a_h)`
    (one fused kernel on the GPU).

    a : array, shape (N, H), the input projection, overwritten with :math:`h_t`;
    ah : array, shape (N, H), the recurrent product :math:`h_{t-1} W_{hh}^\top`.
    """
    f, _ = activation(nonlinearity)
    if fused(a):
        launch(kernels.RNN_FORWARD[nonlinearity], ah, a)
        return
    a += ah
    f(a, out=a)


def rnn_pointwise_backward(dh, delta, dout) -> None:
    r"""The elementwise part of an RNN step's backward, in place (one fused kernel on the GPU):
    ``dh += dout`` (now :math:`\partial L/\partial h_t`), then ``delta *= dh``, turning
    :math:`\phi'(a_t)` into :math:`\partial L/\partial a_t`. All arrays (N, H).
    """
    if fused(dh):
        launch(kernels.RNN_BACKWARD_DOUT, dout, dh, delta)
        return
    dh += dout
    delta *= dh


def rnn_layer_forward(x, h0, W_xh, W_hh, b_h, nonlinearity: str, frozen=None):
    """Run one RNN layer over a sequence.

    Parameters
    ----------
    x : array, shape (T, N, D)
    h0 : array, shape (N, H)
    W_xh : (H, D), W_hh : (H, H), b_h : (H,) or None
    frozen : bool array, shape (T, N, 1), optional
        True where step ``t`` is past the end of sequence ``n``: its state is carried unchanged
        (:class:`rnnlab.sequences.Packing`).

    Returns
    -------
    hs : array, shape (T + 1, N, H)
        ``hs[0] = h0`` and ``hs[1:]`` the outputs; kept for the backward pass.
    """
    xp = array_module(x)
    T, N, D = x.shape
    H = W_hh.shape[0]
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    # Input projection of every step in one product, written into hs[1:].
    xp.matmul(x.reshape(T * N, D), W_xh.T, out=hs[1:].reshape(T * N, H))
    if b_h is not None:
        hs[1:] += b_h
    W_hhT, tmp = W_hh.T, xp.empty((N, H), dtype=x.dtype)
    for t in range(T):  # the sequential part: h_t = f(a_t + h_{t-1} W_hh^T)
        xp.matmul(hs[t], W_hhT, out=tmp)
        rnn_pointwise_forward(hs[t + 1], tmp, nonlinearity)
        if frozen is not None:
            xp.copyto(hs[t + 1], hs[t], where=frozen[t])
    return hs


def rnn_layer_backward(dout, dh_n, x, hs, W_xh, W_hh, nonlinearity: str, record=None, frozen=None):
    """BPTT through one RNN layer.

    Parameters
    ----------
    dout : array, shape (T, N, H), gradient w.r.t. the outputs ``hs[1:]``
    dh_n : array, shape (N, H), or None, gradient w.r.t. the final state
    x, hs : the forward's input and state buffer
    record : array, shape (T, N, H), optional
        If given, filled with :math:`\\partial L/\\partial h_t` for every step (see ``record_state_grads``).
    frozen : as in :func:`rnn_layer_forward`; frozen steps pass the gradient through unchanged.

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
        rnn_pointwise_backward(dh, delta[t], dout[t])
        if record is not None:
            record[t] = dh
        if frozen is None:
            xp.matmul(delta[t], W_hh, out=dh)  # dL/dh_{t-1} through W_hh
        else:
            xp.copyto(delta[t], 0, where=frozen[t])
            xp.copyto(dh, delta[t] @ W_hh, where=~frozen[t])
    d2 = delta.reshape(T * N, H)
    dW_hh = d2.T @ hs[:-1].reshape(T * N, H)
    dW_xh = d2.T @ x.reshape(T * N, -1)
    dx = (d2 @ W_xh).reshape(x.shape)
    return dx, dh, dW_xh, dW_hh, d2.sum(axis=0)


class RecurrentBase(Module):
    """Shared machinery of the sequence layers: ``num_layers`` stacked layers, each with one or
    two directions, over padded or unpadded batches.

    A subclass sets ``gates`` (blocks of ``hidden_size`` rows in each weight matrix),
    ``state_names`` (``("h",)``, or ``("h", "c")`` for the LSTM) and implements, for one
    direction of one layer (parameters named ``{name}_{key}``, e.g. ``W_hh_l1_reverse``):

    * ``_layer_forward(key, x, state0, frozen) -> (out, final_state, cache)`` with ``x`` of shape
      (T, N, in_l), ``out`` (T, N, H), states as tuples of (N, H) arrays, and ``frozen`` the
      padding mask of :class:`rnnlab.sequences.Packing` or None;
    * ``_layer_backward(key, dout, d_final, x, cache, record, frozen) -> (dx, d_state0)``, adding the
      parameter gradients into ``self.grads`` and, when ``record`` is an array, writing
      :math:`\\partial L/\\partial h_t` of every step into it.

    The reverse direction runs the same code on the time-reversed sequence.

    Set ``record_state_grads = True`` on a layer to keep, after each ``backward``, the gradient
    of the loss w.r.t. every hidden state in ``state_grads``: a list with one (T, N, H) array per
    layer and direction (index ``layer * num_directions + direction``), time-major, holding
    :math:`\\partial L/\\partial h_t` (from the output at :math:`t` and from the steps after it).
    The gradient-flow chapter plots its norms.
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
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = dropout, bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.record_state_grads, self.state_grads = False, None
        self.packing = None  # the padding of the last forward (rnnlab.sequences.Packing), if any
        G, H = self.gates, hidden_size
        for l, key in self._keys():
            d_in = input_size if l == 0 else hidden_size * self.num_directions
            self.add_param(f"W_xh_{key}", init_uniform((G * H, d_in), H, dtype))
            self.add_param(f"W_hh_{key}", init_uniform((G * H, H), H, dtype))
            if bias:
                self.add_param(f"b_h_{key}", init_uniform((G * H,), H, dtype))

    def _keys(self):
        """``(layer, key)`` for every layer and direction, in PyTorch's order: l0, l0_reverse, l1, ..."""
        return [(l, f"l{l}" + ("_reverse" if d else "")) for l in range(self.num_layers)
                for d in range(self.num_directions)]

    @property
    def layer_keys(self) -> list[str]:
        """The parameter-name suffixes of every layer and direction: ``['l0', 'l0_reverse', 'l1', ...]``."""
        return [k for _, k in self._keys()]

    # --- states: one array (h) or a tuple (h, c) of shape (num_layers * num_directions, N, H) ---
    def _states_in(self, hx, N, like, prefix=""):
        names = tuple(prefix + n + ("_n" if prefix else "0") for n in self.state_names)
        shape = (self.num_layers * self.num_directions, N, self.hidden_size)
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

    def forward(self, x, hx=None, lengths=None):
        """Run the whole sequence through every layer (and both directions when bidirectional).

        Parameters
        ----------
        x : array, shape (T, N, input_size), or (N, T, input_size) with ``batch_first``
        hx : initial state(s), shape (num_layers * num_directions, N, hidden_size) each, or None for zeros
        lengths : int array, shape (N,), optional
            The length of each sequence in a padded batch (any order, each in [1, T]). Past its
            length a sequence's state is frozen and its outputs are zero; the reverse direction
            reads only the real part. Equal to PyTorch on a ``pack_padded_sequence``.

        Returns
        -------
        output : array, shape (T, N, num_directions * hidden_size) (or batch first): the last layer's
            states, forward direction first
        final state(s) : shape (num_layers * num_directions, N, hidden_size) each: every layer's and
            direction's state after its last real step
        """
        W = self.params["W_hh_l0"]
        order = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
        check_float_array("x", x, ndim=3, like=W, last=self.input_size, shape_desc=order)
        xp = array_module(x)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, N, _ = x.shape
        H, D = self.hidden_size, self.num_directions
        packing = None if lengths is None else Packing(lengths, T, N, xp, x.dtype)
        frozen = None if packing is None else packing.frozen
        hx = self._states_in(hx, N, W)
        zeros = xp.zeros((N, H), dtype=x.dtype)
        finals = tuple(xp.empty((len(self._keys()), N, H), dtype=x.dtype) for _ in self.state_names)
        keys = [key for _, key in self._keys()]
        caches, inp, k = [], x, 0
        for l in range(self.num_layers):
            outs, dir_caches = [], []
            for d in range(D):
                key = keys[k]
                x_d = inp if d == 0 else reverse_time(inp, packing)
                out, last, cache = self._layer_forward(key, x_d, tuple(zeros if s is None else s[k] for s in hx), frozen)
                for f, v in zip(finals, last):
                    f[k] = v
                outs.append(out if d == 0 else reverse_time(out, packing))
                dir_caches.append(cache)
                k += 1
            out = outs[0] if D == 1 else xp.concatenate(outs, axis=-1)
            if packing is not None:
                out = out * packing.active  # padded steps output zeros
            mask = None
            if self.training and self.dropout > 0 and l < self.num_layers - 1:
                mask = dropout_mask(out, self.dropout)
                out = out * mask
            caches.append((inp, dir_caches[0] if D == 1 else tuple(dir_caches), mask))
            inp = out
        # per layer (input, direction caches, dropout mask), and the padding of the batch
        self.save_for_backward((caches, packing))
        self.packing = packing
        # A copy: the output may be a view of a buffer the backward pass reads, and a caller
        # changing it in place must not change the gradients.
        out = (inp.transpose(1, 0, 2) if self.batch_first else inp).copy()
        return out, self._states_out(finals)

    def backward(self, d_output, d_hx=None):
        """Backpropagation through time over the sequence of the last ``forward``.

        Parameters
        ----------
        d_output : array, same shape as ``output``, or None when the output was not used
            (a many-to-one model that reads only the final state)
        d_hx : gradient(s) w.r.t. the final state(s), shape (num_layers * num_directions, N, hidden_size)
            each, or None; for the LSTM a tuple ``(d_h_n, d_c_n)`` in which either may be None

        Returns
        -------
        dx : array, same shape as ``x`` (zero on padding)
        gradient(s) w.r.t. the initial state(s), shape (num_layers * num_directions, N, hidden_size) each

        Parameter gradients are *added* to ``self.grads``.
        """
        caches, packing = self.saved(pop=False)  # popped once the arguments are checked
        T, N = caches[0][0].shape[:2]  # the first layer's input, time-major
        H, D = self.hidden_size, self.num_directions
        W = self.params["W_hh_l0"]
        xp = array_module(W)
        if d_output is None:
            dout = xp.zeros((T, N, D * H), dtype=W.dtype)
        else:
            check_shape("d_output", d_output, (N, T, D * H) if self.batch_first else (T, N, D * H),
                        like=W)
            dout = d_output.transpose(1, 0, 2) if self.batch_first else d_output
        d_final = self._states_in(d_hx, N, W, prefix="d_")
        self.saved()
        frozen = None if packing is None else packing.frozen
        keys = [key for _, key in self._keys()]
        K = len(keys)
        d_state0 = tuple(xp.empty((K, N, H), dtype=dout.dtype) for _ in self.state_names)
        records = [None] * K
        for l in range(self.num_layers - 1, -1, -1):
            inp, cache, _ = caches[l]
            if packing is not None:
                dout = dout * packing.active  # padded outputs are constant zeros
            dx = None
            for d in range(D):
                k = l * D + d
                key = keys[k]
                dout_d = dout if D == 1 else dout[..., d * H:(d + 1) * H]
                x_d = inp
                if d == 1:
                    dout_d, x_d = reverse_time(dout_d, packing), reverse_time(inp, packing)
                record = xp.empty((T, N, H), dtype=dout.dtype) if self.record_state_grads else None
                dx_d, d0 = self._layer_backward(key, dout_d, tuple(None if s is None else s[k] for s in d_final),
                                                x_d, cache if D == 1 else cache[d], record, frozen)
                if d == 1:
                    dx_d = reverse_time(dx_d, packing)
                    record = None if record is None else reverse_time(record, packing)
                records[k] = record
                for a, v in zip(d_state0, d0):
                    a[k] = v
                dx = dx_d if dx is None else dx + dx_d
            if l > 0 and caches[l - 1][2] is not None:
                dx *= caches[l - 1][2]  # through the dropout mask on the layer below's output
            dout = dx
        self.state_grads = records if self.record_state_grads else None
        return (dout.transpose(1, 0, 2) if self.batch_first else dout), self._states_out(d_state0)

    def _add_grads(self, key: str, dW_xh, dW_hh, db_h) -> None:
        g = self.grads
        g[f"W_xh_{key}"] += dW_xh
        g[f"W_hh_{key}"] += dW_hh
        if self.bias:
            g[f"b_h_{key}"] += db_h

    def _layer_forward(self, key, x, state0, frozen=None):
        raise NotImplementedError  # abstract

    def _layer_backward(self, key, dout, d_final, x, cache, record=None, frozen=None):
        raise NotImplementedError  # abstract

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
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
    bidirectional : bool, default False
        Add a second layer reading the sequence backwards; outputs are concatenated (PyTorch's layout).
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

    def _layer_forward(self, key, x, state0, frozen=None):
        p = self.params
        hs = rnn_layer_forward(x, state0[0], p[f"W_xh_{key}"], p[f"W_hh_{key}"], p.get(f"b_h_{key}"),
                               self.nonlinearity, frozen)
        return hs[1:], (hs[-1],), hs

    def _layer_backward(self, key, dout, d_final, x, hs, record=None, frozen=None):
        p = self.params
        dx, dh0, dW_xh, dW_hh, db_h = rnn_layer_backward(dout, d_final[0], x, hs, p[f"W_xh_{key}"], p[f"W_hh_{key}"],
                                                         self.nonlinearity, record, frozen)
        self._add_grads(key, dW_xh, dW_hh, db_h)
        return dx, (dh0,)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")
