"""Decoding: greedy, sampling and beam search on a toy model whose best sequences can
be found by enumerating them all."""

import itertools

import numpy as np
import pytest

import rnnlab
from rnnlab.decode import beam_search, greedy, sample

V, EOS, BOS, MAX_LEN = 4, 0, 3, 4


def toy(seed=0):
    """A step function whose logits depend on the previous token and the time step,
    carried in an RNN-like state (1, B, 1): batch on axis 1, as rnnlab's layers."""
    table = np.random.default_rng(seed).normal(0, 1.5, (MAX_LEN + 1, V, V))

    def step(tokens, state):
        t = state[0, :, 0].astype(int)
        return table[t, tokens], state + 1

    return step, table


def log_p(table, seq):
    """log P of ``seq`` (tokens after BOS, ending in EOS or at MAX_LEN)."""
    total, prev = 0.0, BOS
    for t, tok in enumerate(seq):
        logits = table[t, prev]
        total += logits[tok] - np.log(np.exp(logits).sum())
        prev = tok
    return total


def all_sequences():
    """Every complete output: tokens ending in EOS, or MAX_LEN tokens without it."""
    for n in range(1, MAX_LEN + 1):
        for body in itertools.product(range(1, V), repeat=n - 1):
            yield list(body) + [EOS]
    yield from (list(s) for s in itertools.product(range(1, V), repeat=MAX_LEN))


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("seed", range(5))
def test_a_wide_beam_finds_the_best_sequence_of_all(seed, alpha):
    step, table = toy(seed)
    best = max(all_sequences(), key=lambda s: log_p(table, s) / len(s) ** alpha)
    [(tokens, score)] = beam_search(
        step,
        np.zeros((1, 1, 1)),
        bos=BOS,
        eos=EOS,
        max_len=MAX_LEN,
        beam_size=V**MAX_LEN,
        alpha=alpha,
    )
    assert tokens == [t for t in best if t != EOS]
    assert score == pytest.approx(log_p(table, best) / len(best) ** alpha, abs=1e-12)


def test_beam_of_one_is_greedy_and_a_wider_beam_is_never_worse():
    wins = 0
    for seed in range(20):
        step, table = toy(seed)
        state = np.zeros((1, 1, 1))
        g = greedy(step, state, bos=BOS, eos=EOS, max_len=MAX_LEN, batch_size=1)[0]
        [(b1, s1)] = beam_search(
            step, state, bos=BOS, eos=EOS, max_len=MAX_LEN, beam_size=1
        )
        [(b3, s3)] = beam_search(
            step, state, bos=BOS, eos=EOS, max_len=MAX_LEN, beam_size=3
        )
        assert b1 == g and s3 >= s1 - 1e-12
        wins += s3 > s1 + 1e-9
    assert wins > 0  # on some of these the wider beam finds a better sequence


def test_length_normalisation_prefers_longer_outputs():
    lengths = {}
    for alpha in (0.0, 1.0):
        total = 0
        for seed in range(20):
            step, _ = toy(seed)
            [(tokens, _)] = beam_search(
                step,
                np.zeros((1, 1, 1)),
                bos=BOS,
                eos=EOS,
                max_len=MAX_LEN,
                beam_size=4,
                alpha=alpha,
            )
            total += len(tokens)
        lengths[alpha] = total
    assert lengths[1.0] > lengths[0.0]


def test_sampling_is_seeded_and_respects_top_k_top_p_and_temperature():
    step, table = toy(1)
    state = np.zeros((1, 500, 1))
    kw = dict(bos=BOS, eos=None, max_len=1, batch_size=500)
    a = sample(step, state, rng=np.random.default_rng(0), **kw)
    b = sample(step, state, rng=np.random.default_rng(0), **kw)
    assert a == b
    first = np.array([s[0] for s in a])
    p = np.exp(table[0, BOS]) / np.exp(table[0, BOS]).sum()
    np.testing.assert_allclose(np.bincount(first, minlength=V) / 500, p, atol=0.07)
    top2 = set(np.argsort(-p)[:2])
    k = sample(step, state, top_k=2, rng=np.random.default_rng(1), **kw)
    assert {s[0] for s in k} == top2
    nucleus = sample(step, state, top_p=1e-9, rng=np.random.default_rng(2), **kw)
    assert {s[0] for s in nucleus} == {int(np.argmax(p))}  # the smallest nucleus
    cold = sample(step, state, temperature=1e-3, rng=np.random.default_rng(3), **kw)
    assert {s[0] for s in cold} == {int(np.argmax(p))}
    rnnlab.seed(5)
    c = sample(step, state, **kw)
    rnnlab.seed(5)
    assert sample(step, state, **kw) == c  # the default generator follows rnnlab.seed


