"""The character language model: shapes, gradients, sampling, checkpoints."""

import numpy as np
import pytest

import rnnlab
from rnnlab.data import CharVocab
from rnnlab.losses import cross_entropy
from rnnlab.models import CharLM, SequenceClassifier

from _helpers import to_np

VOCAB = CharVocab.from_text("hello world")


@pytest.mark.parametrize("embedding_dim", [None, 5])
def test_shapes_and_state(embedding_dim, device, on):
    rnnlab.seed(0)
    m = CharLM(VOCAB, hidden_size=8, num_layers=2, embedding_dim=embedding_dim).to(
        device
    )
    idx = np.random.default_rng(0).integers(0, len(VOCAB), (7, 3))
    logits, state = m(on(idx))
    assert logits.shape == (7, 3, len(VOCAB)) and state.shape == (2, 3, 8)
    assert rnnlab.backend.device_of(logits) == device
    # carrying the state equals running the concatenated sequence
    full, _ = m(on(np.concatenate([idx, idx])))
    second, _ = m(on(idx), state)
    np.testing.assert_allclose(to_np(second), to_np(full)[7:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("embedding_dim", [None, 4])
def test_gradients_match_finite_differences(embedding_dim, device, on):
    rnnlab.seed(1)
    m = CharLM(
        VOCAB,
        hidden_size=5,
        num_layers=2,
        embedding_dim=embedding_dim,
        dtype=np.float64,
    ).to(device)
    g = np.random.default_rng(1)
    idx = g.integers(0, len(VOCAB), (4, 2))
    # a repeated character: its embedding gradient must accumulate
    idx[1, 1] = idx[0, 0]
    y = g.integers(0, len(VOCAB), (4, 2))
    idx, y = on(idx), on(y)

    def loss():
        return cross_entropy(m(idx)[0], y)[0]

    m.zero_grad()
    _, d = cross_entropy(m(idx)[0], y)
    m.backward(d)
    for name, p, grad in m.named_parameters():
        num = rnnlab.gradcheck.numerical_gradient(loss, p)
        assert rnnlab.gradcheck.relative_error(grad, num) < 1e-6, name


def test_bad_inputs():
    m = CharLM(VOCAB, hidden_size=4)
    with pytest.raises(ValueError, match="cell"):
        CharLM(VOCAB, cell="transformer")
    with pytest.raises(ValueError, match="bidirectional"):
        CharLM(VOCAB, cell="gru", bidirectional=True)
    with pytest.raises(ValueError, match="idx"):
        m(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="idx"):
        m(np.full((2, 1), len(VOCAB)))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        m.sample("xyz", 5)
    with pytest.raises(ValueError, match="prime"):
        m.sample("", 5)
    with pytest.raises(ValueError, match="temperature"):
        m.sample("h", 5, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        m.sample("h", 5, top_k=0)
    with pytest.raises(
        ValueError, match=r"length must be a non-negative integer, got -1"
    ):
        m.sample("h", -1)
    with pytest.raises(
        ValueError, match=r"length must be a non-negative integer, got 2.5"
    ):
        m.sample("h", 2.5)
    with pytest.raises(
        ValueError, match=r"temperature must be finite and >= 0, got nan"
    ):
        m.sample("h", 5, temperature=float("nan"))
    with pytest.raises(TypeError, match=r"idx must have an integer dtype, got float64"):
        m(np.zeros((2, 1)))


def test_sampling_without_a_seed_follows_rnnlab_seed():
    m = CharLM(VOCAB, hidden_size=8)
    rnnlab.seed(9)
    a = m.sample("h", 30)
    rnnlab.seed(9)
    assert m.sample("h", 30) == a


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"", "is not an rnnlab checkpoint: an .npz file .* starts with b''"),
        (
            b"just some text\n",
            "is not an rnnlab checkpoint: .* this one starts with b'just'",
        ),
        ("truncate", "is a damaged checkpoint \\(truncated or corrupted\\)"),
    ],
)
def test_broken_checkpoints_are_named_in_the_error(tmp_path, content, pattern):
    path = tmp_path / "lm.npz"
    CharLM(VOCAB, hidden_size=6).save(path)
    if content == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(content)
    for load in (
        CharLM.from_checkpoint,
        CharLM(VOCAB, hidden_size=6).load,
        rnnlab.Linear(2, 2).load,
    ):
        with pytest.raises(ValueError, match=pattern) as info:
            load(path)
        assert str(path) in str(info.value)
    with pytest.raises(FileNotFoundError):
        CharLM.from_checkpoint(tmp_path / "missing.npz")


