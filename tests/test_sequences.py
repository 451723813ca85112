"""Variable-length batches.

rnnlab.nn.sequences (check_lengths, lengths_to_mask, pad_sequences, Packing,
reverse_time), the masking invariants of RNN/LSTM/GRU given ``lengths`` (one and two
directions), bad ``lengths``, and the losses over padded batches. Equality with PyTorch
on packed sequences is in test_bidirectional.py (its matrix has unidirectional rows with
and without lengths).
"""

import numpy as np
import pytest

import rnnlab
from _helpers import to_np as _np
from rnnlab import GRU, LSTM, RNN
from rnnlab.nn.sequences import (
    Packing,
    check_lengths,
    lengths_to_mask,
    pad_sequences,
    reverse_time,
)

T, N, D, H = 7, 4, 3, 4
# unsorted, one equal to T, one of length 1; every other column has padding
LENGTHS = [3, 7, 1, 5]


def _tuple(states):
    return states if isinstance(states, tuple) else (states,)


def _pack(cls, parts):
    return None if parts is None else (tuple(parts) if cls is LSTM else parts[0])


def _real(lengths=LENGTHS, Tn=T):
    """(T, N, 1) bool: True on real steps."""
    return (np.arange(Tn)[:, None] < np.asarray(lengths)[None, :])[:, :, None]


MODELS = [
    (cls, bidirectional) for cls in (RNN, LSTM, GRU) for bidirectional in (False, True)
]
MODEL_IDS = [f"{cls.__name__}-{'bi' if b else 'uni'}" for cls, b in MODELS]


def _run(m, x, s0, lengths, g, gfinal, seed=0):
    """Forward and backward from zeroed gradients; everything back as NumPy copies."""
    cls = type(m)
    m.zero_grad()
    rnnlab.seed(seed)  # the same dropout masks on every call
    out, final = m(x, _pack(cls, s0), lengths)
    dx, d0 = m.backward(g, _pack(cls, gfinal))
    return dict(
        out=_np(out).copy(),
        final=[_np(f).copy() for f in _tuple(final)],
        dx=_np(dx).copy(),
        d0=[_np(a).copy() for a in _tuple(d0)],
        grads={k: _np(v).copy() for k, v in m.grads.items()},
    )


def _data(cls, bidirectional, num_layers, randn):
    K, ns = num_layers * (2 if bidirectional else 1), len(cls.state_names)
    x, g = randn(T, N, D), randn(T, N, (2 if bidirectional else 1) * H)
    return (
        x,
        g,
        [randn(K, N, H) for _ in range(ns)],
        [randn(K, N, H) for _ in range(ns)],
    )


def _assert_same(a, b):
    np.testing.assert_array_equal(a["out"], b["out"])
    np.testing.assert_array_equal(a["dx"], b["dx"])
    for u, v in zip(a["final"] + a["d0"], b["final"] + b["d0"]):
        np.testing.assert_array_equal(u, v)
    for k in a["grads"]:
        np.testing.assert_array_equal(a["grads"][k], b["grads"][k], err_msg=k)


# ------------------------------------------------------------------- masking invariants
@pytest.mark.parametrize("cls, bidirectional", MODELS, ids=MODEL_IDS)
def test_input_at_padded_positions_changes_nothing(
    xp, device, randn, on, rng, cls, bidirectional
):
    m = cls(
        D, H, num_layers=2, bidirectional=bidirectional, dropout=0.3, dtype=np.float64
    ).to(device)
    x, g, s0, gfinal = _data(cls, bidirectional, 2, randn)
    lengths = on(np.array(LENGTHS))
    ref = _run(m, x, s0, lengths, g, gfinal)
    # large values, padding only
    noise = on(50 * rng.standard_normal((T, N, D)) * ~_real())
    got = _run(m, x + noise, s0, lengths, g, gfinal)
    _assert_same(got, ref)
    assert not np.array_equal(_np(x + noise), _np(x))


