"""Fake ``cupy.cuda.runtime``: one device, named so that nobody mistakes it for a GPU."""


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount():
    return 1


def getDevice():
    return 0


def setDevice(device):
    if device != 0:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")


def getDeviceProperties(device):
    from . import _host_memory

    setDevice(device)
    return {"name": b"fake GPU (NumPy)", "totalGlobalMem": _host_memory(), "multiProcessorCount": 1,
            "major": 0, "minor": 0, "warpSize": 32}


def deviceSynchronize():
    pass


def runtimeGetVersion():
    return 0


def driverGetVersion():
    return 0