def test_checkpoint_with_a_damaged_description_is_named(tmp_path):
    path = tmp_path / "lm.npz"
    np.savez(path, __meta__=np.array("{not json"), W=np.zeros(1))
    with pytest.raises(
        ValueError, match=r"lm.npz: the model description stored in it is damaged"
    ):
        CharLM.from_checkpoint(path)
    np.savez(path, __meta__=np.array('{"class": "CharLM"}'))
    with pytest.raises(ValueError, match=r"lacks \['config', 'dtype'\]"):
        CharLM.from_checkpoint(path)


def test_sampling_is_seeded_and_respects_top_k_and_greedy(device):
    rnnlab.seed(2)
    m = CharLM(VOCAB, hidden_size=16).to(device)
    a = m.sample("he", 30, temperature=1.0, seed=3)
    assert a == m.sample("he", 30, temperature=1.0, seed=3)
    assert a.startswith("he") and len(a) == 32 and set(a) <= set(VOCAB.chars)
    # top_k=1 is greedy whatever the temperature
    assert (
        m.sample("he", 20, top_k=1, seed=4)
        == m.sample("he", 20, temperature=0)
        == m.sample("he", 20, top_k=1, seed=5)
    )
    assert m.training  # sampling restores the mode


def test_checkpoint_round_trip_is_exact(tmp_path, device):
    rnnlab.seed(3)
    m = CharLM(
        VOCAB, hidden_size=6, num_layers=2, embedding_dim=3, nonlinearity="relu"
    ).to(device)
    path = tmp_path / "lm.npz"
    m.save(path)
    m2 = CharLM.from_checkpoint(path).to(device)
    assert m2.vocab == VOCAB and m2.config == m.config
    for (k, p, _), (k2, p2, _) in zip(m.named_parameters(), m2.named_parameters()):
        assert k == k2 and p.dtype == p2.dtype and np.array_equal(to_np(p), to_np(p2))
    assert m.sample("he", 20, seed=0) == m2.sample("he", 20, seed=0)


def test_checkpoint_that_does_not_fit_is_rejected(tmp_path):
    path = tmp_path / "lm.npz"
    CharLM(VOCAB, hidden_size=6).save(path)
    with pytest.raises(
        ValueError,
        match="configured differently: hidden_size: checkpoint 6, this model 7",
    ):
        CharLM(VOCAB, hidden_size=7).load(path)
    np.savez(tmp_path / "weights.npz", **CharLM(VOCAB, hidden_size=6).state_dict())
    # weights only: shapes checked
    with pytest.raises(ValueError, match="shape mismatch rnn.W_hh_l0"):
        CharLM(VOCAB, hidden_size=7).load(tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="vocabulary"):
        CharLM(CharVocab("abc"), hidden_size=6).load(path)
    np.savez(tmp_path / "plain.npz", a=np.zeros(1))
    with pytest.raises(
        ValueError, match=r"plain.npz holds weights only \(no configuration stored\)"
    ):
        CharLM.from_checkpoint(tmp_path / "plain.npz")
    with pytest.raises(
        ValueError, match=r"lm.npz holds a CharLM, not a SequenceClassifier"
    ):
        SequenceClassifier.from_checkpoint(path)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_train_sample_and_round_trip(cell, tmp_path, device, on):
    rnnlab.seed(4)
    m = CharLM(VOCAB, hidden_size=6, num_layers=2, cell=cell, embedding_dim=3).to(
        device
    )
    idx = on(np.random.default_rng(4).integers(0, len(VOCAB), (5, 2)))
    logits, state = m(idx)
    assert logits.shape == (5, 2, len(VOCAB))
    if cell == "lstm":
        assert isinstance(state, tuple) and state[0].shape == state[1].shape == (
            2,
            2,
            6,
        )
    _, d = cross_entropy(logits, idx)
    m.backward(d)
    assert all(g.any() for _, _, g in m.named_parameters())
    m.save(tmp_path / "m.npz")
    m2 = CharLM.from_checkpoint(tmp_path / "m.npz").to(device)
    assert isinstance(m2.rnn, type(m.rnn))
    assert m.sample("he", 10, seed=1) == m2.sample("he", 10, seed=1)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_check_module_works_on_the_whole_model(cell):
    rnnlab.seed(6)
    m = CharLM(
        VOCAB, hidden_size=4, num_layers=2, cell=cell, embedding_dim=3, dtype=np.float64
    )
    idx = np.random.default_rng(6).integers(0, len(VOCAB), (4, 2))
    rnnlab.assert_gradients_close(rnnlab.check_module(m, idx), tol=1e-6)


