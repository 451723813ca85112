"""What the sequence-to-sequence chapters share: data to batches, and scoring.

* :func:`prepare_pairs` numbers a :class:`rnnlab.data.PairCorpus` (number words,
  pronunciations) with vocabularies built on its training split.
* :func:`teacher_forced_argmax` runs a model with the true previous tokens as input
  (as in training) and keeps its choice at every position.
* :func:`exact_match` and :func:`position_accuracy` score decoded outputs against every
  acceptable target.

The chapters use these to measure exposure bias: the gap between what the decoder
gets right when fed the truth and what it gets right when fed its own outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend
from ..data import PairBatches, WordVocab
from ..data.transduction import PairCorpus
from ..module import no_grad
from ..nn.sequences import pad_sequences


@dataclass
class PairData:
    """A pair corpus numbered for a model.

    Attributes
    ----------
    corpus : the whole :class:`rnnlab.data.PairCorpus`
    train, val, test : its splits
    src_vocab : WordVocab of the training sources' tokens, with ``<pad>`` and
        ``<unk>``
    tgt_vocab : WordVocab of the training targets' tokens, with ``<pad>``, ``<unk>``,
        ``<bos>`` and ``<eos>``
    """

    corpus: PairCorpus
    train: PairCorpus
    val: PairCorpus
    test: PairCorpus
    src_vocab: WordVocab
    tgt_vocab: WordVocab

    def split(self, name: str) -> PairCorpus:
        if name not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {name!r}")
        return getattr(self, name)

    def batches(self, split: str, batch_size: int = 64, **kwargs) -> PairBatches:
        """Teacher-forcing batches ``((src, src_lengths, tgt_in), tgt_out)`` of every
        (source, acceptable target) pair of a split; shuffled only for ``"train"``
        unless ``shuffle`` is given. Padded targets are ``-100``, which
        ``cross_entropy(..., ignore_index=-100)`` leaves out."""
        kwargs.setdefault("shuffle", split == "train")
        src, tgt = self.split(split).pairs()
        return PairBatches(
            [self.src_vocab.encode(s) for s in src],
            [self.tgt_vocab.encode(t) for t in tgt],
            batch_size,
            bos=self.tgt_vocab.bos_id,
            eos=self.tgt_vocab.eos_id,
            **kwargs,
        )


def prepare_pairs(corpus: PairCorpus) -> PairData:
    """Split ``corpus`` and build its vocabularies from the training split alone."""
    if not isinstance(corpus, PairCorpus):
        raise TypeError(f"corpus must be a PairCorpus, got {type(corpus).__name__}")
    train = corpus.subset("train")
    src_vocab = WordVocab.build(train.source, specials=(WordVocab.PAD, WordVocab.UNK))
    tgt_vocab = WordVocab.build(t for ts in train.targets for t in ts)
    return PairData(
        corpus,
        train,
        corpus.subset("val"),
        corpus.subset("test"),
        src_vocab,
        tgt_vocab,
    )


def teacher_forced_argmax(
    model, sources: list, targets: list, batch_size: int = 256
) -> list[list[str]]:
    """The model's most probable token at every position of each target, given the
    source and the *true* previous tokens (teacher forcing), in eval mode.

    Parameters
    ----------
    model : a :class:`rnnlab.models.Seq2Seq` made by ``for_vocabs``
    sources, targets : lists of token lists, one target per source

    Returns
    -------
    one token list per target, ``len(target) + 1`` long: the last is the choice where
    ``<eos>`` belongs
    """
    if len(sources) != len(targets):
        raise ValueError(
            f"targets has {len(targets)} entries for {len(sources)} sources"
        )
    sv, tv = model.src_vocab, model.tgt_vocab
    out = []
    with model.evaluating(), no_grad():
        for i in range(0, len(sources), batch_size):
            src, lengths = pad_sequences(
                [sv.encode(s) for s in sources[i : i + batch_size]], sv.pad_id
            )
            tgt = [tv.encode(t) for t in targets[i : i + batch_size]]
            tgt_in, _ = pad_sequences(
                [np.r_[tv.bos_id, t].astype(np.int64) for t in tgt], tv.pad_id
            )
            device = model.device
            logits = model(
                backend.to_device(src, device),
                lengths,
                backend.to_device(tgt_in, device),
            )
            best = backend.to_numpy(logits.argmax(axis=-1))  # (T, N)
            out += [
                tv.decode(best[: len(t) + 1, n], skip_specials=False)
                for n, t in enumerate(tgt)
            ]
    return out


def exact_match(predictions: list, references: list) -> np.ndarray:
    """Whether each prediction equals one of its acceptable targets.

    Parameters
    ----------
    predictions : list of token lists
    references : list of lists of token lists (every acceptable target)

    Returns
    -------
    bool array, shape (len(predictions),)
    """
    if len(predictions) != len(references):
        raise ValueError(
            f"references has {len(references)} entries for {len(predictions)} "
            "predictions"
        )
    return np.array(
        [list(p) in [list(r) for r in refs] for p, refs in zip(predictions, references)]
    )


def position_accuracy(predictions: list, targets: list, eos: str = WordVocab.EOS):
    """How often the token at each output position is right.

    Each prediction and target is compared position by position after ``eos`` is put
    at its end; a prediction too short to reach a position is wrong there.

    Returns
    -------
    correct, total : int arrays, shape (L,), L the longest target plus one: the right
    tokens and the targets that reach each position
    """
    L = max(len(t) for t in targets) + 1
    correct, total = np.zeros(L, dtype=np.int64), np.zeros(L, dtype=np.int64)
    for p, t in zip(predictions, targets):
        p, t = list(p) + [eos], list(t) + [eos]
        total[: len(t)] += 1
        correct[: len(t)] += [i < len(p) and p[i] == t[i] for i in range(len(t))]
    return correct, total
