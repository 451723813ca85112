"""The speech chapter's corpus, language model and scores.

Utterances of one to four words from a 20-word vocabulary (the ten digits and ten
commands), spoken by eSpeak NG (:mod:`rnnlab.data.speech`) in many voices, speeds and
pitches. The split is by voice: the test voices' variants are never heard in training.
Training audio is degraded with white noise at random signal-to-noise ratios and, some
of it, with room reverberation; the test audio is kept clean, to be degraded at each
measured level.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.audio import log_mel_spectrogram
from ..data.speech import add_noise, reverberate, synthesize

WORDS = (
    "zero one two three four five six seven eight nine "
    "yes no up down left right on off stop go"
).split()
#: CTC classes: the blank, the space, the letters
ALPHABET = "_ abcdefghijklmnopqrstuvwxyz"
#: accents of English in eSpeak NG, and the voice variants (timbre, sex, synthesis)
ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-029")
VARIANTS = ("m1 m2 m3 m4 m5 m6 m7 f1 f2 f3 f4 f5 klatt klatt2 klatt3 klatt4").split()
#: variants heard only in the test set
TEST_VARIANTS = ("m6", "f4", "klatt3")
#: feature settings at eSpeak NG's 22,050 Hz: 23 ms frames every 10 ms, 40 mel bands
FEATURES = dict(n_fft=512, hop_length=220, n_mels=40, fmax=8000)


def encode(text: str) -> np.ndarray:
    """Class ids of a transcript (letters and spaces)."""
    try:
        return np.array([ALPHABET.index(c) for c in text], dtype=np.int64)
    except ValueError:
        raise ValueError(f"text must use only letters a-z and spaces, got {text!r}")


def decode(labels) -> str:
    return "".join(ALPHABET[c] for c in labels)


def requests(n: int, variants, rng: np.random.Generator) -> list[dict]:
    """``n`` random utterances: 1-4 words, an accent, a variant, a rate and a pitch."""
    out = []
    for _ in range(n):
        words = rng.choice(WORDS, int(rng.integers(1, 5)))
        out.append(
            dict(
                text=" ".join(words),
                voice=f"{rng.choice(ACCENTS)}+{rng.choice(variants)}",
                rate=int(rng.integers(130, 231)),
                pitch=int(rng.integers(20, 81)),
            )
        )
    return out


def features(wave, sample_rate: int) -> np.ndarray:
    """Log-mel features of int16 or float audio: float32 (frames, 40)."""
    return log_mel_spectrogram(wave, sample_rate, **FEATURES).astype(np.float32)


def degrade(wave, sample_rate: int, snr=None, rt60=0.0, rng=None) -> np.ndarray:
    """Audio (int16 or float), reverberated for ``rt60`` seconds, then with white noise
    at ``snr`` dB (None or inf: none), as floats (int16 scaled to [-1, 1])."""
    x = np.asarray(wave)
    x = x / 32768.0 if x.dtype == np.int16 else x.astype(np.float64)
    if rt60 > 0:
        x = reverberate(x, sample_rate, rt60, rng)
    if snr is not None and np.isfinite(snr):
        x = add_noise(x, snr, rng)
    return x


@dataclass
class Corpus:
    """The chapter's data.

    ``train`` / ``test``: the requests (text, voice, rate, pitch) of each utterance;
    ``train_features``: log-mel features of the (noisy) training audio;
    ``train_snr``: each training utterance's SNR in dB (inf: clean);
    ``train_rt60``: its reverberation time in seconds (0: none);
    ``test_waves``: the clean test audio, int16; ``sample_rate``.
    """

    train: list
    test: list
    train_features: list
    train_snr: np.ndarray
    train_rt60: np.ndarray
    test_waves: list
    sample_rate: int


def build_corpus(
    n_train: int = 2500,
    n_test: int = 300,
    seed: int = 0,
    train_snrs=(30.0, 20.0, 10.0),
    clean_share: float = 0.4,
    reverb_share: float = 0.3,
    rt60_range=(0.2, 0.6),
    cache_dir=None,
) -> Corpus:
    """Synthesise, degrade and featurise the corpus (about 6 s), or read it from cache.

    Each training utterance is reverberated with probability ``reverb_share`` (a
    reverberation time drawn uniformly from ``rt60_range``, in seconds), and then is
    clean with probability ``clean_share`` or has white noise at one of ``train_snrs``
    (dB). With ``cache_dir``, the result is stored under a name made from the arguments
    and read back next time.
    """
    args = dict(
        n_train=n_train,
        n_test=n_test,
        seed=seed,
        train_snrs=list(train_snrs),
        clean_share=clean_share,
        reverb_share=reverb_share,
        rt60_range=list(rt60_range),
    )
    key = hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()[:16]
    path = None if cache_dir is None else Path(cache_dir) / f"speech-{key}.npz"
    if path is not None and path.exists():
        return _read(path)
    rng = np.random.default_rng(seed)
    train_variants = [v for v in VARIANTS if v not in TEST_VARIANTS]
    train = requests(n_train, train_variants, rng)
    test = requests(n_test, TEST_VARIANTS, rng)
    waves, rate = synthesize(train + test)
    snr = np.where(
        rng.random(n_train) < clean_share, np.inf, rng.choice(train_snrs, n_train)
    )
    rt60 = np.where(
        rng.random(n_train) < reverb_share, rng.uniform(*rt60_range, n_train), 0.0
    )
    feats = [
        features(degrade(w, rate, s, r, rng), rate)
        for w, s, r in zip(waves[:n_train], snr, rt60)
    ]
    corpus = Corpus(train, test, feats, snr, rt60, waves[n_train:], rate)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, corpus)
    return corpus


def _pack(arrays):
    return np.concatenate(arrays), np.cumsum([len(a) for a in arrays])


def _unpack(flat, ends):
    return [flat[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends)]


def _write(path: Path, c: Corpus) -> None:
    feats, feat_ends = _pack(c.train_features)
    waves, wave_ends = _pack(c.test_waves)
    meta = json.dumps({"train": c.train, "test": c.test, "sample_rate": c.sample_rate})
    np.savez(
        path,
        feats=feats,
        feat_ends=feat_ends,
        waves=waves,
        wave_ends=wave_ends,
        snr=c.train_snr,
        rt60=c.train_rt60,
        meta=np.array(meta),
    )


def _read(path: Path) -> Corpus:
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        return Corpus(
            meta["train"],
            meta["test"],
            _unpack(f["feats"], f["feat_ends"]),
            f["snr"],
            f["rt60"],
            _unpack(f["waves"], f["wave_ends"]),
            meta["sample_rate"],
        )


# --- a character language model for shallow fusion -----------------------------
class CharNgram:
    """A character n-gram model with add-k smoothing, over :data:`ALPHABET`'s labels.

    ``lm(prefix, label) -> log p(label | the last n - 1 labels of prefix)``, the
    callable :func:`rnnlab.ctc_decode.ctc_prefix_beam_search` takes. Contexts shorter
    than n - 1 (at the start) are padded with a start symbol.
    """

    def __init__(self, n: int = 5, k: float = 0.01):
        if not (isinstance(n, int) and n >= 1) or not k > 0:
            raise ValueError(f"need an integer n >= 1 and k > 0, got n={n!r}, k={k!r}")
        self.n, self.k = n, k
        self.counts: Counter = Counter()
        self.context_counts: Counter = Counter()

    def fit(self, texts) -> "CharNgram":
        for text in texts:
            ids = (-1,) * (self.n - 1) + tuple(encode(text))
            for i in range(self.n - 1, len(ids)):
                ctx = ids[i - self.n + 1 : i]
                self.counts[ctx + (ids[i],)] += 1
                self.context_counts[ctx] += 1
        return self

    def __call__(self, prefix, label) -> float:
        ctx = ((-1,) * (self.n - 1) + tuple(prefix))[len(prefix) :]
        V = len(ALPHABET) - 1  # the blank is never a label
        num = self.counts.get(ctx + (label,), 0) + self.k
        return math.log(num / (self.context_counts.get(ctx, 0) + self.k * V))


def error_rates(references, hypotheses) -> dict:
    """Character and word error rates (jiwer), as fractions."""
    try:
        import jiwer
    except ImportError as e:
        raise ImportError("error rates need jiwer: pip install jiwer") from e
    hyps = [h if h.strip() else "<empty>" for h in hypotheses]  # jiwer refuses ""
    return {
        "cer": jiwer.cer(list(references), hyps),
        "wer": jiwer.wer(list(references), hyps),
    }
