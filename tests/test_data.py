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
    # order does not depend on the text's order
    assert CharVocab.from_text("world hello") == v


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
    # row n is one contiguous stretch of the stream, continued across batches
    for n in range(4):
        assert x[:, n].tolist() == list(range(25 * n, 25 * n + 25))
    np.testing.assert_array_equal(y, x + 1)
    assert len(TBPTTBatches(ids, 4, 10)) == 3


def test_batches_and_decoding_accept_ids_on_any_device(on):
    ids = on(np.arange(41))
    batches = list(TBPTTBatches(ids, batch_size=2, seq_len=5))
    # cut on the CPU; the caller moves them
    assert all(isinstance(x, np.ndarray) for x, _ in batches)
    assert batches[0][0][:, 0].tolist() == [0, 1, 2, 3, 4]
    vocab = CharVocab.from_text("abc")
    assert vocab.decode(on(np.array([2, 0, 1]))) == "cab"


def test_tbptt_batches_bad_input():
    with pytest.raises(ValueError, match="too few"):
        TBPTTBatches(np.arange(3), batch_size=4, seq_len=2)
    with pytest.raises(ValueError, match="1-D"):
        TBPTTBatches(np.zeros((2, 2), int), 1, 1)


# --------------------------------------------------------------------------- WordVocab
from rnnlab.data import ArrayBatches, BucketBatches, WordVocab, sliding_windows  # noqa: E402

TEXTS = [["the", "cat", "sat"], ["the", "dog", "sat", "down"], ["a", "cat"]]


def test_word_vocab_orders_by_count_then_alphabet_after_the_specials():
    v = WordVocab.build(TEXTS)
    assert v.itos == [
        "<pad>",
        "<unk>",
        "<bos>",
        "<eos>",
        "cat",
        "sat",
        "the",
        "a",
        "dog",
        "down",
    ]
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    ids = v.encode(["the", "cat", "flew"], bos=True, eos=True)
    assert ids.dtype == np.int64 and ids.tolist() == [2, 6, 4, 1, 3]
    assert (
        v.decode(ids) == ["the", "cat"]
        and v.decode(ids, skip_specials=False)[0] == "<bos>"
    )
    assert WordVocab.from_dict(v.to_dict()) == v


def test_word_vocab_min_count_and_max_size():
    assert WordVocab.build(TEXTS, min_count=2).itos[4:] == ["cat", "sat", "the"]
    assert WordVocab.build(TEXTS, max_size=6).itos[4:] == ["cat", "sat"]
    assert len(WordVocab.build(TEXTS, specials=("<pad>",))) == 7


def test_word_vocab_bad_input():
    with pytest.raises(
        ValueError,
        match=r"1 token\(s\) not in the vocabulary, e.g. \['flew'\], "
        r"and it has no <unk>",
    ):
        WordVocab.build(TEXTS, specials=("<pad>",)).encode(["cat", "flew"])
    with pytest.raises(TypeError, match="got one str: split it first"):
        WordVocab.build(TEXTS).encode("the cat")
    with pytest.raises(
        TypeError, match="texts must be an iterable of token lists, got one str"
    ):
        WordVocab.build("the cat sat")
    with pytest.raises(
        ValueError, match=r"min_count must be a positive integer, got 0"
    ):
        WordVocab.build(TEXTS, min_count=0)
    with pytest.raises(
        ValueError, match=r"max_size must be an integer above the 4 specials, got 3"
    ):
        WordVocab.build(TEXTS, max_size=3)
    with pytest.raises(ValueError, match=r"this vocabulary has no <bos> token"):
        WordVocab.build(TEXTS, specials=("<pad>",)).encode(["cat"], bos=True)
    with pytest.raises(ValueError, match=r"ids hold values in \[0, 99\]"):
        WordVocab.build(TEXTS).decode([0, 99])


