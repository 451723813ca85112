"""rnnlab.optim: SGD and Adam against torch.optim.

Gradient clipping against torch.nn.utils.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import SGD, Adam, Linear, clip_grad_norm, clip_grad_value

SHAPES = [(3, 4), (4,), (2, 2, 2)]
STEPS = 5


def _np(a):
    return rnnlab.to_numpy(a)


def _problem(rng, dtype):
    """Initial parameters and a fixed sequence of gradients, one list per step."""
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [
        [rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)
    ]
    return params, grads


def _run_ours(make_opt, params, grads, on):
    pairs = [(on(p.copy()), on(np.zeros_like(p))) for p in params]
    arrays = [p for p, _ in pairs]
    opt = make_opt(pairs)
    history = []
    for step_grads in grads:
        for (_, g), new in zip(pairs, step_grads):
            g[...] = on(new)  # in place, as a backward pass does
        opt.step()
        history.append([_np(p).copy() for p, _ in pairs])
    assert all(p is a for (p, _), a in zip(pairs, arrays))  # updated in place
    return history


def _run_torch(torch, make_opt, params, grads):
    tp = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = make_opt(tp)
    history = []
    for step_grads in grads:
        for p, g in zip(tp, step_grads):
            p.grad = torch.tensor(g)
        opt.step()
        history.append([p.detach().numpy().copy() for p in tp])
    return history


def _tol(dtype):
    return (
        dict(rtol=1e-12, atol=1e-14)
        if dtype == np.float64
        else dict(rtol=1e-5, atol=1e-6)
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.5, 0.01)]
)
def test_sgd_matches_torch(xp, on, rng, torch, dtype, momentum, weight_decay):
    params, grads = _problem(rng, dtype)
    ours = _run_ours(
        lambda ps: SGD(ps, lr=0.1, momentum=momentum, weight_decay=weight_decay),
        params,
        grads,
        on,
    )
    ref = _run_torch(
        torch,
        lambda ps: torch.optim.SGD(
            ps, lr=0.1, momentum=momentum, weight_decay=weight_decay
        ),
        params,
        grads,
    )
    for step, (a, b) in enumerate(zip(ours, ref)):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, **_tol(dtype), err_msg=f"step {step}")
    assert not np.allclose(ours[-1][0], params[0])  # something moved


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "betas, weight_decay", [((0.9, 0.999), 0.0), ((0.8, 0.99), 0.01)]
)
def test_adam_matches_torch(xp, on, rng, torch, dtype, betas, weight_decay):
    params, grads = _problem(rng, dtype)
    ours = _run_ours(
        lambda ps: Adam(ps, lr=0.01, betas=betas, eps=1e-8, weight_decay=weight_decay),
        params,
        grads,
        on,
    )
    ref = _run_torch(
        torch,
        lambda ps: torch.optim.Adam(
            ps, lr=0.01, betas=betas, eps=1e-8, weight_decay=weight_decay
        ),
        params,
        grads,
    )
    for step, (a, b) in enumerate(zip(ours, ref)):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, **_tol(dtype), err_msg=f"step {step}")


@pytest.mark.parametrize(
    "make_opt",
    [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.05)],
    ids=["sgd_momentum", "adam"],
)
def test_seeded_regression_loss_goes_down(xp, device, on, make_opt):
    rnnlab.seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3
    x, y = on(x), on(y)
    model = Linear(3, 1).to(device)
    opt = make_opt(model.parameters())
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss, d = rnnlab.mse(model(x), y)
        model.backward(d)
        opt.step()
        losses.append(loss)
    assert losses[-1] < 1e-2 * losses[0]


def test_optimizer_zero_grad_is_in_place(xp, on):
    g = on(np.ones(3))
    opt = SGD([(on(np.zeros(3)), g)], lr=0.1)
    opt.zero_grad()
    assert not _np(g).any()


def test_optimizer_bad_arguments():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match=r"\blr\b must be positive and finite, got 0"):
        Adam([(np.zeros(2), np.zeros(2))], lr=0)
    with pytest.raises(
        ValueError, match=r"\blr\b must be positive and finite, got -0.1"
    ):
        SGD([(np.zeros(2), np.zeros(2))], lr=-0.1)


# --------------------------------------------------------------------------- clipping
@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clipped", "not_clipped"])
def test_clip_grad_norm_matches_torch(xp, on, rng, torch, max_norm):
    grads = [3 * rng.standard_normal(s) for s in SHAPES]
    tp = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, g in zip(tp, grads):
        p.grad = torch.tensor(g)
    ref = torch.nn.utils.clip_grad_norm_(tp, max_norm)
    pairs = [(on(np.zeros_like(g)), on(g.copy())) for g in grads]
    total = clip_grad_norm(pairs, max_norm)
    assert isinstance(total, float)
    # the norm before clipping
    np.testing.assert_allclose(total, ref.item(), rtol=1e-13)
    for (_, g), p in zip(pairs, tp):
        np.testing.assert_allclose(_np(g), p.grad.numpy(), rtol=1e-13)
    new_norm = np.sqrt(sum((_np(g) ** 2).sum() for _, g in pairs))
    assert new_norm <= max_norm * (1 + 1e-12)
    if max_norm > total:
        for (_, g), orig in zip(pairs, grads):
            np.testing.assert_array_equal(_np(g), orig)


def test_clip_grad_norm_of_huge_float32_gradients_is_finite(on):
    # float32 squares overflow above ~1.8e19; the norm is summed in float64 instead
    grads = [on(np.full(s, 1e30, dtype=np.float32)) for s in SHAPES]
    pairs = [(on(np.zeros(s, dtype=np.float32)), g) for s, g in zip(SHAPES, grads)]
    count = sum(int(np.prod(s)) for s in SHAPES)
    with np.errstate(over="raise", invalid="raise"):
        total = clip_grad_norm(pairs, 1.0)
    np.testing.assert_allclose(total, 1e30 * np.sqrt(count), rtol=1e-6)
    for _, g in pairs:
        assert g.dtype == np.float32
        np.testing.assert_allclose(_np(g), 1 / np.sqrt(count), rtol=1e-5)


def test_clip_grad_value_matches_torch(xp, on, rng, torch):
    grads = [2 * rng.standard_normal(s) for s in SHAPES]
    tp = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, g in zip(tp, grads):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    pairs = [(on(np.zeros_like(g)), on(g.copy())) for g in grads]
    arrays = [g for _, g in pairs]
    assert clip_grad_value(pairs, 0.7) is None
    for (_, g), a, p in zip(pairs, arrays, tp):
        assert g is a  # in place
        np.testing.assert_array_equal(_np(g), p.grad.numpy())
    assert max(np.abs(_np(g)).max() for _, g in pairs) == 0.7


def test_nan_and_infinite_lr_are_refused():
    for lr in (float("nan"), float("inf")):
        with pytest.raises(
            ValueError, match=r"\blr\b must be positive and finite, got (nan|inf)"
        ):
            Adam([(np.zeros(2), np.zeros(2))], lr=lr)


# ------------------------------------------------------------------ state and schedules
@pytest.mark.parametrize(
    "make_opt",
    [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.05)],
    ids=["sgd", "adam"],
)
def test_optimizer_state_dict_resumes_bit_exactly(make_opt, rng):
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(6)]

    def run(opt, params, steps):
        for gs in steps:
            for (_, g), new in zip(params, gs):
                g[...] = new
            opt.step()

    params = [(np.ones(s), np.zeros(s)) for s in SHAPES]
    opt = make_opt(params)
    run(opt, params, grads)  # six steps in one go

    half = [(np.ones(s), np.zeros(s)) for s in SHAPES]
    first = make_opt(half)
    run(first, half, grads[:3])
    state = first.state_dict()
    resumed_params = [(p.copy(), g.copy()) for p, g in half]
    resumed = make_opt(resumed_params)
    resumed.load_state_dict(state)
    run(resumed, resumed_params, grads[3:])
    for (p, _), (q, _) in zip(params, resumed_params):
        np.testing.assert_array_equal(p, q)


def test_optimizer_state_of_another_model_is_refused():
    state = Adam([(np.zeros(3), np.zeros(3))]).state_dict()
    with pytest.raises(
        ValueError, match=r"optimizer state has 1 'm' arrays, this optimizer has 2"
    ):
        Adam([(np.zeros(3), np.zeros(3)), (np.zeros(2), np.zeros(2))]).load_state_dict(
            state
        )
    with pytest.raises(
        ValueError,
        match=r"optimizer state 'm' has shape \(3,\) where the parameter has \(4,\)",
    ):
        Adam([(np.zeros(4), np.zeros(4))]).load_state_dict(state)


@pytest.mark.parametrize("kind", ["step", "cosine", "warmup"])
def test_schedules_follow_torch(torch, kind):
    from rnnlab.optim import CosineLR, StepLR, WarmupLR

    ours = SGD([(np.zeros(2), np.zeros(2))], lr=0.5)
    ref_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.5)
    lrs = torch.optim.lr_scheduler
    sched, ref = {
        "step": lambda: (StepLR(ours, 3, gamma=0.5), lrs.StepLR(ref_opt, 3, gamma=0.5)),
        "cosine": lambda: (
            CosineLR(ours, 10, min_lr=0.01),
            lrs.CosineAnnealingLR(ref_opt, 10, 0.01),
        ),
        "warmup": lambda: (
            WarmupLR(ours, 4),
            lrs.LinearLR(ref_opt, 0.25, 1.0, total_iters=3),
        ),
    }[kind]()
    for _ in range(10):
        np.testing.assert_allclose(ours.lr, ref_opt.param_groups[0]["lr"], rtol=1e-12)
        ref_opt.step()
        sched.step()
        ref.step()


def test_schedule_state_resumes():
    from rnnlab.optim import CosineLR

    opt = SGD([(np.zeros(2), np.zeros(2))], lr=1.0)
    sched = CosineLR(opt, 20)
    for _ in range(7):
        sched.step()
    other = SGD([(np.zeros(2), np.zeros(2))], lr=1.0)
    resumed = CosineLR(other, 20)
    resumed.load_state_dict(sched.state_dict())
    assert other.lr == opt.lr
    assert resumed.step() == sched.step()


def test_schedule_bad_arguments():
    from rnnlab.optim import StepLR, WarmupLR

    opt = SGD([(np.zeros(2), np.zeros(2))], lr=1.0)
    with pytest.raises(
        ValueError, match=r"step_size must be a positive integer, got 0"
    ):
        StepLR(opt, 0)
    with pytest.raises(
        ValueError, match=r"warmup_steps must be a positive integer, got 2.5"
    ):
        WarmupLR(opt, 2.5)
    with pytest.raises(
        TypeError, match=r"optimizer must be an rnnlab optimizer, got list"
    ):
        StepLR([], 3)
