"""Video as a sequence: a digit moving across a canvas, bouncing off its edges.

The clips of the chapter "Images and video as sequences", made from any small digit
images (scikit-learn's 8x8 digits by default in the book): each clip shows one digit
entering a blank canvas somewhere, moving left, right, up or down at one or two pixels
a frame, and bouncing back where it meets an edge. Labels for three tasks come with
each clip: the motion (action recognition, many-to-one), the frames themselves
(next-frame prediction, many-to-many) and a caption such as "a three moving left, then
right" (sequence to sequence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the directions a digit starts moving in, and their (row, column) steps
MOTIONS = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}
DIGIT_WORDS = "zero one two three four five six seven eight nine".split()


@dataclass
class Clips:
    """Moving-digit clips and their labels.

    ``frames`` (T, n, H, W) float32, time-major; ``digit`` (n,) the digit shown;
    ``motion`` (n,) the index in :data:`MOTIONS` of its first direction; ``turns``
    (n,) how many times it is seen to turn back within the clip (:func:`seen_turns`);
    ``positions`` (T, n, 2) the
    top-left corner (row, column) in each frame; ``captions`` a list of n strings.
    """

    frames: np.ndarray
    digit: np.ndarray
    motion: np.ndarray
    turns: np.ndarray
    positions: np.ndarray
    captions: list


BACK = {"left": "right", "right": "left", "up": "down", "down": "up"}


def caption(digit: int, motion: str, turns: int = 0) -> str:
    """'a three moving left', then ', then right' for each time it turned back."""
    words, direction = [f"a {DIGIT_WORDS[digit]} moving {motion}"], motion
    for _ in range(turns):
        direction = BACK[direction]
        words.append(f"then {direction}")
    return ", ".join(words)


def seen_turns(positions) -> np.ndarray:
    """How many times each digit is seen to turn back, from its positions (T, n, 2).

    A bounce shows as a change of sign of the motion along its axis; a step of zero
    (a digit two pixels from the edge, moving two, lands back where it was) shows
    nothing, so a bounce in the last frame that leaves the digit in place is not
    seen, and not counted.
    """
    steps = np.diff(np.asarray(positions), axis=0)  # (T - 1, n, 2)
    along = steps.sum(axis=2)  # one axis moves: its step, with its sign
    out = np.zeros(steps.shape[1], dtype=np.int64)
    for i in range(len(out)):
        signs = np.sign(along[:, i])
        out[i] = (np.diff(signs[signs != 0]) != 0).sum()
    return out


def moving_digits(
    images,
    labels,
    n: int,
    frames: int = 12,
    canvas: int = 24,
    speeds=(1, 2),
    seed=None,
) -> Clips:
    """``n`` clips of ``frames`` frames of a digit moving on a ``canvas`` square.

    Parameters
    ----------
    images : array, shape (M, h, w), values in [0, 1]: the digits to move
    labels : int array, shape (M,), the digit each image shows (0-9)
    n, frames, canvas : int
    speeds : pixels per frame to draw from
    seed : int or numpy Generator

    Each clip draws an image, a direction from :data:`MOTIONS`, a speed and a start
    position from which the first step is free (so the first motion seen is the one
    named); at each frame the digit moves by the speed and, where it would leave the
    canvas, it is reflected off the edge and turns back.
    """
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (M, h, w), got {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ValueError(
            f"labels has shape {labels.shape}; expected one label per image "
            f"{images.shape[:1]}"
        )
    M, h, w = images.shape
    for name, v, low in (("n", n, 1), ("frames", frames, 2), ("canvas", canvas, 1)):
        if not (isinstance(v, (int, np.integer)) and v >= low):
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if max(h, w) > canvas:
        raise ValueError(
            f"a digit of {h}x{w} pixels does not fit a canvas of {canvas}x{canvas}: "
            f"make the canvas at least {max(h, w)}"
        )
    if not all(isinstance(s, (int, np.integer)) and s >= 1 for s in speeds):
        raise ValueError(f"speeds must be positive integers, got {speeds!r}")
    if canvas - max(h, w) < max(speeds):
        raise ValueError(
            f"the canvas leaves {canvas - max(h, w)} pixels of room, less than a step "
            f"of {max(speeds)}: make it larger or the speeds smaller"
        )
    g = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    names = list(MOTIONS)
    pick = g.integers(0, M, n)
    motion = g.integers(0, len(names), n)
    speed = g.choice(np.asarray(speeds), n)
    limit = np.array([canvas - h, canvas - w])
    vel = np.array([MOTIONS[names[m]] for m in motion]) * speed[:, None]
    # start where the first step is free, so the first motion seen is the one named
    low = np.where(vel < 0, -vel, 0)
    high = np.where(vel > 0, limit - vel, limit)
    pos = g.integers(low, high + 1)
    out = np.zeros((frames, n, canvas, canvas), dtype=np.float32)
    positions = np.empty((frames, n, 2), dtype=np.int64)
    for t in range(frames):
        if t > 0:
            pos = pos + vel
            low, high = pos < 0, pos > limit
            hit = low | high
            # reflect off the edge, as a ball would, and turn back
            pos = np.where(low, -pos, np.where(high, 2 * limit - pos, pos))
            vel = np.where(hit, -vel, vel)
        positions[t] = pos
        for i in range(n):
            r, c = pos[i]
            out[t, i, r : r + h, c : c + w] = images[pick[i]]
    turns = seen_turns(positions)
    digits = labels[pick].astype(np.int64)
    captions = [
        caption(int(d), names[m], int(k)) for d, m, k in zip(digits, motion, turns)
    ]
    return Clips(out, digits, motion, turns, positions, captions)


def track(clips: Clips, size: tuple[int, int]) -> np.ndarray:
    """What an object tracker would hand a video model: each frame's digit patch and
    where it is.

    Parameters
    ----------
    clips : Clips from :func:`moving_digits`
    size : (h, w), the size of the digit images the clips were drawn from

    Returns
    -------
    float32 array, shape (T, n, h * w + 4): the h x w patch at the digit's position,
    flattened; its row and column divided by the canvas size; and its motion since
    the previous frame in pixels (row, column; zeros in the first frame)
    """
    frames, pos = clips.frames, clips.positions
    T, n, canvas, _ = frames.shape
    h, w = size
    if not (0 < h <= canvas and 0 < w <= canvas):
        raise ValueError(f"size must fit the {canvas}x{canvas} canvas, got {size!r}")
    out = np.zeros((T, n, h * w + 4), dtype=np.float32)
    for t in range(T):
        for i in range(n):
            r, c = pos[t, i]
            out[t, i, : h * w] = frames[t, i, r : r + h, c : c + w].ravel()
    out[..., h * w : h * w + 2] = pos / canvas
    out[1:, :, h * w + 2 :] = np.diff(pos, axis=0)
    return out
