"""Attention pooling and the masked softmax: finite differences, PyTorch autograd on the
same weights, and padding that gets exactly nothing."""

import numpy as np
import pytest

from _helpers import close, to_np
from rnnlab.gradcheck import assert_gradients_close, check_module
from rnnlab.nn.attention import AttentionPool, masked_softmax, masked_softmax_backward

T, N, F, A = 6, 4, 3, 5
LENGTHS = np.array([6, 2, 5, 1])


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "padded"])
def test_attention_pool_passes_finite_differences(with_lengths, device, randn, on):
    pool = AttentionPool(F, A, dtype=np.float64).to(device)
    lengths = on(LENGTHS) if with_lengths else None
    assert_gradients_close(check_module(pool, randn(T, N, F), lengths))


@pytest.mark.parametrize("batch_first", [False, True])
def test_attention_pool_equals_torch_on_each_unpadded_sequence(
    torch, batch_first, rng, on, device
):
    pool = AttentionPool(F, A, batch_first=batch_first, dtype=np.float64).to(device)
    x = rng.standard_normal((T, N, F))
    x[2:, 1] = 50.0  # padding that would dominate the weights if it counted
    g = rng.standard_normal((N, F))
    xin = x.transpose(1, 0, 2) if batch_first else x
    y = pool(on(xin.copy()), LENGTHS)
    weights = to_np(pool.weights)
    dx = to_np(pool.backward(on(g)))
    dx = dx.transpose(1, 0, 2) if batch_first else dx

    W, b, v = (torch.tensor(to_np(pool.params[k]), requires_grad=True) for k in "Wbv")
    xt = torch.tensor(x, requires_grad=True)
    ys, alphas = [], []
    for n, L in enumerate(LENGTHS):
        s = xt[:L, n]  # (L, F)
        alpha = torch.softmax(torch.tanh(s @ W.T + b) @ v, dim=0)
        ys.append(alpha @ s)
        alphas.append(alpha)
    (torch.stack(ys) * torch.tensor(g)).sum().backward()
    check = close(np.float64)
    check(to_np(y), torch.stack(ys).detach().numpy(), "pooled")
    for n, L in enumerate(LENGTHS):
        check(weights[n, :L], alphas[n].detach().numpy(), f"weights of sequence {n}")
        assert not weights[n, L:].any()  # exactly 0 on padding
    check(dx, xt.grad.numpy(), "dx")
    for k, ref in zip("Wbv", (W, b, v)):
        check(to_np(pool.grads[k]), ref.grad.numpy(), f"d{k}")
    assert not dx[2:, 1].any()  # nothing flows into padding


def test_masked_softmax_and_its_gradient(rng):
    scores = rng.standard_normal((3, 4))
    mask = np.array([[1, 1, 1, 1], [1, 0, 0, 0], [0, 1, 1, 0]], dtype=bool)
    w = masked_softmax(scores, mask)
    np.testing.assert_allclose(w.sum(axis=1), 1, rtol=1e-12)
    assert w[1, 0] == 1 and not w[~mask].any()
    dw = rng.standard_normal((3, 4))
    eps, num = 1e-6, np.zeros_like(scores)
    for i in np.ndindex(scores.shape):
        e = np.zeros_like(scores)
        e[i] = eps
        num[i] = (
            (masked_softmax(scores + e, mask) * dw).sum()
            - (masked_softmax(scores - e, mask) * dw).sum()
        ) / (2 * eps)
    np.testing.assert_allclose(masked_softmax_backward(w, dw), num, atol=1e-9)


def test_attention_pool_bad_input():
    pool = AttentionPool(F, A)
    with pytest.raises(
        ValueError, match=r"x has size 2 in its last dimension, expected 3"
    ):
        pool(np.zeros((T, N, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 6\]"):
        pool(np.zeros((T, N, F), dtype=np.float32), np.array([0, 1, 1, 1]))
    pool(np.zeros((T, N, F), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\bdy\b"):
        pool.backward(np.zeros((N, F + 1), dtype=np.float32))
