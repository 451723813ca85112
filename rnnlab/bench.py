"""Benchmarks: ``python -m rnnlab.bench rnn|lstm|gru|all`` prints fwd+bwd times against PyTorch and a naive loop.

Every implementation is timed interleaved in the same run (round-robin over
repeats), so a machine that slows down mid-run slows all of them alike. The
table reports medians and ratios; nothing here is asserted in tests.

PyTorch's OpenMP threads keep spinning for a while after each call; in one process
on a few cores they would steal the cores NumPy's BLAS threads need next (several
times slower on 2 cores). The command therefore sets ``OMP_WAIT_POLICY=PASSIVE``
before importing torch, unless the variable is already set; it made both libraries
faster here.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from . import backend
from .gru import GRU
from .lstm import LSTM
from .naive import NAIVE
from .recurrent import RNN

LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}

#: (N, T, input_size, hidden_size) benchmarked by default.
DEFAULT_SIZES = [(1, 100, 65, 100), (16, 100, 128, 256), (64, 100, 128, 256), (64, 50, 256, 512)]


def _cases(kind: str, N: int, T: int, D: int, H: int, device: str):
    """Closures running one fwd+bwd for each implementation available here."""
    g = np.random.default_rng(0)
    x = g.standard_normal((T, N, D)).astype(np.float32)
    dout = g.standard_normal((T, N, H)).astype(np.float32)
    layer = LAYERS[kind](D, H).to(device)
    xd, dd = backend.to_device(x, device), backend.to_device(dout, device)
    sync = _sync(device)

    def ours():
        layer.zero_grad()
        layer(xd)
        layer.backward(dd)
        sync()

    cases = {"rnnlab": ours}
    if device == "cpu":
        cases["naive"] = lambda: NAIVE[kind](x, layer.params, dout)
    try:
        import torch
    except ImportError:
        return cases
    from .interop import to_torch

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


def _sync(device):
    if device == "cuda":
        cupy = backend._load_cupy()
        return cupy.cuda.Device().synchronize
    return lambda: None


def run(kind: str = "rnn", sizes=None, repeats: int = 7, device: str = "cpu") -> list[dict]:
    """Time each implementation at each size; return one row per size with medians in ms."""
    rows = []
    for N, T, D, H in sizes or DEFAULT_SIZES:
        cases = _cases(kind, N, T, D, H, device)
        for f in cases.values():  # warm-up
            f()
        times = {k: [] for k in cases}
        for _ in range(repeats):
            for k, f in cases.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        rows.append({"N": N, "T": T, "D": D, "H": H, **{k: 1e3 * statistics.median(v) for k, v in times.items()}})
    return rows


def format_table(rows: list[dict], kind: str) -> str:
    impls = [k for k in ("rnnlab", "torch", "naive") if k in rows[0]]
    head = f"{'N':>4} {'T':>4} {'D':>5} {'H':>5} " + " ".join(f"{k + ' ms':>11}" for k in impls)
    if "torch" in impls:
        head += f" {'rnnlab/torch':>13}"
    if "naive" in impls:
        head += f" {'naive/rnnlab':>13}"
    lines = [f"{kind} forward+backward, float32, median of interleaved runs", head]
    for r in rows:
        s = f"{r['N']:>4} {r['T']:>4} {r['D']:>5} {r['H']:>5} " + " ".join(f"{r[k]:>11.2f}" for k in impls)
        if "torch" in impls:
            s += f" {r['rnnlab'] / r['torch']:>12.2f}x"
        if "naive" in impls:
            s += f" {r['naive'] / r['rnnlab']:>12.2f}x"
        lines.append(s)
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m rnnlab.bench", description=__doc__.splitlines()[0])
    ap.add_argument("kind", nargs="?", default="all", choices=[*LAYERS, "all"], help="which layer to benchmark")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--size", action="append", metavar="N,T,D,H",
                    help="a size to run (repeatable); default: %s" % DEFAULT_SIZES)
    args = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.size] if args.size else None
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see the module docstring
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_WAIT_POLICY="
              f"{os.environ['OMP_WAIT_POLICY']}; numpy {np.__version__}")
    except ImportError:
        print("torch not installed: comparing against the naive implementation only")
    for kind in LAYERS if args.kind == "all" else [args.kind]:
        print(format_table(run(kind, sizes, args.repeats, args.device), kind))


if __name__ == "__main__":
    main()
