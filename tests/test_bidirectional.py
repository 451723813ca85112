"""Bidirectional RNN, LSTM and GRU, and variable-length batches through them.

Equality with PyTorch (with and without ``lengths``), the output and final-state
layout, finite-difference gradients, dropout between layers, ``record_state_grads``,
interop, bad input and a task only a model that reads backwards can solve.

With ``lengths`` the reference is PyTorch on
``pack_padded_sequence(..., enforce_sorted=False)`` unpacked with
``pad_packed_sequence(..., total_length=T)``. The unidirectional rows of the PyTorch
matrix are the control: the same code path without the reverse direction.
"""

import itertools

import numpy as np
import pytest

import rnnlab
from _helpers import close as _close, to_np as _np
from rnnlab import GRU, LSTM, RNN, Linear, assert_gradients_close, check_module, interop

T, N, D, H = 5, 3, 3, 4


def _tuple(states):
    """Final states (or their gradients) as a tuple.

    ``(h,)`` for RNN/GRU, ``(h, c)`` for the LSTM.
    """
    return states if isinstance(states, tuple) else (states,)


def _pack(cls, parts):
    """The inverse of :func:`_tuple`: what ``forward``/``backward`` take for ``cls``."""
    return None if parts is None else (tuple(parts) if cls is LSTM else parts[0])


# ---------------------------------------------------------------------- against PyTorch
KINDS = {
    "rnn_tanh": (RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
}
TT, NT = 6, 4  # the PyTorch comparisons' T and N
LENGTHS = {
    "none": None,
    "full": [3, 6, 1, 5],  # unsorted, one equal to T, one of length 1
    # T = 6 larger than every length (trailing all-padding steps), ties
    "short": [2, 4, 1, 4],
}


def _torch_class(torch, cls):
    return {RNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}[cls]


def _torch_reference(torch, tm, x, states0, lengths, gout, gfinal):
    """Outputs and gradients of a torch.nn RNN/LSTM/GRU.

    For L = <out, gout> + sum_k <final_k, gfinal_k>, on a packed batch when ``lengths``
    is given.
    """
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    xt = torch.tensor(x, requires_grad=True)
    s0 = [torch.tensor(s, requires_grad=True) for s in states0]
    inp = xt
    if lengths is not None:
        inp = pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=tm.batch_first, enforce_sorted=False
        )
    out, final = tm(inp, s0[0] if len(s0) == 1 else tuple(s0))
    if lengths is not None:
        out, _ = pad_packed_sequence(
            out,
            batch_first=tm.batch_first,
            total_length=x.shape[1 if tm.batch_first else 0],
        )
    final = final if isinstance(final, tuple) else (final,)
    loss = (out * torch.tensor(gout)).sum()
    for f, g in zip(final, gfinal):
        if g is not None:
            loss = loss + (f * torch.tensor(g)).sum()
    tm.zero_grad()
    loss.backward()
    d = lambda a: a.detach().numpy()  # noqa: E731
    want = dict(out=d(out), dx=d(xt.grad))
    want.update({f"final{k}": d(f) for k, f in enumerate(final)})
    want.update({f"d0_{k}": d(s.grad) for k, s in enumerate(s0)})
    return want, {k: p.grad.numpy() for k, p in tm.named_parameters()}


def _compare_with_torch(torch, tm, m, device, dtype, lengths, with_hx, with_dhx, seed):
    """Run ``tm`` and ``m`` (same weights) on the same data.

    Compare every output and gradient.
    """
    K, H_, Dn = m.num_layers * m.num_directions, m.hidden_size, m.input_size
    cls = type(m)
    ns = len(cls.state_names)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((NT, TT, Dn) if m.batch_first else (TT, NT, Dn)).astype(
        dtype
    )
    oshape = (
        (NT, TT, m.num_directions * H_)
        if m.batch_first
        else (TT, NT, m.num_directions * H_)
    )
    gout = rng.standard_normal(oshape).astype(dtype)
    states0 = [
        rng.standard_normal((K, NT, H_)).astype(dtype)
        if with_hx
        else np.zeros((K, NT, H_), dtype)
        for _ in range(ns)
    ]
    gfinal = [
        rng.standard_normal((K, NT, H_)).astype(dtype) if with_dhx else None
        for _ in range(ns)
    ]
    # torch gets explicit zero states where rnnlab gets None: the same function, and it
    # gives d states0
    want, grads_t = _torch_reference(torch, tm, x, states0, lengths, gout, gfinal)

    on = lambda a: None if a is None else rnnlab.to_device(a, device)  # noqa: E731
    m.zero_grad()
    out, final = m(
        on(x),
        _pack(cls, [on(s) for s in states0]) if with_hx else None,
        None if lengths is None else on(np.array(lengths)),
    )
    dx, d0 = m.backward(
        on(gout), _pack(cls, [on(g) for g in gfinal]) if with_dhx else None
    )
    got = dict(out=out, dx=dx)
    got.update({f"final{k}": f for k, f in enumerate(_tuple(final))})
    got.update({f"d0_{k}": g for k, g in enumerate(_tuple(d0))})
    assert set(got) == set(want)
    check = _close(dtype)
    for k in want:
        assert got[k].dtype == dtype and got[k].shape == want[k].shape, k
        check(_np(got[k]), want[k], k)
    grads = interop.torch_state_dict(m, grads=True)
    # PyTorch's keys and order, `_reverse` ones included
    assert list(grads) == list(grads_t)
    for k in grads_t:
        assert grads[k].dtype == dtype, k
        check(grads[k], grads_t[k], k)


