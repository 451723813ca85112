"""rnnlab.models.CTCRecognizer and rnnlab.data.CTCBatches: stacking, gradients,
training on a toy task, transcription, checkpoints and bad input."""

import numpy as np
import pytest

import rnnlab
from rnnlab.data import CTCBatches
from rnnlab.gradcheck import assert_gradients_close, check_module
from rnnlab.models import CTCRecognizer


@pytest.mark.parametrize("cell, stack", [("gru", 2), ("lstm", 3), ("rnn", 1)])
def test_passes_finite_differences_with_padding(cell, stack, device, on, rng):
    model = CTCRecognizer(
        4, 5, hidden_size=3, num_layers=1, cell=cell, stack=stack, dtype=np.float64
    ).to(device)
    x = on(rng.standard_normal((7, 3, 4)))
    assert_gradients_close(check_module(model, x, np.array([7, 5, 2])))


def test_stacking_joins_consecutive_frames():
    model = CTCRecognizer(2, 3, hidden_size=2, num_layers=1, stack=3, dtype=np.float64)
    x = np.arange(7 * 1 * 2, dtype=np.float64).reshape(7, 1, 2)
    model(x, np.array([7]))
    u = model.rnn.saved(pop=False)[0][0][0]  # the recurrent layer's input
    assert u.shape == (3, 1, 6)
    np.testing.assert_array_equal(u[0, 0], x[:3, 0].ravel())
    np.testing.assert_array_equal(u[2, 0], np.r_[x[6, 0], 0, 0, 0, 0])  # zero-padded
    assert model.out_lengths.tolist() == [3]


def _toy(rng, n):
    """Frames that show each label for a few steps, with blanks of noise between."""
    frames, labels = [], []
    for _ in range(n):
        seq = rng.integers(1, 4, rng.integers(1, 4))
        rows = []
        for c in seq:
            rows += [np.eye(4)[c] + 0.1 * rng.standard_normal(4)] * int(
                rng.integers(3, 6)
            )
            rows += [0.1 * rng.standard_normal(4)] * 2
        frames.append(np.array(rows, dtype=np.float32))
        labels.append(seq)
    return frames, labels


def test_learns_a_toy_transcription_task_and_transcribes(tmp_path):
    rng = np.random.default_rng(0)
    frames, labels = _toy(rng, 300)
    model = CTCRecognizer(4, 4, hidden_size=16, num_layers=1, stack=2)
    rnnlab.fit(
        model,
        CTCBatches(frames, labels, 16),
        loss=model.loss,
        epochs=8,
        lr=1e-2,
        progress=False,
    )
    test_frames, test_labels = _toy(rng, 50)
    hyp = model.transcribe(test_frames)
    right = np.mean([h == list(t) for h, t in zip(hyp, test_labels)])
    assert right > 0.9, right
    beam = model.transcribe(test_frames, beam_size=4)
    assert np.mean([h == list(t) for h, t in zip(beam, test_labels)]) >= right - 0.02
    model.save(tmp_path / "asr.npz")
    again = CTCRecognizer.from_checkpoint(tmp_path / "asr.npz")
    assert again.transcribe(test_frames) == hyp


def test_ctc_batches_pad_frames_and_labels():
    frames = [np.ones((n, 2), np.float32) for n in (3, 5, 2)]
    labels = [np.array([1, 2]), np.array([], dtype=int), np.array([3])]
    (x, lengths), (y, y_len) = next(
        iter(CTCBatches(frames, labels, 3, shuffle=False, bucket=False))
    )
    assert x.shape == (5, 3, 2) and lengths.tolist() == [3, 5, 2]
    assert (x[3:, 0] == 0).all() and y.tolist() == [[1, 2], [-1, -1], [3, -1]]
    assert y_len.tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="labels has 2 entries for 3 inputs"):
        CTCBatches(frames, labels[:2], 2)
    with pytest.raises(ValueError, match="frames must be float arrays"):
        CTCBatches([np.array([1, 2])], [np.array([1])], 1)
    with pytest.raises(ValueError, match=r"sequences\[1\] must be"):
        CTCBatches([np.ones((3, 2)), np.ones((3, 4))], labels[:2], 2)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(n_classes=1), "n_classes must count the labels and the blank"),
        (dict(blank=9), r"blank must be a class id in \[0, 5\)"),
        (dict(stack=0), "stack must be a positive integer"),
        (dict(cell="tdnn"), "cell must be one of"),
    ],
)
def test_bad_configuration_is_named(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        CTCRecognizer(**{"n_features": 4, "n_classes": 5, **kwargs})


def test_bad_inputs_are_named():
    model = CTCRecognizer(4, 5, hidden_size=3)
    with pytest.raises(ValueError, match=r"x .*\(T, N, n_features\)"):
        model(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(TypeError, match="wrap one utterance in a list"):
        model.transcribe(np.zeros((5, 4)))
