"""Training and evaluation loops for language models, with truncated BPTT and a progress bar."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import backend
from .checks import NonFiniteError
from .data import TBPTTBatches
from .losses import cross_entropy
from .module import no_grad
from .optim import Adam, clip_grad_norm


def perplexity(loss: float) -> float:
    r"""Perplexity :math:`e^{L}` of a mean per-token cross-entropy :math:`L` (in nats)."""
    return math.exp(loss)


@dataclass
class History:
    """What a training run measured. Losses are mean cross-entropy per character, in nats."""

    step_loss: list[float] = field(default_factory=list)   # every optimisation step
    grad_norm: list[float] = field(default_factory=list)   # global gradient norm before clipping
    train_loss: list[float] = field(default_factory=list)  # mean over each epoch
    val_loss: list[float] = field(default_factory=list)    # after each epoch, if validation data was given
    epoch_time: list[float] = field(default_factory=list)  # seconds of training per epoch

    @property
    def val_perplexity(self) -> list[float]:
        return [perplexity(v) for v in self.val_loss]

    @property
    def train_perplexity(self) -> list[float]:
        return [perplexity(v) for v in self.train_loss]


def _detach(state):
    # Arrays carry no graph here, so "detaching" is just passing the values on; a copy
    # keeps the next forward from aliasing buffers the previous backward still reads.
    if state is None:
        return None
    return tuple(_detach(s) for s in state) if isinstance(state, tuple) else state.copy()


def evaluate_lm(model, ids, batch_size: int = 32, seq_len: int = 128) -> float:
    """Mean cross-entropy per character of ``model`` on the stream ``ids`` (eval mode, no_grad,
    state carried)."""
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with no_grad():
            for x, y in TBPTTBatches(ids, batch_size, seq_len):
                logits, state = model(backend.to_device(x, model.device), state)
                loss, _ = cross_entropy(logits, backend.to_device(y, model.device))
                total += loss * y.size
                count += y.size
    finally:
        model.train(was_training)
    return total / count


def train_lm(model, train_ids, val_ids=None, *, epochs: int = 1, batch_size: int = 32, seq_len: int = 64,
             optimizer=None, lr: float = 3e-3, clip: float | None = 5.0, max_steps: int | None = None,
             progress: bool = True, history: History | None = None) -> History:
    """Train a language model (e.g. :class:`rnnlab.models.CharLM`) with truncated BPTT.

    Each batch continues the previous one's sequences (:class:`rnnlab.data.TBPTTBatches`),
    so the final state of a batch is the initial state of the next, while gradients
    stop at batch boundaries.

    Parameters
    ----------
    model : a Module with ``forward(idx, state) -> (logits, state)`` and ``backward(dlogits)``
    train_ids, val_ids : 1-D int arrays
    optimizer : an rnnlab optimiser; default ``Adam(model.parameters(), lr)``
    clip : float or None
        Max global gradient norm (:func:`rnnlab.clip_grad_norm`).
    max_steps : int, optional
        Stop each epoch after this many steps (for quick runs).
    progress : bool
        Show a tqdm progress bar with the running loss.
    history : History, optional
        Append to an existing history (to continue training).
    """
    if optimizer is not None:
        current = {id(p) for p, _ in model.parameters()}
        if any(id(p) not in current for p, _ in optimizer.params):
            raise ValueError("optimizer does not update the model's current parameters: was it built before "
                             "model.to(...)? Build the optimizer after moving the model")
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    hist = history if history is not None else History()
    model.train()
    for epoch in range(epochs):
        batches = TBPTTBatches(train_ids, batch_size, seq_len)
        steps = len(batches) if max_steps is None else min(max_steps, len(batches))
        # mininterval: a bar refreshing ten times a second floods a notebook kernel with messages,
        # which notebook runners (nbval, the book build) can time out on.
        bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=True, mininterval=1.0)
        state, losses, t0 = None, [], time.perf_counter()
        for step, (x, y) in enumerate(batches):
            if step == steps:
                break
            opt.zero_grad()
            try:
                logits, state = model(backend.to_device(x, model.device), _detach(state))
            except NonFiniteError as e:
                raise FloatingPointError(f"the forward pass overflowed at epoch {epoch + 1}, step {step} ({e}); "
                                         f"lower lr or clip") from e
            loss, dlogits = cross_entropy(logits, backend.to_device(y, model.device))
            if not math.isfinite(loss):
                raise FloatingPointError(f"loss became {loss} at epoch {epoch + 1}, step {step}; lower lr or clip")
            model.backward(dlogits)
            norm = clip_grad_norm(opt.params, clip if clip is not None else np.inf)
            if not math.isfinite(norm):
                raise FloatingPointError(f"gradient norm became {norm} at epoch {epoch + 1}, step {step}; lower lr or clip")
            hist.grad_norm.append(norm)
            opt.step()
            losses.append(loss)
            hist.step_loss.append(loss)
            bar.update()
            if step % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", refresh=False)
        bar.close()
        hist.epoch_time.append(time.perf_counter() - t0)
        hist.train_loss.append(float(np.mean(losses)))
        if val_ids is not None:
            hist.val_loss.append(evaluate_lm(model, val_ids, batch_size, max(seq_len, 64)))
    return hist