def _torch_cases():
    """Cases for every architecture, direction and kind of lengths.

    Depths 1-3 in float64 and one float32 row. The flags (batch_first, initial states,
    final-state gradients) are the bits of a pattern; each group holds a pattern and its
    complement, so every flag takes both values with every kind of lengths.
    """
    # the last pattern of each kind: the float32 row's
    patterns = {
        "none": (0b000, 0b111, 0b101, 0b010),
        "full": (0b110, 0b001, 0b111, 0b011),
        "short": (0b011, 0b100, 0b000, 0b101),
    }
    cases = []
    for i, (kind, bidirectional) in enumerate(itertools.product(KINDS, [True, False])):
        for j, lengths in enumerate(LENGTHS):
            for k, bits in enumerate(patterns[lengths]):
                # a different assignment for each architecture and direction
                bits ^= i % 8
                num_layers, dtype = (
                    (k + 1, "float64") if k < 3 else (1 + (i + j) % 3, "float32")
                )
                cases.append(
                    (
                        kind,
                        bidirectional,
                        lengths,
                        num_layers,
                        bool(bits & 1),
                        bool(bits & 2),
                        bool(bits & 4),
                        dtype,
                    )
                )
    return cases


TORCH_CASES = _torch_cases()


def _case_id(case):
    kind, bidirectional, lengths, num_layers, batch_first, with_hx, with_dhx, dtype = (
        case
    )
    return "-".join(
        [
            kind,
            "bi" if bidirectional else "uni",
            f"len_{lengths}",
            f"L{num_layers}",
            "bf" if batch_first else "tf",
            "hx" if with_hx else "nohx",
            "dhx" if with_dhx else "nodhx",
            dtype,
        ]
    )


@pytest.mark.parametrize("case", TORCH_CASES, ids=[_case_id(c) for c in TORCH_CASES])
def test_equals_torch(xp, device, torch, case):
    kind, bidirectional, lengths, num_layers, batch_first, with_hx, with_dhx, dtype = (
        case
    )
    cls, extra = KINDS[kind]
    dtype = np.dtype(dtype)
    torch.manual_seed(10 * num_layers + len(kind))
    tm = _torch_class(torch, cls)(
        D,
        H,
        num_layers=num_layers,
        batch_first=batch_first,
        bidirectional=bidirectional,
        dtype=getattr(torch, dtype.name),
        **extra,
    )
    m = interop.from_torch(tm).to(device)
    assert (
        type(m) is cls
        and m.bidirectional == bidirectional
        and m.num_directions == (2 if bidirectional else 1)
    )
    assert (
        m.dtype == dtype and m.batch_first == batch_first and m.num_layers == num_layers
    )
    if cls is RNN:
        assert m.nonlinearity == extra["nonlinearity"]
    _compare_with_torch(
        torch,
        tm,
        m,
        device,
        dtype,
        LENGTHS[lengths],
        with_hx,
        with_dhx,
        seed=num_layers,
    )


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("lengths", ["none", "full"])
def test_equals_torch_in_eval_mode_with_dropout(xp, device, torch, cls, lengths):
    torch.manual_seed(3)
    tm = _torch_class(torch, cls)(
        D, H, num_layers=3, dropout=0.4, bidirectional=True, dtype=torch.float64
    ).eval()
    m = interop.from_torch(tm).to(device)
    assert not m.training and m.dropout == 0.4 and m.bidirectional
    _compare_with_torch(
        torch, tm, m, device, np.float64, LENGTHS[lengths], True, True, seed=5
    )


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_equals_torch_without_bias(xp, device, torch, cls):
    torch.manual_seed(4)
    tm = _torch_class(torch, cls)(
        D, H, num_layers=2, bias=False, bidirectional=True, dtype=torch.float64
    )
    m = interop.from_torch(tm).to(device)
    assert set(m.params) == {
        f"{w}_{k}"
        for w in ("W_xh", "W_hh")
        for k in ("l0", "l0_reverse", "l1", "l1_reverse")
    }
    _compare_with_torch(
        torch, tm, m, device, np.float64, LENGTHS["full"], True, True, seed=6
    )


