"""The calling protocol of rnnlab.Module: a last-in, first-out tape of pending forwards.

A module may be called several times before backward; each backward consumes the most
recent pending forward; ``no_grad()`` keeps nothing; a backward with nothing pending, or
with a rejected argument, says so and leaves the tape as it was.
"""

import numpy as np
import pytest

import rnnlab
from _helpers import close, to_np
from rnnlab import (
    GRU,
    LSTM,
    RNN,
    Dropout,
    Embedding,
    GRUCell,
    Linear,
    LSTMCell,
    RNNCell,
    Sequential,
)

T, N, D, H = 5, 3, 4, 6


def _calls(name, on):
    """(module, forward arguments, backward arguments) for one call of each kind."""
    f = np.float64
    g = np.random.default_rng(7)

    def arr(*shape):
        return on(g.standard_normal(shape))

    return {
        "Linear": (Linear(D, H, dtype=f), (arr(N, D),), (arr(N, H),)),
        "Embedding": (
            Embedding(9, H, dtype=f),
            (on(np.array([[1, 2], [3, 1]])),),
            (arr(2, 2, H),),
        ),
        "Dropout": (Dropout(0.5), (arr(N, D),), (arr(N, D),)),
        "RNN": (RNN(D, H, dtype=f), (arr(T, N, D),), (arr(T, N, H),)),
        "LSTM": (LSTM(D, H, dtype=f), (arr(T, N, D),), (arr(T, N, H),)),
        "GRU": (GRU(D, H, dtype=f), (arr(T, N, D),), (arr(T, N, H),)),
        "RNNCell": (RNNCell(D, H, dtype=f), (arr(N, D),), (arr(N, H),)),
        "LSTMCell": (LSTMCell(D, H, dtype=f), (arr(N, D),), (arr(N, H),)),
        "GRUCell": (GRUCell(D, H, dtype=f), (arr(N, D),), (arr(N, H),)),
        "Sequential": (
            Sequential(Linear(D, H, dtype=f), Linear(H, 2, dtype=f)),
            (arr(N, D),),
            (arr(N, 2),),
        ),
    }[name]


KINDS = [
    "Linear",
    "Embedding",
    "Dropout",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "Sequential",
]


@pytest.mark.parametrize("kind", KINDS)
def test_backward_with_nothing_pending_names_the_module(kind, on, device):
    m, args, upstream = _calls(kind, on)
    m.to(device)
    with pytest.raises(
        RuntimeError,
        match=f"{type(m).__name__}.backward called with no pending forward",
    ):
        m.backward(*upstream)
    m(*args)
    m.backward(*upstream)  # one forward, one backward
    assert m.pending == 0
    with pytest.raises(RuntimeError, match="no pending forward"):
        m.backward(*upstream)


@pytest.mark.parametrize("kind", KINDS)
def test_no_grad_keeps_nothing_and_eval_still_does(kind, on, device):
    m, args, upstream = _calls(kind, on)
    m.to(device)
    with rnnlab.no_grad():
        assert not rnnlab.is_grad_enabled()
        for _ in range(3):
            m(*args)
    assert rnnlab.is_grad_enabled()
    assert all(sub.pending == 0 for sub in m.modules())
    # the message names the likely cause
    with pytest.raises(RuntimeError, match="no_grad"):
        m.backward(*upstream)
    m.eval()  # eval switches dropout off, as in PyTorch; it does not stop recording
    m(*args)
    assert m.pending == 1


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with rnnlab.no_grad():
            1 / 0
    assert rnnlab.is_grad_enabled()


@pytest.mark.parametrize("kind", ["Linear", "RNN", "LSTM", "GRU", "RNNCell", "GRUCell"])
def test_two_calls_then_two_backwards_equal_two_separate_rounds(kind, on, device):
    # calling a layer twice (same shapes) before backward gives each call its own
    # gradient: the sum of two separate forward/backward rounds, and each call's input
    # gradient
    m, (x1,), (g1,) = _calls(kind, on)
    m.to(device)
    x2, g2 = 0.5 * x1 + 0.1, -2.0 * g1
    first = lambda r: r[0] if isinstance(r, tuple) else r  # noqa: E731  the input gradient

    m(x1)
    dx1 = first(m.backward(g1))
    m(x2)
    dx2 = first(m.backward(g2))
    separate = {k: to_np(v).copy() for k, v in m.grads.items()}

    m.zero_grad()
    m(x1)
    m(x2)  # both pending: the second is consumed first
    dx2_lifo = first(m.backward(g2))
    dx1_lifo = first(m.backward(g1))
    check = close(np.float64)
    check(to_np(dx1_lifo), to_np(dx1), "dx of the first call")
    check(to_np(dx2_lifo), to_np(dx2), "dx of the second call")
    for k, v in m.grads.items():
        check(to_np(v), separate[k], k)


