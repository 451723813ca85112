"""What every recurrent module shares: PyTorch's parameter initialisation, the one-step
cells' machinery (:class:`CellBase`) and the sequence layers' machinery
(:class:`RecurrentBase`: constructor arguments, input checks, ``batch_first``, stacked
layers and directions, padding, dropout between layers). Each architecture (:mod:`.rnn`,
:mod:`.lstm`, :mod:`.gru`) supplies one step and one layer's forward and backward over
time.

What makes the sequence layers fast:

* the input projection :math:`x_t W_{xh}^\\top + b_h` of *all* time steps is one
  matrix product, written straight into the preallocated state buffer;
* the loop over time does only what must be sequential: one
  ``(N, H) @ (H, H)`` product and one elementwise update per step, in place;
* on the GPU that update is one fused kernel (:mod:`rnnlab.kernels`);
* in the backward pass the weight gradients and the input gradient of all steps
  are one matrix product each, after the loop.
"""

from __future__ import annotations

import numpy as np

from ... import backend
from ...backend import array_module
from ...checks import check_float_array, check_shape
from ...module import Module
from ..layers import dropout_mask
from ..sequences import Packing, reverse_time


def init_uniform(shape, hidden_size: int, dtype):
    """PyTorch's default for recurrent weights: U(-k, k), k = 1/sqrt(hidden_size)."""
    k = 1.0 / np.sqrt(hidden_size)
    return backend.rng().uniform(-k, k, shape).astype(dtype)


