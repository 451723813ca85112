"""Finite-difference gradient checking for any function or module (use float64).

Central differences, :math:`\\partial f/\\partial x_i \\approx (f(x + \\epsilon e_i) -
f(x - \\epsilon e_i)) / 2\\epsilon`, have error :math:`O(\\epsilon^2)`; with float64 and
:math:`\\epsilon = 10^{-6}` a correct backward pass agrees to a relative error around
1e-9, and a wrong one is off by far more.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .module import no_grad


def relative_error(a, b) -> float:
    r""":math:`\|a - b\| / (\|a\| + \|b\|)`, 0 when both are zero."""
    xp = backend.array_module(a, b)
    num = float(xp.linalg.norm((a - b).ravel()))
    den = float(xp.linalg.norm(a.ravel()) + xp.linalg.norm(b.ravel()))
    return 0.0 if den == 0.0 else num / den


def numerical_gradient(f, x, eps: float = 1e-6, indices=None):
    """Central-difference gradient of the scalar function ``f()`` w.r.t. array ``x``.

    ``x`` is perturbed in place and restored; ``f`` must read it. With ``indices``
    (flat indices) only those entries are estimated and the rest are left 0.
    """
    if x.dtype != np.float64:
        raise TypeError(
            f"gradient checks need float64 to be meaningful, got x of dtype {x.dtype}"
        )
    xp = backend.array_module(x)
    grad = xp.zeros_like(x)
    # views: x is contiguous for every caller here
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(x.size) if indices is None else indices:
        old = float(flat[i])
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return grad


def _leaves(tree):
    """Flatten nested tuples/lists into a list of leaves (arrays or None)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [tree]


def _like(tree, make):
    if isinstance(tree, (tuple, list)):
        return type(tree)(_like(t, make) for t in tree)
    return make(tree)


def _is_float(a) -> bool:
    return a is not None and hasattr(a, "dtype") and np.issubdtype(a.dtype, np.floating)


def check_module(
    module, *inputs, seed: int = 0, eps: float = 1e-6, max_entries: int | None = None
) -> dict[str, float]:
    """Compare a module's ``backward`` with finite differences.

    Every parameter and every float input is checked. The scalar checked is
    :math:`L = \\sum_k \\langle \\text{out}_k, g_k \\rangle` with fixed random
    :math:`g_k`, so every output (including final states) is exercised. The global seed
    is reset before each forward pass, so dropout masks stay fixed.

    Parameters
    ----------
    module : Module in float64
    *inputs : the arguments of ``module.forward`` (arrays, None, or tuples of arrays)
    max_entries : int, optional
        Check at most this many random entries of each array (all by default).

    Returns
    -------
    dict mapping ``"param <name>"`` and ``"input <k>"`` to relative errors.
    """
    dtypes = {a.dtype for _, a, _ in module.named_parameters()} | {
        a.dtype for a in _leaves(inputs) if _is_float(a)
    }
    if dtypes != {np.dtype(np.float64)}:
        raise TypeError(
            "check_module needs float64 parameters and inputs "
            f"(module.to(dtype=np.float64)), got {sorted(str(d) for d in dtypes)}"
        )
    pick = np.random.default_rng(seed + 1)

    def forward():
        backend.seed(seed)
        return module.forward(*inputs)

    with no_grad():
        out = forward()
    upstream = _like(
        out,
        lambda o: (
            None
            if not _is_float(o)
            else backend.array_module(o).asarray(pick.standard_normal(o.shape))
        ),
    )

    def loss():
        with no_grad():  # the many forwards of the finite differences keep nothing
            o = forward()
        return sum(
            float((a * g).sum())
            for a, g in zip(_leaves(o), _leaves(upstream))
            if g is not None
        )

    module.zero_grad()
    forward()
    d_in = (
        module.backward(*upstream)
        if isinstance(out, tuple)
        else module.backward(upstream)
    )
    d_in = d_in if len(inputs) > 1 else (d_in,)

    def entries(a):
        return (
            None
            if max_entries is None or a.size <= max_entries
            else pick.choice(a.size, max_entries, replace=False)
        )

    errors = {}
    for name, p, g in module.named_parameters():
        idx = entries(p)
        num = numerical_gradient(loss, p, eps, idx)
        ana = g if idx is None else _subset(g, idx)
        errors[f"param {name}"] = relative_error(ana, num)
    for k, (x, dx) in enumerate(zip(_leaves(inputs), _leaves(d_in))):
        if _is_float(x):
            if dx is None:
                raise AssertionError(
                    f"backward returned no gradient for float input {k}"
                )
            idx = entries(x)
            num = numerical_gradient(loss, x, eps, idx)
            errors[f"input {k}"] = relative_error(
                dx if idx is None else _subset(dx, idx), num
            )
    return errors


def _subset(a, idx):
    out = backend.array_module(a).zeros_like(a)
    out.reshape(-1)[idx] = a.reshape(-1)[idx]
    return out


def assert_gradients_close(errors: dict[str, float], tol: float = 1e-6) -> None:
    """Raise ``AssertionError`` listing every relative error that exceeds ``tol``."""
    bad = {k: v for k, v in errors.items() if not v < tol}
    if bad:
        raise AssertionError(
            "finite-difference check failed (relative error > %g): %s" % (tol, bad)
        )
