"""Metrics for :func:`rnnlab.fit` and :func:`rnnlab.evaluate`.

Two kinds:

* a function ``f(prediction, target) -> float``, such as :func:`accuracy`, is computed
  on every batch and averaged, each batch weighted by its number of real targets. That
  is exact for metrics that are means over targets (accuracy, mean squared error).
* an :class:`EpochMetric` gathers the labels of every batch and computes once at the
  end: the right way for metrics that are not means over batches (F1, precision, recall,
  AUC). The computation comes from a library, e.g.
  ``EpochMetric(sklearn.metrics.f1_score, average="macro")``.

Integer targets below 0 are padding (PyTorch's ``ignore_index`` is -100) and never
count.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .nn.functional import softmax


def _real(prediction, target, scores: bool = False):
    """Flattened predictions and targets over the real targets of a batch.

    Parameters
    ----------
    prediction : array, shape target.shape + (C,) of class scores, or target.shape
        (regression, float targets)
    target : array; integer entries below 0 are padding
    scores : bool
        With class scores, return probabilities (softmax; the positive class's for
        C = 2) instead of labels (argmax).

    Returns
    -------
    prediction : array, shape (M,) or (M, C); target : array, shape (M,)
    """
    for name, a in (("prediction", prediction), ("target", target)):
        if not hasattr(a, "ndim"):
            raise TypeError(f"{name} must be an array, got {type(a).__name__}")
    integer = np.issubdtype(target.dtype, np.integer)
    classes = prediction.ndim == target.ndim + 1
    if classes and prediction.shape[:-1] != target.shape:
        classes = False  # reported below as a shape mismatch
    if classes:
        C = prediction.shape[-1]
        if C < 2:
            raise ValueError(
                f"prediction has shape {prediction.shape}: a class axis of size 1; "
                f"give one score per class (two for a binary task)"
            )
        if not integer:
            raise TypeError(
                f"class scores of shape {prediction.shape} need integer class labels "
                f"as target, got dtype {target.dtype}"
            )
        if scores:
            prediction = softmax(prediction.reshape(-1, C).astype(np.float64))
            prediction = prediction[:, 1] if C == 2 else prediction
        else:
            prediction = prediction.argmax(axis=-1).reshape(-1)
    elif prediction.shape != target.shape:
        raise ValueError(
            f"prediction has shape {prediction.shape} but target has shape "
            f"{target.shape}: expected class scores of shape target.shape + (C,), or "
            f"the target's shape for regression"
        )
    elif integer and not np.issubdtype(prediction.dtype, np.integer):
        raise ValueError(
            f"prediction has the target's shape {target.shape}, but the targets are "
            f"integer class labels: give class scores of shape target.shape + (C,)"
        )
    else:
        prediction = prediction.reshape(-1)
    target = target.reshape(-1)
    if integer:
        real = target >= 0
        prediction, target = prediction[real], target[real]
    return prediction, target


def accuracy(prediction, target) -> float:
    """Share of real targets whose predicted class (argmax of the last axis) is right.

    Parameters
    ----------
    prediction : array, shape (..., C) of class scores (logits or probabilities)
    target : int array, shape (...); entries below 0 are padding

    Returns NaN for a batch with no real target (``evaluate`` gives it no weight).
    """
    labels, target = _real(prediction, target)
    if target.size == 0:
        return float("nan")
    return float((labels == target).mean())


class EpochMetric:
    """A metric computed once over everything a pass sees, from a library function.

    Parameters
    ----------
    fn : callable ``fn(y_true, y_pred, **kwargs) -> float``
        e.g. ``sklearn.metrics.f1_score``
    scores : bool, default False
        Give ``fn`` class probabilities (the softmax of the scores; for two classes the
        positive class's) instead of predicted labels, as ``roc_auc_score`` and
        ``log_loss`` want.
    **kwargs : passed to ``fn`` (``average="macro"``, ``labels=...``)

    Each batch adds its real targets and predictions (labels, the argmax of class
    scores; probabilities with ``scores``; the values themselves for regression), moved
    to the CPU; :meth:`compute` calls ``fn`` on all of them. :func:`rnnlab.evaluate`
    calls :meth:`reset`, :meth:`update` per batch and :meth:`compute`.
    """

    def __init__(self, fn, *, scores: bool = False, **kwargs):
        if not callable(fn):
            raise TypeError(
                f"fn must be callable, like sklearn.metrics.f1_score; got {fn!r}"
            )
        self.fn, self.scores, self.kwargs = fn, bool(scores), kwargs
        self.reset()

    def reset(self) -> None:
        self._pred, self._true = [], []

    def update(self, prediction, target) -> None:
        pred, true = _real(prediction, target, self.scores)
        self._pred.append(backend.to_numpy(pred))
        self._true.append(backend.to_numpy(true))

    def compute(self) -> float:
        if not self._true:
            raise ValueError(f"{self!r}.compute: no batch was seen (call update first)")
        value = self.fn(
            np.concatenate(self._true), np.concatenate(self._pred), **self.kwargs
        )
        try:
            return float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{self!r} returned {type(value).__name__} {value!r}, not one number; "
                f"pass arguments that make it a scalar (e.g. average='macro')"
            ) from None

    def __repr__(self):
        args = ", scores=True" if self.scores else ""
        args += "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"EpochMetric({getattr(self.fn, '__name__', self.fn)}{args})"
