"""From a waveform to the features a speech recogniser reads: frames, the short-time
Fourier transform, a mel filterbank and the log-mel spectrogram.

Plain NumPy, one function per step, as derived in the chapter "Speech recognition with
CTC"; the tests check them against scipy.signal and librosa.
"""

from __future__ import annotations

import numpy as np


def _check_wave(x, name="x") -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a mono waveform of shape (n,), got {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty: there is no audio to analyse")
    if np.issubdtype(a.dtype, np.integer):
        a = a / -float(np.iinfo(a.dtype).min)  # 16-bit PCM: divide by 2^15
    a = a.astype(np.float64, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds NaN or infinite samples")
    return a


def frame(x, frame_length: int, hop_length: int) -> np.ndarray:
    """Overlapping frames of ``x``: shape (n_frames, frame_length), a strided view.

    Frame ``i`` is ``x[i * hop_length : i * hop_length + frame_length]``; a waveform
    shorter than one frame is zero-padded to one frame, and the samples after the last
    whole frame are dropped.
    """
    x = np.asarray(x)
    for name, v in (("frame_length", frame_length), ("hop_length", hop_length)):
        if not (isinstance(v, (int, np.integer)) and v >= 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if len(x) < frame_length:
        x = np.concatenate([x, np.zeros(frame_length - len(x), dtype=x.dtype)])
    n = 1 + (len(x) - frame_length) // hop_length
    return np.lib.stride_tricks.as_strided(
        x, (n, frame_length), (x.strides[0] * hop_length, x.strides[0]), writeable=False
    )


def stft(x, n_fft: int = 512, hop_length: int = 160) -> np.ndarray:
    r"""Short-time Fourier transform with a periodic Hann window.

    .. math:: X_{i,k} = \sum_{n=0}^{N-1} w_n\, x_{iH + n}\, e^{-2\pi \mathrm{i} kn/N}

    Parameters
    ----------
    x : array, shape (n,): a waveform (integer PCM is scaled to [-1, 1])
    n_fft : int, frame length :math:`N` in samples (the window spans the whole frame)
    hop_length : int, :math:`H`, samples between frame starts

    Returns
    -------
    complex array, shape (n_frames, n_fft // 2 + 1)
    """
    a = _check_wave(x)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    return np.fft.rfft(frame(a, n_fft, hop_length) * window, axis=1)


def hz_to_mel(f):
    """The HTK mel scale, :math:`2595 \\log_{10}(1 + f / 700)`."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int = 40, fmin: float = 0.0, fmax=None
) -> np.ndarray:
    """Triangular filters evenly spaced on the mel scale: shape (n_mels, n_fft//2 + 1).

    Filter ``j`` rises from edge ``j`` to peak ``j + 1`` and falls to edge ``j + 2`` of
    ``n_mels + 2`` frequencies evenly spaced in mels between ``fmin`` and ``fmax``
    (default: half the sample rate), with peak 1: librosa's
    ``filters.mel(..., htk=True, norm=None)``.
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(
            f"need 0 <= fmin < fmax <= sample_rate / 2 = {sample_rate / 2}, got "
            f"fmin={fmin}, fmax={fmax}"
        )
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)  # (n_fft // 2 + 1,)
    lower, peak, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (peak - lower)
    falling = (upper - freqs) / (upper - peak)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel_spectrogram(
    x,
    sample_rate: int,
    n_fft: int = 512,
    hop_length: int = 160,
    n_mels: int = 40,
    fmin: float = 0.0,
    fmax=None,
    floor: float = 1e-10,
) -> np.ndarray:
    """Log of the mel filterbank's energies per frame: shape (n_frames, n_mels).

    ``log(max(|STFT|^2 @ melᵀ, floor))``: the power spectrum of each frame, summed by
    the triangular mel filters, on a log scale (the ear hears loudness and pitch
    roughly logarithmically). Defaults at 16 kHz: 32 ms frames every 10 ms.
    """
    if not (isinstance(sample_rate, (int, np.integer)) and sample_rate > 0):
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    power = np.abs(stft(x, n_fft, hop_length)) ** 2
    mel = power @ mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax).T
    return np.log(np.maximum(mel, floor))
