"""Character vocabulary, the offline corpus and truncated-BPTT batching."""
import numpy as np
import pytest

from rnnlab.data import CharVocab, TBPTTBatches, load_pydoc_corpus, train_val_split


def test_vocab_is_sorted_and_round_trips():
    v = CharVocab.from_text("hello world")
    assert v.chars == " dehlorw"
    ids = v.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 2, 4, 4, 5]
    assert v.decode(ids) == "hello"
    assert CharVocab.from_text("world hello") == v  # order does not depend on the text's order


def test_unknown_character_raises_and_names_it():
    v = CharVocab.from_text("abc")
    with pytest.raises(ValueError, match=r"'z'.*position 2"):
        v.encode("abz")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        v.encode("é")  # beyond the lookup table's range


def test_unk_policy_maps_unknown_characters():
    v = CharVocab.from_text("abc", unk="?")
    assert "?" in v.chars
    assert v.decode(v.encode("abzé")) == "ab??"
    with pytest.raises(ValueError, match="unk"):
        CharVocab("abc", unk="??")


def test_decode_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match="ids"):
        CharVocab("ab").decode([0, 2])


def test_encode_rejects_non_strings():
    with pytest.raises(TypeError, match="text"):
        CharVocab("ab").encode(b"ab")


def test_pydoc_corpus_is_offline_english_and_stable():
    text = load_pydoc_corpus()
    assert len(text) > 100_000
    assert "statement" in text and text == load_pydoc_corpus()
    assert load_pydoc_corpus(max_chars=1000) == text[:1000]


def test_train_val_split():
    tr, va = train_val_split(np.arange(100), 0.1)
    assert tr.tolist() == list(range(90)) and va.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(np.arange(10), 1.5)


def test_tbptt_batches_continue_each_row_and_shift_targets():
    ids = np.arange(103)
    batches = list(TBPTTBatches(ids, batch_size=4, seq_len=10))
    # 102 usable inputs -> 25 per row -> chunks of 10, 10, 5
    assert [x.shape for x, _ in batches] == [(10, 4), (10, 4), (5, 4)]
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    for n in range(4):  # row n is one contiguous stretch of the stream, continued across batches
        assert x[:, n].tolist() == list(range(25 * n, 25 * n + 25))
    np.testing.assert_array_equal(y, x + 1)
    assert len(TBPTTBatches(ids, 4, 10)) == 3


def test_batches_and_decoding_accept_ids_on_any_device(on):
    ids = on(np.arange(41))
    batches = list(TBPTTBatches(ids, batch_size=2, seq_len=5))
    assert all(isinstance(x, np.ndarray) for x, _ in batches)  # cut on the CPU; the caller moves them
    assert batches[0][0][:, 0].tolist() == [0, 1, 2, 3, 4]
    vocab = CharVocab.from_text("abc")
    assert vocab.decode(on(np.array([2, 0, 1]))) == "cab"


def test_tbptt_batches_bad_input():
    with pytest.raises(ValueError, match="too few"):
        TBPTTBatches(np.arange(3), batch_size=4, seq_len=2)
    with pytest.raises(ValueError, match="1-D"):
        TBPTTBatches(np.zeros((2, 2), int), 1, 1)