class CellBase(Module):
    """What the one-step cells share: parameters ``W_xh`` (G*H, D), ``W_hh`` (G*H, H),
    ``b_h`` (G*H,), input checks, and a stack of per-step caches.

    Calling a cell repeatedly saves one step per call on the tape; ``backward`` consumes
    them in reverse order, which is exactly backpropagation through time. Under
    :func:`rnnlab.no_grad` nothing is saved, so step-by-step inference runs in constant
    memory.
    """

    gates = 1
    tape_warning = (
        100_000  # one pending forward per time step is what BPTT by hand needs
    )

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32
    ):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        G, H = self.gates, hidden_size
        self.add_param("W_xh", init_uniform((G * H, input_size), H, dtype))
        self.add_param("W_hh", init_uniform((G * H, H), H, dtype))
        if bias:
            self.add_param("b_h", init_uniform((G * H,), H, dtype))

    def _check_step(self, x, states: dict):
        """Check ``x`` (N, input_size) and each named state (N, hidden_size).

        A state given as None becomes zeros."""
        W_hh = self.params["W_hh"]
        check_float_array(
            "x",
            x,
            ndim=2,
            like=W_hh,
            last=self.input_size,
            shape_desc="(N, input_size)",
        )
        shape = (x.shape[0], self.hidden_size)
        out = []
        for name, s in states.items():
            if s is None:
                s = backend.array_module(x).zeros(shape, x.dtype)
            check_shape(name, s, shape, like=W_hh)
            out.append(s)
        return out

    def _pop(self, **upstream):
        """The saved step of the latest forward not yet backpropagated.

        The upstream gradients' shapes are checked first (None is allowed: an unused
        output)."""
        shape = (self._batch_size(self.saved(pop=False)), self.hidden_size)
        for name, g in upstream.items():
            if g is not None:
                check_shape(name, g, shape, like=self.params["W_hh"])
        return self.saved()

    @staticmethod
    def _batch_size(cache) -> int:
        # every step cache starts with the step's input x (N, D)
        return cache[0].shape[0]

    def _add_grads(self, **grads) -> None:
        for k, g in grads.items():
            if g is not None:
                self.grads[k] += g

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class RecurrentBase(Module):
    """Shared machinery of the sequence layers: ``num_layers`` stacked layers, each with
    one or two directions, over padded or unpadded batches.

    A subclass sets ``gates`` (blocks of ``hidden_size`` rows in each weight matrix),
    ``state_names`` (``("h",)``, or ``("h", "c")`` for the LSTM) and implements, for one
    direction of one layer (parameters named ``{name}_{key}``, e.g.
    ``W_hh_l1_reverse``):

    * ``_layer_forward(key, x, state0, frozen) -> (out, final_state, cache)`` with ``x``
      of shape (T, N, in_l), ``out`` (T, N, H), states as tuples of (N, H) arrays, and
      ``frozen`` the padding mask of :class:`rnnlab.nn.sequences.Packing` or None;
    * ``_layer_backward(key, dout, d_final, x, cache, record, frozen) -> (dx,
      d_state0)``, adding the parameter gradients into ``self.grads`` and, when
      ``record`` is an array, writing :math:`\\partial L/\\partial h_t` of every step
      into it.

    The reverse direction runs the same code on the time-reversed sequence.

    Set ``record_state_grads = True`` on a layer to keep, after each ``backward``, the
    gradient of the loss w.r.t. every hidden state in ``state_grads``: a list with one
    (T, N, H) array per layer and direction (index ``layer * num_directions +
    direction``), time-major, holding :math:`\\partial L/\\partial h_t` (from the output
    at :math:`t` and from the steps after it). The gradient-flow chapter plots its
    norms.
    """

    gates = 1
    state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=np.float32,
    ):
        super().__init__()
        for name, v in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = (
            input_size,
            hidden_size,
            num_layers,
        )
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = dropout, bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.record_state_grads, self.state_grads = False, None
        # the padding of the last forward (rnnlab.nn.sequences.Packing), if any
        self.packing = None
        G, H = self.gates, hidden_size
        for l, key in self._keys():
            d_in = input_size if l == 0 else hidden_size * self.num_directions
            self.add_param(f"W_xh_{key}", init_uniform((G * H, d_in), H, dtype))
            self.add_param(f"W_hh_{key}", init_uniform((G * H, H), H, dtype))
            if bias:
                self.add_param(f"b_h_{key}", init_uniform((G * H,), H, dtype))

    def _keys(self):
        """``(layer, key)`` per layer and direction, in PyTorch's order."""
        return [
            (l, f"l{l}" + ("_reverse" if d else ""))
            for l in range(self.num_layers)
            for d in range(self.num_directions)
        ]

    @property
    def layer_keys(self) -> list[str]:
        """Parameter-name suffixes per layer and direction (``l0``, ``l0_reverse``)."""
        return [k for _, k in self._keys()]

    # --- states: one array (h) or a tuple (h, c) of shape (num_layers * num_directions,
    # N, H) ---
    def _states_in(self, hx, N, like, prefix=""):
        names = tuple(prefix + n + ("_n" if prefix else "0") for n in self.state_names)
        shape = (self.num_layers * self.num_directions, N, self.hidden_size)
        if hx is None:
            return (None,) * len(names)
        parts = (hx,) if len(names) == 1 else hx
        if not isinstance(parts, tuple) or len(parts) != len(names):
            raise TypeError(
                f"expected a tuple ({', '.join(names)}), got {type(hx).__name__}"
            )
        for name, a in zip(names, parts):
            if a is not None:
                check_shape(name, a, shape, like=like)
        return parts

    def _states_out(self, states):
        return states[0] if len(states) == 1 else tuple(states)

    def forward(self, x, hx=None, lengths=None):
        """Run the sequence through every layer (both directions if bidirectional).

        Parameters
        ----------
        x : array, shape (T, N, input_size), or (N, T, input_size) with ``batch_first``
        hx : initial state(s), or None for zeros
            shape (num_layers * num_directions, N, hidden_size) each
        lengths : int array, shape (N,), optional
            The length of each sequence in a padded batch (any order, each in [1, T]).
            Past its length a sequence's state is frozen and its outputs are zero; the
            reverse direction reads only the real part. Equal to PyTorch on a
            ``pack_padded_sequence``.

        Returns
        -------
        output : array, shape (T, N, num_directions * hidden_size) (or batch first)
            The last layer's states, forward direction first.
        final state(s) : shape (num_layers * num_directions, N, hidden_size) each
            Every layer's and direction's state after its last real step.
        """
        W = self.params["W_hh_l0"]
        order = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
        check_float_array(
            "x", x, ndim=3, like=W, last=self.input_size, shape_desc=order
        )
        xp = array_module(x)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, N, _ = x.shape
        H, D = self.hidden_size, self.num_directions
        packing = None if lengths is None else Packing(lengths, T, N, xp, x.dtype)
        frozen = None if packing is None else packing.frozen
        hx = self._states_in(hx, N, W)
        zeros = xp.zeros((N, H), dtype=x.dtype)
        finals = tuple(
            xp.empty((len(self._keys()), N, H), dtype=x.dtype) for _ in self.state_names
        )
        keys = [key for _, key in self._keys()]
        caches, inp, k = [], x, 0
        for l in range(self.num_layers):
            outs, dir_caches = [], []
            for d in range(D):
                key = keys[k]
                x_d = inp if d == 0 else reverse_time(inp, packing)
                out, last, cache = self._layer_forward(
                    key, x_d, tuple(zeros if s is None else s[k] for s in hx), frozen
                )
                for f, v in zip(finals, last):
                    f[k] = v
                outs.append(out if d == 0 else reverse_time(out, packing))
                dir_caches.append(cache)
                k += 1
            out = outs[0] if D == 1 else xp.concatenate(outs, axis=-1)
            if packing is not None:
                out = out * packing.active  # padded steps output zeros
            mask = None
            if self.training and self.dropout > 0 and l < self.num_layers - 1:
                mask = dropout_mask(out, self.dropout)
                out = out * mask
            caches.append((inp, dir_caches[0] if D == 1 else tuple(dir_caches), mask))
            inp = out
        # per layer (input, direction caches, dropout mask), and the padding of the
        # batch
        self.save_for_backward((caches, packing))
        self.packing = packing
        # A copy: the output may be a view of a buffer the backward pass reads, and a
        # caller changing it in place must not change the gradients.
        out = (inp.transpose(1, 0, 2) if self.batch_first else inp).copy()
        return out, self._states_out(finals)

    def check_backward(self, d_output=None, d_hx=None):
        """Check the arguments of :meth:`backward` against the pending forward without
        consuming it (a model calls this before its other layers consume theirs).

        Returns ``dout`` (T, N, num_directions * hidden_size), time-major, zeros for
        None, and the final-state gradients as a tuple of arrays or None.
        """
        caches, _ = self.saved(pop=False)
        T, N = caches[0][0].shape[:2]  # the first layer's input, time-major
        H, D = self.hidden_size, self.num_directions
        W = self.params["W_hh_l0"]
        if d_output is None:
            dout = array_module(W).zeros((T, N, D * H), dtype=W.dtype)
        else:
            check_shape(
                "d_output",
                d_output,
                (N, T, D * H) if self.batch_first else (T, N, D * H),
                like=W,
            )
            dout = d_output.transpose(1, 0, 2) if self.batch_first else d_output
        return dout, self._states_in(d_hx, N, W, prefix="d_")

    def backward(self, d_output, d_hx=None):
        """Backpropagation through time over the sequence of the last ``forward``.

        Parameters
        ----------
        d_output : array, same shape as ``output``, or None when the output was not used
            (a many-to-one model that reads only the final state)
        d_hx : gradient(s) w.r.t. the final state(s), or None
            shape (num_layers * num_directions, N, hidden_size) each; for the LSTM a
            tuple ``(d_h_n, d_c_n)`` in which either may be None

        Returns
        -------
        dx : array, same shape as ``x`` (zero on padding)
        gradient(s) w.r.t. the initial state(s), shape (num_layers * num_directions, N,
        hidden_size) each

        Parameter gradients are *added* to ``self.grads``.
        """
        dout, d_final = self.check_backward(d_output, d_hx)
        caches, packing = self.saved()
        T, N = caches[0][0].shape[:2]  # the first layer's input, time-major
        H, D = self.hidden_size, self.num_directions
        xp = array_module(dout)
        frozen = None if packing is None else packing.frozen
        keys = [key for _, key in self._keys()]
        K = len(keys)
        d_state0 = tuple(
            xp.empty((K, N, H), dtype=dout.dtype) for _ in self.state_names
        )
        records = [None] * K
        for l in range(self.num_layers - 1, -1, -1):
            inp, cache, _ = caches[l]
            if packing is not None:
                dout = dout * packing.active  # padded outputs are constant zeros
            dx = None
            for d in range(D):
                k = l * D + d
                key = keys[k]
                dout_d = dout if D == 1 else dout[..., d * H : (d + 1) * H]
                x_d = inp
                if d == 1:
                    dout_d, x_d = (
                        reverse_time(dout_d, packing),
                        reverse_time(inp, packing),
                    )
                record = (
                    xp.empty((T, N, H), dtype=dout.dtype)
                    if self.record_state_grads
                    else None
                )
                dx_d, d0 = self._layer_backward(
                    key,
                    dout_d,
                    tuple(None if s is None else s[k] for s in d_final),
                    x_d,
                    cache if D == 1 else cache[d],
                    record,
                    frozen,
                )
                if d == 1:
                    dx_d = reverse_time(dx_d, packing)
                    record = None if record is None else reverse_time(record, packing)
                records[k] = record
                for a, v in zip(d_state0, d0):
                    a[k] = v
                dx = dx_d if dx is None else dx + dx_d
            if l > 0 and caches[l - 1][2] is not None:
                # through the dropout mask on the layer below's output
                dx *= caches[l - 1][2]
            dout = dx
        self.state_grads = records if self.record_state_grads else None
        return (
            dout.transpose(1, 0, 2) if self.batch_first else dout
        ), self._states_out(d_state0)

    def _add_grads(self, key: str, dW_xh, dW_hh, db_h) -> None:
        g = self.grads
        g[f"W_xh_{key}"] += dW_xh
        g[f"W_hh_{key}"] += dW_hh
        if self.bias:
            g[f"b_h_{key}"] += db_h

    def _layer_forward(self, key, x, state0, frozen=None):
        raise NotImplementedError  # abstract

    def _layer_backward(self, key, dout, d_final, x, cache, record=None, frozen=None):
        raise NotImplementedError  # abstract

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s
