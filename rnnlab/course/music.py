"""Hearing piano rolls: a small additive synthesizer, and MIDI files through music21.

A roll (:mod:`rnnlab.data.pianoroll`) is a boolean array of shape ``(T, 88)``,
column ``k`` the key of MIDI pitch ``21 + k``. A key that stays on across frames is
one sustained note: rolls mark what sounds, not where notes start, so a repeated
note tied over a frame boundary is heard as one.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

from ..backend import to_numpy

KEYS = 88
HARMONICS = (1.0, 0.5, 0.25, 0.125)  # amplitudes of partials 1, 2, 3, 4
GAIN = 0.2 / sum(HARMONICS)  # a note peaks at 0.2: five at once stay within [-1, 1]


def _check_roll(roll) -> np.ndarray:
    roll = to_numpy(roll)
    if roll.ndim != 2 or roll.shape[1] != KEYS:
        raise ValueError(f"roll must have shape (T, {KEYS}), got {roll.shape}")
    if roll.dtype != bool:
        raise TypeError(
            f"roll must be a boolean array (threshold or sample probabilities "
            f"first), got dtype {roll.dtype}"
        )
    return roll


def _positive(value, name: str):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def notes_of(roll) -> list[tuple[int, int, int]]:
    """The sustained notes of a roll: ``(key, first frame, end frame)``, by key.

    Parameters
    ----------
    roll : array of bool, shape (T, 88)

    Returns
    -------
    list of (int, int, int)
        ``(k, i, j)``: key ``k`` (MIDI pitch ``21 + k``) is on in frames ``i`` to
        ``j - 1`` and off in frames ``i - 1`` and ``j``.
    """
    roll = _check_roll(roll)
    edges = np.diff(np.pad(roll, ((1, 1), (0, 0))).astype(np.int8), axis=0).T
    keys, starts = np.nonzero(edges == 1)  # by key, then time: starts and ends pair
    ends = np.nonzero(edges == -1)[1]
    return list(zip(keys.tolist(), starts.tolist(), ends.tolist()))


def roll_to_audio(roll, step_seconds=0.25, sample_rate=16000) -> np.ndarray:
    """A waveform of the roll, by additive synthesis.

    Each sustained note (:func:`notes_of`) of frequency
    :math:`f = 440 \\cdot 2^{(m - 69) / 12}` Hz (MIDI pitch :math:`m`) is

    .. math::
        x(t) = g \\, e(t) \\sum_{h=1}^{4} a_h \\sin(2 \\pi h f t),
        \\qquad a = (1, 1/2, 1/4, 1/8),

    partials above the Nyquist frequency left out, with a 10 ms linear attack and a
    50 ms linear release inside the note (shorter for short notes) so that notes
    start and stop without clicks. A note peaks at ``g * sum(a) = 0.2``; a mix that
    would leave [-1, 1] (more than five notes at once) is scaled down to fit.

    Parameters
    ----------
    roll : array of bool, shape (T, 88)
    step_seconds : float
        Seconds per frame (0.25 plays eighth-note frames at 120 quarters a minute).
    sample_rate : int
        Samples per second.

    Returns
    -------
    wave : array of float32, shape (round(T * step_seconds * sample_rate),)
        In [-1, 1]; zeros for a silent roll.
    """
    roll = _check_roll(roll)
    _positive(step_seconds, "step_seconds")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral):
        raise TypeError(f"sample_rate must be an integer, got {sample_rate!r}")
    _positive(sample_rate, "sample_rate")
    per_frame = step_seconds * sample_rate
    edges = np.rint(np.arange(roll.shape[0] + 1) * per_frame).astype(np.int64)
    out = np.zeros(edges[-1], dtype=np.float64)
    attack, release = 0.010 * sample_rate, 0.050 * sample_rate
    for k, i, j in notes_of(roll):
        a, b = edges[i], edges[j]
        if b <= a:  # a frame shorter than a sample
            continue
        n = np.arange(b - a)
        f = 440.0 * 2.0 ** ((21 + k - 69) / 12)
        tone = sum(
            amp * np.sin(2 * np.pi * h * f / sample_rate * n)
            for h, amp in enumerate(HARMONICS, start=1)
            if h * f < sample_rate / 2
        )
        rise, fall = min(attack, (b - a) / 4), min(release, (b - a) / 2)
        envelope = np.minimum(1.0, np.minimum((n + 1) / rise, (b - a - n) / fall))
        out[a:b] += GAIN * envelope * tone
    peak = np.abs(out).max(initial=0.0)
    if peak > 1:
        out /= peak
    return out.astype(np.float32)


def roll_to_midi(roll, path, step=0.5, tempo=120.0) -> Path:
    """Write the roll as a MIDI file, one note per sustained note, through music21.

    Parameters
    ----------
    roll : array of bool, shape (T, 88)
    path : str or Path
        The ``.mid`` file to write.
    step : float
        Quarter notes per frame, as the roll was read (0.5: eighth notes).
    tempo : float
        Quarter notes per minute (120 with ``step=0.5`` matches
        :func:`roll_to_audio`'s default of 0.25 s a frame).

    Returns
    -------
    Path
        ``path``.
    """
    roll = _check_roll(roll)
    _positive(step, "step")
    _positive(tempo, "tempo")
    try:
        from music21 import note, stream
        from music21 import tempo as m21tempo
    except ImportError:
        raise ImportError(
            "MIDI files are written with music21: pip install music21 "
            "(or pip install 'rnnlab[book]')"
        ) from None
    s = stream.Stream()
    s.insert(0, m21tempo.MetronomeMark(number=float(tempo)))
    for k, i, j in notes_of(roll):
        s.insert(i * step, note.Note(midi=21 + k, quarterLength=(j - i) * step))
    path = Path(path)
    s.write("midi", fp=str(path))
    return path
