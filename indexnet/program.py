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

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ir
from .errors import InvalidArgumentError
from .notation.errors import ProgramError, VarianceError
from .plan import Plan, plan
from .typing import OptimizeKind

if TYPE_CHECKING:
    from .check import CheckReport
    from .execute import Compiled
    from .notation.lint import Lint
    from .sizing import SizeModel

__all__ = ["Program", "parse"]


class Program:
    """A lowered program: declarations, equations (and claims) in the order written.

    Attributes: ``statements``; ``tensors`` (every tensor by key, with its
    role: ``input``, ``param``, ``defined`` or ``implicit``); ``source``;
    ``implicit`` (True when the program declares no inputs or params, so
    that every tensor it does not define is an input). Two programs are
    equal when they mean the same, however they were spelled.
    """

    def __init__(
        self,
        statements: tuple[ir.Statement, ...],
        tensors: Mapping[str, ir.TensorInfo],
        source: str = "",
        implicit: bool = False,
    ) -> None:
        self.statements = statements
        self.tensors = dict(tensors)
        self.source = source
        self.implicit = implicit
        self._compiled: dict[tuple[Any, ...], Compiled] = {}
        self._model: SizeModel | None = None
        self._warnings: list[Lint] | None = None
        self._augmented: Program | None = None

    # -- what it holds ------------------------------------------------------------------

    @property
    def equations(self) -> tuple[ir.Equation, ...]:
        """The equations in order."""
        return tuple(s for s in self.statements if isinstance(s, ir.Equation))

    @property
    def claims(self) -> tuple[ir.Claim, ...]:
        """The claims in order (checked by ``indexnet check``, not evaluated here)."""
        return tuple(s for s in self.statements if isinstance(s, ir.Claim))

    @property
    def derivations(self) -> tuple[ir.Derivation, ...]:
        """Derived derivatives (what :meth:`derive` adds), in order."""
        return tuple(s for s in self.statements if isinstance(s, ir.Derivation))

    @property
    def inputs(self) -> tuple[str, ...]:
        """Keys of the tensors that evaluation needs as arrays (inputs and params)."""
        return tuple(k for k, t in self.tensors.items() if t.role in ("input", "param",
                                                                         "implicit"))

    @property
    def params(self) -> tuple[str, ...]:
        """Keys of the trainable tensors."""
        return tuple(k for k, t in self.tensors.items() if t.role == "param")

    @property
    def defined(self) -> tuple[str, ...]:
        """Keys of the tensors the equations define, in order."""
        return tuple(eq.target.key for eq in self.equations)

    @property
    def consts(self) -> dict[str, Fraction]:
        """Named constants and their exact values."""
        return {s.name: s.value for s in self.statements if isinstance(s, ir.ConstDecl)}

    @property
    def acts(self) -> dict[str, ir.ActDecl]:
        """Functions declared with ``act``, by key (``f`` or ``f_ℓ``)."""
        return {s.key: s for s in self.statements if isinstance(s, ir.ActDecl)}

    @property
    def sizes(self) -> dict[str, int]:
        """Index sizes declared with ``size``."""
        out: dict[str, int] = {}
        for stmt in self.statements:
            if isinstance(stmt, ir.SizeDecl):
                out.update(stmt.sizes)
        return out

    def einsums(self) -> list[tuple[str, ir.Equation]]:
        """Every einsum string, with the equation it comes from, in evaluation order.

        >>> [e for e, _ in parse("s = sum_n sigmoid(x^n_d w^d)").einsums()]
        ['nd,d->n', 'n->']
        """
        return [(e, eq) for eq in self.equations for e in eq.einsums()]

    @property
    def size_model(self) -> SizeModel:
        """Which letters and axes share a size (built once)."""
        if self._model is None:
            from .sizing import SizeModel

            self._model = SizeModel(self)
        return self._model

    @property
    def warnings(self) -> list[Lint]:
        """Variance warnings (INDEX-LANGUAGE.md, section 2), each with line and column."""
        if self._warnings is None:
            from .notation.lint import lint

            self._warnings = lint(self)
        return list(self._warnings)

    # -- sizes and plans ----------------------------------------------------------------

    def index_sizes(
        self,
        sizes: Mapping[str, int] | None = None,
        *,
        shapes: Mapping[str, Sequence[int]] | None = None,
        defaults: bool = False,
    ) -> dict[str, int]:
        """The size of every index from array ``shapes``, given ``sizes`` and ``size`` lines.

        >>> parse("y^i = A^i_j x^j").index_sizes(shapes={"A": (3, 4)})
        {'i': 3, 'j': 4}
        """
        return self.size_model.resolve(shapes or {}, sizes, defaults=defaults)

    def shape(self, key: str, sizes: Mapping[str, int]) -> tuple[int, ...]:
        """The shape of tensor ``key`` under index ``sizes``.

        >>> parse("g^d_h = xᵀ_n^d δ^n_h").shape("x", {"n": 5, "d": 3, "h": 2})
        (5, 3)
        """
        if key not in self.tensors:
            raise InvalidArgumentError(self._unknown(key))
        return self.size_model.shape(key, sizes)

    def plans(
        self, sizes: Mapping[str, int], optimize: OptimizeKind = "auto"
    ) -> list[tuple[str, ir.Equation, Plan]]:
        """Every einsum with its equation and its :class:`~indexnet.plan.Plan` at ``sizes``.

        >>> [(e, p.flops) for e, _, p in parse("a^n_h = x^n_d W^d_h").plans(
        ...     {"n": 2, "d": 3, "h": 4})]
        [('nd,dh->nh', 48)]
        """
        resolved = self.index_sizes(sizes)
        out = []
        for eq in self.equations:
            for product in ir.iter_products(eq.rhs):
                if product.einsum:
                    shapes = [tuple(resolved[c] for c in ops) for ops in product.operands]
                    out.append((product.einsum, eq, plan(product.einsum, *shapes,
                                                         optimize=optimize)))
        return out

    # -- evaluation -------------------------------------------------------------------

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
        from .domains import draw

        resolved = self.size_model.resolve({}, sizes, defaults=True)
        rng = np.random.default_rng(seed)
        out = {}
        for key in self.inputs:
            info = self.tensors[key]
            out[key] = draw(info, resolved, rng).astype(dtype, copy=False)
        return out

    def evaluate(self, **arrays: Any) -> dict[str, np.ndarray]:
        """Evaluate every equation; return each defined tensor by key, in order.

        Arrays are given by tensor key (``evaluate(x=…, W=…)``; a labelled
        tensor such as ``(w_ℓ)`` by ``**{"w_ℓ": …}``). The program is compiled
        once per set of shapes and dtypes: every einsum is planned then and
        only called afterwards.
        """
        env: dict[str, Any] = {}
        for key, value in arrays.items():
            info = self.tensors.get(key)
            if info is None or info.role == "defined":
                raise InvalidArgumentError(
                    f"{key!r} is not an input of this program; inputs: "
                    f"{', '.join(self.inputs) or 'none'}")
            env[key] = _real_array(key, value)
        for key in self.inputs:
            if key not in env:
                info = self.tensors[key]
                role = "input" if info.role == "implicit" else info.role
                raise ProgramError(f"no array for {role} {key!r}; give evaluate({key}=…)",
                                   line=info.line, column=info.column, source=self.source)
        signature = tuple((k, env[k].shape, env[k].dtype.str) for k in self.inputs)
        compiled = self._compiled.get(signature)
        if compiled is None:
            compiled = self.compile({k: env[k].shape for k in self.inputs},
                                    np.result_type(*env.values()) if env else np.float64)
            self._compiled[signature] = compiled
        out = compiled(env)
        if compiled.program is not self:
            return {k: v for k, v in out.items() if k in self.tensors}
        return out

    def compile(self, shapes: Mapping[str, Sequence[int]], dtype: Any = "float64") -> Compiled:
        """Compile for the given input ``shapes`` (planning every einsum now).

        :meth:`evaluate` does this once per set of shapes and caches the result.

        >>> compiled = parse("a^n_h = x^n_d W^d_h").compile({"x": (2, 3), "W": (3, 4)})
        >>> [str(p.subscripts) for p in compiled.plans]
        ['nd,dh->nh']
        """
        from .execute import Compiled

        program = self._with_derivatives()
        sizes = program.size_model.resolve(shapes)
        return Compiled(program, sizes, dtype)

    def _with_derivatives(self) -> Program:
        """This program, computing first the derivative atoms ``dL/dX`` its equations read."""
        if self._augmented is None:
            reads = any(isinstance(f, ir.DerivRef) for eq in self.equations
                        for p in ir.iter_products(eq.rhs) for f in p.factors)
            if not reads or self.derivations:
                self._augmented = self
            else:
                from .autodiff import augment

                self._augmented = augment(self)[0]
        return self._augmented

    # -- derivatives --------------------------------------------------------------------

    def derive(self, of: str | None = None, wrt: str | Iterable[str] | None = None, *,
               domains: bool = True) -> Program:
        """The program with the simplified derivatives of scalar ``of`` by ``wrt`` added.

        ``of`` defaults to the scalar defined last, ``wrt`` to every param;
        ``domains`` uses ``onehot``/``simplex`` declarations (the result is
        then exact for data from those domains). Evaluating the result
        returns the derivatives too, under keys such as ``dL/dW``.

        >>> p = parse("input x^n_d\\nparam w^d\\nL = sum_n sigmoid(x^n_d w^d)")
        >>> print(p.derive().derivations[0])
        dL/dw^d = xᵀ_n^d sigmoid'(x^n_b w^b)
        """
        from .autodiff import derive

        names = [wrt] if isinstance(wrt, str) else wrt
        found = derive(self, of, names, domains=domains)
        kept = tuple(s for s in self.statements if not isinstance(s, (ir.Claim,
                                                                       ir.Derivation)))
        return Program((*kept, *found), self.tensors, self.source, self.implicit)

    def check(self, sizes: Mapping[str, int] | None = None, *, draws: int = 3,
              seed: int = 0) -> CheckReport:
        """Judge every claim against the exact derivative (see :mod:`indexnet.check`).

        >>> p = parse("input x^n_d\\nparam w^d\\nL = x^n_d w^d\\nclaim dL/dw^d = x^n_d")
        >>> report = p.check()
        >>> report.ok, [r.ok for r in report]
        (True, [True])
        """
        from .check import check

        return check(self, sizes, draws=draws, seed=seed)

    # -- text ---------------------------------------------------------------------------

    def render(self, form: str = "compact") -> str:
        """The program as text: ``compact``, ``document`` or ``latex``; parse() reads it back.

        >>> print(parse("^n(a)_h = ^n(x)_d (W)^d_h").render())
        a^n_h = x^n_d W^d_h
        """
        from .render import render

        return render(self, form)

    def _repr_latex_(self) -> str:
        from .render import render_latex

        return render_latex(self)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        roles: dict[str, list[str]] = {}
        for key, info in self.tensors.items():
            roles.setdefault(info.role, []).append(key)
        parts = [f"{len(self.equations)} equation{'s' if len(self.equations) != 1 else ''}"]
        parts += [f"{role}s {', '.join(keys)}" for role, keys in roles.items() if role != "defined"]
        return f"Program({'; '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Program):
            return NotImplemented
        return self.statements == other.statements

    def __hash__(self) -> int:
        return hash(self.statements)

    def _unknown(self, key: str) -> str:
        return f"unknown tensor {key!r}; known tensors: {', '.join(self.tensors) or 'none'}"


