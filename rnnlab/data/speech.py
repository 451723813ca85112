"""Synthetic speech, offline: the eSpeak NG synthesiser, noise and reverberation.

eSpeak NG ships as a library in the ``espeakng-loader`` package (GPL-3.0: it is loaded,
never copied into rnnlab). Its output depends on what the same process synthesised
before, so :func:`synthesize` runs every request list in a fresh subprocess, in order:
the same list gives the same samples, bit for bit.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: eSpeak NG's parameter ids (speak_lib.h)
_RATE, _PITCH = 1, 3
#: output mode: synthesise synchronously, samples through the callback
_AUDIO_OUTPUT_SYNCHRONOUS = 0x02


def _loader():
    try:
        import espeakng_loader
    except ImportError as e:
        raise ImportError(
            "synthetic speech needs the eSpeak NG library: pip install espeakng-loader "
            "(or pip install 'rnnlab[book]')"
        ) from e
    return espeakng_loader


def _libc_srand(seed: int) -> None:
    try:
        ctypes.CDLL(None).srand(ctypes.c_uint(seed))
    except (OSError, AttributeError):  # no C library to reach: nothing to seed
        pass


class Synthesizer:
    """eSpeak NG in this process, through ctypes.

    ``say(text, voice, rate, pitch) -> int16 samples`` at :attr:`sample_rate` (22,050
    Hz). Voices are a language or accent (``'en-us'``, ``'en-gb-scotland'``) with an
    optional variant (``'en-us+f3'``, ``'en+klatt2'``); rate is in words per minute
    (80-450), pitch 0-99. Its output depends on what it synthesised before: use
    :func:`synthesize` for reproducible audio.
    """

    _CALLBACK = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
    )

    def __init__(self):
        loader = _loader()
        self._lib = ctypes.cdll.LoadLibrary(loader.get_library_path())
        data = str(loader.get_data_path()).encode()
        self.sample_rate = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0
        )
        if self.sample_rate <= 0:
            raise RuntimeError(f"eSpeak NG did not start (data at {data.decode()})")
        self._chunks: list[np.ndarray] = []

        def collect(wav, n, events):
            if wav and n > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = self._CALLBACK(collect)  # kept alive with the object
        self._lib.espeak_SetSynthCallback(self._callback)

    def say(self, text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50):
        """The samples of ``text`` spoken by ``voice``: int16 array, shape (n,)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        if not (80 <= rate <= 450 and 0 <= pitch <= 99):
            raise ValueError(
                f"rate must be in [80, 450] and pitch in [0, 99], got "
                f"rate={rate}, pitch={pitch}"
            )
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {voice!r}")
        self._lib.espeak_SetParameter(_RATE, int(rate), 0)
        self._lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        self._chunks.clear()
        # voices with breath (f1-f5, whisper, ...) draw noise from eSpeak's own random
        # numbers and from C's rand(): fix both sequences, per utterance
        if hasattr(self._lib, "espeak_ng_SetRandSeed"):
            self._lib.espeak_ng_SetRandSeed(ctypes.c_long(0))
        _libc_srand(0)
        b = text.encode() + b"\0"
        self._lib.espeak_Synth(b, len(b), 0, 0, 0, 0, None, None)
        self._lib.espeak_Synchronize()
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._chunks).astype(np.int16, copy=False)


def _check_request(i, r) -> dict:
    if not isinstance(r, dict) or not isinstance(r.get("text"), str):
        raise ValueError(
            f"requests[{i}] must be a dict with 'text' (and optional 'voice', 'rate', "
            f"'pitch'), got {r!r}"
        )
    extra = set(r) - {"text", "voice", "rate", "pitch"}
    if extra:
        raise ValueError(f"requests[{i}] has unknown keys {sorted(extra)}")
    return {"voice": "en-us", "rate": 175, "pitch": 50, **r}


def synthesize(requests) -> tuple[list[np.ndarray], int]:
    """Synthesise many utterances in a fresh subprocess, in the order given.

    Parameters
    ----------
    requests : list of dicts ``{"text": ..., "voice": ..., "rate": ..., "pitch": ...}``

    Returns
    -------
    waves : list of int16 arrays, one per request
    sample_rate : int

    The same list gives the same samples, bit for bit (eSpeak NG's output depends on
    what the process synthesised before; a fresh process starts the same each time).
    """
    requests = [_check_request(i, r) for i, r in enumerate(requests)]
    if not requests:
        raise ValueError("requests is empty: nothing to synthesise")
    _loader()  # a clear ImportError here rather than in the subprocess
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.npz"
        proc = subprocess.run(
            [sys.executable, "-m", "rnnlab.data.speech", str(out)],
            input=json.dumps(requests),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"the synthesiser process failed:\n{proc.stderr[-2000:]}"
            )
        with np.load(out) as f:
            samples, ends, rate = f["samples"], f["ends"], int(f["sample_rate"])
    starts = np.concatenate([[0], ends[:-1]])
    return [samples[a:b] for a, b in zip(starts, ends)], rate


def _serve(path: str) -> None:
    """The subprocess: read requests as JSON on stdin, write the samples to ``path``."""
    requests = json.loads(sys.stdin.read())
    synth = Synthesizer()
    waves = [synth.say(**r) for r in requests]
    np.savez(
        path,
        samples=np.concatenate(waves),
        ends=np.cumsum([len(w) for w in waves]),
        sample_rate=synth.sample_rate,
    )


# --- degrading the audio -------------------------------------------------------
def add_noise(x, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    r"""``x`` plus white Gaussian noise at a signal-to-noise ratio of ``snr_db``.

    The noise power is :math:`P_x / 10^{\text{snr}/10}`, with :math:`P_x` the mean
    square of ``x`` (float, any scale). Returns float64.
    """
    x = np.asarray(x, dtype=np.float64)
    power = np.mean(x**2)
    if power == 0:
        raise ValueError("x is silent: a signal-to-noise ratio is undefined")
    noise = rng.standard_normal(x.shape) * np.sqrt(power / 10 ** (snr_db / 10))
    return x + noise


def snr_db(clean, noisy) -> float:
    """The measured signal-to-noise ratio of ``noisy`` against ``clean``, in dB."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noisy, dtype=np.float64) - clean
    return float(10 * np.log10(np.mean(clean**2) / np.mean(noise**2)))


def reverberate(x, sample_rate: int, rt60: float, rng: np.random.Generator):
    """``x`` in a room whose sound decays by 60 dB in ``rt60`` seconds.

    The room's impulse response is the direct sound followed by Gaussian noise under
    an exponential envelope :math:`e^{-6.9 t / \\text{rt60}}` (60 dB at ``rt60``), a
    standard synthetic model; the output keeps ``x``'s length and power.
    """
    x = np.asarray(x, dtype=np.float64)
    if rt60 <= 0:
        return x.copy()
    t = np.arange(int(rt60 * sample_rate)) / sample_rate
    ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60) * 0.1
    ir[0] = 1.0
    n = 1 << int(x.size + ir.size - 1).bit_length()  # FFT convolution: long rooms
    y = np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(ir, n), n)[: x.size]
    return y * np.sqrt(np.mean(x**2) / np.mean(y**2))


if __name__ == "__main__":
    _serve(sys.argv[1])
