"""Initialisation schemes: what each sets, on every layer, and their errors."""

import numpy as np
import pytest

import rnnlab
from rnnlab import GRU, LSTM, RNN
from rnnlab.nn import init


@pytest.mark.parametrize("cls, G", [(RNN, 1), (LSTM, 4), (GRU, 3)])
def test_orthogonal_blocks(cls, G):
    H = 6
    m = init.orthogonal_(cls(3, H, num_layers=2, dtype=np.float64), gain=0.9)
    for l in range(2):
        W = m.params[f"W_hh_l{l}"]
        for b in range(G):
            Q = W[b * H : (b + 1) * H]
            np.testing.assert_allclose(Q @ Q.T, 0.81 * np.eye(H), atol=1e-12)
    assert m.params["W_hh_l0"].dtype == np.float64


def test_orthogonal_is_seeded():
    rnnlab.seed(3)
    a = init.orthogonal_(RNN(2, 4)).params["W_hh_l0"].copy()
    rnnlab.seed(3)
    b = init.orthogonal_(RNN(2, 4)).params["W_hh_l0"]
    np.testing.assert_array_equal(a, b)


def test_identity_zeroes_biases():
    m = init.identity_(RNN(2, 5, num_layers=2, nonlinearity="relu"), gain=1.0)
    for l in range(2):
        np.testing.assert_array_equal(
            m.params[f"W_hh_l{l}"], np.eye(5, dtype=np.float32)
        )
        assert not m.params[f"b_h_l{l}"].any()
    g = init.identity_(GRU(2, 3))
    assert not g.params["b_hn_l0"].any()


def test_forget_bias_sets_only_the_f_block():
    m = LSTM(3, 4, num_layers=2)
    before = m.params["b_h_l1"].copy()
    init.forget_bias_(m, 2.0)
    for l in range(2):
        np.testing.assert_array_equal(m.params[f"b_h_l{l}"][4:8], 2.0)
    np.testing.assert_array_equal(m.params["b_h_l1"][:4], before[:4])
    np.testing.assert_array_equal(m.params["b_h_l1"][8:], before[8:])


def test_forget_bias_equals_torch_convention():
    torch = pytest.importorskip("torch")
    m = init.forget_bias_(LSTM(3, 4), 1.0)
    sd = rnnlab.interop.torch_state_dict(m)
    np.testing.assert_array_equal((sd["bias_ih_l0"] + sd["bias_hh_l0"])[4:8], 1.0)
    assert torch.is_tensor(rnnlab.interop.to_torch(m).bias_ih_l0)


def test_uniform_bounds():
    m = init.uniform_(LSTM(3, 16), bound=0.01)
    assert all(np.abs(p).max() <= 0.01 for p in m.params.values())
    m = init.uniform_(GRU(3, 16))
    assert all(np.abs(p).max() <= 0.25 for p in m.params.values())


def test_errors():
    with pytest.raises(TypeError, match="LSTM"):
        init.forget_bias_(GRU(2, 3))
    with pytest.raises(ValueError, match="bias"):
        init.forget_bias_(LSTM(2, 3, bias=False))
    with pytest.raises(TypeError, match="Linear"):
        init.orthogonal_(rnnlab.Linear(2, 3))