# ------------------------------------------------------------------------ BucketBatches
def _sequences(n=300, seed=0):
    """n sequences of 1 to 49 tokens, each unique.

    Each starts with its own index + 20.
    """
    g = np.random.default_rng(seed)
    seqs = [
        np.concatenate([[20 + i], g.integers(1, 20, g.integers(0, 49))])
        for i in range(n)
    ]
    return seqs, g.integers(0, 3, n)


def test_bucket_batches_cover_every_example_once_padded_right():
    seqs, labels = _sequences()
    batches = BucketBatches(seqs, labels, 16, seed=3)
    seen = []
    for (ids, lengths), y in batches:
        assert (
            ids.shape == (lengths.max(), len(lengths)) and len(y) == len(lengths) <= 16
        )
        for col, L in enumerate(lengths):
            assert not ids[L:, col].any()  # pad_id 0 past the end
            i = int(ids[0, col]) - 20
            np.testing.assert_array_equal(ids[:L, col], seqs[i])
            assert labels[i] == y[col]
            seen.append(i)
    assert sorted(seen) == list(range(len(seqs)))


def test_bucketing_pads_far_less_and_epochs_differ_but_reproduce():
    seqs, labels = _sequences()
    bucketed = BucketBatches(seqs, labels, 16)
    plain = BucketBatches(seqs, labels, 16, bucket=False)
    assert bucketed.padding_fraction() < 0.15 < 0.4 < plain.padding_fraction()
    first, second = ([b.tolist() for b in bucketed.order(e)] for e in (0, 1))
    assert first != second
    assert [b.tolist() for b in BucketBatches(seqs, labels, 16).order(1)] == second
    again = BucketBatches(seqs, labels, 16)
    again.epoch = 1  # resuming at epoch 1 gives epoch 1's batches
    assert [l.tolist() for (_, l), _ in again] == [
        bucketed.lengths[b].tolist() for b in bucketed.order(1)
    ]


def test_bucket_batches_pad_per_step_targets_with_target_pad():
    seqs, _ = _sequences(40)
    tags = [s % 3 for s in seqs]
    for (ids, lengths), y in BucketBatches(seqs, tags, 8, target_pad=-100):
        assert y.shape == ids.shape
        for col, L in enumerate(lengths):
            assert (y[:L, col] == ids[:L, col] % 3).all() and (y[L:, col] == -100).all()


def test_bucket_batches_bad_input():
    with pytest.raises(
        ValueError, match=r"sequences\[1\] must be a non-empty 1-D integer array"
    ):
        BucketBatches([np.arange(3), np.array([], dtype=int)], [0, 1], 2)
    with pytest.raises(ValueError, match=r"targets has 1 entries for 2 sequences"):
        BucketBatches([np.arange(3), np.arange(2)], [0], 2)
    with pytest.raises(
        ValueError, match=r"targets\[0\] has shape \(2,\), expected one per step \(3,\)"
    ):
        BucketBatches([np.arange(3)], [np.arange(2)], 2)
    with pytest.raises(
        ValueError, match=r"batch_size must be a positive integer, got 0"
    ):
        BucketBatches([np.arange(3)], [0], 0)


# --------------------------------------------------------------------------- windows
def test_sliding_windows_never_show_the_target():
    series = np.arange(20.0).reshape(10, 2)  # two features
    x, y = sliding_windows(series, input_len=3, horizon=2, stride=2, target_columns=1)
    assert x.shape == (3, 3, 2) and y.shape == (3, 2, 1)
    np.testing.assert_array_equal(x[1, :, 0], [4, 6, 8])  # steps 2, 3, 4
    np.testing.assert_array_equal(y[1, :, 0], [11, 13])  # steps 5, 6 of feature 1
    assert (y[:, 0, 0] > x[:, -1, 1]).all()


def test_sliding_windows_bad_input():
    with pytest.raises(
        ValueError, match=r"series has 4 steps, fewer than input_len \+ horizon = 5"
    ):
        sliding_windows(np.arange(4.0), 4)
    with pytest.raises(ValueError, match=r"horizon must be a positive integer, got 0"):
        sliding_windows(np.arange(9.0), 3, horizon=0)
    with pytest.raises(ValueError, match=r"series must have shape \(T,\) or \(T, F\)"):
        sliding_windows(np.zeros((3, 3, 3)), 1)


