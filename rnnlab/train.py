"""The training loop.

``fit`` for every task, ``evaluate``, the ``History`` of a run, and ``train_lm`` for
language models with truncated BPTT.
"""

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
    r"""Perplexity :math:`e^{L}` of a mean cross-entropy per token :math:`L` (nats)."""
    return math.exp(loss)


@dataclass
class History:
    """What a training run measured; ``fit`` appends to it, so a run can be continued.

    Losses are what the ``loss`` function returned (for a language model: mean
    cross-entropy per character, in nats).
    """

    # every optimisation step
    step_loss: list[float] = field(default_factory=list)
    # global gradient norm before clipping
    grad_norm: list[float] = field(default_factory=list)
    # mean over each epoch
    train_loss: list[float] = field(default_factory=list)
    # after each epoch, if validation data was given
    val_loss: list[float] = field(default_factory=list)
    # name -> one value per epoch
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    # learning rate at the end of each epoch
    lr: list[float] = field(default_factory=list)
    # seconds of training per epoch
    epoch_time: list[float] = field(default_factory=list)

    @property
    def val_perplexity(self) -> list[float]:
        return [perplexity(v) for v in self.val_loss]

    @property
    def train_perplexity(self) -> list[float]:
        return [perplexity(v) for v in self.train_loss]

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def last(self, name: str) -> float:
        """Latest value of ``'train_loss'``, ``'val_loss'`` or ``'val_<metric>'``."""
        series = {
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            **{"val_" + k: v for k, v in self.val_metrics.items()},
        }
        if name not in series:
            raise KeyError(f"history has no {name!r}; it has {sorted(series)}")
        if not series[name]:
            raise KeyError(
                f"history has no value of {name!r} yet (no validation data?)"
            )
        return series[name][-1]

    def __repr__(self):
        parts = [f"{self.epochs} epochs, {len(self.step_loss)} steps"]
        parts += [
            f"{name} {values[-1]:.4g}"
            for name, values in [
                ("train_loss", self.train_loss),
                ("val_loss", self.val_loss),
                *(("val_" + k, v) for k, v in self.val_metrics.items()),
            ]
            if values
        ]
        return f"History({', '.join(parts)})"


def _detach(state):
    # Arrays carry no graph here, so "detaching" is just passing the values on; a copy
    # keeps the next forward from aliasing buffers the previous backward still reads.
    if state is None:
        return None
    return (
        tuple(_detach(s) for s in state) if isinstance(state, tuple) else state.copy()
    )


def _to(tree, device):
    """Arrays in nested tuples moved to ``device``; None and numbers left as is."""
    if isinstance(tree, (tuple, list)):
        return tuple(_to(t, device) for t in tree)
    return backend.to_device(tree, device) if hasattr(tree, "dtype") else tree


