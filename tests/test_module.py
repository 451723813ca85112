"""rnnlab.Module: the parameter tree, modes, dtype/device moves and checkpoints."""

import numpy as np
import pytest

import rnnlab
from rnnlab import Embedding, Linear, Module, RNN


class Block(Module):
    """A submodule that itself holds a submodule (nesting two deep)."""

    def __init__(self):
        super().__init__()
        self.lin = Linear(4, 2)


class Tiny(Module):
    """Own parameter + three submodules, one of them nested."""

    def __init__(self):
        super().__init__()
        self.add_param("scale", np.ones(2, np.float32))
        self.emb = Embedding(5, 3)
        self.rnn = RNN(3, 4)
        self.block = Block()

    def forward(self, idx):
        out, _ = self.rnn(self.emb(idx))
        return self.block.lin(out) * self.params["scale"]


EXPECTED_SHAPES = {
    "scale": (2,),
    "emb.W": (5, 3),
    "rnn.W_xh_l0": (4, 3),
    "rnn.W_hh_l0": (4, 4),
    "rnn.b_h_l0": (4,),
    "block.lin.W": (2, 4),
    "block.lin.b": (2,),
}


def test_named_parameters_walk_nested_submodules():
    m = Tiny()
    named = list(m.named_parameters())
    # own parameters first, then submodules in the order they were assigned
    assert [n for n, _, _ in named] == list(EXPECTED_SHAPES)
    for name, p, g in named:
        assert p.shape == EXPECTED_SHAPES[name]
        assert g.shape == p.shape and g.dtype == p.dtype
    assert named[5][1] is m.block.lin.params["W"]
    assert named[5][2] is m.block.lin.grads["W"]
    assert m.num_parameters() == sum(int(np.prod(s)) for s in EXPECTED_SHAPES.values())


def test_parameters_are_the_live_arrays():
    m = Tiny()
    pairs = m.parameters()
    assert len(pairs) == len(EXPECTED_SHAPES)
    assert pairs[1][0] is m.emb.params["W"] and pairs[1][1] is m.emb.grads["W"]
    assert list(m.modules()) == [m, m.emb, m.rnn, m.block, m.block.lin]


def test_replacing_a_submodule_attribute_unregisters_it():
    m = Tiny()
    m.block = None
    assert [n for n, _, _ in m.named_parameters()] == [
        "scale",
        "emb.W",
        "rnn.W_xh_l0",
        "rnn.W_hh_l0",
        "rnn.b_h_l0",
    ]
    m.block = Block()
    assert "block.lin.W" in dict((n, p) for n, p, _ in m.named_parameters())


def test_zero_grad_zeros_every_gradient_in_place():
    m = Tiny()
    before = [g for _, g in m.parameters()]
    for g in before:
        g[...] = 3.0
    m.zero_grad()
    after = [g for _, g in m.parameters()]
    assert all(a is b for a, b in zip(before, after))
    assert all(not g.any() for g in after)


def test_train_and_eval_propagate_to_every_submodule():
    m = Tiny()
    assert all(s.training for s in m.modules())
    assert m.eval() is m
    assert not any(s.training for s in m.modules())
    assert m.train() is m
    assert all(s.training for s in m.modules())
    m.train(False)
    assert not m.block.lin.training


def test_to_dtype_casts_params_and_grads():
    m = Tiny()
    ref = m.state_dict()
    assert m.dtype == np.float32
    assert m.to(dtype=np.float64) is m
    assert m.dtype == np.float64
    for name, p, g in m.named_parameters():
        assert p.dtype == np.float64 and g.dtype == np.float64
        np.testing.assert_array_equal(p, ref[name].astype(np.float64))
    m.to(dtype=np.float32)
    for name, p, _ in m.named_parameters():
        # float32 -> float64 -> float32 is exact
        np.testing.assert_array_equal(p, ref[name])


def test_to_device_moves_everything_and_forward_runs_there(xp, device, on):
    m = Tiny().to(device)
    assert m.device == device
    for _, p, g in m.named_parameters():
        assert rnnlab.backend.array_module(p, g) is xp
    y = m(on(np.array([[0, 1], [4, 2], [3, 3]])))
    assert rnnlab.backend.array_module(y) is xp and y.shape == (3, 2, 2)
    sd = m.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    m.to("cpu")
    assert m.device == "cpu"


def test_empty_module_defaults():
    m = Module()
    assert m.dtype == np.float32 and m.device == "cpu"
    assert list(m.named_parameters()) == [] and m.num_parameters() == 0


def test_state_dict_is_a_detached_numpy_copy():
    m = Tiny()
    sd = m.state_dict()
    assert list(sd) == list(EXPECTED_SHAPES)
    sd["emb.W"][...] = 0
    assert m.emb.params["W"].any()


