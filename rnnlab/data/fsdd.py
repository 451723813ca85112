"""The Free Spoken Digit Dataset: real recordings of spoken digits, for users online.

Jackson et al.'s recordings of several speakers saying each digit 0-9 fifty times
(WAV files at 8 kHz; CC BY-SA 4.0), downloaded once as the GitHub archive of release
v1.0.9 into a cache folder and read from it afterwards. The book never downloads it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import urllib.request
import wave
import zipfile
from pathlib import Path

import numpy as np

FSDD_URL = (
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/"
    "v1.0.9.zip"
)
_NAME = re.compile(r"recordings/(\d)_([A-Za-z]+)_(\d+)\.wav$")


def default_cache() -> Path:
    """``$RNNLAB_CACHE``, or ``~/.cache/rnnlab``."""
    return Path(os.environ.get("RNNLAB_CACHE", Path.home() / ".cache" / "rnnlab"))


def read_wav(data: bytes, name: str = "audio") -> tuple[np.ndarray, int]:
    """The samples (int16, mono) and sample rate of 16-bit PCM WAV bytes."""
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(
                f"{name}: expected 16-bit mono PCM, got {8 * w.getsampwidth()}-bit "
                f"with {w.getnchannels()} channels"
            )
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy(), (
            w.getframerate()
        )


def load_fsdd(cache_dir=None, url: str = FSDD_URL) -> list[dict]:
    """Every recording: dicts with ``wave`` (int16), ``sample_rate``, ``digit``,
    ``speaker`` and ``index``, sorted by speaker, digit and index.

    The archive is downloaded from ``url`` into ``cache_dir`` (default
    :func:`default_cache`) the first time; offline, put it there by hand under the
    name the error message gives.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache()
    archive = cache / ("fsdd-" + url.rstrip("/").split("/")[-1])
    if not archive.exists():
        cache.mkdir(parents=True, exist_ok=True)
        try:
            with (
                urllib.request.urlopen(url, timeout=60) as r,
                tempfile.NamedTemporaryFile(dir=cache, delete=False) as tmp,
            ):
                shutil.copyfileobj(r, tmp)
        except OSError as e:
            raise OSError(
                f"could not download the Free Spoken Digit Dataset from {url} ({e}); "
                f"download it by hand and save it as {archive}"
            ) from e
        Path(tmp.name).replace(archive)
    out = []
    try:
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                m = _NAME.search(name)
                if m:
                    samples, rate = read_wav(z.read(name), name)
                    out.append(
                        dict(
                            wave=samples,
                            sample_rate=rate,
                            digit=int(m[1]),
                            speaker=m[2],
                            index=int(m[3]),
                        )
                    )
    except zipfile.BadZipFile as e:
        raise ValueError(f"{archive} is not a zip archive: delete it and retry") from e
    if not out:
        raise ValueError(
            f"{archive} holds no recordings/<digit>_<speaker>_<n>.wav files"
        )
    return sorted(out, key=lambda r: (r["speaker"], r["digit"], r["index"]))
