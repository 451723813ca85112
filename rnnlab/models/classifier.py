"""A many-to-one sequence classifier.

Token ids -> embedding -> recurrent layer -> pooling over each sequence's real steps ->
linear read-out. The model of sentiment analysis and of any "one label per sequence"
task; used with :class:`rnnlab.data.BucketBatches` and :func:`rnnlab.fit`.
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from ..nn.layers import Dropout, Embedding, Linear
from ..nn.recurrent import LSTM
from ..module import Module
from ..nn.pooling import SequencePool
from .charlm import RECURRENT

POOLS = ("last", "mean", "max")


class SequenceClassifier(Module):
    r"""Classify padded sequences of token ids.

    .. math::

        \bar h = \operatorname{pool}(h_1, \dots, h_L)

        p(y \mid x_{1:L}) = \operatorname{softmax}(W \bar h + b)

    Parameters
    ----------
    vocab_size, num_classes : int
    embedding_dim, hidden_size, num_layers : int
    cell : ``'rnn'``, ``'lstm'`` or ``'gru'`` (default)
    pool : ``'last'``, ``'mean'`` (default) or ``'max'``
        ``'last'`` takes the final states ``h_n`` of the top layer, both directions (the
        last *real* step of each sequence); ``'mean'`` and ``'max'`` pool over the real
        steps.
    bidirectional : bool
    dropout : float
        On the pooled vector (and between recurrent layers), in training mode.
    dtype : parameter dtype

    ``forward(ids, lengths=None) -> logits`` with ids (T, N) and logits (N,
    num_classes); ``backward(dlogits)`` returns nothing (the ids are integers).
    Submodules: ``embed``, ``rnn``, ``pool`` (unless ``'last'``), ``drop``, ``head``.
    ``save``/``from_checkpoint`` store the configuration with the weights.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embedding_dim: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "gru",
        pool: str = "mean",
        bidirectional: bool = False,
        dropout: float = 0.0,
        dtype=np.float32,
    ):
        super().__init__()
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.config = dict(
            vocab_size=vocab_size,
            num_classes=num_classes,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            pool=pool,
            bidirectional=bidirectional,
            dropout=dropout,
        )
        self.embed = Embedding(vocab_size, embedding_dim, dtype=dtype)
        self.rnn = RECURRENT[cell](
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            dtype=dtype,
        )
        if pool != "last":
            self.pool = SequencePool(pool)
        self.drop = Dropout(dropout)
        self.head = Linear(
            hidden_size * (2 if bidirectional else 1), num_classes, dtype=dtype
        )

    def forward(self, ids, lengths=None):
        """ids : int array, shape (T, N) -> logits, shape (N, K).

        ``lengths`` : int array, shape (N,), optional.
        """
        out, h_n = self.rnn(self.embed(ids), lengths=lengths)
        if self.config["pool"] == "last":
            h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # an LSTM's (h_n, c_n)
            D = self.rnn.num_directions
            # (D, N, H): the top layer's final states, forward then reverse
            top = h_n[-D:]
            pooled = (
                top[0] if D == 1 else array_module(top).concatenate(list(top), axis=-1)
            )
        else:
            pooled = self.pool(out, lengths)
        return self.head(self.drop(pooled))

    def backward(self, dlogits):
        """dlogits : array, shape (N, K).

        Adds every parameter's gradient; returns None.
        """
        d_pooled = self.drop.backward(self.head.backward(dlogits))
        if self.config["pool"] == "last":
            rnn, H = self.rnn, self.rnn.hidden_size
            D = rnn.num_directions
            xp = array_module(d_pooled)
            d_h_n = xp.zeros(
                (rnn.num_layers * D,) + d_pooled.shape[:1] + (H,), dtype=d_pooled.dtype
            )
            for d in range(D):
                d_h_n[-D + d] = d_pooled[:, d * H : (d + 1) * H]
            dx, _ = rnn.backward(
                None, (d_h_n, None) if isinstance(rnn, LSTM) else d_h_n
            )
        else:
            dx, _ = self.rnn.backward(self.pool.backward(d_pooled))
        self.embed.backward(dx)

    def extra_repr(self):
        c = self.config
        return (
            f"vocab={c['vocab_size']}, classes={c['num_classes']}, pool={c['pool']!r}"
        )
