"""rnnlab.SequencePool: last/mean/max over each sequence's real steps, against finite
differences and PyTorch on the unpadded sequences."""

import numpy as np
import pytest

from _helpers import close, to_np
from rnnlab import GRU, Linear, SequencePool
from rnnlab.gradcheck import assert_gradients_close, check_module

T, N, F = 6, 4, 3
LENGTHS = np.array([6, 2, 5, 1])


@pytest.mark.parametrize("mode", ["last", "mean", "max"])
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "padded"])
def test_pool_passes_finite_differences(mode, with_lengths, device, randn, on):
    lengths = on(LENGTHS) if with_lengths else None
    assert_gradients_close(check_module(SequencePool(mode), randn(T, N, F), lengths))


@pytest.mark.parametrize("mode", ["last", "mean", "max"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pool_equals_torch_on_each_unpadded_sequence(torch, mode, batch_first, rng, on):
    x = rng.standard_normal((T, N, F))
    x[3:, 1] = 50.0  # padding that would win a max, or shift a mean, if it counted
    g = rng.standard_normal((N, F))
    pool = SequencePool(mode, batch_first=batch_first)
    xin = x.transpose(1, 0, 2) if batch_first else x
    y = pool(on(xin.copy()), LENGTHS)
    dx = pool.backward(on(g))
    dx = to_np(dx).transpose(1, 0, 2) if batch_first else to_np(dx)

    xt = torch.tensor(x, requires_grad=True)
    reduce = {
        "last": lambda s: s[-1],
        "mean": lambda s: s.mean(0),
        "max": lambda s: s.max(0).values,
    }
    ref = torch.stack([reduce[mode](xt[:L, n]) for n, L in enumerate(LENGTHS)])
    (ref * torch.tensor(g)).sum().backward()
    check = close(np.float64)
    check(to_np(y), ref.detach().numpy(), "pooled")
    check(dx, xt.grad.numpy(), "dx")
    assert not dx[3:, 1].any()  # nothing flows into padding


def test_many_to_one_path_gives_no_gradient_to_padding(device, randn, on):
    # GRU outputs -> mean over real steps -> Linear: the many-to-one path of a
    # classifier
    gru = GRU(F, 5, dtype=np.float64).to(device)
    pool, head = SequencePool("mean"), Linear(5, 2, dtype=np.float64).to(device)
    x, lengths = randn(T, N, F), on(LENGTHS)
    out, _ = gru(x, lengths=lengths)
    logits = head(pool(out, lengths))
    dx, _ = gru.backward(pool.backward(head.backward(on(np.ones(logits.shape)))))
    assert dx.shape == x.shape and not to_np(dx)[2:, 1].any()


def test_pool_bad_input():
    with pytest.raises(
        ValueError, match=r"mode must be one of \('last', 'mean', 'max'\), got 'sum'"
    ):
        SequencePool("sum")
    with pytest.raises(ValueError, match=r"x must have 3 dimensions \(T, N, F\)"):
        SequencePool()(np.zeros((T, F)))
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 6\]"):
        SequencePool()(np.zeros((T, N, F)), np.array([7, 1, 1, 1]))
    pool = SequencePool()
    pool(np.zeros((T, N, F)))
    with pytest.raises(ValueError, match=r"\bdy\b"):
        pool.backward(np.zeros((N, F + 1)))
