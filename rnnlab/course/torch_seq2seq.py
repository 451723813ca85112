"""The PyTorch twin of :class:`rnnlab.Seq2Seq`, for reference tests and benchmarks.

:class:`TorchSeq2Seq` computes the function of a :class:`~rnnlab.Seq2Seq` of the same
configuration with ``torch.nn`` layers (the encoder packed by the source lengths, as
PyTorch users write it), and :func:`seq2seq_state_dict` gives an rnnlab model's
parameters, or their gradients, under the twin's names. So the twin loads rnnlab's
weights, and after the same backward pass every ``.grad`` of the twin equals the
rnnlab gradient under the same name.

This module imports torch, which rnnlab does not need: import it only where torch is
installed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import backend
from ..interop import torch_state_dict

_RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def seq2seq_state_dict(model, grads: bool = False) -> dict[str, np.ndarray]:
    """An rnnlab Seq2Seq's parameters (or gradients) under :class:`TorchSeq2Seq`'s keys.

    The recurrent layers' go through :func:`rnnlab.interop.torch_state_dict` (PyTorch's
    two biases); ``W`` and ``b`` of the embeddings and linear layers become ``weight``
    and ``bias``; the attention's parameters keep their names.
    """
    out = {}
    for name, p, g in model.named_parameters():
        module, key = name.rsplit(".", 1)
        if module in ("encoder", "decoder"):
            continue
        key = (
            {"W": "weight", "b": "bias"}.get(key, key) if module != "attention" else key
        )
        out[f"{module}.{key}"] = backend.to_numpy(g if grads else p).copy()
    for part in ("encoder", "decoder"):
        layer = torch_state_dict(getattr(model, part), grads=grads)
        out.update({f"{part}.{k}": v for k, v in layer.items()})
    return out


class _Attention(nn.Module):
    """The score's parameters, named as in :mod:`rnnlab.nn.attention`."""

    def __init__(self, score: str, H: int, DH: int, dtype):
        super().__init__()
        self.score = score

        def uniform(*shape):  # U(-k, k), k = 1 / sqrt(fan-in), as rnnlab initialises
            k = shape[-1] ** -0.5
            return nn.Parameter(torch.empty(shape, dtype=dtype).uniform_(-k, k))

        if score == "additive":  # attention size H, as Seq2Seq makes it
            self.W_q, self.W_k, self.v = uniform(H, H), uniform(H, DH), uniform(H)
        elif score == "general":
            self.W_a = uniform(H, DH)

    def forward(self, states, keys, mask):
        """states (T, N, H), keys (N, S, DH), mask (N, S) -> context (T, N, DH) and
        the weights (T, N, S)."""
        if self.score == "additive":
            a = (keys @ self.W_k.T)[None] + (states @ self.W_q.T)[:, :, None]
            e = torch.tanh(a) @ self.v  # (T, N, S)
        elif self.score == "general":
            e = torch.einsum("tnq,qk,nsk->tns", states, self.W_a, keys)
        else:
            e = torch.einsum("tnk,nsk->tns", states, keys)
        alpha = torch.softmax(e.masked_fill(~mask, -torch.inf), dim=-1)
        return torch.einsum("tns,nsk->tnk", alpha, keys), alpha


class TorchSeq2Seq(nn.Module):
    """:class:`rnnlab.Seq2Seq` in ``torch.nn``, with the same submodule names.

    Parameters
    ----------
    config : dict
        An rnnlab model's ``config`` (the constructor arguments of
        :class:`rnnlab.Seq2Seq`), so both are built from one description.
    dtype : torch dtype of the parameters

    ``forward(src, src_lengths, tgt_in) -> logits (T, N, V_tgt)``: ``src`` (S, N) and
    ``tgt_in`` (T, N) are int64 tensors, ``src_lengths`` (N,) an int64 CPU tensor or
    None. After a forward with attention ``attention_weights`` (T, N, S) holds the
    weights. Parameters start as PyTorch initialises them: copy an rnnlab model's
    with :meth:`load_rnnlab`, or build the twin with :meth:`from_rnnlab`.
    """

    def __init__(self, config: dict, dtype=torch.float32):
        super().__init__()
        c = config
        E, H, L = c["embedding_dim"], c["hidden_size"], c["num_layers"]
        D = 2 if c["bidirectional"] else 1
        self.cell, self.bidirectional = c["cell"], c["bidirectional"]
        kw = dict(dtype=dtype)
        Layer = _RECURRENT[c["cell"]]
        F = c.get("input_size")  # a model of features reads its vectors as they are
        self.src_embed = (
            nn.Identity() if F else nn.Embedding(c["src_vocab_size"], E, **kw)
        )
        self.tgt_embed = nn.Embedding(c["tgt_vocab_size"], E, **kw)
        self.encoder = Layer(
            F or E, H, L, dropout=c["dropout"], bidirectional=c["bidirectional"], **kw
        )
        if c["bidirectional"]:
            self.bridge = nn.Linear(D * H, H, **kw)
            if c["cell"] == "lstm":
                self.bridge_c = nn.Linear(D * H, H, **kw)
        self.decoder = Layer(E, H, L, dropout=c["dropout"], **kw)
        self.attention = None
        if c["attention"] is not None:
            self.attention = _Attention(c["attention"], H, D * H, **kw)
            self.combine = nn.Linear(H + D * H, H, **kw)
        self.drop = nn.Dropout(c["dropout"])
        self.out = nn.Linear(H, c["tgt_vocab_size"], **kw)
        self.attention_weights = None

    @classmethod
    def from_rnnlab(cls, model) -> "TorchSeq2Seq":
        """The twin of an rnnlab ``Seq2Seq``, with its weights, dtype and mode."""
        dtype = getattr(torch, np.dtype(model.dtype).name)
        return cls(model.config, dtype=dtype).load_rnnlab(model)

    def load_rnnlab(self, model) -> "TorchSeq2Seq":
        """Copy an rnnlab Seq2Seq's weights (and mode) into this twin; returns it."""
        state = {k: torch.from_numpy(v) for k, v in seq2seq_state_dict(model).items()}
        self.load_state_dict(state)
        return self.train(model.training)

    def _join(self, h):  # (L * 2, N, H) -> (L, N, 2H), forward then reverse
        return torch.cat([h[0::2], h[1::2]], dim=-1)

    def encode(self, src, src_lengths):
        """Encoder outputs (S, N, D*H), 0 on padding, and the decoder's first state."""
        x = self.src_embed(src)
        if src_lengths is None:
            out, h_n = self.encoder(x)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, src_lengths, False, False)
            out, h_n = self.encoder(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=src.shape[0])
        if not self.bidirectional:
            return out, h_n
        if self.cell == "lstm":
            h, c = h_n
            return out, (
                torch.tanh(self.bridge(self._join(h))),
                self.bridge_c(self._join(c)),
            )
        return out, torch.tanh(self.bridge(self._join(h_n)))

    def forward(self, src, src_lengths, tgt_in):
        outputs, s0 = self.encode(src, src_lengths)
        states, _ = self.decoder(self.tgt_embed(tgt_in), s0)  # (T, N, H)
        if self.attention is None:
            return self.out(self.drop(states))
        S, N = src.shape[:2]
        lengths = torch.full((N,), S) if src_lengths is None else src_lengths
        mask = torch.arange(S)[None, :] < lengths[:, None]  # (N, S)
        context, alpha = self.attention(states, outputs.transpose(0, 1), mask)
        self.attention_weights = alpha
        mixed = torch.tanh(self.combine(torch.cat([states, context], dim=-1)))
        return self.out(self.drop(mixed))