def test_load_state_dict_copies_in_place_and_keeps_optimiser_references():
    rnnlab.seed(1)
    src = Tiny()
    rnnlab.seed(2)
    m = Tiny()
    opt = rnnlab.SGD(m.parameters(), lr=0.5)
    arrays = [p for p, _ in m.parameters()]
    m.load_state_dict(src.state_dict())
    for (p, _), a, (name, q, _) in zip(opt.params, arrays, src.named_parameters()):
        assert p is a  # the very same array objects...
        np.testing.assert_array_equal(p, q)  # ...now holding the checkpoint's values
    # the optimiser still drives the model: a step changes the model's parameters
    m.block.lin.grads["W"][...] = 1.0
    opt.step()
    np.testing.assert_allclose(
        m.block.lin.params["W"], src.block.lin.params["W"] - 0.5, rtol=1e-6
    )


def test_load_state_dict_casts_to_the_model_dtype():
    src = Tiny().to(dtype=np.float64)
    m = Tiny()
    m.load_state_dict(src.state_dict())
    assert m.dtype == np.float32
    np.testing.assert_array_equal(
        m.emb.params["W"], src.emb.params["W"].astype(np.float32)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip_is_bit_exact(tmp_path, dtype):
    rnnlab.seed(3)
    src = Tiny().to(dtype=dtype)
    # values that a text format or a float32 detour would not survive
    src.params["scale"][...] = np.array(
        [np.nextafter(1.0, 2.0, dtype=dtype), -0.0], dtype
    )
    path = tmp_path / "ckpt.npz"
    src.save(path)
    rnnlab.seed(4)
    dst = Tiny().to(dtype=dtype)
    assert dst.load(path) is dst
    for (name, p, _), (_, q, _) in zip(src.named_parameters(), dst.named_parameters()):
        assert q.dtype == p.dtype == dtype, name
        assert np.array_equal(p, q), name
        assert p.tobytes() == q.tobytes(), name  # bit-exact, signed zero included


def _bad(mutate):
    sd = Tiny().state_dict()
    mutate(sd)
    return sd


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda sd: sd.pop("rnn.W_hh_l0"), r"missing keys: \['rnn\.W_hh_l0'\]"),
        (
            lambda sd: sd.__setitem__("rnn.W_hh_l1", np.zeros((4, 4), np.float32)),
            r"unexpected keys: \['rnn\.W_hh_l1'\]",
        ),
        (
            lambda sd: sd.__setitem__("block.lin.W", np.zeros((3, 4), np.float32)),
            r"shape mismatch block\.lin\.W: checkpoint \(3, 4\), model \(2, 4\)",
        ),
    ],
    ids=["missing", "unexpected", "shape"],
)
def test_load_state_dict_that_does_not_fit_raises_and_loads_nothing(mutate, pattern):
    rnnlab.seed(9)
    m = Tiny()
    before = m.state_dict()
    bad = _bad(mutate)
    with pytest.raises(ValueError, match=pattern):
        m.load_state_dict(bad)
    after = m.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # never half-loaded


def test_load_checkpoint_of_another_model_names_the_keys(tmp_path):
    path = tmp_path / "other.npz"
    RNN(3, 4, num_layers=2).save(path)
    with pytest.raises(ValueError, match=r"W_xh_l1"):
        RNN(3, 4, num_layers=1).load(path)
    with pytest.raises(ValueError, match=r"W_xh_l0"):
        RNN(5, 4, num_layers=2).load(path)


def test_backward_accumulates_into_grads():
    m = Linear(3, 2, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 3))
    dy = np.ones((4, 2))
    m(x)
    m.backward(dy)
    once = m.grads["W"].copy()
    m(x)
    m.backward(dy)
    np.testing.assert_allclose(m.grads["W"], 2 * once, rtol=1e-15)
    m.zero_grad()
    assert not m.grads["W"].any()


def test_repr_lists_submodules():
    r = repr(Tiny())
    assert (
        r.startswith("Tiny(")
        and "(emb): Embedding(5, 3)" in r
        and "(lin): Linear(4, 2, bias=True)" in r
    )


def test_save_then_load_with_the_same_path_without_npz_suffix(tmp_path):
    # Regression (was a bug): Module.save(path) goes through np.savez, which appends
    # ".npz" when the path lacks it, while Module.load(path) opens the path as given, so
    # `m.save("ckpt"); m.load("ckpt")` fails with FileNotFoundError.
    src = Linear(3, 2)
    path = tmp_path / "ckpt"
    src.save(path)
    dst = Linear(3, 2).load(path)
    assert np.array_equal(dst.params["W"], src.params["W"])


def test_evaluating_switches_to_eval_and_restores_the_mode_even_on_error():
    from rnnlab import Dropout, Sequential

    net = Sequential(rnnlab.Linear(2, 2), Dropout(0.5))
    with net.evaluating():
        assert not net.training and not net[1].training
    assert net.training and net[1].training
    net.eval()
    with pytest.raises(RuntimeError):
        with net.evaluating():
            raise RuntimeError("boom")
    assert not net.training  # the mode it had before, not train mode
