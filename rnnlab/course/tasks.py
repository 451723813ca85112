"""Synthetic long-range memory tasks, seeded, with baselines that say what chance is.

* :func:`adding_problem` (Hochreiter & Schmidhuber 1997; in the form of Le et al. 2015):
  add the two marked numbers of a long sequence. Regression, many-to-one.
* :func:`copy_memory` (Hochreiter & Schmidhuber 1997; in the form of Arjovsky et al.
  2016): reproduce the first ``copy_len`` symbols after a gap of length ``T``.
  Classification at every step.
* :func:`temporal_order` (Hochreiter & Schmidhuber 1997): tell the order of two symbols
  hidden among distractors. Classification, many-to-one.

Each returns time-major arrays ``(x, y)`` and has a ``*_baseline`` function giving the
loss of the best memoryless prediction, which a model must beat to have remembered
anything.
"""

from __future__ import annotations

import math

import numpy as np


def _rng(seed):
    return (
        seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    )


def _check(n: int, T: int, min_T: int = 2):
    if int(n) != n or n < 1:
        raise ValueError(
            f"n (the number of sequences) must be a positive integer, got {n!r}"
        )
    if int(T) != T or T < min_T:
        raise ValueError(f"T must be an integer >= {min_T}, got {T!r}")


def adding_problem(n: int, T: int, seed=None, dtype=np.float32):
    """The adding problem: add the two marked values of a sequence.

    Each step holds a value in [0, 1) and a marker; exactly two steps are marked, one in
    each half of the sequence, and the target is the sum of their values.

    Returns
    -------
    x : array, shape (T, n, 2): channel 0 the values, channel 1 the markers (0 or 1)
    y : array, shape (n, 1): the sum of the two marked values
    """
    _check(n, T)
    g = _rng(seed)
    values = g.random((T, n))
    first = g.integers(0, T // 2, n)
    second = g.integers(T // 2, T, n)
    markers = np.zeros((T, n))
    cols = np.arange(n)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    x = np.stack([values, markers], axis=-1).astype(dtype)
    y = (values[first, cols] + values[second, cols])[:, None].astype(dtype)
    return x, y


def adding_baseline() -> float:
    """MSE of always predicting 1, the mean of the target: Var(U1 + U2) = 2/12 = 1/6."""
    return 1.0 / 6.0


def copy_memory(n: int, T: int, n_symbols: int = 8, copy_len: int = 10, seed=None):
    """The copy-memory task: ``copy_len`` random symbols, a gap, a delimiter, a recall.

    Symbols: 0 is blank, ``1..n_symbols`` the data, ``n_symbols + 1`` the delimiter. A
    sequence is ``copy_len`` data symbols, ``T - 1`` blanks, the delimiter, ``copy_len``
    blanks: length ``T + 2 copy_len``. The target is blank everywhere except the last
    ``copy_len`` steps, which must repeat the data symbols.

    Returns
    -------
    x, y : int64 arrays, shape (T + 2 * copy_len, n), values in ``[0, n_symbols + 1]``
    """
    _check(n, T, min_T=1)
    if n_symbols < 1 or copy_len < 1:
        raise ValueError(
            f"n_symbols and copy_len must be positive, got {n_symbols} and {copy_len}"
        )
    g = _rng(seed)
    L = T + 2 * copy_len
    data = g.integers(1, n_symbols + 1, (copy_len, n))
    x = np.zeros((L, n), dtype=np.int64)
    y = np.zeros((L, n), dtype=np.int64)
    x[:copy_len] = data
    x[T + copy_len - 1] = n_symbols + 1
    y[-copy_len:] = data
    return x, y


def copy_memory_baseline(T: int, n_symbols: int = 8, copy_len: int = 10) -> float:
    """Mean cross-entropy per step of the memoryless strategy.

    The strategy predicts blank for the first ``T + copy_len`` steps, then uniform over
    the data symbols: ``copy_len log(n_symbols) / (T + 2 copy_len)``.
    """
    return copy_len * math.log(n_symbols) / (T + 2 * copy_len)


#: The symbols of :func:`temporal_order`: two relevant ones, and distractors.
TEMPORAL_ORDER_SYMBOLS = ("X", "Y", "a", "b", "c", "d")


def temporal_order(n: int, T: int, seed=None, dtype=np.float32):
    """The temporal-order task: the order of two relevant symbols among distractors.

    The two relevant symbols (X or Y) lie at random positions, one in each of
    ``[T/10, 2T/10)`` and ``[5T/10, 6T/10)``, among random distractors (a, b, c, d).
    The class is the pair in order: XX, XY, YX or YY.

    Returns
    -------
    x : array, shape (T, n, 6), one-hot over :data:`TEMPORAL_ORDER_SYMBOLS`
    y : int64 array, shape (n,)
        The class in [0, 4): 2 * first + second, with X = 0 and Y = 1.
    """
    _check(n, T, min_T=10)
    g = _rng(seed)
    sym = g.integers(2, 6, (T, n))
    cols = np.arange(n)
    t1 = g.integers(T // 10, 2 * T // 10, n)
    t2 = g.integers(5 * T // 10, 6 * T // 10, n)
    a, b = g.integers(0, 2, n), g.integers(0, 2, n)
    sym[t1, cols] = a
    sym[t2, cols] = b
    x = np.eye(6, dtype=dtype)[sym]
    return x, (2 * a + b).astype(np.int64)


def temporal_order_baseline() -> float:
    """Cross-entropy of guessing uniformly among the four classes: log 4.

    The accuracy of that guess is 25%.
    """
    return math.log(4)