@pytest.mark.parametrize("cls, bidirectional", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_outputs_and_input_gradients_are_exactly_zero_on_padding(
    xp, device, randn, on, cls, bidirectional, batch_first
):
    m = cls(
        D,
        H,
        num_layers=3,
        bidirectional=bidirectional,
        dropout=0.3,
        batch_first=batch_first,
        dtype=np.float64,
    ).to(device)
    x, g, s0, gfinal = _data(cls, bidirectional, 3, randn)
    tr = (lambda a: a.transpose(1, 0, 2).copy()) if batch_first else (lambda a: a)  # noqa: E731
    r = _run(m, tr(x), s0, on(np.array(LENGTHS)), tr(g), gfinal)
    out, dx = (
        (r["out"].transpose(1, 0, 2), r["dx"].transpose(1, 0, 2))
        if batch_first
        else (r["out"], r["dx"])
    )
    pad = ~_real()[:, :, 0]
    assert pad.any()
    assert (out[pad] == 0).all() and (dx[pad] == 0).all()
    assert (out[~pad] != 0).all() and (dx[~pad] != 0).all()  # and only there


@pytest.mark.parametrize("cls, bidirectional", MODELS, ids=MODEL_IDS)
def test_output_gradient_at_padded_positions_has_no_effect(
    xp, device, randn, on, rng, cls, bidirectional
):
    m = cls(D, H, num_layers=2, bidirectional=bidirectional, dtype=np.float64).to(
        device
    )
    x, g, s0, gfinal = _data(cls, bidirectional, 2, randn)
    lengths = on(np.array(LENGTHS))
    ref = _run(m, x, s0, lengths, g, gfinal)
    noise = on(rng.standard_normal(g.shape) * ~_real())
    _assert_same(_run(m, x, s0, lengths, g + noise, gfinal), ref)
    zeroed = _run(m, x, s0, lengths, g * on(_real().astype(np.float64)), gfinal)
    _assert_same(zeroed, ref)


@pytest.mark.parametrize("cls, bidirectional", MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_a_padded_batch_equals_each_sequence_alone(
    xp, device, randn, on, cls, bidirectional, batch_first
):
    L = 2
    m = cls(
        D,
        H,
        num_layers=L,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dtype=np.float64,
    ).to(device)
    x, g, s0, gfinal = _data(cls, bidirectional, L, randn)
    tr = (lambda a: a.transpose(1, 0, 2).copy()) if batch_first else (lambda a: a)  # noqa: E731
    batch = _run(m, tr(x), s0, on(np.array(LENGTHS)), tr(g), gfinal)
    summed = {k: np.zeros_like(v) for k, v in batch["grads"].items()}
    tol = dict(rtol=1e-12, atol=1e-13)
    for n, Ln in enumerate(LENGTHS):
        cut = lambda a: tr(a[:Ln, n : n + 1].copy())  # noqa: E731  the real part only, no lengths
        one = _run(
            m,
            cut(x),
            [s[:, n : n + 1] for s in s0],
            None,
            cut(g),
            [s[:, n : n + 1] for s in gfinal],
        )
        got_out, got_dx = (
            (batch["out"][n, :Ln], batch["dx"][n, :Ln])
            if batch_first
            else (batch["out"][:Ln, n], batch["dx"][:Ln, n])
        )
        want_out, want_dx = (
            (one["out"][0], one["dx"][0])
            if batch_first
            else (one["out"][:, 0], one["dx"][:, 0])
        )
        np.testing.assert_allclose(got_out, want_out, err_msg=f"output {n}", **tol)
        np.testing.assert_allclose(got_dx, want_dx, err_msg=f"dx {n}", **tol)
        for k, (u, v) in enumerate(
            zip(batch["final"] + batch["d0"], one["final"] + one["d0"])
        ):
            np.testing.assert_allclose(
                u[:, n], v[:, 0], err_msg=f"state {k}, sequence {n}", **tol
            )
        for k in summed:
            summed[k] += one["grads"][k]
    for k in summed:
        np.testing.assert_allclose(batch["grads"][k], summed[k], err_msg=k, **tol)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_full_lengths_equal_no_lengths(xp, device, randn, on, cls):
    m = cls(D, H, num_layers=2, bidirectional=True, dtype=np.float64).to(device)
    x, g, s0, gfinal = _data(cls, True, 2, randn)
    a = _run(m, x, s0, None, g, gfinal)
    b = _run(m, x, s0, on(np.full(N, T)), g, gfinal)
    for k in ("out", "dx"):
        np.testing.assert_allclose(b[k], a[k], rtol=1e-13, atol=1e-14)
    for u, v in zip(a["final"] + a["d0"], b["final"] + b["d0"]):
        np.testing.assert_allclose(v, u, rtol=1e-13, atol=1e-14)
    for k in a["grads"]:
        np.testing.assert_allclose(
            b["grads"][k], a["grads"][k], rtol=1e-12, atol=1e-13, err_msg=k
        )


# -------------------------------------------------------------------------- bad lengths
def _x(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_longer_than_T(cls, batch_first):
    m = cls(D, H, bidirectional=True, batch_first=batch_first)
    x = _x(3, 5, D) if batch_first else _x(5, 3, D)  # T = 5, N = 3 either way
    m(x, None, [5, 1, 5])  # at most T is fine
    with pytest.raises(
        ValueError,
        match=r"\blengths\b must lie in \[1, 5\] \(T = 5 steps\), "
        r"got values in \[1, 6\]",
    ):
        m(x, None, [5, 1, 6])


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("bad", [0, -2])
def test_lengths_zero_or_negative(cls, bad):
    want = (
        rf"\blengths\b must lie in \[1, 5\] \(T = 5 steps\), got values in \[{bad}, 4\]"
    )
    with pytest.raises(ValueError, match=want):
        cls(D, H)(_x(5, 3, D), None, np.array([4, bad, 2]))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize(
    "lengths, shape",
    [
        ([4, 2], r"\(2,\)"),
        ([4, 2, 3, 1], r"\(4,\)"),
        ([[4], [2], [3]], r"\(3, 1\)"),
        (4, r"\(\)"),
    ],
)
def test_lengths_wrong_shape(cls, lengths, shape):
    with pytest.raises(
        ValueError, match=rf"\blengths\b has shape {shape}, expected \(3,\)"
    ):
        cls(D, H)(_x(5, 3, D), None, lengths)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize(
    "lengths, dtype",
    [
        ([4.0, 2.0, 3.0], "float64"),
        (np.array([4, 2, 3], np.float32), "float32"),
        ([True, True, True], "bool"),
    ],
)
def test_lengths_not_integers(cls, lengths, dtype):
    with pytest.raises(
        TypeError, match=rf"\blengths\b must hold integers, got dtype {dtype}"
    ):
        cls(D, H)(_x(5, 3, D), None, lengths)


# ------------------------------------------------------------------ rnnlab.nn.sequences
@pytest.mark.parametrize(
    "lengths",
    [
        [3, 1, 2],
        (2, 3, 1),
        np.array([1, 2, 3]),
        np.array([3, 3, 1], np.int32),
        np.array([2, 1, 3], np.uint8),
    ],
    ids=["list", "tuple", "sorted", "int32", "uint8"],
)
def test_check_lengths_accepts_lists_and_arrays_in_any_order(lengths):
    got = check_lengths(lengths, 3, 3)
    assert isinstance(got, np.ndarray) and got.dtype == np.int64
    np.testing.assert_array_equal(got, np.asarray(lengths))


def test_check_lengths_errors_name_lengths():
    with pytest.raises(
        ValueError, match=r"\blengths\b has shape \(2,\), expected \(3,\)"
    ):
        check_lengths([1, 2], 3, 3)
    with pytest.raises(ValueError, match=r"\blengths\b must lie in \[1, 3\]"):
        check_lengths([1, 4, 2], 3, 3)
    with pytest.raises(TypeError, match=r"\blengths\b must hold integers"):
        check_lengths([1.5, 2, 3], 3, 3)


def test_check_lengths_on_the_device(xp, on):
    got = check_lengths(on(np.array([2, 3, 1])), 3, 3)
    assert isinstance(got, np.ndarray)  # always back on the CPU
    np.testing.assert_array_equal(got, [2, 3, 1])


def test_lengths_to_mask_both_layouts(xp):
    lengths = [3, 1, 2, 4]
    want = np.arange(4)[:, None] < np.array(lengths)[None, :]
    mask = lengths_to_mask(lengths, xp=xp)
    assert mask.shape == (4, 4) and mask.dtype == bool
    np.testing.assert_array_equal(_np(mask), want)
    np.testing.assert_array_equal(
        _np(lengths_to_mask(np.array(lengths), batch_first=True, xp=xp)), want.T
    )
    # T beyond the longest: all-padding steps
    long = lengths_to_mask(lengths, T=6, xp=xp)
    assert long.shape == (6, 4) and not _np(long)[4:].any()
    np.testing.assert_array_equal(_np(long)[:4], want)
    assert _np(lengths_to_mask(lengths, T=6, batch_first=True, xp=xp)).shape == (4, 6)
    assert rnnlab.backend.array_module(mask) is xp
    np.testing.assert_array_equal(
        _np(lengths_to_mask([2, 1])), [[True, True], [True, False]]
    )
    assert type(lengths_to_mask([2, 1])) is np.ndarray  # NumPy by default


def test_pad_sequences_values_lengths_and_layouts(xp, on):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2, 3)) for n in (2, 4, 1)]  # trailing shape (2, 3)
    padded, lengths = pad_sequences([on(s) for s in seqs])
    assert padded.shape == (4, 3, 2, 3) and padded.dtype == np.float64
    assert rnnlab.backend.array_module(padded) is xp
    assert isinstance(lengths, np.ndarray) and lengths.dtype == np.int64
    np.testing.assert_array_equal(lengths, [2, 4, 1])
    p = _np(padded)
    for n, s in enumerate(seqs):
        np.testing.assert_array_equal(p[: len(s), n], s)
        assert (p[len(s) :, n] == 0).all()
    bf, lengths_bf = pad_sequences(
        [on(s) for s in seqs], padding_value=-7.5, batch_first=True
    )
    assert bf.shape == (3, 4, 2, 3)
    np.testing.assert_array_equal(lengths_bf, lengths)
    b = _np(bf)
    for n, s in enumerate(seqs):
        np.testing.assert_array_equal(b[n, : len(s)], s)
        assert (b[n, len(s) :] == -7.5).all()
    # lists of steps, any dtype
    ints, _ = pad_sequences([np.array([1, 2]), np.array([3])], padding_value=-1)
    np.testing.assert_array_equal(ints, [[1, 3], [2, -1]])
    assert ints.dtype == np.array([1]).dtype


