"""rnnlab.interop: weights in and out of PyTorch."""

import numpy as np
import pytest

import rnnlab
from rnnlab import RNN, interop

D, H, T, N = 3, 5, 4, 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    "nonlinearity, batch_first, num_layers", [("tanh", False, 1), ("relu", True, 3)]
)
def test_rnnlab_to_torch_to_rnnlab_is_bit_identical(
    torch, dtype, bias, nonlinearity, batch_first, num_layers
):
    rnnlab.seed(2)
    # torch warns about dropout on a single layer
    dropout = 0.25 if num_layers > 1 else 0.0
    m = RNN(
        D,
        H,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        batch_first=batch_first,
        dropout=dropout,
        dtype=dtype,
    ).eval()
    tm = interop.to_torch(m)
    assert isinstance(tm, torch.nn.RNN)
    assert all(p.dtype == getattr(torch, np.dtype(dtype).name) for p in tm.parameters())
    assert (
        tm.input_size,
        tm.hidden_size,
        tm.num_layers,
        tm.nonlinearity,
        tm.bias,
        tm.batch_first,
        tm.dropout,
    ) == (D, H, num_layers, nonlinearity, bias, batch_first, dropout)
    assert not tm.training
    back = interop.from_torch(tm)
    assert (
        back.num_layers,
        back.nonlinearity,
        back.bias,
        back.batch_first,
        back.dropout,
        back.training,
    ) == (num_layers, nonlinearity, bias, batch_first, dropout, False)
    assert list(back.params) == list(m.params)
    for k, p in m.params.items():
        q = back.params[k]
        assert q.dtype == p.dtype == dtype, k
        assert p.tobytes() == q.tobytes(), k  # bit-identical


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_torch_to_rnnlab_to_torch_computes_the_same(torch, dtype, tol, num_layers):
    torch.manual_seed(1)
    tm = torch.nn.RNN(
        D, H, num_layers=num_layers, dtype=getattr(torch, np.dtype(dtype).name)
    )
    tm2 = interop.to_torch(interop.from_torch(tm))
    x = torch.tensor(np.random.default_rng(0).standard_normal((T, N, D)).astype(dtype))
    with torch.no_grad():
        out, hn = tm(x)
        out2, hn2 = tm2(x)
    # the two PyTorch bias vectors are folded into one, so only the rounding of b_ih +
    # b_hh differs
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(hn2.numpy(), hn.numpy(), rtol=tol, atol=tol)
    sd, sd2 = tm.state_dict(), tm2.state_dict()
    for k in sd:
        if k.startswith("weight"):
            assert torch.equal(sd[k], sd2[k]), k
    for l in range(num_layers):
        torch.testing.assert_close(
            sd2[f"bias_ih_l{l}"] + sd2[f"bias_hh_l{l}"],
            sd[f"bias_ih_l{l}"] + sd[f"bias_hh_l{l}"],
            rtol=0,
            atol=0,
        )
        assert not sd2[f"bias_hh_l{l}"].any()


@pytest.mark.parametrize("bias", [True, False])
def test_torch_state_dict_has_torchs_keys_and_shapes(torch, bias):
    m = RNN(D, H, num_layers=2, bias=bias)
    tm = torch.nn.RNN(D, H, num_layers=2, bias=bias)
    ours, theirs = interop.torch_state_dict(m), tm.state_dict()
    assert list(ours) == list(theirs)
    for k in theirs:
        assert ours[k].shape == tuple(theirs[k].shape), k
        assert ours[k].dtype == np.float32
    grads = interop.torch_state_dict(m, grads=True)
    assert list(grads) == list(theirs)


def test_torch_state_dict_values_and_bias_split(torch):
    m = RNN(D, H, num_layers=1)
    for k, v in m.grads.items():
        v[...] = np.arange(v.size, dtype=v.dtype).reshape(v.shape)
    sd = interop.torch_state_dict(m)
    np.testing.assert_array_equal(sd["weight_ih_l0"], m.params["W_xh_l0"])
    np.testing.assert_array_equal(sd["bias_ih_l0"], m.params["b_h_l0"])
    assert not sd["bias_hh_l0"].any()
    g = interop.torch_state_dict(m, grads=True)
    np.testing.assert_array_equal(g["bias_ih_l0"], m.grads["b_h_l0"])
    # dL/db_hh = dL/db_ih = dL/db_h
    np.testing.assert_array_equal(g["bias_hh_l0"], m.grads["b_h_l0"])
    sd["weight_ih_l0"][...] = 0  # a copy, not a view of the module's arrays
    assert m.params["W_xh_l0"].any()


def test_from_torch_sums_the_two_biases(torch):
    torch.manual_seed(0)
    tm = torch.nn.RNN(D, H, dtype=torch.float64)
    m = interop.from_torch(tm)
    sd = tm.state_dict()
    np.testing.assert_array_equal(
        m.params["b_h_l0"], (sd["bias_ih_l0"] + sd["bias_hh_l0"]).numpy()
    )
    np.testing.assert_array_equal(m.params["W_hh_l0"], sd["weight_hh_l0"].numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(torch, dtype):
    tdtype = getattr(torch, np.dtype(dtype).name)
    m = interop.from_torch(torch.nn.RNN(D, H, dtype=tdtype))
    assert m.dtype == dtype and all(p.dtype == dtype for p in m.params.values())
    assert all(p.dtype == tdtype for p in interop.to_torch(m).parameters())
    assert all(v.dtype == dtype for v in interop.torch_state_dict(m).values())


def test_training_flag_is_carried_over(torch):
    tm = torch.nn.RNN(D, H)
    assert interop.from_torch(tm.train()).training
    assert not interop.from_torch(tm.eval()).training
    assert interop.to_torch(RNN(D, H)).training
    assert not interop.to_torch(RNN(D, H).eval()).training


def test_to_torch_from_a_gpu_module(xp, device, torch):
    m = RNN(D, H, dtype=np.float64)
    ref = {k: v.copy() for k, v in m.params.items()}
    tm = interop.to_torch(m.to(device))
    assert all(p.device.type == "cpu" for p in tm.parameters())
    np.testing.assert_array_equal(tm.weight_hh_l0.detach().numpy(), ref["W_hh_l0"])


def test_unsupported_modules_raise_type_error(torch):
    with pytest.raises(
        TypeError, match=r"from_torch supports torch\.nn\.RNN, LSTM and GRU, got Linear"
    ):
        interop.from_torch(torch.nn.Linear(D, H))
    with pytest.raises(
        TypeError, match=r"interop supports rnnlab\.RNN, LSTM and GRU, got Linear"
    ):
        interop.to_torch(rnnlab.Linear(D, H))
    with pytest.raises(
        TypeError, match=r"interop supports rnnlab\.RNN, LSTM and GRU, got RNNCell"
    ):
        interop.torch_state_dict(rnnlab.RNNCell(D, H))


def test_unsupported_torch_configurations(torch):
    with pytest.raises(ValueError, match="proj_size"):
        interop.from_torch(torch.nn.LSTM(D, H, proj_size=2))


def test_unsupported_dtype(torch):
    if np.dtype(np.longdouble) == np.float64:
        pytest.skip("longdouble is float64 on this platform")
    m = RNN(D, H).to(dtype=np.longdouble)
    with pytest.raises(TypeError, match="no torch dtype"):
        interop.to_torch(m)
