"""Optimisers (SGD with momentum, Adam) and gradient clipping.

Optimisers take ``model.parameters()``, a list of ``(param, grad)`` pairs, and
update the parameters *in place*, so the model and the optimiser always agree.
"""
from __future__ import annotations

import math

from .backend import array_module


class Optimizer:
    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr = lr

    def zero_grad(self) -> None:
        for _, g in self.params:
            g[...] = 0

    def step(self) -> None:
        raise NotImplementedError  # abstract


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum and weight decay (PyTorch's form).

    .. math:: v \leftarrow \mu v + g,\qquad \theta \leftarrow \theta - \eta v
    """

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = [array_module(p).zeros_like(p) for p, _ in self.params] if momentum else None

    def step(self) -> None:
        for i, (p, g) in enumerate(self.params):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.velocity is not None:
                v = self.velocity[i]
                v *= self.momentum
                v += g
                g = v
            p -= self.lr * g


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with bias correction.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.b1, self.b2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.m = [array_module(p).zeros_like(p) for p, _ in self.params]
        self.v = [array_module(p).zeros_like(p) for p, _ in self.params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        step = self.lr * math.sqrt(c2) / c1  # bias corrections folded into the step size
        eps = self.eps * math.sqrt(c2)
        for (p, g), m, v in zip(self.params, self.m, self.v):
            xp = array_module(p)
            if self.weight_decay:
                g = g + self.weight_decay * p
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * (g * g)
            p -= step * m / (xp.sqrt(v) + eps)


def clip_grad_norm(params, max_norm: float) -> float:
    r"""Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping (as ``torch.nn.utils.clip_grad_norm_`` does),
    which is worth logging: spikes are exploding gradients. The squares are summed
    in float64, so float32 gradients as large as float32 allows still give a finite
    norm instead of an overflow.
    """
    params = list(params)
    # one device-to-host copy, not one per array
    total = math.sqrt(float(sum(_sum_of_squares(g) for _, g in params)))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for _, g in params:
            g *= scale
    return total


def _sum_of_squares(g):
    # square after the cast to float64: float32 squares overflow above about 1.8e19
    return array_module(g).square(g, dtype="float64").sum()


def clip_grad_value(params, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place (changes the direction)."""
    for _, g in params:
        array_module(g).clip(g, -clip_value, clip_value, out=g)
