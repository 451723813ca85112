"""rnnlab.course.speech: transcripts, the voice split, the corpus cache and the
character n-gram language model."""

import math

import numpy as np
import pytest

from rnnlab.course import speech


def test_transcripts_round_trip_and_refuse_other_characters():
    assert speech.decode(speech.encode("go left")) == "go left"
    assert 0 not in speech.encode("go left")  # the blank is never a label
    with pytest.raises(ValueError, match="only letters a-z and spaces"):
        speech.encode("Go 2")


def test_test_voices_are_never_heard_in_training():
    rng = np.random.default_rng(0)
    train = speech.requests(
        200, [v for v in speech.VARIANTS if v not in speech.TEST_VARIANTS], rng
    )
    assert not {r["voice"].split("+")[1] for r in train} & set(speech.TEST_VARIANTS)
    assert all(1 <= len(r["text"].split()) <= 4 for r in train)


def test_ngram_is_normalised_and_learns_spelling():
    lm = speech.CharNgram(n=3).fit(["one two", "two one"])
    prefix = tuple(speech.encode("tw"))
    total = sum(math.exp(lm(prefix, c)) for c in range(1, len(speech.ALPHABET)))
    assert total == pytest.approx(1.0)
    assert lm(prefix, speech.ALPHABET.index("o")) > math.log(0.85)
    with pytest.raises(ValueError, match="integer n >= 1"):
        speech.CharNgram(n=0)


def test_error_rates_use_jiwer_conventions():
    r = speech.error_rates(["go left", "stop"], ["go lift", ""])
    assert r["wer"] == pytest.approx(2 / 3)
    assert r["cer"] > 0


def test_small_corpus_builds_and_reads_back_from_cache(tmp_path):
    pytest.importorskip("espeakng_loader")
    c = speech.build_corpus(n_train=6, n_test=2, cache_dir=tmp_path)
    assert len(c.train_features) == 6 and len(c.test_waves) == 2
    assert all(f.shape[1] == 40 and f.dtype == np.float32 for f in c.train_features)
    again = speech.build_corpus(n_train=6, n_test=2, cache_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 1
    assert all(
        np.array_equal(a, b) for a, b in zip(c.train_features, again.train_features)
    )
    assert all(np.array_equal(a, b) for a, b in zip(c.test_waves, again.test_waves))
    assert again.train == c.train and np.array_equal(again.train_snr, c.train_snr)
    assert np.array_equal(again.train_rt60, c.train_rt60)
