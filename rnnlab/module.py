"""The ``Module`` base class: parameters, gradients, submodules, devices and checkpoints.

A module holds ``params`` and ``grads``, two dicts with the same keys named as in
the maths (``W_xh``, ``W_hh``, ``b_h``). ``forward`` keeps in ``self.cache`` what
``backward`` needs; ``backward`` *adds* into ``grads`` (so gradients of shared
weights accumulate, and optimisers keep valid references) and returns the
gradient of its input.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from . import backend


class Module:
    """Base class of every layer and model."""

    def __init__(self):
        object.__setattr__(self, "params", {})
        object.__setattr__(self, "grads", {})
        object.__setattr__(self, "_modules", {})
        self.training = True
        self.cache = None

    # --- structure -------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self._modules[name] = value
        elif name in self._modules:
            del self._modules[name]
        object.__setattr__(self, name, value)

    def add_param(self, name: str, value) -> None:
        """Register a parameter and a zeroed gradient of the same shape."""
        self.params[name] = value
        self.grads[name] = backend.array_module(value).zeros_like(value)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, object, object]]:
        """Yield ``(dotted_name, param, grad)`` for this module and every submodule."""
        for k, p in self.params.items():
            yield prefix + k, p, self.grads[k]
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")

    def modules(self) -> Iterator["Module"]:
        yield self
        for m in self._modules.values():
            yield from m.modules()

    def parameters(self) -> list[tuple[object, object]]:
        """``(param, grad)`` pairs, for optimisers and gradient clipping."""
        return [(p, g) for _, p, g in self.named_parameters()]

    def num_parameters(self) -> int:
        return sum(int(p.size) for _, p, _ in self.named_parameters())

    # --- state -----------------------------------------------------------
    def zero_grad(self) -> None:
        for _, _, g in self.named_parameters():
            g[...] = 0

    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    @property
    def dtype(self):
        for _, p, _ in self.named_parameters():
            return p.dtype
        return np.dtype(np.float32)

    @property
    def device(self) -> str:
        for _, p, _ in self.named_parameters():
            return backend.device_of(p)
        return "cpu"

    def to(self, device: str | None = None, dtype=None) -> "Module":
        """Move every parameter (and gradient) to ``device`` and/or cast to ``dtype``, in place.

        Build optimisers *after* calling ``to``: the arrays are replaced.
        """
        for m in self.modules():
            for d in (m.params, m.grads):
                for k, v in d.items():
                    if device is not None:
                        v = backend.to_device(v, device)
                    if dtype is not None:
                        v = v.astype(dtype, copy=False)
                    d[k] = v
            m.cache = None
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter as NumPy arrays, under dotted names."""
        return {k: backend.to_numpy(p).copy() for k, p, _ in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Copy ``state`` into the parameters in place (keeping optimiser references valid).

        Raises ``ValueError`` naming every missing or unexpected key and every shape
        mismatch, so a checkpoint from another model never loads half-way.
        """
        own = {k: p for k, p, _ in self.named_parameters()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        bad = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
               for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or unexpected or bad:
            lines = ["checkpoint does not fit this model:"]
            if missing:
                lines.append(f"  missing keys: {missing}")
            if unexpected:
                lines.append(f"  unexpected keys: {unexpected}")
            lines += ["  shape mismatch " + b for b in bad]
            raise ValueError("\n".join(lines))
        for k, p in own.items():
            xp = backend.array_module(p)
            p[...] = xp.asarray(state[k]).astype(p.dtype, copy=False)

    def save(self, path) -> None:
        """Write the parameters to an ``.npz`` file at exactly ``path`` (bit-exact round trip with :meth:`load`)."""
        write_npz(path, self.state_dict())

    def load(self, path) -> "Module":
        """Load parameters saved by :meth:`save`; see :meth:`load_state_dict` for the checks."""
        with np.load(path) as f:
            self.load_state_dict({k: f[k] for k in f.files})
        return self

    # --- calling ---------------------------------------------------------
    def saved(self):
        """What the last ``forward`` cached for ``backward``; a clear error if there is nothing."""
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self.cache

    def forward(self, *args, **kwargs):
        raise NotImplementedError  # abstract

    def backward(self, *args, **kwargs):
        raise NotImplementedError  # abstract

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        inner = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(inner) + "\n)" if inner else ")")


def write_npz(path, arrays: dict) -> None:
    """``np.savez`` to exactly ``path`` (``np.savez`` itself appends ``.npz`` to a bare name)."""
    with open(path, "wb") as f:
        np.savez(f, **arrays)
