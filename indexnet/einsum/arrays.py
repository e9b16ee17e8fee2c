"""Which array library a call runs in: NumPy by default, else the caller's, through the array API.

NumPy arrays, NumPy scalars, Python numbers and lists are *native*: indexnet
computes on them with NumPy, as it always has. Any other array (torch, JAX,
CuPy, Dask, or anything with ``__array_namespace__``) is *foreign*: it is
computed on through its own namespace (``array-api-compat``'s
``array_namespace``), never through ``np.``, and stays on its device in its
dtype. :func:`array_kind` reads the library, dtype and device of a call's
arrays once, and raises :class:`~indexnet.errors.ArrayLibraryError` naming
both when two libraries (or two devices) meet in one call.

>>> import numpy as np
>>> array_kind({"x": np.ones(2), "y": [1.0, 2.0]}) is None   # NumPy: the fast path
True
>>> namespace(np.ones(2)) is np
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ArrayLibraryError

__all__ = ["ArrayKind", "array_kind", "is_foreign", "known_shape", "library_name", "namespace",
           "one_dtype"]

#: Native values: computed on with NumPy itself.
_NATIVE = (np.ndarray, np.generic, int, float, complex, bool, list, tuple)
#: Libraries known by the root of their array type's module (``jaxlib`` is JAX's).
_KNOWN = {"torch": "torch", "jax": "jax", "jaxlib": "jax", "dask": "dask", "cupy": "cupy",
          "sparse": "sparse"}


def is_foreign(value: Any) -> bool:
    """Whether ``value`` is an array of a library other than NumPy.

    >>> import numpy as np
    >>> is_foreign(np.ones(2)), is_foreign(3.0), is_foreign([1, 2])
    (False, False, False)
    """
    if type(value) is np.ndarray or isinstance(value, _NATIVE):
        return False
    root = type(value).__module__.partition(".")[0]
    return root in _KNOWN or hasattr(value, "__array_namespace__")


def library_name(value: Any) -> str:
    """The library of ``value``: ``numpy`` for native values, else ``torch``, ``jax`` and so on.

    >>> library_name([1.0]), library_name(np.float32(1))
    ('numpy', 'numpy')
    """
    if not is_foreign(value):
        return "numpy"
    root = type(value).__module__.partition(".")[0]
    return _KNOWN.get(root, root)


def _compat() -> Any:
    try:
        import array_api_compat  # deferred: optional (the "backends" extra)
    except ImportError:  # pragma: no cover - depends on the environment
        raise ArrayLibraryError(
            "arrays of libraries other than NumPy need array-api-compat: "
            "pip install 'indexnet[backends]'") from None
    return array_api_compat


def namespace(*values: Any) -> Any:
    """The array namespace to compute on ``values`` with: ``numpy`` itself when all are native.

    Foreign arrays get ``array-api-compat``'s namespace for their library;
    arrays of two libraries raise :class:`~indexnet.errors.ArrayLibraryError`.

    >>> import numpy as np
    >>> namespace(1.0, np.ones(2)).__name__
    'numpy'
    """
    for value in values:
        if type(value) is not np.ndarray and is_foreign(value):
            break
    else:
        return np  # the fast path: NumPy arrays and numbers
    foreign = [v for v in values if is_foreign(v)]
    _one_library({f"operand {k}": v for k, v in enumerate(values)})
    return _compat().array_namespace(*foreign)


@dataclass(frozen=True)
class ArrayKind:
    """The library, namespace, dtype and device that a call's foreign arrays share.

    ``dtype`` is the library's own dtype object (``torch.float32``),
    ``numpy_dtype`` NumPy's name for the same type (``"float32"``: what plans
    are made for), and ``key`` a hashable summary for caches of compiled forms.
    """

    library: str
    xp: Any
    dtype: Any
    device: Any

    @functools.cached_property
    def numpy_dtype(self) -> str:
        """NumPy's name of ``dtype`` (``float64`` when NumPy has no such type)."""
        name = str(self.dtype).rpartition(".")[2]
        try:
            return str(np.dtype(name))
        except TypeError:
            return "float64"

    @property
    def key(self) -> tuple[str, str, str]:
        """``(library, dtype, device)`` as text: equal for calls that can share a compiled form."""
        return self.library, str(self.dtype), str(self.device)

    def asarray(self, value: Any) -> Any:
        """``value`` (a number or a NumPy array) as an array of this kind, on its device."""
        return self.xp.asarray(value, dtype=self.dtype, device=self.device)

    def copy(self, value: Any) -> Any:
        """A fresh array equal to ``value`` (torch: ``clone``, which autograd follows)."""
        if self.library == "torch":
            return value.clone()
        return self.xp.asarray(value, copy=True)

    def default_float(self) -> Any:
        """The library's default real floating dtype on this device (torch: float32)."""
        try:
            info = self.xp.__array_namespace_info__()
            return info.default_dtypes(device=self.device)["real floating"]
        except (AttributeError, TypeError, KeyError):
            return self.xp.float64


