"""Callbacks for :func:`rnnlab.fit`.

They stop early, keep the best weights and save the best checkpoint.

A callback's ``on_step_end(step, history, model)`` runs after every optimisation step
(``step`` counts from 1 over the run) and ``on_epoch_end(epoch, history, model)`` after
each epoch's validation; either returns True to stop training (a stop after a step
still closes its epoch: its loss and validation are recorded). ``on_train_end(history,
model)`` runs once at the end.
"""

from __future__ import annotations

import math

MODES = ("min", "max")


class Callback:
    """Base class: the hooks do nothing."""

    def on_step_end(self, step: int, history, model) -> bool:
        return False

    def on_epoch_end(self, epoch: int, history, model) -> bool:
        return False

    def on_train_end(self, history, model) -> None:
        pass


class _Monitor(Callback):
    """Tracks the best value of one series of the history.

    E.g. ``'val_loss'`` or ``'val_accuracy'``.
    """

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.best, self.best_epoch = math.inf if mode == "min" else -math.inf, None

    def _improved(self, history, epoch: int) -> bool:
        value = history.last(self.monitor)
        better = (
            value < self.best - self.min_delta
            if self.mode == "min"
            else value > self.best + self.min_delta
        )
        if better:
            self.best, self.best_epoch = value, epoch
        return better


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An improvement must exceed ``min_delta``. With ``restore_best`` (default) the
    model ends with the weights of its best epoch.

    Parameters
    ----------
    monitor : str, default ``'val_loss'``
    patience : int, default 3
    mode : ``'min'`` (losses) or ``'max'`` (accuracy)
    min_delta : float, default 0
    restore_best : bool, default True
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 3,
        mode: str = "min",
        min_delta: float = 0.0,
        restore_best: bool = True,
    ):
        super().__init__(monitor, mode, min_delta)
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        self.patience, self.restore_best = patience, restore_best
        self.best_state, self.stopped_epoch = None, None
        self.wait = (
            0  # epochs since the last improvement: counted here, so a continued run
        )
        #                (fit numbers its epochs from 0 again) and a nan value both work

    def on_epoch_end(self, epoch, history, model) -> bool:
        if self._improved(history, epoch):  # a nan never improves
            self.wait = 0
            if self.restore_best:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, history, model) -> None:
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


class BestCheckpoint(_Monitor):
    """Save the model with ``model.save(path)`` whenever ``monitor`` improves.

    A model class with its own ``save`` (``CharLM``) stores its vocabulary and
    configuration too, so ``from_checkpoint(path)`` rebuilds the best model.
    """

    def __init__(
        self, path, monitor: str = "val_loss", mode: str = "min", min_delta: float = 0.0
    ):
        super().__init__(monitor, mode, min_delta)
        self.path = path

    def on_epoch_end(self, epoch, history, model) -> bool:
        if self._improved(history, epoch):
            model.save(self.path)
        return False


class Every(Callback):
    """Call ``fn(model)`` every ``steps`` optimisation steps (and after the last step).

    For what is measured during an epoch, such as a validation score that needs whole
    sequences: ``Every(20, lambda m: f1_of(m, val))``. The results are in ``values``,
    the steps they were measured at in ``steps``. With ``stop_when``, training stops at
    the first measurement for which ``stop_when(value)`` is true.

    Parameters
    ----------
    steps : int
    fn : callable ``fn(model) -> value``; it runs with the model in eval mode
    stop_when : callable ``value -> bool``, optional
    """

    def __init__(self, steps: int, fn, stop_when=None):
        if not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if not callable(fn):
            raise TypeError(f"fn must be callable as fn(model), got {fn!r}")
        self.every, self.fn, self.stop_when = steps, fn, stop_when
        self.steps, self.values = [], []

    def _measure(self, step: int, model) -> bool:
        with model.evaluating():
            value = self.fn(model)
        self.steps.append(step)
        self.values.append(value)
        return bool(self.stop_when is not None and self.stop_when(value))

    def on_step_end(self, step: int, history, model) -> bool:
        return step % self.every == 0 and self._measure(step, model)

    def on_train_end(self, history, model) -> None:
        steps = len(history.step_loss)
        if steps and (not self.steps or self.steps[-1] != steps):
            self._measure(steps, model)
