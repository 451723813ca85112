"""Sliding windows over a time series, for forecasting.

A window holds inputs of ``input_len`` steps and the ``horizon`` steps that follow.
"""

from __future__ import annotations

import numpy as np

from .forecasting import check_every_step


def sliding_windows(
    series, input_len: int, horizon: int = 1, stride: int = 1, target_columns=None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Cut ``series`` into (input, target) windows.

    Window :math:`k` starts at step :math:`s = k \cdot \text{stride}`: its input is
    steps :math:`[s, s + \text{input\_len})` and its target the next ``horizon`` steps.
    Targets never overlap the input they follow, so a window cannot see its own answer.
    Split a series into training and test parts *before* cutting windows, or the parts
    share steps.

    Parameters
    ----------
    series : array, shape (T,) or (T, F)
    input_len, horizon, stride : int
    target_columns : int or list of int, optional
        The features to predict (all by default).

    Returns
    -------
    x : array, shape (n, input_len, F)
    y : array, shape (n, horizon, F_target)
    """
    a = np.asarray(series)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"series must have shape (T,) or (T, F), got {a.shape}")
    if np.issubdtype(a.dtype, np.floating):
        check_every_step(a)
    for name, v in (("input_len", input_len), ("horizon", horizon), ("stride", stride)):
        if not (isinstance(v, (int, np.integer)) and v >= 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    n = (a.shape[0] - input_len - horizon) // stride + 1
    if n < 1:
        raise ValueError(
            f"series has {a.shape[0]} steps, fewer than input_len + horizon = "
            f"{input_len + horizon}"
        )
    starts = np.arange(n) * stride
    x = a[starts[:, None] + np.arange(input_len)]
    y = a[starts[:, None] + input_len + np.arange(horizon)]
    if target_columns is not None:
        y = y[..., np.atleast_1d(target_columns)]
    return x, y
