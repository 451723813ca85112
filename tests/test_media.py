"""rnnlab.course.media: WAV bytes that read back, players that carry their sound."""

import base64
import io
import wave

import numpy as np
import pytest

from rnnlab.course.media import audio_html, wav_bytes


def test_wav_round_trips_and_clips():
    x = np.array([0.0, 0.5, -0.5, 2.0, -2.0])
    with wave.open(io.BytesIO(wav_bytes(x, 8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        pcm = np.frombuffer(w.readframes(5), dtype=np.int16)
    np.testing.assert_array_equal(pcm, [0, 16383, -16383, 32767, -32767])


def test_player_embeds_the_sound_under_its_label():
    x = np.zeros(100, dtype=np.int16)
    page = audio_html(x, 16000, label="<i>eight</i>")
    assert page.index("<i>eight</i>") < page.index("<audio") and "http" not in page
    data = page.split("base64,")[1].split('"')[0]
    assert base64.b64decode(data) == wav_bytes(x, 16000)


def test_bad_audio_is_named():
    with pytest.raises(ValueError, match="rate must be a positive integer"):
        wav_bytes(np.zeros(3), 0)
    with pytest.raises(ValueError, match=r"samples must be a non-empty 1-D array"):
        wav_bytes(np.zeros((2, 2)), 8000)
