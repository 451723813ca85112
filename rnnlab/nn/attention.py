"""Attention over the steps of a padded batch: a masked softmax, and attention pooling.

Attention gives each step :math:`t` of a sequence a score, turns the scores of the real
steps into weights that sum to one (padding gets exactly 0), and returns the weighted
sum of the steps. :class:`AttentionPool` learns the scores from the steps themselves,
for many-to-one models (Bahdanau et al. 2015's additive score with a learned query,
as in Yang et al. 2016's hierarchical attention networks); the weights show which
steps a prediction rests on.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import array_module
from ..checks import check_float_array, check_shape
from ..module import Module
from .sequences import Packing


def masked_softmax(scores, mask):
    r"""Softmax over the last axis where ``mask`` is True; exactly 0 elsewhere.

    .. math::

        \alpha_{n,s} = \frac{m_{n,s}\, e^{e_{n,s}}}{\sum_{s'} m_{n,s'} e^{e_{n,s'}}}

    Parameters
    ----------
    scores : array, shape (N, S)
    mask : bool array, shape (N, S), with at least one True per row

    Returns
    -------
    weights : array, shape (N, S), each row summing to 1
    """
    xp = array_module(scores)
    shifted = xp.where(mask, scores, -xp.inf)
    shifted = shifted - shifted.max(axis=-1, keepdims=True)
    w = xp.exp(shifted)  # exp(-inf) = 0 on masked entries
    return w / w.sum(axis=-1, keepdims=True)


def masked_softmax_backward(weights, d_weights):
    r"""Gradient w.r.t. the scores of :func:`masked_softmax`.

    .. math:: \partial e_{n,s} = \alpha_{n,s}\big(\partial\alpha_{n,s}
              - \textstyle\sum_{s'} \alpha_{n,s'}\, \partial\alpha_{n,s'}\big)

    Masked entries have weight 0, so their gradient is 0 too.
    """
    return weights * (d_weights - (weights * d_weights).sum(axis=-1, keepdims=True))


class AttentionPool(Module):
    r"""Pool a padded batch of sequences with learned attention weights.

    .. math::

        u_t = \tanh(W x_t + b), \qquad e_t = v^\top u_t, \qquad
        \alpha = \operatorname{softmax}_{t \le L_n}(e), \qquad
        y = \sum_{t=1}^{L_n} \alpha_t x_t

    Parameters
    ----------
    features : int
        F, the size of each step's vector.
    attention_size : int
        A, the size of the hidden layer that scores the steps.
    batch_first : bool
        ``x`` is (N, T, F) instead of (T, N, F).
    dtype : parameter dtype

    Attributes
    ----------
    params : ``W`` (A, F), ``b`` (A,), ``v`` (A,), initialised U(-k, k) with
        k = 1/sqrt(fan-in), as ``torch.nn.Linear`` does
    weights : array, shape (N, T)
        The attention weights of the latest forward (0 on padding), to look at.

    ``forward(x, lengths=None) -> y (N, F)``; ``backward(dy) -> dx``, zero on padding.
    """

    def __init__(
        self,
        features: int,
        attention_size: int,
        batch_first: bool = False,
        dtype=np.float32,
    ):
        super().__init__()
        self.features, self.attention_size = features, attention_size
        self.batch_first = batch_first
        g = backend.rng()
        k, kv = 1.0 / np.sqrt(features), 1.0 / np.sqrt(attention_size)
        self.add_param("W", g.uniform(-k, k, (attention_size, features)).astype(dtype))
        self.add_param("b", g.uniform(-k, k, attention_size).astype(dtype))
        self.add_param("v", g.uniform(-kv, kv, attention_size).astype(dtype))
        self.weights = None

    def forward(self, x, lengths=None):
        """x : array, shape (T, N, F) (or (N, T, F)) -> y : array, shape (N, F).

        ``lengths`` : int array, shape (N,), optional.
        """
        p = self.params
        order = "(N, T, F)" if self.batch_first else "(T, N, F)"
        check_float_array(
            "x", x, ndim=3, like=p["W"], last=self.features, shape_desc=order
        )
        xp = array_module(x)
        x = x.transpose(1, 0, 2) if self.batch_first else x
        T, N, F = x.shape
        lengths = np.full(N, T) if lengths is None else lengths
        real = ~Packing(lengths, T, N, xp, x.dtype).frozen[..., 0]  # (T, N)
        u = xp.tanh(x @ p["W"].T + p["b"])  # (T, N, A)
        alpha = masked_softmax((u @ p["v"]).T, real.T)  # (N, T)
        y = xp.einsum("nt,tnf->nf", alpha, x)
        self.weights = alpha
        self.save_for_backward((x, u, alpha))
        return y

    def backward(self, dy):
        """dy : array, shape (N, F) -> dx, the shape of ``x``, zero on padding."""
        x, u, alpha = self.saved(pop=False)
        T, N, F = x.shape
        p = self.params
        check_shape("dy", dy, (N, F), like=p["W"])
        self.saved()
        xp = array_module(dy)
        d_alpha = xp.einsum("nf,tnf->nt", dy, x)
        de = masked_softmax_backward(alpha, d_alpha).T  # (T, N)
        self.grads["v"] += xp.einsum("tn,tna->a", de, u)
        da = de[..., None] * p["v"] * (1 - u * u)  # (T, N, A): through tanh
        self.grads["W"] += da.reshape(T * N, -1).T @ x.reshape(T * N, F)
        self.grads["b"] += da.sum(axis=(0, 1))
        dx = alpha.T[..., None] * dy[None] + da @ p["W"]
        return dx.transpose(1, 0, 2) if self.batch_first else dx

    def extra_repr(self):
        s = f"{self.features}, attention_size={self.attention_size}"
        return s + (", batch_first=True" if self.batch_first else "")
