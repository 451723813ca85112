"""VADER: a rule-based sentiment baseline, and minimal pairs that probe word order.

VADER (Hutto and Gilbert 2014; the ``vaderSentiment`` package, MIT licence) scores a
text from a lexicon of about 7,500 words and emoticons whose valence, from -4 to +4,
is the mean of ten human ratings, with hand-written rules for negation, intensifiers,
"but", capitals and exclamation marks.

The probe (:func:`minimal_pairs`) builds short texts from the lexicon's strongly
positive and negative words, in four kinds:

============  =========================  ======================================
kind          example                    label
============  =========================  ======================================
plain         ``it was great``           the word's polarity
negated       ``it was not great``       the opposite
intensified   ``it was very great``      the word's polarity
contrast      ``it was great but awful`` the polarity of the word after "but"
============  =========================  ======================================

Every contrast text comes with its mirror (``it was awful but great``): the same bag
of words with the opposite label, so a model that ignores word order gets exactly one
of the two wrong.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.tweets import LABELS

NEG, POS = LABELS.index("negative"), LABELS.index("positive")
KINDS = ("plain", "negated", "intensified", "contrast")
# words that come before an adjective: how the probe finds the lexicon's adjectives
INTENSIFIERS = ("so", "very", "too", "really", "pretty", "super", "extremely")
# words that follow them in tweets but are not adjectives: verbs ("really love",
# "so hope"), nouns and interjections ("so thanks", "so lol"), hedges ("pretty bad",
# "kind of") and adverbs ("so badly")
NOT_ADJECTIVES = frozenset(
    "care love like hope hoping appreciate thanks wish help lol kind pretty badly "
    "damn sucks hate broke ready true enjoying".split()
)


def _vader_file(name: str) -> Path:
    spec = importlib.util.find_spec("vaderSentiment")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "VADER comes with the vaderSentiment package: pip install vaderSentiment "
            "(or pip install 'rnnlab[book]')"
        )
    return Path(list(spec.submodule_search_locations)[0]) / name


def vader_lexicon() -> dict[str, float]:
    """The VADER lexicon: token -> mean human valence, from -4 to +4."""
    lexicon = {}
    with open(_vader_file("vader_lexicon.txt"), encoding="utf-8") as f:
        for line in f:
            token, valence = line.split("\t")[:2]
            lexicon[token] = float(valence)
    return lexicon


def vader_scores(texts) -> np.ndarray:
    """VADER's compound score of each text, in [-1, 1], shape (len(texts),)."""
    if importlib.util.find_spec("vaderSentiment") is None:
        _vader_file("")  # raises the ImportError naming the package
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts])


def vader_predict(texts, threshold: float = 0.05) -> np.ndarray:
    """Labels (indices into :data:`rnnlab.data.tweets.LABELS`) from VADER's compound
    score, with the thresholds its authors recommend: positive at ``threshold`` or
    above, negative at ``-threshold`` or below, neutral between."""
    c = vader_scores(texts)
    return np.where(c >= threshold, POS, np.where(c <= -threshold, NEG, 1))


def probe_words(
    token_lists, lexicon: dict, min_valence: float = 1.5, min_count: int = 2
) -> tuple[list[str], list[str]]:
    """The lexicon's strongly positive and negative adjectives that the corpus uses.

    A word counts as an adjective of the corpus if it follows one of
    :data:`INTENSIFIERS` (``so good``, ``really rude``) at least ``min_count`` times in
    ``token_lists`` and is not one of :data:`NOT_ADJECTIVES`; it is kept if its
    valence is at least ``min_valence`` in size.
    Returns ``(positive, negative)``, each sorted by decreasing count.
    """
    after = Counter(
        toks[i + 1]
        for toks in token_lists
        for i in range(len(toks) - 1)
        if toks[i] in INTENSIFIERS
    )
    words = [
        w
        for w, c in sorted(after.items(), key=lambda x: (-x[1], x[0]))
        if c >= min_count
        and w.isalpha()
        and w not in NOT_ADJECTIVES
        and abs(lexicon.get(w, 0)) >= min_valence
    ]
    return [w for w in words if lexicon[w] > 0], [w for w in words if lexicon[w] < 0]


@dataclass
class Probe:
    """Probe texts: ``text`` (list of str), ``label`` (int array, NEG or POS),
    ``kind`` (array of str, one of :data:`KINDS`)."""

    text: list
    label: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.text)


def minimal_pairs(positive, negative, contrasts: int = 200, seed: int = 0) -> Probe:
    """Plain, negated and intensified texts of every word, and ``contrasts`` pairs of
    mirrored contrast texts from random (positive, negative) word pairs."""
    if not positive or not negative:
        raise ValueError(
            f"minimal_pairs needs positive and negative words, got {len(positive)} "
            f"and {len(negative)}"
        )
    text, label, kind = [], [], []

    def add(t, y, k):
        text.append(t), label.append(y), kind.append(k)

    for words, y in ((positive, POS), (negative, NEG)):
        for w in words:
            add(f"it was {w}", y, "plain")
            add(f"it was not {w}", NEG + POS - y, "negated")
            add(f"it was very {w}", y, "intensified")
    g = np.random.default_rng(seed)
    for _ in range(contrasts):
        a, b = g.choice(positive), g.choice(negative)
        add(f"it was {a} but {b}", NEG, "contrast")
        add(f"it was {b} but {a}", POS, "contrast")
    return Probe(text, np.array(label), np.array(kind))


def probe_accuracy(probs, probe: Probe) -> dict[str, float]:
    """Share of each kind of probe text whose polarity is right.

    ``probs`` : array, shape (len(probe), 3), class probabilities (or any scores) in
    the order of ``LABELS``; the polarity is positive where ``probs[:, POS] >
    probs[:, NEG]``: a neutral guess does not excuse the model from choosing a side.
    """
    probs = np.asarray(probs)
    if probs.shape != (len(probe), len(LABELS)):
        raise ValueError(
            f"probs must have shape ({len(probe)}, {len(LABELS)}), got {probs.shape}"
        )
    guess = np.where(probs[:, POS] > probs[:, NEG], POS, NEG)
    return {k: float((guess == probe.label)[probe.kind == k].mean()) for k in KINDS}
