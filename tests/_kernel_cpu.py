"""Run the CUDA kernel bodies of :mod:`rnnlab.kernels` on the CPU; compile with nvcc.

Each body is wrapped the way ``cupy.ElementwiseKernel`` wraps it (non-raw
parameters as one element ``i`` of an array, raw ones indexed by hand, ``T`` the
float type) in a C++ loop, built with g++ and called through ctypes. This checks
the very source the GPU compiles against the NumPy path, on machines without a
GPU. ``nvcc_check`` compiles the same bodies as ``__global__`` functions to PTX,
which catches CUDA-only errors.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from rnnlab.kernels import ALL, PREAMBLE

TYPES = {np.float32: "float", np.float64: "double"}
_CACHE = Path(tempfile.gettempdir()) / "rnnlab_kernel_cpu"


def parse(params: str):
    """Parse a parameter list into one ``(raw, type, name)`` tuple per parameter.

    >>> parse("raw T z, T c, int32 H")
    [(True, 'T', 'z'), (False, 'T', 'c'), (False, 'int32', 'H')]
    """
    out = []
    for p in params.split(","):
        words = p.split()
        raw = words[0] == "raw"
        out.append((raw, *words[raw:]))
    return out


def _function(kernel, suffix: str, gpu: bool) -> str:
    ins, outs = parse(kernel.in_params), parse(kernel.out_params)
    args, elems = ["ptrdiff_t _size"], []
    for is_out, params in ((False, ins), (True, outs)):
        for raw, typ, name in params:
            if typ == "int32":
                args.append(f"int {name}")
            elif raw:
                args.append(f"T* {name}")
            else:
                args.append(f"T* _p_{name}")
                elems.append(
                    f"T& {name} = _p_{name}[i];"
                    if is_out
                    else f"const T {name} = _p_{name}[i];"
                )
    head = f"void {kernel.name}_{suffix}({', '.join(args)})"
    inner = "\n".join(elems) + "\n" + kernel.body
    if gpu:
        return (
            f"__global__ {head} {{\n"
            "ptrdiff_t i = blockIdx.x * (ptrdiff_t)blockDim.x + threadIdx.x;\n"
            f"if (i >= _size) return;\n{inner}\n}}\n"
        )
    return (
        f'extern "C" {head} {{\n'
        f"for (ptrdiff_t i = 0; i < _size; ++i) {{\n{inner}\n}}\n}}\n"
    )


def source(gpu: bool) -> str:
    """C++ (or CUDA) source holding every kernel for float32 and float64."""
    parts = ["#include <cstddef>"]
    if not gpu:
        parts += [
            "#include <cmath>",
            "#include <algorithm>",
            "using namespace std;",
            "#define __device__",
        ]
    parts.append(PREAMBLE)
    for dtype, ctype in TYPES.items():
        suffix = np.dtype(dtype).name
        parts.append(f"namespace k_{suffix} {{\ntypedef {ctype} T;")
        parts += [_function(k, suffix, gpu) for k in ALL.values()]
        parts.append("}")
    return "\n".join(parts)


# the kernels are constants: one build (and one source hash) per process
@functools.lru_cache(maxsize=None)
def _build() -> ctypes.CDLL:
    src = source(gpu=False)
    # shared across processes
    so = _CACHE / f"kernels_{hashlib.sha1(src.encode()).hexdigest()[:16]}.so"
    if not so.exists():
        _CACHE.mkdir(exist_ok=True)
        cpp = so.with_suffix(".cpp")
        cpp.write_text(src)
        tmp = so.with_suffix(f".{id(src)}.tmp")
        subprocess.run(
            ["g++", "-O2", "-shared", "-fPIC", "-o", str(tmp), str(cpp)],
            check=True,
            capture_output=True,
            text=True,
        )
        tmp.replace(so)  # atomic, so parallel test workers never load half a file
    return ctypes.CDLL(str(so))


def have_gxx() -> bool:
    return shutil.which("g++") is not None


def run(kernel, *args) -> None:
    """Call ``kernel`` like :func:`rnnlab.backend.launch`: inputs then outputs.

    The arguments are NumPy arrays and ints.

    Arrays may be views of any layout: they are copied to C order and written back.
    """
    params = parse(kernel.in_params) + parse(kernel.out_params)
    assert len(args) == len(params), (
        f"{kernel.name} takes {len(params)} arguments, got {len(args)}"
    )
    dtypes = {a.dtype for a in args if isinstance(a, np.ndarray)}
    assert len(dtypes) == 1, f"{kernel.name}: arrays of different dtypes {dtypes}"
    dtype = dtypes.pop()
    size, cargs, writeback = None, [], []
    for (raw, typ, name), a in zip(params, args):
        if typ == "int32":
            assert isinstance(a, (int, np.integer)), f"{name} must be an int"
            cargs.append(ctypes.c_int(int(a)))
            continue
        assert isinstance(a, np.ndarray), f"{name} must be an array"
        if not raw:
            assert size is None or a.size == size, (
                f"{name}: element-wise arrays differ in size"
            )
            size = a.size
        c = np.ascontiguousarray(a)
        if c is not a or not a.flags.c_contiguous:
            writeback.append((a, c))
        cargs.append(ctypes.c_void_p(c.ctypes.data))
    fn = getattr(_build(), f"{kernel.name}_{dtype.name}")
    fn(ctypes.c_ssize_t(size), *cargs)
    for a, c in writeback:
        a[...] = c


def nvcc_check() -> None:
    """Compile every kernel for float32 and float64 with nvcc to PTX.

    On an error, raise with nvcc's message.
    """
    with tempfile.TemporaryDirectory() as d:
        cu = Path(d) / "kernels.cu"
        cu.write_text(source(gpu=True))
        r = subprocess.run(
            [
                "nvcc",
                "--ptx",
                "-arch=compute_75",
                "-o",
                str(Path(d) / "k.ptx"),
                str(cu),
            ],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise AssertionError(f"nvcc failed:\n{r.stderr}")


if __name__ == "__main__":
    print(source(gpu=False))
    print(sorted(ALL))
