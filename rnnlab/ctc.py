"""Connectionist temporal classification (Graves et al. 2006): loss and gradient.

CTC scores a label sequence against per-frame class scores without an alignment: it
sums the probabilities of every frame-level path that collapses to the labels (merge
repeats, then drop blanks). The sum is the forward-backward recursion over the
labels interleaved with blanks, computed here in log space for a whole batch at once.
Derived in the chapter "Speech recognition with CTC".
"""

from __future__ import annotations

import numpy as np

from . import backend
from .backend import array_module
from .nn.functional import log_softmax

REDUCTIONS = ("mean", "sum", "none")


def _as_int(name, a, N):
    a = backend.to_numpy(a) if hasattr(a, "shape") else np.asarray(a)
    a = np.asarray(a)
    if a.ndim != 1 or len(a) != N or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(
            f"{name} must be {N} integers, one per sequence, got "
            f"{a.dtype} of shape {a.shape}"
        )
    return a.astype(np.int64)


def _padded_targets(targets, target_lengths, N, C, blank):
    """Targets as a padded (N, U) NumPy array, checked."""
    t = backend.to_numpy(targets) if hasattr(targets, "shape") else np.asarray(targets)
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"targets must hold integer class ids, got dtype {t.dtype}")
    lengths = _as_int("target_lengths", target_lengths, N)
    if (lengths < 0).any():
        raise ValueError(f"target_lengths must be >= 0, got {lengths.tolist()}")
    if t.ndim == 1:  # PyTorch's concatenated form
        if t.size != lengths.sum():
            raise ValueError(
                f"targets is 1-D (the sequences concatenated) with {t.size} labels, "
                f"but target_lengths sum to {int(lengths.sum())}"
            )
        U = int(lengths.max()) if N else 0
        padded = np.full((N, max(U, 1)), blank, dtype=np.int64)
        ends = np.cumsum(lengths)
        for n in range(N):
            padded[n, : lengths[n]] = t[ends[n] - lengths[n] : ends[n]]
        t = padded
    elif t.ndim == 2:
        if t.shape[0] != N or (lengths > t.shape[1]).any():
            raise ValueError(
                f"targets has shape {t.shape}; expected ({N}, at least "
                f"{int(lengths.max())}) for {N} sequences with target_lengths "
                f"{lengths.tolist()}"
            )
    else:
        raise ValueError(f"targets must be (N, U) or 1-D, got shape {t.shape}")
    real = np.arange(t.shape[1]) < lengths[:, None]
    labels = t[real]
    if labels.size and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(
            f"targets must be class ids in [0, {C}), got {labels.min()}..{labels.max()}"
        )
    if (labels == blank).any():
        n = int(np.argwhere(real & (t == blank))[0, 0])
        raise ValueError(
            f"targets[{n}] contains the blank ({blank}); the blank is not a label"
        )
    return np.where(real, t, blank), lengths


