"""A many-to-one sequence classifier.

Token ids -> embedding -> recurrent layer -> pooling over each sequence's real steps ->
linear read-out. The model of sentiment analysis and of any "one label per sequence"
task; used with :class:`rnnlab.data.BucketBatches` and :func:`rnnlab.fit`.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import array_module
from ..checks import check_float_array
from ..data.vocab import WordVocab, tokenize
from ..module import no_grad
from ..nn.functional import softmax
from ..nn.attention import AttentionPool
from ..nn.layers import Dropout, Embedding, Linear
from ..nn.sequences import pad_sequences
from ..nn.recurrent import LSTM
from ..module import Module
from ..nn.pooling import SequencePool
from .charlm import RECURRENT

POOLS = ("last", "mean", "max", "attention")


class SequenceClassifier(Module):
    r"""Classify padded sequences of token ids.

    .. math::

        \bar h = \operatorname{pool}(h_1, \dots, h_L)

        p(y \mid x_{1:L}) = \operatorname{softmax}(W \bar h + b)

    Parameters
    ----------
    vocab_size, num_classes : int
    embedding_dim, hidden_size, num_layers : int
    cell : ``'rnn'``, ``'irnn'``, ``'lstm'`` or ``'gru'`` (default)
    pool : ``'last'``, ``'mean'`` (default), ``'max'`` or ``'attention'``
        ``'last'`` takes the final states ``h_n`` of the top layer, both directions (the
        last *real* step of each sequence); ``'mean'`` and ``'max'`` pool over the real
        steps; ``'attention'`` weighs them with learned attention
        (:class:`rnnlab.nn.attention.AttentionPool`, attention size ``hidden_size``;
        its weights of the latest batch are ``model.pool.weights``).
    bidirectional : bool
    dropout : float
        On the pooled vector (and between recurrent layers), in training mode.
    dtype : parameter dtype

    ``forward(ids, lengths=None) -> logits`` with ids (T, N) and logits (N,
    num_classes); ``backward(dlogits)`` returns nothing (the ids are integers).
    Submodules: ``embed`` (None for :meth:`for_features`), ``rnn``, ``pool`` (unless
    ``'last'``), ``drop``, ``head``.
    ``save``/``from_checkpoint`` store the configuration with the weights.

    Built with :meth:`for_text`, the model also keeps its vocabulary and class names
    (saved with it) and classifies raw strings: :meth:`predict`, :meth:`predict_proba`.
    """

    vocab: WordVocab | None = None
    labels: tuple | None = None

    @classmethod
    def for_text(cls, vocab: WordVocab, labels, **kwargs) -> "SequenceClassifier":
        """A classifier of texts: ``vocab`` numbers the words, ``labels`` names the
        classes (in the order of the targets); ``kwargs`` as for the constructor.

        >>> model = SequenceClassifier.for_text(vocab, ["negative", "positive"])
        >>> model.predict(["not good at all", "a lovely film"])
        """
        if not isinstance(vocab, WordVocab):
            raise TypeError(f"vocab must be a WordVocab, got {type(vocab).__name__}")
        labels = tuple(labels)
        if not all(isinstance(x, str) for x in labels):
            raise TypeError(f"labels must be class names (str), got {labels!r}")
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError(
                f"labels must name two or more distinct classes, got {labels!r}"
            )
        model = cls(len(vocab), len(labels), **kwargs)
        model.vocab, model.labels = vocab, labels
        return model

    @classmethod
    def for_features(
        cls, input_size: int, num_classes: int, **kwargs
    ) -> "SequenceClassifier":
        """A classifier of sequences of vectors (pixels, frames, measurements) rather
        than token ids: ``forward(x, lengths=None)`` takes x (T, N, input_size), fed
        to the recurrent layer as it is (no embedding), and ``backward`` returns dx.
        ``kwargs`` as for the constructor.

        >>> model = SequenceClassifier.for_features(8, 10, cell="lstm")  # 8x8 images
        >>> logits = model(rows)  # rows (8, N, 8): one image row per time step
        """
        if not (isinstance(input_size, (int, np.integer)) and input_size >= 1):
            raise ValueError(
                f"input_size must be a positive integer, got {input_size!r}"
            )
        if "embedding_dim" in kwargs:
            raise TypeError("a classifier of features has no embedding_dim")
        return cls(None, num_classes, input_size=int(input_size), **kwargs)

    def __init__(
        self,
        vocab_size: int | None,
        num_classes: int,
        embedding_dim: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "gru",
        pool: str = "mean",
        bidirectional: bool = False,
        dropout: float = 0.0,
        input_size: int | None = None,
        dtype=np.float32,
    ):
        super().__init__()
        if (vocab_size is None) == (input_size is None):
            raise ValueError(
                "give vocab_size (token ids in) or input_size (vectors in; see "
                f"for_features), not both or neither: got {vocab_size!r} and "
                f"{input_size!r}"
            )
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.config = dict(
            vocab_size=vocab_size,
            num_classes=num_classes,
            embedding_dim=embedding_dim if input_size is None else None,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            pool=pool,
            bidirectional=bidirectional,
            dropout=dropout,
            input_size=input_size,
        )
        self.embed = None  # vectors go to the recurrent layer as they are
        if vocab_size is not None:
            self.embed = Embedding(vocab_size, embedding_dim, dtype=dtype)
        self.rnn = RECURRENT[cell](
            embedding_dim if input_size is None else input_size,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            dtype=dtype,
        )
        features = hidden_size * (2 if bidirectional else 1)
        if pool == "attention":
            self.pool = AttentionPool(features, hidden_size, dtype=dtype)
        elif pool != "last":
            self.pool = SequencePool(pool)
        self.drop = Dropout(dropout)
        self.head = Linear(features, num_classes, dtype=dtype)

    def forward(self, ids, lengths=None):
        """ids : int array, shape (T, N) -> logits, shape (N, K).

        ``lengths`` : int array, shape (N,), optional. A model made by
        :meth:`for_features` takes float vectors instead, shape (T, N, input_size).
        """
        if self.embed is None:
            check_float_array(
                "x", ids, ndim=3, like=self.head.params["W"],
                last=self.config["input_size"], shape_desc="(T, N, input_size)",
            )  # fmt: skip
            x = ids
        else:
            x = self.embed(ids)
        out, h_n = self.rnn(x, lengths=lengths)
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

        Adds every parameter's gradient; returns None, or dx (T, N, input_size) for a
        model of features.
        """
        dx = self._backward_to_embeddings(dlogits)
        if self.embed is None:
            return dx
        self.embed.backward(dx)

    def _backward_to_embeddings(self, dlogits):
        """Backward through head, pooling and recurrent layer: dL/d(embedded input),
        shape (T, N, embedding_dim)."""
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
        return dx

    def saliency(self, text: str, target=None) -> tuple[list, np.ndarray]:
        r"""How much each word of ``text`` pushes the score of class ``target``.

        .. math::

            s_t = \frac{\partial z_k}{\partial e_t} \cdot e_t

        the gradient of the class's logit :math:`z_k` with respect to word :math:`t`'s
        embedding, times that embedding ("gradient times input"): positive for words
        that raise the class's score, negative for words that lower it. In eval mode;
        the model's gradients are left as they were.

        Parameters
        ----------
        text : str
        target : class name or index; default the predicted class

        Returns
        -------
        tokens : list of str, length L (unknown words as ``<unk>``)
        scores : float64 array, shape (L,)
        """
        (ids,) = self._encode([text])
        if target is None:
            target = int(self.predict_proba([text])[0].argmax())
        elif isinstance(target, str):
            if target not in self.labels:
                raise ValueError(f"target must be one of {self.labels}, got {target!r}")
            target = self.labels.index(target)
        elif not (
            isinstance(target, (int, np.integer)) and 0 <= target < len(self.labels)
        ):
            raise ValueError(
                f"target must be a class name or an index below {len(self.labels)}, "
                f"got {target!r}"
            )
        saved = [g.copy() for _, _, g in self.named_parameters()]
        x = backend.to_device(ids[:, None], self.device)
        with self.evaluating():
            logits = self(x)
            d = array_module(logits).zeros_like(logits)
            d[0, target] = 1
            dx = self._backward_to_embeddings(d)
        for (_, _, g), old in zip(self.named_parameters(), saved):
            g[...] = old
        e = self.embed.params["W"][x[:, 0]]
        scores = backend.to_numpy((dx[:, 0] * e).sum(axis=-1)).astype(np.float64)
        return [self.vocab.itos[i] for i in ids], scores

    # --- raw text in, classes out ----------------------------------------
    def _encode(self, texts) -> list:
        if self.vocab is None:
            raise ValueError(
                "this model has no vocabulary to read text with: build it with "
                "SequenceClassifier.for_text(vocab, labels), or call it on token ids"
            )
        if isinstance(texts, str) or not hasattr(texts, "__len__"):
            raise TypeError(
                f"texts must be a list of strings, got {type(texts).__name__}"
                + (": wrap one text in a list" if isinstance(texts, str) else "")
            )
        if len(texts) == 0:
            raise ValueError("texts is empty: nothing to classify")
        unk = self.vocab.stoi.get(WordVocab.UNK)
        out = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(
                    f"texts[{i}] must be a str, got {type(text).__name__} {text!r}"
                )
            tokens = tokenize(text)
            if not tokens:
                raise ValueError(f"texts[{i}] has no words: {text!r}")
            ids = self.vocab.encode(tokens)
            if unk is not None and (ids == unk).all():
                raise ValueError(
                    f"texts[{i}] has no word the vocabulary knows ({tokens[:5]!r}...): "
                    f"the model would see only <unk>"
                )
            out.append(ids)
        return out

    def predict_proba(self, texts, batch_size: int = 256) -> np.ndarray:
        """Class probabilities of raw texts, shape (len(texts), num_classes), float64.

        Each text is split by :func:`rnnlab.data.tokenize` and numbered by the model's
        vocabulary (unknown words become ``<unk>``); the model runs in eval mode under
        :func:`rnnlab.no_grad`, on batches of similar lengths.
        """
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        seqs = self._encode(texts)
        # padding is masked out by the lengths, so any id serves without a <pad>
        pad = self.vocab.stoi.get(WordVocab.PAD, 0)
        order = np.argsort([len(s) for s in seqs], kind="stable")
        probs = np.empty((len(seqs), self.config["num_classes"]))
        with self.evaluating(), no_grad():
            for start in range(0, len(seqs), batch_size):
                part = order[start : start + batch_size]
                ids, lengths = pad_sequences([seqs[i] for i in part], padding_value=pad)
                logits = self(backend.to_device(ids, self.device), lengths)
                probs[part] = backend.to_numpy(softmax(logits.astype(np.float64)))
        return probs

    def predict(self, texts, batch_size: int = 256) -> list:
        """The most probable class of each text: its name (from ``labels``)."""
        best = self.predict_proba(texts, batch_size).argmax(axis=1)
        return [self.labels[k] for k in best]

    # --- checkpoints: vocabulary and class names travel with the config --
    extra_keys = {"vocab": "vocabulary", "labels": "class names"}

    def checkpoint_extras(self) -> dict:
        if self.vocab is None:
            return {}
        return {"vocab": self.vocab.to_dict(), "labels": list(self.labels)}

    @classmethod
    def from_extras(cls, config, extras, dtype) -> "SequenceClassifier":
        config.pop("vocab_size"), config.pop("num_classes")
        vocab = WordVocab.from_dict(extras["vocab"])
        return cls.for_text(vocab, extras["labels"], dtype=dtype, **config)

    def extra_repr(self):
        c = self.config
        return (
            f"vocab={c['vocab_size']}"
            if c["input_size"] is None
            else f"input_size={c['input_size']}"
        ) + f", classes={c['num_classes']}, pool={c['pool']!r}"
