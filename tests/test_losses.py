"""rnnlab.losses: cross-entropy and MSE, their gradients, and masking of padding."""

import numpy as np
import pytest

import rnnlab
from rnnlab import cross_entropy, mse
from rnnlab.gradcheck import numerical_gradient, relative_error

B, S, V = 3, 4, 6  # batch, steps, vocabulary


def _np(a):
    return rnnlab.to_numpy(a)


def _direct_ce(z, y):
    """Per-token -log softmax(z)[y] and the softmax, straight from the definition.

    For moderate logits only.
    """
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    nll = -np.log(np.take_along_axis(p, y[..., None], axis=-1))[..., 0]
    return nll, p


@pytest.fixture
def data(rng):
    z = 2 * rng.standard_normal((B, S, V))
    y = rng.integers(0, V, (B, S))
    mask = np.ones((B, S))
    mask[0, 2:] = 0
    mask[2, 1:] = 0
    return z, y, mask


# ------------------------------------------------------------------------ cross-entropy
def test_cross_entropy_value_and_gradient_match_the_formula(xp, on, data):
    z, y, _ = data
    loss, dz = cross_entropy(on(z), on(y))
    nll, p = _direct_ce(z, y)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, nll.mean(), rtol=1e-13)
    onehot = np.eye(V)[y]
    np.testing.assert_allclose(_np(dz), (p - onehot) / (B * S), rtol=1e-12, atol=1e-16)
    assert dz.shape == z.shape and dz.dtype == np.float64


def test_cross_entropy_gradient_matches_finite_differences(xp, on, data):
    z, y, mask = data
    z, y, mask = on(z), on(y), on(mask)
    for kwargs in ({}, {"mask": mask}):
        _, dz = cross_entropy(z, y, **kwargs)
        num = numerical_gradient(lambda: cross_entropy(z, y, **kwargs)[0], z)
        assert relative_error(dz, num) < 1e-8


def test_cross_entropy_mask_counts_only_real_tokens(xp, on, data):
    z, y, mask = data
    keep = mask.astype(bool)
    loss, dz = cross_entropy(on(z), on(y), mask=on(mask))
    nll, p = _direct_ce(z, y)
    n_real = int(keep.sum())
    assert n_real == 7
    # normalised by real tokens
    np.testing.assert_allclose(loss, nll[keep].sum() / n_real, rtol=1e-13)
    dz = _np(dz)
    assert not dz[~keep].any()  # padding gets no gradient
    np.testing.assert_allclose(
        dz[keep], (p[keep] - np.eye(V)[y[keep]]) / n_real, rtol=1e-12, atol=1e-16
    )
    # the same as the loss on the real tokens alone
    loss_sub, dz_sub = cross_entropy(on(z[keep]), on(y[keep]))
    np.testing.assert_allclose(loss, loss_sub, rtol=1e-14)
    np.testing.assert_allclose(dz[keep], _np(dz_sub), rtol=1e-14)


