"""The grapheme-to-phoneme chapter's tools: scoring against several pronunciations, the
EM-aligned letter-context baseline, the training recipe and the recorded run."""

import json
import sys

import numpy as np
import pytest

from rnnlab.course import g2p
from rnnlab.course.transduction import prepare_pairs
from rnnlab.data.transduction import PairCorpus
from rnnlab.models import Seq2Seq

pytest.importorskip("rapidfuzz")  # jiwer's edit distance


def _split(s):
    return s.split()


def test_error_rates_hand_worked():
    preds = [_split(p) for p in ["K AE T", "K AH T S", "T AH M EY T OW", "R IY D"]]
    refs = [
        [_split("K AE T")],
        [_split("K AE T")],  # AE -> AH, then S inserted: 2 edits of 3
        [_split("T AH M EY T OW"), _split("T AH M AA T OW")],  # right: the first
        [_split("R EH D"), _split("R IY D IH NG")],  # 1 edit of 3 beats 2 of 5
    ]
    r = g2p.error_rates(preds, refs)
    assert r == dict(
        wer=0.5, per=3 / 15, words=4, word_errors=2, phonemes=15, phoneme_errors=3
    )
    edits, lengths = g2p.word_errors(preds, refs)
    assert list(edits) == [0, 2, 0, 1] and list(lengths) == [3, 3, 6, 3]


def test_error_rates_any_pronunciation_counts_and_ties_go_to_the_shortest():
    refs = [[_split("T AH M EY T OW"), _split("T AH M AA T OW")]]
    assert g2p.error_rates([_split("T AH M AA T OW")], refs)["wer"] == 0
    # one edit from either; the shorter is the reference, as Toshniwal and Livescu
    # (2016) count (the higher phoneme error rate)
    assert list(g2p.word_errors([["A"]], [[["A", "C"], ["B"]]])[1]) == [1]
    # an empty prediction deletes every phoneme
    r = g2p.error_rates([[]], [[_split("K AE T")]])
    assert (r["wer"], r["per"]) == (1.0, 1.0)
    assert g2p.strip_stress(_split("AH0 B AW1 T")) == ["AH", "B", "AW", "T"]


def test_error_rates_bad_input(monkeypatch):
    with pytest.raises(ValueError, match="predictions has 1 words, references 2"):
        g2p.error_rates([["K"]], [[["K"]], [["T"]]])
    with pytest.raises(TypeError, match=r"predictions\[0\] must be a list of phonemes"):
        g2p.error_rates(["K AE T"], [[_split("K AE T")]])
    with pytest.raises(ValueError, match=r"references\[0\] must be a non-empty list"):
        g2p.error_rates([["K"]], [[]])
    with pytest.raises(ValueError, match=r"references\[0\] must be a non-empty list"):
        g2p.error_rates([["K"]], [["K"]])  # one pronunciation not wrapped in a list
    monkeypatch.setitem(sys.modules, "rapidfuzz", None)
    monkeypatch.setitem(sys.modules, "rapidfuzz.distance", None)
    with pytest.raises(ImportError, match="pip install jiwer"):
        g2p.error_rates([["K"]], [[["K"]]])


# A tiny dictionary: 'a' is AE, 'x' is K S (two phonemes from one letter), a final 'e'
# is silent, and 'a' is EY before 'te' (the windows are runs of letters: 'sate' has
# '-ate' as 'mate' has, but 'tame' would not be learned from 'mate' and 'made').
LEXICON = {
    "cat": "K AE T", "bat": "B AE T", "mat": "M AE T", "tab": "T AE B",
    "cab": "K AE B", "dab": "D AE B", "sad": "S AE D", "mad": "M AE D",
    "bad": "B AE D", "tax": "T AE K S", "max": "M AE K S", "ax": "AE K S",
    "cats": "K AE T S", "bats": "B AE T S", "mate": "M EY T", "date": "D EY T",
    "bate": "B EY T", "made": "M EY D", "sat": "S AE T", "tad": "T AE D",
    "dam": "D AE M", "sax": "S AE K S", "sate": "S EY T", "cad": "K AE D",
}  # fmt: skip
HELD_OUT = ("tad", "dam", "sax", "sate", "cad")


def _corpus(test=HELD_OUT, val=("sat",)):
    words = sorted(LEXICON)
    split = ["test" if w in test else "val" if w in val else "train" for w in words]
    return PairCorpus(
        [list(w) for w in words], [[LEXICON[w].split()] for w in words], np.array(split)
    )


def test_baseline_aligns_letters_and_pronounces_unseen_words():
    train = _corpus().subset("train")
    model = g2p.LetterContextG2P(context=2, iterations=5).fit(*train.pairs())
    letters, best = model.letters, model.emission.argmax(1)
    assert model._chunk(best[letters.index("a")]) == ["AE"]
    assert model._chunk(best[letters.index("x")]) == ["K", "S"]
    assert model._chunk(best[letters.index("e")]) == []
    test = _corpus().subset("test")
    pred = model.predict(test.source)
    assert g2p.error_rates(pred, test.targets)["wer"] == 0, pred
    # a letter never seen in training emits nothing; its neighbours still do
    assert model.predict([list("caqt")]) == [["K", "AE", "T"]]


def test_train_g2p_runs_on_a_step_budget_and_pronounces():
    data = prepare_pairs(_corpus())
    model, hist = g2p.train_g2p(
        data, max_steps=4, embedding_dim=4, hidden_size=8, batch_size=8, progress=False
    )
    assert isinstance(model, Seq2Seq) and len(hist.step_loss) == 4
    assert model.config["bidirectional"] and model.config["attention"] == "additive"
    pred = g2p.pronounce(model, data.test.source, "beam", beam_size=2)
    assert len(pred) == len(HELD_OUT) and all(isinstance(p, list) for p in pred)
    with pytest.raises(ValueError, match="give a budget"):
        g2p.train_g2p(data)


def test_cli_records_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(g2p, "load_cmudict", _corpus)
    out = tmp_path / "g2p.json"
    g2p.main(
        ["--out", str(out), "--max-steps", "3", "--embedding-dim", "4",
         "--hidden-size", "8", "--batch-size", "8", "--val-every", "2",
         "--alphas", "0", "1", "--beam-size", "2", "--limit", "4"]
    )  # fmt: skip
    r = json.loads(out.read_text())
    for key in ("command", "machine", "date", "commit", "wall_seconds", "settings"):
        assert r[key] not in (None, "")
    assert "cores" in r["machine"] and "--hidden-size 8" in r["command"]
    assert r["settings"]["hidden_size"] == 8 and r["data"]["test_words"] == 4
    assert r["training"]["steps"] == 3 and r["training"]["val_wer_steps"] == [2, 3]
    assert set(r["results"]) == {"greedy", "beam2_alpha0", "beam2_alpha1"}
    assert 0 <= r["baseline"]["val"]["wer"] <= 1 and r["baseline"]["val"]["words"] == 1
    for scores in [*r["results"].values(), r["baseline"]["test"]]:
        assert 0 <= scores["wer"] <= 1 and scores["per"] >= 0
        assert len(scores["edits"].split()) == scores["words"]
        assert "wer_no_stress" in scores
    assert r["results"]["beam2_alpha1"]["length_penalty"] == 1
    assert len(r["examples"]["words"]) == 4 == len(r["examples"]["greedy"])
