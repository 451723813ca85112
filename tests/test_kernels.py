"""The fused GPU kernels (rnnlab.kernels) compute what the NumPy path computes.

Three levels, so that the kernels are checked on every machine:

* the kernel bodies compiled as C++ on the CPU (tests/_kernel_cpu.py) against the
  NumPy pointwise functions, and compiled as CUDA with nvcc where it exists;
* the dispatch: the layers run with their ``launch`` calls routed to the CPU build,
  which checks that each call passes its arguments in the kernel's order;
* on a GPU, the real kernels through CuPy against the unfused CuPy path.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import rnnlab
from rnnlab import backend, kernels
from rnnlab.nn.recurrent import gru, lstm, rnn

import _kernel_cpu
from _helpers import close, to_np

needs_gxx = pytest.mark.skipif(
    not _kernel_cpu.have_gxx(), reason="g++ is not installed"
)
DTYPES = [np.float32, np.float64]


def _tol(dtype):
    # tanh from glibc (the C++ build) and from NumPy differ in the last bits
    return (
        {"rtol": 1e-5, "atol": 1e-6}
        if dtype == np.float32
        else {"rtol": 1e-12, "atol": 1e-13}
    )


def test_every_kernel_is_listed():
    specs = [v for v in vars(kernels).values() if isinstance(v, kernels.Kernel)]
    specs += list(kernels.RNN_FORWARD.values())
    assert {k.name for k in specs} == set(kernels.ALL)


@pytest.mark.skipif(
    shutil.which("nvcc") is None, reason="nvcc (CUDA toolkit) is not installed"
)
def test_kernels_compile_as_cuda():
    _kernel_cpu.nvcc_check()


def test_kernel_specs_parse_in_cupy():
    # building an ElementwiseKernel parses its parameters and needs no GPU, only CuPy
    cupy = pytest.importorskip("cupy")
    for k in kernels.ALL.values():
        ek = cupy.ElementwiseKernel(
            k.in_params, k.out_params, k.body, k.name, preamble=kernels.PREAMBLE
        )
        assert [p.name for p in ek.params if p.name != "_ind"] == [
            n for *_, n in _kernel_cpu.parse(k.in_params + "," + k.out_params)
        ]


# --- kernel bodies on the CPU against the NumPy pointwise functions -------------------


@pytest.fixture
def data(rng):
    def make(*shape, dtype):
        return (1.5 * rng.standard_normal(shape)).astype(dtype)

    return make


@needs_gxx
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_forward_kernel(data, dtype, nonlinearity):
    a, ah = data(3, 5, dtype=dtype), data(3, 5, dtype=dtype)
    want = a.copy()
    rnn.rnn_pointwise_forward(want, ah, nonlinearity)
    got = a.copy()
    _kernel_cpu.run(kernels.RNN_FORWARD[nonlinearity], ah, got)
    np.testing.assert_allclose(got, want, **_tol(dtype))


@needs_gxx
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_zh", [False, True])
def test_lstm_forward_kernel(data, dtype, with_zh):
    N, H = 3, 5
    z, zh, c_prev = (
        data(N, 4 * H, dtype=dtype),
        data(N, 4 * H, dtype=dtype),
        data(N, H, dtype=dtype),
    )
    want = [z.copy(), *(np.empty((N, H), dtype) for _ in range(3))]
    lstm.lstm_pointwise_forward(want[0], c_prev, *want[1:], zh=zh if with_zh else None)
    got = [z.copy(), *(np.empty((N, H), dtype) for _ in range(3))]
    if with_zh:
        _kernel_cpu.run(kernels.LSTM_FORWARD_ZH, zh, c_prev, H, *got)
    else:
        _kernel_cpu.run(kernels.LSTM_FORWARD, c_prev, H, *got)
    for name, g, w in zip(["gates", "c", "tanh_c", "h"], got, want):
        np.testing.assert_allclose(g, w, err_msg=name, **_tol(dtype))


def _lstm_state(data, N, H, dtype):
    """Consistent forward quantities for a backward step.

    Gates in (0, 1) and (-1, 1), tanh_c = tanh(c).
    """
    gates = np.empty((N, 4 * H), dtype)
    c, tanh_c, h = (np.empty((N, H), dtype) for _ in range(3))
    c_prev = data(N, H, dtype=dtype)
    gates[...] = data(N, 4 * H, dtype=dtype)
    lstm.lstm_pointwise_forward(gates, c_prev, c, tanh_c, h)
    return gates, c_prev, tanh_c


@needs_gxx
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_dout", [False, True])
def test_lstm_backward_kernel(data, dtype, with_dout):
    N, H = 3, 5
    gates, c_prev, tanh_c = _lstm_state(data, N, H, dtype)
    dh, dc, dout = (
        data(N, H, dtype=dtype),
        data(N, H, dtype=dtype),
        data(N, H, dtype=dtype),
    )
    want = [dh.copy(), dc.copy(), np.empty((N, 4 * H), dtype)]
    lstm.lstm_pointwise_backward(
        want[0],
        want[1],
        gates,
        c_prev,
        tanh_c,
        want[2],
        dout=dout if with_dout else None,
    )
    got = [dh.copy(), dc.copy(), np.empty((N, 4 * H), dtype)]
    if with_dout:
        _kernel_cpu.run(
            kernels.LSTM_BACKWARD_DOUT, dout, gates, c_prev, tanh_c, H, *got
        )
    else:
        _kernel_cpu.run(
            kernels.LSTM_BACKWARD, got[0], gates, c_prev, tanh_c, H, *got[1:]
        )
    for name, g, w in zip(["dh", "dc_prev", "dz"], got, want):
        np.testing.assert_allclose(g, w, err_msg=name, **_tol(dtype))
    if with_dout:
        np.testing.assert_allclose(got[0], dh + dout, **_tol(dtype))


@needs_gxx
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_backward_kernel(data, dtype):
    dh, delta, dout = (data(3, 5, dtype=dtype) for _ in range(3))
    want = [dh.copy(), delta.copy()]
    rnn.rnn_pointwise_backward(*want, dout)
    got = [dh.copy(), delta.copy()]
    _kernel_cpu.run(kernels.RNN_BACKWARD_DOUT, dout, *got)
    for name, g, w in zip(["dh", "delta"], got, want):
        np.testing.assert_allclose(g, w, err_msg=name, **_tol(dtype))


@needs_gxx
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_b_hn", [False, True])
def test_gru_forward_kernel(data, dtype, with_b_hn):
    N, H = 3, 5
    zx, zh, h_prev = (
        data(N, 3 * H, dtype=dtype),
        data(N, 3 * H, dtype=dtype),
        data(N, H, dtype=dtype),
    )
    b_hn = data(H, dtype=dtype) if with_b_hn else None
    want = [zx.copy(), np.empty((N, H), dtype), np.empty((N, H), dtype)]
    gru.gru_pointwise_forward(want[0], zh, h_prev, *want[1:], b_hn=b_hn)
    got = [zx.copy(), np.empty((N, H), dtype), np.empty((N, H), dtype)]
    if with_b_hn:
        _kernel_cpu.run(kernels.GRU_FORWARD_BIAS, zh, b_hn, h_prev, H, *got)
    else:
        _kernel_cpu.run(kernels.GRU_FORWARD, zh, h_prev, H, *got)
    for name, g, w in zip(["gates", "h", "hn"], got, want):
        np.testing.assert_allclose(g, w, err_msg=name, **_tol(dtype))
    np.testing.assert_allclose(
        got[2], zh[:, 2 * H :] + (0 if b_hn is None else b_hn), **_tol(dtype)
    )


@needs_gxx
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_dout", [False, True])
def test_gru_backward_kernel(data, dtype, with_dout):
    N, H = 3, 5
    gates, h, hn = (
        data(N, 3 * H, dtype=dtype),
        np.empty((N, H), dtype),
        np.empty((N, H), dtype),
    )
    h_prev, zh = data(N, H, dtype=dtype), data(N, 3 * H, dtype=dtype)
    gru.gru_pointwise_forward(gates, zh, h_prev, h, hn)  # realistic gate values
    dh, dout = data(N, H, dtype=dtype), data(N, H, dtype=dtype) if with_dout else None
    want = [dh.copy(), np.empty((N, 3 * H), dtype), np.empty((N, 3 * H), dtype)]
    gru.gru_pointwise_backward(want[0], gates, hn, h_prev, want[1], want[2], dout=dout)
    got = [dh.copy(), np.empty((N, 3 * H), dtype), np.empty((N, 3 * H), dtype)]
    if with_dout:
        _kernel_cpu.run(kernels.GRU_BACKWARD_DOUT, dout, gates, hn, h_prev, H, *got)
    else:
        _kernel_cpu.run(kernels.GRU_BACKWARD, gates, hn, h_prev, H, *got)
    for name, g, w in zip(["dh_prev part", "dzx", "dzh"], got, want):
        np.testing.assert_allclose(g, w, err_msg=name, **_tol(dtype))


@needs_gxx
def test_cpu_runner_handles_strided_views(data):
    # the layers hand kernels views such as gates[t]; raw indexing must follow the
    # logical layout
    buf = data(2, 3, 4 * 5, dtype=np.float64)
    z = buf[:, 1]  # (2, 20) view with a row stride of 60 elements
    c_prev = data(2, 5, dtype=np.float64)
    want = [z.copy(), *(np.empty((2, 5)) for _ in range(3))]
    lstm.lstm_pointwise_forward(want[0], c_prev, *want[1:])
    got = [np.empty((2, 5)) for _ in range(3)]
    _kernel_cpu.run(kernels.LSTM_FORWARD, c_prev, 5, z, *got)
    np.testing.assert_allclose(z, want[0], rtol=1e-12)
    np.testing.assert_allclose(got[2], want[3], rtol=1e-12)


# --- the layers' dispatch, with launch() routed to the CPU build ----------------------


@pytest.fixture
def cpu_fused(monkeypatch):
    """Make the layers take their fused-kernel branch on NumPy arrays.

    The branch runs the C++ build.
    """
    calls = []

    def launch(kernel, *args):
        calls.append(kernel.name)
        _kernel_cpu.run(kernel, *args)

    for mod in (lstm, gru, rnn):
        monkeypatch.setattr(mod, "fused", lambda x: True)
        monkeypatch.setattr(mod, "launch", launch)
    return calls


def _run_layer(layer, x, lengths, seed):
    g = np.random.default_rng(seed)
    out, _ = layer(x, lengths=lengths)
    layer.zero_grad()
    dx, _ = layer.backward(
        rnnlab.to_device(
            g.standard_normal(out.shape).astype(out.dtype), backend.device_of(out)
        )
    )
    return [to_np(out), to_np(dx)] + [to_np(v).copy() for v in layer.grads.values()]


LAYERS = {
    "rnn_tanh": lambda **kw: rnnlab.RNN(nonlinearity="tanh", **kw),
    "rnn_relu": lambda **kw: rnnlab.RNN(nonlinearity="relu", **kw),
    "lstm": rnnlab.LSTM,
    "gru": rnnlab.GRU,
}


@needs_gxx
@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("masked", [False, True])
def test_layers_through_the_kernels_equal_numpy(kind, masked, cpu_fused, monkeypatch):
    T, N, D, H = 6, 3, 4, 5
    layer = LAYERS[kind](
        input_size=D, hidden_size=H, num_layers=2, bidirectional=True, dtype=np.float64
    )
    x = np.random.default_rng(0).standard_normal((T, N, D))
    lengths = np.array([6, 2, 4]) if masked else None
    got = _run_layer(layer, x, lengths, seed=1)
    assert cpu_fused, "no fused kernel was launched"
    monkeypatch.undo()
    want = _run_layer(layer, x, lengths, seed=1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


@needs_gxx
@pytest.mark.parametrize("cell", [rnnlab.RNNCell, rnnlab.LSTMCell, rnnlab.GRUCell])
def test_cells_through_the_kernels_equal_numpy(cell, cpu_fused, monkeypatch):
    c = cell(4, 5, dtype=np.float64)
    g = np.random.default_rng(0)
    x, dh = g.standard_normal((3, 4)), g.standard_normal((3, 5))

    def step():
        c.zero_grad()
        out = c(x)
        h = out[0] if isinstance(out, tuple) else out
        dx = c.backward(dh)[0]
        return [to_np(h), to_np(dx)] + [to_np(v).copy() for v in c.grads.values()]

    got = step()
    monkeypatch.undo()
    for a, b in zip(got, step()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


# --- the switch, and the real kernels on a GPU ----------------------------------------


def test_fused_kernels_switch_restores_state():
    assert backend._fuse
    with backend.fused_kernels(False):
        assert not backend._fuse
        with pytest.raises(KeyError):
            with backend.fused_kernels(True):
                assert backend._fuse
                raise KeyError("boom")
        assert not backend._fuse
    assert backend._fuse
    assert not backend.fused(np.zeros(3)), "NumPy arrays never take the fused path"


def test_describe_reports_backends():
    text = backend.describe()
    assert text.startswith(f"cpu: numpy {np.__version__}")
    assert "cuda: " in text


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("masked", [False, True])
def test_fused_equals_unfused_on_the_gpu(need_cuda, kind, dtype, masked):
    T, N, D, H = 7, 4, 6, 8
    layer = LAYERS[kind](
        input_size=D, hidden_size=H, num_layers=2, bidirectional=True, dtype=dtype
    ).to("cuda")
    x = rnnlab.to_device(
        np.random.default_rng(0).standard_normal((T, N, D)).astype(dtype), "cuda"
    )
    lengths = np.array([7, 2, 5, 1]) if masked else None
    fused = _run_layer(layer, x, lengths, seed=1)
    with backend.fused_kernels(False):
        unfused = _run_layer(layer, x, lengths, seed=1)
    check = close(dtype)
    for i, (a, b) in enumerate(zip(fused, unfused)):
        check(a, b, f"output {i}")
