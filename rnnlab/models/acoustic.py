"""An acoustic model trained with CTC: feature frames in, a label sequence out.

Frames are stacked in groups of ``stack`` (which shortens the sequence the recurrent
layers run over ``stack`` times), read by a bidirectional recurrent network, and scored
per stacked frame by a linear layer; :func:`rnnlab.ctc_loss` trains it without any
alignment between frames and labels. Built in the chapter "Speech recognition with CTC".
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import array_module
from ..checks import check_float_array
from ..ctc import ctc_loss
from ..ctc_decode import ctc_greedy, ctc_prefix_beam_search
from ..module import Module, no_grad
from ..nn.functional import log_softmax
from ..nn.layers import Linear
from ..nn.sequences import pad_sequences
from .charlm import RECURRENT


class CTCRecognizer(Module):
    r"""Per-frame class scores for CTC from a sequence of feature frames.

    .. math::

        u_j = [x_{js}; \dots; x_{js + s - 1}], \qquad
        h = \operatorname{BiRNN}(u), \qquad
        z_j = W h_j + b

    Parameters
    ----------
    n_features : int, features per frame (e.g. 40 log-mel energies)
    n_classes : int, labels plus the blank
    hidden_size, num_layers : int
    cell : ``'rnn'``, ``'irnn'``, ``'lstm'`` or ``'gru'`` (default)
    stack : int, frames per step of the recurrent network (default 3)
    bidirectional : bool (default True)
    dropout : float, between recurrent layers
    blank : int, the blank's class id (default 0)
    dtype : parameter dtype

    ``forward(x, lengths) -> logits`` with x (T, N, n_features) time-major, lengths
    (N,), and logits (ceil(T / stack), N, n_classes); it keeps the stacked lengths in
    :attr:`out_lengths` for :meth:`loss`. ``backward(dlogits) -> dx``.
    ``fit(model, CTCBatches(...), loss=model.loss)`` trains it.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_size: int = 128,
        num_layers: int = 2,
        cell: str = "gru",
        stack: int = 3,
        bidirectional: bool = True,
        dropout: float = 0.0,
        blank: int = 0,
        dtype=np.float32,
    ):
        super().__init__()
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        for name, v in (("n_features", n_features), ("stack", stack)):
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not (isinstance(n_classes, (int, np.integer)) and n_classes >= 2):
            raise ValueError(
                f"n_classes must count the labels and the blank (>= 2), "
                f"got {n_classes!r}"
            )
        if not 0 <= blank < n_classes:
            raise ValueError(
                f"blank must be a class id in [0, {n_classes}), got {blank}"
            )
        self.config = dict(
            n_features=n_features,
            n_classes=n_classes,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            stack=stack,
            bidirectional=bidirectional,
            dropout=dropout,
            blank=blank,
        )
        self.rnn = RECURRENT[cell](
            n_features * stack,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            dtype=dtype,
        )
        self.head = Linear(
            hidden_size * (2 if bidirectional else 1), n_classes, dtype=dtype
        )
        self.out_lengths = None

    def forward(self, x, lengths=None):
        """x : array (T, N, n_features) -> logits (ceil(T / stack), N, n_classes)."""
        W = self.head.params["W"]
        check_float_array(
            "x",
            x,
            ndim=3,
            like=W,
            last=self.config["n_features"],
            shape_desc="(T, N, n_features) time-major",
        )
        T, N, F = x.shape
        s = self.config["stack"]
        lengths = np.full(N, T) if lengths is None else backend.to_numpy(lengths)
        Ts = -(-T // s)
        xp = array_module(x)
        if Ts * s != T:  # pad to whole stacks with zero frames (masked by the lengths)
            x = xp.concatenate([x, xp.zeros((Ts * s - T, N, F), dtype=x.dtype)])
        # (Ts, s, N, F) -> (Ts, N, s * F): frame js + i at features [i F, (i + 1) F)
        u = x.reshape(Ts, s, N, F).transpose(0, 2, 1, 3).reshape(Ts, N, s * F)
        self.out_lengths = -(-np.asarray(lengths) // s)
        out, _ = self.rnn(u, lengths=self.out_lengths)
        self.save_for_backward((T, N, F))
        return self.head(out)

    def backward(self, dlogits):
        """dlogits (Ts, N, n_classes) -> dL/dx, shape (T, N, n_features)."""
        T, N, F = self.saved()
        du, _ = self.rnn.backward(self.head.backward(dlogits))
        s, Ts = self.config["stack"], du.shape[0]
        dx = du.reshape(Ts, N, s, F).transpose(0, 2, 1, 3).reshape(Ts * s, N, F)
        return dx[:T]

    def loss(self, logits, target):
        """CTC loss of the latest forward's logits; target = (labels, label_lengths).

        ``labels`` (N, U) padded (any value past each length), as
        :class:`rnnlab.data.CTCBatches` yields them. Mean over the batch of each
        sequence's loss per label (PyTorch's ``'mean'``), and its gradient.
        """
        labels, label_lengths = target
        return ctc_loss(
            logits,
            labels,
            self.out_lengths,
            backend.to_numpy(label_lengths),
            blank=self.config["blank"],
            zero_infinity=True,
        )

    def transcribe(self, frames, beam_size: int = 1, batch_size: int = 64, **beam_kw):
        """Label sequences of a list of (T_n, n_features) arrays, in eval mode.

        ``beam_size=1`` decodes the best path (:func:`rnnlab.ctc_decode.ctc_greedy`);
        larger beams use :func:`rnnlab.ctc_decode.ctc_prefix_beam_search`, with
        ``beam_kw`` (``lm``, ``lm_weight``, ``insertion_bonus``). Returns a list of
        label lists.
        """
        if isinstance(frames, np.ndarray) and frames.ndim == 2:
            raise TypeError(
                "frames must be a list of (T, n_features) arrays: wrap one "
                "utterance in a list"
            )
        blank, out = self.config["blank"], []
        with self.evaluating(), no_grad():
            for i in range(0, len(frames), batch_size):
                x, lengths = pad_sequences(
                    [
                        np.asarray(f, dtype=self.dtype)
                        for f in frames[i : i + batch_size]
                    ]
                )
                logits = self(backend.to_device(x, self.device), lengths)
                lp = backend.to_numpy(log_softmax(logits.astype(np.float64)))
                if beam_size == 1:
                    out += ctc_greedy(lp, self.out_lengths, blank)
                else:
                    out += [
                        labels
                        for labels, _ in ctc_prefix_beam_search(
                            lp, beam_size, blank, self.out_lengths, **beam_kw
                        )
                    ]
        return out

    def extra_repr(self):
        c = self.config
        return (
            f"features={c['n_features']}, classes={c['n_classes']}, stack={c['stack']}"
        )
