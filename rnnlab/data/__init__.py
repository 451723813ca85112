"""Data: vocabularies, corpora, batching, windows and labelled tweets.

Batching covers truncated-BPTT streams, length buckets and arrays; sliding windows are
for time series and the tweets for sentiment analysis.
"""

from .batching import ArrayBatches, BucketBatches, TBPTTBatches
from .corpora import load_pydoc_corpus, train_val_split
from .vocab import CharVocab, WordVocab, tokenize
from .tweets import TweetCorpus, load_tweets
from .windows import sliding_windows

__all__ = [
    "CharVocab",
    "WordVocab",
    "tokenize",
    "load_pydoc_corpus",
    "train_val_split",
    "TBPTTBatches",
    "BucketBatches",
    "ArrayBatches",
    "sliding_windows",
    "load_tweets",
    "TweetCorpus",
]
