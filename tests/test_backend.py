"""rnnlab.backend: array modules, devices, seeding and the scatter-add helper."""

import numpy as np
import pytest

import rnnlab
from rnnlab import backend


def test_array_module_of_numpy_arrays_is_numpy():
    assert backend.array_module(np.zeros(3)) is np
    assert backend.array_module(np.zeros(3), None, np.ones((2, 2), np.float32)) is np
    assert backend.array_module() is np  # nothing to follow: the CPU


def test_array_module_follows_the_device(xp, on):
    a = on(np.arange(4.0))
    assert backend.array_module(a) is xp
    assert backend.array_module(a, None, a) is xp


def test_mixing_numpy_and_cupy_is_an_error(need_cuda):
    cupy = need_cuda
    with pytest.raises(ValueError, match="different devices"):
        backend.array_module(np.zeros(3), cupy.zeros(3))


def test_to_device_cpu_is_identity_for_numpy():
    a = np.arange(6.0).reshape(2, 3)
    assert rnnlab.to_device(a, "cpu") is a
    assert rnnlab.to_numpy(a) is a


def test_to_device_accepts_array_likes():
    out = rnnlab.to_device([1.0, 2.0], "cpu")
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [1.0, 2.0])


def test_to_device_round_trip_keeps_values_and_dtype(device, xp):
    for dtype in (np.float32, np.float64, np.int64):
        a = np.arange(12).reshape(3, 4).astype(dtype)
        d = rnnlab.to_device(a, device)
        assert backend.device_of(d) == device
        assert backend.array_module(d) is xp
        back = rnnlab.to_numpy(d)
        assert isinstance(back, np.ndarray)
        assert back.dtype == dtype
        np.testing.assert_array_equal(back, a)


@pytest.mark.parametrize("bad", ["gpu", "CPU", "cuda:0", "", "tpu"])
def test_bad_device_string_raises_value_error(bad):
    with pytest.raises(ValueError, match=r"device must be 'cpu' or 'cuda'"):
        rnnlab.to_device(np.zeros(2), bad)


def test_available_devices_lists_cpu_and_cuda_only_if_usable():
    devs = rnnlab.available_devices()
    assert "cpu" in devs
    assert ("cuda" in devs) == backend.cuda_available()
    assert set(devs) <= {"cpu", "cuda"}


def test_to_cuda_without_gpu_raises_a_clear_runtime_error():
    if backend.cuda_available():
        pytest.skip("a GPU is available here, so moving to 'cuda' succeeds")
    with pytest.raises(RuntimeError, match=r"(?i)cupy|gpu"):
        rnnlab.to_device(np.zeros(3), "cuda")


def test_device_of():
    assert backend.device_of(np.zeros(2)) == "cpu"
    assert backend.device_of(None) == "cpu"


def test_seed_makes_initialisation_reproducible():
    rnnlab.seed(7)
    a = rnnlab.Linear(3, 4).params["W"].copy()
    rnnlab.seed(7)
    b = rnnlab.Linear(3, 4).params["W"].copy()
    rnnlab.seed(8)
    c = rnnlab.Linear(3, 4).params["W"].copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_uniform_gives_the_same_numbers_on_every_device(xp):
    rnnlab.seed(5)
    u = backend.uniform(xp, (3, 4), np.float32)
    rnnlab.seed(5)
    ref = backend.uniform(np, (3, 4), np.float32)
    assert backend.array_module(u) is xp
    assert u.dtype == np.float32
    np.testing.assert_array_equal(rnnlab.to_numpy(u), ref)
    assert ((ref >= 0) & (ref < 1)).all()


def test_scatter_add_accumulates_repeated_indices(xp, on):
    target = on(np.zeros((4, 2)))
    idx = on(np.array([1, 3, 1, 1]))
    vals = on(np.arange(8.0).reshape(4, 2))
    backend.scatter_add(target, idx, vals)
    expected = np.zeros((4, 2))
    for i, v in zip([1, 3, 1, 1], np.arange(8.0).reshape(4, 2)):
        expected[i] += v
    np.testing.assert_array_equal(rnnlab.to_numpy(target), expected)


def test_synchronize():
    backend.synchronize("cpu")  # nothing to wait for
    with pytest.raises(ValueError, match="device must be"):
        backend.synchronize("gpu")


def test_synchronize_waits_for_the_gpu(need_cuda):
    x = need_cuda.ones(1000)
    (x * 2).sum()
    backend.synchronize("cuda")
    assert need_cuda.cuda.get_current_stream().done