def array_kind(arrays: Mapping[str, Any]) -> ArrayKind | None:
    """The :class:`ArrayKind` of the foreign arrays among ``arrays`` (by name), None if none.

    Native values (Python numbers, lists) may sit beside foreign arrays and
    take their library; a NumPy array beside a torch tensor, two libraries or
    two devices raise :class:`~indexnet.errors.ArrayLibraryError` naming both
    arrays. The dtype is the foreign arrays' common type (``result_type``).

    >>> import numpy as np
    >>> array_kind({"x": np.ones(2)}) is None
    True
    """
    foreign = {k: v for k, v in arrays.items() if is_foreign(v)}
    if not foreign:
        return None
    _one_library(arrays)
    compat = _compat()
    values = list(foreign.values())
    xp = compat.array_namespace(*values)
    # a traced array (inside jax.grad, jax.jit) has no device: it goes with any
    devices = {k: d for k, d in ((k, compat.device(v)) for k, v in foreign.items())
               if d is not None}
    first, where = next(iter(devices.items()), ("", None))
    for key, device in devices.items():
        if str(device) != str(where):
            library = library_name(values[0])
            raise ArrayLibraryError(
                f"array {first!r} is on {library} device {where} but {key!r} on {device}: "
                "move them to one device first", libraries=(library,))
    try:
        dtype = xp.result_type(*[v.dtype for v in values])
    except (TypeError, ValueError):
        dtype = values[0].dtype
    return ArrayKind(library_name(values[0]), xp, dtype, where)


def one_dtype(arrays: Sequence[Any]) -> list[Any]:
    """The arrays, foreign ones of differing dtypes cast to their common type.

    NumPy's einsum promotes operands of two dtypes; torch's kernels refuse
    them. Casting first (through the array API's ``astype``) gives every
    library the value NumPy gives: a ``float32`` and a ``float64`` tensor
    contract in ``float64`` (their gradients then both come in ``float64``,
    where NumPy keeps the dtype of the others). Arrays of one dtype come
    back as they are.

    >>> import numpy as np
    >>> one_dtype([np.ones(2, "float32"), np.ones(2)])[0].dtype  # NumPy's own: untouched
    dtype('float32')
    """
    foreign = [a for a in arrays if is_foreign(a)]
    if len({str(a.dtype) for a in foreign}) <= 1:
        return list(arrays)
    kind = array_kind({f"operand {k}": a for k, a in enumerate(arrays)})
    assert kind is not None  # there are foreign arrays
    return [kind.xp.astype(a, kind.dtype) if is_foreign(a) and a.dtype != kind.dtype else a
            for a in arrays]


def _one_library(arrays: Mapping[str, Any]) -> None:
    """Raise if ``arrays`` mix two libraries (native scalars and lists excepted)."""
    first: tuple[str, str] | None = None  # (key, library) of the first array
    for key, value in arrays.items():
        if not is_foreign(value) and not isinstance(value, (np.ndarray, np.generic)):
            continue  # Python numbers and lists belong to every library
        library = library_name(value)
        if first is None:
            first = (key, library)
        elif library != first[1]:
            raise ArrayLibraryError(
                f"{first[0]!r} is a {first[1]} array but {key!r} is a {library} array: one "
                "call takes arrays of one library (convert one of them first)",
                libraries=(first[1], library))


def known_shape(shape: Any) -> bool:
    """Whether every size in ``shape`` is known (a Dask array's may be NaN or None).

    >>> known_shape((2, 3)), known_shape((float("nan"), 3))
    (True, False)
    """
    return all(n is not None and not (isinstance(n, float) and math.isnan(n)) for n in shape)
