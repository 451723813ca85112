"""The sequence-to-sequence chapters' tools: numbering pairs, teacher-forced choices,
exact match and accuracy by position."""

import numpy as np
import pytest

import rnnlab
from rnnlab.course.transduction import (
    exact_match,
    position_accuracy,
    prepare_pairs,
    teacher_forced_argmax,
)
from rnnlab.data.transduction import PairCorpus
from rnnlab.models import Seq2Seq


def _corpus():
    source = [list("ab"), list("ba"), list("abc"), list("c")]
    targets = [[["A", "B"]], [["B", "A"], ["B"]], [["A", "B", "C"]], [["C"]]]
    return PairCorpus(source, targets, np.array(["train", "train", "val", "test"]))


def test_prepare_pairs_builds_vocabularies_from_the_training_split_only():
    data = prepare_pairs(_corpus())
    assert len(data.train) == 2 and len(data.val) == len(data.test) == 1
    assert "c" not in data.src_vocab and "C" not in data.tgt_vocab
    assert data.src_vocab.specials == ("<pad>", "<unk>")
    (src, lengths, tgt_in), tgt_out = next(iter(data.batches("train", 8)))
    assert src.shape[1] == 3  # every acceptable target of "ba" is a pair
    assert (tgt_in[0] == data.tgt_vocab.bos_id).all()
    assert (tgt_out == data.tgt_vocab.eos_id).sum() == 3 and (tgt_out == -100).any()
    with pytest.raises(ValueError, match="split must be"):
        data.batches("dev")
    with pytest.raises(TypeError, match="corpus must be a PairCorpus"):
        prepare_pairs([("ab", "AB")])


def test_exact_match_accepts_any_acceptable_target():
    refs = [[["A", "B"]], [["B", "A"], ["B"]], [["C"]]]
    got = exact_match([["A", "B"], ["B"], ["C", "C"]], refs)
    assert got.tolist() == [True, True, False]
    with pytest.raises(ValueError, match="references has 3 entries for 2"):
        exact_match([["A"], ["B"]], refs)


def test_position_accuracy_by_hand():
    # targets AB (+eos) and ABC (+eos); predictions A (short) and ABD
    correct, total = position_accuracy(
        [["A"], ["A", "B", "D"]], [["A", "B"], list("ABC")]
    )
    assert total.tolist() == [2, 2, 2, 1]
    # position 1: both A; 2: "eos" vs B wrong, B right; 3: past the end of the first
    # prediction (wrong), D vs C wrong; 4: eos vs eos right
    assert correct.tolist() == [2, 1, 0, 1]


def test_teacher_forced_argmax_matches_the_model_and_greedy_on_its_own_output():
    data = prepare_pairs(_corpus())
    rnnlab.seed(1)
    m = Seq2Seq.for_vocabs(
        data.src_vocab, data.tgt_vocab, embedding_dim=3, hidden_size=4
    )
    sources = [list("ab"), list("ba"), list("a")]
    tv = data.tgt_vocab
    ids = m.translate(
        [data.src_vocab.encode(s) for s in sources], bos=tv.bos_id, eos=tv.eos_id,
        max_len=5,
    )  # fmt: skip
    # token lists with every special kept (an untrained model writes some)
    greedy = [tv.decode(t, skip_specials=False) for t in ids]
    forced = teacher_forced_argmax(m, sources, greedy, batch_size=2)
    for g, f in zip(greedy, forced):
        assert len(f) == len(g) + 1
        assert f[:-1] == g  # fed its own output, the model makes the same choices
        if len(g) < 5:  # it ended by choosing eos
            assert f[-1] == "<eos>"
    with pytest.raises(ValueError, match="targets has 1 entries for 3 sources"):
        teacher_forced_argmax(m, sources, greedy[:1])