def test_cross_entropy_ignore_index_and_mask_combine(xp, on, data):
    z, y, mask = data
    y = y.copy()
    y[1, 0] = -100  # ignored, and out of range: must not be looked up
    y[1, 3] = -100
    keep = mask.astype(bool) & (y != -100)
    loss, dz = cross_entropy(on(z), on(y), mask=on(mask), ignore_index=-100)
    loss_sub, dz_sub = cross_entropy(on(z[keep]), on(y[keep]))
    np.testing.assert_allclose(loss, loss_sub, rtol=1e-14)
    dz = _np(dz)
    np.testing.assert_allclose(dz[keep], _np(dz_sub), rtol=1e-14)
    assert not dz[~keep].any()
    # ignore_index alone
    loss2, _ = cross_entropy(on(z), on(y), ignore_index=-100)
    keep2 = y != -100
    np.testing.assert_allclose(
        loss2, cross_entropy(on(z[keep2]), on(y[keep2]))[0], rtol=1e-14
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_equals_torch(xp, on, torch, data, dtype):
    z, y, _ = data
    z = z.astype(dtype)
    y = y.copy()
    y[0, 1] = y[2, 3] = -100
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        zt.reshape(-1, V), torch.tensor(y).reshape(-1), ignore_index=-100
    )
    ref.backward()
    loss, dz = cross_entropy(on(z), on(y), ignore_index=-100)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(loss, ref.item(), rtol=tol)
    assert dz.dtype == dtype
    np.testing.assert_allclose(
        _np(dz), zt.grad.numpy(), rtol=tol, atol=tol * np.abs(zt.grad.numpy()).max()
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "class_weights"])
def test_cross_entropy_weight_and_reduction_equal_torch(
    xp, on, torch, data, reduction, weighted
):
    z, y, _ = data
    y = y.copy()
    y[0, 1] = -100
    w = np.linspace(0.5, 2.0, V) if weighted else None
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        zt.reshape(-1, V),
        torch.tensor(y).reshape(-1),
        ignore_index=-100,
        reduction=reduction,
        weight=None if w is None else torch.tensor(w),
    )
    ref.sum().backward()
    loss, dz = cross_entropy(
        on(z),
        on(y),
        ignore_index=-100,
        reduction=reduction,
        weight=None if w is None else on(w),
    )
    if reduction == "none":
        assert loss.shape == y.shape
        np.testing.assert_allclose(
            _np(loss).reshape(-1), ref.detach().numpy(), rtol=1e-12
        )
    else:
        assert isinstance(loss, float)
        np.testing.assert_allclose(loss, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(_np(dz), zt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_reduction_equals_torch(xp, on, torch, rng, reduction):
    pred, target = rng.standard_normal((B, S)), rng.standard_normal((B, S))
    pt = torch.tensor(pred, requires_grad=True)
    ref = torch.nn.functional.mse_loss(pt, torch.tensor(target), reduction=reduction)
    ref.sum().backward()
    loss, d = mse(on(pred), on(target), reduction=reduction)
    np.testing.assert_allclose(
        _np(loss) if reduction == "none" else loss, ref.detach().numpy(), rtol=1e-13
    )
    np.testing.assert_allclose(_np(d), pt.grad.numpy(), rtol=1e-13)


def test_loss_gradients_are_in_the_prediction_dtype(rng):
    pred = rng.standard_normal((B, S)).astype(np.float32)
    _, d = mse(pred, rng.standard_normal((B, S)))  # a float64 target
    assert d.dtype == np.float32
    logits = rng.standard_normal((B, V)).astype(np.float32)
    # float64 weights
    _, d = cross_entropy(logits, rng.integers(0, V, B), weight=np.ones(V))
    assert d.dtype == np.float32


def test_loss_bad_reduction_and_weight(data):
    z, y, _ = data
    with pytest.raises(
        ValueError,
        match=r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'",
    ):
        cross_entropy(z, y, reduction="avg")
    with pytest.raises(ValueError, match=r"reduction must be one of"):
        mse(z, z, reduction="max")
    with pytest.raises(
        ValueError,
        match=r"weight has shape \(3,\), expected one weight per class \(6,\)",
    ):
        cross_entropy(z, y, weight=np.ones(3))


def test_cross_entropy_is_stable_with_huge_logits(xp, on):
    z = np.array([[1000.0, -1000.0, 0.0], [-1e6, 1e6, 0.0]])
    loss, dz = cross_entropy(on(z), on(np.array([1, 1])))
    assert np.isfinite(loss) and np.isfinite(_np(dz)).all()
    np.testing.assert_allclose(loss, 1000.0, rtol=1e-12)  # (2000 + 0) / 2 tokens


@pytest.mark.parametrize(
    "kwargs",
    [dict(mask=np.zeros((B, S))), dict(ignore_index=-1)],
    ids=["mask", "ignore_index"],
)
def test_cross_entropy_with_no_real_tokens_raises(data, kwargs):
    z, _, _ = data
    with pytest.raises(ValueError, match="no real tokens"):
        cross_entropy(z, np.full((B, S), -1), **kwargs)


def test_cross_entropy_bad_targets(data):
    z, y, _ = data
    bad = y.copy()
    bad[1, 1] = V
    with pytest.raises(
        ValueError,
        match=r"\btargets\b holds indices in \[\d+, 6\], expected values in \[0, 5\]",
    ):
        cross_entropy(z, bad)
    with pytest.raises(TypeError, match=r"\btargets\b must have an integer dtype"):
        cross_entropy(z, y.astype(np.float64))
    with pytest.raises(
        ValueError, match=r"logits has shape \(3, 4, 6\) and targets \(4, 3\)"
    ):
        cross_entropy(z, y.T)
    with pytest.raises(
        ValueError,
        match=r"\bmask\b has shape \(3,\), expected the targets' shape \(3, 4\)",
    ):
        cross_entropy(z, y, mask=np.ones(B))


# --------------------------------------------------------------------------- MSE
def test_mse_value_and_gradient(xp, on, rng):
    pred, target = rng.standard_normal((B, S, 2)), rng.standard_normal((B, S, 2))
    loss, d = mse(on(pred), on(target))
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, ((pred - target) ** 2).mean(), rtol=1e-14)
    np.testing.assert_allclose(_np(d), 2 * (pred - target) / pred.size, rtol=1e-14)
    p = on(pred)
    num = numerical_gradient(lambda: mse(p, on(target))[0], p)
    assert relative_error(d, num) < 1e-8


@pytest.mark.parametrize(
    "full_shape", [True, False], ids=["mask_like_pred", "mask_per_step"]
)
def test_mse_with_mask(xp, on, rng, data, full_shape):
    _, _, steps = data  # (B, S) mask of real time steps
    pred, target = rng.standard_normal((B, S, 2)), rng.standard_normal((B, S, 2))
    keep = np.broadcast_to(steps[..., None], pred.shape).astype(bool)
    mask = keep.astype(np.float64) if full_shape else steps
    loss, d = mse(on(pred), on(target), mask=on(mask))
    n_real = int(keep.sum())
    np.testing.assert_allclose(
        loss, ((pred - target)[keep] ** 2).sum() / n_real, rtol=1e-14
    )
    d = _np(d)
    assert not d[~keep].any()
    np.testing.assert_allclose(d[keep], 2 * (pred - target)[keep] / n_real, rtol=1e-14)
    p = on(pred)
    num = numerical_gradient(lambda: mse(p, on(target), mask=on(mask))[0], p)
    assert relative_error(on(d), num) < 1e-8


def test_mse_equals_torch_on_real_entries(torch, rng, data):
    _, _, steps = data
    pred, target = rng.standard_normal((B, S, 2)), rng.standard_normal((B, S, 2))
    keep = steps.astype(bool)
    pt = torch.tensor(pred[keep], requires_grad=True)
    ref = torch.nn.functional.mse_loss(pt, torch.tensor(target[keep]))
    ref.backward()
    loss, d = mse(pred, target, mask=steps)
    np.testing.assert_allclose(loss, ref.item(), rtol=1e-13)
    np.testing.assert_allclose(d[keep], pt.grad.numpy(), rtol=1e-13)


def test_mse_bad_input():
    with pytest.raises(ValueError, match="mask selects no entries"):
        mse(np.ones((2, 3)), np.zeros((2, 3)), mask=np.zeros((2, 3)))
    with pytest.raises(
        ValueError, match=r"\bpred\b has shape \(2, 3\) but \btarget\b has \(3, 2\)"
    ):
        mse(np.ones((2, 3)), np.zeros((3, 2)))
    with pytest.raises(
        ValueError, match=r"\bmask\b has shape \(3,\), expected \(2, 3\) or \(2,\)"
    ):
        mse(np.ones((2, 3)), np.zeros((2, 3)), mask=np.ones(3))


def test_losses_reject_mixed_devices(need_cuda):
    cupy = need_cuda
    with pytest.raises(ValueError, match="different devices"):
        cross_entropy(cupy.zeros((2, 3)), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="different devices"):
        mse(cupy.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="different devices"):
        cross_entropy(cupy.zeros((2, 3)), cupy.zeros(2, np.int64), mask=np.ones(2))
    with pytest.raises(ValueError, match="different devices"):
        mse(cupy.zeros((2, 3)), cupy.zeros((2, 3)), mask=np.ones((2, 3)))


def test_zero_total_class_weight_is_a_clear_error():
    with pytest.raises(ValueError, match="class weights sum to 0"):
        cross_entropy(
            np.zeros((2, 3)), np.array([0, 0]), weight=np.array([0.0, 1.0, 1.0])
        )


# ------------------------------------------------- Gaussian NLL and pinball
def _gaussian_pred(rng, shape=(B, S)):
    pred = rng.standard_normal(shape + (2,))
    pred[..., 1] = np.abs(pred[..., 1]) + 0.2
    return pred


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_equals_torch_with_its_gradients(
    xp, on, torch, rng, reduction, full
):
    pred, y = _gaussian_pred(rng), rng.standard_normal((B, S))
    pred[0, 0, 1] = 1e-9  # below eps: clamped for the value, not for the gradient
    pt = torch.tensor(pred, requires_grad=True)
    ref = torch.nn.GaussianNLLLoss(full=full, reduction=reduction)(
        pt[..., 0], torch.tensor(y), pt[..., 1]
    )
    ref.backward(torch.ones_like(ref))
    loss, d = rnnlab.gaussian_nll(on(pred), on(y), full=full, reduction=reduction)
    np.testing.assert_allclose(_np(loss), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(d), pt.grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gaussian_nll_gradient_matches_finite_differences(xp, on, rng, reduction):
    p, y = on(_gaussian_pred(rng)), on(rng.standard_normal((B, S)))
    _, d = rnnlab.gaussian_nll(p, y, reduction=reduction)
    num = numerical_gradient(
        lambda: rnnlab.gaussian_nll(p, y, reduction=reduction)[0], p
    )
    assert relative_error(d, num) < 1e-8


def test_gaussian_nll_is_smallest_at_the_true_variance(rng):
    """Its expectation over y ~ N(0, 4) is smallest for the variance 4."""
    y = 2 * rng.standard_normal(200_000)
    losses = {
        v: rnnlab.gaussian_nll(np.stack([0 * y, v + 0 * y], -1), y)[0]
        for v in (1.0, 2.0, 4.0, 8.0)
    }
    assert min(losses, key=losses.get) == 4.0


def test_pinball_value_gradient_and_its_quantile(xp, on, rng):
    q = (0.1, 0.5, 0.9)
    pred, y = rng.standard_normal((B, S, 3)), rng.standard_normal((B, S))
    loss, d = rnnlab.pinball(on(pred), on(y), q, reduction="none")
    u = y[..., None] - pred
    qa = np.array(q)
    np.testing.assert_allclose(_np(loss), np.where(u > 0, qa * u, (qa - 1) * u))
    p = on(pred)
    num = numerical_gradient(lambda: rnnlab.pinball(p, on(y), q)[0], p)
    assert relative_error(rnnlab.pinball(p, on(y), q)[1], num) < 1e-8
    # the median's pinball loss is half the absolute error
    half = rnnlab.pinball(on(pred[..., 1:2]), on(y), [0.5])[0]
    assert abs(half - 0.5 * np.abs(y - pred[..., 1]).mean()) < 1e-12


def test_pinball_is_smallest_at_the_quantile(rng):
    y = rng.exponential(size=100_000)
    grid = np.linspace(0, 4, 401)
    losses = [rnnlab.pinball(np.full((y.size, 1), c), y, [0.9])[0] for c in grid]
    assert abs(grid[int(np.argmin(losses))] - np.quantile(y, 0.9)) < 0.02


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: rnnlab.gaussian_nll(np.zeros((3, 1)), np.zeros(3)), r"\(\.\.\., 2\)"),
        (lambda: rnnlab.gaussian_nll(np.zeros((3, 2)), np.zeros(4)), "must match"),
        (lambda: rnnlab.gaussian_nll(-np.ones((3, 2)), np.zeros(3)), "negative varia"),
        (
            lambda: rnnlab.pinball(np.zeros((3, 2)), np.zeros(3), [0.5]),
            r"\(\.\.\., 1\)",
        ),
        (lambda: rnnlab.pinball(np.zeros((3, 1)), np.zeros(3), [1.5]), r"in \(0, 1\)"),
        (
            lambda: rnnlab.pinball(np.zeros((3, 1)), np.zeros(3), [0.5], reduction="x"),
            "reduction",
        ),
    ],
)
def test_distribution_losses_name_bad_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# ---------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_equals_torch_with_gradients(
    xp, on, torch, rng, reduction, weighted
):
    z = 4 * rng.standard_normal((B, S, V))
    y = (rng.random((B, S, V)) < 0.3).astype(float)
    y[0, 0, :2] = [0.25, 0.75]  # soft targets too
    pw = rng.uniform(0.5, 3, V) if weighted else None
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.BCEWithLogitsLoss(
        pos_weight=None if pw is None else torch.tensor(pw), reduction=reduction
    )(zt, torch.tensor(y))
    ref.backward(torch.ones_like(ref))
    pw_on = None if pw is None else on(pw)
    loss, d = rnnlab.bce_with_logits(
        on(z), on(y), pos_weight=pw_on, reduction=reduction
    )
    np.testing.assert_allclose(_np(loss), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(d), zt.grad.numpy(), atol=1e-14)


