"""rnnlab.nn.layers: Linear, Embedding and Dropout.

Values, shapes, gradients, bad input.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import Dropout, Embedding, Linear, check_module, assert_gradients_close
from rnnlab.gradcheck import numerical_gradient


# --------------------------------------------------------------------------- Linear
@pytest.mark.parametrize("shape", [(5,), (4, 5), (3, 4, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_shapes_and_values(xp, device, randn, shape, bias):
    m = Linear(5, 3, bias=bias, dtype=np.float64).to(device)
    x = randn(*shape)
    y = m(x)
    assert y.shape == shape[:-1] + (3,) and y.dtype == np.float64
    W = rnnlab.to_numpy(m.params["W"])
    ref = rnnlab.to_numpy(x) @ W.T + (rnnlab.to_numpy(m.params["b"]) if bias else 0)
    np.testing.assert_allclose(rnnlab.to_numpy(y), ref, rtol=1e-13)
    assert ("b" in m.params) == bias


def test_linear_initialisation_like_torch():
    m = Linear(16, 8)
    k = 1 / np.sqrt(16)
    assert m.params["W"].shape == (8, 16) and m.params["b"].shape == (8,)
    assert m.dtype == np.float32
    assert np.abs(m.params["W"]).max() <= k and np.abs(m.params["b"]).max() <= k
    assert m.params["W"].std() > k / 3  # not all zeros / not degenerate


@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(xp, device, randn, shape, bias):
    m = Linear(5, 3, bias=bias, dtype=np.float64).to(device)
    errors = check_module(m, randn(*shape))
    assert set(errors) == {"param W", "input 0"} | ({"param b"} if bias else set())
    assert_gradients_close(errors, tol=1e-6)


def test_linear_float32_forward_backward_keeps_dtype(xp, device, randn):
    m = Linear(5, 3).to(device)
    y = m(randn(2, 5, dtype=np.float32))
    dx = m.backward(randn(2, 3, dtype=np.float32))
    assert y.dtype == dx.dtype == m.grads["W"].dtype == np.float32


# --------------------------------------------------------------------------- Embedding
def test_embedding_shapes_and_values(xp, device, on):
    m = Embedding(7, 4).to(device)
    idx = on(np.array([[0, 6, 3], [3, 3, 1]]))
    out = m(idx)
    assert out.shape == (2, 3, 4) and out.dtype == np.float32
    W = rnnlab.to_numpy(m.params["W"])
    np.testing.assert_array_equal(
        rnnlab.to_numpy(out), W[np.array([[0, 6, 3], [3, 3, 1]])]
    )


def test_embedding_gradients(xp, device, on):
    m = Embedding(6, 3, dtype=np.float64).to(device)
    errors = check_module(m, on(np.array([[1, 5, 1], [0, 1, 5]])))
    assert set(errors) == {"param W"}  # integer indices have no gradient
    assert_gradients_close(errors, tol=1e-6)


def test_embedding_backward_accumulates_repeated_indices(xp, device, on, rng):
    m = Embedding(5, 3, dtype=np.float64).to(device)
    idx = np.array([[2, 2, 0], [2, 4, 0]])
    dout = rng.standard_normal((2, 3, 3))
    m(on(idx))
    assert m.backward(on(dout)) is None
    expected = np.zeros((5, 3))
    for i in range(2):
        for j in range(3):
            expected[idx[i, j]] += dout[i, j]
    np.testing.assert_allclose(rnnlab.to_numpy(m.grads["W"]), expected, rtol=1e-15)
    assert not expected[[1, 3]].any()


# --------------------------------------------------------------------------- Dropout
def test_dropout_is_identity_in_eval_mode(xp, randn):
    m = Dropout(0.5).eval()
    x = randn(4, 6, dtype=np.float32)
    assert m(x) is x
    d = randn(4, 6, dtype=np.float32)
    assert m.backward(d) is d


def test_dropout_with_p0_is_identity_in_training(xp, randn):
    m = Dropout(0.0)
    x = randn(3, 3)
    assert m.training and m(x) is x


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keep_rate_and_scaling(xp, on, p):
    m = Dropout(p)
    x = on(np.ones((200, 500), np.float32))
    y = rnnlab.to_numpy(m(x))
    kept = y != 0
    scale = np.float32(1) / np.float32(1 - p)
    np.testing.assert_array_equal(y[kept], scale)  # survivors scaled by exactly 1/(1-p)
    n = y.size
    sigma = np.sqrt(p * (1 - p) / n)
    # keep rate 1-p (6 sigma: ~1e-9 false alarms)
    assert abs(kept.mean() - (1 - p)) < 6 * sigma
    assert abs(y.mean() - 1.0) < 6 * sigma * scale  # inverted dropout keeps the mean
    # backward reuses the same mask
    dx = rnnlab.to_numpy(m.backward(on(np.full((200, 500), 2.0, np.float32))))
    np.testing.assert_array_equal(dx, 2 * y)


def test_dropout_masks_are_reproducible_from_the_seed(xp, on):
    x = on(np.ones((10, 10)))
    rnnlab.seed(3)
    a = rnnlab.to_numpy(Dropout(0.5)(x))
    rnnlab.seed(3)
    b = rnnlab.to_numpy(Dropout(0.5)(x))
    c = rnnlab.to_numpy(Dropout(0.5)(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_dropout_gradient_by_finite_differences(xp, randn):
    # Dropout's backward checked directly: the mask is fixed by reseeding before each
    # forward.
    x = randn(4, 5)
    g = randn(4, 5)
    m = Dropout(0.4)

    def loss():
        rnnlab.seed(11)
        return float((m(x) * g).sum())

    loss()
    dx = m.backward(g)
    num = numerical_gradient(loss, x)
    assert rnnlab.gradcheck.relative_error(dx, num) < 1e-9
    assert (rnnlab.to_numpy(dx) == 0).any()  # the mask did drop something


def test_dropout_gradients_with_check_module(xp, randn):
    # Regression (was a bug): check_module decides "float64 module?" from module.dtype,
    # and a module without parameters (Dropout) reports float32, so
    # check_module(Dropout(p), float64_x) raises TypeError instead of checking the input
    # gradient.
    errors = check_module(Dropout(0.4), randn(4, 5))
    assert set(errors) == {"input 0"}
    assert_gradients_close(errors, tol=1e-6)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_bad_probability(p):
    with pytest.raises(ValueError, match=r"dropout probability p must be in \[0, 1\)"):
        Dropout(p)


# --------------------------------------------------------------------------- bad input
def test_linear_wrong_last_size():
    with pytest.raises(
        ValueError, match=r"\bx\b has size 4 in its last dimension, expected 5"
    ):
        Linear(5, 3)(np.zeros((2, 4), np.float32))


def test_linear_wrong_dtype():
    with pytest.raises(
        TypeError,
        match=r"\bx\b has dtype float64 but the module's parameters are float32",
    ):
        Linear(5, 3)(np.zeros((2, 5)))


def test_linear_not_an_array():
    with pytest.raises(TypeError, match=r"\bx\b must be a NumPy or CuPy array"):
        Linear(2, 3)([[1.0, 2.0]])


def test_linear_empty_input():
    with pytest.raises(ValueError, match=r"\bx\b is empty"):
        Linear(5, 3)(np.zeros((0, 5), np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_linear_non_finite_input(bad):
    x = np.zeros((2, 5), np.float32)
    x[1, 2] = bad
    with pytest.raises(ValueError, match=r"\bx\b contains NaN or infinite values"):
        Linear(5, 3)(x)


def test_linear_device_mismatch(need_cuda):
    m = Linear(5, 3).to("cuda")
    with pytest.raises(
        ValueError, match=r"\bx\b is on cpu but the module's parameters are on cuda"
    ):
        m(np.zeros((2, 5), np.float32))


def test_linear_backward_before_forward():
    # Regression (was a bug): Linear.backward without a forward dies with
    # AttributeError ('NoneType' object has no attribute 'reshape') instead of the
    # RuntimeError that RNN and RNNCell raise.
    with pytest.raises(RuntimeError, match="forward"):
        Linear(5, 3).backward(np.zeros((2, 3), np.float32))


def test_linear_backward_wrong_dy_shape():
    # Regression (was a bug): Linear.backward does not check dy. A dy of the wrong shape
    # but the right size is reshaped into the weight gradient (corrupting grads["W"])
    # before a NumPy matmul error that does not name the argument.
    m = Linear(3, 2)
    m(np.ones((3, 3), np.float32))
    with pytest.raises(ValueError, match=r"\bdy\b"):
        m.backward(np.ones((2, 3), np.float32))
    assert not m.grads["W"].any()


def test_embedding_float_indices():
    with pytest.raises(
        TypeError, match=r"\bidx\b must have an integer dtype, got float32"
    ):
        Embedding(5, 3)(np.array([1.0, 2.0], np.float32))
    with pytest.raises(
        TypeError, match=r"\bidx\b must have an integer dtype, got bool"
    ):
        Embedding(5, 3)(np.array([True, False]))


def test_embedding_not_an_array():
    with pytest.raises(TypeError, match=r"\bidx\b must be an integer array"):
        Embedding(5, 3)([1, 2])


@pytest.mark.parametrize("bad", [5, -1, 100])
def test_embedding_out_of_range_indices(bad):
    with pytest.raises(
        ValueError, match=r"\bidx\b holds indices in .*expected values in \[0, 4\]"
    ):
        Embedding(5, 3)(np.array([[0, bad], [1, 2]]))


def test_embedding_empty_indices():
    with pytest.raises(ValueError, match=r"\bidx\b is empty"):
        Embedding(5, 3)(np.zeros((0, 4), np.int64))


def test_embedding_device_mismatch(need_cuda):
    cupy = need_cuda
    with pytest.raises(
        ValueError, match=r"\bidx\b is on cuda but the embedding is on cpu"
    ):
        Embedding(5, 3)(cupy.asarray([1, 2]))
    with pytest.raises(
        ValueError, match=r"\bidx\b is on cpu but the embedding is on cuda"
    ):
        Embedding(5, 3).to("cuda")(np.array([1, 2]))


def test_embedding_backward_before_forward():
    # Regression (was a bug): AttributeError ('NoneType' has no 'reshape') instead of
    # RuntimeError.
    with pytest.raises(RuntimeError, match="forward"):
        Embedding(5, 3).backward(np.zeros((2, 3), np.float32))


def test_embedding_backward_wrong_dout_shape():
    # Regression (was a bug): Embedding.backward does not check dout; a dout of the
    # right size but the wrong shape, e.g. (3, 2) for idx of shape (2,) and dim 3, is
    # reshaped to (2, 3) and silently scattered into the wrong rows.
    m = Embedding(5, 3)
    m(np.array([0, 4]))
    with pytest.raises(ValueError, match=r"\bdout\b"):
        m.backward(np.ones((3, 2), np.float32))
