"""Metrics for fit/evaluate: batch-averaged functions, EpochMetric over all labels."""

import numpy as np
import pytest

import rnnlab
from rnnlab import EpochMetric, accuracy, evaluate

sklearn_metrics = pytest.importorskip("sklearn.metrics")


class Identity(rnnlab.Module):
    """Returns its input: the batches carry the predictions themselves."""

    def forward(self, x):
        return x

    def backward(self, d):
        return d


def _batches(seed, sizes, C=3, padded=False):
    g = np.random.default_rng(seed)
    out = []
    for n in sizes:
        scores = g.standard_normal((n, 5, C)) if padded else g.standard_normal((n, C))
        target = g.integers(0, C, scores.shape[:-1])
        if padded:
            target[:, g.integers(1, 5) :] = -100  # padding at the end of every sequence
        out.append((scores, target))
    return out


def test_accuracy_counts_only_real_targets():
    scores = np.array([[[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]])  # predicts 1, 0, 0
    target = np.array([[1, 1, -100]])
    assert accuracy(scores, target) == 0.5
    assert np.isnan(accuracy(scores, np.full((1, 3), -100)))


@pytest.mark.parametrize("padded", [False, True])
def test_evaluate_metrics_equal_scikit_learn_on_all_labels(padded, on):
    batches = _batches(0, [7, 3, 12, 1], padded=padded)
    on_device = [(on(s), on(t)) for s, t in batches]
    pred = np.concatenate([s.argmax(-1).ravel() for s, _ in batches])
    true = np.concatenate([t.ravel() for _, t in batches])
    pred, true = pred[true >= 0], true[true >= 0]
    f1 = EpochMetric(sklearn_metrics.f1_score, average="macro")
    loss = lambda z, y: rnnlab.cross_entropy(z, y, ignore_index=-100)  # noqa: E731
    scores = evaluate(Identity(), on_device, loss, metrics={"acc": accuracy, "f1": f1})
    assert scores["acc"] == pytest.approx(
        sklearn_metrics.accuracy_score(true, pred), abs=1e-12
    )
    assert scores["f1"] == pytest.approx(
        sklearn_metrics.f1_score(true, pred, average="macro"), abs=1e-12
    )
    # a mean of per-batch F1 scores is not the F1 of the whole set: the reason
    # EpochMetric exists
    per_batch = np.mean(
        [
            sklearn_metrics.f1_score(t[t >= 0], s.argmax(-1)[t >= 0], average="macro")
            for s, t in batches
        ]
    )
    assert abs(per_batch - scores["f1"]) > 1e-3
    # a second pass starts afresh
    again = evaluate(Identity(), batches, loss, metrics={"f1": f1})
    assert again["f1"] == scores["f1"]


def test_epoch_metric_for_regression_passes_values_through():
    g = np.random.default_rng(1)
    batches = [(g.standard_normal((4, 2)), g.standard_normal((4, 2))) for _ in range(3)]
    mae = EpochMetric(sklearn_metrics.mean_absolute_error)
    scores = evaluate(Identity(), batches, rnnlab.mse, metrics={"mae": mae})
    allp = np.concatenate([p.ravel() for p, _ in batches])
    allt = np.concatenate([t.ravel() for _, t in batches])
    assert scores["mae"] == pytest.approx(np.abs(allp - allt).mean(), rel=1e-12)


def test_mismatched_predictions_are_refused_not_scored():
    ints = np.array([0, 1, 1])
    with pytest.raises(ValueError, match=r"a class axis of size 1"):
        accuracy(np.zeros((3, 1)), ints)  # one logit per example: give two classes
    with pytest.raises(ValueError, match=r"targets are integer class labels"):
        accuracy(np.zeros(3), ints)  # float predictions of the labels' shape
    with pytest.raises(TypeError, match=r"need integer class labels as target"):
        EpochMetric(sklearn_metrics.mean_squared_error).update(
            np.zeros((3, 2)), np.ones(3)
        )
    with pytest.raises(TypeError, match=r"prediction must be an array, got list"):
        accuracy([[0.0, 1.0]], ints[:1])
    f1 = EpochMetric(sklearn_metrics.f1_score, average=None)
    f1.update(np.eye(3), ints)
    with pytest.raises(
        TypeError, match=r"EpochMetric\(f1_score, average=None\) returned"
    ):
        f1.compute()


def test_metric_errors_name_what_came():
    with pytest.raises(TypeError, match="fn must be callable"):
        EpochMetric("f1")
    with pytest.raises(ValueError, match="no batch was seen"):
        EpochMetric(sklearn_metrics.f1_score).compute()
    with pytest.raises(
        ValueError, match=r"prediction has shape \(2, 3, 4\) but target has shape"
    ):
        accuracy(np.zeros((2, 3, 4)), np.zeros((2,), dtype=int))
    assert "average='macro'" in repr(
        EpochMetric(sklearn_metrics.f1_score, average="macro")
    )


def test_scores_give_the_library_probabilities_for_auc(on):
    g = np.random.default_rng(4)
    logits = g.standard_normal((200, 2))
    y = (logits[:, 1] - logits[:, 0] + g.standard_normal(200) > 0).astype(np.int64)
    batches = [(on(logits[i : i + 50]), on(y[i : i + 50])) for i in range(0, 200, 50)]
    auc = EpochMetric(sklearn_metrics.roc_auc_score, scores=True)
    p1 = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    got = evaluate(Identity(), batches, rnnlab.cross_entropy, metrics={"auc": auc})
    assert got["auc"] == pytest.approx(sklearn_metrics.roc_auc_score(y, p1), abs=1e-12)
    # labels instead of scores would give a different (worse) number: the option matters
    by_label = sklearn_metrics.roc_auc_score(y, logits.argmax(1))
    assert abs(by_label - got["auc"]) > 0.01
    assert repr(auc) == "EpochMetric(roc_auc_score, scores=True)"


def test_an_all_padding_batch_carries_no_weight():
    scores, target = _batches(2, [6], padded=True)[0]
    empty = (scores, np.full_like(target, -100))
    sum_loss = lambda z, y: (float(len(y)), None)  # noqa: E731  (a loss without checks)
    got = evaluate(
        Identity(), [(scores, target), empty], sum_loss, metrics={"a": accuracy}
    )
    assert got["a"] == accuracy(scores, target)
    with pytest.raises(ValueError, match="no real targets"):
        evaluate(Identity(), [empty], sum_loss)
    with pytest.raises(ValueError, match="may not be named 'loss'"):
        evaluate(Identity(), [empty], sum_loss, metrics={"loss": accuracy})


def test_confusion_scores_equal_scikit_learn():
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    g = np.random.default_rng(0)
    for K, M in [(2, 30), (3, 200), (4, 12)]:
        y, p = g.integers(0, K, M), g.integers(0, K - 1, M)  # class K-1 never guessed
        got = rnnlab.metrics.confusion_scores(confusion_matrix(y, p, labels=range(K)))
        assert np.isclose(got["accuracy"], accuracy_score(y, p))
        want = f1_score(y, p, average="macro", labels=range(K), zero_division=0)
        assert np.isclose(got["macro_f1"], want)


def test_bootstrap_intervals_cover_the_normal_approximation_of_accuracy():
    g = np.random.default_rng(1)
    for M in (400, 3600):
        y = g.integers(0, 3, M)
        p = np.where(g.random(M) < 0.7, y, g.integers(0, 3, M))
        acc = (y == p).mean()
        half = 1.96 * np.sqrt(acc * (1 - acc) / M)
        ci = rnnlab.metrics.bootstrap_intervals(y, p)
        lo, hi = ci["accuracy"]
        assert lo < acc < hi
        # the width of a binomial interval, to 15%; 9 times the data, a third as wide
        assert abs((hi - lo) - 2 * half) < 0.15 * 2 * half
        assert ci["macro_f1"][0] < ci["macro_f1"][1]
    # seeded: the same intervals again
    assert rnnlab.metrics.bootstrap_intervals(y, p, seed=3) == (
        rnnlab.metrics.bootstrap_intervals(y, p, seed=3)
    )


def test_bootstrap_intervals_bad_input():
    bi = rnnlab.metrics.bootstrap_intervals
    with pytest.raises(ValueError, match="1-D integer labels"):
        bi(np.array([0.0, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="1-D integer labels"):
        bi(np.array([0, 1, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        bi(np.array([0, 1, 2]), np.array([0, 1, 1]), num_classes=2)
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        bi(np.array([0, 1]), np.array([0, 1]), level=95)


# ------------------------------------------------------------------ forecasting
def test_smape_mase_and_coverage_by_hand():
    from rnnlab.metrics import coverage, mase, smape

    y, f = np.array([[2.0, 4.0], [1.0, 0.0]]), np.array([[1.0, 4.0], [3.0, 0.0]])
    # terms 1/3, 0, 2/4, and 0 for 0/0; 200 * mean
    assert smape(y, f) == pytest.approx(200 * (1 / 3 + 0.5) / 4)
    np.testing.assert_allclose(smape(y, f, axis=0), [200 * (1 / 3 + 0.5) / 2, 0])
    train = np.array([1.0, 3.0, 2.0, 6.0])  # naive steps 2, 1, 4: scale 7/3
    assert mase(y, f, train) == pytest.approx((3 / 4) / (7 / 3))
    assert mase(y, f, train, m=2) == pytest.approx((3 / 4) / 2)  # |2-1|, |6-3|
    assert coverage([1.0, 2.0, 3.0], [0.0, 2.5, 3.0], [1.0, 3.0, 4.0]) == 2 / 3


def test_forecast_metrics_name_bad_input():
    from rnnlab.metrics import coverage, mase, smape

    with pytest.raises(ValueError, match="one non-empty shape"):
        smape(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="longer than m = 4"):
        mase(np.ones(2), np.ones(2), np.arange(4.0), m=4)
    with pytest.raises(ValueError, match="MASE is undefined"):
        mase(np.ones(2), np.ones(2), np.ones(5))
    with pytest.raises(ValueError, match="lower exceeds upper"):
        coverage(np.zeros(2), np.ones(2), np.zeros(2))
