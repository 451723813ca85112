"""Fused GPU kernels: the elementwise maths of one recurrent step as one CUDA kernel.

Unfused, an LSTM step's gate maths is about a dozen array operations; on a GPU
each is a kernel launch (several microseconds) and a full pass over memory, while
the arithmetic itself is nearly free. Each kernel here does a step's whole
elementwise part in one launch that reads every input once and writes every
output once (the chapter "Making RNNs fast" counts the bytes).

The kernels compute exactly the maths of the NumPy code in
:mod:`rnnlab.nn.recurrent.lstm`, :mod:`rnnlab.nn.recurrent.gru` and
:mod:`rnnlab.nn.recurrent.rnn`, which call them through :func:`rnnlab.backend.launch`
when their arrays are CuPy arrays (and :func:`rnnlab.backend.fused_kernels` is on). This
module holds only their source, as :class:`Kernel` specs in ``cupy.ElementwiseKernel``
form, and never imports CuPy; the tests also compile every body as C++ on the CPU and
compare it with the NumPy path, so the maths is checked even where no GPU is at hand.

Conventions in the bodies: one thread per element ``i`` of an (N, H) array, so
``n = i / H`` and ``j = i % H``; gate blocks of an (N, G*H) array are read through
``raw`` parameters at ``n*G*H + k*H + j``. CuPy's raw indexing follows strides, so
views such as ``gates[t]`` need not be contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kernel:
    """An elementwise kernel in ``cupy.ElementwiseKernel`` form.

    ``in_params`` and ``out_params`` are comma-separated ``[raw] TYPE name`` lists,
    where ``T`` is the floating type of the arrays; non-raw parameters are (N, H)
    arrays seen one element at a time, raw ones are indexed by hand.
    """

    name: str
    in_params: str
    out_params: str
    body: str


#: Device functions shared by the bodies. ``sigmoid`` is the same formula as
#: :func:`rnnlab.nn.functional.sigmoid`, so both paths round alike.
PREAMBLE = r"""
template <typename T> __device__ T sigmoid(T x) {
    return (T)0.5 * ((T)1 + tanh((T)0.5 * x));
}
"""

_NJ = "const ptrdiff_t n = i / H, j = i % H;\n"


def _rnn_forward(nonlinearity: str) -> Kernel:
    # h_t = phi(a + ah), in place in a (the pre-activation buffer becomes the state)
    phi = {"tanh": "tanh(a + ah)", "relu": "max(a + ah, (T)0)"}[nonlinearity]
    return Kernel(f"rnnlab_rnn_{nonlinearity}_forward", "T ah", "T a", f"a = {phi};")


def _lstm_forward(add_zh: bool) -> Kernel:
    # z holds [z_i, z_f, z_g, z_o] (N, 4H) and becomes the gates [i, f, g, o]; zh
    # (optional) is added first.
    pre = "z[r + {k}] + zh[r + {k}]" if add_zh else "z[r + {k}]"
    body = (
        _NJ
        + "const ptrdiff_t r = n * 4 * H + j;\n"
        + "\n".join(
            f"const T {name} = {act}({pre.format(k=k)});"
            for name, act, k in (
                ("gi", "sigmoid", "0"),
                ("gf", "sigmoid", "H"),
                ("gg", "tanh", "2 * H"),
                ("go", "sigmoid", "3 * H"),
            )
        )
        + r"""
z[r] = gi; z[r + H] = gf; z[r + 2 * H] = gg; z[r + 3 * H] = go;
c = gf * c_prev + gi * gg;
tanh_c = tanh(c);
h = go * tanh_c;
"""
    )
    ins = "raw T zh, T c_prev, int32 H" if add_zh else "T c_prev, int32 H"
    return Kernel(
        "rnnlab_lstm_forward" + ("_zh" if add_zh else ""),
        ins,
        "raw T z, T c, T tanh_c, T h",
        body,
    )


def _lstm_backward(add_dout: bool) -> Kernel:
    # with add_dout, dh (in/out) first takes the gradient of the step's output, as the
    # layer's loop needs
    body = (
        _NJ
        + ("dh = dh + dout;\n" if add_dout else "")
        + r"""