# --------------------------------------------------------------------------- interop
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_to_torch_round_trip_bidirectional(xp, device, torch, cls, dtype):
    rnnlab.seed(7)
    m = cls(D, H, num_layers=2, bidirectional=True, batch_first=True, dtype=dtype)
    # make b_hn (GRU) nonzero and distinct from the rest, so a mix-up shows
    for k in m.params:
        m.params[k] += (
            0.01
            * np.arange(m.params[k].size, dtype=dtype).reshape(m.params[k].shape)
            / m.params[k].size
        )
    tm = interop.to_torch(m)
    assert (
        isinstance(tm, _torch_class(torch, cls))
        and tm.bidirectional
        and tm.batch_first
        and tm.num_layers == 2
    )
    native = _torch_class(torch, cls)(
        D, H, num_layers=2, bidirectional=True
    ).state_dict()
    sd = tm.state_dict()
    # the same keys in the same order, `_reverse` ones included
    assert list(sd) == list(native)
    assert any(k.endswith("_reverse") for k in sd)
    for k in native:
        assert tuple(sd[k].shape) == tuple(native[k].shape), k
    back = interop.from_torch(tm)
    assert (
        type(back) is cls and back.bidirectional and list(back.params) == list(m.params)
    )
    for k, p in m.params.items():
        # bit-identical
        assert (
            back.params[k].dtype == p.dtype and back.params[k].tobytes() == p.tobytes()
        ), k
    # and the torch module computes the same function, gradients included
    _compare_with_torch(
        torch, tm, m.to(device), device, dtype, LENGTHS["full"], True, True, seed=8
    )


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_torch_state_dict_keys_bidirectional(torch, cls):
    m = cls(D, H, num_layers=3, bidirectional=True)
    assert m.layer_keys == ["l0", "l0_reverse", "l1", "l1_reverse", "l2", "l2_reverse"]
    theirs = _torch_class(torch, cls)(
        D, H, num_layers=3, bidirectional=True
    ).state_dict()
    for grads in (False, True):
        ours = interop.torch_state_dict(m, grads=grads)
        assert list(ours) == list(theirs)
        for k in theirs:
            assert ours[k].shape == tuple(theirs[k].shape), k
    # layers above the first read both directions: 2H inputs
    assert m.params["W_xh_l1"].shape[1] == m.params["W_xh_l2_reverse"].shape[1] == 2 * H
    assert m.params["W_xh_l0_reverse"].shape[1] == D


# --------------------------------------------------------------------------- layout
def _one_direction(m, l, d, device):
    """A unidirectional single-layer module holding one direction of one layer of ``m``.

    The weights of layer ``l``, direction ``d``.
    """
    cls = type(m)
    extra = {"nonlinearity": m.nonlinearity} if cls is RNN else {}
    in_size = m.input_size if l == 0 else m.num_directions * m.hidden_size
    u = cls(in_size, m.hidden_size, bias=m.bias, dtype=m.dtype, **extra)
    key = f"l{l}" + ("_reverse" if d else "")
    u.load_state_dict({k: _np(m.params[k.replace("l0", key)]) for k in u.params})
    return u.to(device)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_layout_forward_first_then_reverse_and_final_states_by_layer_and_direction(
    xp, device, randn, cls
):
    # Rebuild a 2-layer bidirectional model from four unidirectional ones: the forward
    # one on x, the reverse one on x[::-1] (its output flipped back), the layer above
    # reading [forward, reverse].
    L = 2
    m = cls(D, H, num_layers=L, bidirectional=True, dtype=np.float64).to(device)
    ns = len(cls.state_names)
    x = randn(T, N, D)
    s0 = [randn(2 * L, N, H) for _ in range(ns)]
    out, final = m(x, _pack(cls, s0))
    final = _tuple(final)
    assert out.shape == (T, N, 2 * H) and all(f.shape == (2 * L, N, H) for f in final)
    inp = x
    for l in range(L):
        outs = []
        for d in range(2):
            k = 2 * l + d  # h_n index: layer * num_directions + direction
            u = _one_direction(m, l, d, device)
            o, f = u(
                inp if d == 0 else inp[::-1].copy(),
                _pack(cls, [s[k : k + 1] for s in s0]),
            )
            outs.append(o if d == 0 else o[::-1])
            for got, want in zip(final, _tuple(f)):
                np.testing.assert_allclose(
                    _np(got[k]), _np(want[0]), rtol=1e-13, atol=1e-14
                )
        inp = xp.concatenate(outs, axis=-1)
    np.testing.assert_allclose(_np(out), _np(inp), rtol=1e-13, atol=1e-14)
    # forward first
    np.testing.assert_allclose(_np(out[..., :H]), _np(outs[0]), rtol=1e-13, atol=1e-14)
    # then reverse
    np.testing.assert_allclose(_np(out[..., H:]), _np(outs[1]), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [None, [3, 5, 1]])
