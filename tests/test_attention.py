"""Attention pooling and the masked softmax: finite differences, PyTorch autograd on the
same weights, and padding that gets exactly nothing."""

import numpy as np
import pytest

from _helpers import close, to_np
from rnnlab.gradcheck import assert_gradients_close, check_module
import rnnlab
from rnnlab.nn.attention import (
    AdditiveAttention,
    AttentionPool,
    MultiplicativeAttention,
    masked_softmax,
    masked_softmax_backward,
)

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


def test_changing_the_weights_to_look_at_them_changes_no_gradient(rng):
    pool = AttentionPool(F, A, dtype=np.float64)
    x, g = rng.standard_normal((T, N, F)), rng.standard_normal((N, F))
    pool(x, LENGTHS)
    want = pool.backward(g)
    pool(x, LENGTHS)
    pool.weights *= 0  # e.g. normalised in place for a plot
    np.testing.assert_array_equal(pool.backward(g), want)


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


class _Attend(rnnlab.Module):
    """AdditiveAttention with both outputs used, for check_module."""

    def __init__(self, att):
        super().__init__()
        self.att = att

    def forward(self, query, keys, values, lengths=None):
        context, weights = self.att(query, keys, values, lengths)
        return context, weights

    def backward(self, d_context, d_weights):
        return self.att.backward(d_context, d_weights)


Hq, Hk, Hv, S = 3, 4, 2, 5
KEY_LENGTHS = np.array([5, 2, 4, 1])


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "padded"])
def test_additive_attention_passes_finite_differences(with_lengths, device, randn, on):
    att = AdditiveAttention(Hq, Hk, A, dtype=np.float64).to(device)
    lengths = on(KEY_LENGTHS) if with_lengths else None
    q, k, v = randn(N, Hq), randn(N, S, Hk), randn(N, S, Hv)
    assert_gradients_close(check_module(_Attend(att), q, k, v, lengths))


def test_additive_attention_called_at_every_decoder_step(rng):
    # A decoder calls one attention at several steps before any backward: the
    # backwards in reverse order give the sum of the separate calls' gradients.
    att = AdditiveAttention(Hq, Hk, A, dtype=np.float64)
    k, v = rng.standard_normal((N, S, Hk)), rng.standard_normal((N, S, Hv))
    queries = [rng.standard_normal((N, Hq)) for _ in range(3)]
    dcs = [rng.standard_normal((N, Hv)) for _ in range(3)]
    for q in queries:
        att(q, k, v, KEY_LENGTHS)
    dq_stacked = [att.backward(dc)[0] for dc in reversed(dcs)][::-1]
    stacked = {n: g.copy() for n, g in att.grads.items()}
    att.zero_grad()
    for q, dc, dq in zip(queries, dcs, dq_stacked):
        att(q, k, v, KEY_LENGTHS)
        np.testing.assert_allclose(att.backward(dc)[0], dq, rtol=1e-12)
    for n in stacked:
        np.testing.assert_allclose(att.grads[n], stacked[n], rtol=1e-12)


def test_additive_attention_bad_input():
    att = AdditiveAttention(Hq, Hk, A)
    q, k = np.zeros((N, Hq), np.float32), np.zeros((N, S, Hk), np.float32)
    v = np.zeros((N, S, Hv), np.float32)
    with pytest.raises(ValueError, match=r"query has size 2 in its last dimension"):
        att(q[:, :2], k, v)
    with pytest.raises(ValueError, match=r"query has 3 rows but keys have 4"):
        att(q[:3], k, v)
    with pytest.raises(ValueError, match=r"values has shape \(4, 3, 2\), expected"):
        att(q, k, v[:, :3])
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        att(q, k, v, np.array([6, 1, 1, 1]))
    att(q, k, v)
    with pytest.raises(ValueError, match=r"\bd_context\b"):
        att.backward(np.zeros((N, Hv + 1), np.float32))
    with pytest.raises(ValueError, match=r"\bd_weights\b"):
        att.backward(np.zeros((N, Hv), np.float32), np.zeros((N, S + 1), np.float32))


def _multiplicative(score, device):
    return MultiplicativeAttention(
        Hk if score == "dot" else Hq, Hk, score=score, dtype=np.float64
    ).to(device)


