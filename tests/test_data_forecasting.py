"""rnnlab.data.forecasting: series checks, rolling-origin splits, and a scaler that
never sees the future."""

import numpy as np
import pytest

from rnnlab.data import ArrayBatches, RollingOrigin, Scaler, check_series
from rnnlab.data import sliding_windows


def test_rolling_origin_splits_a_short_series_as_written_out_by_hand():
    splits = list(RollingOrigin(horizon=2, n_origins=3, step=2).split(np.arange(9)))
    assert [(tr.tolist(), te.tolist()) for tr, te in splits] == [
        ([0, 1, 2], [3, 4]),
        ([0, 1, 2, 3, 4], [5, 6]),
        ([0, 1, 2, 3, 4, 5, 6], [7, 8]),
    ]
    assert RollingOrigin(1, 2).origins(5).tolist() == [3, 4]


def test_rolling_origin_refuses_a_series_too_short():
    with pytest.raises(ValueError, match="too short .* it needs 13"):
        RollingOrigin(horizon=5, n_origins=3, step=3, min_train=2).origins(11)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        RollingOrigin(0, 2)
    with pytest.raises(ValueError, match="too short"):  # a horizon longer than it
        list(RollingOrigin(horizon=20, n_origins=1).split(np.arange(10)))


def test_check_series_names_missing_values_and_dates_out_of_order():
    with pytest.raises(
        ValueError,
        match=r"2 missing or infinite values, the first at "
        r"index \(1,\)",
    ):
        check_series([1.0, np.nan, 2.0, np.inf])
    dates = np.array(["2020-01-01", "2020-01-03", "2020-01-02"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"dates\[2\] = .*2020-01-02.* does not come"):
        check_series([1.0, 2.0, 3.0], dates=dates)
    with pytest.raises(ValueError, match="one date per step"):
        check_series([1.0, 2.0], dates=dates)
    with pytest.raises(ValueError, match=r"\(T,\) or \(T, F\)"):
        check_series(np.zeros((2, 2, 2)))
    assert check_series([1, 2]).dtype == np.float64


def test_scaler_uses_the_training_part_only_and_inverts():
    g = np.random.default_rng(0)
    series = np.cumsum(g.standard_normal((200, 2)), axis=0)
    origin = 150
    sc = Scaler().fit(series[:origin])
    z = sc.transform(series)
    changed = series.copy()
    changed[origin:] += 1000  # any future
    z2 = Scaler().fit(changed[:origin]).transform(changed)
    np.testing.assert_array_equal(z[:origin], z2[:origin])
    np.testing.assert_allclose(z[:origin].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(sc.inverse_transform(z), series)
    np.testing.assert_allclose(sc.inverse_transform(z[:, 1], column=1), series[:, 1])
    with pytest.raises(ValueError, match="not fitted"):
        Scaler().transform(series)


def test_windows_before_an_origin_never_reach_past_it():
    """Training windows cut from the part before the origin: none holds a later step."""
    series = np.arange(30.0)
    x, y = sliding_windows(series[:20], input_len=5, horizon=3)
    assert x.max() < 20 and y.max() < 20 and y.max() == 19


def test_array_batches_carry_a_tuple_of_inputs():
    x, fut, y = np.zeros((10, 6, 2)), np.ones((10, 3, 1)), np.arange(10)
    batches = list(ArrayBatches((x, fut), y, 4, shuffle=False))
    (xb, fb), yb = batches[0]
    assert xb.shape == (6, 4, 2) and fb.shape == (3, 4, 1) and len(batches) == 3
    assert yb.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"x\[1\] has 9 examples but y has 10"):
        ArrayBatches((x, fut[:9]), y, 4)


def test_sliding_windows_refuse_missing_values():
    with pytest.raises(
        ValueError,
        match=r"1 missing or infinite values, the first at "
        r"index \(3, 0\)",
    ):
        sliding_windows([1.0, 2.0, 3.0, np.nan, 5.0, 6.0], 2, 1)
