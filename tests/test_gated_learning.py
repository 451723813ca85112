"""Gated layers learn: a seeded recall problem whose loss must go down.

For LSTM and GRU alike.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import GRU, LSTM, Linear
from _helpers import to_np as _np


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_seeded_sequence_problem_loss_goes_down(xp, device, on, cls):
    # Recall the first element of a sequence at its last step: needs memory across 8
    # steps.
    rnnlab.seed(0)
    rng = np.random.default_rng(0)

    def batch(n):
        x = rng.uniform(-1, 1, (8, n, 1)).astype(np.float32)
        return on(x), on(x[0].copy())

    x, y = batch(64)
    x_val, y_val = batch(256)
    layer, head = cls(1, 16).to(device), Linear(16, 1).to(device)
    opt = rnnlab.Adam(layer.parameters() + head.parameters(), lr=0.02)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        out, _ = layer(x)
        loss, dpred = rnnlab.mse(head(out[-1]), y)
        dout = xp.zeros_like(out)
        dout[-1] = head.backward(dpred)
        layer.backward(dout)
        opt.step()
        losses.append(loss)
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.05 * losses[0]
    out, _ = layer.eval()(x_val)
    val, _ = rnnlab.mse(head(out[-1]), y_val)
    baseline_mean = float(_np(y_val).var())  # predict a constant
    # copy the last input
    baseline_last = float(((_np(y_val) - _np(x_val)[-1]) ** 2).mean())
    assert val < 0.05 * min(baseline_mean, baseline_last)