def test_final_states_are_the_outputs_at_each_directions_last_step(
    xp, device, randn, on, cls, batch_first, lengths
):
    m = cls(
        D,
        H,
        num_layers=2,
        bidirectional=True,
        batch_first=batch_first,
        dtype=np.float64,
    ).to(device)
    x = randn(N, T, D) if batch_first else randn(T, N, D)
    out, final = m(x, None, None if lengths is None else on(lengths))
    h_n = _np(_tuple(final)[0])
    out = _np(out)
    out = out.transpose(1, 0, 2) if batch_first else out  # time-major from here
    ends = [T] * N if lengths is None else lengths
    for n, Ln in enumerate(ends):
        # the top layer: forward direction (index 2) ends at step Ln - 1, the reverse
        # one (3) at step 0
        np.testing.assert_array_equal(h_n[2, n], out[Ln - 1, n, :H])
        np.testing.assert_array_equal(h_n[3, n], out[0, n, H:])
    assert not np.allclose(h_n[2], h_n[3])


# ------------------------------------------------------------------- finite differences
GRAD_CASES = [
    # cls, extra, num_layers, batch_first, with_hx, dropout
    (RNN, {"nonlinearity": "tanh"}, 2, False, True, 0.5),
    (RNN, {"nonlinearity": "relu"}, 3, True, False, 0.3),
    (LSTM, {}, 2, True, True, 0.4),
    (LSTM, {}, 3, False, False, 0.3),
    (GRU, {}, 2, False, True, 0.5),
    (GRU, {}, 3, True, True, 0.25),
]


@pytest.mark.parametrize(
    "cls, extra, num_layers, batch_first, with_hx, dropout",
    GRAD_CASES,
    ids=[f"{c[0].__name__}{c[1].get('nonlinearity', '')}-L{c[2]}" for c in GRAD_CASES],
)
def test_gradients_by_finite_differences(
    xp, device, rng, on, cls, extra, num_layers, batch_first, with_hx, dropout
):
    Tg, Ng, Dg, Hg = 4, 3, 2, 2  # every entry is perturbed twice: keep the arrays small
    m = cls(
        Dg,
        Hg,
        num_layers=num_layers,
        batch_first=batch_first,
        dropout=dropout,
        bidirectional=True,
        dtype=np.float64,
        **extra,
    ).to(device)
    assert m.training  # dropout masks are live; check_module reseeds so they stay fixed
    x = on(rng.standard_normal((Ng, Tg, Dg) if batch_first else (Tg, Ng, Dg)))
    ns = len(cls.state_names)
    hx = (
        _pack(
            cls, [on(rng.standard_normal((2 * num_layers, Ng, Hg))) for _ in range(ns)]
        )
        if with_hx
        else None
    )
    lengths = on(np.array([2, 4, 1]))  # unsorted, one full, one of length 1
    # lengths: forward's third argument, not differentiated
    errors = check_module(m, x, hx, lengths)
    inputs = {"input 0"} | (
        {f"input {k}" for k in range(1, ns + 1)} if with_hx else set()
    )
    assert set(errors) == {f"param {k}" for k in m.params} | inputs
    assert any(k.endswith("_reverse") for k in m.params)
    assert_gradients_close(errors, tol=1e-6)


