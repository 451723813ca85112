"""Containers and sharing.

Sequential, ModuleList, ModuleDict, a module placed twice, a shared embedding and a tied
output layer, each checked by finite differences and against PyTorch.
"""

import numpy as np
import pytest

import rnnlab
from _helpers import close, to_np
from rnnlab import (
    GRU,
    RNN,
    Adam,
    Dropout,
    Embedding,
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    Sequential,
)
from rnnlab.gradcheck import assert_gradients_close, check_module

V, E, H, T, N = 7, 5, 5, 4, 3


def _torch_linear(torch, lin):
    ref = torch.nn.Linear(lin.in_features, lin.out_features).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(to_np(lin.params["W"])))
        ref.bias.copy_(torch.tensor(to_np(lin.params["b"])))
    return ref


# --------------------------------------------------------------------------- Sequential
def test_sequential_passes_finite_differences(device, randn):
    net = Sequential(
        Linear(4, 6, dtype=np.float64), Dropout(0.3), Linear(6, 2, dtype=np.float64)
    )
    assert_gradients_close(check_module(net.to(device), randn(3, 4)))


def test_a_module_placed_twice_is_one_set_of_parameters_and_matches_torch(
    torch, device, rng, on
):
    lin = Linear(H, H, dtype=np.float64)
    net = Sequential(lin, lin).to(device)
    assert len(net.parameters()) == 2 and net.num_parameters() == H * H + H
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4

    x, g = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    y = net(on(x))
    dx = net.backward(on(g))
    ref_lin = _torch_linear(torch, lin)
    ref = torch.nn.Sequential(ref_lin, ref_lin)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    (yt * torch.tensor(g)).sum().backward()
    check = close(np.float64)
    check(to_np(y), yt.detach().numpy(), "output")
    check(to_np(dx), xt.grad.numpy(), "dx")
    check(to_np(lin.grads["W"]), ref_lin.weight.grad.numpy(), "dW (both uses)")
    check(to_np(lin.grads["b"]), ref_lin.bias.grad.numpy(), "db (both uses)")

    # the optimiser steps the shared parameter once, as torch.optim.Adam does
    opt, ref_opt = (
        Adam(net.parameters(), lr=0.1),
        torch.optim.Adam(ref.parameters(), lr=0.1),
    )
    opt.step()
    ref_opt.step()
    check(
        to_np(lin.params["W"]), ref_lin.weight.detach().numpy(), "W after one Adam step"
    )


def test_sequential_rejects_what_is_not_a_module():
    with pytest.raises(
        TypeError, match="Sequential takes modules; argument 1 is a ufunc"
    ):
        Sequential(Linear(2, 2), np.tanh)


