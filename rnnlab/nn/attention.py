"""Attention over the steps of a padded batch: a masked softmax, the additive score,
attention pooling, and additive and multiplicative attention.

Attention gives each step :math:`s` of a sequence a score, turns the scores of the real
steps into weights that sum to one (padding gets exactly 0), and returns the weighted
sum of the steps' values. The additive score of Bahdanau et al. (2015) is
:math:`e_s = v^\top \tanh(a_s)` with :math:`a_s` an affine map of what is compared.
:class:`AdditiveAttention` compares a query (a decoder's state) with every key (the
encoder's outputs); :class:`AttentionPool` has no query, for many-to-one models (as in
Yang et al. 2016's hierarchical attention networks). The weights show which steps an
output rests on.
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


def additive_score(a, v):
    r"""The additive score :math:`e = v^\top \tanh(a)` over the last axis.

    Parameters
    ----------
    a : array, shape (..., A), the pre-activations; overwritten by :math:`\tanh(a)`
        (the largest array of an attention step: not copying it saves time)
    v : array, shape (A,)

    Returns
    -------
    u : array, shape (..., A), :math:`\tanh(a)` (``a`` itself), for the backward pass
    e : array, shape (...)
    """
    u = array_module(a).tanh(a, out=a)
    return u, u @ v


def additive_score_backward(de, u, v):
    """Gradients of :func:`additive_score` from ``de`` (...).

    Returns ``da`` (..., A) and ``dv`` (A,).
    """
    A = v.shape[0]
    dv = de.reshape(-1) @ u.reshape(-1, A)
    return de[..., None] * v * (1 - u * u), dv


def _uniform(shape, fan_in: int, dtype):
    k = 1.0 / np.sqrt(fan_in)  # as torch.nn.Linear initialises
    return backend.rng().uniform(-k, k, shape).astype(dtype)


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
        self.add_param("W", _uniform((attention_size, features), features, dtype))
        self.add_param("b", _uniform(attention_size, features, dtype))
        self.add_param("v", _uniform(attention_size, attention_size, dtype))
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
        u, e = additive_score(x @ p["W"].T + p["b"], p["v"])  # (T, N, A), (T, N)
        alpha = masked_softmax(e.T, real.T)  # (N, T)
        y = xp.einsum("nt,tnf->nf", alpha, x)
        self.weights = alpha.copy()  # to look at: changing it must not change dx
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
        da, dv = additive_score_backward(de, u, p["v"])  # (T, N, A), (A,)
        self.grads["v"] += dv
        self.grads["W"] += da.reshape(T * N, -1).T @ x.reshape(T * N, F)
        self.grads["b"] += da.sum(axis=(0, 1))
        dx = alpha.T[..., None] * dy[None] + da @ p["W"]
        return dx.transpose(1, 0, 2) if self.batch_first else dx

    def extra_repr(self):
        s = f"{self.features}, attention_size={self.attention_size}"
        return s + (", batch_first=True" if self.batch_first else "")


class _QueryAttention(Module):
    """Attention of one or several queries per row over that row's padded keys:
    validation, the masked softmax and the weighted sum of the values, shared by every
    score.

    A subclass gives ``_score(query, keys, projected) -> (e, cache)`` with query
    (N, T, Hq) and ``e`` (N, T, S), and ``_score_backward(de, cache) -> (d_query,
    d_keys)`` adding its parameters' gradients; ``project_keys(keys)`` is what
    ``_score`` may be given instead of computing it again.
    """

    def project_keys(self, keys):
        """The part of the score that depends on the keys alone, to pass back as
        ``projected_keys`` when several calls attend over the same keys (a decoder
        does, once per step). None when there is nothing worth keeping."""
        return None

    def forward(
        self, query, keys, values, lengths=None, *, projected_keys=None, check=True
    ):
        """Attend from ``query`` over ``keys``; average ``values`` with the weights.

        Parameters
        ----------
        query : array, shape (N, Hq), or (N, T, Hq) for T queries per row (all the
            steps of a decoder at once) over the same keys
        keys : array, shape (N, S, Hk)
        values : array, shape (N, S, Hv)
        lengths : int array, shape (N,), optional: key ``s`` of row ``n`` counts only
            if ``s < lengths[n]``
        projected_keys : optional, ``project_keys(keys)`` computed before, reused
        check : bool
            Validate the arrays (shapes, dtype, device, no NaN). A model that calls
            the layer on its own, already checked, arrays at every step may skip it.

        Returns
        -------
        context : array, shape (N, Hv), or (N, T, Hv)
        weights : array, shape (N, S), or (N, T, S); 0 beyond each length
        """
        several = getattr(query, "ndim", 0) == 3
        if check:
            self._check(query, keys, values, several)
        N, S, _ = keys.shape
        xp = array_module(keys)
        lengths = np.full(N, S) if lengths is None else lengths
        real = ~Packing(lengths, S, N, xp, keys.dtype).frozen[..., 0].T  # (N, S)
        q = query if several else query[:, None, :]  # (N, T, Hq)
        e, cache = self._score(q, keys, projected_keys)  # (N, T, S)
        alpha = masked_softmax(e, real[:, None, :])
        context = alpha @ values  # (N, T, Hv)
        self.save_for_backward((values, alpha, several, cache))
        if not several:
            context, alpha = context[:, 0], alpha[:, 0]
        return context, alpha.copy()  # the caller may change its copy

    def _check(self, query, keys, values, several: bool) -> None:
        # a parameter sets the dtype and device; the parameter-free dot score follows
        # the query
        like = next(iter(self.params.values()), query)
        check_float_array(
            "query",
            query,
            ndim=3 if several else 2,
            like=like,
            last=self.query_size,
            shape_desc="(N, query_size) or (N, T, query_size)",
        )
        check_float_array(
            "keys",
            keys,
            ndim=3,
            like=like,
            last=self.key_size,
            shape_desc="(N, S, key_size)",
        )
        N, S = keys.shape[:2]
        if query.shape[0] != N:
            raise ValueError(
                f"query has {query.shape[0]} rows but keys have {N}: one query (or one "
                "set of queries) per row"
            )
        check_float_array(
            "values", values, ndim=3, like=like, shape_desc="(N, S, value_size)"
        )
        if values.shape[:2] != (N, S):
            raise ValueError(
                f"values has shape {tuple(values.shape)}, expected (N, S) = {(N, S)} "
                f"first, as keys {tuple(keys.shape)}"
            )

    def backward(self, d_context, d_weights=None):
        """Gradients w.r.t. ``query``, ``keys`` and ``values``; parameters' are added.

        ``d_context`` (N, Hv) or (N, T, Hv) as the context; ``d_weights`` (N, S) or
        (N, T, S) as the weights, or None when the weights were only looked at.
        """
        values, alpha, several, cache = self.saved(pop=False)
        N, S, Hv = values.shape
        T = alpha.shape[1]
        like = next(iter(self.params.values()), values)
        lead = (N, T) if several else (N,)
        check_shape("d_context", d_context, lead + (Hv,), like=like)
        if d_weights is not None:
            check_shape("d_weights", d_weights, lead + (S,), like=like)
        self.saved()
        if not several:
            d_context = d_context[:, None, :]
            d_weights = None if d_weights is None else d_weights[:, None, :]
        d_alpha = d_context @ values.transpose(0, 2, 1)  # (N, T, S)
        if d_weights is not None:
            d_alpha = d_alpha + d_weights
        d_values = alpha.transpose(0, 2, 1) @ d_context  # (N, S, Hv)
        d_query, d_keys = self._score_backward(
            masked_softmax_backward(alpha, d_alpha), cache
        )
        return (d_query if several else d_query[:, 0]), d_keys, d_values


class AdditiveAttention(_QueryAttention):
    r"""Additive attention (Bahdanau et al. 2015) of a query over a padded set of keys.

    .. math::

        e_s = v^\top \tanh(W_q q + W_k k_s), \qquad
        \alpha = \operatorname{softmax}_{s \le L_n}(e), \qquad
        c = \sum_{s=1}^{L_n} \alpha_s\, \mathrm{value}_s

    Parameters
    ----------
    query_size, key_size : int
        Hq and Hk: e.g. a decoder's state size and an encoder's output size.
    attention_size : int
        A, the size of the hidden layer that scores each key.
    dtype : parameter dtype

    Attributes
    ----------
    params : ``W_q`` (A, Hq), ``W_k`` (A, Hk), ``v`` (A,), initialised U(-k, k) with
        k = 1/sqrt(fan-in)

    ``forward(query, keys, values, lengths=None) -> (context, weights)`` and
    ``backward(d_context, d_weights=None) -> (d_query, d_keys, d_values)``; a decoder
    may call it at every step and backpropagate the steps in reverse, or pass all its
    steps' queries at once (query (N, T, Hq)), which projects the keys only once.
    ``project_keys(keys)`` gives :math:`W_k k_s` (N, S, A) to reuse across calls.
    """

    def __init__(
        self, query_size: int, key_size: int, attention_size: int, dtype=np.float32
    ):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.attention_size = attention_size
        A = attention_size
        self.add_param("W_q", _uniform((A, query_size), query_size, dtype))
        self.add_param("W_k", _uniform((A, key_size), key_size, dtype))
        self.add_param("v", _uniform(A, A, dtype))

    def project_keys(self, keys):
        """:math:`W_k k_s` for every key: (N, S, Hk) -> (N, S, A)."""
        return keys @ self.params["W_k"].T

    def _score(self, query, keys, projected):
        p = self.params
        k = self.project_keys(keys) if projected is None else projected
        a = k[:, None] + (query @ p["W_q"].T)[:, :, None]  # (N, T, S, A)
        u, e = additive_score(a, p["v"])
        return e, (query, keys, u)

    def _score_backward(self, de, cache):
        query, keys, u = cache
        p, A = self.params, self.attention_size
        da, dv = additive_score_backward(de, u, p["v"])  # (N, T, S, A)
        self.grads["v"] += dv
        da_k = da.sum(axis=1)  # each key's term is shared by all the queries
        self.grads["W_k"] += da_k.reshape(-1, A).T @ keys.reshape(-1, keys.shape[-1])
        da_q = da.sum(axis=2)  # and each query's by all the keys
        self.grads["W_q"] += da_q.reshape(-1, A).T @ query.reshape(-1, self.query_size)
        return da_q @ p["W_q"], da_k @ p["W_k"]

    def extra_repr(self):
        return (
            f"query_size={self.query_size}, key_size={self.key_size}, "
            f"attention_size={self.attention_size}"
        )


class MultiplicativeAttention(_QueryAttention):
    r"""Multiplicative attention (Luong et al. 2015) of a query over padded keys.

    .. math::

        e_s = q^\top k_s \;\; (\text{``dot''}), \qquad
        e_s = q^\top W_a k_s \;\; (\text{``general''}), \qquad
        \alpha = \operatorname{softmax}_{s \le L_n}(e), \qquad
        c = \sum_{s=1}^{L_n} \alpha_s\, \mathrm{value}_s

    Parameters
    ----------
    query_size, key_size : int
        Hq and Hk; ``"dot"`` needs them equal.
    score : ``"general"`` (default) or ``"dot"``
    dtype : parameter dtype

    Attributes
    ----------
    params : ``W_a`` (Hq, Hk) for ``"general"``, initialised U(-k, k) with
        k = 1/sqrt(Hk); ``"dot"`` has none

    The interface is :class:`AdditiveAttention`'s.
    """

    def __init__(
        self, query_size: int, key_size: int, score: str = "general", dtype=np.float32
    ):
        super().__init__()
        if score not in ("dot", "general"):
            raise ValueError(f"score must be 'dot' or 'general', got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"the dot score needs query_size == key_size, got {query_size} and "
                f"{key_size}: use score='general'"
            )
        self.query_size, self.key_size, self.score = query_size, key_size, score
        if score == "general":
            self.add_param("W_a", _uniform((query_size, key_size), key_size, dtype))

    def _score(self, query, keys, projected):
        # project the queries, not the keys: a decoder step has one query, S keys
        q = query @ self.params["W_a"] if self.score == "general" else query
        return q @ keys.transpose(0, 2, 1), (query, keys, q)  # (N, T, S)

    def _score_backward(self, de, cache):
        query, keys, q = cache
        dq = de @ keys  # (N, T, Hk)
        d_keys = de.transpose(0, 2, 1) @ q  # (N, S, Hk)
        if self.score == "general":
            Hq, Hk = self.query_size, self.key_size
            self.grads["W_a"] += query.reshape(-1, Hq).T @ dq.reshape(-1, Hk)
            dq = dq @ self.params["W_a"].T
        return dq, d_keys

    def extra_repr(self):
        return (
            f"query_size={self.query_size}, key_size={self.key_size}, "
            f"score={self.score!r}"
        )
