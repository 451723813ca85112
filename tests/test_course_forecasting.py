"""rnnlab.course.forecasting: the chapter's series, baselines and scores."""

import numpy as np
import pytest

from rnnlab.course import forecasting as fc

Y = np.array([1.0, 3.0, 2.0, 6.0, 5.0, 7.0, 4.0, 8.0])


def test_windows_and_targets_at_origins_by_hand():
    x = fc.windows_at(Y, [3, 5], 2)
    assert x[..., 0].tolist() == [[3.0, 2.0], [6.0, 5.0]]
    assert fc.targets_at(Y, [3, 5], 2).tolist() == [[6.0, 5.0], [7.0, 4.0]]
    with pytest.raises(ValueError, match="fewer than input_len = 4"):
        fc.windows_at(Y, [3], 4)
    with pytest.raises(ValueError, match="runs past the series"):
        fc.targets_at(Y, [7], 2)


def test_naive_seasonal_naive_and_drift_by_hand():
    o = np.array([4, 6])
    assert fc.naive(Y, o, 3).tolist() == [[6.0] * 3, [7.0] * 3]
    # m = 2: step h repeats the value at o + h - 2 (h = 0, 1), then again
    assert fc.seasonal_naive(Y, o, 3, 2).tolist() == [[2.0, 6.0, 2.0], [5.0, 7.0, 5.0]]
    # slope (y[o-1] - y[0]) / (o - 1): 5/3 and 6/5
    np.testing.assert_allclose(fc.drift(Y, o, 2), [[6 + 5 / 3, 6 + 10 / 3], [8.2, 9.4]])


def test_baselines_never_read_the_future():
    """Changing the series from an origin on changes no forecast made at it."""
    g = np.random.default_rng(0)
    y = 10 + np.cumsum(g.standard_normal(80))
    o = np.array([50])
    later = y.copy()
    later[50:] += 100
    for f in (fc.naive, fc.drift, lambda s, o, h: fc.seasonal_naive(s, o, h, 12)):
        np.testing.assert_array_equal(f(y, o, 5), f(later, o, 5))


def test_arima_and_ets_forecast_a_seasonal_series_from_the_past_only():
    pytest.importorskip("pmdarima")
    pytest.importorskip("statsmodels")
    t = np.arange(96)
    g = np.random.default_rng(1)
    y = 50 + 10 * np.sin(2 * np.pi * t / 12) + g.normal(0, 1, 96)
    origins = np.array([72, 78, 84])
    truth = fc.targets_at(y, origins, 12)
    later = y.copy()
    later[72:] += 30  # nothing at or after the first origin may reach its forecast
    for method in (fc.arima, fc.ets):
        f = method(y, origins, 12, m=12, level=0.8)
        assert f["mean"].shape == f["lower"].shape == (3, 12)
        assert (f["lower"] <= f["mean"]).all() and (f["mean"] <= f["upper"]).all()
        assert np.abs(f["mean"] - truth).mean() < 2.5  # noise sd 1, season amplitude 10
        g_ = method(later, origins[:1], 12, m=12)
        np.testing.assert_allclose(g_["mean"][0], f["mean"][0], rtol=1e-6)
    again = fc.ets(y, origins, 12, m=12)
    np.testing.assert_array_equal(again["lower"], fc.ets(y, origins, 12, m=12)["lower"])


def test_calendar_features_put_the_year_on_a_circle():
    months = np.arange("2000-01", "2001-01", dtype="datetime64[M]")
    c = fc.calendar_features(months)
    np.testing.assert_allclose(c[0], [0, 1], atol=1e-12)
    np.testing.assert_allclose(c[3], [1, 0], atol=1e-12)  # April: a quarter round
    days = np.array(["2001-01-01", "2001-07-02"], dtype="datetime64[D]")
    np.testing.assert_allclose(fc.calendar_features(days)[:, 1], [1, -1], atol=1e-3)
    np.testing.assert_allclose((c**2).sum(axis=1), 1)


def test_scores_and_ratio_interval():
    truth = np.array([[2.0, 4.0], [1.0, 3.0]])
    rows = fc.scores({"a": truth + 1, "b": {"mean": truth}}, truth, Y, m=1)
    assert rows["a"]["MAE"] == 1 and rows["b"]["MAE"] == 0
    assert rows["a"]["MASE"] == pytest.approx(1 / np.abs(np.diff(Y)).mean())
    g = np.random.default_rng(0)
    truth = g.normal(size=(60, 3))
    low, high = fc.mae_ratio_interval(truth + 0.5, truth + 1.0, truth, block=3)
    assert low == high == pytest.approx(0.5)
    low, high = fc.mae_ratio_interval(
        truth + g.normal(size=truth.shape), truth + g.normal(size=truth.shape), truth, 3
    )
    assert low < 1 < high
    with pytest.raises(ValueError, match="block must be between 1 and the 60 origins"):
        fc.mae_ratio_interval(truth, truth, truth, block=61)


def test_markdown_table_bolds_the_best_and_keeps_text():
    table = fc.markdown_table(
        {"a": {"x": 2.0, "ci": "1 to 3"}, "b": {"x": 1.0}}, ["x", "ci"], first="m"
    )
    assert table.splitlines() == [
        "| m | x | ci |",
        "|---|---:|---|",
        "| a | 2.000 | 1 to 3 |",
        "| b | **1.000** |  |",
    ]


def test_load_series_names_what_it_knows():
    with pytest.raises(ValueError, match="'msft', 'seattle' or 'wine'"):
        fc.load_series("gold")


@pytest.mark.parametrize(
    "name, steps, features", [("wine", 176, 0), ("seattle", 1461, 3)]
)
def test_load_series_reads_the_shipped_data(name, steps, features):
    pytest.importorskip("pmdarima" if name == "wine" else "vega_datasets")
    s = fc.load_series(name)
    assert len(s) == steps and s.features.shape == (steps, features)
    assert (np.diff(s.dates.astype(np.int64)) > 0).all()


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: fc.naive(Y, [0], 2), "at least 1 steps"),
        (lambda: fc.seasonal_naive(Y, [3], 2, 4), r"m = 4\) needs .* at least 4"),
        (lambda: fc.drift(Y, [1], 2), "drift needs .* at least 2"),
    ],
)
def test_baselines_refuse_origins_without_enough_past(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_fit_forecaster_refuses_too_few_windows():
    from rnnlab.models import Forecaster

    model = Forecaster(1, 5, hidden_size=4)
    x, y = np.zeros((5, 3, 1)), np.zeros((5, 5))
    with pytest.raises(ValueError, match="leave 0 for training"):
        fc.fit_forecaster(model, x, y)
    with pytest.raises(ValueError, match=r"val must lie in \(0, 1\)"):
        fc.fit_forecaster(model, np.zeros((50, 3, 1)), np.zeros((50, 5)), val=0)
