"""Helpers shared by the test modules (pytest puts this folder on sys.path)."""

import numpy as np

import rnnlab


def to_np(a):
    return None if a is None else rnnlab.to_numpy(a)


def close(dtype):
    """Tolerance check for ``dtype``.

    float64: rtol 1e-9; float32: relative 1e-5 with an absolute floor scaled to the
    array.
    """
    if dtype == np.float64:

        def check(got, want, what):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10, err_msg=what)
    else:

        def check(got, want, what):
            atol = 1e-6 * max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol, err_msg=what)

    return check