def _real_array(key: str, value: Any) -> np.ndarray:
    """``value`` as a real array (bool and integers become float64); else a typed error.

    >>> _real_array("x", [["a", "b"]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: array 'x' has dtype <U1: evaluate needs real numbers ...
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
        try:
            return array.astype(np.float64)
        except (ValueError, TypeError):
            pass
    raise InvalidArgumentError(f"array {key!r} has dtype {array.dtype}: evaluate needs real "
                               "numbers (bool, integer or float)")


def parse(text: str, *, strict: bool = False) -> Program:
    """Read a program (or one equation) of the index language.

    With ``strict``, the first variance warning raises
    :class:`~indexnet.notation.errors.VarianceError`. Every error carries
    ``line`` and ``column``.

    >>> parse("a^n_h = ^n(x)_d (W)^d_h").einsums()[0][0]
    'nd,dh->nh'
    >>> try:
    ...     parse("g^d_h = x^n_d δ^n_h", strict=True)
    ... except VarianceError as err:
    ...     print(err.line, err.column, err.message.split(";")[0])
    1 9 n is summed over two upper positions (x^n_d, δ^n_h)
    """
    from .notation.lower import lower
    from .notation.parser import parse_text

    program = lower(parse_text(text))
    if strict:
        for warning in program.warnings:
            raise VarianceError(warning.message, line=warning.line, column=warning.column,
                                source=program.source)
    return program
