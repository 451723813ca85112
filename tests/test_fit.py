"""rnnlab.fit, evaluate and the callbacks.

One loop for classification and regression that adds nothing to a hand-written loop,
reproduces bit-exactly and resumes bit-exactly.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab import LSTM, Adam, Linear, Module, cross_entropy, fit, mse
from rnnlab.models import SequenceClassifier
from rnnlab.callbacks import BestCheckpoint, EarlyStopping
from rnnlab.train import History, evaluate

T, N, VOCAB = 10, 16, 12


def Classifier():
    """ids (T, N) with lengths -> logits (N, 2).

    Through the mean of the GRU's real outputs.
    """
    return SequenceClassifier(VOCAB, 2, embedding_dim=8, hidden_size=16)


def _classification_batches(seed, count):
    """Does token 3 occur among the real steps?

    Padded with token 3 past the end, so a model that read the padding would be fooled.
    """
    g = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        lengths = g.integers(2, T + 1, N)
        ids = g.integers(0, VOCAB, (T, N))
        ids[ids == 3] = 4
        hit = g.random(N) < 0.5
        ids[g.integers(0, lengths), np.arange(N)] = np.where(hit, 3, ids[0])
        ids[np.arange(T)[:, None] >= lengths[None, :]] = 3
        labels = np.array(
            [(ids[:L, n] == 3).any() for n, L in enumerate(lengths)], dtype=np.int64
        )
        batches.append(((ids, lengths), labels))
    return batches


def test_fit_trains_a_classifier_over_padded_batches(device):
    rnnlab.seed(0)
    model = Classifier().to(device)
    hist = fit(
        model,
        _classification_batches(0, 30),
        loss=cross_entropy,
        epochs=6,
        lr=1e-2,
        val=_classification_batches(1, 5),
        metrics={"accuracy": rnnlab.accuracy},
        progress=False,
    )
    assert hist.epochs == 6 and len(hist.step_loss) == 180 and len(hist.lr) == 6
    assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]
    assert hist.val_metrics["accuracy"][-1] > 0.9
    assert repr(hist).startswith("History(6 epochs, 180 steps, train_loss ")
    assert "val_accuracy" in repr(hist)


class Regressor(Module):
    """A window (T, N, 1) -> the next value (N, 1), from the LSTM's final state."""

    def __init__(self):
        super().__init__()
        self.rnn = LSTM(1, 12)
        self.head = Linear(12, 1)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.head(h[0])

    def backward(self, dy):
        return self.rnn.backward(None, (self.head.backward(dy)[None], None))[0]


def _sine_batches(seed, count):
    g = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        phase = g.uniform(0, 2 * np.pi, N)
        t = np.arange(T + 1)[:, None] * 0.4 + phase[None, :]
        s = np.sin(t).astype(np.float32)
        out.append((s[:T, :, None], s[T][:, None]))
    return out


def test_fit_trains_a_regressor_with_clipping_and_a_schedule(device):
    rnnlab.seed(0)
    model = Regressor().to(device)
    opt = Adam(model.parameters(), lr=2e-2)
    sched = rnnlab.CosineLR(opt, total_steps=4 * 20)
    hist = fit(
        model,
        _sine_batches(0, 20),
        loss=mse,
        epochs=4,
        optimizer=opt,
        schedule=sched,
        clip=1.0,
        val=_sine_batches(1, 3),
        progress=False,
    )
    # far below predicting 0 (variance of a sine: 1/2)
    assert hist.val_loss[-1] < 0.1 * 0.5
    assert hist.lr[-1] == pytest.approx(0.0, abs=1e-12) and hist.lr[0] < 2e-2


def _hand_written_loop(model, batches, epochs, lr):
    opt = Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for (ids, lengths), y in batches:
            opt.zero_grad()
            loss, grad = cross_entropy(model(ids, lengths), y)
            model.backward(grad)
            rnnlab.clip_grad_norm(opt.params, np.inf)
            opt.step()


def test_fit_equals_a_hand_written_loop_bit_exactly():
    batches = _classification_batches(2, 8)
    rnnlab.seed(5)
    ours = Classifier()
    fit(ours, batches, loss=cross_entropy, epochs=2, lr=1e-2, progress=False)
    rnnlab.seed(5)
    hand = Classifier()
    _hand_written_loop(hand, batches, 2, 1e-2)
    for k, v in hand.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k], v, err_msg=k)


def _assert_same_weights(a, b):
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v, err_msg=k)


