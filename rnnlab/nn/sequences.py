"""Variable-length batches: padding, masks, and the time reversal of bidirectional RNNs.

A batch of sequences of different lengths is stored padded to the longest, time-major
``(T, N, ...)``, with a ``lengths`` vector of shape (N,). Recurrent layers given
``lengths`` behave like PyTorch's on a ``pack_padded_sequence``: past a sequence's end
its state is frozen and its outputs are zero; the reverse direction reads each
sequence's valid part backwards.
"""

from __future__ import annotations

import numpy as np

from .. import backend


def check_lengths(lengths, T: int, N: int) -> np.ndarray:
    """Validate ``lengths`` (N integers in [1, T], any order).

    Returns them as a NumPy int64 array.
    """
    if backend.device_of(lengths) == "cuda":
        lengths = backend.to_numpy(lengths)
    lengths = np.asarray(lengths)
    if lengths.shape != (N,):
        raise ValueError(
            f"lengths has shape {lengths.shape}, "
            f"expected ({N},): one length per sequence"
        )
    if lengths.size and not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(
            f"lengths must lie in [1, {T}] (T = {T} steps), got values in "
            f"[{lengths.min()}, {lengths.max()}]"
        )
    return lengths.astype(np.int64)


def lengths_to_mask(lengths, T: int | None = None, batch_first: bool = False, xp=np):
    """Boolean mask of real (non-padding) positions.

    Its shape is (T, N), or (N, T) with ``batch_first``.
    """
    lengths = np.asarray(backend.to_numpy(lengths))
    T = int(lengths.max()) if T is None else T
    mask = np.arange(T)[:, None] < lengths[None, :]
    mask = mask.T if batch_first else mask
    return mask if xp is np else xp.asarray(mask)


def pad_sequences(seqs, padding_value=0, batch_first: bool = False):
    """Pad a list of arrays of shape (T_n, ...) into one array and their lengths.

    Returns
    -------
    padded : array, shape (T_max, N, ...) (or (N, T_max, ...) with ``batch_first``)
    lengths : int64 array, shape (N,)
    """
    if len(seqs) == 0:
        raise ValueError("seqs is empty: nothing to pad")
    xp = backend.array_module(*seqs)
    seqs = [xp.asarray(s) for s in seqs]
    tail = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.ndim < 1 or s.shape[0] == 0:
            raise ValueError(
                f"seqs[{i}] is empty (shape {s.shape}); "
                "every sequence needs at least one step"
            )
        if s.shape[1:] != tail:
            raise ValueError(
                f"seqs[{i}] has shape {s.shape}: "
                f"its trailing shape {s.shape[1:]} differs from seqs[0]'s {tail}"
            )
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    out = xp.full(
        (int(lengths.max()), len(seqs)) + tail, padding_value, dtype=seqs[0].dtype
    )
    for n, s in enumerate(seqs):
        out[: s.shape[0], n] = s
    return (out.swapaxes(0, 1) if batch_first else out), lengths


class Packing:
    """What a layer needs to run a padded batch.

    The frozen-step mask and the per-sequence reversal.

    Attributes
    ----------
    lengths : int64 array, shape (N,), on the CPU
    frozen : bool array, shape (T, N, 1)
        True where step ``t`` is past sequence ``n``'s end.
    active : array of the layer's dtype, shape (T, N, 1)
        1 on real steps, 0 on padding.
    reverse_index : int array, shape (T, N)
        ``L_n - 1 - t`` on real steps, ``t`` on padding, so that
        ``a[reverse_index, arange(N)]`` reverses each sequence's real part and leaves
        padding in place (applying it twice is the identity).
    """

    def __init__(self, lengths, T: int, N: int, xp, dtype):
        self.lengths = check_lengths(lengths, T, N)
        t = np.arange(T)[:, None]
        real = t < self.lengths[None, :]
        self.frozen = xp.asarray(~real[:, :, None])
        self.active = xp.asarray(real[:, :, None].astype(dtype))
        self.reverse_index = xp.asarray(
            np.where(real, self.lengths[None, :] - 1 - t, t)
        )
        self.columns = xp.arange(N)[None, :]

    def reverse(self, a):
        """``a`` (T, N, ...) with each sequence's real part reversed in time."""
        return a[self.reverse_index, self.columns]


def hold_states(frozen_t, new, old) -> None:
    """Forward of a padded step: past a sequence's end each state carries over as is.

    Parameters
    ----------
    frozen_t : bool array, shape (N, 1): True for the sequences already ended
    new, old : tuples of arrays, shape (N, H): the states after and before step ``t``;
        ``new`` is overwritten where ``frozen_t``.
    """
    for a, b in zip(new, old):
        backend.array_module(a).copyto(a, b, where=frozen_t)


def hold_grads(frozen_t, step_grads, state_grads, carried) -> None:
    r"""Backward of a padded step, the mirror of :func:`hold_states`: a frozen step adds
    nothing to the weights or the input, and the state gradients pass it unchanged.

    Parameters
    ----------
    frozen_t : bool array, shape (N, 1)
    step_grads : tuple of arrays, shape (N, ...): the step's pre-activation gradients,
        zeroed where ``frozen_t``
    state_grads : tuple of arrays, shape (N, H): the state gradients after the step
        (:math:`\partial L/\partial h_{t-1}`, ...), reset to ``carried`` where
        ``frozen_t``
    carried : tuple of arrays, shape (N, H): the state gradients before the step
    """
    xp = backend.array_module(frozen_t)
    for g in step_grads:
        xp.copyto(g, 0, where=frozen_t)
    for g, c in zip(state_grads, carried):
        xp.copyto(g, c, where=frozen_t)


def reverse_time(a, packing: Packing | None):
    """Time reversal for the backward direction: plain ``a[::-1]`` without padding."""
    return a[::-1] if packing is None else packing.reverse(a)
