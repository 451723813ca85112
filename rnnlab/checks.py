"""Input validation at the public boundary.

The errors name the argument, what came and what was expected.
"""

from __future__ import annotations

import numpy as np

from . import backend


def check_float_array(
    name: str,
    x,
    *,
    ndim: int | None,
    like,
    last: int | None = None,
    shape_desc: str = "",
):
    """Check that ``x`` is a float array of rank ``ndim``, finite and non-empty.

    It must also have ``like``'s device and dtype. ``ndim=None`` accepts any rank of at
    least one. ``like`` is a parameter of the module; ``last`` is the required size of
    the last axis.
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be a NumPy or CuPy array, got {type(x).__name__}")
    want = f" {shape_desc}" if shape_desc else ""
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions{want}, got shape {tuple(x.shape)}"
        )
    if last is not None and x.shape[-1] != last:
        raise ValueError(
            f"{name} has size {x.shape[-1]} in its last dimension, "
            f"expected {last}{want}; got shape {tuple(x.shape)}"
        )
    if 0 in x.shape:
        raise ValueError(
            f"{name} is empty (shape {tuple(x.shape)}); "
            "sequences need at least one step and one example"
        )
    check_device_dtype(name, x, like)
    check_finite(name, x)


def check_device_dtype(name: str, x, like) -> None:
    if backend.device_of(x) != backend.device_of(like):
        raise ValueError(
            f"{name} is on {backend.device_of(x)} but the module's parameters are on "
            f"{backend.device_of(like)}; move one with to_device() or module.to()"
        )
    if x.dtype != like.dtype:
        raise TypeError(
            f"{name} has dtype {x.dtype} but the module's parameters are {like.dtype}; "
            f"use {name}.astype({like.dtype}) or module.to(dtype=...)"
        )


class NonFiniteError(ValueError):
    """An input holds NaN or infinity.

    A ``ValueError``, so callers may catch either.
    """


def check_finite(name: str, x) -> None:
    xp = backend.array_module(x)
    if not bool(xp.isfinite(x).all()):
        raise NonFiniteError(f"{name} contains NaN or infinite values")


def check_shape(name: str, x, shape: tuple, like=None) -> None:
    """Check an exact shape (and device/dtype against ``like`` when given)."""
    if not hasattr(x, "shape"):
        raise TypeError(
            f"{name} must be an array of shape {shape}, got {type(x).__name__}"
        )
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(x.shape)}, expected {tuple(shape)}")
    if like is not None:
        check_device_dtype(name, x, like)
        check_finite(name, x)


def check_int_array(name: str, x, *, high: int | None = None):
    """Check an integer index array with values in ``[0, high)``."""
    if not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be an integer array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {x.dtype}")
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    if high is not None:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi >= high:
            raise ValueError(
                f"{name} holds indices in [{lo}, {hi}], "
                f"expected values in [0, {high - 1}]"
            )
