"""One time step of a recurrent cell: pure ``forward -> (h, cache)`` and ``backward(dh, cache) -> grads``.

These are the equations of the chapters, one step at a time, for reading and
for step-by-step use. Whole sequences should use :mod:`rnnlab.recurrent`,
which runs the same maths with the input projection hoisted out of the loop.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .checks import check_float_array, check_shape
from .functional import activation
from .module import Module


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
    dx : (N, input_size), dh_prev : (N, hidden_size), dW_xh, dW_hh, db_h (None without bias)
    """
    x, h_prev, h, W_xh, W_hh, has_bias, nonlinearity = cache
    _, df = activation(nonlinearity)
    delta = dh * df(h)
    return (delta @ W_xh, delta @ W_hh, delta.T @ x, delta.T @ h_prev,
            delta.sum(axis=0) if has_bias else None)


def init_uniform(shape, hidden_size: int, dtype):
    """PyTorch's default for recurrent weights: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    k = 1.0 / np.sqrt(hidden_size)
    return backend.rng().uniform(-k, k, shape).astype(dtype)


class CellBase(Module):
    """What the one-step cells share: parameters ``W_xh`` (G*H, D), ``W_hh`` (G*H, H), ``b_h`` (G*H,),
    input checks, and a stack of per-step caches.

    Calling a cell repeatedly saves one step per call on the tape; ``backward`` consumes
    them in reverse order, which is exactly backpropagation through time. Under
    :func:`rnnlab.no_grad` nothing is saved, so step-by-step inference runs in constant
    memory.
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        G, H = self.gates, hidden_size
        self.add_param("W_xh", init_uniform((G * H, input_size), H, dtype))
        self.add_param("W_hh", init_uniform((G * H, H), H, dtype))
        if bias:
            self.add_param("b_h", init_uniform((G * H,), H, dtype))

    def _check_step(self, x, states: dict):
        """Check ``x`` (N, input_size) and each named state (N, hidden_size); None becomes zeros."""
        W_hh = self.params["W_hh"]
        check_float_array("x", x, ndim=2, like=W_hh, last=self.input_size, shape_desc="(N, input_size)")
        shape = (x.shape[0], self.hidden_size)
        out = []
        for name, s in states.items():
            if s is None:
                s = backend.array_module(x).zeros(shape, x.dtype)
            check_shape(name, s, shape, like=W_hh)
            out.append(s)
        return out

    def _pop(self, **upstream):
        """The saved step of the latest forward not yet backpropagated, after checking the
        upstream gradients' shapes (None is allowed: an unused output)."""
        shape = (self._batch_size(self.saved(pop=False)), self.hidden_size)
        for name, g in upstream.items():
            if g is not None:
                check_shape(name, g, shape, like=self.params["W_hh"])
        return self.saved()

    @staticmethod
    def _batch_size(cache) -> int:
        return cache[0].shape[0]  # every step cache starts with the step's input x (N, D)

    def _add_grads(self, **grads) -> None:
        for k, g in grads.items():
            if g is not None:
                self.grads[k] += g

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(CellBase):
    r"""A vanilla RNN cell as a module, like ``torch.nn.RNNCell``.

    .. math:: h_t = \phi(W_{xh} x_t + W_{hh} h_{t-1} + b_h)

    ``forward(x, h=None) -> h_next`` and ``backward(dh) -> (dx, dh_prev)``, one step at a
    time (see :class:`CellBase`). Derived in the chapter "Backpropagation through time".

    Attributes
    ----------
    params : ``W_xh`` (hidden_size, input_size), ``W_hh`` (hidden_size, hidden_size), ``b_h`` (hidden_size,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype=np.float32):
        activation(nonlinearity)  # validate early
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None):
        """x : (N, input_size), h : (N, hidden_size) or None for zeros -> h_next : (N, hidden_size)."""
        (h,) = self._check_step(x, {"h": h})
        p = self.params
        h_next, cache = rnn_step_forward(x, h, p["W_xh"], p["W_hh"], p.get("b_h"), self.nonlinearity)
        self.save_for_backward(cache)
        return h_next.copy()  # the cache holds h_next for phi'; the caller may change its copy

    def backward(self, dh):
        """Backward of the most recent un-backpropagated step: returns ``(dx, dh_prev)``."""
        dx, dh_prev, dW_xh, dW_hh, db_h = rnn_step_backward(dh, self._pop(dh=dh))
        self._add_grads(W_xh=dW_xh, W_hh=dW_hh, b_h=db_h)
        return dx, dh_prev

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"
