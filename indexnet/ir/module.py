"""A lowered program as data: its statements, its tensors, and questions about them.

:class:`Module` is what lowering produces and what evaluation, derivation,
checking and rendering consume. It answers questions about the program
(which tensors are inputs, what each index's size is) and holds no arrays,
plans or printers; :class:`indexnet.program.Program` is the facade that adds
evaluation, derivation, checking and rendering on top of it.

>>> from indexnet.program import parse
>>> module = parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h")
>>> module.inputs, module.defined, module.index_sizes({"n": 2}, shapes={"W": (3, 4)})
(('x', 'W'), ('a',), {'n': 2, 'd': 3, 'h': 4})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from ..errors import InvalidArgumentError
from . import nodes as ir
from .elementwise import FUNCTIONS
from .sizing import SizeModel

__all__ = ["Module", "resolve_function"]


class Module:
    """A lowered program: declarations, equations (and claims) in the order written.

    Attributes: ``statements``; ``tensors`` (every tensor by key, with its
    role: ``input``, ``param``, ``defined`` or ``implicit``); ``source``;
    ``implicit`` (True when the program declares no inputs or params, so
    that every tensor it does not define is an input). Two modules are
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
        self._model: SizeModel | None = None

    # -- what it holds ------------------------------------------------------------------

    @property
    def equations(self) -> tuple[ir.Equation, ...]:
        """The equations in order."""
        return tuple(s for s in self.statements if isinstance(s, ir.Equation))

    @property
    def claims(self) -> tuple[ir.Claim, ...]:
        """The claims in order (checked by ``indexnet check``, not evaluated)."""
        return tuple(s for s in self.statements if isinstance(s, ir.Claim))

    @property
    def derivations(self) -> tuple[ir.Derivation, ...]:
        """Derived derivatives (what derivation adds), in order."""
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
        """Every einsum string, with the equation it comes from, in evaluation order."""
        return [(e, eq) for eq in self.equations for e in eq.einsums()]

    def replace(self, statements: Sequence[ir.Statement],
                tensors: Mapping[str, ir.TensorInfo] | None = None) -> Module:
        """A module of the same source with other ``statements`` (and ``tensors``)."""
        return Module(tuple(statements), self.tensors if tensors is None else tensors,
                      self.source, self.implicit)

    # -- sizes --------------------------------------------------------------------------

    @property
    def size_model(self) -> SizeModel:
        """Which letters and axes share a size (built once)."""
        if self._model is None:
            self._model = SizeModel(self)
        return self._model

    def index_sizes(
        self,
        sizes: Mapping[str, int] | None = None,
        *,
        shapes: Mapping[str, Sequence[int]] | None = None,
        defaults: bool = False,
    ) -> dict[str, int]:
        """The size of every index from array ``shapes``, given ``sizes`` and ``size`` lines."""
        return self.size_model.resolve(shapes or {}, sizes, defaults=defaults)

    def check_letters(self, sizes: Mapping[str, int] | None, what: str = "sizes") -> None:
        """Raise for a letter in ``sizes`` that the program does not use (a typo hides there).

        >>> from indexnet.program import parse
        >>> parse("y^i = A^i_j x^j").check_letters({"i": 2, "q": 3}, "--sizes")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        indexnet.errors.InvalidArgumentError: --sizes gives q=3, but the program has no index q; ...
        """
        known = set(self.size_model.letters)
        for letter, n in (sizes or {}).items():
            if letter not in known:
                raise InvalidArgumentError(
                    f"{what} gives {letter}={n}, but the program has no index {letter}; its "
                    f"indices: {', '.join(self.size_model.letters) or 'none'}")

    def shape(self, key: str, sizes: Mapping[str, int]) -> tuple[int, ...]:
        """The shape of tensor ``key`` under index ``sizes``."""
        if key not in self.tensors:
            raise InvalidArgumentError(self._unknown(key))
        return self.size_model.shape(key, sizes)

    # -- identity -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Module):
            return NotImplemented
        return self.statements == other.statements

    def __hash__(self) -> int:
        return hash(self.statements)

    def _unknown(self, key: str) -> str:
        return f"unknown tensor {key!r}; known tensors: {', '.join(self.tensors) or 'none'}"


def resolve_function(module: Any, call: ir.Call) -> tuple[str, int, str | None] | None:
    """The built-in behind a call, its total primes and its index; None if undeclared.

    >>> from indexnet.ir import Call
    >>> resolve_function(Module((), {}), Call("tanh", None, 1, None, (), ""))
    ('tanh', 1, None)
    """
    if call.function in FUNCTIONS:
        return call.function, call.primes, call.index
    act = module.acts.get(ir.tensor_key(call.function, call.label))
    if act is None and call.label is not None:
        act = module.acts.get(call.function)
    if act is None:
        return None
    return act.function, act.primes + call.primes, call.index or act.index
