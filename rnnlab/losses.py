"""Losses that return ``(loss, gradient)``: the value and its derivative w.r.t. the prediction.

Sequence losses average over *real* tokens only: padded positions (``mask == 0``
or ``target == ignore_index``) contribute nothing to the loss or the gradient.
"""
from __future__ import annotations

from .backend import array_module
from .checks import check_int_array
from .functional import log_softmax


def _real_token_weights(xp, targets, mask, ignore_index, dtype):
    keep = xp.ones(targets.shape, dtype=bool)
    if ignore_index is not None:
        keep &= targets != ignore_index
    if mask is not None:
        if tuple(mask.shape) != tuple(targets.shape):
            raise ValueError(f"mask has shape {tuple(mask.shape)}, expected the targets' shape {tuple(targets.shape)}")
        keep &= mask.astype(bool)
    count = int(keep.sum())
    if count == 0:
        raise ValueError("no real tokens: every target is masked or equal to ignore_index")
    return keep.astype(dtype), count


def cross_entropy(logits, targets, *, mask=None, ignore_index: int | None = None):
    r"""Softmax cross-entropy averaged over real tokens.

    .. math:: L = -\frac{1}{|R|} \sum_{i \in R} \log \operatorname{softmax}(z_i)_{y_i}

    Parameters
    ----------
    logits : array, shape (..., V)
    targets : int array, shape (...)
    mask : array, shape (...), optional
        1 for real tokens, 0 for padding.
    ignore_index : int, optional
        Targets equal to it are skipped (like PyTorch's ``ignore_index``).

    Returns
    -------
    loss : float
    dlogits : array, shape (..., V)
        :math:`(\operatorname{softmax}(z_i) - \text{onehot}(y_i)) / |R|` on real tokens, 0 elsewhere.
    """
    xp = array_module(logits, targets, mask)
    V = logits.shape[-1]
    if tuple(logits.shape[:-1]) != tuple(targets.shape):
        raise ValueError(f"logits has shape {tuple(logits.shape)} and targets {tuple(targets.shape)}; "
                         f"expected logits (..., V) with targets (...) of the same leading shape")
    w, count = _real_token_weights(xp, targets, mask, ignore_index, logits.dtype)
    safe = xp.where(w > 0, targets, 0)  # ignored targets may be out of range
    check_int_array("targets", safe, high=V)
    logp = log_softmax(logits).reshape(-1, V)
    flat = safe.reshape(-1)
    rows = xp.arange(flat.size)
    wf = w.reshape(-1)
    loss = -(logp[rows, flat] * wf).sum() / count
    d = xp.exp(logp)
    d[rows, flat] -= 1
    d *= (wf / count)[:, None]
    return float(loss), d.reshape(logits.shape)


def mse(pred, target, *, mask=None):
    r"""Mean squared error over real entries, :math:`\frac{1}{|R|}\sum_{i\in R}(\hat y_i - y_i)^2`.

    ``mask`` (optional) has ``pred``'s shape, or its shape without the last axis
    (then it masks whole time steps). Returns ``(loss, dpred)``.
    """
    xp = array_module(pred, target, mask)
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"pred has shape {tuple(pred.shape)} but target has {tuple(target.shape)}; they must match")
    diff = pred - target
    if mask is None:
        count = diff.size
    else:
        m = mask.astype(pred.dtype)
        if m.shape != pred.shape:
            if tuple(m.shape) != tuple(pred.shape[:-1]):
                raise ValueError(f"mask has shape {tuple(mask.shape)}, expected {tuple(pred.shape)} or {tuple(pred.shape[:-1])}")
            m = xp.broadcast_to(m[..., None], pred.shape)
        count = int(m.sum())
        if count == 0:
            raise ValueError("mask selects no entries")
        diff = diff * m
    return float((diff * diff).sum() / count), diff * (2.0 / count)
