"""rnnlab.gradcheck: the finite-difference checker.

It must pass correct backwards and catch wrong ones.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import Module, assert_gradients_close, check_module
from rnnlab.gradcheck import numerical_gradient, relative_error


class Scale(Module):
    """y = x * w (w broadcast over rows).

    Its backward can be broken on purpose.
    """

    def __init__(self, n, wrong_param=False, wrong_input=False, no_input_grad=False):
        super().__init__()
        self.add_param("w", np.random.default_rng(0).standard_normal(n))
        self.wrong_param, self.wrong_input, self.no_input_grad = (
            wrong_param,
            wrong_input,
            no_input_grad,
        )

    def forward(self, x):
        self.save_for_backward(x)
        return x * self.params["w"]

    def backward(self, dy):
        x = self.saved()
        dw = (dy * x).sum(axis=0)
        self.grads["w"] += 2 * dw if self.wrong_param else dw  # deliberate factor-2 bug
        if self.no_input_grad:
            return None
        dx = dy * self.params["w"]
        # deliberately scrambled
        return dx.T.reshape(dx.shape) if self.wrong_input else dx


def test_numerical_gradient_of_a_known_function(xp, randn):
    x = randn(3, 4)
    num = numerical_gradient(lambda: float((x**3).sum()), x)
    np.testing.assert_allclose(
        rnnlab.to_numpy(num), 3 * rnnlab.to_numpy(x) ** 2, rtol=1e-8, atol=1e-9
    )


def test_numerical_gradient_restores_x_and_respects_indices(xp, randn):
    x = randn(5)
    before = rnnlab.to_numpy(x).copy()
    num = rnnlab.to_numpy(
        numerical_gradient(lambda: float((x * x).sum()), x, indices=[1, 3])
    )
    assert rnnlab.to_numpy(x).tobytes() == before.tobytes()
    np.testing.assert_allclose(num[[1, 3]], 2 * before[[1, 3]], rtol=1e-8)
    assert num[0] == num[2] == num[4] == 0


def test_numerical_gradient_rejects_float32():
    x = np.ones(3, np.float32)
    with pytest.raises(TypeError, match="need float64.*float32"):
        numerical_gradient(lambda: float(x.sum()), x)


def test_relative_error():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(a, -a) == 1.0
    assert relative_error(a, 2 * a) == pytest.approx(1 / 3)
    assert relative_error(a, 2 * a) == relative_error(2 * a, a)


def test_correct_backward_passes(xp, device, randn):
    errors = check_module(Scale(4).to(device), randn(3, 4))
    assert set(errors) == {"param w", "input 0"}
    assert max(errors.values()) < 1e-8
    assert_gradients_close(errors)


def test_wrong_parameter_gradient_is_caught(xp, device, randn):
    errors = check_module(Scale(4, wrong_param=True).to(device), randn(3, 4))
    assert errors["param w"] > 0.3  # |2g - g| / (|2g| + |g|) = 1/3
    assert errors["input 0"] < 1e-8
    with pytest.raises(AssertionError, match=r"relative error > 1e-06.*param w"):
        assert_gradients_close(errors)


def test_wrong_input_gradient_is_caught(xp, device, randn):
    errors = check_module(Scale(3, wrong_input=True).to(device), randn(3, 3))
    assert errors["input 0"] > 0.1 and errors["param w"] < 1e-8
    with pytest.raises(AssertionError, match="input 0"):
        assert_gradients_close(errors)


def test_missing_input_gradient_is_an_error():
    with pytest.raises(AssertionError, match="no gradient for float input 0"):
        check_module(Scale(3, no_input_grad=True), np.ones((2, 3)))


def test_check_module_needs_float64():
    m = Scale(3).to(dtype=np.float32)
    with pytest.raises(
        TypeError, match=r"check_module needs float64 parameters and inputs"
    ):
        check_module(m, np.ones((2, 3), np.float32))


def test_max_entries_checks_a_subset(xp, device, randn):
    m = rnnlab.Linear(20, 10, dtype=np.float64).to(device)
    errors = check_module(m, randn(4, 20), max_entries=7)
    assert_gradients_close(errors)
    bad = check_module(
        Scale(30, wrong_param=True).to(device), randn(2, 30), max_entries=5
    )
    assert bad["param w"] > 0.3  # a subset still catches a wrong backward


def test_assert_gradients_close_treats_nan_as_failure():
    with pytest.raises(AssertionError, match="param W"):
        assert_gradients_close({"param W": float("nan"), "input 0": 0.0})
    assert_gradients_close({"param W": 1e-9}, tol=1e-6)
    with pytest.raises(AssertionError):
        assert_gradients_close({"param W": 1e-5}, tol=1e-6)
