"""Training loop: a seeded run whose loss goes down, evaluation, perplexity."""

import math

import numpy as np
import pytest

import rnnlab
from rnnlab.data import CharVocab, load_pydoc_corpus, train_val_split
from rnnlab.models import CharLM
from rnnlab.train import History, evaluate_lm, perplexity, train_lm


@pytest.fixture(scope="module")
def corpus():
    text = load_pydoc_corpus(max_chars=40_000)
    vocab = CharVocab.from_text(text)
    return vocab, *train_val_split(vocab.encode(text), 0.1)


def test_training_reduces_loss_and_beats_the_unigram_baseline(corpus, device):
    vocab, tr, va = corpus
    rnnlab.seed(0)
    m = CharLM(vocab, hidden_size=64, embedding_dim=16).to(device)
    before = evaluate_lm(m, va, batch_size=8, seq_len=64)
    hist = train_lm(
        m, tr, va, epochs=2, batch_size=16, seq_len=32, lr=5e-3, progress=False
    )
    assert len(hist.train_loss) == len(hist.val_loss) == len(hist.epoch_time) == 2
    assert len(hist.step_loss) == len(hist.grad_norm) > 0
    assert hist.val_loss[-1] < before - 1.0
    assert np.mean(hist.step_loss[-10:]) < np.mean(hist.step_loss[:10])
    freq = np.bincount(tr, minlength=len(vocab)) + 1.0
    unigram = -np.mean(np.log(freq / freq.sum())[va])
    assert hist.val_loss[-1] < unigram
    assert hist.val_perplexity[-1] == pytest.approx(math.exp(hist.val_loss[-1]))


def test_training_is_reproducible(corpus):
    vocab, tr, _ = corpus
    runs = []
    for _ in range(2):
        rnnlab.seed(5)
        m = CharLM(vocab, hidden_size=16, num_layers=2, dropout=0.2)
        runs.append(
            train_lm(
                m, tr, epochs=1, batch_size=4, seq_len=16, max_steps=5, progress=False
            ).step_loss
        )
    assert runs[0] == runs[1]


def test_history_can_be_continued(corpus):
    vocab, tr, _ = corpus
    m = CharLM(vocab, hidden_size=8)
    h = train_lm(m, tr, epochs=1, batch_size=4, seq_len=8, max_steps=3, progress=False)
    h2 = train_lm(
        m, tr, epochs=1, batch_size=4, seq_len=8, max_steps=3, progress=False, history=h
    )
    assert h2 is h and len(h.step_loss) == 6 and isinstance(h, History)


def test_optimizer_built_before_moving_the_model_is_refused(corpus):
    vocab, tr, _ = corpus
    m = CharLM(vocab, hidden_size=8)
    opt = rnnlab.Adam(m.parameters())
    m.to(dtype=np.float64)  # replaces every array, as moving to another device does
    with pytest.raises(ValueError, match="built before"):
        train_lm(m, tr, optimizer=opt, max_steps=1, progress=False)


def test_training_accepts_ids_on_the_gpu(corpus, need_cuda):
    vocab, tr, va = corpus
    m = CharLM(vocab, hidden_size=8).to("cuda")
    hist = train_lm(
        m,
        need_cuda.asarray(tr),
        need_cuda.asarray(va),
        max_steps=3,
        batch_size=4,
        seq_len=8,
        progress=False,
    )
    assert len(hist.step_loss) == 3 and np.isfinite(hist.val_loss[-1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_divergence_is_reported(corpus):
    vocab, tr, _ = corpus
    m = CharLM(vocab, hidden_size=8, nonlinearity="relu")
    with pytest.raises(FloatingPointError, match="became|overflowed"):
        train_lm(
            m,
            tr,
            epochs=1,
            batch_size=4,
            seq_len=8,
            max_steps=50,
            lr=1e6,
            clip=None,
            progress=False,
        )


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(65)) == pytest.approx(65)
