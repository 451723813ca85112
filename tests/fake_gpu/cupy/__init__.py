"""A strict fake of CuPy on NumPy, for running rnnlab's GPU code paths on a machine without a GPU.

Importable only with ``tests/fake_gpu`` first on ``sys.path`` (``.ci/fake-gpu`` does that); normal
test runs never see it. With it, ``backend.cuda_available()`` is true, the ``xp`` fixture's "cupy"
cases and ``RNNLAB_DEVICE=cuda`` notebooks run, ``device_of`` says ``'cuda'`` (the array type lives in
module ``cupy``), and the fused kernels of ``rnnlab.kernels`` run their real CUDA C source, compiled
for the CPU with g++ by ``tests/_kernel_cpu.py``.

Strict where CuPy is strict (checked against CuPy's ``_core/core.pyx``, ``_kernel.pyx``, ``_scalar.pyx``,
``_routines_indexing.pyx`` and ``_manipulation/basic.py``), so host/device mix-ups fail as on a GPU:

* ``ndarray`` holds a NumPy array but is no NumPy subclass; ``__array__`` raises TypeError, so
  ``np.asarray``, ``np.testing``, matplotlib refuse it. ``.get()``/``cupy.asnumpy`` copy out,
  ``cupy.asarray``/``cupy.array`` copy in.
* ufuncs and operators take CuPy arrays and Python/NumPy scalars only: a NumPy array (even 0-d) or a
  list raises TypeError, except that comparisons accept a 0-d NumPy array, as in CuPy. NumPy ufuncs
  and ``__array_function__`` functions called on these arrays dispatch here, as they do to CuPy.
* other ``cupy.*`` functions and array methods raise TypeError for a NumPy array argument
  (``copyto`` takes a size-1 one); indices may be NumPy arrays or lists (CuPy copies them in).
* ``a[basic] = v``: a NumPy array raises ValueError unless 0-d, a list TypeError; with array indices
  NumPy values are accepted (CuPy converts them).
* reductions and integer indexing give 0-d arrays; ``float``/``int``/``bool``/``.item()`` work, and
  ``format(a, spec)`` is ``format(a.get(), spec)`` as in CuPy (fine for 0-d, TypeError otherwise).

Known gaps: no CUDA (no NVRTC compile, no asynchrony, streams are no-ops, no device memory limits or
pools), no GPU rounding (glibc/NumPy maths), NumPy's dtype promotion and every NumPy function
(CuPy lacks some), out-of-bounds fancy indices raise (CuPy wraps them), ``cupy.random`` is a NumPy
RandomState (other numbers than CuPy's), and ``ElementwiseKernel`` runs only the kernels of
``rnnlab.kernels.ALL`` with equal-size (unbroadcast) element-wise arguments.
"""
from __future__ import annotations

import functools
import importlib.util
import shutil
import sys
import types
import warnings
import weakref
from pathlib import Path

import numpy as _np

from . import cuda  # noqa: F401  (cupy.cuda.runtime, Device, streams)

__version__ = "0.0-fake"
_SCALAR = (int, float, bool, complex, _np.generic)
_COMPARISONS = {"less", "less_equal", "equal", "not_equal", "greater", "greater_equal"}
_owners = weakref.WeakValueDictionary()  # id(NumPy array that owns its memory) -> its wrapper (for .base)


def _unsupported(x, where):
    return TypeError(f"Unsupported type {type(x)} in {where} (fake CuPy: move NumPy data with cupy.asarray)")


