"""Weights in and out of PyTorch: ``from_torch``, ``to_torch`` and ``torch_state_dict``.

rnnlab's layers take PyTorch's constructor arguments and gate order, so weight
matrices map one-to-one (``W_xh_l0`` is ``weight_ih_l0``, ``W_hh_l0`` is
``weight_hh_l0``). Biases are where they differ: PyTorch keeps two vectors per
layer (``bias_ih``, ``bias_hh``) where the maths needs only their sum,
:math:`b_h = b_{ih} + b_{hh}`. The GRU is the exception that proves the rule:
its reset gate multiplies the n block of ``bias_hh``, so that block stays apart
as ``b_hn``.

* ``from_torch`` adds the biases;
* ``to_torch`` puts ``b_h`` in ``bias_ih`` and zeros (or, for the GRU, ``b_hn``) in
  ``bias_hh``: the same function, so ``from_torch(to_torch(m))`` reproduces ``m``
  exactly;
* the gradient of the loss w.r.t. each PyTorch bias is the gradient w.r.t. the rnnlab
  bias it was added into, which is what ``torch_state_dict(..., grads=True)`` returns.

torch is optional: these functions import it when called.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .nn.recurrent import GRU, LSTM, RNN

_CLASSES = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            "rnnlab.interop needs PyTorch: pip install torch (or rnnlab[torch])"
        ) from e
    return torch


def _check_supported(module):
    if type(module) not in _CLASSES.values():
        raise TypeError(
            f"interop supports rnnlab.RNN, LSTM and GRU, got {type(module).__name__}"
        )


def torch_state_dict(module, grads: bool = False) -> dict[str, np.ndarray]:
    """Parameters (or their gradients) as NumPy arrays under PyTorch's keys.

    The result loads into the matching ``torch.nn`` module with ``load_state_dict``, and
    with ``grads=True`` it equals the ``.grad`` of each PyTorch parameter after the same
    backward pass.
    """
    _check_supported(module)
    src = module.grads if grads else module.params
    H = module.hidden_size
    out = {}
    for key in module.layer_keys:  # l0, l0_reverse, l1, ...: PyTorch's suffixes too
        get = lambda k: backend.to_numpy(src[f"{k}_{key}"]).copy()  # noqa: E731
        out[f"weight_ih_{key}"] = get("W_xh")
        out[f"weight_hh_{key}"] = get("W_hh")
        if module.bias:
            b = get("b_h")
            out[f"bias_ih_{key}"] = b
            if isinstance(module, GRU):  # r, z blocks merged into b_h; n block is b_hn
                hh = np.zeros_like(b) if not grads else b.copy()
                hh[2 * H :] = get("b_hn")
            else:
                hh = b.copy() if grads else np.zeros_like(b)
            out[f"bias_hh_{key}"] = hh
    return out


def from_torch(torch_module):
    """The rnnlab layer equivalent to a ``torch.nn.RNN/LSTM/GRU``.

    It has the same configuration, weights, dtype and mode. Returns a module on the CPU.
    """
    torch = _torch()
    tm = torch_module
    kind = next((k for k in _CLASSES if type(tm) is getattr(torch.nn, k)), None)
    if kind is None:
        raise TypeError(
            f"from_torch supports torch.nn.RNN, LSTM and GRU, got {type(tm).__name__}"
        )
    if getattr(tm, "proj_size", 0):
        raise ValueError("LSTM proj_size is not supported")
    sd = {k: v.detach().cpu().numpy() for k, v in tm.state_dict().items()}
    extra = {"nonlinearity": tm.nonlinearity} if kind == "RNN" else {}
    m = _CLASSES[kind](
        tm.input_size,
        tm.hidden_size,
        num_layers=tm.num_layers,
        bias=tm.bias,
        batch_first=tm.batch_first,
        dropout=tm.dropout,
        bidirectional=tm.bidirectional,
        dtype=sd["weight_hh_l0"].dtype,
        **extra,
    )
    H, state = tm.hidden_size, {}
    for key in m.layer_keys:
        state[f"W_xh_{key}"] = sd[f"weight_ih_{key}"]
        state[f"W_hh_{key}"] = sd[f"weight_hh_{key}"]
        if tm.bias:
            b_ih, b_hh = sd[f"bias_ih_{key}"], sd[f"bias_hh_{key}"].copy()
            if kind == "GRU":
                state[f"b_hn_{key}"] = b_hh[2 * H :].copy()
                b_hh[2 * H :] = 0
            state[f"b_h_{key}"] = b_ih + b_hh
    m.load_state_dict(state)
    m.train(tm.training)
    return m


def to_torch(module):
    """The ``torch.nn`` module computing the same function as ``module``.

    It has the same dtype and mode, and lives on the CPU.
    """
    torch = _torch()
    _check_supported(module)
    m = module
    kind = type(m).__name__
    if m.dtype.name not in ("float16", "float32", "float64"):
        raise TypeError(
            f"no torch dtype for {m.dtype}; use module.to(dtype=np.float32) first"
        )
    extra = {"nonlinearity": m.nonlinearity} if kind == "RNN" else {}
    tm = getattr(torch.nn, kind)(
        m.input_size,
        m.hidden_size,
        num_layers=m.num_layers,
        bias=m.bias,
        batch_first=m.batch_first,
        dropout=m.dropout,
        bidirectional=m.bidirectional,
        dtype=getattr(torch, m.dtype.name),
        **extra,
    )
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in torch_state_dict(m).items()})
    tm.train(m.training)
    return tm
