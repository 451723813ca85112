"""rnnlab.ctc_decode: best path, prefix beam search (exact on small problems, a lower
bound of the CTC probability always) and shallow fusion with a language model."""

import itertools

import numpy as np
import pytest

from rnnlab.ctc import ctc_loss
from rnnlab.ctc_decode import ctc_greedy, ctc_prefix_beam_search
from rnnlab.nn.functional import log_softmax


def test_greedy_merges_repeats_and_drops_blanks():
    path = np.array([1, 1, 0, 1, 2, 2, 0, 0, 3])
    lp = np.log(np.full((9, 1, 4), 0.01))
    lp[np.arange(9), 0, path] = 0.0
    assert ctc_greedy(lp) == [[1, 1, 2, 3]]
    assert ctc_greedy(lp, lengths=[4]) == [[1, 1]]
    assert ctc_greedy(lp, blank=1) == [[0, 2, 0, 3]]


def _collapse(path, blank=0):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def _exact_labelling_probs(lp):
    """p(l | x) of every labelling, by summing over all paths (tiny T and C)."""
    T, C = lp.shape
    probs = {}
    for path in itertools.product(range(C), repeat=T):
        l = _collapse(path)
        probs[l] = probs.get(l, 0.0) + np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return probs


@pytest.mark.parametrize("seed", range(5))
def test_a_wide_beam_finds_the_most_probable_labelling_exactly(seed):
    g = np.random.default_rng(seed)
    lp = log_softmax(2 * g.standard_normal((5, 1, 3)))
    probs = _exact_labelling_probs(lp[:, 0])
    best = max(probs, key=probs.get)
    ((labels, log_p),) = ctc_prefix_beam_search(lp, beam_size=1000, prune=-np.inf)
    assert tuple(labels) == best
    assert log_p == pytest.approx(np.log(probs[best]), rel=1e-10)


@pytest.mark.parametrize("beam_size", [1, 3, 8])
def test_beam_score_never_exceeds_the_exact_ctc_probability(beam_size):
    g = np.random.default_rng(0)
    lp = log_softmax(3 * g.standard_normal((30, 6, 5)))
    lengths = np.array([30, 25, 20, 12, 8, 30])
    for n, (labels, log_p) in enumerate(
        ctc_prefix_beam_search(lp, beam_size, lengths=lengths)
    ):
        exact = -ctc_loss(
            lp[:, n : n + 1],
            [labels or [0]],
            [lengths[n]],
            [len(labels)],
            reduction="sum",
        )[0]
        assert log_p <= exact + 1e-9


def test_a_language_model_can_overrule_weak_acoustic_evidence():
    # two frames: label 1 slightly more likely than label 2 at the first frame
    p = np.array([[[0.1, 0.46, 0.44]], [[0.9, 0.05, 0.05]]])
    lp = np.log(p)
    assert ctc_prefix_beam_search(lp, 4)[0][0] == [1]

    def lm(prefix, label):  # prefers label 2
        return np.log(0.9 if label == 2 else 0.1)

    assert ctc_prefix_beam_search(lp, 4, lm=lm, lm_weight=1.0)[0][0] == [2]


def test_bad_arguments_are_named():
    lp = np.zeros((3, 1, 4))
    with pytest.raises(ValueError, match=r"shape \(T, N, C\)"):
        ctc_greedy(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="beam_size must be a positive integer"):
        ctc_prefix_beam_search(lp, 0)
    with pytest.raises(ValueError, match="need an lm"):
        ctc_prefix_beam_search(lp, 2, lm_weight=0.5)
    with pytest.raises(ValueError, match=r"lengths must be 1 integers in \[1, 3\]"):
        ctc_greedy(lp, lengths=[4])
