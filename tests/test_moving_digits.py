"""rnnlab.course.moving_digits: seeded clips, motion and bounces by hand, captions,
and bad input."""

import numpy as np
import pytest

from rnnlab.course.moving_digits import MOTIONS, caption, moving_digits

IMAGES = np.zeros((3, 2, 2))
IMAGES[:, 0, 0] = 1.0  # a single lit pixel marks the digit's top-left corner
LABELS = np.array([3, 1, 4])


def test_clips_are_seeded_and_shaped():
    a = moving_digits(IMAGES, LABELS, 5, frames=6, canvas=8, seed=0)
    b = moving_digits(IMAGES, LABELS, 5, frames=6, canvas=8, seed=0)
    assert a.frames.shape == (6, 5, 8, 8) and a.frames.dtype == np.float32
    np.testing.assert_array_equal(a.frames, b.frames)
    assert a.captions == b.captions and set(a.digit) <= {1, 3, 4}
    assert not np.array_equal(
        moving_digits(IMAGES, LABELS, 5, canvas=8, seed=1).frames[0],
        moving_digits(IMAGES, LABELS, 5, canvas=8, seed=0).frames[0],
    )


def test_each_frame_draws_the_digit_at_its_position():
    c = moving_digits(IMAGES, LABELS, 20, frames=10, canvas=6, seed=3)
    for t in range(10):
        for i in range(20):
            r, col = c.positions[t, i]
            assert c.frames[t, i].sum() == 1 and c.frames[t, i, r, col] == 1


def test_motion_follows_its_direction_and_reflects_off_the_edges():
    c = moving_digits(IMAGES, LABELS, 50, frames=12, canvas=6, speeds=(1,), seed=0)
    names = list(MOTIONS)
    for i in range(50):
        step = np.array(MOTIONS[names[c.motion[i]]])
        moves = np.diff(c.positions[:, i], axis=0)
        assert (np.abs(moves).sum(axis=1) == 1).all()  # one pixel a frame, always
        assert (moves[0] == step).all()  # the first motion seen is the one named
        reversals = int((np.abs(np.diff(moves, axis=0)).sum(axis=1) > 0).sum())
        assert reversals == c.turns[i]
        assert c.positions[:, i].min() >= 0 and c.positions[:, i].max() <= 4


def test_captions_name_digit_direction_and_turns():
    assert caption(3, "left") == "a three moving left"
    assert caption(0, "up", 2) == "a zero moving up, then down, then up"
    c = moving_digits(IMAGES, LABELS, 30, canvas=8, seed=2)
    names = list(MOTIONS)
    for i in range(30):
        assert c.captions[i] == caption(c.digit[i], names[c.motion[i]], c.turns[i])


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(canvas=1), r"a digit of 2x2 pixels does not fit a canvas of 1x1"),
        (dict(canvas=3, speeds=(2,)), "leaves 1 pixels of room, less than a step of 2"),
        (dict(frames=1), "frames must be an integer >= 2"),
        (dict(n=0), "n must be an integer >= 1"),
        (dict(images=np.zeros((3, 4))), r"images must have shape \(M, h, w\)"),
        (dict(labels=np.array([1, 2])), "one label per image"),
        (dict(speeds=(0,)), "speeds must be positive integers"),
    ],
)
def test_bad_input_is_named(kwargs, pattern):
    args = {"images": IMAGES, "labels": LABELS, "n": 2, "canvas": 8, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        moving_digits(**args)


def test_track_returns_the_drawn_patch_and_its_position():
    from rnnlab.course.moving_digits import track

    c = moving_digits(IMAGES, LABELS, 5, frames=4, canvas=9, seed=3)
    f = track(c, IMAGES.shape[1:])
    h, w = IMAGES.shape[1:]
    assert f.shape == (4, 5, h * w + 4)
    # every image is one lit pixel at its top-left corner: so is every patch
    patch = np.broadcast_to(IMAGES[0].ravel(), (4, 5, h * w))
    np.testing.assert_array_equal(f[..., : h * w], patch)
    np.testing.assert_allclose(f[..., h * w : h * w + 2], c.positions / 9)
    np.testing.assert_array_equal(f[0, :, -2:], 0)
    np.testing.assert_array_equal(f[1:, :, -2:], np.diff(c.positions, axis=0))
    with pytest.raises(ValueError, match="size must fit the 9x9 canvas"):
        track(c, (10, 3))


def test_turns_count_what_is_seen():
    from rnnlab.course.moving_digits import seen_turns

    # columns of one digit moving left: 3, 1, then bouncing off 0 back to 1 (a step of
    # zero), then 3; and one that bounces in the last frame without being seen to
    x = np.array([[3, 1, 1, 3], [3, 1, 1, 1]]).T
    positions = np.stack([np.zeros_like(x), x], axis=2)  # (T, n, 2): rows still
    np.testing.assert_array_equal(seen_turns(positions), [1, 0])
    c = moving_digits(IMAGES, LABELS, 200, frames=9, canvas=5, speeds=(2,), seed=1)
    np.testing.assert_array_equal(c.turns, seen_turns(c.positions))
    assert (np.diff(c.positions, axis=0) == 0).all(axis=2).any()  # zero steps occur