# --------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_dropout_is_live_in_training_and_off_in_eval(xp, device, randn, on, cls):
    m = cls(D, H, num_layers=3, dropout=0.5, bidirectional=True, dtype=np.float64).to(
        device
    )
    ref = cls(D, H, num_layers=3, bidirectional=True, dtype=np.float64).to(device)
    ref.load_state_dict(m.state_dict())
    x, g = randn(T, N, D), randn(T, N, 2 * H)
    lengths = on(np.array([4, 5, 2]))
    real = (np.arange(T)[:, None] < np.array([4, 5, 2])[None, :])[:, :, None]

    def run(module):
        module.zero_grad()
        out, final = module(x, None, lengths)
        dx, d0 = module.backward(g)
        return [
            _np(out),
            *(_np(f) for f in _tuple(final)),
            _np(dx),
            *(_np(a) for a in _tuple(d0)),
        ], {k: _np(v).copy() for k, v in module.grads.items()}

    want, want_grads = run(ref)
    got, got_grads = run(m)  # training mode
    assert not np.allclose(got[0], want[0])  # dropout changes the output
    # got: out, ns final states, dx, ns initial-state gradients
    ns = len(cls.state_names)
    assert not np.allclose(got[1 + ns], want[1 + ns])  # and dx (through the same masks)
    # padding still outputs exact zeros
    np.testing.assert_array_equal(got[0] * ~real, 0)
    for f_got, f_want in zip(got[1 : 1 + ns], want[1 : 1 + ns]):
        # layer 0, both directions: before any dropout
        np.testing.assert_array_equal(f_got[:2], f_want[:2])
        assert not np.allclose(f_got[2:], f_want[2:])
    again, _ = run(m)
    assert not np.array_equal(again[0], got[0])  # a fresh mask every forward
    m.eval()
    got, got_grads = run(m)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    for k in want_grads:
        np.testing.assert_array_equal(got_grads[k], want_grads[k], err_msg=k)


# ------------------------------------------------------------------- record_state_grads
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_record_state_grads_shapes_and_last_real_step(xp, device, randn, on, cls):
    lengths = [3, 5, 1]
    m = cls(
        D, H, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64
    ).to(device)
    m.record_state_grads = True
    out, _ = m(randn(N, T, D), None, on(lengths))
    g = randn(N, T, 2 * H)
    m.backward(g)  # no final-state gradient
    rec = m.state_grads
    assert isinstance(rec, list) and len(rec) == 4  # layers * directions
    assert all(r.shape == (T, N, H) for r in rec)  # time-major even with batch_first
    g = _np(g)
    for n, Ln in enumerate(lengths):
        # top layer: dL/dh_t at each direction's last real step is the output gradient
        # there, nothing more
        np.testing.assert_array_equal(_np(rec[2][Ln - 1, n]), g[n, Ln - 1, :H])
        np.testing.assert_array_equal(_np(rec[3][0, n]), g[n, 0, H:])


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_record_state_grads_are_time_ordered_per_direction(xp, device, randn, on, cls):
    # A one-layer bidirectional model over a padded batch records, in each direction,
    # what a unidirectional model with that direction's weights records on each sequence
    # alone (the reverse one fed the reversed sequence, its record flipped back to the
    # original time order).
    lengths = [4, 5, 2]
    ns = len(cls.state_names)
    m = cls(D, H, bidirectional=True, dtype=np.float64).to(device)
    m.record_state_grads = True
    x, g = randn(T, N, D), randn(T, N, 2 * H)
    dfinal = [randn(2, N, H) for _ in range(ns)]
    m(x, None, on(lengths))
    m.backward(g, _pack(cls, dfinal))
    rec = [_np(r) for r in m.state_grads]
    for d in range(2):
        u = _one_direction(m, 0, d, device)
        u.record_state_grads = True
        for n, Ln in enumerate(lengths):
            xs, gs = x[:Ln, n : n + 1], g[:Ln, n : n + 1, d * H : (d + 1) * H]
            if d:
                xs, gs = xs[::-1].copy(), gs[::-1].copy()
            u(xs)
            u.backward(gs, _pack(cls, [f[d : d + 1, n : n + 1] for f in dfinal]))
            want = _np(u.state_grads[0])[:, 0]
            want = want[::-1] if d else want
            np.testing.assert_allclose(
                rec[d][:Ln, n], want, rtol=1e-12, atol=1e-13, err_msg=f"direction {d}"
            )