def test_pad_sequences_feeds_a_layer_like_its_parts(xp, device, on):
    # the padded batch and lengths are what a layer takes; sequence n of the output is
    # sequence n alone
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, D)) for n in (3, 5, 2)]
    m = GRU(D, H, bidirectional=True, batch_first=True, dtype=np.float64).to(device)
    padded, lengths = pad_sequences([on(s) for s in seqs], batch_first=True)
    out, _ = m(padded, None, lengths)
    for n, s in enumerate(seqs):
        alone, _ = m(on(s[None]))
        np.testing.assert_allclose(
            _np(out)[n, : len(s)], _np(alone)[0], rtol=1e-12, atol=1e-13
        )
        assert (_np(out)[n, len(s) :] == 0).all()


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match=r"\bseqs\b is empty"):
        pad_sequences([])
    with pytest.raises(ValueError, match=r"seqs\[1\] is empty \(shape \(0, 2\)\)"):
        pad_sequences([np.ones((2, 2)), np.ones((0, 2))])
    with pytest.raises(
        ValueError,
        match=r"seqs\[2\] has shape \(1, 3\): its trailing shape \(3,\) differs from "
        r"seqs\[0\]'s \(2,\)",
    ):
        pad_sequences([np.ones((2, 2)), np.ones((3, 2)), np.ones((1, 3))])


