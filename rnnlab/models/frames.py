"""Predict the next frame of a sequence of frames: piano rolls, video.

A recurrent layer reads frames :math:`x_1, \\dots, x_t` (vectors of values in [0, 1]:
the keys held down at an eighth note, the pixels of an image) and a linear read-out
gives, for every unit of the next frame, the logit of its being on. The units are
independent given the past (a sigmoid each, trained with binary cross-entropy), so
the model is a product of Bernoullis at every step, as in Boulanger-Lewandowski et al.
(2012)'s RNN baseline. Built in the chapters "Music" and "Images and video as
sequences".
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..checks import check_float_array
from ..data.batching import FrameBatches
from ..losses import bce_with_logits
from ..module import Module, no_grad
from ..nn.functional import sigmoid
from ..nn.layers import Dropout, Linear
from .charlm import RECURRENT


def next_frame_loss(logits, target):
    """Binary cross-entropy of next-frame logits over the real steps, for
    :func:`rnnlab.fit`.

    logits : array, shape (T, N, F); target : ``(frames, mask)`` as
    :class:`rnnlab.data.FrameBatches` yields it, frames (T, N, F) and mask (T, N) 1 on
    real steps. Returns ``(loss, dlogits)``, the mean over real steps and units.
    """
    frames, mask = target
    return bce_with_logits(logits, frames, mask=mask)


class FramePredictor(Module):
    r"""The probability of each unit of the next frame being on, from the frames so far.

    .. math::

        h_t = \operatorname{RNN}(x_t, h_{t-1}), \qquad
        p(x_{t+1, k} = 1 \mid x_{\le t}) = \sigma(W h_t + b)_k

    and the negative log-likelihood of a sequence is the sum over steps and units of
    the binary cross-entropy (:func:`rnnlab.bce_with_logits`).

    Parameters
    ----------
    frame_size : int, units per frame (88 keys, H * W pixels)
    hidden_size, num_layers : int
    cell : ``'rnn'``, ``'irnn'``, ``'lstm'`` or ``'gru'`` (default)
    dropout : float, on the states before the read-out and between layers
    dtype : parameter dtype

    ``forward(x, lengths=None) -> logits``: x (T, N, frame_size) time-major, logits
    (T, N, frame_size), row t predicting frame t + 1. ``backward(dlogits)`` adds every
    gradient and returns dx. ``fit(model, FrameBatches(...), loss=next_frame_loss)``
    trains it; :meth:`generate` continues a sequence.
    """

    def __init__(
        self,
        frame_size: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "gru",
        dropout: float = 0.0,
        dtype=np.float32,
    ):
        super().__init__()
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        for name, v in (("frame_size", frame_size), ("hidden_size", hidden_size)):
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.config = dict(
            frame_size=frame_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            dropout=dropout,
        )
        self.rnn = RECURRENT[cell](
            frame_size, hidden_size, num_layers, dropout=dropout, dtype=dtype
        )
        self.drop = Dropout(dropout)
        self.out = Linear(hidden_size, frame_size, dtype=dtype)

    def forward(self, x, lengths=None, state=None):
        """Logits of every next frame, shape (T, N, frame_size).

        x : float array, shape (T, N, frame_size); lengths : int array (N,), optional;
        state : the recurrent state to start from (``None``: zeros).
        """
        F = self.config["frame_size"]
        check_float_array(
            "x", x, ndim=3, like=self.out.params["W"], last=F,
            shape_desc=f"(T, N, frame_size={F})",
        )  # fmt: skip
        states, self.state = self.rnn(x, state, lengths=lengths)
        return self.out(self.drop(states))

    def backward(self, dlogits):
        """dlogits : array, shape (T, N, frame_size) -> dx, same shape."""
        dx, _ = self.rnn.backward(self.drop.backward(self.out.backward(dlogits)))
        return dx

    def nll(self, sequences, batch_size: int = 64) -> float:
        r"""Negative log-likelihood per predicted frame, in nats (eval mode, no caches).

        .. math:: \frac{1}{\sum_n (T_n - 1)} \sum_n \sum_{t=2}^{T_n} \sum_k
            -\log p(x_{n,t,k} \mid x_{n,<t})

        the sum over a frame's units of their binary cross-entropy, averaged over
        every frame but the first of each sequence, all frames weighted equally (the
        frame-level measure of polyphonic music models). Computed in float64.

        sequences : list of float arrays (T_n >= 2, frame_size), values in [0, 1]
        """
        batches = FrameBatches(sequences, batch_size, shuffle=False)  # checks them
        total, count = 0.0, 0
        with self.evaluating(), no_grad():
            for (x, lengths), (y, mask) in batches:
                dtype = self.out.params["W"].dtype
                x = backend.to_device(x.astype(dtype, copy=False), self.device)
                z = backend.to_numpy(self(x, lengths)).astype(np.float64)
                per_unit = (1 - y) * z + np.logaddexp(0, -z)  # -log p, stable
                total += float((per_unit.sum(axis=2) * mask).sum())
                count += int(mask.sum())
        return total / count

    def generate(
        self,
        prime,
        steps: int,
        *,
        sample: bool = True,
        temperature: float = 1.0,
        rng=None,
    ) -> np.ndarray:
        """Continue ``prime`` by ``steps`` frames, one at a time (eval mode, no caches).

        Parameters
        ----------
        prime : float array, shape (T0, frame_size), T0 >= 1: the frames to start from
        steps : int >= 0
        sample : bool
            True (default): draw each unit on or off from its probability (a piano
            roll); False: feed the probabilities back as they are (the expected frame,
            a blurred video).
        temperature : float > 0, divides the logits before the sigmoid
        rng : int or numpy Generator, for a reproducible sample

        Returns
        -------
        float32 array, shape (T0 + steps, frame_size): the prime, then the new frames
        """
        F = self.config["frame_size"]
        prime = np.asarray(backend.to_numpy(prime), dtype=np.float32)
        if prime.ndim != 2 or prime.shape[1] != F or len(prime) == 0:
            raise ValueError(
                f"prime must have shape (T0 >= 1, frame_size={F}), got {prime.shape}"
            )
        if isinstance(steps, bool) or not (
            isinstance(steps, (int, np.integer)) and steps >= 0
        ):
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be positive, got {temperature!r}")
        g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        out = np.empty((len(prime) + steps, F), dtype=np.float32)
        out[: len(prime)] = prime
        dtype = self.out.params["W"].dtype
        with self.evaluating(), no_grad():
            x = backend.to_device(prime[:, None].astype(dtype), self.device)
            logits, state = self(x)[-1], self.state  # (1, F): the first new frame
            for t in range(len(prime), len(out)):
                p = backend.to_numpy(sigmoid(logits / temperature))[0]
                out[t] = (g.random(F) < p) if sample else p
                x = backend.to_device(out[t : t + 1, None].astype(dtype), self.device)
                logits = self(x, state=state)[-1]
                state = self.state
        return out

    def extra_repr(self):
        c = self.config
        return f"{c['frame_size']}, hidden={c['hidden_size']}, cell={c['cell']!r}"