const ptrdiff_t r = n * 4 * H + j;
const T gi = gates[r], gf = gates[r + H], gg = gates[r + 2 * H], go = gates[r + 3 * H];
const T dct = dc + dh * go * ((T)1 - tanh_c * tanh_c);
dz[r] = dct * gg * gi * ((T)1 - gi);
dz[r + H] = dct * c_prev * gf * ((T)1 - gf);
dz[r + 2 * H] = dct * gi * ((T)1 - gg * gg);
dz[r + 3 * H] = dh * tanh_c * go * ((T)1 - go);
dc = dct * gf;
"""
    )
    if add_dout:
        return Kernel(
            "rnnlab_lstm_backward_dout",
            "T dout, raw T gates, T c_prev, T tanh_c, int32 H",
            "T dh, T dc, raw T dz",
            body,
        )
    return Kernel(
        "rnnlab_lstm_backward",
        "T dh, raw T gates, T c_prev, T tanh_c, int32 H",
        "T dc, raw T dz",
        body,
    )


def _gru_forward(with_b_hn: bool) -> Kernel:
    # zx holds [z_r, z_u, z_n] (N, 3H) of the input side and becomes the gates [r, u,
    # n]; hn = W_hn h_{t-1} (+ b_hn) is written out for the backward pass.
    body = (
        _NJ
        + "const ptrdiff_t r = n * 3 * H + j;\n"
        + ("hn = zh[r + 2 * H] + b_hn[j];" if with_b_hn else "hn = zh[r + 2 * H];")
        + r"""
const T gr = sigmoid(zx[r] + zh[r]);
const T gu = sigmoid(zx[r + H] + zh[r + H]);
const T gn = tanh(zx[r + 2 * H] + gr * hn);
zx[r] = gr; zx[r + H] = gu; zx[r + 2 * H] = gn;
h = (h_prev - gn) * gu + gn;
"""
    )
    ins = (
        "raw T zh, raw T b_hn, T h_prev, int32 H"
        if with_b_hn
        else "raw T zh, T h_prev, int32 H"
    )
    return Kernel(
        "rnnlab_gru_forward" + ("_bias" if with_b_hn else ""),
        ins,
        "raw T zx, T h, T hn",
        body,
    )


def _gru_backward(add_dout: bool) -> Kernel:
    # dh (in/out): the gradient w.r.t. h_t in, the part of dL/dh_{t-1} that bypasses
    # W_hh out
    body = (
        _NJ
        + ("dh = dh + dout;\n" if add_dout else "")
        + r"""
const ptrdiff_t r = n * 3 * H + j;
const T gr = gates[r], gu = gates[r + H], gn = gates[r + 2 * H];
const T dn = dh * ((T)1 - gu) * ((T)1 - gn * gn);
const T dr = dn * hn * gr * ((T)1 - gr);
const T du = dh * (h_prev - gn) * gu * ((T)1 - gu);
dzx[r] = dr; dzx[r + H] = du; dzx[r + 2 * H] = dn;
dzh[r] = dr; dzh[r + H] = du; dzh[r + 2 * H] = dn * gr;
dh = dh * gu;
"""
    )
    ins = ("T dout, " if add_dout else "") + "raw T gates, T hn, T h_prev, int32 H"
    return Kernel(
        "rnnlab_gru_backward" + ("_dout" if add_dout else ""),
        ins,
        "T dh, raw T dzx, raw T dzh",
        body,
    )


#: dh += dout; delta *= dh (delta holds phi'(a_t) and becomes dL/da_t).
RNN_BACKWARD_DOUT = Kernel(
    "rnnlab_rnn_backward_dout",
    "T dout",
    "T dh, T delta",
    "dh = dh + dout;\ndelta = delta * dh;",
)

RNN_FORWARD = {name: _rnn_forward(name) for name in ("tanh", "relu")}
LSTM_FORWARD = _lstm_forward(add_zh=False)
LSTM_FORWARD_ZH = _lstm_forward(add_zh=True)
LSTM_BACKWARD = _lstm_backward(add_dout=False)
LSTM_BACKWARD_DOUT = _lstm_backward(add_dout=True)
GRU_FORWARD = _gru_forward(with_b_hn=False)
GRU_FORWARD_BIAS = _gru_forward(with_b_hn=True)
GRU_BACKWARD = _gru_backward(add_dout=False)
GRU_BACKWARD_DOUT = _gru_backward(add_dout=True)

#: Every kernel, by name (what the tests compile and check).
ALL = {
    k.name: k
    for k in (
        *RNN_FORWARD.values(),
        RNN_BACKWARD_DOUT,
        LSTM_FORWARD,
        LSTM_FORWARD_ZH,
        LSTM_BACKWARD,
        LSTM_BACKWARD_DOUT,
        GRU_FORWARD,
        GRU_FORWARD_BIAS,
        GRU_BACKWARD,
        GRU_BACKWARD_DOUT,
    )
}
