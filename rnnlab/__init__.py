"""rnnlab: recurrent neural networks from first principles.

NumPy (CPU) and CuPy (GPU) layers with hand-written backpropagation through time,
verified against finite differences and PyTorch. The course that derives every
line is in the book (``book/`` and ``notebooks/`` of the repository).
"""
from . import backend, explore, functional, gradcheck, init, interop, kernels, losses, optim, sequences, tasks
from .backend import available_devices, seed, to_device, to_numpy
from .cells import RNNCell, rnn_step_backward, rnn_step_forward
from .gradcheck import assert_gradients_close, check_module
from .gru import GRU, GRUCell
from .layers import Dropout, Embedding, Linear
from .losses import cross_entropy, mse
from .lstm import LSTM, LSTMCell
from .module import Module, ModuleDict, ModuleList, Sequential, is_grad_enabled, no_grad
from .pooling import SequencePool
from .optim import SGD, Adam, clip_grad_norm, clip_grad_value
from .recurrent import RNN

__version__ = "0.1.0"

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "no_grad", "is_grad_enabled", "RNN", "RNNCell", "LSTM", "LSTMCell", "GRU", "GRUCell", "Linear", "Embedding", "Dropout", "SequencePool",
    "SGD", "Adam", "clip_grad_norm", "clip_grad_value", "cross_entropy", "mse",
    "check_module", "assert_gradients_close", "rnn_step_forward", "rnn_step_backward",
    "seed", "to_device", "to_numpy", "available_devices",
    "backend", "explore", "functional", "gradcheck", "init", "interop", "kernels", "losses", "optim", "sequences",
    "tasks",
]
