"""The vanilla RNN, :math:`h_t = \\phi(W_{xh} x_t + W_{hh} h_{t-1} + b_h)`.

One step as pure functions, the one-step cell, the elementwise part of a step, one layer
over a sequence, and the multi-layer sequence layer :class:`RNN`.

Derived in the chapters "Sequences and the vanilla RNN" and "Backpropagation through
time".
"""

from __future__ import annotations

import numpy as np

from ... import kernels
from ...backend import array_module, fused, launch
from ..functional import activation
from ..sequences import hold_grads, hold_states
from .base import CellBase, RecurrentBase


def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h=None, nonlinearity: str = "tanh"):
    r"""One vanilla RNN step, :math:`h_t = \phi(W_{xh} x_t + W_{hh} h_{t-1} + b_h)`.

    Parameters
    ----------
    x : array, shape (N, input_size)
    h_prev : array, shape (N, hidden_size)
    W_xh : array, shape (hidden_size, input_size)
    W_hh : array, shape (hidden_size, hidden_size)
    b_h : array, shape (hidden_size,), or None
    nonlinearity : ``'tanh'`` or ``'relu'``

    Returns
    -------
    h : array, shape (N, hidden_size)
    cache : what :func:`rnn_step_backward` needs
    """
    f, _ = activation(nonlinearity)
    a = x @ W_xh.T + h_prev @ W_hh.T
    if b_h is not None:
        a += b_h
    h = f(a)
    return h, (x, h_prev, h, W_xh, W_hh, b_h is not None, nonlinearity)


def rnn_step_backward(dh, cache):
    r"""Backward of :func:`rnn_step_forward`.

    With :math:`\delta = dh \odot \phi'(a)`: :math:`dx = \delta W_{xh}`,
    :math:`dh_{prev} = \delta W_{hh}`, :math:`dW_{xh} = \delta^\top x`,
    :math:`dW_{hh} = \delta^\top h_{prev}`, :math:`db_h = \sum_n \delta_n`.

    Returns
    -------
    dx : (N, input_size), dh_prev : (N, hidden_size)
    dW_xh, dW_hh, db_h : the parameter gradients (db_h None without bias)
    """
    x, h_prev, h, W_xh, W_hh, has_bias, nonlinearity = cache
    _, df = activation(nonlinearity)
    delta = dh * df(h)
    return (
        delta @ W_xh,
        delta @ W_hh,
        delta.T @ x,
        delta.T @ h_prev,
        delta.sum(axis=0) if has_bias else None,
    )


