"""Optimisers (SGD with momentum, Adam), learning-rate schedules and gradient clipping.

Optimisers take ``model.parameters()``, a list of ``(param, grad)`` pairs, and
update the parameters *in place*, so the model and the optimiser always agree.
``state_dict()``/``load_state_dict()`` save and restore everything a run needs to
continue exactly where it stopped (moments, step count, learning rate).
"""

from __future__ import annotations

import math
import numbers

from .backend import array_module, to_numpy


class Optimizer:
    """Base class of the optimisers.

    It holds the parameters, the learning rate ``lr`` (schedules change it), and the
    per-parameter state arrays named in ``_state_arrays`` plus the scalars in
    ``_state_scalars``.
    """

    _state_arrays: tuple[str, ...] = ()
    _state_scalars: tuple[str, ...] = ("lr",)

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if isinstance(lr, bool) or not (
            isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0
        ):
            raise ValueError(f"lr must be positive and finite, got {lr}")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        for _, g in self.params:
            g[...] = 0

    def step(self) -> None:
        raise NotImplementedError  # abstract

    def state_dict(self) -> dict:
        """Copies of the optimiser's state as NumPy arrays and Python numbers."""
        state = {k: getattr(self, k) for k in self._state_scalars}
        for name in self._state_arrays:
            arrays = getattr(self, name)
            if arrays is not None:
                state[name] = [to_numpy(a).copy() for a in arrays]
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` in place.

        ``ValueError`` if it belongs to another setup.
        """
        for name in self._state_arrays:
            arrays = getattr(self, name)
            if arrays is None:
                continue
            saved = state.get(name)
            if saved is None or len(saved) != len(arrays):
                raise ValueError(
                    f"optimizer state has {0 if saved is None else len(saved)} "
                    f"'{name}' arrays, this optimizer has {len(arrays)} parameters"
                )
            for a, b in zip(arrays, saved):
                if tuple(a.shape) != tuple(b.shape):
                    raise ValueError(
                        f"optimizer state '{name}' has shape {tuple(b.shape)} where "
                        f"the parameter has {tuple(a.shape)}"
                    )
                a[...] = array_module(a).asarray(b).astype(a.dtype, copy=False)
        for k in self._state_scalars:
            setattr(self, k, state[k])


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum and weight decay.

    In PyTorch's form:

    .. math:: v \leftarrow \mu v + g,\qquad \theta \leftarrow \theta - \eta v
    """

    _state_arrays = ("velocity",)

    def __init__(
        self, params, lr: float = 0.1, momentum: float = 0.0, weight_decay: float = 0.0
    ):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = (
            [array_module(p).zeros_like(p) for p, _ in self.params]
            if momentum
            else None
        )

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

    _state_arrays = ("m", "v")
    _state_scalars = ("lr", "t")

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.b1, self.b2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.m = [array_module(p).zeros_like(p) for p, _ in self.params]
        self.v = [array_module(p).zeros_like(p) for p, _ in self.params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        # bias corrections folded into the step size
        step = self.lr * math.sqrt(c2) / c1
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
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place.

    This changes the direction of the gradient.
    """
    for _, g in params:
        array_module(g).clip(g, -clip_value, clip_value, out=g)


# --------------------------------------------------------------------------- schedules
class Schedule:
    r"""A learning-rate schedule.

    ``step()`` once per optimisation step sets ``optimizer.lr`` to
    ``base_lr * factor(t)`` for the step count ``t`` (the first ``step()`` makes
    ``t = 1``).

    Subclasses define :meth:`factor`. ``state_dict()`` holds ``t``, so a resumed run
    continues the schedule where it stopped.
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"optimizer must be an rnnlab optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer, self.base_lr, self.t = optimizer, optimizer.lr, 0
        optimizer.lr = self.base_lr * self.factor(0)

    def factor(self, t: int) -> float:
        raise NotImplementedError  # abstract

    def step(self) -> float:
        self.t += 1
        self.optimizer.lr = self.base_lr * self.factor(self.t)
        return self.optimizer.lr

    def state_dict(self) -> dict:
        return {"t": self.t, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict) -> None:
        self.t, self.base_lr = state["t"], state["base_lr"]
        self.optimizer.lr = self.base_lr * self.factor(self.t)


def _positive_int(name, v):
    if not (isinstance(v, int) and v >= 1):
        raise ValueError(f"{name} must be a positive integer, got {v!r}")


class StepLR(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    As ``torch.optim.lr_scheduler.StepLR`` does.
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        _positive_int("step_size", step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def factor(self, t):
        return self.gamma ** (t // self.step_size)


class CosineLR(Schedule):
    r"""Cosine annealing from ``lr`` to ``min_lr`` over ``total_steps``.

    It stays at ``min_lr`` afterwards. The curve is ``CosineAnnealingLR``'s:

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi t / T))
    """

    def __init__(self, optimizer, total_steps: int, min_lr: float = 0.0):
        _positive_int("total_steps", total_steps)
        self.total_steps, self.min_lr = total_steps, min_lr
        super().__init__(optimizer)

    def factor(self, t):
        floor = self.min_lr / self.base_lr
        return floor + (1 - floor) * 0.5 * (
            1 + math.cos(math.pi * min(t, self.total_steps) / self.total_steps)
        )


class WarmupLR(Schedule):
    """Linear warm-up from ``lr / warmup_steps`` to ``lr`` over ``warmup_steps``.

    Constant afterwards. Warm-up keeps Adam's first, poorly estimated steps small.
    """

    def __init__(self, optimizer, warmup_steps: int):
        _positive_int("warmup_steps", warmup_steps)
        self.warmup_steps = warmup_steps
        super().__init__(optimizer)

    def factor(self, t):
        return min(1.0, (t + 1) / self.warmup_steps)