@pytest.mark.parametrize("score", ["dot", "general"])
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "padded"])
def test_multiplicative_attention_passes_finite_differences(
    score, with_lengths, device, randn, on
):
    att = _multiplicative(score, device)
    lengths = on(KEY_LENGTHS) if with_lengths else None
    q, k, v = randn(N, att.query_size), randn(N, S, Hk), randn(N, S, Hv)
    assert_gradients_close(check_module(_Attend(att), q, k, v, lengths))


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_attention_equals_torch(torch, score, rng, on, device):
    if score == "additive":
        att = AdditiveAttention(Hq, Hk, A, dtype=np.float64).to(device)
    else:
        att = _multiplicative(score, device)
    Q = att.query_size
    q, k, v = (rng.standard_normal(s) for s in [(N, Q), (N, S, Hk), (N, S, Hv)])
    k[1, 2:] = 40.0  # padded keys that would take all the weight if they counted
    dc, dw = rng.standard_normal((N, Hv)), rng.standard_normal((N, S))
    context, weights = att(on(q), on(k), on(v), KEY_LENGTHS)
    grads = [to_np(g) for g in att.backward(on(dc), on(dw))]

    P = {n: torch.tensor(to_np(w), requires_grad=True) for n, w in att.params.items()}
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    e = {  # (N, S)
        "additive": lambda: (
            torch.tanh(kt @ P["W_k"].T + (qt @ P["W_q"].T)[:, None]) @ P["v"]
        ),
        "dot": lambda: torch.einsum("nk,nsk->ns", qt, kt),
        "general": lambda: torch.einsum("nq,qk,nsk->ns", qt, P["W_a"], kt),
    }[score]()
    mask = torch.arange(S)[None, :] < torch.tensor(KEY_LENGTHS)[:, None]
    alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)
    ref = torch.einsum("ns,nsh->nh", alpha, vt)
    ((ref * torch.tensor(dc)).sum() + (alpha * torch.tensor(dw)).sum()).backward()
    check = close(np.float64)
    check(to_np(context), ref.detach().numpy(), "context")
    check(to_np(weights), alpha.detach().numpy(), "weights")
    assert not to_np(weights)[1, 2:].any()
    for name, got, t in zip(("d_query", "d_keys", "d_values"), grads, (qt, kt, vt)):
        check(got, t.grad.numpy(), name)
    assert (
        set(att.grads)
        == set(P)
        == {"additive": {"W_q", "W_k", "v"}, "dot": set(), "general": {"W_a"}}[score]
    )
    for name, t in P.items():
        check(to_np(att.grads[name]), t.grad.numpy(), f"d{name}")
    assert not grads[1][1, 2:].any() and not grads[2][1, 2:].any()


def test_multiplicative_attention_bad_input():
    with pytest.raises(ValueError, match="score must be 'dot' or 'general'"):
        MultiplicativeAttention(3, 3, score="concat")
    with pytest.raises(ValueError, match="dot score needs query_size == key_size"):
        MultiplicativeAttention(3, 4, score="dot")
    att = MultiplicativeAttention(Hk, Hk, score="dot")
    q, k = np.zeros((N, Hk), np.float32), np.zeros((N, S, Hk), np.float64)
    v = np.zeros((N, S, Hv), np.float64)
    with pytest.raises(TypeError, match="keys"):  # the dot score follows the query
        att(q, k, v)
    with pytest.raises(ValueError, match=r"query has size 2 in its last dimension"):
        MultiplicativeAttention(Hq, Hk)(q[:, :2], k.astype(np.float32), v)


def _any_attention(score, device):
    if score == "additive":
        return AdditiveAttention(Hq, Hk, A, dtype=np.float64).to(device)
    return _multiplicative(score, device)


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_several_queries_per_row_pass_finite_differences(score, device, randn, on):
    # a decoder's T steps attending at once: query (N, T, Hq)
    att = _any_attention(score, device)
    q, k, v = randn(N, 3, att.query_size), randn(N, S, Hk), randn(N, S, Hv)
    assert_gradients_close(check_module(_Attend(att), q, k, v, on(KEY_LENGTHS)))


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_several_queries_equal_one_call_per_query(score, rng):
    att = _any_attention(score, "cpu")
    T = 3
    q = rng.standard_normal((N, T, att.query_size))
    k, v = rng.standard_normal((N, S, Hk)), rng.standard_normal((N, S, Hv))
    dc, dw = rng.standard_normal((N, T, Hv)), rng.standard_normal((N, T, S))
    context, weights = att(q, k, v, KEY_LENGTHS)
    d_query, d_keys, d_values = att.backward(dc, dw)
    together = {n: g.copy() for n, g in att.grads.items()}
    att.zero_grad()
    sums = np.zeros_like(k), np.zeros_like(v)
    for t in range(T):
        c, w = att(q[:, t], k, v, KEY_LENGTHS)
        np.testing.assert_allclose(c, context[:, t], rtol=1e-12)
        np.testing.assert_allclose(w, weights[:, t], rtol=1e-12)
        dq, dk, dv = att.backward(dc[:, t], dw[:, t])
        np.testing.assert_allclose(dq, d_query[:, t], rtol=1e-10, atol=1e-12)
        sums[0][...] += dk
        sums[1][...] += dv
    np.testing.assert_allclose(sums[0], d_keys, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sums[1], d_values, rtol=1e-10, atol=1e-12)
    for n in together:
        np.testing.assert_allclose(att.grads[n], together[n], rtol=1e-10)


def test_projected_keys_are_reused_exactly(rng):
    att = AdditiveAttention(Hq, Hk, A, dtype=np.float64)
    q, k = rng.standard_normal((N, Hq)), rng.standard_normal((N, S, Hk))
    v = rng.standard_normal((N, S, Hv))
    want = att(q, k, v, KEY_LENGTHS)
    att.backward(want[0])
    got = att(q, k, v, KEY_LENGTHS, projected_keys=att.project_keys(k))
    att.backward(got[0])
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)
    assert MultiplicativeAttention(Hq, Hk).project_keys(k) is None
    with pytest.raises(ValueError, match=r"query must have 3 dimensions|query has"):
        att(q[None], k, v)
