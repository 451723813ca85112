"""The benchmark runs, and its naive teaching implementations compute what the layers compute (no timings asserted)."""
import numpy as np
import pytest

import rnnlab
from rnnlab import bench
from rnnlab.naive import NAIVE


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_naive_teaching_implementation_equals_the_layer(kind):
    rnnlab.seed(0)
    g = np.random.default_rng(0)
    T, N, D, H = 6, 3, 4, 5
    m = bench.LAYERS[kind](D, H, dtype=np.float64)
    x, dout = g.standard_normal((T, N, D)), g.standard_normal((T, N, H))
    out, _ = m(x)
    dx, _ = m.backward(dout)
    out2, dx2, grads = NAIVE[kind](x, m.params, dout)
    np.testing.assert_allclose(out2, out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx2, dx, rtol=1e-10, atol=1e-12)
    assert set(grads) == set(m.grads)
    for k in grads:
        np.testing.assert_allclose(grads[k], m.grads[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_benchmark_command_prints_a_table(capsys):
    bench.main(["all", "--size", "2,5,3,4", "--repeats", "1"])
    out = capsys.readouterr().out
    for kind in ("rnn", "lstm", "gru"):
        assert f"{kind} forward+backward" in out
    assert "rnnlab ms" in out and "naive/rnnlab" in out
    assert "rnnlab/torch" in out  # torch is part of the test environment
