"""The encoder-decoder: finite differences, PyTorch on the same weights, padding,
decoding, bad input."""

import numpy as np
import pytest

import rnnlab
from rnnlab.models import Seq2Seq

from _helpers import to_np

VS, VT, S, T, N = 7, 6, 5, 4, 3
LENGTHS = np.array([5, 2, 4])
BOS, EOS = 1, 2

CONFIGS = [
    ("gru", True, "additive", 1),
    ("lstm", True, "general", 2),
    ("rnn", False, "dot", 1),
    ("gru", False, None, 2),
    ("lstm", False, "additive", 1),
]


def _model(cell, bidirectional, attention, num_layers=1, dtype=np.float64, seed=0):
    rnnlab.seed(seed)
    return Seq2Seq(
        VS, VT, embedding_dim=3, hidden_size=4, num_layers=num_layers, cell=cell,
        bidirectional=bidirectional, attention=attention, dtype=dtype,
    )  # fmt: skip


def _batch(seed=0):
    g = np.random.default_rng(seed)
    return g.integers(0, VS, (S, N)), g.integers(0, VT, (T, N))


@pytest.mark.parametrize("cell, bidirectional, attention, layers", CONFIGS)
def test_seq2seq_passes_finite_differences(
    cell, bidirectional, attention, layers, device, on
):
    m = _model(cell, bidirectional, attention, layers).to(device)
    src, tgt = _batch()
    # eps 1e-4: additive attention's W_q gets gradients near 1e-4 (with small
    # weights tanh is nearly linear, and a shift shared by all keys leaves the softmax
    # unchanged), where the default step's rounding noise is a relative error of 1e-5
    errors = rnnlab.check_module(m, on(src), on(LENGTHS), on(tgt), eps=1e-4)
    rnnlab.assert_gradients_close(errors)


@pytest.mark.parametrize("cell, bidirectional, attention, layers", CONFIGS[:2])
def test_seq2seq_equals_torch_on_the_same_weights(
    torch, cell, bidirectional, attention, layers
):
    m = _model(cell, bidirectional, attention, layers)
    src, tgt = _batch(1)
    G = np.random.default_rng(2).standard_normal((T, N, VT))
    twin = _assert_equals_twin(torch, m, src, tgt, G)
    alpha = twin.attention_weights.detach().numpy()
    np.testing.assert_allclose(m.attention_weights, alpha, atol=1e-12)


