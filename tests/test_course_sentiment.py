"""The sentiment chapter's tools: VADER, the word-order probe, the training recipe and
the recorded model grid."""

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("vaderSentiment")

from rnnlab.course import sentiment, vader  # noqa: E402
from rnnlab.data import load_tweets, tokenize  # noqa: E402
from rnnlab.data.tweets import LABELS, TweetCorpus  # noqa: E402

DATA = Path(__file__).parents[1] / "book" / "data"


def test_vader_lexicon_and_scorer():
    lex = vader.vader_lexicon()
    assert len(lex) > 7000 and lex["good"] == 1.9 and lex["horrible"] < -2
    texts = ["What a wonderful, lovely day!", "This is awful and I hate it", "a chair"]
    assert list(vader.vader_predict(texts)) == [2, 0, 1]


def test_probe_words_keep_strong_adjectives_the_corpus_uses():
    toks = [tokenize(t) for t in ["so great", "so great", "very rude", "so rude"]]
    toks += [tokenize("so love it")] * 5 + [tokenize("so nice")]  # verb; too rare
    pos, neg = vader.probe_words(toks, vader.vader_lexicon())
    assert pos == ["great"] and neg == ["rude"]


def test_contrast_pairs_defeat_any_bag_of_words():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    probe = vader.minimal_pairs(["great", "nice"], ["awful", "rude"], contrasts=20)
    kinds = dict(zip(*np.unique(probe.kind, return_counts=True)))
    assert kinds == {"plain": 4, "negated": 4, "intensified": 4, "contrast": 40}
    c = np.flatnonzero(probe.kind == "contrast")
    for a, b in zip(c[::2], c[1::2]):  # each contrast text and its mirror
        assert sorted(probe.text[a].split()) == sorted(probe.text[b].split())
        assert {probe.label[a], probe.label[b]} == {vader.NEG, vader.POS}
    assert probe.label[probe.text.index("it was not rude")] == vader.POS
    # a bag of words, even one fitted on the probe itself, gets half the pairs wrong
    bow = CountVectorizer().fit(probe.text)
    lr = LogisticRegression(C=100).fit(bow.transform(probe.text), probe.label)
    p = lr.predict_proba(bow.transform(probe.text))
    probs = np.zeros((len(probe), 3))
    probs[:, [vader.NEG, vader.POS]] = p
    assert vader.probe_accuracy(probs, probe)["contrast"] == 0.5
    # and VADER's hand-written rules for negation and "but" get them all
    s = vader.vader_scores(probe.text)
    acc = vader.probe_accuracy(np.stack([-s, 0 * s, s], 1), probe)
    assert acc == dict.fromkeys(vader.KINDS, 1.0)


def test_probe_bad_input():
    probe = vader.minimal_pairs(["great"], ["awful"], contrasts=1)
    with pytest.raises(ValueError, match=r"probs must have shape \(8, 3\)"):
        vader.probe_accuracy(np.zeros((8, 2)), probe)
    with pytest.raises(ValueError, match="needs positive and negative words"):
        vader.minimal_pairs([], ["awful"])


def _small_corpus(n=240):
    g = np.random.default_rng(0)
    words = {0: ["awful", "rude", "late"], 1: ["flight", "today", "gate"], 2: ["great"]}
    label = g.integers(0, 3, n)
    text = [" ".join(g.choice(words[y], 3)) + " ok" for y in label]
    split = np.array(["train"] * (n // 2) + ["val"] * (n // 4) + ["test"] * (n // 4))
    return TweetCorpus(text, label, np.ones(n), ["other"] * n, split)


def test_recipe_trains_and_keeps_the_best_validation_epoch(monkeypatch):
    monkeypatch.setattr(sentiment, "load_tweets", _small_corpus)
    data = sentiment.prepare_tweets()
    assert data.vocab.itos[:2] == ["<pad>", "<unk>"] and len(data.train) == 120
    model, record = sentiment.train_tweet_model(
        data, "gru", "attention", True, epochs=3, progress=False
    )
    assert len(record["val_f1"]) == 3 and len(record["seconds"]) == 3
    assert record["best_epoch"] == 1 + int(np.argmax(record["val_f1"]))
    pred = sentiment.predict_split(model, data, "val").argmax(1)
    assert sentiment.macro_f1(data.val.label, pred) == max(record["val_f1"])
    assert max(record["val_f1"]) > 0.9  # the words give the labels away


def test_grid_cli_writes_a_complete_record(monkeypatch, tmp_path):
    monkeypatch.setattr(sentiment, "load_tweets", _small_corpus)
    out = tmp_path / "grid.json"
    sentiment.main(["--out", str(out), "--cells", "lstm", "--pools", "last", "max"])
    grid = json.loads(out.read_text())
    assert [r["name"] for r in grid["runs"]] == [
        "lstm-last",
        "lstm-max",
        "bilstm-last",
        "bilstm-max",
    ]
    assert {"command", "machine", "date", "commit"} <= set(grid)
    assert all(len(r["test_pred"]) == grid["test_size"] == 60 for r in grid["runs"])


def test_the_recorded_grid_belongs_to_this_code_and_data():
    records = {
        name: json.loads((DATA / f"sentiment_{name}.json").read_text())
        for name in ("grid_unidirectional", "grid_bidirectional", "seeds")
    }
    for bi, name in [(False, "grid_unidirectional"), (True, "grid_bidirectional")]:
        want = [
            sentiment.config_name(c, p, bi)
            for c in sentiment.CELLS
            for p in sentiment.POOLS
        ]
        assert [r["name"] for r in records[name]["runs"]] == want
    seeds = records["seeds"]["runs"]
    assert [(r["name"], r["seed"]) for r in seeds] == [
        ("bigru-attention", s) for s in (1, 2)
    ]
    test_labels = load_tweets().subset("test").label
    for rec in records.values():
        assert rec["recipe"] == sentiment.RECIPE
        assert {"command", "machine", "date", "commit"} <= set(rec)
        assert rec["test_size"] == len(test_labels)
        for r in rec["runs"]:
            pred = np.array([int(c) for c in r["test_pred"]])
            assert pred.size == len(test_labels)
            assert set(pred) <= set(range(len(LABELS)))
            assert r["best_epoch"] == 1 + int(np.argmax(r["val_f1"]))
