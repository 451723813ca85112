"""Data: vocabularies, corpora, batching, windows, labelled tweets and movie reviews.

Batching covers truncated-BPTT streams, length buckets and arrays. Sliding windows,
rolling-origin splits and a past-only scaler are for time series; the tweets and the
IMDb reviews (downloaded once, on request) for sentiment analysis.
"""

from .batching import (
    ArrayBatches,
    BucketBatches,
    CTCBatches,
    FrameBatches,
    PairBatches,
    TBPTTBatches,
)
from .corpora import load_pydoc_corpus, train_val_split
from .imdb import ReviewCorpus, load_imdb
from .vocab import CharVocab, WordVocab, tokenize
from .tweets import TweetCorpus, load_tweets
from .transduction import PairCorpus, load_cmudict, number_words
from .windows import sliding_windows
from .forecasting import RollingOrigin, Scaler, check_series
from .fsdd import load_fsdd
from .pianoroll import Chorales, chorale_paths, load_chorales, read_musicxml

__all__ = [
    "CharVocab",
    "WordVocab",
    "tokenize",
    "load_pydoc_corpus",
    "train_val_split",
    "TBPTTBatches",
    "BucketBatches",
    "PairBatches",
    "CTCBatches",
    "FrameBatches",
    "ArrayBatches",
    "sliding_windows",
    "check_series",
    "RollingOrigin",
    "Scaler",
    "load_fsdd",
    "read_musicxml",
    "chorale_paths",
    "load_chorales",
    "Chorales",
    "load_tweets",
    "TweetCorpus",
    "PairCorpus",
    "load_cmudict",
    "number_words",
    "load_imdb",
    "ReviewCorpus",
]
