"""rnnlab.models.Forecaster: gradients of every head and strategy, PyTorch's GRU and
Linear on the same weights, training, recursion, checkpoints and bad input."""

import numpy as np
import pytest

import rnnlab
from rnnlab.data import ArrayBatches, sliding_windows
from rnnlab.gradcheck import assert_gradients_close, check_module
from rnnlab.interop import to_torch, torch_state_dict
from rnnlab.models import Forecaster

L, N, F, K = 6, 3, 2, 4  # window, batch, features, horizon

CONFIGS = [
    dict(head="point"),
    dict(head="gaussian", cell="lstm"),
    dict(head="quantile", quantiles=(0.1, 0.5, 0.9), num_layers=2),
    dict(head="gaussian", decoder=True),
    dict(head="point", decoder=True, future_size=2, cell="lstm"),
    dict(head="quantile", quantiles=[0.2, 0.8], decoder=True, cell="rnn"),
]


def _inputs(cfg, on, rng):
    x = on(rng.standard_normal((L, N, F)))
    if cfg.get("future_size"):
        return x, on(rng.standard_normal((K, N, cfg["future_size"])))
    return (x,)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_every_head_and_strategy_passes_finite_differences(cfg, device, on, rng):
    model = Forecaster(F, K, hidden_size=5, dtype=np.float64, **cfg).to(device)
    inputs = _inputs(cfg, on, rng)
    assert_gradients_close(check_module(model, *inputs))


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_output_shapes_and_positive_variance(cfg, device, on, rng):
    model = Forecaster(F, K, hidden_size=5, **cfg).to(device)
    pred = rnnlab.to_numpy(
        model(*[a.astype(np.float32) for a in _inputs(cfg, on, rng)])
    )
    extra = {"point": (), "gaussian": (2,)}.get(
        cfg["head"], (len(cfg.get("quantiles") or ()),)
    )
    assert pred.shape == (N, K) + extra
    if cfg["head"] == "gaussian":
        assert (pred[..., 1] > 0).all()


