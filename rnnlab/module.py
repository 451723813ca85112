"""The ``Module`` base class: parameters, gradients, submodules, devices, checkpoints.

A module holds ``params`` and ``grads``, two dicts with the same keys named as in
the maths (``W_xh``, ``W_hh``, ``b_h``).

The calling protocol, the same for every module:

* ``forward`` saves what ``backward`` needs on the module's *tape*, a stack: a
  module may be called several times before any backward (a shared embedding, a
  read-out applied at every decoder step, a tied weight);
* each ``backward`` consumes the most recent forward not yet backpropagated (last
  in, first out), so backpropagating the calls in reverse order, as BPTT does,
  gives every call its own gradient; a backward with nothing pending raises
  ``RuntimeError`` naming the module;
* ``backward`` takes one gradient per output of ``forward``, where ``None`` means
  the output was not used (zeros: ``d_output=None`` for a many-to-one model,
  ``d_hx=None`` or ``(dh_n, None)`` for an LSTM's final state), *adds* the
  parameter gradients into ``grads`` (gradients accumulate until ``zero_grad()``,
  and optimisers keep valid references) and returns the gradients of the float
  inputs, mirroring them: one array for one input, a tuple for several, and
  nothing (``None``) for integer inputs such as token ids;
* under ``with rnnlab.no_grad():`` forwards keep nothing, for evaluation,
  sampling and beam search; ``eval()`` only switches dropout off, as in PyTorch;
* outputs handed to the caller never alias what ``backward`` will read.
"""

from __future__ import annotations

import json
import os
import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from . import backend

_grad_enabled = True


@contextmanager
def no_grad():
    """Run forwards that keep nothing for ``backward``.

    For evaluation, sampling and beam search:

    >>> with rnnlab.no_grad():
    ...     logits, state = model(ids)
    """
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """False inside :func:`no_grad`."""
    return _grad_enabled