@pytest.mark.parametrize(
    "kind", ["Linear", "Embedding", "Dropout", "RNN", "LSTMCell", "Sequential"]
)
def test_a_rejected_backward_consumes_nothing(kind, on, device):
    m, args, upstream = _calls(kind, on)
    m.to(device)
    m(*args)
    bad = upstream[0][..., :-1]  # one feature short
    with pytest.raises(ValueError):
        m.backward(bad)
    assert m.pending == 1
    m.backward(*upstream)  # the pending forward is still there
    assert m.pending == 0


def test_outputs_do_not_alias_what_backward_reads(on, device):
    # a caller changing every output in place must not change any gradient
    for kind in [
        "Linear",
        "Embedding",
        "Dropout",
        "RNN",
        "LSTM",
        "GRU",
        "RNNCell",
        "GRUCell",
    ]:
        m, args, upstream = _calls(kind, on)
        m.to(device)
        rnnlab.seed(3)
        m(*args)
        m.backward(*upstream)
        want = {k: to_np(v).copy() for k, v in m.grads.items()}
        m.zero_grad()
        rnnlab.seed(3)
        out = m(*args)
        for o in out if isinstance(out, tuple) else (out,):
            for a in o if isinstance(o, tuple) else (o,):
                a *= 7.0
        m.backward(*upstream)
        for k, v in m.grads.items():
            np.testing.assert_array_equal(to_np(v), want[k], err_msg=f"{kind}: {k}")


def test_many_to_one_backward_takes_none_for_the_unused_output(on, device, randn):
    m = LSTM(D, H, num_layers=2, dtype=np.float64).to(device)
    x, dh = randn(T, N, D), randn(2, N, H)
    m(x)
    dx_none, (dh0_none, dc0_none) = m.backward(None, (dh, None))
    m(x)
    dx, (dh0, dc0) = m.backward(on(np.zeros((T, N, H))), (dh, on(np.zeros((2, N, H)))))
    check = close(np.float64)
    for got, want in [(dx_none, dx), (dh0_none, dh0), (dc0_none, dc0)]:
        check(to_np(got), to_np(want), "None equals zeros")


def test_lstm_over_two_segments_with_state_carried_equals_torch(torch, on, device, rng):
    # the state of segment 1 is the initial state of segment 2; backpropagating segment
    # 2 and then segment 1 with the returned state gradient is BPTT over the whole
    # sequence
    from rnnlab.interop import to_torch

    lstm = LSTM(D, H, num_layers=2, dtype=np.float64).to(device)
    x = rng.standard_normal((2 * T, N, D))
    g = rng.standard_normal((2 * T, N, H))
    out1, state = lstm(on(x[:T]))
    out2, _ = lstm(on(x[T:]), state)
    dx2, d_state = lstm.backward(on(g[T:]))
    dx1, _ = lstm.backward(on(g[:T]), d_state)

    ref = to_torch(lstm.to("cpu")).double()
    xt = torch.tensor(x, requires_grad=True)
    out, _ = ref(xt)
    (out * torch.tensor(g)).sum().backward()
    check = close(np.float64)
    check(np.concatenate([to_np(out1), to_np(out2)]), out.detach().numpy(), "outputs")
    check(np.concatenate([to_np(dx1), to_np(dx2)]), xt.grad.numpy(), "dx")
    for name, p in rnnlab.interop.torch_state_dict(lstm, grads=True).items():
        check(p, dict(ref.named_parameters())[name].grad.numpy(), name)


def test_a_growing_tape_warns_once_naming_no_grad(on):
    lin = Linear(2, 2)
    lin.tape_warning = 5
    x = np.ones((1, 2), np.float32)
    with pytest.warns(
        UserWarning, match=r"Linear holds 5 forward calls waiting for backward.*no_grad"
    ):
        for _ in range(5):
            lin(x)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lin(x)  # once only
        with rnnlab.no_grad():
            for _ in range(10):
                lin(x)
    assert lin.pending == 6