def test_bce_with_logits_finite_differences_mask_and_extreme_logits(xp, on, rng):
    z, y = on(rng.standard_normal((B, S, V))), on((rng.random((B, S, V)) < 0.5) * 1.0)
    mask = np.ones((B, S))
    mask[0, 2:] = 0
    loss, d = rnnlab.bce_with_logits(z, y, mask=on(mask))
    num = numerical_gradient(lambda: rnnlab.bce_with_logits(z, y, mask=on(mask))[0], z)
    assert relative_error(d, num) < 1e-8
    assert (_np(d)[0, 2:] == 0).all()
    # masked steps do not count: the mean is over the real entries only
    full, _ = rnnlab.bce_with_logits(z, y, reduction="none")
    assert loss == pytest.approx(
        float((_np(full) * mask[..., None]).sum() / (mask.sum() * V))
    )
    big = on(np.array([[800.0, -800.0]]))
    value, grad = rnnlab.bce_with_logits(
        big, on(np.array([[0.0, 1.0]])), reduction="sum"
    )
    assert value == pytest.approx(1600.0) and np.isfinite(_np(grad)).all()


def test_bce_with_logits_names_bad_input():
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        rnnlab.bce_with_logits(np.zeros(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="must match"):
        rnnlab.bce_with_logits(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="mask selects no entries"):
        rnnlab.bce_with_logits(np.zeros((2, 3)), np.zeros((2, 3)), mask=np.zeros(2))
