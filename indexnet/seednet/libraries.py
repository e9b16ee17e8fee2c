"""The array libraries a network runs on: torch, JAX, CuPy, each with its dtype and device.

:class:`Library` is what :mod:`indexnet.seednet.backends` needs of a
library: moving NumPy data onto its device in the network's dtype, and the
few elementwise calls (``exp`` in place, a row maximum, a safe ``log``,
the activations) that have a native spelling in each. :func:`to_numpy`
brings any of their arrays back.

>>> to_numpy([1.0, 2.0]).tolist()
[1.0, 2.0]
"""

from __future__ import annotations

import functools
import importlib
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..einsum.arrays import is_foreign, library_name
from ..einsum.plan import Plan
from ..errors import ArrayLibraryError, InvalidArgumentError

__all__ = ["BACKENDS", "Library", "to_numpy"]

Kernel = Callable[..., Any]

#: Array libraries a network can run on (``numpy`` is the network's own fast path).
BACKENDS = ("numpy", "torch", "jax", "cupy")


def to_numpy(value: Any) -> np.ndarray:
    """``value`` as a NumPy array: torch tensors (any device), JAX and CuPy arrays, lists.

    >>> import numpy as np
    >>> a = np.ones(2)
    >>> to_numpy(a) is a
    True
    """
    if type(value) is np.ndarray:
        return value
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "get") and type(value).__module__.startswith("cupy"):
        return value.get()
    return np.asarray(value)


