"""Numerically stable elementwise functions, written once for NumPy and CuPy.

Each takes its array module from its input, so it runs wherever the data is.
"""

from __future__ import annotations

from ..backend import array_module


def sigmoid(x, out=None):
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})` without overflow.

    Uses :math:`\sigma(x) = \tfrac12(1 + \tanh(x/2))`, which is exact in form and
    never exponentiates a large positive number.
    """
    xp = array_module(x)
    out = xp.multiply(x, 0.5, out=out)
    xp.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def tanh(x, out=None):
    """Hyperbolic tangent (NumPy's and CuPy's are already stable)."""
    return array_module(x).tanh(x, out=out)


def relu(x, out=None):
    return array_module(x).maximum(x, 0, out=out)


def log_softmax(x, axis: int = -1):
    r""":math:`\log \operatorname{softmax}(x)`, computed stably.

    ``x`` is shifted by its maximum so that ``exp`` never overflows.
    """
    xp = array_module(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


def softmax(x, axis: int = -1):
    r"""Softmax, computed stably.

    .. math:: \operatorname{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}
    """
    xp = array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def activation(name: str):
    """``(f, df)`` for a recurrent nonlinearity.

    ``f(a, out)`` applies it in place-capable form and ``df(h, out)`` returns its
    derivative *from the output* ``h = f(a)`` (all that BPTT keeps).
    """
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"nonlinearity must be 'tanh' or 'relu', got {name!r}"
        ) from None


def _dtanh(h, out=None):
    # tanh'(a) = 1 - tanh(a)^2 = 1 - h^2
    xp = array_module(h)
    out = xp.multiply(h, h, out=out)
    return xp.subtract(1, out, out=out)


def _drelu(h, out=None):
    # relu'(a) = 1 where h = relu(a) > 0, else 0
    if out is None:
        return (h > 0).astype(h.dtype)
    return array_module(h).greater(h, 0, out=out)


_ACTIVATIONS = {"tanh": (tanh, _dtanh), "relu": (relu, _drelu)}