def _unpack(batch, device):
    """``(inputs as a tuple, target)`` of a batch ``(inputs, target)`` on ``device``."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise ValueError(
            f"each batch must be a pair (inputs, target), got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        )
    inputs, target = batch
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return _to(inputs, device), _to(target, device)


def _count(target) -> int:
    """How many real targets a batch holds, to weight its mean loss.

    Integer targets below 0 are padding (``BucketBatches``' ``target_pad`` and PyTorch's
    ``ignore_index`` are -100). A pair ``(frames, mask)``, as ``FrameBatches`` yields,
    counts the real steps of the mask times the units of each frame.
    """
    first = target[0] if isinstance(target, tuple) else target
    if not hasattr(first, "size"):
        return 1
    if np.issubdtype(first.dtype, np.integer):
        return int((first >= 0).sum())
    mask = target[1] if isinstance(target, tuple) and len(target) == 2 else None
    if getattr(mask, "shape", None) == first.shape[:-1]:
        return int(float(mask.sum()) * first.shape[-1])
    return int(first.size)


def _check_optimizer(model, optimizer) -> None:
    if optimizer is not None:
        current = {id(p) for p, _ in model.parameters()}
        if any(id(p) not in current for p, _ in optimizer.params):
            raise ValueError(
                "optimizer does not update the model's current parameters: "
                "was it built before model.to(...)? "
                "Build the optimizer after moving the model"
            )


def evaluate(
    model, batches, loss, metrics: dict | None = None, carry_state: bool = False
) -> dict:
    """Mean loss (and metrics) of ``model`` over ``batches`` (eval mode, ``no_grad``).

    Each batch's loss is weighted by its number of real targets (integer targets below 0
    are padding and do not count, so a padded batch's mean over real tokens weighs what
    it should). ``metrics`` maps a name to a function ``f(prediction, target) ->
    float``, averaged the same way (exact for means such as
    :func:`rnnlab.metrics.accuracy`), or to an :class:`rnnlab.metrics.EpochMetric`,
    computed once on the labels of all batches (for F1 and other metrics that are not
    means). Returns ``{'loss': ..., name: ...}``.
    """
    metrics = dict(metrics or {})
    if "loss" in metrics:
        raise ValueError("metrics may not be named 'loss': that name is the loss's")
    averaged = {k: f for k, f in metrics.items() if not hasattr(f, "update")}
    gathered = {k: m for k, m in metrics.items() if hasattr(m, "update")}
    for m in gathered.values():
        m.reset()
    totals, count, state = {}, 0, None
    with model.evaluating(), no_grad():
        for batch in batches:
            inputs, target = _unpack(batch, model.device)
            out = model(*inputs, state) if carry_state else model(*inputs)
            pred, state = (out[0], out[1]) if isinstance(out, tuple) else (out, None)
            n = _count(target)
            if n == 0:  # only padding: nothing to weigh (its mean loss is undefined)
                continue
            values = {
                "loss": loss(pred, target)[0],
                **{k: f(pred, target) for k, f in averaged.items()},
            }
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + float(v) * n
            for m in gathered.values():
                m.update(pred, target)
            count += n
    if count == 0:
        raise ValueError(
            "evaluate saw no real targets: batches was empty or held only padding"
        )
    scores = {k: v / count for k, v in totals.items()}
    return {
        "loss": scores["loss"],
        **{k: scores[k] if k in averaged else metrics[k].compute() for k in metrics},
    }


def evaluate_lm(model, ids, batch_size: int = 32, seq_len: int = 128) -> float:
    """Mean cross-entropy per character of ``model`` on the stream ``ids``.

    In eval mode, under ``no_grad``, with the state carried.
    """
    return evaluate(
        model, TBPTTBatches(ids, batch_size, seq_len), cross_entropy, carry_state=True
    )["loss"]


def fit(
    model,
    train,
    *,
    loss,
    epochs: int = 1,
    optimizer=None,
    lr: float = 1e-3,
    val=None,
    clip: float | None = None,
    metrics: dict | None = None,
    callbacks=(),
    schedule=None,
    carry_state: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    history: History | None = None,
) -> History:
    """Train ``model`` on batches.

    The one training loop for classification, regression, language models and sequence
    to sequence.

    Every step: ``optimizer.zero_grad()``, ``out = model(*inputs)``, ``value, grad =
    loss(out, target)``, ``model.backward(grad)``, clipping, ``optimizer.step()``,
    ``schedule.step()``.

    Parameters
    ----------
    model : Module
        Its forward returns the prediction, or a tuple whose first element is the
        prediction (and, with ``carry_state``, whose second is the recurrent state); its
        backward takes the prediction's gradient (other outputs' gradients default to
        None).
    train : iterable of ``(inputs, target)`` batches, iterated once per epoch
        ``inputs`` is an array or a tuple of forward's arguments (``(ids, lengths)``);
        arrays are moved to the model's device.
    loss : ``f(prediction, target) -> (value, gradient)``
        E.g. :func:`rnnlab.cross_entropy` or
        ``lambda z, y: rnnlab.cross_entropy(z, y, ignore_index=PAD)``.
    epochs : int
    optimizer : an rnnlab optimiser; default ``Adam(model.parameters(), lr)``
    val : iterable of batches, optional; evaluated after each epoch (:func:`evaluate`)
    clip : float, optional
        Max global gradient norm (:func:`rnnlab.clip_grad_norm`); the norm is logged
        either way.
    metrics : dict name -> metric, computed on ``val`` after each epoch: a function
        ``f(prediction, target) -> float`` averaged over batches
        (:func:`rnnlab.metrics.accuracy`) or an :class:`rnnlab.metrics.EpochMetric` (F1
        and the like, from scikit-learn)
    callbacks : :class:`rnnlab.callbacks.Callback` objects
        E.g. ``EarlyStopping(patience=3)``.
    schedule : a learning-rate schedule (:mod:`rnnlab.optim`), stepped after every step
    carry_state : bool
        Truncated BPTT: pass each batch's final state, detached, as the next batch's
        last argument (consecutive batches must continue the same sequences, as
        :class:`rnnlab.data.TBPTTBatches` makes them).
    max_steps : int, optional
        Stop each epoch after this many steps.
    progress : bool
        One progress bar for the run, with the running loss.
    history : History, optional
        Append to an existing history (to continue training).
    """
    if not (isinstance(epochs, int) and epochs >= 0):
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    _check_optimizer(model, optimizer)
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    hist = history if history is not None else History()
    if epochs > 1 and iter(train) is train:
        raise TypeError(
            "train is an iterator, which is used up after one epoch; pass a list or "
            "a re-iterable batcher (BucketBatches, ArrayBatches, TBPTTBatches)"
        )
    per_epoch = len(train) if hasattr(train, "__len__") else None
    if per_epoch is not None and max_steps is not None:
        per_epoch = min(per_epoch, max_steps)
    # mininterval: a bar refreshing ten times a second floods a notebook kernel with
    # messages
    bar = tqdm(
        total=None if per_epoch is None else epochs * per_epoch,
        mininterval=1.0,
        leave=True,
        # off only when asked, so that TQDM_DISABLE=1 in the environment can also
        # switch console bars off
        **({} if progress else {"disable": True}),
    )
    model.train()
    stop = False
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}", refresh=False)
        state, losses, t0 = None, [], time.perf_counter()
        for step, batch in enumerate(train):
            if step == max_steps:
                break
            where = f"epoch {epoch + 1}, step {step}"
            inputs, target = _unpack(batch, model.device)
            opt.zero_grad()
            try:
                out = model(*inputs, _detach(state)) if carry_state else model(*inputs)
            except NonFiniteError as e:
                raise FloatingPointError(
                    f"the forward pass overflowed at {where} ({e}); lower lr or clip"
                ) from e
            pred, state = (out[0], out[1]) if isinstance(out, tuple) else (out, None)
            value, grad = loss(pred, target)
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"loss became {value} at {where}; lower lr or clip"
                )
            model.backward(grad)
            norm = clip_grad_norm(opt.params, clip if clip is not None else np.inf)
            if not math.isfinite(norm):
                raise FloatingPointError(
                    f"gradient norm became {norm} at {where}; lower lr or clip"
                )
            opt.step()
            if schedule is not None:
                schedule.step()
            losses.append(value)
            hist.step_loss.append(value)
            hist.grad_norm.append(norm)
            bar.update()
            if step % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", refresh=False)
            # steps count from 1 over the whole run (and across continued runs)
            steps = len(hist.step_loss)
            if any([cb.on_step_end(steps, hist, model) for cb in callbacks]):
                stop = True
                break
        hist.epoch_time.append(time.perf_counter() - t0)
        hist.train_loss.append(float(np.mean(losses)) if losses else float("nan"))
        hist.lr.append(opt.lr)
        if val is not None:
            scores = evaluate(model, val, loss, metrics, carry_state)
            hist.val_loss.append(scores.pop("loss"))
            for k, v in scores.items():
                hist.val_metrics.setdefault(k, []).append(v)
        if any([cb.on_epoch_end(epoch, hist, model) for cb in callbacks]) or stop:
            break
    bar.close()
    for cb in callbacks:
        cb.on_train_end(hist, model)
    return hist


def train_lm(
    model,
    train_ids,
    val_ids=None,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    seq_len: int = 64,
    optimizer=None,
    lr: float = 3e-3,
    clip: float | None = 5.0,
    max_steps: int | None = None,
    progress: bool = True,
    history: History | None = None,
) -> History:
    """Train a language model (e.g. :class:`rnnlab.models.CharLM`) with truncated BPTT.

    That is :func:`fit` on :class:`rnnlab.data.TBPTTBatches` with the state carried.
    Each batch continues the previous one's sequences, so the final state of a batch is
    the initial state of the next, while gradients stop at batch boundaries.

    Parameters
    ----------
    model : Module
        With ``forward(idx, state) -> (logits, state)`` and ``backward(dlogits)``.
    train_ids, val_ids : 1-D int arrays
    optimizer, lr, clip, max_steps, progress, history
        As in :func:`fit` (``clip`` 5 by default).
    """
    train = TBPTTBatches(train_ids, batch_size, seq_len)
    val = (
        None if val_ids is None else TBPTTBatches(val_ids, batch_size, max(seq_len, 64))
    )
    return fit(
        model,
        train,
        loss=cross_entropy,
        epochs=epochs,
        optimizer=optimizer,
        lr=lr,
        val=val,
        clip=clip,
        carry_state=True,
        max_steps=max_steps,
        progress=progress,
        history=history,
    )
