"""Sequence-to-sequence benchmarks (issue 14): ratios measured in one run.

``python -m rnnlab.course.bench_seq2seq [--threads N] [--repeats R] [--profile]``
prints them:

* one training step of ``Seq2Seq(cell='gru', bidirectional=True,
  attention='additive')``: forward, masked cross-entropy over the padded targets
  (``ignore_index``), backward, gradient clipping, an Adam step, in rnnlab and in
  PyTorch (:class:`~rnnlab.course.torch_seq2seq.TorchSeq2Seq`, the same model with
  the same weights copied over) on the CPU, both on the same number of threads;
  the target is at most 1.0x;
* ``translate`` of the same sources with ``method='beam', beam_size=5`` against
  ``method='greedy'``; the target is at most 3x.

The sizes (:data:`SIZES`) are those of a character-level transduction (spelling to
sounds, numbers to words): source vocabulary 30, target vocabulary 40, embedding 64,
hidden 128 (the encoder's outputs 256), batch 64, sources of 4 to 12 tokens, targets of
5 to 20 (``bos`` or ``eos`` included) padded to the longest, so that about a third of
the target positions are padding the loss ignores. The decoding sources are 64 more
such sources, decoded up to ``max_len = tgt_len`` tokens by a model first trained for
``train_steps`` steps to reverse its source (so that, as a trained model does, it ends
its outputs and its beams finish; an untrained model runs every hypothesis to
``max_len``, which ``train_steps=0`` measures).

Cases are timed interleaved (round-robin, medians, :func:`bench_train._interleaved`),
after one warm-up each; nothing here is asserted in tests. ``--cpu-time`` times them
with the process's CPU time instead of the wall clock: steadier with ``--threads 1``
on a machine busy with other work. ``--threads`` sets NumPy's
BLAS threads (through ``threadpoolctl`` when it is installed; otherwise start Python
with ``OPENBLAS_NUM_THREADS``) and ``torch.set_num_threads`` to the same number.
``--profile`` prints where rnnlab's training step spends its time (cProfile).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import time

import numpy as np

from .. import backend
from ..losses import cross_entropy
from ..models import Seq2Seq
from ..nn.sequences import pad_sequences
from ..optim import Adam
from .bench_train import _interleaved, _train_step

#: The documented sizes: vocabularies, embedding, hidden size, batch, the longest
#: source and target, the sources decoded and the beam's width.
SIZES = dict(
    src_vocab=30,
    tgt_vocab=40,
    embedding=64,
    hidden=128,
    batch=64,
    src_len=12,
    tgt_len=20,
    sources=64,
    beam=5,
    train_steps=300,
)
PAD, BOS, EOS, IGNORE = 0, 1, 2, -100  # real tokens are 3 .. vocab - 1


def _sources(g, n: int, vocab: int, longest: int) -> list:
    """``n`` random sequences of real tokens, 4 to ``longest`` long (the first is the
    longest, so a batch pads to it)."""
    lengths = g.integers(min(4, longest), longest + 1, n)
    lengths[0] = longest
    return [g.integers(3, vocab, L) for L in lengths]


def _batch(g, s: dict):
    """A padded training batch of the sizes ``s`` (keys as :data:`SIZES`).

    Returns
    -------
    src : int64 array, shape (src_len, batch), padded with ``PAD``
    lengths : int64 array, shape (batch,)
    tgt_in : int64 array, shape (tgt_len, batch), ``BOS`` then the target, padded
        with ``PAD``
    tgt_out : int64 array, shape (tgt_len, batch), the target then ``EOS``, padded
        with ``IGNORE``
    """
    src, lengths = pad_sequences(_sources(g, s["batch"], s["src_vocab"], s["src_len"]))
    targets = _sources(g, s["batch"], s["tgt_vocab"], s["tgt_len"] - 1)  # and bos/eos
    tgt_in, _ = pad_sequences([np.r_[BOS, y] for y in targets], PAD)
    tgt_out, _ = pad_sequences([np.r_[y, EOS] for y in targets], IGNORE)
    return src, lengths, tgt_in, tgt_out


def _model(s: dict) -> Seq2Seq:
    backend.seed(0)
    return Seq2Seq(
        s["src_vocab"], s["tgt_vocab"], embedding_dim=s["embedding"],
        hidden_size=s["hidden"], cell="gru", bidirectional=True, attention="additive",
    )  # fmt: skip


def _reverser(s: dict) -> Seq2Seq:
    """:func:`_model` trained for ``s['train_steps']`` steps to write its source
    backwards (real source ids are real target ids: the target vocabulary is the
    larger)."""
    model = _model(s)
    opt, g = Adam(model.parameters(), lr=3e-3), np.random.default_rng(2)
    longest = min(s["src_len"], s["tgt_len"] - 1)
    for _ in range(s.get("train_steps", 0)):
        seqs = _sources(g, s["batch"], min(s["src_vocab"], s["tgt_vocab"]), longest)
        src, lengths = pad_sequences(seqs)
        tgt_in, _ = pad_sequences([np.r_[BOS, x[::-1]] for x in seqs], PAD)
        tgt_out, _ = pad_sequences([np.r_[x[::-1], EOS] for x in seqs], IGNORE)

        def loss():
            logits = model(src, lengths, tgt_in)
            return cross_entropy(logits, tgt_out, ignore_index=IGNORE)

        _train_step(model, opt, loss, clip=1.0)()
    return model


def _torch_step(model, src, lengths, tgt_in, tgt_out):
    """The training step of ``model``'s PyTorch twin (returning the loss), or None
    without PyTorch."""
    try:
        import torch

        from .torch_seq2seq import TorchSeq2Seq
    except ImportError:
        return None
    twin = TorchSeq2Seq.from_rnnlab(model)
    opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    src, lengths, tgt_in, tgt_out = map(
        torch.from_numpy, (src, lengths, tgt_in, tgt_out)
    )

    def step():
        opt.zero_grad()
        logits = twin(src, lengths, tgt_in)  # (T, N, V)
        loss = torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), tgt_out.flatten(), ignore_index=IGNORE
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
        opt.step()
        return loss.item()

    return step


def training_step(
    sizes: dict = SIZES,
    repeats: int = 5,
    *,
    profile: bool = False,
    clock=time.perf_counter,
) -> dict:
    """Seconds per training step in rnnlab and, if it is installed, PyTorch.

    Parameters
    ----------
    sizes : dict, keys as :data:`SIZES`
    repeats : int, timed steps of each
    profile : bool, also profile ``repeats`` rnnlab steps
    clock : ``time.perf_counter`` (wall clock) or ``time.process_time``

    Returns
    -------
    dict with ``'rnnlab'`` (and ``'torch'``) seconds, the median of the interleaved
    repeats; ``'loss gap'``, the two losses' difference at the first step, from the
    same weights (0 up to float32 rounding: the same function); and with
    ``profile=True``, ``'profile'``, a :class:`pstats.Stats`.
    """
    src, lengths, tgt_in, tgt_out = _batch(np.random.default_rng(0), sizes)
    model = _model(sizes)
    opt = Adam(model.parameters(), lr=1e-3)

    def loss():
        logits = model(src, lengths, tgt_in)  # (T, N, V)
        return cross_entropy(logits, tgt_out, ignore_index=IGNORE)

    cases = {"rnnlab": _train_step(model, opt, loss, clip=1.0)}
    theirs = _torch_step(model, src, lengths, tgt_in, tgt_out)  # the same weights
    if theirs is not None:
        cases["torch"] = theirs
    first = {k: f() for k, f in cases.items()}
    out = _interleaved(cases, repeats, clock)
    if theirs is not None:
        out["loss gap"] = abs(first["rnnlab"] - first["torch"])
    if profile:
        prof = cProfile.Profile()
        for _ in range(repeats):
            prof.runcall(cases["rnnlab"])
        out["profile"] = pstats.Stats(prof)
    return out


def decoding(sizes: dict = SIZES, repeats: int = 5, *, clock=time.perf_counter) -> dict:
    """Seconds to translate ``sizes['sources']`` sources greedily and with a beam of
    ``sizes['beam']``, up to ``max_len = sizes['tgt_len']`` tokens.

    Returns
    -------
    dict with ``'greedy'`` and ``'beam'`` seconds (medians of interleaved repeats)
    and ``'greedy length'`` and ``'beam length'``, the mean number of tokens decoded
    per source (``eos`` excluded)
    """
    s = sizes
    srcs = _sources(
        np.random.default_rng(1), s["sources"], s["src_vocab"], s["src_len"]
    )
    model = _reverser(s)
    common = dict(bos=BOS, eos=EOS, max_len=s["tgt_len"])
    found = {}

    def greedy():
        found["greedy"] = model.translate(srcs, method="greedy", **common)

    def beam():
        found["beam"] = model.translate(
            srcs, method="beam", beam_size=s["beam"], **common
        )

    out = _interleaved({"greedy": greedy, "beam": beam}, repeats, clock)
    for k, v in found.items():
        out[f"{k} length"] = float(np.mean([len(t) for t in v]))
    return out


def run(
    sizes: dict, repeats: int, profile: bool = False, clock=time.perf_counter
) -> tuple[dict, dict]:
    """:func:`training_step` and :func:`decoding` at ``sizes`` (as :data:`SIZES`)."""
    step = training_step(sizes, repeats, profile=profile, clock=clock)
    return step, decoding(sizes, repeats, clock=clock)


def format_report(step: dict, dec: dict, sizes: dict) -> str:
    """The table ``main`` prints, from :func:`training_step` and :func:`decoding`."""
    s = sizes
    lines = [
        f"{'case':<58} {'ms':>9} {'ms':>9} {'ratio':>8}",
        f"{'':<58} {'rnnlab':>9} {'torch':>9} {'r/t':>8}",
    ]
    case = (
        f"training step, B={s['batch']} S<={s['src_len']} T<={s['tgt_len']} "
        f"E={s['embedding']} H={s['hidden']}"
    )
    if "torch" in step:
        lines.append(
            f"{case:<58} {1e3 * step['rnnlab']:>9.1f} {1e3 * step['torch']:>9.1f} "
            f"{step['rnnlab'] / step['torch']:>7.2f}x   (target <= 1.0x; "
            f"loss gap {step['loss gap']:.1e})"
        )
    else:
        lines.append(f"{case:<58} {1e3 * step['rnnlab']:>9.1f} {'-':>9} {'-':>8}")
    lines.append(f"{'':<58} {'greedy':>9} {'beam':>9} {'b/g':>8}")
    case = (
        f"translate {s['sources']} sources, beam {s['beam']}, max_len {s['tgt_len']}, "
        f"trained {s.get('train_steps', 0)} steps "
        f"(tokens {dec['greedy length']:.1f}/{dec['beam length']:.1f})"
    )
    lines.append(
        f"{case:<58} {1e3 * dec['greedy']:>9.1f} {1e3 * dec['beam']:>9.1f} "
        f"{dec['beam'] / dec['greedy']:>7.2f}x   (target <= 3x)"
    )
    return "\n".join(lines)


@contextlib.contextmanager
def _blas_threads(n: int):
    """NumPy's BLAS on ``n`` threads inside the block, where threadpoolctl is
    installed; yields the BLAS libraries' thread counts as it found them."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        yield "threadpoolctl not installed: OPENBLAS_NUM_THREADS=" + os.environ.get(
            "OPENBLAS_NUM_THREADS", "unset"
        )
        return
    with threadpool_limits(n, user_api="blas"):
        found = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        yield f"{found} (threadpoolctl)"


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m rnnlab.course.bench_seq2seq",
        description=__doc__.splitlines()[0],
    )
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1)),
        help="BLAS and torch threads (default: OPENBLAS_NUM_THREADS, or every core)",
    )
    ap.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with this process's CPU time, steadier than the wall clock on a "
        "busy machine (meaningful with --threads 1)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="profile rnnlab's training step"
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see rnnlab.course.bench
    print(
        time.strftime("%Y-%m-%d %H:%M %Z"),
        f"numpy {np.__version__}, {os.cpu_count()} cores",
    )
    with _blas_threads(args.threads) as blas:
        line = f"threads: numpy BLAS {blas}"
        try:
            import torch

            torch.set_num_threads(args.threads)
            line += f", torch {torch.__version__} {torch.get_num_threads()}"
        except ImportError:
            line += ", torch not installed: no torch column"
        print(line)
        clock = time.process_time if args.cpu_time else time.perf_counter
        print(f"clock: {clock.__name__}, median of {args.repeats} interleaved runs")
        step, dec = run(SIZES, args.repeats, profile=args.profile, clock=clock)
    print(format_report(step, dec, SIZES))
    if args.profile:
        for key in ("cumulative", "tottime"):
            text = io.StringIO()
            stats = step["profile"]
            stats.stream = text
            stats.sort_stats(key).print_stats(25)
            print(f"\nrnnlab training step x {args.repeats}, by {key} time:")
            print(text.getvalue().split("\n\n", 1)[-1].rstrip())


if __name__ == "__main__":
    main()
