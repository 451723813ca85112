"""Losses that return ``(loss, gradient)``.

The gradient is the derivative of the value w.r.t. the prediction.

Sequence losses average over *real* tokens only: padded positions (``mask == 0``
or ``target == ignore_index``) contribute nothing to the loss or the gradient.
"""

from __future__ import annotations

import math

from .backend import array_module
from .checks import check_int_array
from .nn.functional import log_softmax, sigmoid


REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _real_token_weights(xp, targets, mask, ignore_index, dtype):
    keep = xp.ones(targets.shape, dtype=bool)
    if ignore_index is not None:
        keep &= targets != ignore_index
    if mask is not None:
        if tuple(mask.shape) != tuple(targets.shape):
            raise ValueError(
                f"mask has shape {tuple(mask.shape)}, "
                f"expected the targets' shape {tuple(targets.shape)}"
            )
        keep &= mask.astype(bool)
    if not bool(keep.any()):
        raise ValueError(
            "no real tokens: every target is masked or equal to ignore_index"
        )
    return keep.astype(dtype)


def _reduce(per_item, d_per_item, total_weight, reduction):
    """``(loss, gradient)`` from per-item losses and each item's own derivative.

    'mean' divides both by the total weight, 'sum' keeps them, 'none' returns the
    per-item losses, whose gradient is then that of their sum.
    """
    if reduction == "none":
        return per_item, d_per_item
    scale = 1.0 if reduction == "sum" else 1.0 / total_weight
    return float(per_item.sum()) * scale, d_per_item * per_item.dtype.type(scale)


def cross_entropy(
    logits,
    targets,
    *,
    mask=None,
    ignore_index: int | None = None,
    weight=None,
    reduction: str = "mean",
):
    r"""Softmax cross-entropy over real tokens.

    With PyTorch's ``weight``, ``ignore_index`` and ``reduction``:

    .. math:: L = -\frac{1}{\sum_{i \in R} w_{y_i}} \sum_{i \in R} w_{y_i}
              \log \operatorname{softmax}(z_i)_{y_i}

    Parameters
    ----------
    logits : array, shape (..., V)
    targets : int array, shape (...)
    mask : array, shape (...), optional
        1 for real tokens, 0 for padding.
    ignore_index : int, optional
        Targets equal to it are skipped (like PyTorch's ``ignore_index``).
    weight : array, shape (V,), optional
        A weight per class, e.g. to balance rare classes; 'mean' then divides by the sum
        of the real tokens' weights, as PyTorch does.
    reduction : ``'mean'`` (default), ``'sum'`` or ``'none'``
        ``'none'`` returns the loss of every token, shape (...), 0 on padding.

    Returns
    -------
    loss : float (an array of shape (...) for ``'none'``)
    dlogits : array, shape (..., V), in the dtype of ``logits``
        :math:`w_{y_i} (\operatorname{softmax}(z_i) - \text{onehot}(y_i))`, divided by
        the total weight for ``'mean'``, 0 on padding.
    """
    _check_reduction(reduction)
    xp = array_module(logits, targets, mask, weight)
    V = logits.shape[-1]
    if tuple(logits.shape[:-1]) != tuple(targets.shape):
        raise ValueError(
            f"logits has shape {tuple(logits.shape)} "
            f"and targets {tuple(targets.shape)}; "
            "expected logits (..., V) with targets (...) of the same leading shape"
        )
    w = _real_token_weights(xp, targets, mask, ignore_index, logits.dtype)
    safe = xp.where(w > 0, targets, 0)  # ignored targets may be out of range
    check_int_array("targets", safe, high=V)
    if weight is not None:
        if tuple(weight.shape) != (V,):
            raise ValueError(
                f"weight has shape {tuple(weight.shape)}, "
                f"expected one weight per class ({V},)"
            )
        w = w * weight.astype(logits.dtype, copy=False)[safe]
    logp = log_softmax(logits).reshape(-1, V)
    flat, wf = safe.reshape(-1), w.reshape(-1)
    rows = xp.arange(flat.size)
    per_token = -logp[rows, flat] * wf
    d = xp.exp(logp)
    d[rows, flat] -= 1
    d *= wf[:, None]
    total = float(w.sum())
    if reduction == "mean" and total == 0:
        raise ValueError(
            "the real tokens' class weights sum to 0: their weighted mean is undefined"
        )
    loss, d = _reduce(
        per_token.reshape(targets.shape), d.reshape(logits.shape), total, reduction
    )
    return loss, d