# --------------------------------------------------------------- ModuleList, ModuleDict
class Stack(Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = ModuleList(Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.heads = ModuleDict(
            {"mean": Linear(sizes[-1], 1), "scale": Linear(sizes[-1], 1)}
        )


def test_module_list_and_dict_register_their_entries():
    m = Stack([3, 4, 5])
    names = [n for n, _, _ in m.named_parameters()]
    assert names == [
        "layers.0.W",
        "layers.0.b",
        "layers.1.W",
        "layers.1.b",
        "heads.mean.W",
        "heads.mean.b",
        "heads.scale.W",
        "heads.scale.b",
    ]
    assert len(m.layers) == 2 and m.layers[1].out_features == 5
    assert list(m.heads) == ["mean", "scale"] and "mean" in m.heads
    m.layers.append(Linear(5, 5))
    assert "layers.2.W" in dict((n, p) for n, p, _ in m.named_parameters())


def test_a_plain_list_of_modules_is_refused_with_the_fix():
    m = Module()
    with pytest.raises(
        TypeError, match=r"layers: a list of modules is not registered.*ModuleList"
    ):
        m.layers = [Linear(2, 2), Linear(2, 2)]


@pytest.mark.parametrize(
    "key, error, pattern",
    [
        ("not a name", ValueError, "identifiers"),
        ("forward", ValueError, "hide the attribute"),
        ("training", ValueError, "hide the attribute"),
        ("params", ValueError, "hide the attribute"),
    ],
)
def test_module_dict_bad_keys(key, error, pattern):
    with pytest.raises(error, match=pattern):
        ModuleDict({key: Linear(2, 2)})


# ------------------------------------------------------------------- a shared embedding
class EncoderDecoder(Module):
    """The smallest seq2seq with sharing.

    One embedding read twice (source and target ids of the same shape), an encoder whose
    final state starts the decoder, and a read-out.
    """

    def __init__(self, dtype=np.float64):
        super().__init__()
        self.embed = Embedding(V, E, dtype=dtype)
        self.encoder = GRU(E, H, dtype=dtype)
        self.decoder = GRU(E, H, dtype=dtype)
        self.head = Linear(H, V, dtype=dtype)

    def forward(self, src, tgt):
        _, h = self.encoder(self.embed(src))
        out, _ = self.decoder(self.embed(tgt), h)
        return self.head(out)

    def backward(self, dlogits):
        dx_tgt, dh = self.decoder.backward(self.head.backward(dlogits))
        # the target's call was the later one: consumed first
        self.embed.backward(dx_tgt)
        dx_src, _ = self.encoder.backward(None, dh)
        self.embed.backward(dx_src)


def test_shared_embedding_passes_finite_differences(device, on):
    g = np.random.default_rng(0)
    src, tgt = (on(g.integers(0, V, (T, N))) for _ in range(2))
    assert_gradients_close(check_module(EncoderDecoder().to(device), src, tgt))


def test_shared_embedding_matches_torch(torch, device, on):
    from rnnlab.interop import to_torch

    g = np.random.default_rng(1)
    src, tgt = g.integers(0, V, (T, N)), g.integers(0, V, (T, N))
    up = g.standard_normal((T, N, V))
    m = EncoderDecoder().to(device)
    logits = m(on(src), on(tgt))
    m.backward(on(up))

    emb = torch.nn.Embedding(V, E).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(to_np(m.embed.params["W"])))
    enc, dec = (
        to_torch(m.encoder.to("cpu")).double(),
        to_torch(m.decoder.to("cpu")).double(),
    )
    head = _torch_linear(torch, m.head.to("cpu"))
    _, h = enc(emb(torch.tensor(src)))
    out, _ = dec(emb(torch.tensor(tgt)), h)
    ref = head(out)
    (ref * torch.tensor(up)).sum().backward()
    check = close(np.float64)
    check(to_np(logits), ref.detach().numpy(), "logits")
    check(
        to_np(m.embed.grads["W"]),
        emb.weight.grad.numpy(),
        "embedding gradient (both uses)",
    )
    enc_grads = rnnlab.interop.torch_state_dict(m.encoder, grads=True)
    for name, p in enc.named_parameters():
        check(enc_grads[name], p.grad.numpy(), "encoder " + name)


# ------------------------------------------------------------------ a tied output layer
class TiedLM(Module):
    """Embedding (V, H) -> RNN -> Linear (H -> V), whose weight *is* the embedding."""

    def __init__(self, dtype=np.float64):
        super().__init__()
        self.embed = Embedding(V, H, dtype=dtype)
        self.rnn = RNN(H, H, dtype=dtype)
        self.head = Linear(H, V, dtype=dtype)
        self.head.tie("W", self.embed)

    def forward(self, ids):
        out, _ = self.rnn(self.embed(ids))
        return self.head(out)

    def backward(self, dlogits):
        dx, _ = self.rnn.backward(self.head.backward(dlogits))
        self.embed.backward(dx)


def test_tied_weights_are_one_parameter_and_pass_finite_differences(device, on):
    m = TiedLM().to(device)
    assert (
        m.head.params["W"] is m.embed.params["W"]
        and m.head.grads["W"] is m.embed.grads["W"]
    )
    names = [n for n, _, _ in m.named_parameters()]
    assert "embed.W" in names and "head.W" not in names
    ids = on(np.random.default_rng(2).integers(0, V, (T, N)))
    assert_gradients_close(check_module(m, ids))


def test_tied_weights_match_torch(torch, device, on):
    from rnnlab.interop import to_torch

    g = np.random.default_rng(3)
    ids, up = g.integers(0, V, (T, N)), g.standard_normal((T, N, V))
    m = TiedLM().to(device)
    m(on(ids))
    m.backward(on(up))

    emb = torch.nn.Embedding(V, H).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(to_np(m.embed.params["W"])))
    rnn = to_torch(m.rnn.to("cpu")).double()
    head = torch.nn.Linear(H, V).double()
    head.weight = emb.weight  # PyTorch's weight tying
    with torch.no_grad():
        head.bias.copy_(torch.tensor(to_np(m.head.params["b"])))
    out, _ = rnn(emb(torch.tensor(ids)))
    (head(out) * torch.tensor(up)).sum().backward()
    close(np.float64)(
        to_np(m.embed.grads["W"]), emb.weight.grad.numpy(), "tied weight gradient"
    )


def test_ties_survive_moves_and_checkpoints(tmp_path):
    m = TiedLM(dtype=np.float32)
    m.to(dtype=np.float64)
    assert (
        m.head.params["W"] is m.embed.params["W"]
        and m.head.grads["W"] is m.embed.grads["W"]
    )
    state = m.state_dict()
    assert "head.W" in state and "embed.W" in state  # as in PyTorch: under both names
    m.save(tmp_path / "tied.npz")
    other = TiedLM()
    other.load(tmp_path / "tied.npz")
    assert other.head.params["W"] is other.embed.params["W"]
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k], v)


def test_tie_checks_its_arguments():
    emb, lin = Embedding(V, H), Linear(H, V + 1)
    with pytest.raises(
        ValueError, match=r"cannot tie 'W' of shape \(8, 5\) to 'W' of shape \(7, 5\)"
    ):
        lin.tie("W", emb)
    with pytest.raises(KeyError, match="source has no parameter 'U'"):
        lin.tie("W", emb, "U")


def test_a_dict_of_modules_is_refused_with_the_fix():
    m = Module()
    with pytest.raises(
        TypeError, match=r"heads: a dict of modules is not registered.*ModuleDict"
    ):
        m.heads = {"a": Linear(2, 2)}