# ------------------------------------------------------------------- SequenceClassifier
@pytest.mark.parametrize(
    "cell, pool, bidirectional",
    [
        ("gru", "mean", False),
        ("gru", "attention", True),
        ("lstm", "last", True),
        ("rnn", "max", True),
        ("lstm", "last", False),
    ],
)
def test_classifier_passes_finite_differences(cell, pool, bidirectional, device, on):
    rnnlab.seed(0)
    m = SequenceClassifier(
        9,
        3,
        embedding_dim=3,
        hidden_size=4,
        num_layers=2,
        cell=cell,
        pool=pool,
        bidirectional=bidirectional,
        dtype=np.float64,
    ).to(device)
    g = np.random.default_rng(0)
    ids, lengths = on(g.integers(0, 9, (5, 3))), on(np.array([5, 2, 4]))
    rnnlab.assert_gradients_close(rnnlab.check_module(m, ids, lengths))


def test_classifier_last_pool_reads_the_last_real_step(on):
    # padding after a sequence's end must not change its logits
    m = SequenceClassifier(
        9, 2, hidden_size=5, cell="lstm", pool="last", bidirectional=True
    )
    ids = np.array([[1, 2], [3, 4], [5, 0], [6, 0]])
    lengths = np.array([4, 2])
    padded = m(ids, lengths)
    short = m(ids[:2, 1:], np.array([2]))
    np.testing.assert_allclose(padded[1], short[0], rtol=1e-5, atol=1e-6)
    m.clear_tape()


def test_classifier_round_trips_with_its_configuration(tmp_path, device):
    rnnlab.seed(1)
    m = SequenceClassifier(
        11,
        4,
        embedding_dim=5,
        hidden_size=6,
        cell="lstm",
        pool="max",
        bidirectional=True,
        dtype=np.float64,
    ).to(device)
    m.save(tmp_path / "clf.npz")
    m2 = SequenceClassifier.from_checkpoint(tmp_path / "clf.npz").to(device)
    assert m2.config == m.config and m2.dtype == np.float64
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(m2.state_dict()[k], v)
    ids = rnnlab.to_device(np.array([[1, 2], [3, 4]]), device)
    with rnnlab.no_grad():
        np.testing.assert_array_equal(to_np(m(ids)), to_np(m2(ids)))


def test_classifier_bad_configuration():
    with pytest.raises(
        ValueError,
        match=r"pool must be one of \('last', 'mean', 'max', 'attention'\), got 'sum'",
    ):
        SequenceClassifier(5, 2, pool="sum")
    with pytest.raises(
        ValueError,
        match=r"cell must be one of \['gru', 'irnn', 'lstm', 'rnn'\], got 'tcn'",
    ):
        SequenceClassifier(5, 2, cell="tcn")


def test_classifier_checkpoint_of_other_configuration_is_refused_but_dropout_may_differ(
    tmp_path,
):
    path = tmp_path / "clf.npz"
    SequenceClassifier(9, 2, hidden_size=4, pool="last").save(path)
    with pytest.raises(
        ValueError,
        match=r"configured differently: pool: checkpoint 'last', this model 'max'",
    ):
        SequenceClassifier(9, 2, hidden_size=4, pool="max").load(path)
    # dropout is free
    SequenceClassifier(9, 2, hidden_size=4, pool="last", dropout=0.5).load(path)
    assert not list(tmp_path.glob("*.tmp"))  # saved atomically: nothing left aside