def _unwrap(x, where):
    """CuPy arrays -> their NumPy data, also inside lists/tuples/dicts; a NumPy array is an error."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        raise _unsupported(x, where)
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, where) for k, v in x.items()}
    return x


def _wrap(r, known=()):
    """NumPy results -> CuPy arrays (scalars -> 0-d arrays); an array passed in (``out=``) keeps its wrapper."""
    if isinstance(r, _np.ndarray):
        same = [k for k in known if k._a is r]
        return same[0] if same else ndarray._from(r)
    if isinstance(r, _np.generic):
        return ndarray._from(_np.asarray(r))
    if isinstance(r, (list, tuple)):
        items = [_wrap(v, known) for v in r]
        return type(r)(*items) if hasattr(r, "_fields") else type(r)(items)  # namedtuples too
    return r


def _fakes(*values):
    return [a for v in values for a in (v if isinstance(v, (list, tuple)) else (v,)) if isinstance(a, ndarray)]


def _index(idx):
    """An index with CuPy arrays unwrapped; NumPy arrays and lists are fine (CuPy copies them to the device)."""
    if isinstance(idx, ndarray):
        return idx._a
    return type(idx)(_index(i) for i in idx) if isinstance(idx, (tuple, list)) else idx


def _is_advanced(idx):
    return any(not (p is None or p is Ellipsis or isinstance(p, slice) or
                    (isinstance(p, (int, _np.integer)) and not isinstance(p, (bool, _np.bool_))))
               for p in (idx if isinstance(idx, tuple) else (idx,)))


def _func(f, name):
    """A NumPy function as a CuPy one: CuPy arrays in (NumPy arrays refused), CuPy arrays out."""
    @functools.wraps(f)
    def call(*args, **kwargs):
        return _wrap(f(*_unwrap(args, name), **_unwrap(kwargs, name)), _fakes(*args, *kwargs.values()))
    return call


class _Ufunc:
    """A NumPy ufunc that takes only CuPy arrays and scalars, as CuPy's kernels do."""

    def __init__(self, uf):
        self._uf, self.__name__ = uf, uf.__name__

    def _operand(self, x):
        if isinstance(x, ndarray):
            return x._a
        if self.__name__ in _COMPARISONS and isinstance(x, _np.ndarray) and x.ndim == 0:
            return x.item()  # CuPy's workaround for numpy/numpy#12142
        if isinstance(x, _SCALAR):
            return x
        raise _unsupported(x, f"cupy.{self.__name__}")

    def __call__(self, *args, out=None, **kwargs):
        if out is not None:
            outs = out if isinstance(out, tuple) else (out,)
            if not all(isinstance(o, ndarray) for o in outs):
                raise TypeError(f"cupy.{self.__name__}: out must be cupy.ndarray, got {[type(o) for o in outs]}")
            kwargs["out"] = tuple(o._a for o in outs) if isinstance(out, tuple) else out._a
        if isinstance(kwargs.get("where"), ndarray):
            kwargs["where"] = kwargs["where"]._a
        return _wrap(self._uf(*map(self._operand, args), **kwargs), _fakes(*args, out))

    def at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise _unsupported(a, f"cupy.{self.__name__}.at")
        if isinstance(b, (_np.ndarray, list)) and not _is_advanced(indices):
            raise _unsupported(b, f"cupy.{self.__name__}.at")
        self._uf.at(a._a, _index(indices), *(() if b is None else (b._a if isinstance(b, ndarray) else b,)))

    def __getattr__(self, name):  # reduce, outer, nin, ...
        attr = getattr(self._uf, name)
        return _func(attr, f"cupy.{self.__name__}.{name}") if callable(attr) else attr

    def __repr__(self):
        return f"<ufunc '{self.__name__}' (fake CuPy)>"


def _uf(name):
    return globals().get(name) or __getattr__(name)


def _refuse_numpy(*args, **kwargs):
    raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                    "Please use `.get()` to construct a NumPy array explicitly.")


