"""Recurrent layers: one file per architecture (:mod:`.rnn`, :mod:`.lstm`, :mod:`.gru`),
each with its step functions, its one-step cell and its multi-layer sequence layer, over
the shared machinery of :mod:`.base`."""

from .base import CellBase, RecurrentBase
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import IRNN, RNN, RNNCell, rnn_step_backward, rnn_step_forward

__all__ = [
    "CellBase",
    "RecurrentBase",
    "RNN",
    "IRNN",
    "RNNCell",
    "LSTM",
    "LSTMCell",
    "GRU",
    "GRUCell",
    "rnn_step_forward",
    "rnn_step_backward",
]