def test_charlm_backward_with_a_bad_state_gradient_consumes_nothing():
    m = CharLM(VOCAB, hidden_size=4)
    logits, _ = m(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="d_h_n"):
        m.backward(np.ones(logits.shape, np.float32), np.ones((1, 2, 5), np.float32))
    assert m.head.pending == 1 and m.rnn.pending == 1
    m.backward(np.ones(logits.shape, np.float32))


def _text_model(device="cpu"):
    from rnnlab.data import WordVocab, tokenize

    texts = ["a good film", "not good", "a bad film", "@united lost my bag"]
    vocab = WordVocab.build([tokenize(t) for t in texts])
    rnnlab.seed(3)
    model = SequenceClassifier.for_text(
        vocab, ["negative", "positive"], embedding_dim=4, hidden_size=5
    )
    return model.to(device), vocab, texts


def test_classifier_reads_raw_text_and_saves_its_vocabulary(tmp_path, device):
    from rnnlab.data import tokenize

    model, vocab, texts = _text_model(device)
    probs = model.predict_proba(texts + ["a GOOD film!!"], batch_size=2)
    assert probs.shape == (5, 2) and probs.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-12)
    # the same as the forward pass on the encoded text, one at a time
    for text, p in zip(texts, probs):
        ids = rnnlab.to_device(vocab.encode(tokenize(text))[:, None], device)
        with rnnlab.no_grad():
            logits = to_np(model.eval()(ids)).astype(np.float64)[0]
        np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum(), rtol=1e-5)
    assert model.predict(texts[:2]) == [
        ["negative", "positive"][k] for k in probs[:2].argmax(1)
    ]
    model.train()
    model.predict_proba(texts)
    assert model.training
    model.save(tmp_path / "m.npz")
    again = SequenceClassifier.from_checkpoint(tmp_path / "m.npz").to(device)
    assert again.vocab == vocab and again.labels == ("negative", "positive")
    np.testing.assert_array_equal(
        again.predict_proba(texts), model.predict_proba(texts)
    )
    # another vocabulary is refused with a short message
    other, _, _ = _text_model()
    other.vocab = type(vocab)(["x"])
    with pytest.raises(ValueError, match="vocabulary differs"):
        other.load(tmp_path / "m.npz")


