"""Training benchmarks: ratios measured in one run.

``python -m rnnlab.course.bench_train`` prints them:

* ``fit`` against the same steps written by hand (what the loop itself costs);
* length-bucketed against randomly composed batches of variable-length sequences (what
  bucketing saves), for a GRU classifier;
* one training step of a character language model (embedding 32, recurrent layer 256,
  batch 32, 64 steps: forward, loss, backward, clipping, Adam) in rnnlab and in PyTorch
  on the CPU, for the LSTM and the GRU.

Cases are timed interleaved (round-robin over repeats), medians reported; nothing here
is asserted in tests. See :mod:`rnnlab.course.bench` for the layers alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from .. import backend
from ..data import BucketBatches, CharVocab
from ..losses import cross_entropy
from ..models import CharLM, SequenceClassifier
from ..optim import Adam, clip_grad_norm
from ..train import fit


def _interleaved(cases: dict, repeats: int, clock=time.perf_counter) -> dict:
    """Median seconds of each zero-argument case.

    The cases run round-robin, after one warm-up each. ``clock`` may be
    ``time.process_time``: the CPU time of this process, which a single-threaded run
    on a machine busy with other work measures more steadily than the wall clock.
    """
    for f in cases.values():
        f()
    times = {k: [] for k in cases}
    for _ in range(repeats):
        for k, f in cases.items():
            t0 = clock()
            f()
            times[k].append(clock() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _train_step(model, opt, loss, clip: float):
    """One training step of ``model`` as a zero-argument function.

    ``loss()`` runs the forward pass and returns ``(loss, dlogits)``, as
    :func:`rnnlab.cross_entropy` does; the step then runs the backward pass, clips the
    gradients' norm to ``clip`` and steps ``opt``, and returns the loss.
    """

    def step():
        opt.zero_grad()
        value, grad = loss()
        model.backward(grad)
        clip_grad_norm(opt.params, clip)
        opt.step()
        return value

    return step


def _classifier(vocab: int, hidden: int):
    return SequenceClassifier(vocab, 2, embedding_dim=32, hidden_size=hidden)


def _classification_data(n: int = 512, seed: int = 0):
    g = np.random.default_rng(seed)
    # a long tail, as sentence lengths have
    lengths = np.minimum(g.geometric(1 / 30, n), 200)
    return [g.integers(1, 50, L) for L in lengths], g.integers(0, 2, n)


def fit_overhead(repeats: int = 5, n: int = 512, hidden: int = 128) -> dict:
    """Seconds per epoch: ``fit`` and the same steps written by hand.

    Both run on one bucketed dataset.
    """
    seqs, labels = _classification_data(n)
    batches = list(BucketBatches(seqs, labels, 32, seed=1))
    model = _classifier(50, hidden)
    opt = Adam(model.parameters(), lr=1e-3)

    def by_hand():
        for (ids, lengths), y in batches:
            opt.zero_grad()
            _, grad = cross_entropy(model(ids, lengths), y)
            model.backward(grad)
            clip_grad_norm(opt.params, 1.0)
            opt.step()

    def with_fit():
        fit(model, batches, loss=cross_entropy, optimizer=opt, clip=1.0, progress=False)

    return _interleaved({"hand-written loop": by_hand, "fit": with_fit}, repeats)


def bucketing(repeats: int = 5, n: int = 512, hidden: int = 128) -> dict:
    """Seconds per epoch of ``fit`` with bucketed and with randomly composed batches."""
    seqs, labels = _classification_data(n)
    model = _classifier(50, hidden)
    opt = Adam(model.parameters(), lr=1e-3)
    data = {
        name: BucketBatches(seqs, labels, 32, bucket=b, seed=1)
        for name, b in (("random batches", False), ("bucketed", True))
    }
    cases = {
        name: (
            lambda d=d: fit(model, d, loss=cross_entropy, optimizer=opt, progress=False)
        )
        for name, d in data.items()
    }
    times = _interleaved(cases, repeats)
    padding = {name: d.padding_fraction() for name, d in data.items()}
    return {"seconds": times, "padding": padding}


def charlm_step(
    cell: str, repeats: int = 7, H: int = 256, N: int = 32, T: int = 64
) -> dict:
    """Seconds per training step of a character LM.

    In rnnlab and, if it is installed, PyTorch.
    """
    V, E = 65, 32
    vocab = CharVocab([chr(33 + i) for i in range(V)])
    backend.seed(0)
    model = CharLM(vocab, hidden_size=H, embedding_dim=E, cell=cell)
    opt = Adam(model.parameters(), lr=1e-3)
    g = np.random.default_rng(0)
    x, y = g.integers(0, V, (T, N)), g.integers(0, V, (T, N))

    ours = _train_step(model, opt, lambda: cross_entropy(model(x)[0], y), clip=5.0)
    cases = {"rnnlab": ours}
    try:
        import torch
    except ImportError:
        return _interleaved(cases, repeats)
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    net = torch.nn.ModuleDict(
        {
            "embed": torch.nn.Embedding(V, E),
            "rnn": layer(E, H),
            "head": torch.nn.Linear(H, V),
        }
    )
    topt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def theirs():
        topt.zero_grad()
        out, _ = net["rnn"](net["embed"](tx))
        loss = torch.nn.functional.cross_entropy(
            net["head"](out).reshape(-1, V), ty.reshape(-1)
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        topt.step()

    cases["torch"] = theirs
    return _interleaved(cases, repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m rnnlab.course.bench_train", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see rnnlab.course.bench
    print(
        time.strftime("%Y-%m-%d %H:%M %Z"),
        f"numpy {np.__version__}, {os.cpu_count()} cores",
    )
    t = fit_overhead(args.repeats)
    print(
        "fit vs hand-written loop, GRU classifier, one epoch: "
        f"{1e3 * t['fit']:.1f} ms vs {1e3 * t['hand-written loop']:.1f} ms, "
        f"fit/hand = {t['fit'] / t['hand-written loop']:.3f}"
    )
    b = bucketing(args.repeats)
    s, p = b["seconds"], b["padding"]
    print(
        "bucketing, GRU classifier, one epoch: "
        f"random batches {1e3 * s['random batches']:.0f} ms "
        f"({p['random batches']:.0%} padding), bucketed {1e3 * s['bucketed']:.0f} ms "
        f"({p['bucketed']:.0%} padding), "
        f"speed-up {s['random batches'] / s['bucketed']:.2f}x"
    )
    for cell in ("lstm", "gru"):
        t = charlm_step(cell, args.repeats)
        line = (
            f"CharLM training step, {cell.upper()} 256, batch 32 x 64 steps: "
            f"rnnlab {1e3 * t['rnnlab']:.1f} ms"
        )
        if "torch" in t:
            line += (
                f", torch {1e3 * t['torch']:.1f} ms, "
                f"rnnlab/torch = {t['rnnlab'] / t['torch']:.2f}x"
            )
        print(line)


if __name__ == "__main__":
    main()
