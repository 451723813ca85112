"""Weights in and out of PyTorch: ``from_torch``, ``to_torch`` and ``torch_state_dict``.

rnnlab's layers take PyTorch's constructor arguments and gate order, so weights
map one-to-one, with a single exception: PyTorch keeps two bias vectors per
layer (``bias_ih`` and ``bias_hh``) where the maths needs only their sum,
:math:`b_h = b_{ih} + b_{hh}`. ``from_torch`` adds them; ``to_torch`` puts
``b_h`` in ``bias_ih`` and zeros in ``bias_hh`` (the same function). The gradient
of the loss w.r.t. either PyTorch bias equals the gradient w.r.t. ``b_h``, which
is what ``torch_state_dict(..., grads=True)`` returns under both keys.

torch is optional: these functions import it when called.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .recurrent import RNN

_TORCH_DTYPES = ("float32", "float64", "float16")


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError("rnnlab.interop needs PyTorch: pip install torch (or rnnlab[torch])") from e
    return torch


def _key_map(module) -> list[tuple[str, str]]:
    """Pairs ``(rnnlab_name, torch_name)``; an rnnlab bias maps to ``bias_ih`` (``bias_hh`` is handled apart)."""
    if isinstance(module, RNN):
        pairs = []
        for l in range(module.num_layers):
            pairs += [(f"W_xh_l{l}", f"weight_ih_l{l}"), (f"W_hh_l{l}", f"weight_hh_l{l}")]
            if module.bias:
                pairs.append((f"b_h_l{l}", f"bias_ih_l{l}"))
        return pairs
    raise TypeError(f"interop supports rnnlab.RNN, got {type(module).__name__}")


def from_torch(torch_module):
    """Build the rnnlab module with the same configuration, weights and dtype as a PyTorch one.

    Supports ``torch.nn.RNN``. Returns a module on the CPU.
    """
    torch = _torch()
    tm = torch_module
    if not isinstance(tm, torch.nn.RNN):
        raise TypeError(f"from_torch supports torch.nn.RNN, got {type(tm).__name__}")
    if tm.bidirectional:
        raise ValueError("bidirectional torch.nn.RNN is not supported yet")
    if getattr(tm, "proj_size", 0):
        raise ValueError("proj_size is not supported")
    sd = {k: v.detach().cpu().numpy() for k, v in tm.state_dict().items()}
    dtype = sd["weight_hh_l0"].dtype
    m = RNN(tm.input_size, tm.hidden_size, num_layers=tm.num_layers, nonlinearity=tm.nonlinearity,
            bias=tm.bias, batch_first=tm.batch_first, dropout=tm.dropout, dtype=dtype)
    state = {}
    for ours, theirs in _key_map(m):
        v = sd[theirs]
        if theirs.startswith("bias_ih"):
            v = v + sd[theirs.replace("bias_ih", "bias_hh")]
        state[ours] = v
    m.load_state_dict(state)
    m.train(tm.training)
    return m


def torch_state_dict(module, grads: bool = False) -> dict[str, np.ndarray]:
    """Parameters (or, with ``grads=True``, their gradients) as NumPy arrays under PyTorch's keys.

    ``bias_hh_l{k}`` holds zeros for parameters and the same gradient as
    ``bias_ih_l{k}`` for gradients (see the module docstring).
    """
    src = module.grads if grads else module.params
    out = {}
    for ours, theirs in _key_map(module):
        v = backend.to_numpy(src[ours]).copy()
        out[theirs] = v
        if theirs.startswith("bias_ih"):
            out[theirs.replace("bias_ih", "bias_hh")] = v.copy() if grads else np.zeros_like(v)
    return out


def to_torch(module):
    """The ``torch.nn`` module computing the same function as ``module``, same dtype, on the CPU."""
    torch = _torch()
    if not isinstance(module, RNN):
        raise TypeError(f"to_torch supports rnnlab.RNN, got {type(module).__name__}")
    m = module
    if m.dtype.name not in _TORCH_DTYPES:
        raise TypeError(f"no torch dtype for {m.dtype}")
    tm = torch.nn.RNN(m.input_size, m.hidden_size, num_layers=m.num_layers, nonlinearity=m.nonlinearity,
                      bias=m.bias, batch_first=m.batch_first, dropout=m.dropout,
                      dtype=getattr(torch, m.dtype.name))
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in torch_state_dict(m).items()})
    tm.train(m.training)
    return tm
