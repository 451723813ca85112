"""rnnlab: recurrent neural networks from first principles.

NumPy (CPU) and CuPy (GPU) layers with hand-written backpropagation through time,
verified against finite differences and PyTorch. The course that derives every
line is in the book (``book/`` and ``notebooks/`` of the repository).

Layout: the core (:mod:`.backend` and :mod:`.kernels` for arrays and devices,
:mod:`.module` for Module and containers), layers (:mod:`.nn`), :mod:`.losses`,
:mod:`.metrics`, :mod:`.optim`, :mod:`.data`, training (:mod:`.train`,
:mod:`.callbacks`), checking (:mod:`.gradcheck`, :mod:`.interop`), :mod:`.models`, and
the course's own tools (:mod:`.course`).
"""

from . import (
    backend,
    callbacks,
    ctc,
    course,
    data,
    decode,
    gradcheck,
    interop,
    kernels,
    losses,
    metrics,
    models,
    nn,
    optim,
    train,
)
from .backend import available_devices, seed, to_device, to_numpy
from .callbacks import BestCheckpoint, EarlyStopping, Every
from .gradcheck import assert_gradients_close, check_module
from .ctc import ctc_loss
from .losses import bce_with_logits, cross_entropy, gaussian_nll, mse, pinball
from .metrics import EpochMetric, accuracy, coverage, mase, smape
from .module import Module, ModuleDict, ModuleList, Sequential, is_grad_enabled, no_grad
from .nn.layers import Dropout, Embedding, Linear
from .nn.attention import AdditiveAttention, AttentionPool, MultiplicativeAttention
from .nn.pooling import SequencePool
from .nn.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    rnn_step_backward,
    rnn_step_forward,
)
from .nn.sequences import lengths_to_mask, pad_sequences
from .optim import (
    SGD,
    Adam,
    CosineLR,
    StepLR,
    WarmupLR,
    clip_grad_norm,
    clip_grad_value,
)
from .train import History, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    # modules and layers
    "Module",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "no_grad",
    "is_grad_enabled",
    "RNN",
    "RNNCell",
    "LSTM",
    "LSTMCell",
    "GRU",
    "GRUCell",
    "Linear",
    "Embedding",
    "Dropout",
    "SequencePool",
    "AttentionPool",
    "AdditiveAttention",
    "MultiplicativeAttention",
    "pad_sequences",
    "lengths_to_mask",
    # training
    "cross_entropy",
    "mse",
    "gaussian_nll",
    "pinball",
    "ctc_loss",
    "bce_with_logits",
    "SGD",
    "Adam",
    "StepLR",
    "CosineLR",
    "WarmupLR",
    "clip_grad_norm",
    "clip_grad_value",
    "fit",
    "evaluate",
    "History",
    "accuracy",
    "EpochMetric",
    "mase",
    "smape",
    "coverage",
    "EarlyStopping",
    "Every",
    "BestCheckpoint",
    # checking
    "check_module",
    "assert_gradients_close",
    "rnn_step_forward",
    "rnn_step_backward",
    # devices
    "seed",
    "to_device",
    "to_numpy",
    "available_devices",
    # submodules
    "backend",
    "callbacks",
    "ctc",
    "course",
    "data",
    "decode",
    "gradcheck",
    "interop",
    "kernels",
    "losses",
    "metrics",
    "models",
    "nn",
    "optim",
    "train",
]
