"""Array backends: NumPy on the CPU, CuPy on the GPU.

This is the only module that knows about CuPy, and it imports CuPy lazily,
only when a GPU is asked for. Everything else takes its array module from its
inputs with :func:`array_module`, so the same code runs on either device.
"""

from __future__ import annotations

import contextlib

import numpy as np

_cupy = None  # the cupy module once imported
_fuse = True  # whether GPU code uses the fused kernels of rnnlab.kernels
_compiled = {}  # kernel name -> cupy.ElementwiseKernel
_rng = np.random.default_rng(0)  # the global generator behind rnnlab.seed()


def _is_cupy_array(x) -> bool:
    # Checked by type name so that NumPy-only machines never import CuPy.
    return type(x).__module__.split(".")[0] == "cupy"


def _load_cupy():
    """Import CuPy and check that a GPU is visible; raise a clear error if not."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed; install it with "
                "`pip install rnnlab[gpu]` (CUDA 12) or the cupy-cudaXXx wheel for "
                "your CUDA"
            ) from e
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDA driver missing or broken
            raise RuntimeError(
                f"CuPy is installed but no CUDA GPU is usable: {e}"
            ) from e
        if count == 0:
            raise RuntimeError("CuPy is installed but no CUDA GPU is visible")
        _cupy = cupy
    return _cupy


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _load_cupy()
    except RuntimeError:
        return False
    return True


def available_devices() -> list[str]:
    """The devices rnnlab can use here: ``['cpu']`` or ``['cpu', 'cuda']``."""
    return ["cpu", "cuda"] if cuda_available() else ["cpu"]


def _check_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return device


def device_of(x) -> str:
    """``'cuda'`` for a CuPy array, ``'cpu'`` otherwise."""
    return "cuda" if _is_cupy_array(x) else "cpu"


def array_module(*arrays):
    """The array module (``numpy`` or ``cupy``) that the given arrays live in.

    ``None`` entries are ignored. Mixing NumPy and CuPy arrays is an error,
    caught here rather than deep inside a matrix product.
    """
    devices = {device_of(a) for a in arrays if a is not None}
    if len(devices) > 1:
        raise ValueError(
            "arrays live on different devices (NumPy and CuPy mixed); "
            "move them with to_device()"
        )
    return _load_cupy() if devices == {"cuda"} else np


def to_device(x, device: str):
    """Return ``x`` as an array on ``device`` (``'cpu'`` or ``'cuda'``).

    No copy if it is already there.
    """
    _check_device(device)
    if device == "cuda":
        return _load_cupy().asarray(x)
    return x.get() if _is_cupy_array(x) else np.asarray(x)


def to_numpy(x) -> np.ndarray:
    """A NumPy copy-or-view of ``x`` wherever it lives."""
    return to_device(x, "cpu")


def synchronize(device: str) -> None:
    """Wait until the GPU has finished the work queued so far (a no-op for ``'cpu'``).

    GPU calls return before their work is done, so a timer must synchronise before it
    reads the clock.
    """
    if _check_device(device) == "cuda":
        _load_cupy().cuda.Device().synchronize()


def seed(s: int) -> None:
    """Seed every random source rnnlab uses (initialisation, dropout, sampling)."""
    global _rng
    _rng = np.random.default_rng(s)
    if _cupy is not None:
        _cupy.random.seed(s)


def rng() -> np.random.Generator:
    """The global NumPy generator that :func:`seed` resets."""
    return _rng


def rng_state() -> dict:
    """The state of the global generator (JSON-serialisable).

    Save it with a training checkpoint: restoring it with :func:`set_rng_state` makes
    dropout masks and samples after a resume the same as in an uninterrupted run.
    """
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`rng_state`."""
    global _rng
    g = np.random.default_rng()
    g.bit_generator.state = state
    _rng = g


def uniform(xp, shape, dtype):
    """Uniform [0, 1) samples on the device of ``xp``, drawn from the seeded generator.

    Drawn on the CPU and moved, so a seed gives the same numbers on both devices.
    """
    u = _rng.random(shape, dtype=np.float64).astype(dtype)
    return u if xp is np else xp.asarray(u)


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` that adds repeated indices correctly, in place.

    (``target[indices] += values`` alone keeps only one of the repeated updates.)
    On the GPU this is an atomic add.
    """
    (np if not _is_cupy_array(target) else _load_cupy()).add.at(target, indices, values)


def describe() -> str:
    """One line per backend saying what is installed and usable.

    E.g. for a bug report or a notebook header.
    """
    lines = [f"cpu: numpy {np.__version__}"]
    try:
        cupy = _load_cupy()
    except RuntimeError as e:
        lines.append(f"cuda: not available ({e})")
    else:
        dev = cupy.cuda.Device()
        name = cupy.cuda.runtime.getDeviceProperties(dev.id)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        lines.append(
            f"cuda: cupy {cupy.__version__}, device {dev.id} {name}, "
            f"{dev.mem_info[1] / 2**30:.0f} GiB, "
            f"fused kernels {'on' if _fuse else 'off'}"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def fused_kernels(enabled: bool):
    """Turn the fused GPU kernels on or off inside a ``with`` block.

    The kernels are those of :mod:`rnnlab.kernels`. Off, GPU code runs the same array
    operations as the CPU, one CuPy kernel per operation; the benchmark and the tests
    compare the two. No effect on the CPU.
    """
    global _fuse
    before, _fuse = _fuse, bool(enabled)
    try:
        yield
    finally:
        _fuse = before


def fused(x) -> bool:
    """Whether code handed array ``x`` should launch a fused kernel.

    True for a CuPy array while fusion is on.
    """
    return _fuse and _is_cupy_array(x)


def launch(kernel, *args):
    """Run a :class:`rnnlab.kernels.Kernel` on CuPy arrays.

    The arguments are inputs then outputs, in the order of the kernel's params.
    The CUDA source is compiled once per kernel (and by CuPy once per dtype) and cached.
    """
    k = _compiled.get(kernel.name)
    if k is None:
        from .kernels import PREAMBLE

        k = _compiled[kernel.name] = _load_cupy().ElementwiseKernel(
            kernel.in_params,
            kernel.out_params,
            kernel.body,
            kernel.name,
            preamble=PREAMBLE,
        )
    k(*args)