def test_greedy_stops_at_eos_per_sequence_and_decodes_a_batch():
    step, table = toy(2)
    out = greedy(
        step, np.zeros((1, 3, 1)), bos=BOS, eos=EOS, max_len=MAX_LEN, batch_size=3
    )
    assert len(out) == 3 and out[0] == out[1] == out[2]
    assert EOS not in out[0] and len(out[0]) <= MAX_LEN


def test_state_tuples_are_reordered_with_the_beams():
    # an LSTM-like state (h, c): both arrays must follow the surviving beams
    step, table = toy(3)

    def lstm_like(tokens, state):
        h, c = state
        logits, h = step(tokens, h)
        assert np.array_equal(h, c + 1)
        return logits, (h, c + 1)

    z = np.zeros((1, 1, 1))
    want = beam_search(step, z, bos=BOS, eos=EOS, max_len=MAX_LEN, beam_size=3)
    got = beam_search(lstm_like, (z, z), bos=BOS, eos=EOS, max_len=MAX_LEN, beam_size=3)
    assert got == want


def test_decoders_reject_bad_arguments():
    step, _ = toy()
    z = np.zeros((1, 1, 1))
    with pytest.raises(ValueError, match="max_len must be a positive integer, got 0"):
        greedy(step, z, bos=BOS, eos=EOS, max_len=0, batch_size=1)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        sample(step, z, bos=BOS, eos=EOS, max_len=2, batch_size=1, temperature=0)
    with pytest.raises(ValueError, match=r"top_p must lie in \(0, 1\]"):
        sample(step, z, bos=BOS, eos=EOS, max_len=2, batch_size=1, top_p=1.5)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        sample(step, z, bos=BOS, eos=EOS, max_len=2, batch_size=1, top_k=0)
    with pytest.raises(ValueError, match="needs an eos token"):
        beam_search(step, z, bos=BOS, eos=None, max_len=2, beam_size=2)
    with pytest.raises(ValueError, match="alpha must be a non-negative number"):
        beam_search(step, z, bos=BOS, eos=EOS, max_len=2, beam_size=2, alpha=-1)
    with pytest.raises(TypeError, match=r"bos must be a token id \(int\)"):
        greedy(step, z, bos="<s>", eos=EOS, max_len=2, batch_size=1)


def test_greedy_on_a_character_model_equals_its_own_greedy_sampler():
    from rnnlab.data import CharVocab
    from rnnlab.models import CharLM

    rnnlab.seed(0)
    lm = CharLM(CharVocab("abcde"), hidden_size=8, embedding_dim=4)

    def step(tokens, state):  # tokens (B,) -> logits (B, V)
        logits, state = lm(tokens[None, :], state)
        return logits[0], state

    bos = lm.vocab.encode("c")[0]
    (ids,) = greedy(step, None, bos=int(bos), eos=None, max_len=12, batch_size=1)
    assert "c" + lm.vocab.decode(ids) == lm.sample("c", 12, temperature=0)


def test_nucleus_keeps_the_token_that_crosses_top_p():
    from rnnlab.decode import _filter

    logp = np.log(np.array([[0.6, 0.3, 0.1], [0.5, 0.25, 0.25]]))
    kept = np.isfinite(_filter(logp, None, 0.9))
    assert kept.tolist() == [[True, True, False], [True, True, True]]
    assert np.isfinite(_filter(logp, None, 0.7)).sum(axis=1).tolist() == [2, 2]
    assert np.isfinite(_filter(logp, None, 1.0)).all()  # top_p = 1 keeps everything
    assert np.isfinite(_filter(logp, 10, None)).all()  # top_k above V keeps everything
    # top_k first, then the nucleus of what is left, renormalised: [.5, .3] -> .625
    only = np.isfinite(_filter(np.log(np.array([[0.5, 0.3, 0.2]])), 2, 0.55))
    assert only.tolist() == [[True, False, False]]


def test_beam_search_checks_the_batch_and_carries_dict_states():
    step, table = toy(4)
    with pytest.raises(ValueError, match="state must hold batch_size = 1 sequences"):
        beam_search(step, np.zeros((1, 2, 1)), bos=BOS, eos=EOS, max_len=3, beam_size=2)

    def dict_step(tokens, state):
        logits, h = step(tokens, state["h"])
        return logits, {"h": h, "note": state["note"]}

    z = np.zeros((1, 1, 1))
    want = beam_search(step, z, bos=BOS, eos=EOS, max_len=MAX_LEN, beam_size=3)
    got = beam_search(
        dict_step,
        {"h": z, "note": None},
        bos=BOS,
        eos=EOS,
        max_len=MAX_LEN,
        beam_size=3,
    )
    assert got == want
