"""The forecasting chapter's data and baselines.

Three real series that install with their packages (no download): Microsoft's daily
share price (pmdarima), Seattle's daily weather (vega_datasets) and Australian monthly
wine sales (pmdarima). Baselines come from statsmodels and pmdarima; the naive ones are
one line each. Every forecaster here works the same way: given the series and the
forecast origins, it returns forecasts of shape (origins, horizon) made from the steps
before each origin only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..data.forecasting import check_series
from ..metrics import mase, smape


def _need(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"the forecasting chapter needs {package}: pip install {package} "
            f"(or pip install 'rnnlab[book]')"
        ) from e


@dataclass
class Series:
    """A univariate target with optional extra input features.

    ``dates`` (T,) datetime64; ``y`` (T,) float64; ``features`` (T, F) float64, the
    other measured variables (none: shape (T, 0)); ``m`` the season length in steps.
    """

    name: str
    dates: np.ndarray
    y: np.ndarray
    features: np.ndarray
    feature_names: tuple
    unit: str
    m: int
    source: str

    def __len__(self):
        return len(self.y)


def load_series(name: str) -> Series:
    """One of the chapter's series: ``'msft'``, ``'seattle'`` or ``'wine'``.

    * ``'msft'``: Microsoft's daily closing price in US dollars, split-adjusted,
      1986-03-13 to 2017-11-10 (7,983 trading days; pmdarima's copy of the Kaggle
      "Huge Stock Market Dataset", CC0).
    * ``'seattle'``: Seattle's daily maximum temperature in °C, 2012-2015 (1,461 days),
      with precipitation (mm), minimum temperature (°C) and wind (m/s) as features
      (NOAA data, public domain, shipped by vega_datasets).
    * ``'wine'``: Australian wine sales by winemakers, bottles of at most 1 litre per
      month, Jan 1980 to Aug 1994 (176 months; from R's ``forecast`` package, shipped
      by pmdarima).
    """
    if name == "msft":
        df = _need("pmdarima.datasets", "pmdarima").load_msft()
        dates = np.array(df["Date"], dtype="datetime64[D]")
        y, feats, names = df["Close"].to_numpy(float), np.zeros((len(df), 0)), ()
        unit, m, source = "US$", 1, "pmdarima.datasets.load_msft (Kaggle, CC0)"
    elif name == "seattle":
        vega = _need("vega_datasets", "vega_datasets")
        df = vega.local_data.seattle_weather()
        dates = np.array(df["date"], dtype="datetime64[D]")
        names = ("precipitation", "temp_min", "wind")
        y = df["temp_max"].to_numpy(float)
        feats = df[list(names)].to_numpy(float)
        unit, m = "°C", 365
        source = "vega_datasets.local_data.seattle_weather (NOAA, public domain)"
    elif name == "wine":
        s = _need("pmdarima.datasets", "pmdarima").load_wineind(as_series=True)
        months = [np.datetime64(_month(label), "M") for label in s.index]
        dates, y = np.array(months), s.to_numpy(float)
        feats, names = np.zeros((len(y), 0)), ()
        unit, m = "bottles", 12
        source = "pmdarima.datasets.load_wineind (R package forecast)"
    else:
        raise ValueError(f"name must be 'msft', 'seattle' or 'wine', got {name!r}")
    y = check_series(y, name, dates)
    return Series(name, dates, y, check_series(feats, name), names, unit, m, source)


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _month(label: str) -> str:
    """'Jan 1980' -> '1980-01'."""
    mon, year = label.split()
    return f"{year}-{_MONTHS.index(mon) + 1:02d}"


def calendar_features(dates, period: str = "year") -> np.ndarray:
    """Sine and cosine of the time of year, shape (T, 2): known for any future date."""
    d = np.asarray(dates)
    if period != "year":
        raise ValueError(f"period must be 'year', got {period!r}")
    if np.issubdtype(d.dtype, np.datetime64) and np.datetime_data(d.dtype)[0] == "M":
        phase = (d.astype(int) % 12) / 12
    else:
        day = d.astype("datetime64[D]")
        start = day.astype("datetime64[Y]").astype("datetime64[D]")
        phase = (day - start).astype(int) / 365.25
    return np.stack([np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)], axis=1)


# --- windows at forecast origins ----------------------------------------------
def windows_at(x, origins, input_len: int) -> np.ndarray:
    """The ``input_len`` steps before each origin: shape (origins, input_len, F)."""
    a = np.asarray(x)
    a = a[:, None] if a.ndim == 1 else a
    o = np.asarray(origins)
    if o.min() < input_len:
        raise ValueError(
            f"origin {int(o.min())} has fewer than input_len = {input_len} steps "
            "before it"
        )
    return a[o[:, None] - input_len + np.arange(input_len)]


def targets_at(y, origins, horizon: int) -> np.ndarray:
    """The ``horizon`` steps from each origin: shape (origins, horizon)."""
    o = np.asarray(origins)
    if o.max() + horizon > len(y):
        raise ValueError(
            f"origin {int(o.max())} + horizon {horizon} runs past the series "
            f"({len(y)} steps)"
        )
    return np.asarray(y)[o[:, None] + np.arange(horizon)]


# --- simple baselines ---------------------------------------------------------
def _origins(origins, need: int, method: str) -> np.ndarray:
    o = np.asarray(origins)
    if o.ndim != 1 or not np.issubdtype(o.dtype, np.integer) or o.min() < need:
        raise ValueError(
            f"{method} needs integer origins with at least {need} steps before each, "
            f"got {o.tolist()}"
        )
    return o


def naive(y, origins, horizon: int) -> np.ndarray:
    """The last value seen, repeated: the random walk's forecast."""
    last = np.asarray(y)[_origins(origins, 1, "the naive forecast") - 1]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive(y, origins, horizon: int, m: int) -> np.ndarray:
    """The value one season earlier: step ``h`` repeats step ``o + h - m k`` < ``o``."""
    h = np.arange(horizon)
    o = _origins(origins, m, f"the seasonal naive forecast (m = {m})")
    return np.asarray(y)[o[:, None] + h - m * (h // m + 1)]


def drift(y, origins, horizon: int) -> np.ndarray:
    """The last value plus the average change so far, per step ahead."""
    y, o = np.asarray(y), _origins(origins, 2, "drift")
    slope = (y[o - 1] - y[0]) / (o - 1)
    return y[o - 1][:, None] + slope[:, None] * np.arange(1, horizon + 1)


# --- statistical models -------------------------------------------------------
def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def arima(y, origins, horizon: int, m: int = 1, exog=None, level: float = 0.8):
    """ARIMA chosen by pmdarima's ``auto_arima`` before the first origin.

    The order (seasonal with period ``m`` > 1) and the parameters are estimated on the
    steps before the first origin, as for every model of the chapter; at each origin
    the fitted model (statsmodels' SARIMAX) filters the data up to it and forecasts.

    Returns
    -------
    dict with ``mean``, ``lower``, ``upper`` (origins, horizon): the forecast and its
    central ``level`` prediction interval; ``order`` and ``seasonal_order``.
    """
    pm = _need("pmdarima", "pmdarima")
    y, o = np.asarray(y, float), np.asarray(origins)
    ex = None if exog is None else np.asarray(exog, float)
    first = int(o[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pm.auto_arima(
            y[:first],
            X=None if ex is None else ex[:first],
            seasonal=m > 1,
            m=m if m > 1 else 1,
            suppress_warnings=True,
            error_action="ignore",
        )
        res = model.arima_res_
        mean, sd = np.empty((len(o), horizon)), np.empty((len(o), horizon))
        for i, origin in enumerate(o):
            r = res.apply(y[:origin], exog=None if ex is None else ex[:origin])
            f = r.get_forecast(
                horizon, exog=None if ex is None else ex[origin : origin + horizon]
            )
            mean[i], sd[i] = f.predicted_mean, np.sqrt(f.var_pred_mean)
    z = _z(level)
    return dict(
        mean=mean,
        lower=mean - z * sd,
        upper=mean + z * sd,
        order=model.order,
        seasonal_order=model.seasonal_order,
    )


def ets(y, origins, horizon: int, m: int = 1, level: float = 0.8, seed: int = 0):
    """Exponential smoothing (statsmodels' ``ETSModel``), chosen by AICc.

    Every combination of additive or multiplicative error, no, additive or damped
    trend and (for ``m`` > 1) additive or multiplicative season is fitted to the steps
    before the first origin; the one with the lowest AICc forecasts from every origin
    with those parameters, its state updated to each origin.

    Returns the dict of :func:`arima`, with ``spec`` (the model chosen) instead of the
    orders. Intervals of multiplicative models are simulated, from ``seed``.
    """
    _need("statsmodels", "statsmodels")
    pd = _need("pandas", "pandas")
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y, o = np.asarray(y, float), np.asarray(origins)
    series = pd.Series(y, index=pd.RangeIndex(len(y)))
    first = int(o[0])
    positive = (y > 0).all()  # multiplicative models need a positive series
    specs = [
        dict(error=e, trend=t, damped_trend=d, seasonal=s)
        for e in (("add", "mul") if positive else ("add",))
        for t, d in ((None, False), ("add", False), ("add", True))
        for s in ((None,) if m <= 1 else ("add", "mul") if positive else ("add",))
    ]
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in specs:
            fit = ETSModel(
                series[:first], seasonal_periods=m if spec["seasonal"] else None, **spec
            ).fit(disp=False)
            if best is None or fit.aicc < best[0]:
                best = (fit.aicc, spec, fit.params)
        _, spec, params = best
        mean = np.empty((len(o), horizon))
        lower, upper = np.empty_like(mean), np.empty_like(mean)
        for i, origin in enumerate(o):
            model = ETSModel(
                series[:origin],
                seasonal_periods=m if spec["seasonal"] else None,
                **spec,
            )
            # multiplicative models' intervals are simulated: seed them, per origin
            p = model.smooth(params).get_prediction(
                origin, origin + horizon - 1, rng=np.random.default_rng([seed, i])
            )
            frame = p.summary_frame(alpha=1 - level)
            mean[i] = frame["mean"]
            lower[i], upper[i] = frame["pi_lower"], frame["pi_upper"]
    return dict(mean=mean, lower=lower, upper=upper, spec=spec)


# --- training ---------------------------------------------------------------
def _rows(x, index):
    """Rows ``index`` of an array or of each array of a tuple, as float32."""
    if isinstance(x, tuple):
        return tuple(a[index].astype(np.float32) for a in x)
    return x[index].astype(np.float32)


def fit_forecaster(
    model,
    x,
    y,
    *,
    val: float = 0.2,
    epochs: int = 40,
    patience: int = 5,
    lr: float = 3e-3,
    batch_size: int = 32,
    seed: int = 0,
):
    """Train a :class:`rnnlab.models.Forecaster` with early stopping, in time order.

    The last ``val`` share of the windows (in time order) is the validation set; the
    ``horizon`` windows before it are dropped, so that no training target lies in the
    validation period. Training stops once the validation loss has not improved for
    ``patience`` epochs, and keeps the best epoch's weights.

    Parameters
    ----------
    x : array (n, L, F), batch-major windows in time order, or a tuple of such arrays
    y : array (n, horizon)

    Returns the :class:`rnnlab.History`.
    """
    from .. import backend
    from ..callbacks import EarlyStopping
    from ..data import ArrayBatches
    from ..train import fit

    n = len(y)
    cut = int(round(n * (1 - val)))
    if not 0 < val < 1 or cut - model.horizon < 1 or cut >= n:
        raise ValueError(
            f"{n} windows with val={val!r} and horizon {model.horizon} leave "
            f"{max(cut - model.horizon, 0)} for training and {max(n - cut, 0)} for "
            "validation; both need at least one (val must lie in (0, 1))"
        )
    train = np.arange(cut - model.horizon)
    held = np.arange(cut, n)
    backend.seed(seed)
    return fit(
        model,
        ArrayBatches(_rows(x, train), _rows(y, train), batch_size, seed=seed),
        val=ArrayBatches(_rows(x, held), _rows(y, held), 1024, shuffle=False),
        loss=model.loss,
        epochs=epochs,
        lr=lr,
        callbacks=[EarlyStopping(patience=patience)],
        progress=False,
    )


# --- scores -------------------------------------------------------------------
def scores(forecasts: dict, truth, y_train, m: int = 1) -> dict:
    """MASE, sMAPE and MAE of each method's forecasts (origins, horizon).

    Returns ``{method: {"MASE": ..., "sMAPE": ..., "MAE": ...}}``, the means over
    every origin and horizon step; MASE scaled by ``y_train``'s seasonal naive error.
    """
    out = {}
    for name, f in forecasts.items():
        f = f["mean"] if isinstance(f, dict) else f
        out[name] = {
            "MASE": float(mase(truth, f, y_train, m)),
            "sMAPE": float(smape(truth, f)),
            "MAE": float(np.abs(np.asarray(truth) - f).mean()),
        }
    return out


def mae_ratio_interval(
    forecast,
    reference,
    truth,
    block: int,
    n_resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Moving-block bootstrap interval of MAE(forecast) / MAE(reference) over origins.

    Forecasts from neighbouring origins overlap and their errors are correlated, so
    origins are resampled in runs of ``block`` consecutive ones (at least the number
    of origins a horizon spans). An interval that contains 1 means the test period
    cannot tell the two apart.

    Parameters
    ----------
    forecast, reference, truth : arrays, shape (origins, horizon)
    """
    a = np.abs(np.asarray(forecast) - truth).mean(axis=1)
    b = np.abs(np.asarray(reference) - truth).mean(axis=1)
    n = len(a)
    if not 1 <= block <= n:
        raise ValueError(f"block must be between 1 and the {n} origins, got {block}")
    g = np.random.default_rng(seed)
    starts = g.integers(0, n - block + 1, (n_resamples, -(-n // block)))
    idx = (starts[..., None] + np.arange(block)).reshape(n_resamples, -1)[:, :n]
    ratio = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(ratio, [alpha, 1 - alpha])
    return float(low), float(high)


def markdown_table(rows: dict, columns, fmt="{:.3f}", first: str = "") -> str:
    """``{row name: {column: value}}`` as a Markdown table.

    Numbers are formatted with ``fmt`` (one format, or a dict of formats by column,
    ``"{:.3f}"`` for the others) and the smallest of each column is bold; text is
    written as it is.
    """
    formats = fmt if isinstance(fmt, dict) else {}
    default = "{:.3f}" if isinstance(fmt, dict) else fmt
    best = {
        c: min(
            (r[c] for r in rows.values() if not isinstance(r.get(c, ""), str)),
            default=None,
        )
        for c in columns
    }
    text = [any(isinstance(r.get(c), str) for r in rows.values()) for c in columns]
    align = "".join("---|" if t else "---:|" for t in text)
    lines = [f"| {first} | " + " | ".join(columns) + " |\n|---|" + align]
    for name, r in rows.items():
        cells = []
        for c in columns:
            v = r.get(c, "")
            if isinstance(v, str):
                cells.append(v)
                continue
            text = formats.get(c, default).format(v)
            cells.append(f"**{text}**" if v == best[c] else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