def test_packing_reverse_twice_is_the_identity_and_reverses_each_real_part(xp, on):
    lengths = [3, 6, 1, 4]
    Tn, Nn = 6, 4
    p = Packing(lengths, Tn, Nn, xp, np.float64)
    a = on(np.random.default_rng(0).standard_normal((Tn, Nn, 2)))
    r = p.reverse(a)
    assert r.shape == a.shape
    np.testing.assert_array_equal(_np(p.reverse(r)), _np(a))
    an, rn = _np(a), _np(r)
    for n, Ln in enumerate(lengths):
        # the real part, backwards
        np.testing.assert_array_equal(rn[:Ln, n], an[:Ln, n][::-1])
        # padding stays where it is
        np.testing.assert_array_equal(rn[Ln:, n], an[Ln:, n])
    np.testing.assert_array_equal(_np(reverse_time(a, p)), rn)
    np.testing.assert_array_equal(_np(reverse_time(a, None)), an[::-1])
    # the masks a layer uses
    assert (
        p.frozen.shape == (Tn, Nn, 1)
        and p.active.shape == (Tn, Nn, 1)
        and p.active.dtype == np.float64
    )
    np.testing.assert_array_equal(_np(p.frozen)[:, :, 0], ~_real(lengths, Tn)[:, :, 0])
    np.testing.assert_array_equal(_np(p.active), _real(lengths, Tn).astype(np.float64))