@dataclass(frozen=True)
class Library:
    """One array library as a network uses it: module, dtype, device and a few native calls."""

    name: str
    module: Any
    xp: Any  # array-api-compat's namespace (for the calls with no native spelling)
    dtype: Any
    device: Any
    mutable: bool  # arrays change in place (torch, CuPy), or each step binds new ones (JAX)
    numpy_dtype: np.dtype[Any]
    array_type: Any  # the library's array class

    @classmethod
    def resolve(cls, name: str, dtype: np.dtype[Any], device: Any = None) -> Library:
        """The library ``name`` for arrays of ``dtype`` on ``device`` (its default if None)."""
        try:
            module = importlib.import_module("jax.numpy" if name == "jax" else name)
            compat = importlib.import_module("array_api_compat")
        except ImportError as err:
            raise ArrayLibraryError(
                f"backend {name!r} needs {err.name}: pip install 'indexnet[backends]'",
                libraries=(name,)) from None
        # torch has dtypes of its own; JAX and CuPy use NumPy's
        native_dtype = getattr(module, str(dtype)) if name == "torch" else np.dtype(dtype)
        if name == "torch":
            where = module.device(device if device is not None else
                                  "cuda" if module.cuda.is_available() else "cpu")
        elif name == "jax":
            where = _jax_device(device)
            _check_jax_dtype(module, dtype)
        else:  # cupy
            where = module.cuda.Device(0 if device is None else int(str(device).rpartition(":")[2]))
        probe = _empty(name, module, native_dtype, where)
        return cls(name, module, compat.array_namespace(probe), native_dtype, _device(probe),
                   mutable=name != "jax", numpy_dtype=np.dtype(dtype), array_type=type(probe))

    # -- moving data ----------------------------------------------------------------------

    def asarray(self, value: Any, what: str = "array") -> Any:
        """``value`` (NumPy, a list, or this library's array) in this dtype, on this device."""
        if (type(value) is self.array_type and value.dtype == self.dtype
                and value.device == self.device):  # the hot loop's case, kept cheapest
            return value
        if self.owns(value):
            if value.dtype == self.dtype and _device(value) == self.device:
                return value
            return self._convert(value)
        if is_foreign(value):
            kind = library_name(value)
            raise ArrayLibraryError(
                f"{what} is a {kind} array but the network runs on {self.name}: convert it "
                f"first (or pass a NumPy array)", libraries=(self.name, kind))
        array = np.asarray(value)
        if not array.flags.writeable:  # torch would warn: it cannot share read-only memory
            array = array.copy()
        if array.dtype.kind not in "biuf":
            raise InvalidArgumentError(f"{what} must hold real numbers, got dtype {array.dtype}")
        return self._convert(np.ascontiguousarray(array, dtype=self.numpy_dtype))

    def _convert(self, value: Any) -> Any:
        if self.name == "torch":
            return self.module.as_tensor(value, dtype=self.dtype, device=self.device)
        if self.name == "jax":
            import jax  # deferred: optional

            return jax.device_put(self.module.asarray(value, dtype=self.dtype), self.device)
        with self.device:
            return self.module.asarray(value, dtype=self.dtype)

    def index(self, rows: np.ndarray) -> Any:
        """Row indices (a NumPy integer array) as this library's index array on the device."""
        if self.name == "torch":
            return self.module.as_tensor(rows, device=self.device)
        if self.name == "jax":
            return rows  # JAX's data sets stay on the host (Network.as_dataset)
        with self.device:
            return self.module.asarray(rows)

    def owns(self, value: Any) -> bool:
        """Whether ``value`` is an array of this library."""
        root = type(value).__module__.partition(".")[0]
        return root == self.name or (self.name == "jax" and root == "jaxlib")

    def copy(self, value: Any) -> Any:
        """A fresh copy of one of this library's arrays."""
        return value.clone() if self.name == "torch" else self.xp.asarray(value, copy=True)

    def zeros_like(self, value: Any) -> Any:
        """Zeros shaped and typed like ``value``, on its device."""
        return self.module.zeros_like(value)

    # -- the few elementwise calls the network makes ----------------------------------------

    def exp_(self, a: Any) -> Any:
        """``exp(a)``, in place where the library allows it."""
        if self.name == "torch":
            return a.exp_()
        if self.mutable:
            return self.module.exp(a, out=a)
        return self.module.exp(a)

    def row_max(self, a: Any) -> Any:
        """The maximum of every row, kept as a column."""
        if self.name == "torch":
            return a.amax(1, keepdim=True)
        return a.max(axis=1, keepdims=True)

    def safe_log(self, p: Any) -> Any:
        """``log(max(p, tiny))``: the log of probabilities, never −inf."""
        if self.name == "torch":
            return self.module.log(p.clamp_min(self.tiny))
        return self.module.log(self.module.maximum(p, self.tiny))

    @functools.cached_property
    def tiny(self) -> float:
        """The smallest normal number of the dtype."""
        return float(np.finfo(self.numpy_dtype).tiny)

    def keep_dims(self, compiled: Plan) -> Kernel:
        """A one-step row-sum plan (``nh->n``) lowered to keep the summed axis: a column."""
        step = compiled.steps[0]
        term, _, kept = step.subscripts.partition("->")
        if len(compiled.steps) != 1 or step.kind != "sum" or len(term) != 2 or len(kept) != 1:
            return lambda a: compiled(a)[:, None]
        axis = term.index(kept) ^ 1
        if self.name == "torch":
            return operator.methodcaller("sum", axis, keepdim=True)
        return operator.methodcaller("sum", axis=axis, keepdims=True)

    def argmax(self, a: Any) -> Any:
        """Index of the largest entry of every row."""
        return self.module.argmax(a, axis=1) if self.name != "torch" else a.argmax(1)

    def activations(self) -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any] | None]]:
        """Each hidden activation and its derivative in terms of its output, in this library."""
        m = self.module
        if self.name == "torch":
            sigmoid, relu = m.sigmoid, m.relu
        elif self.name == "jax":
            import jax  # deferred: optional

            sigmoid, relu = jax.nn.sigmoid, jax.nn.relu
        else:
            def sigmoid(a: Any) -> Any:
                return 0.5 * (1.0 + m.tanh(0.5 * a))

            def relu(a: Any) -> Any:
                return m.maximum(a, 0.0)

        astype = self.xp.astype
        return {
            "sigmoid": (sigmoid, lambda s: s * (1.0 - s)),
            "tanh": (m.tanh, lambda t: 1.0 - t * t),
            "relu": (relu, lambda r: astype(r > 0, r.dtype)),
            "identity": (lambda a: a, None),
        }


def _empty(name: str, module: Any, dtype: Any, device: Any) -> Any:
    if name == "torch":
        return module.zeros(1, dtype=dtype, device=device)
    if name == "jax":
        import jax  # deferred: optional

        return jax.device_put(module.zeros(1, dtype=dtype), device)
    with device:
        return module.zeros(1, dtype=dtype)


def _jax_device(device: Any) -> Any:
    import jax  # deferred: optional

    if device is None:
        return jax.devices()[0]
    if not isinstance(device, str):
        return device
    platform, _, number = device.partition(":")
    try:
        return jax.devices(platform)[int(number or 0)]
    except (RuntimeError, IndexError, ValueError):
        raise InvalidArgumentError(
            f"device must name one of JAX's devices ({', '.join(map(str, jax.devices()))}), "
            f"got {device!r}") from None


def _check_jax_dtype(jnp: Any, dtype: np.dtype[Any]) -> None:
    import jax  # deferred: optional

    if dtype == np.float64 and not jax.config.read("jax_enable_x64"):
        raise InvalidArgumentError(
            "JAX runs in float32 unless 64-bit mode is on: call "
            "jax.config.update('jax_enable_x64', True) first, or use dtype='float32'")


def _device(value: Any) -> Any:
    device = getattr(value, "device", None)
    if callable(device):  # a JAX array's devices() / device() differ across versions
        device = next(iter(value.devices()))
    return device
