"""Initialisation schemes for recurrent layers, applied in place.

rnnlab's layers start from PyTorch's default, every weight and bias drawn from
:math:`U(-1/\\sqrt{H}, 1/\\sqrt{H})`. The functions here replace parts of that,
for the experiments of the gradient-flow chapters:

* :func:`orthogonal_`: each gate's block of :math:`W_{hh}` a random orthogonal matrix
  (Saxe et al. 2014), so that the linear part of the recurrence neither grows
  nor shrinks a state;
* :func:`identity_`: :math:`W_{hh} = gI` and zero bias, the IRNN of Le et al. (2015),
  meant for ReLU RNNs;
* :func:`forget_bias_`: the LSTM's forget-gate bias set to a positive value (Gers et al.
  2000; Jozefowicz et al. 2015), so that the cell state is kept by default early in
  training;
* :func:`uniform_`: back to the default.

Each draws from rnnlab's seeded generator (:func:`rnnlab.seed`) and returns the module.
"""

from __future__ import annotations

import numpy as np

from .. import backend


def _layers(module):
    """The parameter-name suffixes of every layer and direction.

    E.g. ``l0``, ``l0_reverse``, ...
    """
    from .recurrent.base import RecurrentBase

    if not isinstance(module, RecurrentBase):
        raise TypeError(
            f"expected an rnnlab RNN, LSTM or GRU, got {type(module).__name__}"
        )
    return module.layer_keys


def _set(module, name, value) -> None:
    p = module.params[name]
    p[...] = backend.to_device(np.asarray(value, dtype=p.dtype), backend.device_of(p))


def random_orthogonal(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """A random orthogonal ``n x n`` matrix, uniformly distributed.

    The QR decomposition of a Gaussian matrix, with the signs fixed.
    """
    g = rng if rng is not None else backend.rng()
    q, r = np.linalg.qr(g.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def orthogonal_(module, gain: float = 1.0):
    """Set every gate block of every layer's ``W_hh`` to a random orthogonal matrix.

    Each block is ``gain`` times its own random orthogonal matrix.
    """
    layers = _layers(module)
    H, G = module.hidden_size, module.gates
    for l in layers:
        _set(
            module,
            f"W_hh_{l}",
            np.concatenate([gain * random_orthogonal(H) for _ in range(G)]),
        )
    return module


def identity_(module, gain: float = 1.0):
    """IRNN initialisation: ``W_hh = gain * I`` (each gate block) and zero biases."""
    layers = _layers(module)
    H, G = module.hidden_size, module.gates
    for l in layers:
        _set(module, f"W_hh_{l}", np.tile(gain * np.eye(H), (G, 1)))
        for k in module.params:
            if k.startswith("b_") and k.endswith(f"_{l}"):
                _set(module, k, np.zeros(module.params[k].shape))
    return module


def forget_bias_(module, value: float = 1.0):
    """Set the forget-gate block of each LSTM layer's bias ``b_h`` to ``value``.

    (In PyTorch's two-vector form that is ``bias_ih + bias_hh`` summing to ``value`` on
    those rows.)
    """
    from .recurrent.lstm import LSTM

    if not isinstance(module, LSTM):
        raise TypeError(
            f"forget_bias_ applies to rnnlab.LSTM, got {type(module).__name__}"
        )
    if not module.bias:
        raise ValueError("this LSTM has no bias (bias=False)")
    H = module.hidden_size
    for l in _layers(module):
        b = backend.to_numpy(module.params[f"b_h_{l}"]).copy()
        b[H : 2 * H] = value
        _set(module, f"b_h_{l}", b)
    return module


def uniform_(module, bound: float | None = None):
    """Redraw every parameter from ``U(-bound, bound)``.

    ``bound`` is by default PyTorch's ``1/sqrt(hidden_size)``.
    """
    layers = _layers(module)
    k = 1.0 / np.sqrt(module.hidden_size) if bound is None else bound
    for l in layers:
        for name in [n for n in module.params if n.endswith(f"_{l}")]:
            _set(module, name, backend.rng().uniform(-k, k, module.params[name].shape))
    return module
