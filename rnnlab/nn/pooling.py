"""Pooling over time: one vector per sequence of a padded batch (many-to-one).

A classifier over sentences reads a recurrent layer's outputs ``(T, N, F)`` and needs
one ``(N, F)`` vector per sentence. With padding, only each sequence's real steps may
count: the last *real* step, not step ``T``; the mean over ``lengths[n]`` steps, not
``T``.
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from ..checks import check_float_array, check_shape
from ..module import Module
from .sequences import Packing

MODES = ("last", "mean", "max")


class SequencePool(Module):
    r"""Pool a padded batch of sequences over time: ``'last'``, ``'mean'`` or ``'max'``.

    .. math::
        \text{last}_n = x_{L_n, n}, \qquad
        \text{mean}_n = \frac{1}{L_n} \sum_{t=1}^{L_n} x_{t, n}, \qquad
        \text{max}_{n,f} = \max_{t \le L_n} x_{t, n, f}

    with :math:`L_n` the length of sequence :math:`n` (:math:`T` without ``lengths``).
    The gradient of ``'max'`` goes to the first step holding the maximum, as
    ``torch.max`` does. For a bidirectional layer, ``'last'`` reads the reverse
    direction after only one step: pool its final state ``h_n`` instead, or use
    ``'mean'``/``'max'``.

    Parameters
    ----------
    mode : ``'last'`` (default), ``'mean'`` or ``'max'``
    batch_first : bool
        ``x`` is (N, T, F) instead of (T, N, F).

    ``forward(x, lengths=None) -> (N, F)``; ``backward(dy) -> dx``, zero on padding.
    """

    def __init__(self, mode: str = "last", batch_first: bool = False):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode, self.batch_first = mode, batch_first

    def forward(self, x, lengths=None):
        """x : array, shape (T, N, F) (or (N, T, F)) -> y : array, shape (N, F).

        ``lengths`` : int array, shape (N,), optional.
        """
        order = "(N, T, F)" if self.batch_first else "(T, N, F)"
        check_float_array("x", x, ndim=3, like=x, shape_desc=order)
        xp = array_module(x)
        x = x.transpose(1, 0, 2) if self.batch_first else x
        T, N, _ = x.shape
        packing = Packing(
            np.full(N, T) if lengths is None else lengths, T, N, xp, x.dtype
        )
        active = packing.active  # (T, N, 1): 1 on real steps, 0 on padding
        L = xp.asarray(packing.lengths)
        if self.mode == "last":
            at = L - 1
            y = x[at, xp.arange(N)]
        elif self.mode == "mean":
            at = None
            y = (x * active).sum(axis=0) / L[:, None].astype(x.dtype)
        else:  # max over real steps; padding can never win
            # (N, F), first maximum
            at = xp.where(active > 0, x, -xp.inf).argmax(axis=0)
            y = x[(at,) + _rows_cols(xp, *at.shape)]
        self.save_for_backward((x.shape, at, L, active))
        return y

    def backward(self, dy):
        """dy : array, shape (N, F) -> dx, the shape of ``x``, zero on padding."""
        shape, at, L, active = self.saved(pop=False)
        T, N, F = shape
        check_shape("dy", dy, (N, F), like=dy)
        self.saved()
        xp = array_module(dy)
        if self.mode == "mean":
            dx = active * (dy / L[:, None].astype(dy.dtype))[None]
        else:
            dx = xp.zeros(shape, dtype=dy.dtype)
            if self.mode == "last":
                dx[at, xp.arange(N)] = dy
            else:
                dx[(at,) + _rows_cols(xp, N, F)] = dy
        return dx.transpose(1, 0, 2) if self.batch_first else dx

    def extra_repr(self):
        return f"mode={self.mode!r}" + (
            ", batch_first=True" if self.batch_first else ""
        )


def _rows_cols(xp, N: int, F: int):
    """Index arrays that, after a (N, F) array t of time steps, pick (t[n, f], n, f)."""
    return xp.arange(N)[:, None], xp.arange(F)[None, :]