class Module:
    """Base class of every layer and model."""

    def __init__(self):
        object.__setattr__(self, "params", {})
        object.__setattr__(self, "grads", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_tape", [])
        self.training = True

    # --- structure -------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, (list, tuple)) and any(
            isinstance(v, Module) for v in value
        ):
            raise TypeError(
                f"{name}: a {type(value).__name__} of modules is not registered (its "
                f"parameters would be missed); use rnnlab.ModuleList({name}) instead"
            )
        elif isinstance(value, dict) and any(
            isinstance(v, Module) for v in value.values()
        ):
            raise TypeError(
                f"{name}: a dict of modules is not registered (its parameters would "
                f"be missed); use rnnlab.ModuleDict({name}) instead"
            )
        elif name in self._modules:
            del self._modules[name]
        object.__setattr__(self, name, value)

    def add_param(self, name: str, value) -> None:
        """Register a parameter and a zeroed gradient of the same shape."""
        self.params[name] = value
        self.grads[name] = backend.array_module(value).zeros_like(value)

    def tie(self, name: str, source: "Module", source_name: str | None = None) -> None:
        """Make ``params[name]`` the very array ``source.params[source_name]``.

        The gradient is shared too, as PyTorch's ``head.weight = embed.weight`` does:
        weight tying (Press and Wolf 2017). Both modules' backwards then add into one
        gradient.
        """
        source_name = name if source_name is None else source_name
        if source_name not in source.params:
            raise KeyError(
                f"source has no parameter {source_name!r}; "
                f"it has {sorted(source.params)}"
            )
        own, theirs = self.params.get(name), source.params[source_name]
        if own is not None and tuple(own.shape) != tuple(theirs.shape):
            raise ValueError(
                f"cannot tie {name!r} of shape {tuple(own.shape)} to {source_name!r} "
                f"of shape {tuple(theirs.shape)}"
            )
        self.params[name], self.grads[name] = theirs, source.grads[source_name]

    def named_parameters(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, object, object]]:
        """Yield ``(dotted_name, param, grad)`` for this module and every submodule.

        A parameter reached twice (a module placed twice, a tied weight) is yielded
        once, under its first name, unless ``remove_duplicate=False``, so an optimiser
        steps it once.
        """
        seen = set()
        for name, module in self._named_modules(
            prefix, set() if remove_duplicate else None
        ):
            for k, p in module.params.items():
                if remove_duplicate:
                    if id(p) in seen:
                        continue
                    seen.add(id(p))
                yield name + k, p, module.grads[k]

    def _named_modules(self, prefix, seen):
        """``(prefix, module)`` for this module and every submodule.

        Each is yielded once if ``seen`` is a set.
        """
        if seen is not None:
            if id(self) in seen:
                return
            seen.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            yield from m._named_modules(prefix + name + ".", seen)

    def modules(self) -> Iterator["Module"]:
        """This module and every submodule, each once."""
        for _, m in self._named_modules("", set()):
            yield m

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

    @contextmanager
    def evaluating(self) -> Iterator["Module"]:
        """Eval mode inside the block (dropout off), the previous mode restored after.

        >>> with model.evaluating(), rnnlab.no_grad():
        ...     logits = model(x)
        """
        was_training = self.training
        self.eval()
        try:
            yield self
        finally:
            self.train(was_training)

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
        """Move every parameter and gradient to ``device`` and/or cast it to ``dtype``.

        In place.

        Build optimisers *after* calling ``to``: the arrays are replaced. Shared arrays
        (tied weights) stay shared. Pending forwards are dropped.
        """
        moved = {}  # id(old array) -> new array, so a shared array is moved once
        for m in self.modules():
            for d in (m.params, m.grads):
                for k, v in d.items():
                    if id(v) not in moved:
                        new = v
                        if device is not None:
                            new = backend.to_device(new, device)
                        if dtype is not None:
                            new = new.astype(dtype, copy=False)
                        moved[id(v)] = new
                    d[k] = moved[id(v)]
            m._tape.clear()
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter as NumPy arrays, under dotted names.

        A tied array appears under each of its names, as in PyTorch.
        """
        return {
            k: backend.to_numpy(p).copy()
            for k, p, _ in self.named_parameters(remove_duplicate=False)
        }

    def load_state_dict(self, state: dict) -> None:
        """Copy ``state`` into the parameters in place; optimiser references stay valid.

        Raises ``ValueError`` naming every missing or unexpected key and every shape
        mismatch, so a checkpoint from another model never loads half-way.
        """
        own = {k: p for k, p, _ in self.named_parameters(remove_duplicate=False)}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        bad = [
            f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
            for k in own
            if k in state and tuple(state[k].shape) != tuple(own[k].shape)
        ]
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

    # --- checkpoints -----------------------------------------------------
    def checkpoint_config(self) -> dict | None:
        """The JSON-serialisable constructor arguments that rebuild this module.

        They leave out ``dtype``. None when a checkpoint holds weights only. A model
        sets ``self.config``; what else it keeps (a vocabulary, class names) comes from
        :meth:`checkpoint_extras`.
        """
        config = getattr(self, "config", None)
        return None if config is None else {**config, **self.checkpoint_extras()}

    #: checkpoint entries that are not constructor arguments, with a name for errors
    extra_keys: dict[str, str] = {}

    def checkpoint_extras(self) -> dict:
        """The :attr:`extra_keys` entries to save (JSON-serialisable); none by default.

        :meth:`from_config` hands them to :meth:`from_extras`.
        """
        return {}

    #: configuration keys a checkpoint may differ in (they do not change what the
    #: weights mean)
    free_config_keys: tuple[str, ...] = ("dropout",)

    def check_checkpoint_config(self, config: dict, path) -> None:
        """Refuse a checkpoint configured differently from this module.

        A pooling mode, a vocabulary: the shapes may fit while the weights mean
        something else. The keys in :attr:`free_config_keys` may differ. Shapes are
        checked on loading.
        """
        own = self.checkpoint_config() or {}
        for key, name in self.extra_keys.items():
            if config.get(key) != own.get(key):  # vocabularies: too long to print
                raise ValueError(
                    f"{path}: the checkpoint's {name} differs from this one"
                )
        keys = sorted(
            (set(config) | set(own)) - set(self.free_config_keys) - set(self.extra_keys)
        )
        differ = [k for k in keys if config.get(k) != own.get(k)]
        if differ:
            raise ValueError(
                f"{path} holds a model configured differently: "
                + "; ".join(
                    f"{k}: checkpoint {config.get(k)!r}, this model {own.get(k)!r}"
                    for k in differ
                )
            )

    @classmethod
    def from_config(cls, config: dict, dtype) -> "Module":
        """Build the module :meth:`checkpoint_config` describes (weights not loaded)."""
        config = dict(config)
        extras = {k: config.pop(k) for k in cls.extra_keys if k in config}
        if extras:
            return cls.from_extras(config, extras, dtype)
        return cls(**config, dtype=dtype)

    @classmethod
    def from_extras(cls, config: dict, extras: dict, dtype) -> "Module":
        """Build the module from its constructor arguments and saved extras."""
        raise NotImplementedError(f"{cls.__name__} keeps no checkpoint extras")

    def save(self, path) -> None:
        """Write the parameters, and the configuration if any, to an ``.npz`` file.

        The file is written at exactly ``path``: a bit-exact round trip with
        :meth:`load` and :meth:`from_checkpoint`.
        """
        arrays = self.state_dict()
        config = self.checkpoint_config()
        if config is not None:
            meta = {
                "class": type(self).__name__,
                "config": config,
                "dtype": self.dtype.name,
            }
            arrays[META] = np.array(json.dumps(meta))
        write_npz(path, arrays)

    def load(self, path) -> "Module":
        """Load parameters saved by :meth:`save` into this module.

        See :meth:`load_state_dict` for the checks. A checkpoint of another model class
        is refused with both named.
        """
        arrays = read_npz(path)
        if META in arrays:
            meta = _read_meta(arrays, path)
            if meta["class"] != type(self).__name__:
                raise ValueError(
                    f"{path} holds a {meta['class']}, not a {type(self).__name__}"
                )
            self.check_checkpoint_config(meta["config"], path)
            del arrays[META]
        self.load_state_dict(arrays)
        return self

    @classmethod
    def from_checkpoint(cls, path) -> "Module":
        """Rebuild the model saved with :meth:`save`.

        Same class, configuration, dtype and weights.
        """
        arrays = read_npz(path)
        if META not in arrays:
            raise ValueError(
                f"{path} holds weights only (no configuration stored); build the "
                f"model yourself and call .load({str(path)!r})"
            )
        meta = _read_meta(arrays, path)
        if meta["class"] != cls.__name__:
            raise ValueError(f"{path} holds a {meta['class']}, not a {cls.__name__}")
        return cls.from_config(meta["config"], np.dtype(meta["dtype"])).load(path)

    # --- calling: the tape ----------------------------------------------
    #: pending forwards on one module above which a warning says that evaluation or
    #: sampling probably forgot ``no_grad`` (every pending forward holds its
    #: activations in memory)
    tape_warning: int = 1000

    def save_for_backward(self, saved) -> None:
        """Push what ``backward`` needs onto the tape.

        Nothing is pushed under :func:`no_grad`.
        """
        if _grad_enabled:
            self._tape.append(saved)
            if len(self._tape) == self.tape_warning:
                warnings.warn(
                    f"{type(self).__name__} holds {self.tape_warning} forward calls "
                    "waiting for backward, each keeping its activations in memory: "
                    "run evaluation and sampling under `with rnnlab.no_grad():` "
                    "(or call clear_tape())",
                    UserWarning,
                    stacklevel=3,
                )

    def saved(self, pop: bool = True):
        """Pop what the most recent pending ``forward`` saved.

        ``RuntimeError`` if none is pending.

        ``pop=False`` only looks, so a backward can check its arguments first and leave
        the tape as it was when it rejects them.
        """
        if not self._tape:
            raise RuntimeError(
                f"{type(self).__name__}.backward called with no pending forward: "
                "every backward consumes one earlier forward call "
                "(was forward run under no_grad(), "
                "or backward called more often than forward?)"
            )
        return self._tape.pop() if pop else self._tape[-1]

    @property
    def pending(self) -> int:
        """How many forward calls are waiting for their backward."""
        return len(self._tape)

    @property
    def cache(self):
        """What the most recent pending forward saved, for inspection.

        None if none is pending.
        """
        return self._tape[-1] if self._tape else None

    def clear_tape(self) -> None:
        """Forget every pending forward, in this module and its submodules."""
        for m in self.modules():
            m._tape.clear()

    def forward(self, *args, **kwargs):
        raise NotImplementedError  # abstract

    def backward(self, *args, **kwargs):
        raise NotImplementedError  # abstract

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        inner = [
            f"  ({n}): " + repr(m).replace("\n", "\n  ")
            for n, m in self._modules.items()
        ]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(inner) + "\n)" if inner else ")")


def write_npz(path, arrays: dict) -> None:
    """``np.savez`` to exactly ``path``.

    ``np.savez`` itself appends ``.npz`` to a bare name.
    """
    tmp = f"{path}.tmp"
    # written aside and renamed: a crash never leaves half a file
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


META = "__meta__"  # the checkpoint entry holding class, configuration and dtype as JSON


def _read_meta(arrays: dict, path) -> dict:
    try:
        meta = json.loads(str(arrays[META]))
    except ValueError as e:
        raise ValueError(
            f"{path}: the model description stored in it is damaged ({e})"
        ) from e
    missing = {"class", "config", "dtype"} - set(meta if isinstance(meta, dict) else ())
    if missing:
        raise ValueError(
            f"{path}: the model description stored in it lacks {sorted(missing)}"
        )
    return meta


def read_npz(path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` checkpoint.

    A ``ValueError`` naming the file when it is not one (another format, truncated,
    corrupted); ``FileNotFoundError`` when it is missing.

    Never unpickles: a checkpoint holds plain arrays only.
    """
    import zipfile

    with open(path, "rb") as f:
        head = f.read(4)
    if head != b"PK\x03\x04":  # every .npz is a zip archive
        raise ValueError(
            f"{path} is not an rnnlab checkpoint: an .npz file (written by save) "
            f"starts with a zip header, this one starts with {head!r}"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(
            f"{path} is a damaged checkpoint (truncated or corrupted): "
            f"{type(e).__name__}: {e}"
        ) from e


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner.

    E.g. ``self.layers = ModuleList([...])``.

    It has no forward of its own: the owner decides how its entries are called.
    """

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds modules, got a {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(ModuleList):
    """Modules applied one after another.

    ``forward`` chains them, ``backward`` runs their backwards in reverse order.

    Each module takes one input and returns one output (a recurrent layer's
    ``(output, h_n)`` pair is passed on whole, so put it last or wrap it). The same
    module may appear twice; its parameters are still listed once.

    >>> net = Sequential(Linear(8, 32), Dropout(0.1), Linear(32, 2))
    >>> y = net(x); dx = net.backward(dy)
    """

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(
                    f"Sequential takes modules; argument {i} is a {type(m).__name__}"
                )
        super().__init__(modules)

    def forward(self, x):
        for m in self:
            x = m(x)
        # one pending call, so a backward too many names Sequential
        self.save_for_backward(None)
        return x

    def backward(self, dy):
        self.saved(pop=False)  # popped once the last module has accepted dy
        modules = list(reversed(self._modules.values()))
        dy = modules[0].backward(dy)
        self.saved()
        for m in modules[1:]:
            dy = m.backward(dy)
        return dy


class ModuleDict(Module):
    """A dict of modules under string keys whose parameters belong to the owner."""

    def __init__(self, modules: dict | None = None):
        super().__init__()
        for k, m in (modules or {}).items():
            self[k] = m

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(
                f"ModuleDict keys must be identifiers (they become parameter names), "
                f"got {key!r}"
            )
        if key not in self._modules and hasattr(self, key):
            raise ValueError(
                f"ModuleDict key {key!r} would hide the attribute of that name"
            )
        if not isinstance(module, Module):
            raise TypeError(
                f"ModuleDict holds modules, got a {type(module).__name__} for {key!r}"
            )
        setattr(self, key, module)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
