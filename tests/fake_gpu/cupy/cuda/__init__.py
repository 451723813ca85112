"""Fake ``cupy.cuda``: one always-idle device, synchronous streams (see ``cupy/__init__.py``)."""
import os

from . import runtime  # noqa: F401


def _host_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


class Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise runtime.CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def synchronize(self):
        pass  # the fake runs everything synchronously

    def use(self):
        pass

    @property
    def mem_info(self):
        total = _host_memory()
        return total // 2, total

    @property
    def compute_capability(self):
        return "00"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id} (fake)>"


class Event:
    done = True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


class Stream:
    done = True  # nothing is ever queued

    def __init__(self, null=False, non_blocking=False, ptr=0):
        self.ptr = ptr

    def synchronize(self):
        pass

    def record(self, event=None):
        return event or Event()

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    return Stream.null


def is_available():
    return True


def get_device_id():
    return 0