class RNNCell(CellBase):
    r"""A vanilla RNN cell as a module, like ``torch.nn.RNNCell``.

    .. math:: h_t = \phi(W_{xh} x_t + W_{hh} h_{t-1} + b_h)

    ``forward(x, h=None) -> h_next`` and ``backward(dh) -> (dx, dh_prev)``, one step at
    a time (see :class:`CellBase`). Derived in the chapter "Backpropagation through
    time".

    Attributes
    ----------
    params : ``W_xh`` (hidden_size, input_size), ``W_hh`` (hidden_size, hidden_size),
        ``b_h`` (hidden_size,)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype=np.float32,
    ):
        activation(nonlinearity)  # validate early
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None):
        """x (N, input_size), h (N, hidden_size) or None -> h' (N, hidden_size)."""
        (h,) = self._check_step(x, {"h": h})
        p = self.params
        h_next, cache = rnn_step_forward(
            x, h, p["W_xh"], p["W_hh"], p.get("b_h"), self.nonlinearity
        )
        self.save_for_backward(cache)
        # the cache holds h_next for phi'; the caller may change its copy
        return h_next.copy()

    def backward(self, dh):
        """Backward of the latest step not yet backpropagated: ``(dx, dh_prev)``."""
        dx, dh_prev, dW_xh, dW_hh, db_h = rnn_step_backward(dh, self._pop(dh=dh))
        self._add_grads(W_xh=dW_xh, W_hh=dW_hh, b_h=db_h)
        return dx, dh_prev

    def extra_repr(self):
        return (
            f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"
        )


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
    r"""The elementwise part of an RNN step's backward, in place (fused on the GPU).

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
        True where step ``t`` is past the end of sequence ``n``: its state is carried
        unchanged (:class:`rnnlab.nn.sequences.Packing`).

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
            hold_states(frozen[t], (hs[t + 1],), (hs[t],))
    return hs


def rnn_layer_backward(
    dout, dh_n, x, hs, W_xh, W_hh, nonlinearity: str, record=None, frozen=None
):
    """BPTT through one RNN layer.

    Parameters
    ----------
    dout : array, shape (T, N, H), gradient w.r.t. the outputs ``hs[1:]``
    dh_n : array, shape (N, H), or None, gradient w.r.t. the final state
    x, hs : the forward's input and state buffer
    record : array, shape (T, N, H), optional
        If given, filled with :math:`\\partial L/\\partial h_t` for every step (see
        ``record_state_grads``); on a frozen step, the gradient of the state carried
        through it.
    frozen : as in :func:`rnn_layer_forward`
        Frozen steps pass the gradient through unchanged.

    Returns
    -------
    dx : (T, N, D), dh0 : (N, H), dW_xh : (H, D), dW_hh : (H, H), db_h : (H,)
    """
    xp = array_module(dout)
    T, N, H = dout.shape
    _, df = activation(nonlinearity)
    # phi'(a_t) for all steps; becomes delta_t in place
    delta = df(hs[1:], out=xp.empty_like(dout))
    dh = xp.zeros((N, H), dtype=dout.dtype) if dh_n is None else dh_n.copy()
    for t in range(T - 1, -1, -1):  # dh = dL/dh_t from above and from the future
        # a frozen step's output is its carried state: both gradients pass it unchanged
        carried = None if frozen is None else (dh + dout[t],)
        rnn_pointwise_backward(dh, delta[t], dout[t])
        if record is not None:
            record[t] = dh
        xp.matmul(delta[t], W_hh, out=dh)  # dL/dh_{t-1} through W_hh
        if frozen is not None:
            hold_grads(frozen[t], (delta[t],), (dh,), carried)
    d2 = delta.reshape(T * N, H)
    dW_hh = d2.T @ hs[:-1].reshape(T * N, H)
    dW_xh = d2.T @ x.reshape(T * N, -1)
    dx = (d2 @ W_xh).reshape(x.shape)
    return dx, dh, dW_xh, dW_hh, d2.sum(axis=0)


class RNN(RecurrentBase):
    r"""Multi-layer vanilla RNN, a drop-in for ``torch.nn.RNN``.

    .. math::

        h_t^{(l)} = \phi\big(W_{xh}^{(l)} h_t^{(l-1)} + W_{hh}^{(l)} h_{t-1}^{(l)}
                   + b_h^{(l)}\big), \qquad h_t^{(0)} = x_t

    Derived in the chapters "Sequences and the vanilla RNN" and "Backpropagation through
    time".

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
        Add a second layer reading the sequence backwards; outputs are concatenated
        (PyTorch's layout).
    dtype : parameter dtype, float32 by default

    Attributes
    ----------
    params : for each layer ``l``: ``W_xh_l{l}`` (hidden_size, in_l),
        ``W_hh_l{l}`` (hidden_size, hidden_size),
        ``b_h_l{l}`` (hidden_size,), where ``in_0 = input_size`` and ``in_l =
        hidden_size`` after. PyTorch keeps two bias vectors (``bias_ih``, ``bias_hh``)
        whose sum is ``b_h``; see :mod:`rnnlab.interop`.

    ``forward(x, h0=None) -> (output, h_n)`` and ``backward(d_output, d_h_n=None) ->
    (dx, dh0)``, with the shapes of :meth:`RecurrentBase.forward` and
    :meth:`RecurrentBase.backward`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=np.float32,
    ):
        activation(nonlinearity)
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )
        self.nonlinearity = nonlinearity

    def _layer_forward(self, key, x, state0, frozen=None):
        p = self.params
        hs = rnn_layer_forward(
            x,
            state0[0],
            p[f"W_xh_{key}"],
            p[f"W_hh_{key}"],
            p.get(f"b_h_{key}"),
            self.nonlinearity,
            frozen,
        )
        return hs[1:], (hs[-1],), hs

    def _layer_backward(self, key, dout, d_final, x, hs, record=None, frozen=None):
        p = self.params
        dx, dh0, dW_xh, dW_hh, db_h = rnn_layer_backward(
            dout,
            d_final[0],
            x,
            hs,
            p[f"W_xh_{key}"],
            p[f"W_hh_{key}"],
            self.nonlinearity,
            record,
            frozen,
        )
        self._add_grads(key, dW_xh, dW_hh, db_h)
        return dx, (dh0,)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (
            f", nonlinearity={self.nonlinearity!r}"
            if self.nonlinearity != "tanh"
            else ""
        )


def IRNN(input_size: int, hidden_size: int, num_layers: int = 1, **kwargs) -> RNN:
    r"""A ReLU RNN started at the identity: the IRNN of Le, Jaitly and Hinton (2015).

    .. math:: h_t = \max(0,\; W_{xh} x_t + W_{hh} h_{t-1} + b_h), \qquad
        W_{hh} = I,\; b_h = 0 \text{ at the start}

    With the identity, the state is copied forward unchanged until the inputs and the
    learned weights change it, so gradients neither vanish nor explode early in
    training. ``kwargs`` as for :class:`RNN` (``nonlinearity`` excepted); the
    chapter "Images and video as sequences" compares it with the gated cells.
    """
    if "nonlinearity" in kwargs:
        raise TypeError("IRNN is a ReLU RNN: it takes no nonlinearity argument")
    from ..init import identity_  # init reaches into the layers: import it late

    return identity_(RNN(input_size, hidden_size, num_layers, "relu", **kwargs))
