"""The benchmark runs and its teaching implementation computes the same thing as RNN (no timings asserted)."""
import numpy as np

import rnnlab
from rnnlab import bench


def test_stepwise_teaching_implementation_equals_rnn():
    rnnlab.seed(0)
    g = np.random.default_rng(0)
    T, N, D, H = 6, 3, 4, 5
    m = rnnlab.RNN(D, H, dtype=np.float64)
    x, dout = g.standard_normal((T, N, D)), g.standard_normal((T, N, H))
    out, _ = m(x)
    dx, dh0 = m.backward(dout)
    p = m.params
    o2, dx2, dh02, dW_xh, dW_hh, db = bench.stepwise_rnn_fwd_bwd(x, np.zeros((N, H)), p["W_xh_l0"], p["W_hh_l0"], p["b_h_l0"], dout)
    for a, b in [(out, o2), (dx, dx2), (dh0[0], dh02), (m.grads["W_xh_l0"], dW_xh), (m.grads["W_hh_l0"], dW_hh), (m.grads["b_h_l0"], db)]:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_benchmark_command_prints_a_table(capsys):
    bench.main(["rnn", "--size", "2,5,3,4", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "rnnlab ms" in out and "naive/rnnlab" in out
    assert "rnnlab/torch" in out  # torch is part of the test environment
