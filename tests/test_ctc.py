"""rnnlab.ctc_loss: brute force on tiny cases, PyTorch on many random ones, finite
differences, the reductions, infeasible targets and bad input."""

import itertools

import numpy as np
import pytest

import rnnlab
from rnnlab.ctc import ctc_loss
from rnnlab.gradcheck import numerical_gradient, relative_error


def _collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return out


@pytest.mark.parametrize(
    "labels, blank", [([1, 2], 0), ([1, 1], 0), ([0, 2], 1), ([], 0)]
)
def test_loss_is_minus_log_of_the_sum_over_every_path(labels, blank, rng):
    T, C = 5, 3
    z = rng.standard_normal((T, 1, C))
    y = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    p = sum(
        np.prod([y[t, 0, c] for t, c in enumerate(path)])
        for path in itertools.product(range(C), repeat=T)
        if _collapse(path, blank) == labels
    )
    targets = np.array([labels or [blank]])
    loss, _ = ctc_loss(z, targets, [T], [len(labels)], blank=blank, reduction="sum")
    assert loss == pytest.approx(-np.log(p), rel=1e-12)


def _random_case(g, T_max=12, N_max=4, C_max=7):
    T, N, C = (
        int(g.integers(1, T_max)),
        int(g.integers(1, N_max)),
        int(g.integers(2, C_max)),
    )
    blank = int(g.integers(0, C))
    labels = [c for c in range(C) if c != blank]
    U_n = g.integers(0, 6, N)
    targets = np.full((N, max(int(U_n.max()), 1)), blank)
    for n in range(N):
        targets[n, : U_n[n]] = g.choice(labels, U_n[n])
    return g.standard_normal((T, N, C)), targets, g.integers(1, T + 1, N), U_n, blank


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_equals_torch_with_gradients(xp, on, torch, seed, reduction, zero_infinity):
    """Repeated labels, any blank, lengths shorter than T, infeasible targets."""
    g = np.random.default_rng(seed)
    for _ in range(10):
        z, targets, T_n, U_n, blank = _random_case(g)
        zt = torch.tensor(z, requires_grad=True)
        ref = torch.nn.functional.ctc_loss(
            zt.log_softmax(-1),
            torch.tensor(targets),
            torch.tensor(T_n),
            torch.tensor(U_n),
            blank=blank,
            reduction=reduction,
            zero_infinity=zero_infinity,
        )
        ref.backward(torch.ones_like(ref))
        loss, d = ctc_loss(
            on(z), on(targets), T_n, U_n, blank, reduction, zero_infinity
        )
        np.testing.assert_allclose(
            rnnlab.to_numpy(np.asarray(loss) if xp is np else loss),
            ref.detach().numpy(),
            rtol=1e-10,
        )
        np.testing.assert_allclose(rnnlab.to_numpy(d), zt.grad.numpy(), atol=1e-10)


def test_concatenated_targets_equal_padded_ones(rng):
    z = rng.standard_normal((8, 3, 5))
    padded = np.array([[1, 2, 0], [3, 3, 4], [2, 0, 0]])
    lengths = np.array([2, 3, 1])
    flat = np.array([1, 2, 3, 3, 4, 2])
    a, da = ctc_loss(z, padded, [8, 7, 5], lengths, reduction="none")
    b, db = ctc_loss(z, flat, [8, 7, 5], lengths, reduction="none")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(da, db)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradient_matches_finite_differences(xp, on, rng, reduction):
    z = on(rng.standard_normal((7, 3, 4)))
    targets, T_n, U_n = (
        np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]]),
        [7, 6, 4],
        [3, 2, 1],
    )
    _, d = ctc_loss(z, targets, T_n, U_n, reduction=reduction)
    num = numerical_gradient(
        lambda: ctc_loss(z, targets, T_n, U_n, reduction=reduction)[0], z
    )
    assert relative_error(d, num) < 1e-7


def test_infeasible_target_is_infinite_or_zero():
    z = np.zeros((3, 1, 4))
    # "1 1 2" needs a blank between the repeats: 4 frames, only 3 here
    loss, d = ctc_loss(z, [[1, 1, 2]], [3], [3], reduction="sum")
    assert loss == np.inf and np.isnan(d).all()
    loss, d = ctc_loss(z, [[1, 1, 2]], [3], [3], reduction="sum", zero_infinity=True)
    assert loss == 0 and (d == 0).all()
    assert np.isfinite(ctc_loss(np.zeros((4, 1, 4)), [[1, 1, 2]], [4], [3])[0])


def test_float32_stays_float32_and_close_to_float64(rng):
    z = rng.standard_normal((50, 4, 6))
    targets, T_n, U_n = rng.integers(1, 6, (4, 10)), [50, 40, 30, 20], [10, 8, 6, 4]
    l64, d64 = ctc_loss(z, targets, T_n, U_n)
    l32, d32 = ctc_loss(z.astype(np.float32), targets, T_n, U_n)
    assert d32.dtype == np.float32
    assert l32 == pytest.approx(l64, rel=1e-5)
    np.testing.assert_allclose(d32, d64, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(targets=[[1, 0, 2]]), r"targets\[0\] contains the blank \(0\)"),
        (dict(targets=[[1, 7]]), r"class ids in \[0, 5\)"),
        (dict(target_lengths=[3]), r"at least 3"),
        (dict(input_lengths=[0]), r"input_lengths must lie in \[1, T=6\]"),
        (dict(input_lengths=[7]), r"input_lengths must lie in \[1, T=6\]"),
        (dict(input_lengths=[3, 3]), "input_lengths must be 1 integers"),
        (dict(blank=5), r"blank must be a class id in \[0, 5\)"),
        (dict(reduction="avg"), "reduction must be one of"),
        (dict(targets=[1, 2, 3]), "target_lengths sum to 2"),
        (
            dict(logits=np.zeros((6, 5))),
            r"logits must be an array of shape \(T, N, C\)",
        ),
        (dict(targets=[[1.0, 2.0]]), "integer class ids"),
    ],
)
def test_bad_input_is_named(kwargs, pattern):
    args = dict(
        logits=np.zeros((6, 1, 5)),
        targets=[[1, 2]],
        input_lengths=[6],
        target_lengths=[2],
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        ctc_loss(**args)