class ndarray:
    """A CuPy array: a NumPy array that host code may reach only through ``.get()``."""

    __slots__ = ("_a", "_base", "__weakref__")
    __array_priority__ = 100
    __hash__ = None
    __array__ = _refuse_numpy

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._set(_np.empty(shape, dtype, order=order))  # uninitialised, like cupy.ndarray(shape)

    @classmethod
    def _from(cls, a):
        obj = object.__new__(cls)
        obj._set(a)
        return obj

    def _set(self, a):
        self._a, self._base, b = a, None, a.base
        if b is None:  # owns its memory: views of it report this wrapper as their .base
            _owners.setdefault(id(a), self)
        elif isinstance(b, _np.ndarray):  # a view keeps its owner alive, as in CuPy
            owner = _owners.get(id(b))
            self._base = ndarray._from(b) if owner is None else owner

    def get(self, stream=None, order="C", out=None):
        if out is None:
            return _np.array(self._a, order=order, copy=True)
        if not isinstance(out, _np.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
        out[...] = self._a
        return out

    def set(self, arr, stream=None):
        if not isinstance(arr, _np.ndarray) or arr.dtype != self.dtype:
            raise TypeError(f"cannot set a {type(arr)} of dtype {getattr(arr, 'dtype', '?')} to a {self.dtype} array")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        self._a[...] = arr

    # attributes: a few explicit, the rest delegated to NumPy with arrays wrapped
    shape = property(lambda self: self._a.shape, lambda self, v: setattr(self._a, "shape", v))
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    T = property(lambda self: ndarray._from(self._a.T))
    base = property(lambda self: self._base)
    device = property(lambda self: cuda.Device(0))

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_a", "_base", "data", "ctypes", "tofile", "dump", "dumps"):
            raise AttributeError(f"fake cupy.ndarray has no attribute {name!r}")
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr, (self,))
        host_ok = name in ("take", "put", "compress")  # CuPy copies host indices in

        def method(*args, **kwargs):
            args = tuple(map(_index, args)) if host_ok else args
            r = attr(*_unwrap(args, f"ndarray.{name}"), **_unwrap(kwargs, f"ndarray.{name}"))
            return _wrap(r, [self, *_fakes(*args, *kwargs.values())])
        return method

    def fill(self, value):
        if isinstance(value, _np.ndarray):
            if value.shape != ():
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            value = value.item()
        elif not isinstance(value, _SCALAR):
            raise _unsupported(value, "ndarray.fill")
        self._a.fill(value)

    def __getitem__(self, idx):
        i = _index(idx)
        r = self._a[i]
        if isinstance(r, _np.generic):  # CuPy gives a 0-d view, not a scalar
            try:
                return ndarray._from(self._a[(*(i if isinstance(i, tuple) else (i,)), Ellipsis)])
            except IndexError:
                return _wrap(r)
        return ndarray._from(r)

    def __setitem__(self, idx, value):
        if isinstance(value, ndarray):
            value = value._a
        elif not _is_advanced(idx):  # with array indices CuPy converts the values with cupy.array
            if isinstance(value, _np.ndarray) and value.shape != ():
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            if not isinstance(value, (_np.ndarray, *_SCALAR)):
                raise _unsupported(value, "ndarray.__setitem__")
        self._a[_index(idx)] = value

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    # conversions to host values, each a synchronising device-to-host copy on a GPU
    def __bool__(self):
        if self._a.size == 0:
            warnings.warn("The truth value of an empty array is ambiguous.", DeprecationWarning)
            return False
        if self._a.size > 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous. "
                             "Use a.any() or a.all()")
        return bool(self.get())

    __int__ = lambda self: int(self.get())  # noqa: E731
    __float__ = lambda self: float(self.get())  # noqa: E731
    __complex__ = lambda self: complex(self.get())  # noqa: E731
    __repr__ = lambda self: repr(self.get())  # noqa: E731
    __str__ = lambda self: str(self.get())  # noqa: E731
    __format__ = lambda self, spec: format(self.get(), spec)  # noqa: E731
    __copy__ = lambda self: ndarray._from(self._a.copy())  # noqa: E731
    __deepcopy__ = lambda self, memo: ndarray._from(self._a.copy())  # noqa: E731
    __reduce__ = lambda self: (array, (self.get(),))  # noqa: E731
    __pos__ = lambda self: self  # noqa: E731

    # NumPy's protocols dispatch to this module, as they do to CuPy
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or not hasattr(_np, ufunc.__name__):
            return NotImplemented
        out = kwargs.get("out")
        if isinstance(out, tuple) and len(out) == 1:
            kwargs["out"] = out[0]
        if not all(isinstance(x, (ndarray, _np.ndarray, *_SCALAR)) for x in (*inputs, *(out or ()))):
            return NotImplemented
        return _uf(ufunc.__name__)(*inputs, **kwargs)

    def __array_function__(self, func, types_, args, kwargs):
        if not all(issubclass(t, (ndarray, _np.ndarray)) for t in types_):
            return NotImplemented
        try:
            mod = functools.reduce(getattr, func.__module__.split(".")[1:], sys.modules[__name__])
            return getattr(mod, func.__name__)(*args, **kwargs)
        except AttributeError:
            return NotImplemented


