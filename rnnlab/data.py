"""Text data for character-level models: a vocabulary, an offline corpus, and truncated-BPTT batches."""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from . import backend


class CharVocab:
    """A character vocabulary with a stable order (sorted by code point).

    Parameters
    ----------
    chars : iterable of str
        The characters; duplicates are dropped and the rest sorted.
    unk : str, optional
        The policy for characters not in the vocabulary. ``None`` (default): encoding
        one raises ``ValueError`` naming it. A single character (e.g. ``"?"``): unknown
        characters are encoded as it (it is added to the vocabulary if absent).
    """

    def __init__(self, chars: Iterable[str], unk: str | None = None):
        chars = set(chars)
        if unk is not None:
            if not isinstance(unk, str) or len(unk) != 1:
                raise ValueError(f"unk must be a single character or None, got {unk!r}")
            chars.add(unk)
        if any(len(c) != 1 for c in chars):
            raise ValueError("a CharVocab holds single characters")
        if not chars:
            raise ValueError("a CharVocab needs at least one character")
        self.chars = "".join(sorted(chars))
        self.unk = unk
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self._lookup = np.full(max(map(ord, self.chars)) + 1, -1, dtype=np.int64)
        self._lookup[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> "CharVocab":
        """The vocabulary of every character in ``text``."""
        return cls(text, unk=unk)

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocab) and (self.chars, self.unk) == (other.chars, other.unk)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} chars, unk={self.unk!r})"

    def encode(self, text: str) -> np.ndarray:
        """``text`` as an int64 array of indices, shape (len(text),)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(codes.shape, -1, dtype=np.int64)
        inside = codes < self._lookup.size
        ids[inside] = self._lookup[codes[inside]]
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            if self.unk is None:
                unknown = sorted({text[i] for i in bad})
                raise ValueError(f"text contains {len(unknown)} character(s) not in the vocabulary, e.g. "
                                 f"{unknown[:5]!r} first at position {int(bad[0])}; build the vocabulary from "
                                 f"this text or pass unk='?' to map unknown characters")
            ids[bad] = self.stoi[self.unk]
        return ids

    def decode(self, ids) -> str:
        """The string for a 1-D sequence of indices."""
        ids = np.asarray(backend.to_numpy(ids)).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids hold values in [{ids.min()}, {ids.max()}], expected [0, {len(self) - 1}]")
        return "".join(self.chars[i] for i in ids)


def load_pydoc_corpus(max_chars: int | None = None) -> str:
    """English prose that ships with every CPython: the topic help of ``pydoc_data``.

    About 460,000 characters (the language reference's topics), joined in a stable
    order. No network needed.
    """
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k].strip() for k in sorted(topics))
    return text if max_chars is None else text[:max_chars]


def train_val_split(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Split a token stream into a leading training part and a trailing validation part."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    return ids[:cut], ids[cut:]


class TBPTTBatches:
    r"""Batches for truncated BPTT that let the hidden state carry across batches.

    The stream is cut into ``batch_size`` equal contiguous parts, one per batch
    row. Batch ``k`` holds steps ``[k L, (k+1) L)`` of every part, so row ``n`` of
    batch ``k+1`` continues row ``n`` of batch ``k`` and the final state of one
    batch is the right initial state of the next. Targets are the inputs shifted
    by one step.

    Yields
    ------
    x, y : int64 arrays, shape (T, batch_size), with ``T = seq_len`` (the last batch may be shorter)
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        ids = np.asarray(backend.to_numpy(ids))  # batches are cut on the CPU and moved by the caller
        if ids.ndim != 1:
            raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"batch_size and seq_len must be positive, got {batch_size} and {seq_len}")
        per_row = (len(ids) - 1) // batch_size  # -1: every input needs a next-character target
        if per_row < 1:
            raise ValueError(f"{len(ids)} tokens are too few for batch_size={batch_size} (need at least {batch_size + 1})")
        self.seq_len = seq_len
        self.streams = ids[: per_row * batch_size + 1]
        # (per_row, N) views: column n is the n-th contiguous part.
        self.inputs = self.streams[:-1].reshape(batch_size, per_row).T
        self.targets = self.streams[1:].reshape(batch_size, per_row).T

    def __len__(self) -> int:
        return -(-self.inputs.shape[0] // self.seq_len)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for s in range(0, self.inputs.shape[0], self.seq_len):
            yield (np.ascontiguousarray(self.inputs[s:s + self.seq_len]),
                   np.ascontiguousarray(self.targets[s:s + self.seq_len]))
