"""Recording dL/dh_t during BPTT (``record_state_grads``).

Checked against a direct computation.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import GRU, LSTM, RNN


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_recorded_state_gradients_equal_the_suffix_gradient(cls):
    # dL/dh_t is the direct gradient at t plus the gradient of the initial state of the
    # sequence that starts after t (run from the states at t): a computation that never
    # looks inside the backward loop.
    g = np.random.default_rng(0)
    T, N, D, H = 7, 3, 2, 4
    m = cls(D, H, dtype=np.float64)
    x, dout = g.standard_normal((T, N, D)), g.standard_normal((T, N, H))
    m.record_state_grads = True
    out, _ = m(x)
    m.backward(dout)
    (rec,) = m.state_grads
    assert rec.shape == (T, N, H)
    lstm = cls is LSTM
    for t in range(T - 1):
        # states after step t, from a run over the prefix
        _, state = m(x[: t + 1])
        m(x[t + 1 :], state)
        _, d_state0 = m.backward(dout[t + 1 :])
        dh0 = d_state0[0] if lstm else d_state0
        np.testing.assert_allclose(rec[t], dout[t] + dh0[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rec[T - 1], dout[T - 1], rtol=0, atol=0)


def test_recording_is_per_layer_and_off_by_default():
    m = RNN(2, 3, num_layers=2, dtype=np.float64)
    x = np.ones((5, 1, 2))
    out, _ = m(x)
    m.backward(np.ones_like(out))
    assert m.state_grads is None
    m.record_state_grads = True
    m(x)
    m.backward(np.ones_like(out))
    assert len(m.state_grads) == 2 and all(r.shape == (5, 1, 3) for r in m.state_grads)
    # the top layer's gradient at the last step is exactly the output gradient
    np.testing.assert_array_equal(m.state_grads[1][-1], 1.0)


def test_recording_changes_no_gradient():
    g = np.random.default_rng(1)
    x, d = g.standard_normal((6, 2, 3)), g.standard_normal((6, 2, 4))
    grads = []
    for record in (False, True):
        rnnlab.seed(0)
        m = LSTM(3, 4, num_layers=2, dtype=np.float64)
        m.record_state_grads = record
        m(x)
        m.backward(d)
        grads.append(m.grads)
    for k in grads[0]:
        np.testing.assert_array_equal(grads[0][k], grads[1][k])


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_recording_a_padded_batch_equals_each_sequence_alone(cls):
    # With lengths, each sequence's recorded dL/dh_t on its real steps is what a run
    # over that sequence alone records, and the weight gradients are the sum over
    # sequences.
    g = np.random.default_rng(2)
    T, D, H, lengths = 6, 2, 3, np.array([6, 2, 4])
    m = cls(D, H, dtype=np.float64)
    m.record_state_grads = True
    x, dout = g.standard_normal((T, 3, D)), g.standard_normal((T, 3, H))
    m(x, lengths=lengths)
    m.backward(dout)
    (rec,) = m.state_grads
    batch = {k: v.copy() for k, v in m.grads.items()}
    m.zero_grad()
    for n, L in enumerate(lengths):
        m(x[:L, n : n + 1])
        m.backward(dout[:L, n : n + 1])
        np.testing.assert_allclose(
            rec[:L, n : n + 1], m.state_grads[0], rtol=1e-12, atol=1e-12
        )
    for k in batch:
        np.testing.assert_allclose(batch[k], m.grads[k], rtol=1e-12, atol=1e-12)
