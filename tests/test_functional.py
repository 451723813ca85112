"""rnnlab.nn.functional: stable sigmoid, softmax and log-softmax; RNN activations."""

import warnings

import numpy as np
import pytest

import rnnlab
from rnnlab.nn import functional as F


@pytest.fixture
def strict_fp():
    """Overflow, invalid (NaN) and divide-by-zero raise.

    Underflow to 0 is the correct answer, so it does not.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_at_extremes(xp, on, strict_fp, dtype):
    x = on(np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype))
    s = rnnlab.to_numpy(F.sigmoid(x))
    assert s.dtype == dtype
    assert np.isfinite(s).all()
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert ((s >= 0) & (s <= 1)).all()


def test_sigmoid_matches_the_definition(xp, on):
    xs = np.linspace(-40, 40, 801)
    got = rnnlab.to_numpy(F.sigmoid(on(xs)))
    ref = 1.0 / (1.0 + np.exp(-xs))  # safe in this range
    # absolute tolerance: for x << 0 the tanh form loses relative (not absolute)
    # accuracy
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    # x >= 0: full relative accuracy
    np.testing.assert_allclose(got[400:], ref[400:], rtol=1e-15)


def test_sigmoid_writes_into_out(xp, on):
    x = on(np.array([-2.0, 0.5, 3.0]))
    out = on(np.empty(3))
    res = F.sigmoid(x, out=out)
    assert res is out
    np.testing.assert_allclose(
        rnnlab.to_numpy(out), 1 / (1 + np.exp(-np.array([-2.0, 0.5, 3.0]))), rtol=1e-14
    )
    # input untouched
    np.testing.assert_array_equal(rnnlab.to_numpy(x), [-2.0, 0.5, 3.0])


def test_softmax_is_stable_with_huge_logits(xp, on, strict_fp):
    z = np.array(
        [
            [1000.0, 0.0, -1000.0],
            [1e6, 1e6 - 1.0, 1e6 - 2.0],
            [-1e6, -1e6, -1e6],
            [0.0, 0.0, 0.0],
        ]
    )
    p = rnnlab.to_numpy(F.softmax(on(z)))
    lp = rnnlab.to_numpy(F.log_softmax(on(z)))
    assert np.isfinite(p).all() and np.isfinite(lp).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(lp[0], [0.0, -1000.0, -2000.0], rtol=1e-15)
    small = np.array([0.0, -1.0, -2.0])
    ref = np.exp(small) / np.exp(small).sum()
    np.testing.assert_allclose(p[1], ref, rtol=1e-12)  # shift invariance
    np.testing.assert_allclose(lp[1], np.log(ref), rtol=1e-12)
    np.testing.assert_allclose(p[2], 1 / 3, rtol=1e-15)
    np.testing.assert_allclose(p[3], 1 / 3, rtol=1e-15)


def test_softmax_and_log_softmax_agree_and_follow_axis(xp, randn):
    z = randn(3, 4, 5, scale=3.0)
    for axis in (0, 1, -1):
        p = rnnlab.to_numpy(F.softmax(z, axis=axis))
        lp = rnnlab.to_numpy(F.log_softmax(z, axis=axis))
        np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-14)
        np.testing.assert_allclose(np.exp(lp), p, rtol=1e-13)
        zn = rnnlab.to_numpy(z)
        ref = np.exp(zn) / np.exp(zn).sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(p, ref, rtol=1e-13)


def test_softmax_keeps_float32(xp, randn):
    z = randn(2, 7, dtype=np.float32)
    assert F.softmax(z).dtype == np.float32
    assert F.log_softmax(z).dtype == np.float32


@pytest.mark.parametrize("name", ["tanh", "relu"])
def test_activation_derivative_from_output_matches_finite_differences(xp, on, name):
    f, df = F.activation(name)
    a = np.array([-2.0, -0.3, 0.4, 1.7, 3.0])  # away from relu's kink
    h = f(on(a))
    eps = 1e-6
    num = (rnnlab.to_numpy(f(on(a + eps))) - rnnlab.to_numpy(f(on(a - eps)))) / (
        2 * eps
    )
    np.testing.assert_allclose(rnnlab.to_numpy(df(h)), num, rtol=1e-8, atol=1e-10)
    out = on(np.empty(5))
    assert df(h, out=out) is out
    np.testing.assert_allclose(rnnlab.to_numpy(out), num, rtol=1e-8, atol=1e-10)


def test_relu_and_tanh_values(xp, on):
    a = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(rnnlab.to_numpy(F.relu(on(a))), [0.0, 0.0, 2.0])
    np.testing.assert_allclose(rnnlab.to_numpy(F.tanh(on(a))), np.tanh(a), rtol=1e-15)


def test_unknown_activation_names_the_argument():
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"
    ):
        F.activation("sigmoid")