def test_packing_rejects_bad_lengths(xp):
    with pytest.raises(ValueError, match=r"\blengths\b must lie in \[1, 4\]"):
        Packing([5, 1], 4, 2, xp, np.float32)


# ----------------------------------------------------------- losses over padded batches
def test_cross_entropy_with_mask_equals_torch_ignore_index(xp, on, torch):
    rng = np.random.default_rng(0)
    lengths, V = [3, 7, 1, 5], 5
    real = _real(lengths)[:, :, 0]
    logits = rng.standard_normal((T, N, V))
    targets = rng.integers(0, V, (T, N))
    targets_t = np.where(real, targets, -100)  # torch's ignore_index on padding

    lt = torch.tensor(logits, requires_grad=True)
    want = torch.nn.functional.cross_entropy(
        lt.reshape(-1, V), torch.tensor(targets_t).reshape(-1), ignore_index=-100
    )
    want.backward()

    loss, d = rnnlab.cross_entropy(on(logits), on(targets), mask=on(real))
    assert d.shape == logits.shape
    np.testing.assert_allclose(loss, want.item(), rtol=1e-12)
    np.testing.assert_allclose(_np(d), lt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert (_np(d)[~real] == 0).all()
    # the mean over real tokens only: the sum of per-token losses divided by their count
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_token = -np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    np.testing.assert_allclose(loss, per_token[real].sum() / real.sum(), rtol=1e-12)
    # ignore_index gives the same (padding targets may be out of range)
    loss2, d2 = rnnlab.cross_entropy(on(logits), on(targets_t), ignore_index=-100)
    np.testing.assert_allclose(loss2, loss, rtol=1e-14)
    np.testing.assert_allclose(_np(d2), _np(d), rtol=1e-14, atol=1e-17)
    # float masks work like boolean ones
    loss3, _ = rnnlab.cross_entropy(
        on(logits), on(targets), mask=on(real.astype(np.float32))
    )
    np.testing.assert_allclose(loss3, loss, rtol=1e-14)


def test_mse_with_a_time_step_mask(xp, on, torch):
    rng = np.random.default_rng(1)
    lengths, F = [3, 7, 1, 5], 2
    real = _real(lengths)[:, :, 0]
    pred, target = rng.standard_normal((T, N, F)), rng.standard_normal((T, N, F))
    loss, d = rnnlab.mse(on(pred), on(target), mask=on(real))
    pt = torch.tensor(pred, requires_grad=True)
    keep = torch.tensor(real)
    # the mean over real entries
    want = torch.nn.functional.mse_loss(pt[keep], torch.tensor(target)[keep])
    want.backward()
    np.testing.assert_allclose(loss, want.item(), rtol=1e-12)
    np.testing.assert_allclose(_np(d), pt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert (_np(d)[~real] == 0).all()
    # a full (T, N, F) mask is the same
    loss_full, d_full = rnnlab.mse(
        on(pred),
        on(target),
        mask=on(np.broadcast_to(real[..., None], pred.shape).copy()),
    )
    np.testing.assert_allclose(loss_full, loss, rtol=1e-14)
    np.testing.assert_allclose(_np(d_full), _np(d), rtol=1e-14)


def test_a_layer_trained_with_masked_losses_ignores_padding(xp, device, on):
    # The whole path: padded batch -> bidirectional LSTM -> masked cross-entropy ->
    # backward. Changing the padding (inputs and targets) changes neither the loss nor
    # any gradient.
    rng = np.random.default_rng(2)
    V = 3
    m = LSTM(D, H, bidirectional=True, num_layers=2, dtype=np.float64).to(device)
    head = rnnlab.Linear(2 * H, V, dtype=np.float64).to(device)
    x = rng.standard_normal((T, N, D))
    y = rng.integers(0, V, (T, N))
    real = _real()[:, :, 0]

    def run(x, y):
        m.zero_grad()
        head.zero_grad()
        out, _ = m(on(x), None, LENGTHS)
        loss, d = rnnlab.cross_entropy(head(out), on(y), mask=on(real))
        m.backward(head.backward(d))
        return loss, {
            k: _np(v).copy()
            for k, v in list(m.grads.items()) + list(head.grads.items())
        }

    loss, grads = run(x, y)
    loss2, grads2 = run(
        np.where(real[..., None], x, 9.0), np.where(real, y, (y + 1) % V)
    )
    assert loss2 == loss
    for k in grads:
        np.testing.assert_array_equal(grads2[k], grads[k], err_msg=k)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("record", [False, True])
def test_layer_functions_are_exact_gradients_on_padded_steps(cell, record):
    # The layer functions alone, without the module's masking of d_output: at a frozen
    # step the output is the carried state, so its gradient must reach h_{t-1} as well.
    from rnnlab.gradcheck import numerical_gradient, relative_error
    from rnnlab.nn.recurrent import gru, lstm, rnn

    g = np.random.default_rng(3)
    T, N, D, H = 5, 3, 2, 3
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    frozen = (np.arange(T)[:, None] >= np.array([5, 2, 3])[None, :])[:, :, None]
    x, h0, c0 = (
        g.standard_normal((T, N, D)),
        g.standard_normal((N, H)),
        g.normal(size=(N, H)),
    )
    W_xh, W_hh = (
        0.5 * g.standard_normal((G * H, D)),
        0.5 * g.standard_normal((G * H, H)),
    )
    b, b_hn = g.standard_normal(G * H), g.standard_normal(H)
    dout, dh_n, dc_n = (g.standard_normal(s) for s in [(T, N, H), (N, H), (N, H)])

    def forward():
        if cell == "rnn":
            hs = rnn.rnn_layer_forward(x, h0, W_xh, W_hh, b, "tanh", frozen)
            return hs, (hs,), (hs[-1] * dh_n).sum()
        if cell == "lstm":
            hs, cs, gates, tanh_cs = lstm.lstm_layer_forward(
                x, h0, c0, W_xh, W_hh, b, frozen
            )
            extra = (hs[-1] * dh_n).sum() + (cs[-1] * dc_n).sum()
            return hs, (hs, cs, gates, tanh_cs), extra
        hs, gates, hns = gru.gru_layer_forward(x, h0, W_xh, W_hh, b, b_hn, frozen)
        return hs, (hs, gates, hns), (hs[-1] * dh_n).sum()

    def loss():
        hs, _, extra = forward()
        return float((hs[1:] * dout).sum() + extra)

    _, cache, _ = forward()
    rec = np.empty((T, N, H)) if record else None
    if cell == "rnn":
        dx, dh0, dW_xh, dW_hh, _ = rnn.rnn_layer_backward(
            dout, dh_n, x, *cache, W_xh, W_hh, "tanh", rec, frozen
        )
    elif cell == "lstm":
        dx, dh0, _, dW_xh, dW_hh, _ = lstm.lstm_layer_backward(
            dout, dh_n, dc_n, x, *cache, W_xh, W_hh, rec, frozen
        )
    else:
        dx, dh0, dW_xh, dW_hh, _, _ = gru.gru_layer_backward(
            dout, dh_n, x, *cache, W_xh, W_hh, rec, frozen
        )
    for name, a, analytic in [
        ("x", x, dx),
        ("h0", h0, dh0),
        ("W_xh", W_xh, dW_xh),
        ("W_hh", W_hh, dW_hh),
    ]:
        assert relative_error(numerical_gradient(loss, a), analytic) < 1e-7, name