def ctc_loss(
    logits,
    targets,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
):
    r"""CTC loss of per-frame class scores, and its gradient w.r.t. the scores.

    With :math:`y = \operatorname{softmax}(z)` per frame and :math:`\mathcal B` the map
    that merges repeats and drops blanks,

    .. math:: L = -\log \sum_{\pi : \mathcal B(\pi) = l} \prod_{t=1}^{T} y_{t, \pi_t},
              \qquad
              \frac{\partial L}{\partial z_{t,k}} = y_{t,k} - \sum_{s : l'_s = k}
              \frac{\alpha_t(s)\,\beta_t(s)}{p(l \mid x)}

    where :math:`l'` is the labels with a blank before, between and after them, and
    :math:`\alpha, \beta` the forward and backward variables (here :math:`\beta_t(s)`
    excludes frame :math:`t`'s own emission).

    PyTorch's semantics (``torch.nn.functional.ctc_loss`` on ``z.log_softmax(-1)``):
    ``'mean'`` divides each sequence's loss by its target length (at least 1) and
    averages over the batch; ``'sum'`` adds the losses; ``'none'`` returns them, shape
    (N,), with the gradient of their sum. A sequence no alignment fits (fewer frames
    than labels plus repeated neighbours) has an infinite loss and a NaN gradient, or
    0 and 0 with ``zero_infinity``. Frames past a sequence's length get 0 gradient.

    Parameters
    ----------
    logits : float array, shape (T, N, C), before the softmax
    targets : int array, shape (N, U) padded, or 1-D: the sequences concatenated
    input_lengths : int array, shape (N,), each in [1, T]
    target_lengths : int array, shape (N,)
    blank : int, the blank's class id (default 0)
    reduction : ``'mean'`` (default), ``'sum'`` or ``'none'``
    zero_infinity : bool

    Returns
    -------
    loss : float (array (N,) for ``'none'``)
    dlogits : array, shape (T, N, C), in the dtype of ``logits``
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not (hasattr(logits, "ndim") and logits.ndim == 3):
        raise ValueError(
            "logits must be an array of shape (T, N, C), got "
            f"{getattr(logits, 'shape', type(logits).__name__)}"
        )
    T, N, C = logits.shape
    if not (isinstance(blank, (int, np.integer)) and 0 <= blank < C):
        raise ValueError(f"blank must be a class id in [0, {C}), got {blank!r}")
    ext_np, U_n = _padded_targets(targets, target_lengths, N, C, blank)
    T_n = _as_int("input_lengths", input_lengths, N)
    if (T_n < 1).any() or (T_n > T).any():
        raise ValueError(f"input_lengths must lie in [1, T={T}], got {T_n.tolist()}")
    xp = array_module(logits)
    dev = backend.device_of(logits)
    dtype = logits.dtype
    logp = log_softmax(logits)  # (T, N, C)

    # the extended labels l': blank, l_1, blank, l_2, ..., blank  -> (N, S)
    U = ext_np.shape[1]
    S = 2 * U + 1
    ext = np.full((N, S), blank, dtype=np.int64)
    ext[:, 1::2] = ext_np
    S_n = 2 * U_n + 1
    # alpha_t(s) may come from s - 2 (skipping a blank) between two different labels;
    # beta_t(s) may go on to s + 2 where alpha_t(s + 2) may come from s
    skip_to = np.zeros((N, S), dtype=bool)
    skip_to[:, 3::2] = ext_np[:, 1:] != ext_np[:, :-1]
    skip_from = np.zeros((N, S), dtype=bool)
    skip_from[:, :-2] = skip_to[:, 2:]
    valid = np.arange(S) < S_n[:, None]
    n_idx = np.arange(N)
    end = np.zeros((N, S), dtype=bool)  # the states a path may end in
    end[n_idx, S_n - 1] = True
    end[n_idx[U_n > 0], S_n[U_n > 0] - 2] = True
    ext, skip_to, skip_from, valid, end, last = (
        backend.to_device(a, dev)
        for a in (ext, skip_to, skip_from, valid, end, T_n - 1)
    )
    rows = xp.arange(N)[:, None]
    emit = logp[:, rows, ext]  # (T, N, S): log y_t(l'_s)
    ninf = dtype.type(-np.inf)

    # additive masks: 0 where a move or state is allowed, -inf where it is not
    def mask(allowed):
        return xp.where(allowed, dtype.type(0), ninf)

    skip_to, skip_from, valid = mask(skip_to), mask(skip_from), mask(valid)
    # alpha and beta carry two columns of -inf beside the S states (before for alpha,
    # after for beta), so that "s - 1", "s - 2" (or "s + 1", "s + 2") are views
    alpha = xp.full((T, N, S + 2), ninf, dtype=dtype)
    alpha[0, :, 2:4] = emit[0, :, :2]
    alpha[0, :, 2:] += valid
    for t in range(1, T):
        a = alpha[t - 1]
        stay_or_next = xp.logaddexp(a[:, 2:], a[:, 1:-1])
        alpha[t, :, 2:] = xp.logaddexp(stay_or_next, a[:, :-2] + skip_to)
        alpha[t, :, 2:] += emit[t] + valid
    alpha = alpha[:, :, 2:]

    beta = xp.full((T, N, S + 2), ninf, dtype=dtype)
    init = mask(end)  # beta at a sequence's last frame
    beta[T - 1, :, :S] = init
    for t in range(T - 2, -1, -1):
        b = beta[t + 1].copy()
        b[:, :S] += emit[t + 1]
        stay_or_next = xp.logaddexp(b[:, :S], b[:, 1 : S + 1])
        beta[t, :, :S] = xp.logaddexp(stay_or_next, b[:, 2:] + skip_from) + valid
        beta[t, :, :S] = xp.where((last <= t)[:, None], init, beta[t, :, :S])
    beta = beta[:, :, :S]

    n_all = xp.arange(N)
    a_last = alpha[last, n_all]  # (N, S): alpha at each sequence's last frame
    ends = backend.to_device(S_n - 1, dev)
    has_labels = backend.to_device(U_n > 0, dev)
    log_p = xp.logaddexp(
        a_last[n_all, ends],
        xp.where(has_labels, a_last[n_all, xp.maximum(ends - 1, 0)], ninf),
    )
    loss = -log_p  # (N,); inf where no alignment fits
    finite = xp.isfinite(log_p)
    # posteriors of the extended labels at each frame, summed per class
    gamma = xp.exp(alpha + beta - xp.where(finite, log_p, 0)[None, :, None])
    onehot = xp.zeros((N, S, C), dtype=dtype)
    onehot[rows, xp.arange(S)[None, :], ext] = 1
    post = xp.matmul(gamma.transpose(1, 0, 2), onehot).transpose(1, 0, 2)
    frames = (xp.arange(T)[:, None] <= last[None, :])[..., None]  # (T, N, 1)
    grad = xp.where(frames, xp.exp(logp) - post, dtype.type(0))

    infinite = ~finite
    if zero_infinity:
        loss = xp.where(infinite, 0.0, loss)
        grad = xp.where(infinite[None, :, None], 0.0, grad)
    else:
        # like PyTorch: NaN on the sequence's own frames, 0 past its length
        grad = xp.where(infinite[None, :, None] & frames, np.nan, grad)
    if reduction == "mean":
        per = backend.to_device(np.maximum(U_n, 1).astype(dtype), dev)
        scale = 1.0 / (per * N)
        value = float((loss * scale).sum())
        grad = grad * scale[None, :, None]
    elif reduction == "sum":
        value = float(loss.sum())
    else:
        value = loss.astype(dtype)
    return value, grad.astype(dtype, copy=False)
