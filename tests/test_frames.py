"""Next-frame prediction: FramePredictor and FrameBatches (finite differences,
PyTorch on the same weights, batching, generation, bad input)."""

import numpy as np
import pytest

import rnnlab
from rnnlab.data import FrameBatches
from rnnlab.models import FramePredictor, next_frame_loss

from _helpers import to_np


def _model(cell="gru", dtype=np.float64, **kw):
    rnnlab.seed(0)
    return FramePredictor(5, hidden_size=4, cell=cell, dtype=dtype, **kw)


@pytest.mark.parametrize("cell, layers", [("gru", 1), ("lstm", 2), ("irnn", 1)])
def test_frame_predictor_passes_finite_differences(cell, layers, device, on):
    m = _model(cell, num_layers=layers).to(device)
    x = on(np.random.default_rng(0).random((6, 3, 5)))
    rnnlab.assert_gradients_close(rnnlab.check_module(m, x, on(np.array([6, 2, 4]))))


def test_frame_predictor_equals_torch_on_the_same_weights(torch):
    from rnnlab.interop import to_torch, torch_state_dict

    m = _model("lstm")
    g = np.random.default_rng(1)
    x, y = g.random((7, 2, 5)), (g.random((7, 2, 5)) < 0.3).astype(float)
    mask = np.ones((7, 2))
    mask[4:, 1] = 0
    logits = m(x, np.array([7, 4]))
    m.zero_grad()
    loss, d = next_frame_loss(logits, (y, mask))
    dx = m.backward(d)

    rnn = to_torch(m.rnn)
    W = torch.nn.Parameter(torch.tensor(m.out.params["W"]))
    b = torch.nn.Parameter(torch.tensor(m.out.params["b"]))
    xt = torch.tensor(x, requires_grad=True)
    states, _ = rnn(xt)  # padding comes after each sequence: the mask hides it
    ref = states @ W.T + b
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        ref, torch.tensor(y), reduction="none"
    )
    mt = torch.tensor(mask)[..., None]
    ref_loss = (bce * mt).sum() / (mt.sum() * 5)
    ref_loss.backward()
    np.testing.assert_allclose(loss, ref_loss.item(), rtol=1e-12)
    np.testing.assert_allclose(
        logits[:, 0], ref[:, 0].detach().numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(m.out.grads["W"], W.grad.numpy(), atol=1e-12)
    for key, grad in torch_state_dict(m.rnn, grads=True).items():
        np.testing.assert_allclose(grad, getattr(rnn, key).grad.numpy(), atol=1e-12)


def test_frame_batches_shift_by_one_and_mask_the_padding():
    seqs = [np.arange(12.0).reshape(4, 3), np.arange(6.0).reshape(2, 3) + 100]
    ((x, lengths), (y, mask)) = next(iter(FrameBatches(seqs, 2, shuffle=False)))
    order = [0, 1] if lengths[0] == 3 else [1, 0]
    np.testing.assert_array_equal(lengths[order], [3, 1])
    a, b = order
    np.testing.assert_array_equal(x[:3, a], seqs[0][:-1])
    np.testing.assert_array_equal(y[:3, a], seqs[0][1:])
    np.testing.assert_array_equal(x[:1, b], seqs[1][:1])
    np.testing.assert_array_equal(y[:1, b], seqs[1][1:])
    np.testing.assert_array_equal(mask[:, a], [1, 1, 1])
    np.testing.assert_array_equal(mask[:, b], [1, 0, 0])
    with pytest.raises(ValueError, match=r"sequences\[1\] must be a float array \(T"):
        FrameBatches([seqs[0], seqs[1][:1]], 2)


def test_frame_predictor_learns_a_moving_dot():
    """A dot stepping one unit to the right per frame: the loss falls far below that
    of the best constant guess."""
    eye = np.eye(6, dtype=np.float32)
    seqs = [np.roll(eye, s, axis=0) for s in range(6)] * 4  # (6, 6): frames, units
    rnnlab.seed(0)
    m = FramePredictor(6, hidden_size=16)
    hist = rnnlab.fit(
        m, FrameBatches(seqs, 8), loss=next_frame_loss, epochs=60, lr=1e-2,
        progress=False,
    )  # fmt: skip
    p = 1 / 6  # the best constant probability of each unit
    constant = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert hist.train_loss[-1] < 0.2 * constant


def test_generate_continues_the_prime_and_is_seeded(device):
    m = _model(dtype=np.float32).to(device)
    prime = (np.random.default_rng(0).random((3, 5)) < 0.5).astype(np.float32)
    a = m.generate(prime, 6, rng=1)
    assert a.shape == (9, 5) and set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a[:3], prime)
    np.testing.assert_array_equal(a, m.generate(prime, 6, rng=1))
    assert m.generate(prime, 0).shape == (3, 5)
    # fed its own expected frames, the model's teacher-forced logits give them back
    p = m.generate(prime, 4, sample=False)
    with rnnlab.no_grad():
        logits = to_np(m(rnnlab.to_device(p[:-1, None], device)))[:, 0]
    np.testing.assert_allclose(p[3:], 1 / (1 + np.exp(-logits[2:])), rtol=1e-5)
    assert not m._tape


def test_frame_predictor_bad_input():
    m = _model(dtype=np.float32)
    with pytest.raises(ValueError, match=r"x has size 4 in its last dimension"):
        m(np.zeros((3, 2, 4), np.float32))
    with pytest.raises(ValueError, match=r"prime must have shape \(T0 >= 1, frame"):
        m.generate(np.zeros((0, 5)), 2)
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        m.generate(np.zeros((1, 5)), -1)
    with pytest.raises(ValueError, match="temperature must be positive"):
        m.generate(np.zeros((1, 5)), 1, temperature=0)
    with pytest.raises(ValueError, match="frame_size must be a positive integer"):
        FramePredictor(0)
    with pytest.raises(ValueError, match="cell must be one of"):
        FramePredictor(4, cell="tcn")


def test_nll_is_the_mean_over_predicted_frames_of_the_summed_cross_entropy():
    m = _model(dtype=np.float64)
    g = np.random.default_rng(3)
    seqs = [(g.random((T, 5)) < 0.4).astype(np.float64) for T in (2, 7, 4)]
    total, count = 0.0, 0
    for s in seqs:  # one sequence at a time, no padding
        with rnnlab.no_grad():
            p = 1 / (1 + np.exp(-m(s[:-1, None])[:, 0]))
        y = s[1:]
        total += -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum()
        count += len(y)
    np.testing.assert_allclose(m.nll(seqs, batch_size=2), total / count, rtol=1e-12)
    assert not m._tape
    with pytest.raises(ValueError, match=r"sequences\[0\] must be a float array"):
        m.nll([np.zeros((1, 5))])


def test_evaluate_weighs_frame_batches_by_their_real_steps():
    """Validation over several padded FrameBatches is the mean over real frames."""
    from rnnlab.train import evaluate

    m = _model(dtype=np.float64)
    g = np.random.default_rng(4)
    seqs = [(g.random((T, 5)) < 0.4).astype(np.float64) for T in (2, 9, 3, 8, 4)]
    got = evaluate(m, FrameBatches(seqs, 2, shuffle=False), next_frame_loss)["loss"]
    assert got == pytest.approx(m.nll(seqs) / 5, rel=1e-9)
