"""Layers: feed-forward (:mod:`.layers`), pooling over time (:mod:`.pooling`), recurrent
(:mod:`.recurrent`), their functions (:mod:`.functional`), initialisations (:mod:`.init`) and
padded batches (:mod:`.sequences`)."""

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
