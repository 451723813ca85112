"""Sound in a page: audio players that carry their sound with them.

The book runs offline, so a chapter's audio cannot come from a server: each player
holds its sound as a WAV file encoded in base64 inside the page. Used by the
chapters on speech and music.
"""

from __future__ import annotations

import base64
import io
import wave

import numpy as np


def wav_bytes(samples, rate: int) -> bytes:
    """A mono 16-bit WAV file of ``samples`` (float in [-1, 1], clipped, or int16)."""
    if not (isinstance(rate, (int, np.integer)) and rate > 0):
        raise ValueError(f"rate must be a positive integer (Hz), got {rate!r}")
    pcm = np.asarray(samples)
    if pcm.ndim != 1 or pcm.size == 0:
        raise ValueError(
            f"samples must be a non-empty 1-D array, got shape {pcm.shape}"
        )
    if pcm.dtype != np.int16:
        pcm = (np.clip(pcm, -1, 1) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def audio_html(samples, rate: int, label: str = "") -> str:
    """An HTML ``<audio>`` player with the sound inside it, under ``label`` (HTML:
    ``"<i>eight five</i>"`` shows in italics).

    Show it with ``IPython.display.HTML``; several can be joined into one string.
    """
    data = base64.b64encode(wav_bytes(samples, rate)).decode()
    return (
        f'<div style="margin:0.3em 0">{label}<br><audio controls '
        f'preload="none" src="data:audio/wav;base64,{data}"></audio></div>'
    )
