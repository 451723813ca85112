"""pytest plugin for ``.ci/fake-gpu`` (``-p fake_gpu_select``): keep only the tests that run GPU code.

Kept: the ``xp``-parametrised cases with id ``cupy`` (so every test using ``device``/``on``/``randn``
on CuPy), tests using the ``need_cuda`` fixture, and unparametrised tests whose source mentions CuPy or
CUDA (``test_kernel_specs_parse_in_cupy``, ``test_describe_reports_backends``, ...). The NumPy cases
are the normal CI's business.
"""
import inspect
import re


def _runs_gpu_code(item):
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "xp" in params:
        return params["xp"] == "cupy"
    if "need_cuda" in getattr(item, "fixturenames", ()):
        return True
    try:
        return re.search(r"cupy|cuda", inspect.getsource(item.function), re.I) is not None
    except (AttributeError, OSError, TypeError):
        return False


def pytest_collection_modifyitems(config, items):
    keep = [i for i in items if _runs_gpu_code(i)]
    if len(keep) < len(items):
        kept = set(map(id, keep))
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept])
        items[:] = keep
