"""Layers and what they are built from.

Feed-forward layers (:mod:`.layers`), pooling over time (:mod:`.pooling`), recurrent
layers (:mod:`.recurrent`), their functions (:mod:`.functional`), initialisations
(:mod:`.init`) and padded batches (:mod:`.sequences`).
"""

from . import functional, init, recurrent, sequences
from .layers import Dropout, Embedding, Linear
from .pooling import SequencePool
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "Linear",
    "Embedding",
    "Dropout",
    "SequencePool",
    "RNN",
    "RNNCell",
    "LSTM",
    "LSTMCell",
    "GRU",
    "GRUCell",
    "functional",
    "init",
    "recurrent",
    "sequences",
]
