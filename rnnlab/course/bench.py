"""Benchmarks: forward+backward times against PyTorch and a naive loop.

``python -m rnnlab.course.bench rnn|lstm|gru|all`` prints them.

Every implementation is timed interleaved in the same run (round-robin over
repeats), so a machine that slows down mid-run slows all of them alike. The
table reports medians and ratios; nothing here is asserted in tests.

With ``--device cuda`` it compares rnnlab on CuPy (fused kernels), rnnlab with
the fused kernels switched off, the naive teaching code run on CuPy (a
straightforward port), and ``torch.nn.RNN/LSTM/GRU`` on CUDA, which use cuDNN.
GPU work is asynchronous, so every timed call synchronises the device before the
clock starts and before it stops.

PyTorch's OpenMP threads keep spinning for a while after each call; in one process
on a few cores they would steal the cores NumPy's BLAS threads need next (several
times slower on 2 cores). The command therefore sets ``OMP_WAIT_POLICY=PASSIVE``
before importing torch, unless the variable is already set; it made both libraries
faster here.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time

import numpy as np

from .. import backend
from ..nn.recurrent import GRU, LSTM, RNN
from .naive import NAIVE

LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}

#: (N, T, input_size, hidden_size) benchmarked by default on the CPU ...
DEFAULT_SIZES = [
    (1, 100, 65, 100),
    (16, 100, 128, 256),
    (64, 100, 128, 256),
    (64, 50, 256, 512),
]
#: ... and on the GPU.
GPU_SIZES = [
    (1, 100, 128, 128),
    (1, 100, 512, 512),
    (32, 100, 256, 256),
    (128, 100, 128, 128),
    (128, 100, 512, 512),
    (128, 100, 1024, 1024),
    (256, 100, 512, 512),
    (256, 100, 1024, 1024),
]
IMPLEMENTATIONS = ("rnnlab", "unfused", "naive", "torch")


def _cases(kind: str, N: int, T: int, D: int, H: int, device: str):
    """Closures running one fwd+bwd for each implementation available here."""
    g = np.random.default_rng(0)
    x = g.standard_normal((T, N, D)).astype(np.float32)
    dout = g.standard_normal((T, N, H)).astype(np.float32)
    layer = LAYERS[kind](D, H).to(device)
    xd, dd = backend.to_device(x, device), backend.to_device(dout, device)
    sync = functools.partial(backend.synchronize, device)

    def ours():
        layer.zero_grad()
        layer(xd)
        layer.backward(dd)
        sync()

    def unfused():
        with backend.fused_kernels(False):
            ours()

    def naive():
        NAIVE[kind](xd, layer.params, dd)
        sync()

    cases = {"rnnlab": ours, "unfused": unfused, "naive": naive}
    if device == "cpu":
        # fusion is a GPU technique; the CPU path is the same either way
        del cases["unfused"]
    try:
        import torch
    except ImportError:
        return cases
    if device == "cuda" and not torch.cuda.is_available():
        return cases  # a CPU-only torch build: no cuDNN to compare with
    from ..interop import to_torch

    tdev = "cuda" if device == "cuda" else "cpu"
    tm = to_torch(layer.to("cpu")).to(tdev)
    layer.to(device)
    tx = torch.from_numpy(x).to(tdev).requires_grad_()
    td = torch.from_numpy(dout).to(tdev)

    def theirs():
        tm.zero_grad()
        tx.grad = None
        out, _ = tm(tx)
        out.backward(td)
        if tdev == "cuda":
            torch.cuda.synchronize()

    cases["torch"] = theirs
    return cases


def run(
    kind: str = "rnn", sizes=None, repeats: int = 7, device: str = "cpu"
) -> list[dict]:
    """Time each implementation at each size; one row per size, with medians in ms.

    Keys of a row: ``N, T, D, H`` and one per implementation that ran (``rnnlab``,
    ``unfused`` on the GPU, ``naive``, ``torch`` where installed).
    """
    rows, sync = [], functools.partial(backend.synchronize, device)
    for N, T, D, H in sizes or (GPU_SIZES if device == "cuda" else DEFAULT_SIZES):
        cases = _cases(kind, N, T, D, H, device)
        # warm-up: kernel compilation, BLAS/cuDNN plans, allocator pools
        for _ in range(2):
            for f in cases.values():
                f()
        times = {k: [] for k in cases}
        for _ in range(repeats):
            for k, f in cases.items():
                sync()
                t0 = time.perf_counter()
                f()  # each case synchronises before returning
                times[k].append(time.perf_counter() - t0)
        rows.append(
            {
                "N": N,
                "T": T,
                "D": D,
                "H": H,
                **{k: 1e3 * statistics.median(v) for k, v in times.items()},
            }
        )
    return rows


#: Ratio columns: (numerator, denominator), shown when both ran.
RATIOS = (("rnnlab", "torch"), ("naive", "rnnlab"), ("unfused", "rnnlab"))


def format_table(rows: list[dict], kind: str, device: str = "cpu") -> str:
    impls = [k for k in IMPLEMENTATIONS if k in rows[0]]
    ratios = [(a, b) for a, b in RATIOS if a in rows[0] and b in rows[0]]
    head = f"{'N':>4} {'T':>4} {'D':>5} {'H':>5} " + " ".join(
        f"{k + ' ms':>11}" for k in impls
    )
    head += "".join(f" {a + '/' + b:>14}" for a, b in ratios)
    lines = [
        f"{kind} forward+backward on {device}, float32, median of interleaved runs",
        head,
    ]
    for r in rows:
        s = f"{r['N']:>4} {r['T']:>4} {r['D']:>5} {r['H']:>5} " + " ".join(
            f"{r[k]:>11.2f}" for k in impls
        )
        lines.append(s + "".join(f" {r[a] / r[b]:>13.2f}x" for a, b in ratios))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m rnnlab.course.bench", description=__doc__.splitlines()[0]
    )
    ap.add_argument(
        "kind",
        nargs="?",
        default="all",
        choices=[*LAYERS, "all"],
        help="which layer to benchmark",
    )
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument(
        "--size",
        action="append",
        metavar="N,T,D,H",
        help="a size to run (repeatable); default on cpu: %s; on cuda: %s"
        % (DEFAULT_SIZES, GPU_SIZES),
    )
    args = ap.parse_args(argv)
    sizes = (
        [tuple(int(v) for v in s.split(",")) for s in args.size] if args.size else None
    )
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see the module docstring
    print(time.strftime("%Y-%m-%d %H:%M %Z"))
    print(
        backend.describe()
        if args.device == "cuda"
        else f"cpu: numpy {np.__version__}, {os.cpu_count()} cores"
    )
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        info = (
            f"{torch.get_num_threads()} CPU threads, "
            f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
        )
        if args.device == "cuda":
            info = (
                f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
                f"{torch.cuda.get_device_name()}"
                if torch.cuda.is_available()
                else "without CUDA: no torch column"
            )
        print(f"torch {torch.__version__}, {info}")
    except ImportError:
        print("torch not installed: comparing against the naive implementation only")
    for kind in LAYERS if args.kind == "all" else [args.kind]:
        print(
            format_table(run(kind, sizes, args.repeats, args.device), kind, args.device)
        )


if __name__ == "__main__":
    main()
