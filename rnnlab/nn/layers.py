"""Feed-forward building blocks: ``Linear``, ``Embedding`` and ``Dropout``."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..checks import check_float_array, check_int_array, check_shape
from ..module import Module


class Linear(Module):
    r"""Affine map :math:`y = x W^\top + b` applied to the last axis.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    dtype : NumPy dtype of the parameters (float32 by default).

    Attributes
    ----------
    params["W"] : array, shape (out_features, in_features)
        Initialised U(-1/sqrt(in), 1/sqrt(in)) as in ``torch.nn.Linear``.
    params["b"] : array, shape (out_features,)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / np.sqrt(in_features)
        g = backend.rng()
        self.add_param("W", g.uniform(-k, k, (out_features, in_features)).astype(dtype))
        if bias:
            self.add_param("b", g.uniform(-k, k, out_features).astype(dtype))

    def forward(self, x):
        """x : array, shape (..., in_features) -> y, shape (..., out_features)."""
        W = self.params["W"]
        check_float_array(
            "x",
            x,
            ndim=None,
            like=W,
            last=self.in_features,
            shape_desc="(..., in_features)",
        )
        self.save_for_backward(x)
        y = x @ W.T
        if "b" in self.params:
            y += self.params["b"]
        return y

    def backward(self, dy):
        """dy : array, shape (..., out_features) -> dx, shape (..., in_features)."""
        x, W = self.saved(pop=False), self.params["W"]
        check_shape("dy", dy, x.shape[:-1] + (self.out_features,), like=W)
        self.saved()
        dy2 = dy.reshape(-1, self.out_features)
        self.grads["W"] += dy2.T @ x.reshape(-1, self.in_features)
        if "b" in self.params:
            self.grads["b"] += dy2.sum(axis=0)
        return dy @ W

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={'b' in self.params}"


class Embedding(Module):
    r"""Lookup table: row :math:`W_{i}` for each integer index :math:`i`.

    Attributes
    ----------
    params["W"] : array, shape (num_embeddings, embedding_dim)
        Initialised N(0, 1) as in PyTorch.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=np.float32):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.add_param(
            "W",
            backend.rng()
            .standard_normal((num_embeddings, embedding_dim))
            .astype(dtype),
        )

    def forward(self, idx):
        """idx : int array, any shape (...) -> array, shape (..., embedding_dim)."""
        check_int_array("idx", idx, high=self.num_embeddings)
        W = self.params["W"]
        if backend.device_of(idx) != backend.device_of(W):
            raise ValueError(
                f"idx is on {backend.device_of(idx)} "
                f"but the embedding is on {backend.device_of(W)}"
            )
        self.save_for_backward(idx)
        return W[idx]

    def backward(self, dout):
        """Scatter-add ``dout`` into the rows used; repeated indices accumulate.

        Returns None (indices have no gradient).
        """
        idx = self.saved(pop=False)
        check_shape(
            "dout",
            dout,
            tuple(idx.shape) + (self.embedding_dim,),
            like=self.params["W"],
        )
        self.saved()
        backend.scatter_add(
            self.grads["W"], idx.reshape(-1), dout.reshape(-1, self.embedding_dim)
        )
        return None

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """Inverted dropout.

    In training, zero each entry with probability ``p`` and scale the rest by 1/(1-p).
    In eval mode (``module.eval()``) it is the identity.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        """x : array, any shape -> array, same shape."""
        if not self.training or self.p == 0.0:
            self.save_for_backward((x.shape, None))
            return x
        mask = dropout_mask(x, self.p)
        self.save_for_backward((x.shape, mask))
        return x * mask

    def backward(self, dout):
        """dout : array, shape of the output -> dx, same shape."""
        shape, mask = self.saved(pop=False)
        check_shape("dout", dout, tuple(shape), like=dout)
        self.saved()
        return dout if mask is None else dout * mask

    def extra_repr(self):
        return f"p={self.p}"


def dropout_mask(like, p: float):
    """A mask shaped like ``like`` with entries 0 (probability p) or 1/(1-p).

    Drawn from the seeded generator.
    """
    xp = backend.array_module(like)
    u = backend.uniform(xp, like.shape, like.dtype)
    return (u >= p).astype(like.dtype) / like.dtype.type(1.0 - p)
