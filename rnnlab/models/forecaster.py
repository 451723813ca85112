"""A recurrent forecaster: a window of the past in, the next ``horizon`` steps out.

A recurrent encoder reads the input window; the forecast comes either from its last
state through one linear layer (the *direct*, multi-output strategy) or from a
recurrent decoder run over the horizon from that state (*seq2seq*), fed the known
future inputs such as calendar features. A one-step model forecasts further by
feeding its forecasts back (*recursive*: :meth:`Forecaster.forecast`). Built in the
chapter "Forecasting".
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import array_module
from ..checks import check_float_array
from ..losses import gaussian_nll, mse, pinball
from ..module import Module, no_grad
from ..nn.functional import sigmoid
from ..nn.layers import Dropout, Linear
from .charlm import RECURRENT

HEADS = ("point", "gaussian", "quantile")


def _softplus(z):
    xp = array_module(z)
    return xp.logaddexp(0, z)


class Forecaster(Module):
    r"""Forecast the next ``horizon`` values of a target from a window of inputs.

    .. math::

        h_L = \operatorname{RNN}(x_1, \dots, x_L), \qquad
        \hat y_{L+k} = W h_L + b \quad (k = 1..K,\ \text{direct})

    With ``decoder=True`` a second recurrent layer starts from the encoder's state and
    runs over the horizon, :math:`s_k = \operatorname{RNN}(s_{k-1}, u_{L+k})`,
    :math:`\hat y_{L+k} = W s_k + b`, where :math:`u` are the known future inputs
    (``future_size`` features: the calendar, a holiday flag) or, without them, a
    one-hot code of the step :math:`k`.

    Heads: ``'point'`` gives the forecast itself (train with MSE); ``'gaussian'`` a
    mean and a variance :math:`\sigma^2 = \operatorname{softplus}(a) + 10^{-6}` per step
    (train with :func:`rnnlab.losses.gaussian_nll`); ``'quantile'`` one forecast per
    level of ``quantiles`` (train with :func:`rnnlab.losses.pinball`). :meth:`loss` is
    the matching loss, so ``fit(model, batches, loss=model.loss)`` trains any head.

    Parameters
    ----------
    input_size : int, features per input step (the target's own history included)
    horizon : int, steps forecast at once
    hidden_size, num_layers : int
    cell : ``'rnn'``, ``'irnn'``, ``'lstm'`` or ``'gru'`` (default)
    head : ``'point'`` (default), ``'gaussian'`` or ``'quantile'``
    quantiles : levels in (0, 1) for the quantile head, e.g. ``(0.1, 0.5, 0.9)``
    decoder : bool, forecast with a recurrent decoder over the horizon
    future_size : int, known future features per step fed to the decoder (0: step codes)
    dropout : float, on the encoder's last state (direct) and between layers
    dtype : parameter dtype

    ``forward(x, future=None) -> pred`` with x (L, N, input_size) time-major and future
    (horizon, N, future_size); ``pred`` is (N, horizon) for the point head, (N, horizon,
    2) [mean, variance] for the Gaussian one and (N, horizon, Q) for quantiles.
    ``backward(dpred)`` adds every parameter's gradient and returns the gradient of
    ``x`` (and of ``future``).
    """

    def __init__(
        self,
        input_size: int,
        horizon: int = 1,
        hidden_size: int = 32,
        num_layers: int = 1,
        cell: str = "gru",
        head: str = "point",
        quantiles=None,
        decoder: bool = False,
        future_size: int = 0,
        dropout: float = 0.0,
        dtype=np.float32,
    ):
        super().__init__()
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        for name, v, low in (
            ("input_size", input_size, 1),
            ("horizon", horizon, 1),
            ("future_size", future_size, 0),
        ):
            if not (isinstance(v, (int, np.integer)) and v >= low):
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if head == "quantile":
            q = [float(v) for v in np.atleast_1d(quantiles if quantiles else [])]
            if not q or not all(0 < v < 1 for v in q) or q != sorted(set(q)):
                raise ValueError(
                    "the quantile head needs quantiles: increasing levels in (0, 1), "
                    f"e.g. (0.1, 0.5, 0.9); got {quantiles!r}"
                )
            quantiles = q
        elif quantiles is not None:
            raise ValueError(f"quantiles is only for head='quantile', not {head!r}")
        if future_size and not decoder:
            raise ValueError(
                "future_size feeds known future inputs to the decoder: "
                "set decoder=True too"
            )
        self.config = dict(
            input_size=input_size,
            horizon=horizon,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            head=head,
            quantiles=quantiles,
            decoder=decoder,
            future_size=future_size,
            dropout=dropout,
        )
        self.outputs = {"point": 1, "gaussian": 2}.get(head) or len(quantiles)
        rnn = RECURRENT[cell]
        kw = dict(num_layers=num_layers, dropout=dropout, dtype=dtype)
        self.encoder = rnn(input_size, hidden_size, **kw)
        if decoder:
            self.decoder = rnn(future_size or horizon, hidden_size, **kw)
            self.head = Linear(hidden_size, self.outputs, dtype=dtype)
        else:
            self.drop = Dropout(dropout)
            self.head = Linear(hidden_size, horizon * self.outputs, dtype=dtype)

    @property
    def horizon(self) -> int:
        return self.config["horizon"]

    # --- forward and backward --------------------------------------------
    def _decoder_inputs(self, future, N, like):
        K, F = self.horizon, self.config["future_size"]
        if F == 0:
            if future is not None:
                raise ValueError(
                    "future was given but this model has future_size=0; build it "
                    "with future_size=<features per future step>"
                )
            xp = array_module(like)
            return xp.broadcast_to(xp.eye(K, dtype=like.dtype)[:, None], (K, N, K))
        if future is None:
            raise ValueError(
                f"this model reads {F} known future features per step: pass future "
                f"of shape (horizon={K}, N={N}, {F})"
            )
        check_float_array(
            "future", future, ndim=3, like=like, last=F, shape_desc="(horizon, N, F)"
        )
        if tuple(future.shape[:2]) != (K, N):
            raise ValueError(
                f"future has shape {tuple(future.shape)}, expected ({K}, {N}, {F})"
            )
        return future

    def forward(self, x, future=None):
        """x : array, shape (L, N, input_size) -> pred (see the class docstring)."""
        W = self.head.params["W"]
        check_float_array(
            "x",
            x,
            ndim=3,
            like=W,
            last=self.config["input_size"],
            shape_desc="(L, N, input_size) time-major",
        )
        N, K, k = x.shape[1], self.horizon, self.outputs
        out, state = self.encoder(x)
        if self.config["decoder"]:
            dec, _ = self.decoder(self._decoder_inputs(future, N, W), state)
            z = self.head(dec).transpose(1, 0, 2)  # (N, K, k)
        else:
            if future is not None:
                raise ValueError(
                    "future is read by the decoder: build with decoder=True"
                )
            z = self.head(self.drop(out[-1])).reshape(N, K, k)
        self.save_for_backward((x.shape[0], z))
        return self._head_output(z)

    def _head_output(self, z):
        head = self.config["head"]
        if head == "point":
            return z[..., 0]
        if head == "quantile":
            return z
        pred = z.copy()
        pred[..., 1] = _softplus(z[..., 1]) + z.dtype.type(1e-6)
        return pred

    def backward(self, dpred):
        """dpred : array, the shape of the prediction.

        Adds every parameter's gradient and returns dL/dx, shape (L, N, input_size),
        or ``(dx, dfuture)`` for a decoder that reads known future inputs.
        """
        L, z = self.saved()
        head = self.config["head"]
        if head == "point":
            dz = dpred[..., None]
        elif head == "quantile":
            dz = dpred
        else:
            dz = dpred.copy()
            dz[..., 1] *= sigmoid(z[..., 1])  # d softplus(a) / da
        N, K, k = z.shape
        if self.config["decoder"]:
            d_dec = self.head.backward(dz.transpose(1, 0, 2))
            d_future, d_state = self.decoder.backward(d_dec)
            dx, _ = self.encoder.backward(None, d_state)
            return (dx, d_future) if self.config["future_size"] else dx
        d_last = self.drop.backward(self.head.backward(dz.reshape(N, K * k)))
        xp = array_module(d_last)
        d_out = xp.zeros((L,) + d_last.shape, dtype=d_last.dtype)
        d_out[-1] = d_last
        dx, _ = self.encoder.backward(d_out)
        return dx

    # --- training and forecasting ----------------------------------------
    def loss(self, pred, target):
        """The head's loss, ``(value, dpred)``; target (N, horizon).

        MSE, the Gaussian negative log-likelihood or the mean pinball loss.
        """
        head = self.config["head"]
        if head == "point":
            return mse(pred, target)
        if head == "gaussian":
            return gaussian_nll(pred, target)
        return pinball(pred, target, self.config["quantiles"])

    def predict(self, x, future=None, batch_size: int = 1024) -> np.ndarray:
        """Forecasts for windows ``x`` (N, L, input_size), **batch-major**, float64.

        In eval mode without gradients; ``future`` (N, horizon, future_size). Returns
        the prediction of :meth:`forward` (point, [mean, variance] or quantiles; the
        quantiles sorted, so they never cross) as a NumPy array.
        """
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(
                f"x must be windows of shape (N, L, input_size), got {x.shape}"
            )
        if future is not None:
            future = np.asarray(future)
            expected = (len(x), self.horizon, self.config["future_size"])
            if future.shape != expected:
                raise ValueError(
                    f"future must be the known future inputs of each window, shape "
                    f"(N, horizon, future_size) = {expected}, got {future.shape}"
                )
        elif self.config["future_size"]:
            raise ValueError(
                f"this model reads known future inputs: pass future of shape "
                f"(N, horizon, future_size) = "
                f"{(len(x), self.horizon, self.config['future_size'])}"
            )
        out = []
        with self.evaluating(), no_grad():
            for i in range(0, len(x), batch_size):
                xb = backend.to_device(
                    x[i : i + batch_size].transpose(1, 0, 2).astype(self.dtype),
                    self.device,
                )
                fb = None
                if future is not None:
                    fb = future[i : i + batch_size].transpose(1, 0, 2)
                    fb = backend.to_device(fb.astype(self.dtype), self.device)
                out.append(backend.to_numpy(self(xb, fb)).astype(np.float64))
        pred = np.concatenate(out)
        return np.sort(pred, axis=-1) if self.config["head"] == "quantile" else pred

    def forecast(self, x, steps: int, future=None, target_index: int = 0):
        """Recursive forecast of ``steps`` steps from a one-step model (horizon 1).

        Each step's forecast (the mean, or the quantile nearest the median) becomes
        the input feature ``target_index`` of the next step; the other input features
        of the forecast steps come from ``future``, shape (N, steps, input_size - 1)
        (required when input_size > 1).

        Parameters
        ----------
        x : array, shape (N, L, input_size), batch-major

        Returns
        -------
        array, shape (N, steps), float64
        """
        F = self.config["input_size"]
        if self.horizon != 1 or self.config["decoder"]:
            raise ValueError(
                "forecast() feeds back one step at a time: it needs a direct model "
                f"with horizon=1, not horizon={self.horizon}"
            )
        if not (isinstance(steps, (int, np.integer)) and steps >= 1):
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        window = np.array(x, dtype=np.float64)
        N = window.shape[0]
        if F > 1:
            if future is None or np.shape(future) != (N, steps, F - 1):
                raise ValueError(
                    f"with {F} input features, pass the other {F - 1} for the "
                    f"forecast steps: future of shape ({N}, {steps}, {F - 1}), got "
                    f"{None if future is None else np.shape(future)}"
                )
        if not (isinstance(target_index, (int, np.integer)) and -F <= target_index < F):
            raise ValueError(
                f"target_index must be an input column in [-{F}, {F}), got "
                f"{target_index!r}"
            )
        target_index %= F
        out = np.empty((N, steps))
        others = [j for j in range(F) if j != target_index]
        if self.config["head"] == "quantile":
            middle = int(np.argmin(np.abs(np.asarray(self.config["quantiles"]) - 0.5)))
        for s in range(steps):
            pred = self.predict(window)[:, 0]  # (N,), or (N, 2) or (N, Q)
            if pred.ndim == 2:  # the mean, or the quantile nearest the median
                pred = pred[:, 0 if self.config["head"] == "gaussian" else middle]
            out[:, s] = pred
            step = np.empty((N, 1, F))
            step[:, 0, target_index] = pred
            if F > 1:
                step[:, 0, others] = future[:, s]
            window = np.concatenate([window[:, 1:], step], axis=1)
        return out

    def extra_repr(self):
        c = self.config
        return (
            f"horizon={c['horizon']}, head={c['head']!r}, "
            f"{'decoder' if c['decoder'] else 'direct'}"
        )
