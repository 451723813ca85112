"""A character-level language model.

One-hot or embedded characters -> recurrent layers -> linear read-out. Built and
trained in the chapter "A character-level language model".
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..checks import check_int_array
from ..data import CharVocab
from ..nn.functional import softmax
from ..nn.layers import Embedding, Linear
from ..module import Module, no_grad
from ..nn.recurrent import GRU, IRNN, LSTM, RNN

#: Recurrent layers a CharLM can use, by name.
RECURRENT = {"rnn": RNN, "irnn": IRNN, "lstm": LSTM, "gru": GRU}


class CharLM(Module):
    r"""Predicts the next character.

    .. math:: p(c_{t+1} \mid c_{\le t}) = \operatorname{softmax}(W_{hy} h_t + b_y)

    Parameters
    ----------
    vocab : CharVocab
    hidden_size : int
    num_layers : int
    cell : ``'rnn'``, ``'irnn'``, ``'lstm'`` or ``'gru'`` (a recurrent layer in
        :data:`RECURRENT`)
    embedding_dim : int, optional
        Size of a learned embedding of the input characters. ``None`` (default)
        feeds one-hot vectors, as in Karpathy's ``min-char-rnn``.
    dropout : float
        Between recurrent layers, in training mode.
    **rnn_kwargs : passed to the recurrent layer (e.g. ``nonlinearity='relu'``)

    Submodules: ``embed`` (when ``embedding_dim`` is set), ``rnn``, ``head``.
    """

    def __init__(
        self,
        vocab: CharVocab,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "rnn",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        dtype=np.float32,
        **rnn_kwargs,
    ):
        super().__init__()
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        if rnn_kwargs.get("bidirectional"):
            raise ValueError(
                "a language model predicts the next character from the past only; "
                "bidirectional=True would let it read the answer"
            )
        self.vocab = vocab
        V = len(vocab)
        self.config = dict(
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            embedding_dim=embedding_dim,
            dropout=dropout,
            **rnn_kwargs,
        )
        if embedding_dim is not None:
            self.embed = Embedding(V, embedding_dim, dtype=dtype)
        self.rnn = RECURRENT[cell](
            embedding_dim or V,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            dtype=dtype,
            **rnn_kwargs,
        )
        self.head = Linear(hidden_size, V, dtype=dtype)

    def _inputs(self, idx):
        if "embed" in self._modules:
            return self.embed(idx)
        V = len(self.vocab)  # idx was checked by forward
        # one-hot rows, shape idx.shape + (V,)
        return backend.array_module(idx).eye(V, dtype=self.dtype)[idx]

    def forward(self, idx, state=None):
        """idx : int array, shape (T, N) -> (logits, state).

        ``logits`` has shape (T, N, V); ``state`` is the recurrent state to carry on.
        """
        if not hasattr(idx, "ndim") or idx.ndim != 2:
            raise ValueError(
                "idx must be an integer array of shape (T, N), "
                f"got {getattr(idx, 'shape', type(idx))}"
            )
        check_int_array("idx", idx, high=len(self.vocab))
        output, state = self.rnn(self._inputs(idx), state)
        return self.head(output), state

    def backward(self, dlogits, d_state=None):
        """Backpropagate into every parameter's gradient.

        ``dlogits`` has shape (T, N, V) or is None; ``d_state``, optional, is a gradient
        w.r.t. the final state.

        Returns the gradient w.r.t. the initial state (the ids are integers and get
        none). A training loop that drops it stops the gradient at the batch boundary:
        truncated BPTT.
        """
        self.rnn.check_backward(None, d_state)  # before the head consumes its forward
        d_output = None if dlogits is None else self.head.backward(dlogits)
        dx, d_state0 = self.rnn.backward(d_output, d_state)
        if "embed" in self._modules:
            self.embed.backward(dx)
        return d_state0

    def sample(
        self,
        prime: str,
        length: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> str:
        """Generate ``length`` characters after ``prime``.

        Parameters
        ----------
        prime : str, at least one character of the vocabulary
        temperature : float >= 0
            Divides the logits: below 1 sharpens the distribution, above 1 flattens it,
            0 is greedy.
        top_k : int, optional
            Sample only among the ``top_k`` most likely characters.
        seed : int, optional
            For a reproducible sample.
        """
        V = len(self.vocab)
        if not prime:
            raise ValueError("prime must hold at least one character")
        if (
            isinstance(length, bool)
            or not isinstance(length, (int, np.integer))
            or length < 0
        ):
            raise ValueError(f"length must be a non-negative integer, got {length!r}")
        if not (math.isfinite(temperature) and temperature >= 0):
            raise ValueError(f"temperature must be finite and >= 0, got {temperature}")
        if top_k is not None and not 1 <= top_k <= V:
            raise ValueError(f"top_k must be in [1, {V}], got {top_k}")
        # without a seed, rnnlab's global generator: rnnlab.seed(...) makes samples
        # repeatable
        g = backend.rng() if seed is None else np.random.default_rng(seed)
        with self.evaluating(), no_grad():
            out = self._generate(prime, length, temperature, top_k, g)
        return prime + self.vocab.decode(out)

    def _generate(self, prime, length, temperature, top_k, g) -> list[int]:
        V = len(self.vocab)
        ids = backend.to_device(self.vocab.encode(prime)[:, None], self.device)
        logits, state = self.forward(ids)
        out = []
        for _ in range(length):
            z = backend.to_numpy(logits[-1, 0]).astype(np.float64)
            if temperature == 0:
                nxt = int(z.argmax())
            else:
                z = z / temperature
                if top_k is not None and top_k < V:
                    z[z < np.partition(z, -top_k)[-top_k]] = -np.inf
                nxt = int(g.choice(V, p=softmax(z)))
            out.append(nxt)
            logits, state = self.forward(
                backend.to_device(np.array([[nxt]]), self.device), state
            )
        return out

    # --- checkpoints: the vocabulary travels with the configuration -------
    extra_keys = {"vocab": "vocabulary"}

    def checkpoint_extras(self) -> dict:
        return {"vocab": {"chars": self.vocab.chars, "unk": self.vocab.unk}}

    @classmethod
    def from_extras(cls, config, extras, dtype) -> "CharLM":
        vocab = CharVocab(extras["vocab"]["chars"], unk=extras["vocab"]["unk"])
        return cls(vocab, dtype=dtype, **config)

    def extra_repr(self):
        return f"vocab={len(self.vocab)}"
