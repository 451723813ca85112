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


def _real(prediction, target):
    """Flattened (labels or scores, targets) over the real targets of a batch.

    ``prediction`` has the target's shape (regression) or one more axis of class scores;
    with scores, the predicted label is their argmax.
    """
    if prediction.ndim == target.ndim + 1:
        prediction = prediction.argmax(axis=-1)
    elif prediction.shape != target.shape:
        raise ValueError(
            f"prediction has shape {prediction.shape} but target has shape "
            f"{target.shape}: expected the same shape, or class scores with one "
            f"more axis"
        )
    prediction, target = prediction.reshape(-1), target.reshape(-1)
    if np.issubdtype(target.dtype, np.integer):
        real = target >= 0
        prediction, target = prediction[real], target[real]
    return prediction, target


def accuracy(prediction, target) -> float:
    """Share of real targets whose predicted class (argmax of the last axis) is right.

    Parameters
    ----------
    prediction : array, shape (..., C) of class scores (logits or probabilities)
    target : int array, shape (...); entries below 0 are padding
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
    **kwargs : passed to ``fn`` (``average="macro"``, ``labels=...``)

    Each batch adds its real targets and predicted labels (the argmax of class scores,
    or the prediction itself for regression), moved to the CPU; :meth:`compute` calls
    ``fn`` on all of them. :func:`rnnlab.evaluate` calls :meth:`reset`, :meth:`update`
    per batch and :meth:`compute`.
    """

    def __init__(self, fn, **kwargs):
        if not callable(fn):
            raise TypeError(
                f"fn must be callable, like sklearn.metrics.f1_score; got {fn!r}"
            )
        self.fn, self.kwargs = fn, kwargs
        self.reset()

    def reset(self) -> None:
        self._pred, self._true = [], []

    def update(self, prediction, target) -> None:
        pred, true = _real(prediction, target)
        self._pred.append(backend.to_numpy(pred))
        self._true.append(backend.to_numpy(true))

    def compute(self) -> float:
        if not self._true:
            raise ValueError(
                "EpochMetric.compute: no batch was seen (call update first)"
            )
        return float(
            self.fn(
                np.concatenate(self._true), np.concatenate(self._pred), **self.kwargs
            )
        )

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"EpochMetric({getattr(self.fn, '__name__', self.fn)}{args})"
