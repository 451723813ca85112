"""Data: vocabularies, corpora, batching (truncated-BPTT streams, length buckets, arrays),
sliding windows for time series, and labelled tweets for sentiment analysis."""

from .batching import ArrayBatches, BucketBatches, TBPTTBatches
from .corpora import load_pydoc_corpus, train_val_split
from .vocab import CharVocab, WordVocab
from .tweets import TweetCorpus, load_tweets
from .windows import sliding_windows

__all__ = [
    "CharVocab",
    "WordVocab",
    "load_pydoc_corpus",
    "train_val_split",
    "TBPTTBatches",
    "BucketBatches",
    "ArrayBatches",
    "sliding_windows",
    "load_tweets",
    "TweetCorpus",
]
