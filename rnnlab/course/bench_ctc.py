"""The CTC loss benchmark (issue 17): rnnlab against PyTorch, ratios from one run.

``python -m rnnlab.course.bench_ctc [--repeats R] [--threads N]`` times the loss with
its gradient w.r.t. the logits: :func:`rnnlab.ctc_loss` on the logits (log-softmax,
forward-backward recursion, gradient) against ``torch.nn.functional.ctc_loss`` on
``logits.log_softmax(-1)`` followed by ``backward()``, on the CPU, float32, both on the
same number of threads. The sizes are the issue's: batch 32, 200 frames, 30 classes,
targets of 20 labels; the target is at most 2x. Interleaved, medians; nothing here is
asserted in tests.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..ctc import ctc_loss
from .bench_train import _interleaved

SIZES = dict(batch=32, frames=200, classes=30, labels=20)


def run(sizes: dict = SIZES, repeats: int = 20) -> dict:
    """Median seconds of each implementation, and the largest gradient difference."""
    import torch

    N, T, C, U = sizes["batch"], sizes["frames"], sizes["classes"], sizes["labels"]
    g = np.random.default_rng(0)
    logits = g.standard_normal((T, N, C)).astype(np.float32)
    targets = g.integers(1, C, (N, U))
    in_len, tg_len = np.full(N, T), np.full(N, U)
    z = torch.tensor(logits, requires_grad=True)
    args = [torch.tensor(a) for a in (targets, in_len, tg_len)]

    def ours():
        return ctc_loss(logits, targets, in_len, tg_len)

    def theirs():
        z.grad = None
        torch.nn.functional.ctc_loss(z.log_softmax(-1), *args).backward()

    times = _interleaved({"rnnlab": ours, "torch": theirs}, repeats)
    theirs()
    times["gradient gap"] = float(np.abs(ours()[1] - z.grad.numpy()).max())
    return times


def format_report(times: dict, sizes: dict = SIZES) -> str:
    return (
        f"CTC loss and gradient, batch {sizes['batch']}, {sizes['frames']} frames, "
        f"{sizes['classes']} classes, targets of {sizes['labels']} (CPU, float32)\n"
        f"rnnlab {times['rnnlab'] * 1e3:.2f} ms, torch {times['torch'] * 1e3:.2f} ms, "
        f"r/t {times['rnnlab'] / times['torch']:.2f}x (target <= 2x); "
        f"largest gradient difference {times['gradient gap']:.1e}"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m rnnlab.course.bench_ctc", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    print(format_report(run(repeats=a.repeats)))


if __name__ == "__main__":
    main()
