"""Vocabularies: characters and words.

:class:`CharVocab` holds characters, :class:`WordVocab` words with special tokens;
:func:`tokenize` splits a text into the words a :class:`WordVocab` counts.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

import numpy as np

from .. import backend


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
        return isinstance(other, CharVocab) and (self.chars, self.unk) == (
            other.chars,
            other.unk,
        )

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} chars, unk={self.unk!r})"

    def encode(self, text: str) -> np.ndarray:
        """``text`` as an int64 array of indices, shape (len(text),)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(
            np.int64
        )
        ids = np.full(codes.shape, -1, dtype=np.int64)
        inside = codes < self._lookup.size
        ids[inside] = self._lookup[codes[inside]]
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            if self.unk is None:
                unknown = sorted({text[i] for i in bad})
                raise ValueError(
                    f"text contains {len(unknown)} character(s) not in the vocabulary, "
                    f"e.g. {unknown[:5]!r} first at position {int(bad[0])}; "
                    "build the vocabulary from this text or pass unk='?' "
                    "to map unknown characters"
                )
            ids[bad] = self.stoi[self.unk]
        return ids

    def decode(self, ids) -> str:
        """The string for a 1-D sequence of indices."""
        ids = np.asarray(backend.to_numpy(ids)).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(
                f"ids hold values in [{ids.min()}, {ids.max()}], "
                f"expected [0, {len(self) - 1}]"
            )
        return "".join(self.chars[i] for i in ids)


_TOKEN = re.compile(r"[@#]?\w+(?:'\w+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words, with their @ or # and inner apostrophes, and punctuation.

    >>> tokenize("@united I didn't like it!!")
    ['@united', 'i', "didn't", 'like', 'it', '!', '!']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


class WordVocab:
    """A vocabulary of tokens (words, subwords, tags) with special tokens.

    Index 0 is ``<pad>``, then ``<unk>``, ``<bos>``, ``<eos>`` (those asked for), then
    the tokens by decreasing count, ties in alphabetical order, so the same corpus
    always gives the same ids.

    Parameters
    ----------
    tokens : iterable of str
        The ordinary tokens, in id order (use :meth:`build` to count a corpus).
    specials : tuple of str
        Special tokens placed first; default ``("<pad>", "<unk>", "<bos>", "<eos>")``.
        Without ``"<unk>"``, encoding an unknown token raises ``ValueError`` naming it.
    """

    PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"

    def __init__(
        self, tokens: Iterable[str], specials: tuple[str, ...] = (PAD, UNK, BOS, EOS)
    ):
        self.itos = list(specials)
        seen = set(self.itos)
        if len(seen) != len(self.itos):
            raise ValueError(f"specials hold a duplicate: {specials!r}")
        for t in tokens:
            if not isinstance(t, str):
                raise TypeError(f"tokens must be strings, got {type(t).__name__} {t!r}")
            if t not in seen:
                seen.add(t)
                self.itos.append(t)
        if not self.itos:
            raise ValueError("a WordVocab needs at least one token")
        self.specials = tuple(specials)
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(
        cls,
        texts: Iterable[Iterable[str]],
        min_count: int = 1,
        max_size: int | None = None,
        specials: tuple[str, ...] = (PAD, UNK, BOS, EOS),
    ) -> "WordVocab":
        """Build a vocabulary from ``texts``, an iterable of token lists.

        The tokens seen at least ``min_count`` times are kept, at most ``max_size`` of
        them (specials included).
        """
        if not (isinstance(min_count, int) and min_count >= 1):
            raise ValueError(f"min_count must be a positive integer, got {min_count!r}")
        if max_size is not None and not (
            isinstance(max_size, int) and max_size > len(specials)
        ):
            raise ValueError(
                f"max_size must be an integer above the {len(specials)} specials, "
                f"got {max_size!r}"
            )
        if isinstance(texts, str):
            raise TypeError(
                "texts must be an iterable of token lists, got one str: split it first"
            )
        counts = Counter(t for text in texts for t in text)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_count and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        return cls(kept, specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, WordVocab)
            and self.itos == other.itos
            and self.specials == other.specials
        )

    def __repr__(self) -> str:
        return f"WordVocab({len(self)} tokens, specials={self.specials})"

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def _special_id(self, token: str) -> int:
        if token not in self.stoi:
            raise ValueError(
                f"this vocabulary has no {token} token (specials: {self.specials})"
            )
        return self.stoi[token]

    @property
    def pad_id(self) -> int:
        return self._special_id(self.PAD)

    @property
    def unk_id(self) -> int:
        return self._special_id(self.UNK)

    @property
    def bos_id(self) -> int:
        return self._special_id(self.BOS)

    @property
    def eos_id(self) -> int:
        return self._special_id(self.EOS)

    def encode(
        self, tokens: Iterable[str], bos: bool = False, eos: bool = False
    ) -> np.ndarray:
        """``tokens`` as an int64 array of ids, shape (len,).

        ``<bos>`` and ``<eos>`` are added if asked. Unknown tokens become ``<unk>``;
        without it they raise ``ValueError`` naming them.
        """
        if isinstance(tokens, str):
            raise TypeError(
                "tokens must be a list of tokens, got one str: split it first"
            )
        tokens = list(tokens)  # a generator is read once
        unk = self.stoi.get(self.UNK)
        ids = [self.stoi.get(t, unk) for t in tokens]
        if unk is None and None in ids:
            missing = sorted({t for t, i in zip(tokens, ids) if i is None})
            raise ValueError(
                f"{len(missing)} token(s) not in the vocabulary, e.g. {missing[:5]!r}, "
                f"and it has no {self.UNK} token to map them to"
            )
        ids = ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])
        return np.array(ids, dtype=np.int64)

    def decode(self, ids, skip_specials: bool = True) -> list[str]:
        """The tokens of a 1-D sequence of ids.

        Specials are left out unless ``skip_specials=False``.
        """
        ids = np.asarray(backend.to_numpy(ids)).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(
                f"ids hold values in [{ids.min()}, {ids.max()}], "
                f"expected [0, {len(self) - 1}]"
            )
        skip = set(self.specials) if skip_specials else set()
        return [self.itos[i] for i in ids if self.itos[i] not in skip]

    def to_dict(self) -> dict:
        """What :meth:`from_dict` needs, JSON-serialisable (for checkpoints)."""
        return {
            "tokens": self.itos[len(self.specials) :],
            "specials": list(self.specials),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "WordVocab":
        return cls(d["tokens"], tuple(d["specials"]))
