"""rnnlab.data.audio against scipy.signal and librosa; rnnlab.data.speech: the eSpeak NG
wrapper's determinism, noise at a measured SNR, reverberation, and bad input."""

import numpy as np
import pytest

from rnnlab.data import audio
from rnnlab.data.speech import add_noise, reverberate, snr_db, synthesize


@pytest.fixture
def wave(rng):
    t = np.arange(4000) / 16000
    return np.sin(2 * np.pi * 440 * t) + 0.3 * rng.standard_normal(t.size)


def test_frames_are_the_hops_of_the_signal():
    f = audio.frame(np.arange(10), 4, 3)
    assert f.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert audio.frame(np.arange(3), 4, 2).tolist() == [[0, 1, 2, 0]]


def test_stft_equals_scipy(wave):
    signal = pytest.importorskip("scipy.signal")
    n_fft, hop = 256, 100
    _, _, Z = signal.stft(
        wave,
        nperseg=n_fft,
        noverlap=n_fft - hop,
        window="hann",
        boundary=None,
        padded=False,
        detrend=False,
    )
    ours = audio.stft(wave, n_fft, hop)
    window_sum = np.hanning(n_fft + 1)[:-1].sum()  # scipy scales by the window's sum
    np.testing.assert_allclose(ours, Z.T * window_sum, atol=1e-9)


def test_mel_filterbank_and_log_mel_equal_librosa(wave):
    librosa = pytest.importorskip("librosa")
    ours = audio.mel_filterbank(16000, 512, 40, fmin=20, fmax=7600)
    ref = librosa.filters.mel(
        sr=16000, n_fft=512, n_mels=40, fmin=20, fmax=7600, htk=True, norm=None
    )
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    power = (
        np.abs(
            librosa.stft(wave, n_fft=512, hop_length=160, center=False, window="hann")
        )
        ** 2
    )
    ref_log = np.log(np.maximum(ref @ power, 1e-10)).T
    np.testing.assert_allclose(
        audio.log_mel_spectrogram(wave, 16000, 512, 160, 40, fmin=20, fmax=7600),
        ref_log,
        atol=1e-5,
    )


def test_a_tone_lights_the_mel_band_of_its_frequency():
    t = np.arange(16000) / 16000
    spec = audio.log_mel_spectrogram(np.sin(2 * np.pi * 1000 * t), 16000)
    fb = audio.mel_filterbank(16000, 512, 40)
    bin_1k = round(1000 * 512 / 16000)
    assert spec.mean(axis=0).argmax() == fb[:, bin_1k].argmax()


def test_integer_pcm_is_scaled_to_unit_range(wave):
    pcm = (wave / np.abs(wave).max() * 32767).astype(np.int16)
    a = audio.stft(pcm)
    b = audio.stft(pcm / 32768.0)
    np.testing.assert_allclose(a, b)


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: audio.stft(np.zeros(0)), "empty"),
        (lambda: audio.stft(np.zeros((2, 100))), r"mono waveform of shape \(n,\)"),
        (lambda: audio.stft(np.array([0.0, np.nan] * 300)), "NaN"),
        (lambda: audio.log_mel_spectrogram(np.zeros(600), 16000.5), "sample_rate"),
        (
            lambda: audio.mel_filterbank(16000, 512, fmax=9000),
            "fmax <= sample_rate / 2",
        ),
        (lambda: audio.frame(np.zeros(5), 0, 1), "frame_length must be"),
    ],
)
def test_bad_audio_is_named(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_noise_is_added_at_the_asked_snr(rng, wave):
    for snr in (0, 10, 20):
        noisy = add_noise(wave, snr, rng)
        assert snr_db(wave, noisy) == pytest.approx(snr, abs=0.2)
    with pytest.raises(ValueError, match="silent"):
        add_noise(np.zeros(10), 10, rng)


def test_reverberation_keeps_length_and_power_and_smears_in_time(rng):
    click = np.zeros(8000)
    click[100] = 1.0
    wet = reverberate(click, 16000, 0.3, rng)
    assert wet.shape == click.shape
    assert np.mean(wet**2) == pytest.approx(np.mean(click**2))
    assert np.abs(wet[2000:]).sum() > 0  # the room still rings 100 ms later
    np.testing.assert_array_equal(reverberate(click, 16000, 0.0, rng), click)


@pytest.fixture(scope="module")
def espeak():
    return pytest.importorskip("espeakng_loader")


def test_synthesis_is_reproducible_in_a_fresh_process(espeak):
    requests = [
        {"text": "3 4 2", "voice": v, "rate": r, "pitch": p}
        for v, r, p in [
            ("en-us+f3", 160, 40),
            ("en+m4", 200, 60),
            ("en-us+f3", 160, 40),
        ]
    ]
    a, rate = synthesize(requests)
    b, _ = synthesize(requests)
    assert rate == 22050
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(x.dtype == np.int16 and 0.3 < len(x) / rate < 3 for x in a)
    faster, _ = synthesize([dict(requests[0], rate=320)])
    assert len(faster[0]) < 0.8 * len(a[0])


def test_synthesis_names_bad_requests(espeak):
    with pytest.raises(ValueError, match="requests is empty"):
        synthesize([])
    with pytest.raises(ValueError, match=r"requests\[0\] must be a dict with 'text'"):
        synthesize(["3 4"])
    with pytest.raises(ValueError, match=r"unknown keys \['speed'\]"):
        synthesize([{"text": "3", "speed": 2}])
    with pytest.raises(RuntimeError, match="has no voice 'xx-nowhere'"):
        synthesize([{"text": "3", "voice": "xx-nowhere"}])


def _wav_bytes(samples, rate=8000, channels=1):
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def test_fsdd_loader_downloads_once_and_reads_the_recordings(tmp_path):
    import zipfile

    from rnnlab.data.fsdd import load_fsdd

    archive = tmp_path / "served" / "v9.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("fsdd-9/recordings/3_theo_12.wav", _wav_bytes([1, -2, 3]))
        z.writestr("fsdd-9/recordings/0_george_1.wav", _wav_bytes([5] * 10))
        z.writestr("fsdd-9/README.md", "not audio")
    cache = tmp_path / "cache"
    rows = load_fsdd(cache, url=archive.as_uri())
    assert [(r["speaker"], r["digit"], r["index"]) for r in rows] == [
        ("george", 0, 1),
        ("theo", 3, 12),
    ]
    assert rows[1]["wave"].tolist() == [1, -2, 3] and rows[1]["sample_rate"] == 8000
    archive.unlink()  # the second call reads the cached copy
    assert len(load_fsdd(cache, url=archive.as_uri())) == 2


def test_fsdd_loader_errors_name_the_cause(tmp_path):
    import zipfile

    from rnnlab.data.fsdd import load_fsdd

    with pytest.raises(OSError, match="save it as .*fsdd-nothing.zip"):
        load_fsdd(tmp_path, url=(tmp_path / "nothing.zip").as_uri())
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("x.txt", "")
    with pytest.raises(ValueError, match="holds no recordings"):
        load_fsdd(tmp_path / "c", url=empty.as_uri())
    stereo = tmp_path / "stereo.zip"
    with zipfile.ZipFile(stereo, "w") as z:
        z.writestr("r/recordings/1_a_0.wav", _wav_bytes([1, 2, 3, 4], channels=2))
    with pytest.raises(ValueError, match="expected 16-bit mono PCM"):
        load_fsdd(tmp_path / "d", url=stereo.as_uri())
