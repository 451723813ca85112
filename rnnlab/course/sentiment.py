"""The sentiment chapter's recipe: tweets to batches, one training run, the model grid.

The sentiment chapter (``notebooks/12_sentiment.ipynb``) trains one model live and reads
the rest of its comparison (every recurrent cell with every pooling, one and two
directions) from a recorded run of this module:

    OPENBLAS_NUM_THREADS=1 python -m rnnlab.course.sentiment \
        --out book/data/sentiment_grid.json

It records, for each configuration, the validation macro-F1 after every epoch and the
test-set predictions at the best validation epoch (so the chapter computes every number
and interval from them), with the command, machine, date and commit. Both the chapter
and the grid call :func:`train_tweet_model`, so the live model is one row of the grid.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import backend
from ..backend import seed as seed_all
from ..data import BucketBatches, WordVocab, load_tweets, tokenize
from ..data.tweets import LABELS, TweetCorpus
from ..losses import cross_entropy
from ..models import SequenceClassifier
from ..module import no_grad
from ..nn.functional import softmax
from ..optim import Adam
from ..train import fit
from .record import describe_machine, git_commit

# The recipe: what the chapter and the grid share.
RECIPE = dict(
    embedding_dim=64,
    hidden_size=64,
    dropout=0.3,
    batch_size=64,
    lr=2e-3,
    epochs=4,
    min_count=2,
)


@dataclass
class TweetData:
    """The tweets numbered by a word vocabulary built on the training split.

    Attributes
    ----------
    corpus : the whole :class:`rnnlab.data.TweetCorpus`
    train, val, test : its splits
    vocab : WordVocab of the training words seen ``min_count`` times, with ``<pad>``
        and ``<unk>``
    ids : dict split -> list of int64 arrays, one per tweet (length >= 1)
    """

    corpus: TweetCorpus
    train: TweetCorpus
    val: TweetCorpus
    test: TweetCorpus
    vocab: WordVocab
    ids: dict

    def batches(self, split: str, batch_size: int = 256, **kwargs) -> BucketBatches:
        """Length-bucketed batches ``((ids, lengths), labels)`` of one split;
        shuffled only for ``"train"`` unless ``shuffle`` is given."""
        kwargs.setdefault("shuffle", split == "train")
        labels = getattr(self, split).label
        return BucketBatches(self.ids[split], labels, batch_size, **kwargs)


def prepare_tweets(min_count: int = RECIPE["min_count"]) -> TweetData:
    """Load the tweets (:func:`rnnlab.data.load_tweets`) and number their words."""
    corpus = load_tweets()
    splits = {s: corpus.subset(s) for s in ("train", "val", "test")}
    tokens = {s: [tokenize(t) for t in c.text] for s, c in splits.items()}
    vocab = WordVocab.build(
        tokens["train"], min_count=min_count, specials=(WordVocab.PAD, WordVocab.UNK)
    )
    # a tweet of punctuation the tokenizer drops entirely still gets one <unk> step
    ids = {
        s: [vocab.encode(t) if t else np.array([vocab.unk_id]) for t in toks]
        for s, toks in tokens.items()
    }
    return TweetData(corpus, **splits, vocab=vocab, ids=ids)


def predict_split(model, data: TweetData, split: str) -> np.ndarray:
    """Class probabilities of every tweet of a split, shape (M, 3), float64."""
    probs = np.empty((len(data.ids[split]), len(LABELS)))
    batches = data.batches(split, 512)
    for idx, ((ids, lengths), _) in zip(batches.order(0), batches):
        with model.evaluating(), no_grad():
            logits = model(backend.to_device(ids, model.device), lengths)
        probs[idx] = softmax(backend.to_numpy(logits).astype(np.float64))
    return probs


def macro_f1(y_true, y_pred) -> float:
    from sklearn.metrics import f1_score  # lazily: scikit-learn is a book extra

    return float(f1_score(y_true, y_pred, average="macro"))


def train_tweet_model(
    data: TweetData,
    cell: str = "gru",
    pool: str = "attention",
    bidirectional: bool = True,
    seed: int = 0,
    epochs: int = RECIPE["epochs"],
    progress: bool = True,
) -> tuple[SequenceClassifier, dict]:
    """Train a :class:`SequenceClassifier` on the training tweets with the
    :data:`RECIPE`, and keep the weights of the epoch with the best validation
    macro-F1.

    Returns the model (with those weights) and a record: ``val_f1`` per epoch,
    ``best_epoch`` (1-based), ``seconds`` per epoch.
    """
    seed_all(seed)
    r = RECIPE
    model = SequenceClassifier.for_text(
        data.vocab,
        LABELS,
        embedding_dim=r["embedding_dim"],
        hidden_size=r["hidden_size"],
        cell=cell,
        pool=pool,
        bidirectional=bidirectional,
        dropout=r["dropout"],
    )
    train = data.batches("train", r["batch_size"], seed=seed)
    optimizer = Adam(model.parameters(), lr=r["lr"])
    val_f1, seconds, best = [], [], None
    for epoch in range(epochs):
        start = time.perf_counter()
        fit(model, train, loss=cross_entropy, optimizer=optimizer, progress=progress)
        seconds.append(time.perf_counter() - start)
        val_f1.append(
            macro_f1(data.val.label, predict_split(model, data, "val").argmax(1))
        )
        if best is None or val_f1[-1] > max(val_f1[:-1]):
            best = {k: v.copy() for k, v in model.state_dict().items()}
    model.load_state_dict(best)
    record = dict(val_f1=val_f1, best_epoch=int(np.argmax(val_f1)) + 1, seconds=seconds)
    return model, record


# --- the grid -------------------------------------------------------------
CELLS = ("rnn", "lstm", "gru")
POOLS = ("last", "mean", "max", "attention")


def config_name(cell: str, pool: str, bidirectional: bool) -> str:
    """``'bigru-attention'``, ``'lstm-mean'``, ..."""
    return ("bi" if bidirectional else "") + f"{cell}-{pool}"


def run_grid(configs, seeds=(0,), epochs: int = RECIPE["epochs"]) -> dict:
    """Train every ``(cell, pool, bidirectional)`` in ``configs`` with every seed;
    the record :func:`main` writes."""
    data = prepare_tweets()
    runs = []
    for cell, pool, bi in configs:
        for s in seeds:
            model, record = train_tweet_model(
                data, cell, pool, bi, seed=s, epochs=epochs, progress=False
            )
            pred = predict_split(model, data, "test").argmax(1)
            record.update(
                name=config_name(cell, pool, bi),
                cell=cell,
                pool=pool,
                bidirectional=bi,
                seed=s,
                parameters=model.num_parameters(),
                test_pred="".join(map(str, pred)),
            )
            runs.append(record)
            print(
                f"{record['name']:18s} seed {s}: val F1 "
                + " ".join(f"{v:.3f}" for v in record["val_f1"])
                + f"  ({sum(record['seconds']):.0f} s)",
                flush=True,
            )
    return dict(
        command=" ".join(["python -m rnnlab.course.sentiment"] + sys.argv[1:]),
        machine=describe_machine(),
        date=datetime.date.today().isoformat(),
        commit=git_commit(),
        recipe=dict(RECIPE, epochs=epochs),
        test_size=len(data.test),
        runs=runs,
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--cells", nargs="+", default=CELLS, choices=CELLS)
    p.add_argument("--pools", nargs="+", default=POOLS, choices=POOLS)
    p.add_argument("--directions", nargs="+", type=int, default=[1, 2])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    args = p.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("")  # fail now, not after the training, if it cannot be written
    configs = [
        (c, pool, d == 2)
        for d in args.directions
        for c in args.cells
        for pool in args.pools
    ]
    grid = run_grid(configs, tuple(args.seeds), args.epochs)
    with open(out, "w") as f:
        json.dump(grid, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