def test_classifier_text_errors_name_the_text():
    model, vocab, _ = _text_model()
    with pytest.raises(TypeError, match="wrap one text in a list"):
        model.predict("a good film")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got int 3"):
        model.predict(["good", 3])
    with pytest.raises(ValueError, match=r"texts\[0\] has no words: '  '"):
        model.predict(["  "])
    with pytest.raises(
        ValueError, match=r"texts\[1\] has no word the vocabulary knows"
    ):
        model.predict(["good", "zzz qqq"])
    with pytest.raises(ValueError, match="texts is empty"):
        model.predict([])
    with pytest.raises(ValueError, match="no vocabulary to read text with"):
        SequenceClassifier(10, 2).predict(["good"])
    with pytest.raises(TypeError, match="vocab must be a WordVocab"):
        SequenceClassifier.for_text(["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="labels must name two or more distinct"):
        SequenceClassifier.for_text(vocab, ["only"])
    with pytest.raises(ValueError, match="labels must name two or more distinct"):
        SequenceClassifier.for_text(vocab, ["a", "a"])
    with pytest.raises(TypeError, match=r"labels must be class names \(str\)"):
        SequenceClassifier.for_text(vocab, [0, 1])
    with pytest.raises(
        ValueError, match="batch_size must be a positive integer, got 0"
    ):
        model.predict(["good"], batch_size=0)


@pytest.mark.parametrize("pool", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_saliency_is_the_gradient_of_the_logit_times_the_embedding(cell, pool):
    from rnnlab.data import WordVocab, tokenize

    text = "not a good film at all"  # distinct words: one embedding row per step
    vocab = WordVocab.build([tokenize(text)])
    rnnlab.seed(5)
    model = SequenceClassifier.for_text(
        vocab,
        ["neg", "neu", "pos"],
        embedding_dim=3,
        hidden_size=4,
        cell=cell,
        pool=pool,
        bidirectional=True,
        dropout=0.5,  # off in eval mode, as saliency uses
        dtype=np.float64,
    )
    ids = vocab.encode(tokenize(text))[:, None]
    for _, _, g in model.named_parameters():
        g[...] = 7.0
    tokens, scores = model.saliency(text, target="pos")
    assert tokens == tokenize(text) and scores.shape == (len(tokens),)
    assert all((g == 7.0).all() for _, _, g in model.named_parameters())
    assert model.training  # the mode is restored

    def logit():
        with model.evaluating(), rnnlab.no_grad():
            return float(model(ids)[0, 2])

    W, eps = model.embed.params["W"], 1e-6
    for t, i in enumerate(ids[:, 0]):
        grad = np.empty(W.shape[1])
        for j in range(W.shape[1]):
            old = W[i, j]
            W[i, j] = old + eps
            up = logit()
            W[i, j] = old - eps
            down = logit()
            W[i, j] = old
            grad[j] = (up - down) / (2 * eps)
        np.testing.assert_allclose(scores[t], grad @ W[i], rtol=1e-6, atol=1e-10)
    # the default target is the predicted class
    predicted = model.predict([text])[0]
    np.testing.assert_array_equal(
        model.saliency(text)[1], model.saliency(text, predicted)[1]
    )
    with pytest.raises(ValueError, match="target must be one of"):
        model.saliency(text, target="happy")
    with pytest.raises(ValueError, match="target must be a class name or an index"):
        model.saliency(text, target=3)
    with pytest.raises(ValueError, match="no word the vocabulary knows"):
        model.saliency("zzz qqq")


@pytest.mark.parametrize("pool", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_classifier_equals_torch_on_the_same_weights(torch, cell, pool):
    """Embedding, 2-layer bidirectional cell over packed sequences, pooling over the
    real steps, linear head: the logits and every gradient equal PyTorch's."""
    from rnnlab.interop import to_torch, torch_state_dict

    rnnlab.seed(1)
    m = SequenceClassifier(
        11, 3, embedding_dim=4, hidden_size=5, num_layers=2, cell=cell, pool=pool,
        bidirectional=True, dtype=np.float64,
    )  # fmt: skip
    g = np.random.default_rng(1)
    lengths = np.array([6, 2, 5, 1])
    ids = g.integers(0, 11, (6, 4))
    G = g.standard_normal((4, 3))
    logits = m(ids, lengths)
    m.zero_grad()
    m.backward(G)

    nn, P = torch.nn, lambda a: torch.nn.Parameter(torch.tensor(a))
    emb = nn.Embedding.from_pretrained(torch.tensor(m.embed.params["W"]), freeze=False)
    rnn = to_torch(m.rnn)
    packed = nn.utils.rnn.pack_padded_sequence(
        emb(torch.tensor(ids)), torch.tensor(lengths), enforce_sorted=False
    )
    out, h_n = rnn(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out)  # (T, N, 2H), zeros on padding
    h_n = h_n[0] if cell == "lstm" else h_n
    valid = torch.arange(6)[:, None] < torch.tensor(lengths)[None, :]  # (T, N)
    if pool == "last":
        pooled = torch.cat([h_n[-2], h_n[-1]], dim=-1)
    elif pool == "mean":
        pooled = out.sum(0) / torch.tensor(lengths)[:, None]
    elif pool == "max":
        pooled = out.masked_fill(~valid[..., None], -torch.inf).max(0).values
    else:
        p = m.pool.params
        W, b, v = P(p["W"]), P(p["b"]), P(p["v"])
        e = torch.tanh(out @ W.T + b) @ v  # (T, N)
        alpha = torch.softmax(e.masked_fill(~valid, -torch.inf), dim=0)
        pooled = (alpha[..., None] * out).sum(0)
    Wh, bh = P(m.head.params["W"]), P(m.head.params["b"])
    ref = pooled @ Wh.T + bh
    (ref * torch.tensor(G)).sum().backward()

    np.testing.assert_allclose(logits, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    close = lambda a, t: np.testing.assert_allclose(a, t.grad.numpy(), atol=1e-10)  # noqa: E731
    close(m.embed.grads["W"], emb.weight)
    close(m.head.grads["W"], Wh)
    close(m.head.grads["b"], bh)
    for key, grad in torch_state_dict(m.rnn, grads=True).items():
        np.testing.assert_allclose(
            grad, getattr(rnn, key).grad.numpy(), atol=1e-10, err_msg=key
        )
    if pool == "attention":
        for name, t in zip("Wbv", (W, b, v)):
            close(m.pool.grads[name], t)


# ------------------------------------------------------ classifiers of vectors, IRNN
@pytest.mark.parametrize("cell, pool", [("irnn", "last"), ("lstm", "mean")])
def test_classifier_of_features_passes_finite_differences(cell, pool, device, on):
    rnnlab.seed(0)
    m = SequenceClassifier.for_features(
        3, 4, hidden_size=5, cell=cell, pool=pool, bidirectional=True,
        dtype=np.float64,
    ).to(device)  # fmt: skip
    x = on(np.random.default_rng(0).standard_normal((6, 2, 3)))
    lengths = on(np.array([6, 3]))
    rnnlab.assert_gradients_close(rnnlab.check_module(m, x, lengths))


def test_classifier_of_features_equals_torch_on_the_same_weights(torch):
    """An IRNN reading vectors (no embedding), its last state into a linear head: the
    logits, the input gradient and every weight gradient equal PyTorch's."""
    from rnnlab.interop import to_torch, torch_state_dict

    rnnlab.seed(2)
    m = SequenceClassifier.for_features(
        3, 4, hidden_size=5, cell="irnn", pool="last", dtype=np.float64
    )
    # the IRNN starts at the identity, zero biases, ReLU
    np.testing.assert_array_equal(m.rnn.params["W_hh_l0"], np.eye(5))
    assert not m.rnn.params["b_h_l0"].any() and m.rnn.nonlinearity == "relu"
    g = np.random.default_rng(2)
    x, G = g.standard_normal((7, 2, 3)), g.standard_normal((2, 4))
    logits = m(x)
    m.zero_grad()
    dx = m.backward(G)

    rnn = to_torch(m.rnn)
    assert rnn.nonlinearity == "relu"
    xt = torch.tensor(x, requires_grad=True)
    _, h_n = rnn(xt)
    W = torch.nn.Parameter(torch.tensor(m.head.params["W"]))
    b = torch.nn.Parameter(torch.tensor(m.head.params["b"]))
    ref = h_n[-1] @ W.T + b
    (ref * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(logits, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(m.head.grads["W"], W.grad.numpy(), atol=1e-10)
    for key, grad in torch_state_dict(m.rnn, grads=True).items():
        np.testing.assert_allclose(grad, getattr(rnn, key).grad.numpy(), atol=1e-10)


def test_classifier_of_features_round_trips_and_names_bad_input(tmp_path):
    m = SequenceClassifier.for_features(8, 10, hidden_size=6, cell="irnn")
    m.save(tmp_path / "rows.npz")
    again = SequenceClassifier.from_checkpoint(tmp_path / "rows.npz")
    assert again.config == m.config and again.embed is None
    x = np.random.default_rng(0).random((8, 3, 8)).astype(np.float32)
    with rnnlab.no_grad():
        np.testing.assert_array_equal(m(x), again(x))
    assert "input_size=8" in repr(m)
    with pytest.raises(ValueError, match=r"x has size 5 in its last dimension, "):
        m(np.zeros((8, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"x must have 3 dimensions \(T, N, input"):
        m(np.zeros((8, 3), np.float32))
    with pytest.raises(ValueError, match="input_size must be a positive integer"):
        SequenceClassifier.for_features(0, 10)
    with pytest.raises(ValueError, match="give vocab_size .* or input_size"):
        SequenceClassifier(5, 2, input_size=3)
    with pytest.raises(TypeError, match="IRNN is a ReLU RNN"):
        rnnlab.nn.recurrent.IRNN(3, 4, nonlinearity="tanh")