def _check_resume(make_model, batches, loss, seed, path, epochs=3, with_rng_state=True):
    """Train in one go, and in two parts with a checkpoint: the same, bit for bit.

    ``epochs`` epochs in one go, then 1 epoch, a checkpoint (model, optimiser and, if
    asked, the generator's state), a fresh process-like restart, and the remaining
    epochs: both must give the same losses and weights, bit for bit.
    """

    def start():
        rnnlab.seed(seed)
        model = make_model()
        return model, Adam(model.parameters(), lr=1e-2)

    model, opt = start()
    whole = fit(model, batches, loss=loss, epochs=epochs, optimizer=opt, progress=False)
    first, opt1 = start()
    hist = fit(first, batches, loss=loss, epochs=1, optimizer=opt1, progress=False)
    first.save(path)
    opt_state, rng_state = opt1.state_dict(), rnnlab.backend.rng_state()
    rnnlab.seed(999)  # anything drawn in between must not matter
    resumed = make_model().load(path)
    opt2 = Adam(resumed.parameters(), lr=1e-2)
    opt2.load_state_dict(opt_state)
    if with_rng_state:
        rnnlab.backend.set_rng_state(rng_state)
    fit(
        resumed,
        batches,
        loss=loss,
        epochs=epochs - 1,
        optimizer=opt2,
        history=hist,
        progress=False,
    )
    assert hist.step_loss == whole.step_loss
    _assert_same_weights(model, resumed)
    return model


def test_a_seeded_run_reproduces_and_a_resumed_run_continues_bit_exactly(tmp_path):
    batches = _classification_batches(3, 6)
    model = _check_resume(Classifier, batches, cross_entropy, 11, tmp_path / "m.npz")
    rnnlab.seed(11)
    again = Classifier()
    fit(
        again,
        batches,
        loss=cross_entropy,
        epochs=3,
        optimizer=Adam(again.parameters(), lr=1e-2),
        progress=False,
    )
    _assert_same_weights(model, again)


def test_evaluate_weights_batches_by_their_targets():
    model = Classifier()
    small, big = _classification_batches(4, 2)
    big = ((big[0][0][:, :4], big[0][1][:4]), big[1][:4])
    scores = [evaluate(model, [b], cross_entropy)["loss"] for b in (small, big)]
    both = evaluate(model, [small, big], cross_entropy)["loss"]
    assert both == pytest.approx((N * scores[0] + 4 * scores[1]) / (N + 4), rel=1e-6)
    assert model.pending == 0 and model.training  # no_grad, and the mode is restored


def _history(val_losses):
    h = History()
    for v in val_losses:
        h.train_loss.append(1.0)
        h.val_loss.append(v)
    return h


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    model, cb = Linear(2, 2), EarlyStopping(patience=2)
    losses = [1.0, 0.5, 0.6, 0.7, 0.4]
    stops = []
    for epoch in range(5):
        model.params["W"][...] = epoch  # weights that say which epoch they come from
        stops.append(cb.on_epoch_end(epoch, _history(losses[: epoch + 1]), model))
        if stops[-1]:
            break
    assert (
        stops == [False, False, False, True]
        and cb.stopped_epoch == 3
        and cb.best_epoch == 1
    )
    cb.on_train_end(None, model)
    assert (model.params["W"] == 1).all()


def test_early_stopping_ends_fit():
    rnnlab.seed(0)
    model = Classifier()
    batches = _classification_batches(5, 3)
    stopper = EarlyStopping(
        monitor="val_accuracy", mode="max", patience=1, min_delta=2.0
    )
    hist = fit(
        model,
        batches,
        loss=cross_entropy,
        epochs=10,
        val=batches,
        metrics={"accuracy": rnnlab.accuracy},
        callbacks=[stopper],
        progress=False,
    )
    # no accuracy can improve by 2: it stops after one epoch of patience
    assert hist.epochs == 2


def test_best_checkpoint_saves_when_the_monitor_improves(tmp_path):
    model, path = Linear(2, 2), tmp_path / "best.npz"
    cb = BestCheckpoint(path)
    for epoch, losses in enumerate([[1.0], [1.0, 0.5], [1.0, 0.5, 0.9]]):
        model.params["W"][...] = epoch
        cb.on_epoch_end(epoch, _history(losses), model)
    assert (Linear(2, 2).load(path).params["W"] == 1).all()


def test_fit_bad_input():
    model = Classifier()
    with pytest.raises(
        ValueError,
        match=r"each batch must be a pair \(inputs, target\), got tuple of length 3",
    ):
        fit(model, [(1, 2, 3)], loss=cross_entropy, progress=False)
    with pytest.raises(
        ValueError, match=r"epochs must be a non-negative integer, got -1"
    ):
        fit(model, [], loss=cross_entropy, epochs=-1)
    with pytest.raises(KeyError, match=r"history has no 'val_f1'"):
        EarlyStopping(monitor="val_f1").on_epoch_end(0, _history([1.0]), model)
    with pytest.raises(ValueError, match=r"patience must be a positive integer, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(
        ValueError, match=r"mode must be one of \('min', 'max'\), got 'up'"
    ):
        BestCheckpoint("x.npz", mode="up")


