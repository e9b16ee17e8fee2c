"""Programs of the index language: read, inspect, evaluate.

:func:`parse` reads text in the notation of the seed document (compact
``x^n_d`` or document ``^n(x)_d``) and returns a :class:`Program`: its
declarations and equations, each right-hand side a sum of product terms
whose einsum strings run through cached plans.

>>> import numpy as np
>>> program = parse('''
... input x^n_d
... param W^d_h, b_h
... a^n_h = x^n_d W^d_h + b_h
... ''')
>>> program.einsums()[0][0]
'nd,dh->nh'
>>> out = program.evaluate(x=np.ones((2, 3)), W=np.ones((3, 4)), b=np.zeros(4))
>>> out["a"].shape
(2, 4)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from . import ir
from .check.confirm import confirm_derivations
from .check.judge import check
from .check.report import CheckReport
from .derive.assemble import deriv_refs, derived_statements, read_atoms
from .derive.augment import augment
from .derive.jacobian import jacobian
from .derive.reverse import derive, scalar_of
from .einsum.arrays import ArrayKind, array_kind, is_foreign, known_shape
from .einsum.plan import Plan, optimize_key, plan
from .einsum.subscripts import operand_shapes
from .errors import (
    InternalError,
    InvalidArgumentError,
    ProgramError,
    VarianceError,
    internal_errors,
    raise_internal,
)
from .evaluate.domains import random_inputs
from .evaluate.execute import Compiled
from .notation import read
from .notation.lint import Lint, lint
from .render import module_html, operand_names, render, render_latex, spelling
from .typing import OptimizeKind

__all__ = ["Einsum", "Program", "parse"]


class Program(ir.Module):
    """A program of the index language: what it holds, and everything done with it.

    The data and the questions about it (``statements``, ``tensors``,
    ``equations``, ``inputs``, ``index_sizes``, …) are those of
    :class:`~indexnet.ir.Module`; a Program adds evaluation (compiled once per
    set of shapes, dtypes and optimizer, the last few kept), derivation,
    checking and rendering. Two programs are equal when they mean the same,
    however they were spelled.
    """

    #: How many compiled forms (one per set of shapes, dtypes and optimizer) are kept.
    CACHE_SIZE = 8

    def __init__(
        self,
        statements: tuple[ir.Statement, ...],
        tensors: Mapping[str, ir.TensorInfo],
        source: str = "",
        implicit: bool = False,
    ) -> None:
        super().__init__(statements, tensors, source, implicit)
        self._compiled: OrderedDict[tuple[Any, ...], Compiled] = OrderedDict()
        #: Earlier NumPy calls (:meth:`_remember`): the signature of their compiled form, that
        #: form, and the tensors to keep of an augmented program's (None: all).
        self._warm: dict[tuple[Any, ...],
                         tuple[tuple[Any, ...], Compiled, tuple[str, ...] | None]] = {}
        self._warnings: list[Lint] | None = None
        self._augmented: ir.Module | None = None

    @classmethod
    def of(cls, module: ir.Module) -> Program:
        """The program over ``module``'s statements (``module`` itself if it is one)."""
        if isinstance(module, Program):
            return module
        return cls(module.statements, module.tensors, module.source, module.implicit)

    def replace(self, statements: Sequence[ir.Statement],
                tensors: Mapping[str, ir.TensorInfo] | None = None) -> Program:
        """A program of the same source with other ``statements`` (and ``tensors``)."""
        return Program.of(super().replace(statements, tensors))

    @property
    def warnings(self) -> list[Lint]:
        """Variance warnings (INDEX-LANGUAGE.md, section 2), each with line and column."""
        if self._warnings is None:
            with spelling(self):
                self._warnings = lint(self)
        return list(self._warnings)

    def einsums(self) -> list[Einsum]:  # type: ignore[override]
        """Every einsum string, with the equation it comes from, in evaluation order.

        Each is an :class:`Einsum`, a pair ``(subscripts, equation)`` that
        shows itself readably, its operands named:

        >>> parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h").einsums()
        [Einsum('nd,dh->nh', x, W -> a, line 3)]
        >>> [(e, eq.line) for e, eq in parse("a^n_h = x^n_d W^d_h").einsums()]
        [('nd,dh->nh', 1)]
        """
        return [Einsum(p.einsum, eq, operand_names(p)) for eq in self.equations
                for p in ir.iter_products(eq.rhs) if p.einsum]

    # -- plans and evaluation -----------------------------------------------------------

    def plans(
        self, sizes: Mapping[str, int], optimize: OptimizeKind = "auto"
    ) -> list[tuple[str, ir.Equation, Plan]]:
        """Every einsum with its equation and its :class:`~indexnet.einsum.plan.Plan` at ``sizes``.

        These are the plans that :meth:`evaluate` runs with the same ``optimize``.

        >>> [(e, p.flops) for e, _, p in parse("a^n_h = x^n_d W^d_h").plans(
        ...     {"n": 2, "d": 3, "h": 4})]
        [('nd,dh->nh', 48)]
        """
        resolved = self.index_sizes(sizes)
        out = []
        for eq in self.equations:
            for product in ir.iter_products(eq.rhs):
                if product.einsum:
                    shapes = operand_shapes(product.operands, resolved)
                    out.append((product.einsum, eq, plan(product.einsum, *shapes,
                                                         optimize=optimize)))
        return out

    def random_inputs(
        self, sizes: Mapping[str, int] | None = None, *, seed: int = 0, dtype: Any = "float64"
    ) -> dict[str, np.ndarray]:
        """Arrays for every input and param, drawn from their declared domains.

        Sizes come from ``sizes``, then ``size`` lines, then small distinct
        defaults.

        >>> xs = parse("input y^n_k : onehot(k)\\nsize n=2, k=3\\ns = y^n_k").random_inputs()
        >>> xs["y"].sum(axis=1).tolist()
        [1.0, 1.0]
        """
        return random_inputs(self, sizes, seed=seed, dtype=dtype)

    def evaluate(self, *, optimize: OptimizeKind = "auto", **arrays: Any) -> dict[str, Any]:
        """Evaluate every equation; return each defined tensor by key, in order.

        Arrays are given by tensor key (``evaluate(x=…, W=…)``; a labelled
        tensor such as ``(w_ℓ)`` by ``**{"w_ℓ": …}``). The program is compiled
        once per set of shapes, dtypes, array library and ``optimize`` (the
        plans :meth:`plans` reports): every einsum is planned then and only
        called afterwards. The last :attr:`CACHE_SIZE` compiled forms are kept.
        A call of NumPy float arrays with the names, types, shapes and dtypes of
        an earlier one (and its ``optimize``) runs that compiled form directly,
        one dict lookup and nothing checked again.

        NumPy arrays, numbers and lists give NumPy arrays. Arrays of another
        library (torch, JAX, CuPy, Dask; the ``backends`` extra) give arrays
        of that library, on their device, in their dtype (integers become the
        library's default float); Dask arrays stay lazy. Two libraries in one
        call raise :class:`~indexnet.errors.ArrayLibraryError`.

        >>> import numpy as np
        >>> out = parse("a^n_h = x^n_d W^d_h").evaluate(x=np.ones((2, 3)), W=np.ones((3, 4)))
        >>> out["a"][0].tolist()
        [3.0, 3.0, 3.0, 3.0]
        """
        key: tuple[Any, ...] | None = None
        try:  # NumPy arrays as in an earlier call: its compiled form, nothing checked again
            if len(arrays) == 2:  # unrolled: the commonest call, kept cheapest
                (first, a), (second, b) = arrays.items()
                key = (optimize.__class__, optimize, first, a.__class__, a.shape, a.dtype,
                       second, b.__class__, b.shape, b.dtype)
            else:
                flat: list[Any] = [optimize.__class__, optimize]
                for name, value in arrays.items():
                    flat += (name, value.__class__, value.shape, value.dtype)
                key = tuple(flat)
            signature, compiled, own = self._warm[key]
        except (KeyError, TypeError, AttributeError):  # a first call, lists, another library
            return self._evaluate_checked(optimize, arrays, key)
        self._compiled.move_to_end(signature)  # recently used, as on the checked path
        try:  # the policy of @internal_errors, without its extra call
            if own is None:  # ``arrays`` is this call's own dict: run_known may fill it
                return compiled.run_known(arrays)
            return _own_tensors(compiled.run_known, own, arrays)
        except Exception as err:
            raise_internal(err, "evaluating a program")

    @internal_errors("evaluating a program")
    def _evaluate_checked(self, optimize: OptimizeKind, arrays: dict[str, Any],
                          key: tuple[Any, ...] | None) -> dict[str, Any]:
        """:meth:`evaluate` with every check; a NumPy call of float arrays is remembered.

        ``key`` is the call's key for :meth:`_remember` (None where it could not be built).
        """
        env, library = self._arrays(arrays)
        if library is None:
            signature: tuple[Any, ...] = (
                optimize_key(optimize), *((k, env[k].shape, env[k].dtype.str) for k in self.inputs))
        else:
            signature = (optimize_key(optimize), library.key,
                         *((k, tuple(env[k].shape), str(env[k].dtype)) for k in self.inputs))
        compiled = self._compiled.get(signature)
        if compiled is None:
            if library is not None:
                dtype: Any = library.numpy_dtype
            else:
                dtype = np.result_type(*env.values()) if env else np.float64
            compiled = self.compile({k: tuple(env[k].shape) for k in self.inputs}, dtype,
                                    optimize=optimize, library=library)
            self._compiled[signature] = compiled
            if len(self._compiled) > self.CACHE_SIZE:
                evicted, _ = self._compiled.popitem(last=False)
                self._warm = {k: v for k, v in self._warm.items() if v[0] != evicted}
        else:
            self._compiled.move_to_end(signature)
        out = compiled(env)
        augmented = compiled.program is not self
        if augmented:  # back to this program's tensors, in order
            out = {k: out[k] for k in self.tensors if k in out}
        if key is not None and library is None and all(
                type(v) is np.ndarray and env[k] is v for k, v in arrays.items()):  # as given
            self._remember(key, signature, compiled, tuple(self.tensors) if augmented else None)
        return out

    def _remember(self, key: tuple[Any, ...], signature: tuple[Any, ...], compiled: Compiled,
                  own: tuple[str, ...] | None) -> None:
        """Keep ``compiled`` (cached under ``signature``) for calls matching ``key``.

        The key holds ``optimize`` with its type (``1 == True``, but only
        ``True`` is an optimizer flag), the names in the order given, and each
        array's type, shape and dtype; an entry goes when its compiled form does.
        A warm call runs ``compiled.run_known`` (generated on that first warm
        call), keeping only the tensors ``own`` of an augmented program.
        """
        try:
            hash(key)
        except TypeError:  # an optimizer object that cannot be a key
            return
        if len(self._warm) >= 4 * self.CACHE_SIZE:  # the same arrays named in many orders
            self._warm.clear()
        self._warm[key] = (signature, compiled, own)

    def _arrays(self, arrays: Mapping[str, Any]) -> tuple[dict[str, Any], ArrayKind | None]:
        """The given arrays by key, checked: every input present, nothing else; and their library.

        The library is None for NumPy (arrays, numbers, lists); else every
        array is made a real array of that one library (:func:`real_foreign`).
        """
        env: dict[str, Any] = {}
        foreign = False
        for key, value in arrays.items():
            info = self.tensors.get(key)
            if info is None or info.role == "defined":
                raise InvalidArgumentError(
                    f"{key!r} is not an input of this program; inputs: "
                    f"{', '.join(self.inputs) or 'none'}")
            if type(value) is not np.ndarray and is_foreign(value):
                foreign = True
                env[key] = value
            else:
                env[key] = real_array(key, value)
        library = array_kind(arrays) if foreign else None  # one library and device, else an error
        if library is not None:
            env = {key: real_foreign(key, value, library) for key, value in env.items()}
            library = array_kind(env)  # the dtype of the arrays as converted
        self._require_inputs(env)
        return env, library

    def _require_inputs(self, env: Mapping[str, Any]) -> None:
        """Raise :class:`~indexnet.errors.ProgramError` for the first input ``env`` lacks."""
        for key in self.inputs:
            if key not in env:
                info = self.tensors[key]
                role = "input" if info.role == "implicit" else info.role
                raise ProgramError(f"no array for {role} {key!r}; give evaluate({key}=…)",
                                   line=info.line, column=info.column, source=self.source)

    def compile(self, shapes: Mapping[str, Sequence[int]], dtype: Any = "float64", *,
                optimize: OptimizeKind = "auto", library: ArrayKind | None = None) -> Compiled:
        """Compile for the given input ``shapes`` (planning every einsum now).

        :meth:`evaluate` does this once per set of shapes and caches the result.
        ``library`` (None: NumPy) is the array library, dtype and device of
        the arrays it will run on (:func:`~indexnet.einsum.arrays.array_kind`).

        >>> compiled = parse("a^n_h = x^n_d W^d_h").compile({"x": (2, 3), "W": (3, 4)})
        >>> [str(p.subscripts) for p in compiled.plans]
        ['nd,dh->nh']
        """
        program = self._with_derivatives()
        sizes = program.size_model.resolve(shapes)
        return Compiled(program, sizes, dtype, optimize=optimize, library=library)

    def _with_derivatives(self) -> ir.Module:
        """This program, computing first the derivative atoms ``dL/dX`` its equations read."""
        if self._augmented is None:
            reads = any(isinstance(f, ir.DerivRef) for eq in self.equations
                        for p in ir.iter_products(eq.rhs) for f in p.factors)
            if not reads or self.derivations:
                self._augmented = self
            else:
                self._augmented = augment(self)[0]
        return self._augmented

    # -- derivatives --------------------------------------------------------------------

    @internal_errors("deriving a program")
    def derive(self, of: str | None = None, wrt: str | Iterable[str] | None = None, *,
               domains: bool = True, confirm: bool = True) -> Program:
        """The program with the simplified derivatives of scalar ``of`` by ``wrt`` added.

        ``of`` defaults to the scalar defined last, ``wrt`` to every param;
        ``domains`` uses ``onehot``/``simplex`` declarations (the result is
        then exact for data from those domains). Evaluating the result
        returns the derivatives too, under keys such as ``dL/dW``.

        With ``confirm`` (the default) every derivative is evaluated on random
        inputs at small sizes and held against central finite differences
        before it is returned; one that disagrees, or cannot be evaluated,
        raises :class:`~indexnet.errors.InternalError` instead of being
        returned wrong.

        >>> p = parse("input x^n_d\\nparam w^d\\nL = sum_n sigmoid(x^n_d w^d)")
        >>> print(p.derive().derivations[0])
        dL/dw^d = xᵀ_n^d sigmoid'(x^n_b w^b)
        """
        of = of or scalar_of(self)
        wanted = list(self.params) if wrt is None else [wrt] if isinstance(wrt, str) else list(wrt)
        atoms: dict[str, list[str]] = {}
        jacobians: dict[str, ir.Derivation] = {}
        for atom in read_atoms(self):
            if atom.top is None:
                atoms.setdefault(atom.of, []).append(atom.wrt.key)
            elif atom.key not in jacobians:
                jacobians[atom.key] = jacobian(self, atom.of, atom.wrt.key)
                for inner in deriv_refs(jacobians[atom.key].rhs):
                    atoms.setdefault(inner.of, []).append(inner.wrt.key)
        keys = list(dict.fromkeys([*wanted, *atoms.pop(of, [])]))
        found = derive(self, of, keys, domains=domains)
        for other, reads in atoms.items():
            found += derive(self, other, list(dict.fromkeys(reads)), domains=domains)
        derived = self.replace(derived_statements(self, [*found, *jacobians.values()]))
        if confirm:
            wrong = confirm_derivations(derived)
            if wrong:
                raise InternalError(f"internal error, please report: deriving a program: "
                                    f"{'; '.join(wrong)}")
        return derived

    @internal_errors("checking the claims of a program")
    def check(self, sizes: Mapping[str, int] | None = None, *, draws: int = 3,
              seed: int = 0) -> CheckReport:
        """Judge every claim against the exact derivative (see :mod:`indexnet.check`).

        >>> p = parse("input x^n_d\\nparam w^d\\nL = x^n_d w^d\\nclaim dL/dw^d = x^n_d")
        >>> report = p.check()
        >>> report.ok, [r.ok for r in report]
        (True, [True])
        """
        with spelling(self):
            return check(self, sizes, draws=draws, seed=seed)

    # -- text ---------------------------------------------------------------------------

    def render(self, form: str = "compact") -> str:
        """The program as text: ``compact``, ``document`` or ``latex``; parse() reads it back.

        >>> print(parse("^n(a)_h = ^n(x)_d (W)^d_h").render())
        a^n_h = x^n_d W^d_h
        """
        return render(self, form)

    def _repr_latex_(self) -> str:
        return render_latex(self)

    def _repr_html_(self) -> str:
        """Every statement as LaTeX math beside its diagram, for notebooks."""
        return module_html(self)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        roles: dict[str, list[str]] = {}
        for key, info in self.tensors.items():
            roles.setdefault(info.role, []).append(key)
        parts = [f"{len(self.equations)} equation{'s' if len(self.equations) != 1 else ''}"]
        parts += [f"{role}s {', '.join(keys)}" for role, keys in roles.items() if role != "defined"]
        return f"Program({'; '.join(parts)})"