def test_array_batches_are_time_major_and_cover_every_window():
    x, y = sliding_windows(np.sin(np.arange(50.0)), 6)
    batches = ArrayBatches(x, y, 8, seed=1)
    got = [(xb, yb) for xb, yb in batches]
    assert len(got) == len(batches) == 6 and got[0][0].shape == (6, 8, 1)
    assert sum(yb.shape[0] for _, yb in got) == len(x)
    firsts = sorted(float(xb[0, n, 0]) for xb, _ in got for n in range(xb.shape[1]))
    np.testing.assert_allclose(firsts, np.sort(x[:, 0, 0]))
    with pytest.raises(ValueError, match=r"x has 44 examples but y has 3"):
        ArrayBatches(x, y[:3], 8)


def test_bucket_batches_take_a_plain_list_of_labels_and_unsigned_tags():
    seqs = [np.arange(1, 4), np.arange(1, 3)]
    (_, lengths), y = next(iter(BucketBatches(seqs, [1, 0], 2, shuffle=False)))
    assert sorted(y.tolist()) == [0, 1]  # per-sequence labels, not per-step
    tags = [np.array([1, 2, 3], dtype=np.uint8), np.array([4, 5], dtype=np.uint8)]
    (_, lengths), y = next(iter(BucketBatches(seqs, tags, 2, shuffle=False)))
    # the pad fits the targets' dtype
    assert y.dtype.kind == "i" and (y == -100).sum() == 1


def test_pair_batches_feed_bos_target_and_predict_target_eos():
    from rnnlab.data import PairBatches

    g = np.random.default_rng(0)
    # each source starts with its own index + 10, to find its target
    sources = [
        np.r_[10 + i, g.integers(3, 9, n)] for i, n in enumerate(g.integers(0, 8, 40))
    ]
    targets = [g.integers(3, 9, n) for n in g.integers(0, 5, 40)]  # some empty
    batches = PairBatches(sources, targets, 8, bos=1, eos=2, seed=3)
    seen = []
    for (src, lengths, tgt_in), tgt_out in batches:
        assert src.shape[1] == lengths.size == tgt_in.shape[1] == tgt_out.shape[1]
        assert tgt_in.shape == tgt_out.shape and tgt_in.dtype == np.int64
        for col, L in enumerate(lengths):
            i = src[0, col] - 10
            assert (src[:L, col] == sources[i]).all() and L == len(sources[i])
            t = targets[i]
            assert (tgt_in[: t.size + 1, col] == np.r_[1, t]).all()
            assert (tgt_out[: t.size + 1, col] == np.r_[t, 2]).all()
            assert (tgt_out[t.size + 1 :, col] == -100).all()
            assert (tgt_in[t.size + 1 :, col] == 0).all()
            seen.append(i)
    assert sorted(seen) == list(range(40))  # every pair once per epoch
    assert (
        batches.padding_fraction()
        < BucketBatches(
            sources, np.zeros(40), 8, bucket=False, seed=3
        ).padding_fraction()
    )


def test_pair_batches_bad_input():
    from rnnlab.data import PairBatches

    src = [np.array([3, 4]), np.array([5])]
    with pytest.raises(ValueError, match="targets has 1 entries for 2 sources"):
        PairBatches(src, [np.array([1])], 2, bos=1, eos=2)
    with pytest.raises(ValueError, match=r"targets\[1\] must be a 1-D integer array"):
        PairBatches(src, [np.array([1]), np.array([0.5])], 2, bos=1, eos=2)
    with pytest.raises(ValueError, match=r"sequences\[1\] must be a non-empty"):
        PairBatches([src[0], np.array([], int)], [src[0], src[1]], 2, bos=1, eos=2)
