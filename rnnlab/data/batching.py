"""Batches: contiguous streams for truncated BPTT (:class:`TBPTTBatches`), and shuffled,
length-bucketed batches of variable-length sequences (:class:`BucketBatches`)."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .. import backend
from ..nn.sequences import pad_sequences


class TBPTTBatches:
    r"""Batches for truncated BPTT that let the hidden state carry across batches.

    The stream is cut into ``batch_size`` equal contiguous parts, one per batch
    row. Batch ``k`` holds steps ``[k L, (k+1) L)`` of every part, so row ``n`` of
    batch ``k+1`` continues row ``n`` of batch ``k`` and the final state of one
    batch is the right initial state of the next. Targets are the inputs shifted
    by one step.

    Yields
    ------
    x, y : int64 arrays, shape (T, batch_size)
        With ``T = seq_len`` (the last batch may be shorter).
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        # batches are cut on the CPU and moved by the caller
        ids = np.asarray(backend.to_numpy(ids))
        if ids.ndim != 1:
            raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
        if batch_size < 1 or seq_len < 1:
            raise ValueError(
                "batch_size and seq_len must be positive, "
                f"got {batch_size} and {seq_len}"
            )
        # -1: every input needs a next-character target
        per_row = (len(ids) - 1) // batch_size
        if per_row < 1:
            raise ValueError(
                f"{len(ids)} tokens are too few for batch_size={batch_size} "
                f"(need at least {batch_size + 1})"
            )
        self.seq_len = seq_len
        self.streams = ids[: per_row * batch_size + 1]
        # (per_row, N) views: column n is the n-th contiguous part.
        self.inputs = self.streams[:-1].reshape(batch_size, per_row).T
        self.targets = self.streams[1:].reshape(batch_size, per_row).T

    def __len__(self) -> int:
        return -(-self.inputs.shape[0] // self.seq_len)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for s in range(0, self.inputs.shape[0], self.seq_len):
            yield (
                np.ascontiguousarray(self.inputs[s : s + self.seq_len]),
                np.ascontiguousarray(self.targets[s : s + self.seq_len]),
            )


class BucketBatches:
    r"""Shuffled batches of variable-length sequences, padded, with their lengths.

    With ``bucket=True`` each batch is drawn from sequences of similar length, so little
    of the padded ``(T, N)`` array is padding and an RNN runs few wasted steps: the
    examples are shuffled, cut into pools of ``pool`` batches, each pool is sorted by
    length and cut into batches, and the batches are shuffled. Every epoch (every
    ``iter``) draws a new order from ``seed`` and the epoch number, so a run is
    reproducible, and resumable by setting ``epoch``.

    Parameters
    ----------
    sequences : list of 1-D int arrays (token ids), or of float arrays (T, F) of
        feature frames (a spectrogram), each of length at least 1
    targets : array, shape (n, ...), or list of 1-D arrays
        One target per sequence (a label, a value), or one per step of each sequence
        (tags), padded with ``target_pad``.
    batch_size : int
    shuffle : bool, default True
    bucket : bool, default True
    pool : int, default 50
        Batches per sorting pool: larger pools pad less and shuffle less.
    pad_id : int, default 0
    target_pad : int, default -100 (``ignore_index`` of :func:`rnnlab.cross_entropy`)
    seed : int, default 0

    Yields
    ------
    ((ids, lengths), target)
        ``ids`` int64 (T_max, N) padded with ``pad_id`` (frames: float (T_max, N, F)
        padded with zeros), ``lengths`` (N,), and the
        batch's targets, ready for :func:`rnnlab.fit` and a model
        ``forward(ids, lengths)``.
    """

    def __init__(
        self,
        sequences,
        targets,
        batch_size: int,
        *,
        shuffle: bool = True,
        bucket: bool = True,
        pool: int = 50,
        pad_id: int = 0,
        target_pad: int = -100,
        seed: int = 0,
    ):
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        if not (isinstance(pool, int) and pool >= 1):
            raise ValueError(f"pool must be a positive integer, got {pool!r}")
        self.sequences = [np.asarray(backend.to_numpy(s)) for s in sequences]
        # token ids (T,), or frames of features (T, F) such as a spectrogram's
        self.frames = bool(self.sequences) and self.sequences[0].ndim == 2
        for i, s in enumerate(self.sequences):
            ok = (
                s.ndim == 2
                and s.shape[1:] == self.sequences[0].shape[1:]
                and np.issubdtype(s.dtype, np.floating)
                if self.frames
                else s.ndim == 1 and np.issubdtype(s.dtype, np.integer)
            )
            if not ok or s.shape[0] == 0:
                raise ValueError(
                    f"sequences[{i}] must be a non-empty 1-D integer array (token "
                    f"ids) or, like every sequence, a float array (T, F) of frames; "
                    f"got shape {s.shape} and dtype {s.dtype}"
                )
        if len(targets) != len(self.sequences):
            raise ValueError(
                f"targets has {len(targets)} entries "
                f"for {len(self.sequences)} sequences"
            )
        self.per_step = (
            isinstance(targets, (list, tuple))
            and len(targets) > 0
            and np.ndim(targets[0]) >= 1
        )
        self.targets = (
            [np.asarray(t) for t in targets] if self.per_step else np.asarray(targets)
        )
        if self.per_step:
            for i, (s, t) in enumerate(zip(self.sequences, self.targets)):
                if t.shape[:1] != s.shape:
                    raise ValueError(
                        f"targets[{i}] has shape {t.shape}, "
                        f"expected one per step {s.shape}"
                    )
        self.lengths = np.array([len(s) for s in self.sequences])
        self.batch_size, self.shuffle, self.bucket, self.pool = (
            batch_size,
            shuffle,
            bucket,
            pool,
        )
        self.pad_id, self.target_pad, self.seed, self.epoch = (
            pad_id,
            target_pad,
            seed,
            0,
        )

    def __len__(self) -> int:
        return -(-len(self.sequences) // self.batch_size)

    def order(self, epoch: int) -> list[np.ndarray]:
        """The example indices of every batch of epoch ``epoch``."""
        g = np.random.default_rng([self.seed, epoch])
        idx = (
            g.permutation(len(self.sequences))
            if self.shuffle
            else np.arange(len(self.sequences))
        )
        B = self.batch_size
        if self.bucket:
            chunk = B * self.pool
            pools = [idx[i : i + chunk] for i in range(0, idx.size, chunk)]
            idx = np.concatenate(
                [p[np.argsort(self.lengths[p], kind="stable")] for p in pools]
            )
        batches = [idx[i : i + B] for i in range(0, idx.size, B)]
        if self.shuffle and self.bucket:
            batches = [batches[i] for i in g.permutation(len(batches))]
        return batches

    def padding_fraction(self, epoch: int = 0) -> float:
        """The share of padded entries in ``epoch``'s batches: what bucketing saves."""
        real = padded = 0
        for b in self.order(epoch):
            real += int(self.lengths[b].sum())
            padded += int(self.lengths[b].max()) * b.size
        return 1 - real / padded

    def __iter__(self) -> Iterator:
        batches, self.epoch = self.order(self.epoch), self.epoch + 1
        for b in batches:
            lengths = self.lengths[b]
            seqs = [self.sequences[i] for i in b]
            if self.frames:  # zero frames after the end, masked by the lengths
                ids = pad_sequences(seqs, 0.0)[0]
            else:
                ids = _pad_columns(seqs, self.pad_id)
            if self.per_step:
                first = self.targets[b[0]]
                dtype = np.result_type(first.dtype, np.min_scalar_type(self.target_pad))
                target = np.full(
                    (ids.shape[0], b.size) + first.shape[1:],
                    self.target_pad,
                    dtype=dtype,
                )
                for col, i in enumerate(b):
                    target[: lengths[col], col] = self.targets[i]
            else:
                target = self.targets[b]
            yield (ids, lengths), target


def _pad_columns(seqs, value) -> np.ndarray:
    """1-D int arrays as the columns of one (T_max, N) int64 array padded with
    ``value``."""
    out = np.full((max(len(q) for q in seqs), len(seqs)), value, dtype=np.int64)
    for col, q in enumerate(seqs):
        out[: len(q), col] = q
    return out


def _int_sequences(name: str, seqs, n: int, per: str) -> list[np.ndarray]:
    """``seqs`` as NumPy 1-D integer arrays (empty ones allowed), one per ``per``."""
    if len(seqs) != n:
        raise ValueError(f"{name} has {len(seqs)} entries for {n} {per}")
    out = [np.asarray(backend.to_numpy(t)) for t in seqs]
    for i, t in enumerate(out):
        if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
            raise ValueError(
                f"{name}[{i}] must be a 1-D integer array, got shape {t.shape} "
                f"and dtype {t.dtype}"
            )
    return out


class PairBatches(BucketBatches):
    """Batches of (source, target) pairs for sequence-to-sequence models.

    Bucketed and shuffled by source length as :class:`BucketBatches` does. Each target
    is fed to the decoder after ``bos`` and predicted followed by ``eos`` (teacher
    forcing).

    Parameters
    ----------
    sources : list of 1-D int arrays, each of length at least 1
    targets : list of 1-D int arrays (may be empty), one per source
    batch_size : int
    bos, eos : int, the target ids that start and end a target
    **kwargs : ``shuffle``, ``bucket``, ``pool``, ``pad_id``, ``target_pad``,
        ``seed``, as for :class:`BucketBatches`

    Yields
    ------
    ((src, src_lengths, tgt_in), tgt_out)
        ``src`` (S_max, N) and ``src_lengths`` (N,); ``tgt_in`` (T_max, N), ``bos``
        then the target, padded with ``pad_id``; ``tgt_out`` (T_max, N), the target
        then ``eos``, padded with ``target_pad`` for the loss to ignore. For
        :func:`rnnlab.fit` and a model ``forward(src, src_lengths, tgt_in)``.
    """

    def __init__(
        self, sources, targets, batch_size: int, *, bos: int, eos: int, **kwargs
    ):
        self.target_seqs = _int_sequences("targets", targets, len(sources), "sources")
        # the batches carry each pair's index, to look its target up
        super().__init__(sources, np.arange(len(sources)), batch_size, **kwargs)
        self.bos, self.eos = bos, eos

    def __iter__(self) -> Iterator:
        for (ids, lengths), index in super().__iter__():
            targets = [self.target_seqs[i].astype(np.int64) for i in index]
            tgt_in = _pad_columns([np.r_[self.bos, t] for t in targets], self.pad_id)
            tgt_out = _pad_columns(
                [np.r_[t, self.eos] for t in targets], self.target_pad
            )
            yield (ids, lengths, tgt_in), tgt_out


class CTCBatches(BucketBatches):
    """Batches of (frames, label sequence) pairs for a CTC model, such as speech.

    Bucketed and shuffled by the number of frames as :class:`BucketBatches` does.

    Parameters
    ----------
    frames : list of float arrays (T_n, F), e.g. log-mel spectrograms
    labels : list of 1-D int arrays, one label sequence per example
    batch_size : int
    **kwargs : ``shuffle``, ``bucket``, ``pool``, ``seed`` (see :class:`BucketBatches`)

    Yields
    ------
    ((x, lengths), (labels, label_lengths))
        ``x`` (T_max, N, F) padded with zeros, ``lengths`` (N,); ``labels`` (N, U_max)
        padded with -1, ``label_lengths`` (N,): the arguments of a CTC model's
        ``forward`` and of :func:`rnnlab.ctc_loss`.
    """

    def __init__(self, frames, labels, batch_size: int, **kwargs):
        self.label_seqs = _int_sequences("labels", labels, len(frames), "inputs")
        super().__init__(frames, np.arange(len(frames)), batch_size, **kwargs)
        if not self.frames:
            raise ValueError("frames must be float arrays of shape (T, F)")

    def __iter__(self) -> Iterator:
        for (x, lengths), index in super().__iter__():
            seqs = [self.label_seqs[i].astype(np.int64) for i in index]
            label_lengths = np.array([len(q) for q in seqs])
            padded = np.full((len(seqs), max(1, label_lengths.max())), -1)
            for n, q in enumerate(seqs):
                padded[n, : len(q)] = q
            yield (x, lengths), (padded, label_lengths)


class FrameBatches(BucketBatches):
    """Batches for next-frame prediction: each sequence of frames (a piano roll, a
    video clip) is its own target, one step ahead.

    Bucketed and shuffled by length as :class:`BucketBatches` does.

    Parameters
    ----------
    sequences : list of float arrays (T_n, F), values in [0, 1], each of at least two
        frames
    batch_size : int
    **kwargs : ``shuffle``, ``bucket``, ``pool``, ``seed`` (see :class:`BucketBatches`)

    Yields
    ------
    ((x, lengths), (y, mask))
        ``x`` (T_max, N, F) the frames but the last, ``lengths`` (N,) = T_n - 1;
        ``y`` (T_max, N, F) the frames but the first, ``mask`` (T_max, N) 1 on real
        steps and 0 on padding: for :func:`rnnlab.fit` with a
        :class:`rnnlab.models.FramePredictor` and
        :func:`rnnlab.models.frames.next_frame_loss`.
    """

    def __init__(self, sequences, batch_size: int, **kwargs):
        sequences = [np.asarray(backend.to_numpy(s)) for s in sequences]
        for i, s in enumerate(sequences):
            if s.ndim != 2 or len(s) < 2 or not np.issubdtype(s.dtype, np.floating):
                raise ValueError(
                    f"sequences[{i}] must be a float array (T >= 2, F) of frames, got "
                    f"shape {s.shape} and dtype {s.dtype}"
                )
        super().__init__([s[:-1] for s in sequences], np.arange(len(sequences)),
                         batch_size, **kwargs)  # fmt: skip
        self.next = [s[1:] for s in sequences]

    def __iter__(self) -> Iterator:
        for (x, lengths), index in super().__iter__():
            y = pad_sequences([self.next[i] for i in index], 0.0)[0]
            mask = (np.arange(len(y))[:, None] < lengths[None, :]).astype(y.dtype)
            yield (x, lengths), (y, mask)


class ArrayBatches:
    """Shuffled batches of fixed-size examples, time-major.

    The examples are, e.g., the windows of :func:`sliding_windows`.

    Parameters
    ----------
    x : array, shape (n, T, F): n examples of T steps; or a tuple of such arrays
        (their T and F may differ), e.g. a forecaster's windows and the known future
        inputs, passed together as the model's arguments
    y : array, shape (n, ...): their targets
    batch_size : int
    shuffle : bool, default True
        Each epoch draws a new order from ``seed`` and the epoch.
    seed : int, default 0

    Yields
    ------
    (x_batch, y_batch)
        x_batch (T, N, F), time-major as the recurrent layers expect (a tuple of them
        for a tuple ``x``), and y_batch (N, ...)
    """

    def __init__(self, x, y, batch_size: int, *, shuffle: bool = True, seed: int = 0):
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        if isinstance(x, list):
            x = tuple(x)  # several inputs, as a list or a tuple
        xs = x if isinstance(x, tuple) else (x,)
        for i, a in enumerate(xs):
            name = "x" if len(xs) == 1 else f"x[{i}]"
            if a.ndim != 3:
                raise ValueError(f"{name} must have shape (n, T, F), got {a.shape}")
            if len(a) != len(y):
                raise ValueError(f"{name} has {len(a)} examples but y has {len(y)}")
        self.x, self.y, self.batch_size = x, y, batch_size
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator:
        g = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        idx = g.permutation(len(self.y)) if self.shuffle else np.arange(len(self.y))
        for i in range(0, idx.size, self.batch_size):
            b = idx[i : i + self.batch_size]
            if isinstance(self.x, tuple):
                yield tuple(a[b].transpose(1, 0, 2) for a in self.x), self.y[b]
            else:
                yield self.x[b].transpose(1, 0, 2), self.y[b]
