"""The synthetic long-range tasks.

Shapes, seeds, and that the targets are what each task defines.
"""

import math

import numpy as np
import pytest

from rnnlab.course import tasks


def test_adding_problem_targets_and_markers():
    x, y = tasks.adding_problem(50, 40, seed=0)
    assert (
        x.shape == (40, 50, 2)
        and y.shape == (50, 1)
        and x.dtype == y.dtype == np.float32
    )
    markers = x[..., 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:20].sum(axis=0) == 1) and np.all(
        markers[20:].sum(axis=0) == 1
    )
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(axis=0), rtol=1e-6)
    assert np.all((x[..., 0] >= 0) & (x[..., 0] < 1))


def test_adding_baseline_is_the_variance_of_the_target():
    _, y = tasks.adding_problem(200_000, 10, seed=1)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(tasks.adding_baseline(), rel=0.01)


@pytest.mark.parametrize(
    "task, args",
    [
        (tasks.adding_problem, (8, 30)),
        (tasks.copy_memory, (8, 30)),
        (tasks.temporal_order, (8, 30)),
    ],
)
def test_seeded(task, args):
    a, b = task(*args, seed=5), task(*args, seed=5)
    c = task(*args, seed=6)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))


def test_copy_memory_layout():
    T, K, S = 15, 4, 5
    x, y = tasks.copy_memory(6, T, n_symbols=S, copy_len=K, seed=2)
    assert x.shape == y.shape == (T + 2 * K, 6) and x.dtype == np.int64
    assert np.all((x[:K] >= 1) & (x[:K] <= S))
    assert (
        np.all(x[K : T + K - 1] == 0)
        and np.all(x[T + K - 1] == S + 1)
        and np.all(x[T + K :] == 0)
    )
    assert np.all(y[: T + K] == 0)
    np.testing.assert_array_equal(y[-K:], x[:K])


def test_copy_memory_baseline_matches_its_strategy():
    T, K, S = 20, 10, 8
    x, y = tasks.copy_memory(1000, T, n_symbols=S, copy_len=K, seed=3)
    # memoryless strategy: blank with probability 1 until the recall, then uniform over
    # the data symbols
    logp = np.where(np.arange(T + 2 * K)[:, None] < T + K, 0.0, np.log(1 / S))
    assert -logp.mean() == pytest.approx(tasks.copy_memory_baseline(T, S, K))
    assert tasks.copy_memory_baseline(T, S, K) == pytest.approx(
        K * math.log(S) / (T + 2 * K)
    )


def test_temporal_order():
    x, y = tasks.temporal_order(500, 50, seed=4)
    assert x.shape == (50, 500, 6) and y.shape == (500,)
    sym = x.argmax(axis=-1)
    np.testing.assert_array_equal(x.sum(axis=-1), 1)
    relevant = sym < 2
    assert np.all(relevant.sum(axis=0) == 2)
    assert (
        not relevant[:5].any() and not relevant[12:25].any() and not relevant[30:].any()
    )
    first = np.array([sym[relevant[:, n], n][0] for n in range(500)])
    second = np.array([sym[relevant[:, n], n][1] for n in range(500)])
    np.testing.assert_array_equal(y, 2 * first + second)
    assert set(np.unique(y)) == {0, 1, 2, 3}
    assert tasks.temporal_order_baseline() == pytest.approx(math.log(4))


@pytest.mark.parametrize(
    "task", [tasks.adding_problem, tasks.copy_memory, tasks.temporal_order]
)
def test_bad_arguments(task):
    with pytest.raises(ValueError, match=r"\bn\b"):
        task(0, 20)
    with pytest.raises(ValueError, match=r"\bT\b"):
        task(4, 0)


def test_lstm_beats_the_adding_baseline_at_modest_T():
    import rnnlab

    rnnlab.seed(0)
    T, H = 20, 16
    lstm, head = rnnlab.LSTM(2, H), rnnlab.Linear(H, 1)
    params = lstm.parameters() + head.parameters()
    opt = rnnlab.Adam(params, lr=1e-2)
    g = np.random.default_rng(0)
    for step in range(600):
        x, y = tasks.adding_problem(32, T, seed=g)
        out, _ = lstm(x)
        loss, dy = rnnlab.mse(head(out[-1]), y)
        opt.zero_grad()
        d_last = head.backward(dy)
        d_out = np.zeros_like(out)
        d_out[-1] = d_last
        lstm.backward(d_out)
        rnnlab.clip_grad_norm(params, 1.0)
        opt.step()
    x, y = tasks.adding_problem(500, T, seed=123)
    test_mse, _ = rnnlab.mse(head(lstm.eval()(x)[0][-1]), y)
    assert test_mse < 0.1 * tasks.adding_baseline()
