"""Metrics for :func:`rnnlab.fit` and :func:`rnnlab.evaluate`.

Two kinds:

* a function ``f(prediction, target) -> float``, such as :func:`accuracy`, is computed
  on every batch and averaged, each batch weighted by its number of real targets. That
  is exact for metrics that are means over targets (accuracy, mean squared error).
* an :class:`EpochMetric` gathers the labels of every batch and computes once at the
  end: the right way for metrics that are not means over batches (F1, precision, recall,
  AUC). The computation comes from a library, e.g.
  ``EpochMetric(sklearn.metrics.f1_score, average="macro")``.

For forecasts, :func:`smape`, :func:`mase` and :func:`coverage` score arrays of
forecasts and prediction intervals directly (the M4 competition's metrics).

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


def confusion_scores(counts) -> dict:
    """Accuracy and macro-F1 from confusion matrices.

    ``counts`` : array, shape (..., K, K), ``counts[..., i, j]`` the examples of class
    ``i`` predicted as ``j``. Returns ``{"accuracy": ..., "macro_f1": ...}``, arrays of
    shape ``counts.shape[:-2]``. A class never seen nor predicted has F1 0, as in
    ``sklearn.metrics.f1_score(..., average="macro", zero_division=0)``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    tp = np.diagonal(counts, axis1=-2, axis2=-1)
    fp_fn = counts.sum(axis=-1) + counts.sum(axis=-2) - 2 * tp
    denom = 2 * tp + fp_fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "accuracy": tp.sum(axis=-1) / counts.sum(axis=(-2, -1)),
        "macro_f1": f1.mean(axis=-1),
    }


def bootstrap_intervals(
    y_true,
    y_pred,
    num_classes: int | None = None,
    n_resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """Percentile bootstrap confidence intervals of accuracy and macro-F1.

    The test examples are resampled with replacement, each label kept with its
    prediction; every resample's scores come from its confusion matrix
    (:func:`confusion_scores`), so thousands of resamples take a fraction of a second.
    The interval says how much a score would move on another test set drawn like this
    one, not how much it moves between training runs (seeds).

    Parameters
    ----------
    y_true, y_pred : int arrays, shape (M,), labels in ``[0, num_classes)``
    num_classes : int, default one more than the largest label
    n_resamples : int
    level : float, the intervals' coverage
    seed : int, seeds the resampling

    Returns
    -------
    dict ``{"accuracy": (low, high), "macro_f1": (low, high)}``
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if (
        y_true.ndim != 1
        or y_true.shape != y_pred.shape
        or y_true.size < 2
        or not np.issubdtype(y_true.dtype, np.integer)
        or not np.issubdtype(y_pred.dtype, np.integer)
    ):
        raise ValueError(
            f"y_true and y_pred must be 1-D integer labels of one length of at least "
            f"2, got {y_true.dtype} {y_true.shape} and {y_pred.dtype} {y_pred.shape}"
        )
    K = int(max(y_true.max(), y_pred.max())) + 1 if num_classes is None else num_classes
    if min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= K:
        raise ValueError(f"labels must lie in [0, {K}), num_classes={num_classes}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    M, B = y_true.size, n_resamples
    idx = np.random.default_rng(seed).integers(0, M, (B, M))
    cell = K * y_true[idx] + y_pred[idx] + (K * K) * np.arange(B)[:, None]
    counts = np.bincount(cell.ravel(), minlength=B * K * K).reshape(B, K, K)
    alpha = (1 - level) / 2
    return {
        name: tuple(float(q) for q in np.quantile(v, [alpha, 1 - alpha]))
        for name, v in confusion_scores(counts).items()
    }


# ---------------------------------------------------------------- forecasting
def _forecast_pair(y_true, y_pred):
    t = np.asarray(backend.to_numpy(y_true), dtype=np.float64)
    p = np.asarray(backend.to_numpy(y_pred), dtype=np.float64)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(
            f"y_true and y_pred must have one non-empty shape, got {t.shape} and "
            f"{p.shape}"
        )
    return t, p


def smape(y_true, y_pred, axis=None):
    r"""Symmetric mean absolute percentage error, in percent (the M4 definition).

    .. math:: \text{sMAPE} = \frac{200}{n} \sum_i
              \frac{|y_i - \hat y_i|}{|y_i| + |\hat y_i|}

    Between 0 and 200; a term whose truth and forecast are both 0 counts 0.
    ``axis`` : average over this axis only (e.g. ``0`` for one value per horizon step
    of forecasts of shape (origins, horizon)); all entries by default.
    """
    t, p = _forecast_pair(y_true, y_pred)
    num, den = np.abs(t - p), np.abs(t) + np.abs(p)
    ratio = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return 200 * ratio.mean(axis=axis)


def mase(y_true, y_pred, y_train, m: int = 1, axis=None):
    r"""Mean absolute scaled error (Hyndman and Koehler 2006; the M4 definition).

    .. math:: \text{MASE} = \frac{\frac1n \sum_i |y_i - \hat y_i|}
              {\frac{1}{T - m} \sum_{t=m+1}^{T} |Y_t - Y_{t-m}|}

    The forecast's mean absolute error over that of the seasonal naive forecast (the
    value ``m`` steps earlier) one step ahead within the training series :math:`Y`.
    Below 1: better than that in-sample naive forecast.

    Parameters
    ----------
    y_true, y_pred : arrays of one shape
    y_train : array, shape (T,), the training series (T > m)
    m : int, the season length (1 for the non-seasonal naive forecast)
    axis : as in :func:`smape`
    """
    t, p = _forecast_pair(y_true, y_pred)
    Y = np.asarray(backend.to_numpy(y_train), dtype=np.float64)
    if not (isinstance(m, (int, np.integer)) and m >= 1):
        raise ValueError(f"m must be a positive integer, got {m!r}")
    if Y.ndim != 1 or Y.size <= m:
        raise ValueError(
            f"y_train must be a 1-D series longer than m = {m}, got shape {Y.shape}"
        )
    scale = np.abs(Y[m:] - Y[:-m]).mean()
    if scale == 0:
        raise ValueError(
            f"y_train does not change over any {m} steps: the naive forecast is exact "
            f"in sample and MASE is undefined"
        )
    return np.abs(t - p).mean(axis=axis) / scale


def coverage(y_true, lower, upper, axis=None):
    """Share of ``y_true`` inside ``[lower, upper]``: a prediction interval's coverage.

    A well-calibrated 80% interval covers about 0.8 of what happens.
    """
    t, lo = _forecast_pair(y_true, lower)
    _, hi = _forecast_pair(y_true, upper)
    if (lo > hi).any():
        raise ValueError("lower exceeds upper somewhere: pass (lower, upper) in order")
    return ((lo <= t) & (t <= hi)).mean(axis=axis)
