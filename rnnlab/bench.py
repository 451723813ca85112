"""Benchmarks: ``python -m rnnlab.bench rnn`` prints fwd+bwd times against PyTorch and a naive loop.

Every implementation is timed interleaved in the same run (round-robin over
repeats), so a machine that slows down mid-run slows all of them alike. The
table reports medians and ratios; nothing here is asserted in tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from . import backend
from .cells import rnn_step_backward, rnn_step_forward
from .recurrent import RNN

#: (N, T, input_size, hidden_size) benchmarked by default.
DEFAULT_SIZES = [(1, 100, 65, 100), (16, 100, 128, 256), (64, 100, 128, 256), (64, 50, 256, 512)]


def stepwise_rnn_fwd_bwd(x, h0, W_xh, W_hh, b_h, dout):
    """The teaching implementation: one :func:`rnn_step_forward` per step, caches in a Python list.

    Exactly the maths of :class:`rnnlab.RNN`, without hoisting the input projection or
    batching the weight gradients, to show what those buys.
    """
    h, caches, outs = h0, [], []
    for t in range(x.shape[0]):
        h, c = rnn_step_forward(x[t], h, W_xh, W_hh, b_h)
        caches.append(c)
        outs.append(h)
    dW_xh, dW_hh, db_h = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b_h)
    dh, dxs = np.zeros_like(h0), [None] * x.shape[0]
    for t in reversed(range(x.shape[0])):
        dxs[t], dh, gx, gh, gb = rnn_step_backward(dout[t] + dh, caches[t])
        dW_xh += gx
        dW_hh += gh
        db_h += gb
    return np.stack(outs), np.stack(dxs), dh, dW_xh, dW_hh, db_h


def _cases(kind: str, N: int, T: int, D: int, H: int, device: str):
    """Closures running one fwd+bwd for each implementation available here."""
    g = np.random.default_rng(0)
    x = g.standard_normal((T, N, D)).astype(np.float32)
    dout = g.standard_normal((T, N, H)).astype(np.float32)
    layer = RNN(D, H).to(device)
    xd, dd = backend.to_device(x, device), backend.to_device(dout, device)
    sync = _sync(device)

    def ours():
        layer.zero_grad()
        layer(xd)
        layer.backward(dd)
        sync()

    cases = {"rnnlab": ours}
    if device == "cpu":
        p = layer.params
        h0 = np.zeros((N, H), np.float32)
        cases["naive"] = lambda: stepwise_rnn_fwd_bwd(x, h0, p["W_xh_l0"], p["W_hh_l0"], p["b_h_l0"], dout)
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
    ap.add_argument("kind", nargs="?", default="rnn", choices=["rnn"], help="which layer to benchmark")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--size", action="append", metavar="N,T,D,H",
                    help="a size to run (repeatable); default: %s" % DEFAULT_SIZES)
    args = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.size] if args.size else None
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    except ImportError:
        print("torch not installed: comparing against the naive implementation only")
    print(format_table(run(args.kind, sizes, args.repeats, args.device), args.kind))


if __name__ == "__main__":
    main()