def _operator(ufunc, reflected=False, inplace=False):
    if inplace:
        return lambda self, other: _uf(ufunc)(self, other, out=self)
    return (lambda self, other: _uf(ufunc)(other, self)) if reflected else (lambda self, o: _uf(ufunc)(self, o))


for _name, _ufunc in dict(add="add", sub="subtract", mul="multiply", truediv="true_divide", floordiv="floor_divide",
                          mod="remainder", pow="power", matmul="matmul", and_="bitwise_and", or_="bitwise_or",
                          xor="bitwise_xor", lshift="left_shift", rshift="right_shift").items():
    _name = _name.rstrip("_")
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    if _name != "matmul":
        setattr(ndarray, f"__i{_name}__", _operator(_ufunc, inplace=True))
for _name, _ufunc in dict(lt="less", le="less_equal", gt="greater", ge="greater_equal", eq="equal", ne="not_equal",
                          divmod="divmod").items():
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
for _name, _ufunc in dict(neg="negative", abs="absolute", invert="invert").items():
    setattr(ndarray, f"__{_name}__", (lambda uf: lambda self: _uf(uf)(self))(_ufunc))


# --- host <-> device, and functions with CuPy's own rules ----------------------------------------

def _host_or_device(x):  # what cupy.array accepts: host data, CuPy arrays, and (nested) sequences of both
    if isinstance(x, ndarray):
        return x._a
    return type(x)(map(_host_or_device, x)) if isinstance(x, (list, tuple)) else x


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    return ndarray._from(_np.array(_host_or_device(obj), dtype, copy=copy, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray):
        r = _np.asarray(a._a, dtype, order=order)
        return a if r is a._a else ndarray._from(r)
    return ndarray._from(_np.array(_host_or_device(a), dtype, order=order or "K"))  # a copy: host to device


asanyarray = asarray


def asnumpy(a, stream=None, order="C", out=None):
    return a.get(stream, order, out) if isinstance(a, ndarray) else _np.asarray(a, order=order)


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


def copyto(dst, src, casting="same_kind", where=None):
    if not isinstance(dst, ndarray):
        raise _unsupported(dst, "cupy.copyto")
    if isinstance(src, ndarray):
        src = src._a
    elif isinstance(src, _np.ndarray):
        if src.size != 1:
            raise ValueError("non-scalar numpy.ndarray cannot be used for copyto")
        if not _np.can_cast(src.dtype, dst.dtype, casting):
            raise TypeError(f"Cannot cast {src.dtype} to {dst.dtype} in {casting} casting mode")
        src = src.item()
    elif not isinstance(src, _SCALAR):
        raise _unsupported(src, "cupy.copyto")
    _np.copyto(dst._a, src, casting=casting, where=True if where is None else _unwrap(where, "cupy.copyto"))


# --- the rest of NumPy's namespace, adapted on first use -----------------------------------------

class _Namespace:
    """``cupy.linalg``, ``cupy.fft``, ...: a NumPy submodule with its functions adapted."""

    def __init__(self, module, name):
        self._mod, self._name = module, name

    def __getattr__(self, name):
        return _adapt(getattr(self._mod, name), f"{self._name}.{name}")


class _Random(_Namespace):
    """``cupy.random``: its own seeded RandomState; NumPy's global generator is left alone."""

    def __init__(self):
        super().__init__(_np.random, "cupy.random")
        self._rs = _np.random.RandomState()

    def seed(self, seed=None):
        self._rs = _np.random.RandomState(seed)

    def __getattr__(self, name):
        return _adapt(getattr(self._rs if hasattr(self._rs, name) else self._mod, name), f"cupy.random.{name}")


random = _Random()


def _adapt(attr, name):
    if isinstance(attr, _np.ufunc):
        return _Ufunc(attr)
    if isinstance(attr, types.ModuleType):
        return _Namespace(attr, name)
    if callable(attr) and not isinstance(attr, type):
        return _func(attr, name)
    return attr  # scalar types (cupy.float32 is numpy.float32), dtypes, constants


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        attr = getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'cupy' (fake) has no attribute {name!r}") from None
    globals()[name] = adapted = _adapt(attr, f"cupy.{name}")
    return adapted


# --- ElementwiseKernel: rnnlab's fused kernels, run on the CPU by tests/_kernel_cpu.py -----------

def _kernel_cpu():
    mod = sys.modules.get("_kernel_cpu")
    if mod is None:
        spec = importlib.util.spec_from_file_location("_kernel_cpu", Path(__file__).parents[2] / "_kernel_cpu.py")
        mod = sys.modules["_kernel_cpu"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod


def _run_on_cpu(spec, args):
    """``_kernel_cpu.run``: the kernel body compiled with g++ (built once per process)."""
    if shutil.which("g++") is None:
        raise RuntimeError("fake CuPy runs ElementwiseKernel bodies with g++, which is not installed")
    _kernel_cpu().run(spec, *args)


class _Param:
    def __init__(self, text):
        words = text.split()
        if len(words) < 2 or any(w != "raw" for w in words[:-2]):
            raise ValueError(f"Syntax error: {text}")
        self.raw, self.name, typ = "raw" in words, words[-1], words[-2]
        self.ctype = typ if len(typ) == 1 or typ == "CIndexer" else None
        self.dtype = None if self.ctype else _np.dtype(typ)


class ElementwiseKernel:
    """Parses its parameters like CuPy; calling it runs the same-named ``rnnlab.kernels.ALL`` kernel on the CPU."""

    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True, preamble="",
                 no_return=False, return_tuple=False, **kwargs):
        self.in_params, self.out_params, self.operation, self.name = in_params, out_params, operation, name
        self.preamble, self.no_return, self.return_tuple = preamble, no_return, return_tuple
        ins, outs = [_Param(p) for p in in_params.split(",")], [_Param(p) for p in out_params.split(",")]
        self.nin, self.nout = len(ins), len(outs)
        self.params = (*ins, *outs, _Param("CIndexer _ind"))

    def __call__(self, *args, **kwargs):
        from rnnlab.kernels import ALL, PREAMBLE

        spec = ALL.get(self.name)
        if spec is None or (spec.in_params, spec.out_params, spec.body, PREAMBLE) != (
                self.in_params, self.out_params, self.operation, self.preamble):
            raise NotImplementedError(
                f"fake CuPy runs only the kernels of rnnlab.kernels.ALL, with their exact source; "
                f"{self.name!r} is {'not one of them' if spec is None else 'one, but its source differs'}")
        if kwargs or len(args) != self.nin + self.nout:
            raise TypeError(f"Wrong arguments for {self.name}: the fake takes all {self.nin + self.nout} "
                            f"inputs and outputs, positionally")
        host = []
        for p, a in zip(self.params, args):
            if p.dtype is not None:  # int32 H
                if not isinstance(a, (int, _np.integer)):
                    raise TypeError(f"{self.name}: {p.name} must be an integer, got {type(a)}")
                host.append(int(a))
            elif isinstance(a, ndarray):
                host.append(a._a)
            else:
                raise _unsupported(a, f"ElementwiseKernel {self.name}, parameter {p.name}")
        dtypes = {a.dtype for a in host if isinstance(a, _np.ndarray)}
        if len(dtypes) != 1:
            raise TypeError(f"Type is mismatched. {self.name}: arrays of dtypes {sorted(map(str, dtypes))} for T")
        _run_on_cpu(spec, host)
        outs = args[self.nin:]
        return None if self.no_return else outs if (self.return_tuple or len(outs) > 1) else outs[0]
