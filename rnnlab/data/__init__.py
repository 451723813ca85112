"""Data: vocabularies, corpora, batching (truncated-BPTT streams, length buckets, arrays) and
sliding windows for time series."""
from .batching import ArrayBatches, BucketBatches, TBPTTBatches
from .corpora import load_pydoc_corpus, train_val_split
from .vocab import CharVocab, WordVocab
from .windows import sliding_windows

__all__ = ["CharVocab", "WordVocab", "load_pydoc_corpus", "train_val_split", "TBPTTBatches",
           "BucketBatches", "ArrayBatches", "sliding_windows"]
