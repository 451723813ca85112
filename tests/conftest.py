"""Shared fixtures: the array backend(s) to run on, seeded random data, and PyTorch.

``xp`` runs a test on NumPy and, where CuPy sees a GPU, again on CuPy; on a
machine without a GPU the CuPy run is skipped with a reason. Build inputs with
``randn``/``on`` (they land on the backend's device), move modules with
``module.to(device)``, and compare with ``rnnlab.to_numpy``.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnlab
from rnnlab import backend


@pytest.fixture(autouse=True)
def _seed_rnnlab():
    """Every test starts from the same global generator (initialisation, dropout)."""
    rnnlab.seed(0)
    yield


@pytest.fixture(params=["numpy", "cupy"])
def xp(request):
    """The array module under test.

    ``numpy`` always, ``cupy`` only where a CUDA GPU is usable.
    """
    if request.param == "cupy":
        if not backend.cuda_available():
            pytest.skip("CuPy with a usable CUDA GPU is not available here")
        return pytest.importorskip("cupy")
    return np


@pytest.fixture
def device(xp) -> str:
    """``'cpu'`` for the NumPy run, ``'cuda'`` for the CuPy run."""
    return "cpu" if xp is np else "cuda"


@pytest.fixture
def on(device):
    """``on(a)``: the NumPy array (or array-like) ``a`` on the device under test."""

    def move(a):
        return rnnlab.to_device(np.asarray(a), device)

    return move


@pytest.fixture
def rng():
    """A seeded NumPy generator for test data (never the global one)."""
    return np.random.default_rng(1234)


@pytest.fixture
def randn(rng, on):
    """``randn(*shape, dtype=np.float64, scale=1.0)``: seeded normal samples.

    On the device under test.
    """

    def make(*shape, dtype=np.float64, scale=1.0):
        return on((scale * rng.standard_normal(shape)).astype(dtype))

    return make


@pytest.fixture
def torch():
    """PyTorch, seeded and on one thread.

    The reference tests skip where it is not installed (CI installs it).

    One thread: the tensors here are tiny, and on a busy 2-core machine OpenMP worker
    threads waiting for each other make every call many times slower.
    """
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture
def need_cuda():
    """Skip a test that needs a GPU (device mismatches, fused kernels) if there is none.

    Returns cupy.
    """
    if not backend.cuda_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    return pytest.importorskip("cupy")
