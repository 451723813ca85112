"""Grapheme to phoneme on the CMU Pronouncing Dictionary: scoring, a baseline, a recipe.

The sequence-to-sequence chapter spells words into ARPAbet phonemes
(:func:`rnnlab.data.load_cmudict`: a fixed split by word, every pronunciation of a word
kept). This module holds what the chapter and a longer recorded run share:

* :func:`error_rates`: word and phoneme error rates against several acceptable
  pronunciations;
* :class:`LetterContextG2P` (from :mod:`.g2p_baseline`): our non-neural baseline,
  letters aligned to phonemes by EM and then the most frequent phonemes of each letter
  in its context;
* :func:`train_g2p`: the recipe, a :class:`rnnlab.models.Seq2Seq` (GRU, additive
  attention, bidirectional encoder) trained on a time or step budget.

The chapter trains for a minute or two; the longer run is recorded by

    OPENBLAS_NUM_THREADS=1 python -m rnnlab.course.g2p --minutes 36 \\
        --hidden-size 256 --lr 2e-3 --out book/data/g2p_long.json

which writes the command, machine, date, commit and wall time beside the settings,
the baseline's and the model's error rates (greedy and beam search) on the whole test
split, and the per-word errors for bootstrap intervals.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..backend import seed as seed_all
from ..callbacks import Callback, Every
from ..data import load_cmudict
from ..data.transduction import PairCorpus
from ..losses import cross_entropy
from ..models import Seq2Seq
from ..optim import Adam
from ..train import fit
from .g2p_baseline import LetterContextG2P
from .record import describe_machine, git_commit
from .transduction import PairData, prepare_pairs


# --- scoring --------------------------------------------------------------
def _levenshtein():
    try:  # rapidfuzz computes jiwer's edit distances; it comes with jiwer
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        raise ImportError(
            "phoneme error rates need the edit distance of jiwer (rapidfuzz): "
            "pip install jiwer (or pip install 'rnnlab[book]')"
        ) from None
    return Levenshtein.distance


def strip_stress(phonemes) -> list[str]:
    """ARPAbet without lexical stress: ``['K', 'AE1', 'T']`` -> ``['K', 'AE', 'T']``."""
    return [p.rstrip("012") for p in phonemes]


def word_errors(predictions, references) -> tuple[np.ndarray, np.ndarray]:
    """Each word's edit distance to its closest pronunciation, and that one's length.

    Parameters
    ----------
    predictions : list of M phoneme lists
    references : list of M lists of phoneme lists, the acceptable pronunciations of
        each word (at least one each)

    Returns
    -------
    edits : int array, shape (M,)
        Levenshtein distance (substitutions, insertions, deletions) from the
        prediction to the closest pronunciation; 0 when it equals one of them.
    lengths : int array, shape (M,)
        The length of that closest pronunciation (on a tie, the shortest).
    """
    if len(predictions) != len(references):
        raise ValueError(
            f"predictions has {len(predictions)} words, references {len(references)}"
        )
    distance = _levenshtein()
    edits = np.empty(len(predictions), dtype=np.int64)
    lengths = np.empty(len(predictions), dtype=np.int64)
    for i, (pred, refs) in enumerate(zip(predictions, references)):
        if isinstance(pred, str) or not all(isinstance(p, str) for p in pred):
            raise TypeError(
                f"predictions[{i}] must be a list of phonemes, got {pred!r}: split it "
                "first ('K AE1 T'.split())"
            )
        if not refs or isinstance(refs[0], str):
            raise ValueError(
                f"references[{i}] must be a non-empty list of pronunciations (phoneme "
                f"lists), got {refs!r}"
            )
        edits[i], lengths[i] = min((distance(pred, r), len(r)) for r in refs)
    return edits, lengths


def error_rates(predictions, references) -> dict:
    r"""Word and phoneme error rates against several acceptable pronunciations.

    A word is right if its prediction equals any of its pronunciations. The phoneme
    error rate sums, over the words, the edit distance to the closest pronunciation,
    and divides by the summed lengths of those closest pronunciations:

    .. math::

        \mathrm{WER} = \frac{1}{M} \sum_i [\min_k d(\hat y_i, y_{ik}) > 0], \qquad
        \mathrm{PER} = \frac{\sum_i d(\hat y_i, y_{ik_i})}{\sum_i |y_{ik_i}|}, \quad
        k_i = \arg\min_k d(\hat y_i, y_{ik})

    That is how the tools behind the published CMUdict figures count: Sequitur, the
    joint-sequence tool of Bisani and Ney (2008; ``Evaluation.py``: the reference with
    the fewest errors, string error if any, symbol errors over its length) and the
    released code of Toshniwal and Livescu (2016; ``calc_levenshtein_loss``: the same,
    ties to the shorter reference). We break ties as the latter does: the shorter
    pronunciation, the higher rate. Such ties are rare.

    Parameters
    ----------
    predictions, references : as for :func:`word_errors`

    Returns
    -------
    dict with ``wer``, ``per`` (floats in [0, 1] or above for PER), ``words``,
    ``word_errors``, ``phonemes`` (summed reference lengths) and ``phoneme_errors``
    """
    return _rates(*word_errors(predictions, references))


def _rates(edits, lengths) -> dict:
    words, phonemes = len(edits), int(lengths.sum())
    return dict(
        wer=float(np.mean(edits > 0)) if words else float("nan"),
        per=float(edits.sum() / phonemes) if phonemes else float("nan"),
        words=words,
        word_errors=int(np.sum(edits > 0)),
        phonemes=phonemes,
        phoneme_errors=int(edits.sum()),
    )


# --- the neural recipe ------------------------------------------------------
class _Budget(Callback):
    """Stop after ``seconds`` or ``steps`` (whichever comes first), decaying the
    learning rate linearly from ``lr`` to ``lr * final`` over the budget."""

    def __init__(self, optimizer, lr, seconds=None, steps=None, final=0.1):
        self.opt, self.lr, self.final = optimizer, lr, final
        self.seconds, self.steps = seconds, steps
        self.start = time.perf_counter()

    def on_step_end(self, step, history, model) -> bool:
        done = 0.0
        if self.seconds is not None:
            done = (time.perf_counter() - self.start) / self.seconds
        if self.steps is not None:
            done = max(done, step / self.steps)
        self.opt.lr = self.lr * (1 - (1 - self.final) * min(done, 1.0))
        return done >= 1


def train_g2p(
    data: PairData,
    *,
    minutes: float | None = None,
    max_steps: int | None = None,
    embedding_dim: int = 64,
    hidden_size: int = 128,
    num_layers: int = 1,
    dropout: float = 0.0,
    batch_size: int = 64,
    lr: float = 3e-3,
    clip: float = 5.0,
    seed: int = 0,
    callbacks=(),
    progress: bool = True,
) -> tuple[Seq2Seq, object]:
    """Train the chapter's model: a :class:`rnnlab.models.Seq2Seq` with GRU cells, a
    bidirectional encoder and additive attention, letters in and phonemes out.

    Adam with gradient clipping; the learning rate decays linearly to a tenth over the
    budget, ``minutes`` of training or ``max_steps`` steps, whichever ends first (at
    least one must be given: a step budget gives the same model on any machine, a time
    budget suits a recorded run). Every (word, pronunciation) pair of the training split
    is a target (a word with two pronunciations is seen twice an epoch), in batches
    bucketed by length; the loss is the cross-entropy of every target phoneme and
    ``<eos>``, padding ignored.

    Parameters
    ----------
    data : :class:`rnnlab.course.transduction.PairData` of the dictionary
        (``prepare_pairs(load_cmudict())``)

    Returns
    -------
    model : the trained Seq2Seq, with its vocabularies (:meth:`Seq2Seq.translate`
        reads letter lists and writes phoneme lists)
    history : :class:`rnnlab.train.History` (``step_loss`` every step; an epoch is a
        pass over the training pairs; ``callbacks`` such as :class:`rnnlab.Every`
        measure during training)
    """
    if minutes is None and max_steps is None:
        raise ValueError("give a budget: minutes, max_steps or both")
    if minutes is not None and not minutes > 0:
        raise ValueError(f"minutes must be positive, got {minutes!r}")
    if max_steps is not None and not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    seed_all(seed)
    model = Seq2Seq.for_vocabs(
        data.src_vocab,
        data.tgt_vocab,
        embedding_dim=embedding_dim,
        hidden_size=hidden_size,
        num_layers=num_layers,
        cell="gru",
        bidirectional=True,
        attention="additive",
        dropout=dropout,
    )
    optimizer = Adam(model.parameters(), lr=lr)
    seconds = None if minutes is None else 60.0 * minutes
    budget = _Budget(optimizer, lr, seconds, max_steps)
    batches = data.batches("train", batch_size, seed=seed)
    history = fit(
        model,
        batches,
        loss=lambda z, y: cross_entropy(z, y, ignore_index=-100),
        # the budget stops it; with a step budget the progress bar has a true total
        epochs=10**6 if max_steps is None else -(-max_steps // len(batches)),
        optimizer=optimizer,
        clip=clip,
        callbacks=[budget, *callbacks],
        progress=progress,
    )
    return model, history


def pronounce(model: Seq2Seq, words, method: str = "greedy", **kwargs) -> list:
    """Phoneme lists for ``words`` (letter lists) from a trained model:
    :meth:`Seq2Seq.translate` with targets up to 32 phonemes."""
    kwargs.setdefault("max_len", 32)
    return model.translate(list(words), method=method, **kwargs)


# --- the recorded run -----------------------------------------------------
def _scores(predictions, references) -> dict:
    """Rates with and without stress, and each word's edits and closest length
    (space-separated, for bootstrap intervals)."""
    edits, lengths = word_errors(predictions, references)
    plain = error_rates(
        [strip_stress(p) for p in predictions],
        [[strip_stress(r) for r in refs] for refs in references],
    )
    return dict(
        _rates(edits, lengths),
        wer_no_stress=plain["wer"],
        per_no_stress=plain["per"],
        edits=" ".join(map(str, edits)),
        lengths=" ".join(map(str, lengths)),
    )


def _decode(model, split, **kwargs) -> tuple[dict, list]:
    start = time.perf_counter()
    pred = pronounce(model, split.source, **kwargs)
    seconds = time.perf_counter() - start
    return dict(_scores(pred, split.targets), seconds=seconds, **kwargs), pred


def _head(corpus: PairCorpus, n: int | None) -> PairCorpus:
    if n is None:
        return corpus
    return PairCorpus(corpus.source[:n], corpus.targets[:n], corpus.split[:n])


RECIPE_ARGS = ("embedding_dim", "hidden_size", "num_layers", "dropout", "batch_size")
RECIPE_ARGS += ("lr", "seed", "minutes", "max_steps")


def run(args, command: str) -> dict:
    """Fit the baseline, train the model and score both on the validation and test
    words: the record :func:`main` writes (``args`` as :func:`main` parses them)."""
    start, started = time.perf_counter(), datetime.datetime.now()
    commit = git_commit()  # the code that runs, whatever is committed meanwhile
    data = prepare_pairs(load_cmudict())
    val, test = _head(data.val, args.limit), _head(data.test, args.limit)
    src, tgt = data.train.pairs()
    t = time.perf_counter()
    base = LetterContextG2P().fit(src, tgt)
    baseline = dict(
        context=base.context,
        iterations=base.iterations,
        min_count=base.min_count,
        fit_seconds=time.perf_counter() - t,
        skipped_pairs=base.skipped,
        val=error_rates(base.predict(val.source), val.targets),
        test=_scores(base.predict(test.source), test.targets),
    )
    print(f"baseline: test WER {baseline['test']['wer']:.3f}", flush=True)
    probe = val.source[: args.val_words], val.targets[: args.val_words]
    curve = Every(
        args.val_every, lambda m: error_rates(pronounce(m, probe[0]), probe[1])["wer"]
    )
    t = time.perf_counter()
    recipe = {k: getattr(args, k) for k in RECIPE_ARGS}
    model, hist = train_g2p(data, callbacks=[curve], progress=args.progress, **recipe)
    seconds, steps = time.perf_counter() - t, len(hist.step_loss)
    if args.save:
        model.save(args.save)
    every = max(1, steps // 200)
    training = dict(
        parameters=model.num_parameters(),
        steps=steps,
        seconds=seconds,
        steps_per_second=steps / seconds,
        epochs=steps * args.batch_size / len(src),
        loss_every=every,
        loss=[
            float(np.mean(hist.step_loss[i : i + every]))
            for i in range(0, steps, every)
        ],
        val_wer_steps=curve.steps,
        val_wer=curve.values,
        val_wer_words=len(probe[0]),
    )
    methods = {"greedy": dict(method="greedy")}
    for a in args.alphas:
        methods[f"beam{args.beam_size}_alpha{a:g}"] = dict(
            method="beam", beam_size=args.beam_size, length_penalty=a
        )
    results = {}
    examples = dict(
        words=["".join(w) for w in test.source[:20]],
        references=[[" ".join(r) for r in refs] for refs in test.targets[:20]],
    )
    for name, kw in methods.items():
        v, _ = _decode(model, val, **kw)
        results[name], pred = _decode(model, test, **kw)
        results[name]["val"] = {k: v[k] for k in ("wer", "per", "seconds")}
        examples[name] = [" ".join(p) for p in pred[:20]]
        print(f"{name}: test WER {results[name]['wer']:.3f}", flush=True)
    return dict(
        command=command,
        machine=describe_machine(),
        date=started.date().isoformat(),
        started=started.isoformat(timespec="seconds"),
        commit=commit,
        wall_seconds=time.perf_counter() - start,
        settings=vars(args),
        data=dict(
            train_words=len(data.train),
            train_pairs=len(src),
            val_words=len(val),
            test_words=len(test),
            letters=len(data.src_vocab),
            phonemes=len(data.tgt_vocab),
        ),
        baseline=baseline,
        training=training,
        results=results,
        examples=examples,
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--minutes", type=float, default=40.0, help="training time budget")
    p.add_argument("--max-steps", type=int, default=None, help="training step budget")
    for name, kind, default in [
        ("embedding-dim", int, 64), ("hidden-size", int, 128), ("num-layers", int, 1),
        ("dropout", float, 0.0), ("batch-size", int, 64), ("lr", float, 3e-3),
        ("seed", int, 0), ("beam-size", int, 5),
    ]:  # fmt: skip
        p.add_argument(f"--{name}", type=kind, default=default)
    p.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.6, 1.0])
    p.add_argument("--val-every", type=int, default=1000, help="steps between probes")
    p.add_argument("--val-words", type=int, default=500, help="words a probe decodes")
    p.add_argument("--limit", type=int, default=None, help="score only N words each")
    p.add_argument("--save", default=None, help="also save the model (.npz)")
    p.add_argument("--progress", action="store_true", help="a progress bar")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("")  # fail now, not after the training, if it cannot be written
    argv = sys.argv[1:] if argv is None else argv
    record = run(args, " ".join(["python -m rnnlab.course.g2p", *argv]))
    with open(out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
