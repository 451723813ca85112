"""rnnlab: recurrent neural networks from first principles.

NumPy (CPU) and CuPy (GPU) layers with hand-written backpropagation through time,
verified against finite differences and PyTorch. The course that derives every
line is in the book (``book/`` and ``notebooks/`` of the repository).
"""
from . import (backend, callbacks, explore, functional, gradcheck, init, interop, kernels,
               losses, optim, sequences, tasks)
from .backend import available_devices, seed, to_device, to_numpy
from .callbacks import BestCheckpoint, EarlyStopping
from .cells import RNNCell, rnn_step_backward, rnn_step_forward
from .gradcheck import assert_gradients_close, check_module
from .gru import GRU, GRUCell
from .layers import Dropout, Embedding, Linear
from .losses import cross_entropy, mse
from .lstm import LSTM, LSTMCell
from .module import Module, ModuleDict, ModuleList, Sequential, is_grad_enabled, no_grad
from .optim import SGD, Adam, CosineLR, StepLR, WarmupLR, clip_grad_norm, clip_grad_value
from .pooling import SequencePool
from .recurrent import RNN
from .train import History, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    # modules and layers
    "Module", "Sequential", "ModuleList", "ModuleDict", "no_grad", "is_grad_enabled",
    "RNN", "RNNCell", "LSTM", "LSTMCell", "GRU", "GRUCell",
    "Linear", "Embedding", "Dropout", "SequencePool",
    # training
    "cross_entropy", "mse", "SGD", "Adam", "StepLR", "CosineLR", "WarmupLR",
    "clip_grad_norm", "clip_grad_value", "fit", "evaluate", "History",
    "EarlyStopping", "BestCheckpoint",
    # checking
    "check_module", "assert_gradients_close", "rnn_step_forward", "rnn_step_backward",
    # devices
    "seed", "to_device", "to_numpy", "available_devices",
    # submodules
    "backend", "callbacks", "explore", "functional", "gradcheck", "init", "interop",
    "kernels", "losses", "optim", "sequences", "tasks",
]