class DropoutRegressor(Regressor):
    """The regressor with dropout on the final state.

    Its masks come from rnnlab's generator.
    """

    def __init__(self):
        super().__init__()
        self.drop = rnnlab.Dropout(0.3)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.head(self.drop(h[0]))

    def backward(self, dy):
        return self.rnn.backward(
            None, (self.drop.backward(self.head.backward(dy))[None], None)
        )[0]


def test_a_run_with_dropout_resumes_bit_exactly_with_the_generator_state(tmp_path):
    _check_resume(
        DropoutRegressor, _sine_batches(4, 5), mse, 21, tmp_path / "m.npz", epochs=2
    )
    # without the generator's state, the masks differ
    with pytest.raises(AssertionError):
        _check_resume(
            DropoutRegressor,
            _sine_batches(4, 5),
            mse,
            21,
            tmp_path / "m.npz",
            epochs=2,
            with_rng_state=False,
        )


def test_evaluate_counts_only_real_tokens_of_padded_per_step_targets():
    # per-step targets padded with -100: the validation loss is the mean over real
    # tokens
    rnnlab.seed(0)
    g = np.random.default_rng(0)
    seqs = [g.integers(1, VOCAB, n) for n in (2, 9, 4, 7, 3, 8)]
    tags = [s % 2 for s in seqs]
    from rnnlab.data import BucketBatches

    class Tagger(Module):
        def __init__(self):
            super().__init__()
            self.embed, self.rnn, self.head = (
                rnnlab.Embedding(VOCAB, 4),
                rnnlab.GRU(4, 5),
                Linear(5, 2),
            )

        def forward(self, ids, lengths):
            return self.head(self.rnn(self.embed(ids), lengths=lengths)[0])

    model = Tagger()
    loss = lambda z, y: cross_entropy(z, y, ignore_index=-100)  # noqa: E731
    batches = BucketBatches(seqs, tags, 2, shuffle=False)
    got = evaluate(model, batches, loss)["loss"]
    with rnnlab.no_grad():
        per_token = [
            cross_entropy(model(ids, lengths), y, ignore_index=-100, reduction="none")[
                0
            ][y >= 0]
            for (ids, lengths), y in batches
        ]
    assert got == pytest.approx(float(np.concatenate(per_token).mean()), rel=1e-6)


def test_early_stopping_counts_its_own_epochs_and_survives_nan():
    model, cb = Linear(2, 2), EarlyStopping(patience=2)
    # nan: no improvement, no error
    assert not cb.on_epoch_end(0, _history([float("nan")]), model)
    assert cb.on_epoch_end(1, _history([float("nan")] * 2), model)
    cb = EarlyStopping(patience=2)
    assert not cb.on_epoch_end(0, _history([1.0]), model)
    # a continued run numbers its epochs from 0 again; the callback counts on
    assert not cb.on_epoch_end(0, _history([1.0, 2.0]), model)
    assert cb.on_epoch_end(1, _history([1.0, 2.0, 2.0]), model)


def test_fit_refuses_an_iterator_for_several_epochs():
    batches = iter(_classification_batches(0, 2))
    with pytest.raises(
        TypeError, match="train is an iterator, which is used up after one epoch"
    ):
        fit(Classifier(), batches, loss=cross_entropy, epochs=2, progress=False)


def test_every_measures_during_epochs_and_can_stop_training():
    rnnlab.seed(0)
    model = Classifier()
    seen_modes = []

    def score(m):
        seen_modes.append(m.training)
        return rnnlab.evaluate(m, _classification_batches(1, 2), cross_entropy)["loss"]

    every = rnnlab.Every(7, score)
    hist = fit(
        model,
        _classification_batches(0, 10),
        loss=cross_entropy,
        epochs=2,
        callbacks=[every],
        progress=False,
    )
    # every 7th of 20 steps, then at the end; the model is in eval mode meanwhile
    assert every.steps == [7, 14, 20] and len(every.values) == 3
    assert seen_modes == [False] * 3 and model.training
    # stop_when ends the run at the first measurement that satisfies it, mid-epoch
    calls = []
    stopper = rnnlab.Every(
        3, lambda m: calls.append(m) or len(calls), stop_when=lambda v: v >= 2
    )
    hist = fit(
        model,
        _classification_batches(0, 10),
        loss=cross_entropy,
        epochs=3,
        callbacks=[stopper],
        progress=False,
    )
    assert stopper.steps == [3, 6] and len(hist.step_loss) == 6
    assert hist.epochs == 1  # the stopped epoch is still closed and recorded
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        rnnlab.Every(0, score)
    with pytest.raises(TypeError, match="fn must be callable"):
        rnnlab.Every(5, "f1")