def _check_same_shape(pred_name, pred_shape, target) -> None:
    if tuple(pred_shape) != tuple(target.shape):
        raise ValueError(
            f"{pred_name} has shape {tuple(pred_shape)} but target has "
            f"{tuple(target.shape)}; they must match"
        )


def _entry_mask(xp, mask, pred):
    """``(mask as pred's dtype broadcast to pred's shape, count of real entries)``.

    ``mask`` has ``pred``'s shape, or that shape without the last axis (whole time
    steps); None means every entry is real: ``(None, pred.size)``.
    """
    if mask is None:
        return None, pred.size
    m = mask.astype(pred.dtype)
    if m.shape != pred.shape:
        if tuple(m.shape) != tuple(pred.shape[:-1]):
            raise ValueError(
                f"mask has shape {tuple(mask.shape)}, "
                f"expected {tuple(pred.shape)} or {tuple(pred.shape[:-1])}"
            )
        m = xp.broadcast_to(m[..., None], pred.shape)
    count = int(m.sum())
    if count == 0:
        raise ValueError("mask selects no entries")
    return m, count


def mse(pred, target, *, mask=None, reduction: str = "mean"):
    r"""Squared error over real entries.

    For ``'mean'``, :math:`\frac{1}{|R|}\sum_{i\in R}(\hat y_i - y_i)^2`.

    Parameters
    ----------
    pred : float array, any shape
    target : array, same shape (cast to ``pred``'s dtype, so the gradient is in it too)
    mask : array, ``pred``'s shape or that shape without the last axis, optional
        Without the last axis it masks whole time steps.
    reduction : ``'mean'`` (default), ``'sum'`` or ``'none'``
        ``'none'`` returns the squared error of every entry, 0 where masked.

    Returns ``(loss, dpred)``, ``dpred`` in the dtype of ``pred``.
    """
    _check_reduction(reduction)
    xp = array_module(pred, target, mask)
    _check_same_shape("pred", pred.shape, target)
    diff = pred - target.astype(pred.dtype, copy=False)
    m, count = _entry_mask(xp, mask, pred)
    if m is not None:
        diff = diff * m
    return _reduce(diff * diff, diff * pred.dtype.type(2), count, reduction)


def gaussian_nll(
    pred, target, *, eps: float = 1e-6, full: bool = False, reduction: str = "mean"
):
    r"""Negative log-likelihood of ``target`` under a Gaussian per entry.

    ``pred[..., 0]`` is the mean :math:`\mu` and ``pred[..., 1]`` the variance
    :math:`\sigma^2` (already positive, e.g. a softplus: see
    :class:`rnnlab.models.Forecaster`):

    .. math:: \ell = \tfrac12 \left(\log \max(\sigma^2, \epsilon)
              + \frac{(y - \mu)^2}{\max(\sigma^2, \epsilon)}\right)
              \;\left[+ \tfrac12 \log 2\pi \text{ with } \texttt{full}\right]

    Equal to ``torch.nn.GaussianNLLLoss(full=full, eps=eps, reduction=reduction)(
    pred[..., 0], target, pred[..., 1])``, gradients included: like PyTorch, the
    variance is clamped at ``eps`` for the value, while its gradient passes the clamp
    as if it were not there.

    Parameters
    ----------
    pred : float array, shape (..., 2)
    target : array, shape (...)
    eps : float, the smallest variance used
    full : bool, add the constant :math:`\tfrac12\log 2\pi`
    reduction : ``'mean'`` (default), ``'sum'`` or ``'none'``

    Returns
    -------
    loss : float (array of shape (...) for ``'none'``)
    dpred : array, shape (..., 2): the gradients w.r.t. the mean and the variance
    """
    _check_reduction(reduction)
    xp = array_module(pred, target)
    if pred.ndim < 1 or pred.shape[-1] != 2:
        raise ValueError(
            f"pred has shape {tuple(pred.shape)}; expected (..., 2): the mean and "
            f"the variance of each entry"
        )
    _check_same_shape("pred[..., 0]", pred.shape[:-1], target)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    mu, var = pred[..., 0], pred[..., 1]
    if bool((var < 0).any()):
        raise ValueError(
            "pred[..., 1] holds a negative variance; pass a positive variance "
            "(a softplus or exp of the raw output)"
        )
    v = xp.maximum(var, pred.dtype.type(eps))
    diff = mu - target.astype(pred.dtype, copy=False)
    per = 0.5 * (xp.log(v) + diff * diff / v)
    if full:
        per += pred.dtype.type(0.5 * math.log(2 * math.pi))
    d = xp.empty_like(pred)
    d[..., 0] = diff / v
    d[..., 1] = 0.5 * (1 / v - diff * diff / (v * v))
    return _reduce(per, d, per.size, reduction)