def _assert_equals_twin(torch, m, src, tgt, G):
    """Logits and every gradient (and the source's, for vectors) equal those of the
    PyTorch twin on the same weights; returns the twin."""
    from rnnlab.course.torch_seq2seq import TorchSeq2Seq, seq2seq_state_dict

    logits = m(src, LENGTHS, tgt)
    m.zero_grad()
    d_src = m.backward(G)
    twin = TorchSeq2Seq.from_rnnlab(m)
    src_t = torch.tensor(src, requires_grad=d_src is not None)
    ref = twin(src_t, torch.tensor(LENGTHS), torch.tensor(tgt))
    (ref * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(logits, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, grad in seq2seq_state_dict(m, grads=True).items():
        np.testing.assert_allclose(
            grad, twin.get_parameter(name).grad.numpy(), atol=1e-10, err_msg=name
        )
    if d_src is not None:
        np.testing.assert_allclose(d_src, src_t.grad.numpy(), atol=1e-10)
    return twin


@pytest.mark.parametrize("attention", [None, "additive"])
def test_source_padding_changes_nothing(attention):
    m = _model("gru", True, attention)
    src, tgt = _batch(3)
    src[2:, 1] = 0  # padding of sequence 1 (length 2)
    full = m(src, LENGTHS, tgt)
    src[2:, 1] = 5  # other padding: the same outputs
    np.testing.assert_allclose(m(src, LENGTHS, tgt), full, rtol=1e-12)
    alone = m(src[:2, 1:2], LENGTHS[1:2], tgt[:, 1:2])
    np.testing.assert_allclose(alone[:, 0], full[:, 1], rtol=1e-10)
    if attention:
        assert not m.attention_weights[:, 0, 2:].any()


@pytest.mark.parametrize("cell, bidirectional, attention, layers", CONFIGS)
def test_translate_greedy_equals_beam_of_one_and_keeps_nothing(
    cell, bidirectional, attention, layers, device
):
    m = _model(cell, bidirectional, attention, layers, dtype=np.float32).to(device)
    g = np.random.default_rng(4)
    sources = [g.integers(3, VS, n) for n in (5, 1, 3)]
    greedy = m.translate(sources, bos=BOS, eos=EOS, max_len=6)
    beam1 = m.translate(
        sources, bos=BOS, eos=EOS, max_len=6, method="beam", beam_size=1
    )
    assert greedy == beam1 and len(greedy) == 3
    assert all(len(t) <= 6 and EOS not in t for t in greedy)
    # one source decoded alone gives the same as in the batch
    assert m.translate(sources[1:2], bos=BOS, eos=EOS, max_len=6) == greedy[1:2]
    # the decoded target, fed back teacher-forced, is what the model chose
    if greedy[0]:
        tgt_in = np.array([BOS] + greedy[0][:-1])[:, None]
        src = rnnlab.to_device(sources[0][:, None], device)
        with rnnlab.no_grad(), m.evaluating():
            logits = to_np(m(src, None, rnnlab.to_device(tgt_in, device)))
        assert list(logits[:, 0].argmax(-1)) == greedy[0]
    # a batched beam search (any chunking) finds what each source's search finds alone
    beam = dict(bos=BOS, eos=EOS, method="beam", beam_size=3, max_len=6)
    together = m.translate(sources, **beam)
    assert together == [m.translate([s], **beam)[0] for s in sources]
    assert m.translate(sources, batch_size=2, **beam) == together
    m.translate(sources, bos=BOS, eos=EOS, method="sample", top_k=2, max_len=6)
    assert all(mod.pending == 0 for mod in m.modules())
    assert m.training


def test_seq2seq_learns_to_reverse():
    # a seeded small problem whose loss goes down: reverse digit strings
    g = np.random.default_rng(0)
    rnnlab.seed(0)
    m = Seq2Seq(13, 13, embedding_dim=16, hidden_size=32, attention="general")
    srcs = [g.integers(3, 13, g.integers(2, 6)) for _ in range(256)]
    batches = rnnlab.data.PairBatches(
        srcs, [s[::-1] for s in srcs], 256, bos=BOS, eos=EOS
    )

    def loss(z, y):
        return rnnlab.cross_entropy(z, y, ignore_index=-100)

    h = rnnlab.fit(m, batches, loss=loss, epochs=150, lr=1e-2, progress=False)
    assert h.train_loss[-1] < 0.2 * h.train_loss[0]
    out = m.translate(srcs[:20], bos=BOS, eos=EOS, max_len=7)
    assert np.mean([o == list(s[::-1]) for o, s in zip(out, srcs[:20])]) > 0.6


def test_seq2seq_bad_input():
    with pytest.raises(ValueError, match="cell must be one of"):
        Seq2Seq(5, 5, cell="tcn")
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(5, 5, attention="concat")
    with pytest.raises(ValueError, match="attention='dot' compares decoder states"):
        Seq2Seq(5, 5, attention="dot", bidirectional=True)
    m = _model("gru", True, "additive")
    src, tgt = _batch()
    with pytest.raises(ValueError, match=r"src holds indices in \[7, 13\], expected"):
        m(src + 7, LENGTHS, tgt)
    with pytest.raises(ValueError, match=r"tgt_in must have shape \(T, N\) with N = 3"):
        m(src, LENGTHS, tgt[:, :2])
    with pytest.raises(ValueError, match="method must be 'greedy', 'sample' or 'beam'"):
        m.translate([src[:, 0]], bos=BOS, eos=EOS, method="top")
    with pytest.raises(ValueError, match="sources is empty"):
        m.translate([], bos=BOS, eos=EOS)
    with pytest.raises(ValueError, match=r"sources\[1\] must be a non-empty 1-D"):
        m.translate([src[:, 0], np.array([], dtype=int)], bos=BOS, eos=EOS)
    with pytest.raises(TypeError, match="sources must be a list"):
        m.translate(src, bos=BOS, eos=EOS)
    with pytest.raises(ValueError, match="beam_size must be a positive integer"):
        m.translate([src[:, 0]], bos=BOS, eos=EOS, method="beam", beam_size=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        m.translate([src[:, 0]], bos=BOS, eos=EOS, batch_size=0)


def test_seq2seq_with_vocabularies_reads_tokens_and_round_trips(tmp_path):
    from rnnlab.data import WordVocab

    letters = WordVocab(list("abc"), specials=("<pad>",))
    phones = WordVocab(["AH", "B", "K"])  # <pad>, <unk>, <bos>, <eos> first
    rnnlab.seed(0)
    m = Seq2Seq.for_vocabs(letters, phones, embedding_dim=3, hidden_size=4)
    out = m.translate([list("cab"), list("a")], max_len=4)
    ids = m.translate(
        [letters.encode(list("cab")), letters.encode(["a"])],
        bos=phones.bos_id,
        eos=phones.eos_id,
        max_len=4,
    )
    assert out == [phones.decode(t) for t in ids]
    assert all(isinstance(t, str) for o in out for t in o)
    m.save(tmp_path / "g2p.npz")
    again = Seq2Seq.from_checkpoint(tmp_path / "g2p.npz")
    assert again.src_vocab == letters and again.tgt_vocab == phones
    assert again.translate([list("cab"), list("a")], max_len=4) == out
    with pytest.raises(TypeError, match=r"sources\[0\] is a str: split it"):
        m.translate(["cab"])
    with pytest.raises(ValueError, match=r"token\(s\) not in the vocabulary.*'z'"):
        m.translate([list("caz")])
    with pytest.raises(ValueError, match="this vocabulary has no <bos> token"):
        Seq2Seq.for_vocabs(letters, letters)
    plain = Seq2Seq(4, 5)
    with pytest.raises(ValueError, match="bos and eos are needed"):
        plain.translate([np.array([1, 2])])
    with pytest.raises(TypeError, match="has no vocabulary to number them"):
        plain.translate([list("ab")], bos=1, eos=2)
    other = Seq2Seq.for_vocabs(
        letters, WordVocab(["AH", "B", "X"]), embedding_dim=3, hidden_size=4
    )
    with pytest.raises(ValueError, match="tgt_vocab differs"):
        other.load(tmp_path / "g2p.npz")


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_equals_exhaustive_search_and_narrow_never_beats_it(alpha):
    from itertools import product

    from rnnlab.decode import beam_search

    rnnlab.seed(6)
    m = Seq2Seq(VS, 4, embedding_dim=3, hidden_size=4, attention="general")
    m.eval()  # targets: 0, 1 (bos), 2 (eos), 3
    src = np.array([3, 5, 4])
    max_len = 4

    def log_p(seq):  # log P(seq) by teacher forcing, seq ending in eos or cut
        tgt_in = np.array([BOS] + seq[:-1])[:, None]
        with rnnlab.no_grad():
            z = m(src[:, None], None, tgt_in)[:, 0].astype(np.float64)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        return float(sum(logp[t, k] for t, k in enumerate(seq)))

    candidates = [  # every hypothesis: ends in eos, or reaches max_len without it
        list(body) + [EOS]
        for L in range(max_len)
        for body in product([0, 1, 3], repeat=L)
    ] + [list(body) for body in product([0, 1, 3], repeat=max_len)]
    scored = [(log_p(c) / len(c) ** alpha, c) for c in candidates]
    best_score, best = max(scored)
    with rnnlab.no_grad():
        outputs, s0 = m.encode(src[:, None], None)
    state = m._decode_state(outputs, s0, np.array([3]))
    [(tokens, score)] = beam_search(
        m._step, state, bos=BOS, eos=EOS, max_len=max_len, beam_size=4**max_len,
        alpha=alpha,
    )  # fmt: skip
    assert tokens == [t for t in best if t != EOS]
    assert np.isclose(score, best_score, rtol=1e-5)
    for width in (1, 2, 3):
        [(_, narrow)] = beam_search(
            m._step, state, bos=BOS, eos=EOS, max_len=max_len, beam_size=width,
            alpha=alpha,
        )  # fmt: skip
        assert narrow <= best_score + 1e-6


@pytest.mark.parametrize("attention", ["additive", "general"])
def test_align_gives_the_weights_used_while_decoding(attention):
    m = _model("gru", True, attention, dtype=np.float32)
    g = np.random.default_rng(5)
    sources = [g.integers(3, VS, n) for n in (5, 2, 4)]
    seen, step = [], m._step

    def recording(tokens, state):  # the weights of every decoding step
        out = step(tokens, state)
        seen.append(to_np(m.attention_weights)[0].copy())  # (B, S)
        return out

    m._step = recording
    outputs = m.translate(sources, bos=BOS, eos=EOS, max_len=6)
    del m._step
    weights = m.align(sources, outputs, bos=BOS)
    for n, (w, out) in enumerate(zip(weights, outputs)):
        S_n = len(sources[n])
        assert w.shape == (len(out) + 1, S_n)  # + 1: where eos is predicted
        # a target cut at max_len had no step that predicted its end
        decoding = np.array([seen[t][n, :S_n] for t in range(min(len(out) + 1, 6))])
        np.testing.assert_allclose(w[: len(decoding)], decoding, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(w.sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="no attention"):
        _model("gru", False, None).align(sources, outputs, bos=BOS)
    with pytest.raises(ValueError, match="same length"):
        m.align(sources, outputs[:2], bos=BOS)


def test_decoding_step_drives_the_decoders_as_translate_does():
    from rnnlab.decode import beam_search, greedy

    m = _model("lstm", True, "general", dtype=np.float32)
    g = np.random.default_rng(7)
    sources = [g.integers(3, VS, n) for n in (4, 2, 5)]
    step, state = m.decoding_step(sources)
    common = dict(bos=BOS, eos=EOS, max_len=6)
    got = greedy(step, state, batch_size=3, **common)
    assert got == m.translate(sources, **common)
    found = beam_search(step, state, batch_size=3, beam_size=3, **common)
    beam = m.translate(sources, method="beam", beam_size=3, **common)
    assert [t for t, _ in found] == beam
    assert m.training  # the step ran in eval mode and left the mode as it was


# ----------------------------------------------- vectors in (frames), tokens out
F = 3


def _features_model(cell="gru", attention="additive", dtype=np.float64):
    from rnnlab.data import WordVocab

    rnnlab.seed(0)
    words = WordVocab(["a", "three", "moving", "left"])
    return Seq2Seq.for_features(
        F, words, embedding_dim=3, hidden_size=4, cell=cell, attention=attention,
        dtype=dtype,
    )  # fmt: skip


@pytest.mark.parametrize("cell, attention", [("gru", "additive"), ("lstm", "general")])
def test_seq2seq_of_features_passes_finite_differences(cell, attention, device, on):
    m = _features_model(cell, attention).to(device)
    g = np.random.default_rng(0)
    src, tgt = g.standard_normal((S, N, F)), g.integers(0, len(m.tgt_vocab), (T, N))
    errors = rnnlab.check_module(m, on(src), on(LENGTHS), on(tgt), eps=1e-4)
    rnnlab.assert_gradients_close(errors)


def test_seq2seq_of_features_equals_torch_on_the_same_weights(torch):
    m = _features_model()
    g = np.random.default_rng(1)
    src, tgt = g.standard_normal((S, N, F)), g.integers(0, len(m.tgt_vocab), (T, N))
    _assert_equals_twin(torch, m, src, tgt, g.standard_normal((T, N, len(m.tgt_vocab))))


def test_seq2seq_of_features_translates_to_words_and_round_trips(tmp_path):
    m = _features_model(dtype=np.float32)
    g = np.random.default_rng(2)
    clips = [g.random((5, F)).astype(np.float32), g.random((2, F)).astype(np.float32)]
    out = m.translate(clips, max_len=4)
    assert len(out) == 2 and all(isinstance(w, str) for o in out for w in o)
    assert m.translate(clips, max_len=4, method="beam", beam_size=1) == out
    (w,) = m.align(clips[:1], [m.tgt_vocab.encode(["a", "three"])])
    assert w.shape == (3, 5)
    np.testing.assert_allclose(w.sum(axis=1), 1, rtol=1e-5)
    m.save(tmp_path / "cap.npz")
    again = Seq2Seq.from_checkpoint(tmp_path / "cap.npz")
    assert again.src_vocab is None and again.tgt_vocab == m.tgt_vocab
    assert again.translate(clips, max_len=4) == out
    assert "vectors of 3" in repr(m)
    with pytest.raises(ValueError, match=r"sources\[0\] must be a non-empty array of"):
        m.translate([g.random(F).astype(np.float32)])
    with pytest.raises(ValueError, match=r"src has size 2 in its last dimension"):
        m(np.zeros((S, N, 2), np.float32), None, np.zeros((T, N), np.int64))
    with pytest.raises(ValueError, match="give src_vocab_size .* or input_size"):
        Seq2Seq(None, 5)
