"""Preparing a time series for forecasting without looking into the future.

:func:`check_series` refuses what a forecaster cannot use (missing values, dates out of
order), :class:`RollingOrigin` makes the train/test splits of a rolling-origin
evaluation, and :class:`Scaler` standardises with statistics of the training part only.
"""

from __future__ import annotations

import numpy as np


def check_every_step(a: np.ndarray, name: str = "series") -> None:
    """Raise ``ValueError`` naming the first missing or infinite value of ``a``."""
    bad = ~np.isfinite(a)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} holds {int(bad.sum())} missing or infinite values, the first at "
            f"index {tuple(int(i) for i in where)}: fill or drop them first "
            f"(forecasting models need every step)"
        )


def check_series(series, name: str = "series", dates=None) -> np.ndarray:
    """``series`` as a float64 array of shape (T,) or (T, F), checked.

    Raises ``ValueError`` for a missing or infinite value (naming the first one), a
    wrong number of axes, or ``dates`` (one per step) that do not strictly increase.
    """
    a = np.asarray(series, dtype=np.float64)
    if a.ndim not in (1, 2) or a.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (T,) or (T, F) with T >= 1, got {a.shape}"
        )
    check_every_step(a, name)
    if dates is not None:
        d = np.asarray(dates)
        if d.shape != a.shape[:1]:
            raise ValueError(
                f"dates has shape {d.shape}, expected one date per step {a.shape[:1]}"
            )
        step = d[1:] > d[:-1]
        if not step.all():
            i = int(np.argmin(step))
            raise ValueError(
                f"dates must strictly increase, but dates[{i + 1}] = {d[i + 1]!r} "
                f"does not come after dates[{i}] = {d[i]!r}: sort the series and "
                f"drop duplicates"
            )
    return a


class RollingOrigin:
    """Train/test splits that move the forecast origin forward through a series.

    Origin :math:`o_k` is the first step not seen in training: split :math:`k` trains
    on steps ``[0, o_k)`` and tests the ``horizon`` steps ``[o_k, o_k + horizon)``.
    The last origin is ``T - horizon`` (its test ends with the series), and the
    ``n_origins`` origins are ``step`` apart, so with ``step < horizon`` test windows
    overlap. Like scikit-learn's ``TimeSeriesSplit``, but with a fixed horizon.

    Parameters
    ----------
    horizon : int, steps forecast from each origin
    n_origins : int
    step : int, steps between consecutive origins (default 1)
    min_train : int, the fewest training steps allowed at the first origin (default 1)

    Examples
    --------
    >>> [(len(tr), list(te)) for tr, te in RollingOrigin(2, 3).split(range(10))]
    [(6, [6, 7]), (7, [7, 8]), (8, [8, 9])]
    """

    def __init__(self, horizon: int, n_origins: int, step: int = 1, min_train: int = 1):
        for name, v in (
            ("horizon", horizon),
            ("n_origins", n_origins),
            ("step", step),
            ("min_train", min_train),
        ):
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.horizon, self.n_origins = int(horizon), int(n_origins)
        self.step, self.min_train = int(step), int(min_train)

    def origins(self, T: int) -> np.ndarray:
        """The origins for a series of ``T`` steps, increasing, shape (n_origins,)."""
        last = T - self.horizon
        first = last - (self.n_origins - 1) * self.step
        if first < self.min_train:
            raise ValueError(
                f"a series of {T} steps is too short for {self.n_origins} origins "
                f"{self.step} apart with horizon {self.horizon} and at least "
                f"{self.min_train} training steps: it needs "
                f"{self.min_train + (self.n_origins - 1) * self.step + self.horizon}"
            )
        return np.arange(first, last + 1, self.step)

    def split(self, series):
        """Yield ``(train_index, test_index)`` integer arrays, one pair per origin."""
        T = len(series)
        for o in self.origins(T):
            yield np.arange(o), np.arange(o, o + self.horizon)

    def __repr__(self):
        return (
            f"RollingOrigin(horizon={self.horizon}, n_origins={self.n_origins}, "
            f"step={self.step}, min_train={self.min_train})"
        )


class Scaler:
    r"""Standardise each column with the mean and standard deviation of the past.

    :math:`z = (x - m) / s`, with :math:`m, s` from :meth:`fit` on the training part
    only: statistics of the whole series would carry the test period's level into the
    inputs (a leak). A constant column gets :math:`s = 1`.

    Attributes ``mean`` and ``scale``, shape (F,) (or () for a 1-D series).
    """

    mean = scale = None

    def fit(self, train) -> "Scaler":
        """Learn the statistics from ``train``, shape (T,) or (T, F)."""
        a = check_series(train, "train")
        self.mean = a.mean(axis=0)
        sd = a.std(axis=0)
        self.scale = np.where(sd > 0, sd, 1.0)
        return self

    def _fitted(self):
        if self.mean is None:
            raise ValueError("this Scaler is not fitted yet: call fit(train) first")

    def transform(self, x) -> np.ndarray:
        """``(x - mean) / scale``; ``x`` has the training data's columns last."""
        self._fitted()
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.scale

    def inverse_transform(self, z, column=None) -> np.ndarray:
        """Back to the data's units; ``column`` picks one column's statistics."""
        self._fitted()
        m, s = (
            (self.mean, self.scale)
            if column is None
            else (np.atleast_1d(self.mean)[column], np.atleast_1d(self.scale)[column])
        )
        return np.asarray(z, dtype=np.float64) * s + m