def pinball(pred, target, quantiles, *, reduction: str = "mean"):
    r"""Pinball (quantile) loss: ``pred[..., j]`` estimates quantile :math:`q_j`.

    .. math:: \ell_j = \max\big(q_j (y - \hat y_j),\; (q_j - 1)(y - \hat y_j)\big)

    Minimised in expectation by the :math:`q_j`-quantile of :math:`y`; for
    :math:`q = 0.5` it is half the absolute error. ``'mean'`` averages over every
    entry and quantile. At a tie :math:`\hat y_j = y` the gradient taken is
    :math:`1 - q_j` (a subgradient).

    Parameters
    ----------
    pred : float array, shape (..., Q)
    target : array, shape (...)
    quantiles : sequence of Q floats in (0, 1)
    reduction : ``'mean'`` (default), ``'sum'`` or ``'none'`` (shape (..., Q))

    Returns ``(loss, dpred)``, ``dpred`` of shape (..., Q).
    """
    _check_reduction(reduction)
    xp = array_module(pred, target)
    q = [float(v) for v in quantiles]
    if not q or not all(0 < v < 1 for v in q):
        raise ValueError(f"quantiles must be levels in (0, 1), got {quantiles!r}")
    if pred.ndim < 1 or pred.shape[-1] != len(q):
        raise ValueError(
            f"pred has shape {tuple(pred.shape)}; expected (..., {len(q)}), one "
            f"column per quantile of {q}"
        )
    _check_same_shape("pred[..., 0]", pred.shape[:-1], target)
    qa = xp.asarray(q, dtype=pred.dtype)
    under = target.astype(pred.dtype, copy=False)[..., None] - pred  # y - y_hat
    per = xp.maximum(qa * under, (qa - 1) * under)
    d = xp.where(under > 0, -qa, 1 - qa).astype(pred.dtype, copy=False)
    return _reduce(per, d, per.size, reduction)


def bce_with_logits(
    logits, targets, *, mask=None, pos_weight=None, reduction: str = "mean"
):
    r"""Binary cross-entropy of independent sigmoid outputs, from their logits.

    For a piano roll, a set of tags, any target of 0s and 1s (or probabilities):

    .. math:: \ell = -\big[p\, y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))\big],
              \qquad \frac{\partial \ell}{\partial z} = \sigma(z)\,(p y + 1 - y) - p y

    computed stably as :math:`(1 - y) z + (1 + (p - 1) y)\,\operatorname{softplus}(-z)`.
    Equal to ``torch.nn.BCEWithLogitsLoss(pos_weight=p, reduction=...)``, gradients
    included.

    Parameters
    ----------
    logits : float array, any shape
    targets : array of the same shape, values in [0, 1]
    mask : array, the logits' shape or that shape without the last axis, optional
        0 for padded entries (or, without the last axis, padded time steps); 'mean'
        then averages over the real entries only.
    pos_weight : float or array broadcast over the last axis, optional
        The weight :math:`p` of the positive targets (a rare note, a rare tag).
    reduction : ``'mean'`` (default), ``'sum'`` or ``'none'``

    Returns ``(loss, dlogits)``, ``dlogits`` in the dtype of ``logits``.
    """
    _check_reduction(reduction)
    xp = array_module(logits, targets, mask, pos_weight)
    _check_same_shape("logits", logits.shape, targets)
    y = targets.astype(logits.dtype, copy=False)
    if bool(((y < 0) | (y > 1)).any()):
        raise ValueError("targets must lie in [0, 1] (0/1 labels or probabilities)")
    z = logits
    softplus_neg = xp.logaddexp(0, -z)  # -log sigmoid(z), without overflow
    if pos_weight is None:
        per = (1 - y) * z + softplus_neg
        d = sigmoid(z) - y
    else:
        p = xp.asarray(pos_weight, dtype=z.dtype)
        scale = 1 + (p - 1) * y
        per = (1 - y) * z + scale * softplus_neg
        d = scale * sigmoid(z) - p * y
    m, count = _entry_mask(xp, mask, z)
    if m is not None:
        per, d = per * m, d * m
    return _reduce(per, d.astype(z.dtype, copy=False), count, reduction)