def _own_tensors(run: Callable[[dict[str, Any]], dict[str, Any]], keys: tuple[str, ...],
                 env: dict[str, Any]) -> dict[str, Any]:
    """``run(env)`` with only the tensors ``keys`` names, in that order."""
    out = run(env)
    return {k: out[k] for k in keys if k in out}


def real_array(key: str, value: Any) -> np.ndarray:
    """``value`` as a real array (bool and integers become float64); else a typed error.

    An object array is read when every element is a real number (``Decimal``,
    ``Fraction``, Python floats); the first that is not (``None``, text, a
    complex number, any other object) is named with its index.

    >>> real_array("x", [["a", "b"]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: array 'x' has dtype <U1: evaluate needs real numbers ...
    >>> real_array("x", np.array([[1.5, None]], dtype=object))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: array 'x' holds None (NoneType) at index [0, 1]: ...
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise InvalidArgumentError(f"array {key!r} is not a rectangular array of numbers: "
                                   f"{err}") from None
    kind = array.dtype.kind
    if kind == "f":
        return array
    if kind == "c":
        raise InvalidArgumentError(
            f"array {key!r} has dtype {array.dtype}: complex arrays are not supported; "
            "programs of the index language evaluate real numbers only")
    if kind in "biu":
        return array.astype(np.float64)
    if kind == "O":
        for flat, element in enumerate(array.reshape(-1)):
            if (element is None or isinstance(element, (str, bytes, complex, np.complexfloating))
                    or not hasattr(element, "__float__")):
                index = ", ".join(str(int(i)) for i in np.unravel_index(flat, array.shape))
                shown = repr(element) if len(repr(element)) <= 40 else repr(element)[:37] + "..."
                raise InvalidArgumentError(
                    f"array {key!r} holds {shown} ({type(element).__name__}) at index "
                    f"[{index}]: evaluate needs real numbers (bool, integer or float)")
        try:
            return array.astype(np.float64)
        except (ValueError, TypeError, OverflowError) as err:
            raise InvalidArgumentError(f"array {key!r} cannot be read as real numbers: "
                                       f"{err}") from None
    raise InvalidArgumentError(f"array {key!r} has dtype {array.dtype}: evaluate needs real "
                               "numbers (bool, integer or float)")


def real_foreign(key: str, value: Any, library: ArrayKind) -> Any:
    """``value`` as a real array of ``library``: its floats as they are, else a typed error.

    Booleans and integers become the library's default float on the
    arrays' device; numbers and lists are read as :func:`real_array` reads
    them, then moved to the library. A Dask array of unknown chunk sizes is
    refused (its shape is needed to compile).
    """
    if not is_foreign(value):
        return library.asarray(real_array(key, value))
    shape = tuple(value.shape)
    if not known_shape(shape):
        raise InvalidArgumentError(
            f"array {key!r} has unknown sizes {shape}: evaluate needs every size "
            "(for a Dask array, call compute_chunk_sizes() first)")
    xp, dtype = library.xp, value.dtype
    if xp.isdtype(dtype, "real floating"):
        return value
    if xp.isdtype(dtype, "complex floating"):
        raise InvalidArgumentError(
            f"array {key!r} has dtype {dtype}: complex arrays are not supported; "
            "programs of the index language evaluate real numbers only")
    if xp.isdtype(dtype, ("bool", "integral")):
        return xp.astype(value, library.default_float())
    raise InvalidArgumentError(f"array {key!r} has dtype {dtype}: evaluate needs real "
                               "numbers (bool, integer or float)")


class Einsum(tuple):
    """One einsum string of a program: ``(subscripts, equation)``, its operands named.

    It unpacks as the pair (``for subscripts, equation in program.einsums()``);
    ``operands`` names the tensors it contracts, in order, and ``str()`` is
    the einsum string.
    """

    operands: tuple[str, ...]

    def __new__(cls, subscripts: str, equation: ir.Equation,
                operands: tuple[str, ...] = ()) -> Einsum:
        """The pair ``(subscripts, equation)``, with ``operands`` kept beside it."""
        entry = super().__new__(cls, (subscripts, equation))
        entry.operands = operands
        return entry

    @property
    def subscripts(self) -> str:
        """The einsum string, ``nd,dh->nh``."""
        return str(self[0])

    @property
    def equation(self) -> ir.Equation:
        """The equation the einsum string comes from."""
        return self[1]

    def __str__(self) -> str:
        return self.subscripts

    def __repr__(self) -> str:
        """``Einsum('nd,dh->nh', x, W -> a, line 3)``: the string, its operands, its equation."""
        return (f"Einsum({self.subscripts!r}, {', '.join(self.operands)} -> "
                f"{self.equation.target.key}, line {self.equation.line})")


@internal_errors("reading a program")
def parse(text: str, *, strict: bool = False) -> Program:
    """Read a program (or one equation) of the index language.

    With ``strict``, the first variance warning raises
    :class:`~indexnet.errors.VarianceError`. Every error carries
    ``line`` and ``column``.

    >>> parse("a^n_h = ^n(x)_d (W)^d_h").einsums()[0][0]
    'nd,dh->nh'
    >>> try:
    ...     parse("g^d_h = x^n_d δ^n_h", strict=True)
    ... except VarianceError as err:
    ...     print(err.line, err.column, err.message.split(";")[0])
    1 9 n is summed over two upper positions (x^n_d, δ^n_h)
    """
    program = Program.of(read(text))
    if strict:
        for warning in program.warnings:
            raise VarianceError(warning.message, line=warning.line, column=warning.column,
                                source=program.source)
    return program