# --------------------------------------------------------------------------- bad input
def _x(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


@pytest.mark.parametrize(
    "cls, which", [(RNN, "h0"), (GRU, "h0"), (LSTM, "h0"), (LSTM, "c0")]
)
def test_wrong_initial_state_shape_bidirectional(cls, which):
    # a unidirectional-shaped state (num_layers, N, H) for a bidirectional model
    # (num_layers * 2, N, H)
    m = cls(D, H, num_layers=2, bidirectional=True)
    good, bad = _x(4, N, H), _x(2, N, H)
    hx = bad if cls is not LSTM else ((bad, good) if which == "h0" else (good, bad))
    with pytest.raises(
        ValueError, match=rf"\b{which}\b has shape \(2, 3, 4\), expected \(4, 3, 4\)"
    ):
        m(_x(T, N, D), hx)
    with pytest.raises(
        ValueError, match=rf"\b{which}\b has shape \(2, 3, 4\), expected \(4, 3, 4\)"
    ):
        m(_x(T, N, D), hx, [5, 2, 3])  # with lengths too


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("batch_first", [False, True])
def test_wrong_d_output_last_dim_bidirectional(cls, batch_first):
    m = cls(D, H, bidirectional=True, batch_first=batch_first)
    m(_x(N, T, D) if batch_first else _x(T, N, D), None, [5, 2, 3])
    want = r"\(3, 5, 8\)" if batch_first else r"\(5, 3, 8\)"
    wrong = _x(N, T, H) if batch_first else _x(T, N, H)  # one direction's width
    with pytest.raises(
        ValueError, match=rf"\bd_output\b has shape .*, expected {want}"
    ):
        m.backward(wrong)


@pytest.mark.parametrize("cls", [RNN, GRU])
def test_wrong_final_state_gradient_shape_bidirectional(cls):
    m = cls(D, H, num_layers=2, bidirectional=True)
    m(_x(T, N, D))
    with pytest.raises(
        ValueError, match=r"\bd_h_n\b has shape \(2, 3, 4\), expected \(4, 3, 4\)"
    ):
        m.backward(_x(T, N, 2 * H), _x(2, N, H))


# ---------------------------------------------------- a task that needs both directions
def _next_token_batch(rng, n, Tn, V):
    """One-hot tokens in padded batches of lengths in [2, Tn].

    The label at step t is the token at t + 1 (nothing before t says anything about
    it), real on steps t < length - 1.
    """
    lengths = rng.integers(2, Tn + 1, n)
    tokens = rng.integers(0, V, (Tn, n))
    x = np.eye(V, dtype=np.float32)[tokens]
    real = np.arange(Tn)[:, None] < lengths[None, :]
    x *= real[:, :, None]  # zero padding
    y = np.zeros((Tn, n), np.int64)
    y[:-1] = tokens[1:]
    mask = np.arange(Tn)[:, None] < (lengths - 1)[None, :]
    return x, lengths, y, mask


def test_only_a_bidirectional_model_learns_to_read_the_next_token(xp, device, on):
    Tn, V, Hn, n = 8, 4, 8, 32
    rng = np.random.default_rng(0)
    train = [_next_token_batch(rng, n, Tn, V) for _ in range(4)]
    x_val, len_val, y_val, mask_val = _next_token_batch(rng, 256, Tn, V)
    acc = {}
    for bidirectional in (True, False):
        rnnlab.seed(0)
        gru = GRU(V, Hn, bidirectional=bidirectional).to(device)
        head = Linear(gru.num_directions * Hn, V).to(device)
        opt = rnnlab.Adam(gru.parameters() + head.parameters(), lr=0.03)
        losses = []
        for step in range(120):
            x, lengths, y, mask = train[step % len(train)]
            opt.zero_grad()
            out, _ = gru(on(x), None, lengths)
            loss, dlogits = rnnlab.cross_entropy(head(out), on(y), mask=on(mask))
            gru.backward(head.backward(dlogits))
            opt.step()
            losses.append(loss)
        assert np.isfinite(losses).all()
        out, _ = gru.eval()(on(x_val), None, len_val)
        pred = _np(head(out)).argmax(-1)
        acc[bidirectional] = float((pred == y_val)[mask_val].mean())
        if bidirectional:
            assert np.mean(losses[-10:]) < 0.2 * np.mean(losses[:10])
    assert acc[True] > 0.95, acc
    # chance is 1 / V: the past says nothing about the next token
    assert acc[False] < 0.25 + 0.1, acc