def test_direct_gru_forecaster_equals_torch_on_the_same_weights(torch, rng):
    """GRU encoder, last output, Linear read-out: outputs and every gradient."""
    model = Forecaster(F, K, hidden_size=5, dtype=np.float64)
    gru = to_torch(model.encoder)
    lin = torch.nn.Linear(5, K).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(model.head.params["W"]))
        lin.bias.copy_(torch.tensor(model.head.params["b"]))
    x = rng.standard_normal((L, N, F))
    xt = torch.tensor(x, requires_grad=True)
    ref = lin(gru(xt)[0][-1])
    g = rng.standard_normal((N, K))
    ref.backward(torch.tensor(g))
    model.zero_grad()
    pred = model(x)
    dx = model.backward(g)
    np.testing.assert_allclose(pred, ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(model.head.grads["W"], lin.weight.grad, atol=1e-12)
    np.testing.assert_allclose(model.head.grads["b"], lin.bias.grad, atol=1e-12)
    ours = torch_state_dict(model.encoder, grads=True)
    for name, p in gru.named_parameters():
        np.testing.assert_allclose(ours[name], p.grad.numpy(), atol=1e-12)


def test_loss_follows_the_head(rng):
    y = rng.standard_normal((N, K))
    for cfg, fn in [
        (dict(head="point"), lambda p: rnnlab.mse(p, y)),
        (dict(head="gaussian"), lambda p: rnnlab.gaussian_nll(p, y)),
        (
            dict(head="quantile", quantiles=(0.25, 0.75)),
            lambda p: rnnlab.pinball(p, y, (0.25, 0.75)),
        ),
    ]:
        model = Forecaster(F, K, hidden_size=4, dtype=np.float64, **cfg)
        pred = model(rng.standard_normal((L, N, F)))
        assert model.loss(pred, y)[0] == fn(pred)[0]


def _sine_windows(horizon):
    t = np.arange(400)
    series = np.sin(2 * np.pi * t / 20) + 0.05 * np.random.default_rng(
        0
    ).standard_normal(400)
    return sliding_windows(series, 20, horizon)


def _train(model, x, y, batch_size, epochs):
    batches = ArrayBatches(
        x.astype(np.float32), y[..., 0].astype(np.float32), batch_size
    )
    rnnlab.fit(model, batches, loss=model.loss, epochs=epochs, lr=1e-2, progress=False)


@pytest.mark.parametrize("cfg", [dict(), dict(decoder=True), dict(head="gaussian")])
def test_learns_a_noisy_sine_far_better_than_the_mean(cfg):
    x, y = _sine_windows(5)
    model = Forecaster(1, 5, hidden_size=16, **cfg)
    _train(model, x, y, batch_size=32, epochs=15)
    pred = model.predict(x)
    mean = pred if pred.ndim == 2 else pred[..., 0]
    mse_model = np.mean((mean - y[..., 0]) ** 2)
    assert mse_model < 0.1 * np.var(y), mse_model


def test_gaussian_head_learns_the_noise_level():
    """Forecasts of pure noise of std 0.5: the variance learned is about 0.25."""
    g = np.random.default_rng(1)
    series = 0.5 * g.standard_normal(3000)
    x, y = sliding_windows(series, 5, 1)
    model = Forecaster(1, 1, hidden_size=8, head="gaussian")
    _train(model, x, y, batch_size=64, epochs=4)
    var = model.predict(x)[..., 1].mean()
    assert 0.2 < var < 0.3, var


def test_recursive_forecast_feeds_the_forecast_back():
    """A model whose forecast is its window's last value repeats it recursively."""
    model = Forecaster(1, 1, hidden_size=3, cell="rnn", dtype=np.float64)
    model.encoder.params["W_xh_l0"][...] = [[1.0], [0], [0]]
    model.encoder.params["W_hh_l0"][...] = 0
    model.encoder.params["b_h_l0"][...] = 0
    model.head.params["W"][...] = [[1.0, 0, 0]]
    model.head.params["b"][...] = 0.1
    x = np.full((2, 4, 1), 0.2)
    out = model.forecast(x, 3)
    first = np.tanh(0.2) + 0.1
    np.testing.assert_allclose(out[:, 0], first)
    np.testing.assert_allclose(out[:, 1], np.tanh(first) + 0.1)


def test_recursive_forecast_feeds_back_into_target_index():
    """The forecast goes into column target_index; the future fills the others."""
    model = Forecaster(2, 1, hidden_size=2, cell="rnn", dtype=np.float64)
    p = model.encoder.params
    p["W_xh_l0"][...] = [
        [1.0, 0.0],
        [0.0, 1.0],
    ]  # unit 0 reads column 0, unit 1 column 1
    p["W_hh_l0"][...] = 0
    p["b_h_l0"][...] = 0
    model.head.params["W"][...] = [[0.0, 1.0]]  # the forecast is tanh(column 1)
    model.head.params["b"][...] = 0
    x = np.full((1, 3, 2), 0.5)
    future = np.full((1, 3, 1), 9.0)
    for index in (1, -1):
        out = model.forecast(x, 3, future=future, target_index=index)
        first = np.tanh(0.5)
        np.testing.assert_allclose(
            out[0], [first, np.tanh(first), np.tanh(np.tanh(first))]
        )
    # fed into column 0, the forecast never reaches the output: column 1 stays 0.5
    out = model.forecast(x, 2, future=future[:, :2], target_index=0)
    np.testing.assert_allclose(out[0, 1], np.tanh(9.0))
    with pytest.raises(
        ValueError, match=r"target_index must be an input column in \[-2, 2\)"
    ):
        model.forecast(x, 2, future=future[:, :2], target_index=2)


def test_recursive_forecast_reads_the_other_features_from_future():
    model = Forecaster(2, 1, hidden_size=3)
    x = np.zeros((2, 4, 2))
    with pytest.raises(ValueError, match=r"future of shape \(2, 3, 1\)"):
        model.forecast(x, 3)
    assert model.forecast(x, 3, future=np.ones((2, 3, 1))).shape == (2, 3)
    with pytest.raises(ValueError, match="horizon=1"):
        Forecaster(1, 2).forecast(np.zeros((1, 3, 1)), 2)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_checkpoint_round_trip_is_exact(cfg, tmp_path, rng):
    model = Forecaster(F, K, hidden_size=5, **cfg)
    model.save(tmp_path / "f.npz")
    again = Forecaster.from_checkpoint(tmp_path / "f.npz")
    x = rng.standard_normal((N, L, F))
    fut = (
        rng.standard_normal((N, K, cfg["future_size"]))
        if cfg.get("future_size")
        else None
    )
    np.testing.assert_array_equal(model.predict(x, fut), again.predict(x, fut))


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(head="normal"), "head must be one of"),
        (dict(head="quantile"), "needs quantiles"),
        (dict(head="quantile", quantiles=(0.9, 0.1)), "increasing levels"),
        (dict(quantiles=(0.5,)), "only for head='quantile'"),
        (dict(future_size=3), "set decoder=True"),
        (dict(cell="tcn"), "cell must be one of"),
        (dict(horizon=0), "horizon must be an integer >= 1"),
    ],
)
def test_bad_configuration_is_named(kwargs, pattern):
    args = {"input_size": F, "horizon": K, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        Forecaster(**args)


def test_bad_inputs_are_named():
    model = Forecaster(F, K, hidden_size=4)
    with pytest.raises(ValueError, match=r"x .*\(L, N, input_size\)"):
        model(np.zeros((L, N, F + 1), np.float32))
    with pytest.raises(ValueError, match="decoder=True"):
        model(np.zeros((L, N, F), np.float32), np.zeros((K, N, 1), np.float32))
    dec = Forecaster(F, K, hidden_size=4, decoder=True, future_size=2)
    with pytest.raises(ValueError, match=r"pass future of shape \(horizon=4, N=3, 2\)"):
        dec(np.zeros((L, N, F), np.float32))
    with pytest.raises(ValueError, match=r"future has shape \(3, 3, 2\)"):
        dec(np.zeros((L, N, F), np.float32), np.zeros((3, N, 2), np.float32))
    with pytest.raises(ValueError, match="windows of shape"):
        model.predict(np.zeros((L, F)))
    with pytest.raises(
        ValueError, match=r"\(N, horizon, future_size\) = \(3, 4, 2\), got"
    ):
        dec.predict(np.zeros((N, L, F)), np.zeros((K, N, 2)))
    with pytest.raises(ValueError, match=r"pass future of shape"):
        dec.predict(np.zeros((N, L, F)))
