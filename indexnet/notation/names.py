"""What each name of a program means: a tensor, a constant, a function, or nothing yet.

Lowering's first pass (:meth:`Names.collect`) records the constants, the
functions declared with ``act``, the tensors the equations define and how
the document form spells each tensor. The rules of INDEX-LANGUAGE.md on
names are checked here: nothing is declared or defined twice, a tensor is
used after its definition and with as many indices as it has, a derivative
is taken of a scalar, and a call names a built-in or declared function with
the arguments it takes. Without ``input``/``param`` declarations every
unknown tensor is an implicit input.

>>> from indexnet.notation.parser import parse_text
>>> names = Names(parse_text("const c = 2\\ny^n = c x^n"))
>>> for stmt in names.syntax.statements:
...     names.collect(stmt)
>>> sorted(names.consts), names.defined_at
(['c'], {'y': 2})
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from .. import ir
from ..errors import ProgramError
from ..ir.elementwise import FUNCTIONS
from . import ast

__all__ = ["Names", "letters", "walk_refs"]


def letters(indices: Iterable[ast.Index]) -> str:
    """The letters of ``indices``, in order, as one string."""
    return "".join(i.letters for i in indices)


def _spell(ref: ir.Ref) -> str:
    out = ref.name
    if ref.upper:
        out += "^" + (ref.upper if len(ref.upper) == 1 else "{" + ref.upper + "}")
    if ref.lower:
        out += "_" + (ref.lower if len(ref.lower) == 1 else "{" + ref.lower + "}")
    return out


class Names:
    """The names of one program and the rules on using them."""

    def __init__(self, syntax: ast.ProgramSyntax) -> None:
        self.syntax = syntax
        self.source = syntax.source
        self.tensors: dict[str, ir.TensorInfo] = {}
        self.consts: dict[str, ir.ConstDecl] = {}
        self.acts: dict[str, ir.ActDecl] = {}
        self.defined_at: dict[str, int] = {}
        self.plain_names: set[str] = set()
        self.styles: dict[str, str] = {}
        self.explicit = any(isinstance(s, ast.Decl) for s in syntax.statements)
        self.current: str | None = None
        self.in_claim = False

    def error(self, message: str, pos: ast.Pos, cls: type[ProgramError] = ProgramError
              ) -> ProgramError:
        """The error ``cls`` at ``pos``, with the source line."""
        return cls(message, line=pos.line, column=pos.column, source=self.source)

    # -- the first pass ----------------------------------------------------------------

    def collect(self, stmt: ast.Statement) -> None:
        """First pass: constants, functions and which tensors the program defines."""
        if isinstance(stmt, ast.ConstDecl):
            self._collect_const(stmt)
        elif isinstance(stmt, ast.FunctionDecl):
            self._collect_act(stmt)
        elif isinstance(stmt, ast.Equation):
            key = ir.tensor_key(stmt.lhs.name, stmt.lhs.label)
            if key in self.defined_at:
                raise self.error(f"{key} is defined twice (first on line {self.defined_at[key]})",
                                 stmt.lhs.pos)
            self.defined_at[key] = stmt.pos.line
        for node in walk_refs(stmt):  # names, and how the document form spells them
            key = ir.tensor_key(node.name, node.label)
            self.plain_names.add(key)
            if node.form == "document" and key not in self.styles:
                self._note_style(key, node)

    def _collect_const(self, stmt: ast.ConstDecl) -> None:
        if stmt.name in self.consts:
            raise self.error(f"constant {stmt.name} is declared twice (first on line "
                             f"{self.consts[stmt.name].line})", stmt.pos)
        if stmt.name in FUNCTIONS or stmt.name == "eye":
            raise self.error(f"{stmt.name} is built in and cannot be a constant", stmt.pos)
        self.consts[stmt.name] = ir.ConstDecl(stmt.name, stmt.value, stmt.pos.line,
                                               stmt.text)

    def _collect_act(self, stmt: ast.FunctionDecl) -> None:
        key = ir.tensor_key(stmt.name, stmt.label)
        if key in self.acts:
            raise self.error(f"function {key} is declared twice (first on line "
                             f"{self.acts[key].line})", stmt.pos)
        if stmt.name in FUNCTIONS:
            raise self.error(f"{stmt.name} is built in; give the activation another name, "
                             "as in act f = sigmoid", stmt.pos)
        if stmt.primes > 1:
            raise self.error("only first derivatives: act g = sigmoid'", stmt.pos)
        if stmt.function == "softmax" and stmt.index is None:
            raise self.error("softmax needs the index it normalises over: act f = softmax[k]",
                             stmt.pos)
        if stmt.function != "softmax" and stmt.index is not None:
            raise self.error(f"{stmt.function} takes no [index]; only softmax[k] does",
                             stmt.index.pos)
        if FUNCTIONS[stmt.function].matrix:
            raise self.error(f"{stmt.function} is a function of a matrix, not an activation: "
                             f"write {stmt.function}(A^i_j)", stmt.pos)
        if stmt.function == "softmax" and stmt.primes:
            raise self.error("softmax' is not an elementwise function", stmt.pos)
        self.acts[key] = ir.ActDecl(stmt.name, stmt.label, stmt.function, stmt.primes,
                                    stmt.index.letter if stmt.index else None, stmt.pos.line)

    def _note_style(self, key: str, node: ast.TensorRef) -> None:
        """Record where the document form writes a tensor's lead indices.

        ``pre``: before the parentheses (``^n(x)_d``); ``post``: after them (``(x)^n_d``).
        """
        lead = node.lower if node.transposed else node.upper
        written_before = node.pre[1] if node.transposed else node.pre[0]
        if lead:
            self.styles[key] = "pre" if written_before else "post"

    # -- tensors -----------------------------------------------------------------------

    def ref(self, node: ast.TensorRef, check: bool = True) -> ir.Ref:
        """Lower a tensor reference; with ``check``, as a use of the tensor (rank, order)."""
        key = ir.tensor_key(node.name, node.label)
        _one_letter_each(self, node)
        lowered = ir.Ref(node.name, node.label, letters(node.upper), letters(node.lower),
                         node.transposed, (node.pos.line, node.pos.column))
        if not check:
            return lowered
        info = self.tensors.get(key)
        if info is None:
            if key == self.current and not self.in_claim:
                raise self.error(f"{key} is used in its own definition", node.pos)
            if key in self.defined_at and not self.in_claim:
                raise self.error(f"{key} is used before it is defined (line "
                                 f"{self.defined_at[key]})", node.pos)
            if key in self.defined_at or key == self.current:
                return lowered  # a claim may mention any defined tensor
            if self.explicit:
                raise self.error(self.unknown(key), node.pos)
            info = ir.TensorInfo(key, "implicit", lowered, None, node.pos.line, node.pos.column)
            self.tensors[key] = info
            return lowered
        if len(lowered.written) != info.rank:
            raise self.error(
                f"{key} has {info.rank} ind{'ex' if info.rank == 1 else 'ices'} "
                f"({_spell(info.ref)}, line {info.line}) but {len(lowered.written)} here",
                node.pos)
        return lowered

    def unknown(self, key: str) -> str:
        """The message for an unknown tensor ``key``, listing the known ones."""
        known = [k for k in self.tensors] + [k for k in self.defined_at if k not in self.tensors]
        text = f"unknown tensor {key!r}; known tensors: {', '.join(known) or 'none'}"
        if self.consts:
            text += f"; constants: {', '.join(self.consts)}"
        return text

    def deriv(self, node: ast.Deriv) -> ir.DerivRef:
        """Lower ``dL/dW`` (W a tensor of the program, L a scalar) or a Jacobian ``dy^n/dx^d``."""
        lowered = self._deriv_ref(node.wrt)
        if node.top is not None:
            if node.top.transposed:
                raise self.error("take the Jacobian of the tensor as stored, without a "
                                 "transpose", node.top.pos)
            top = self._deriv_ref(node.top)
            seen: set[str] = set()
            for index in (*node.top.indices, *node.wrt.indices):
                if index.letter in seen:
                    raise self.error(
                        f"index {index.letter} appears twice in d{node.of}/d{lowered.key}: a "
                        "Jacobian's indices are those of the tensor on top, then those of the "
                        "tensor below, each with its own letter", index.pos)
                seen.add(index.letter)
            return ir.DerivRef(node.of, lowered, (node.pos.line, node.pos.column), top)
        of = self.tensors.get(node.of)
        if of is not None and of.rank:
            raise self.error(f"d{node.of}/d… needs a scalar {node.of}, but {node.of} has indices "
                             f"{of.letters}", node.pos)
        if of is None and node.of not in self.defined_at and self.explicit:
            raise self.error(f"d{node.of}/d…: {node.of} is not a tensor of this program", node.pos)
        return ir.DerivRef(node.of, lowered, (node.pos.line, node.pos.column))

    def _deriv_ref(self, ref: ast.TensorRef) -> ir.Ref:
        """A tensor of a derivative atom, checked against the program: known, its rank."""
        key = ir.tensor_key(ref.name, ref.label)
        _one_letter_each(self, ref)
        lowered = ir.Ref(ref.name, ref.label, letters(ref.upper), letters(ref.lower),
                         ref.transposed, (ref.pos.line, ref.pos.column))
        info = self.tensors.get(key)
        if info is None and key not in self.defined_at:
            if self.explicit:
                raise self.error(self.unknown(key), ref.pos)
        elif info is not None and len(lowered.written) != info.rank:
            raise self.error(f"{key} has {info.rank} {'index' if info.rank == 1 else 'indices'} "
                             f"({_spell(info.ref)}) but {len(lowered.written)} here", ref.pos)
        return lowered

    # -- functions ---------------------------------------------------------------------

    def _is_act(self, node: ast.Apply) -> bool:
        key = ir.tensor_key(node.name, node.label)
        return key in self.acts or (node.label is not None and node.name in self.acts)

    def names_tensor(self, node: ast.Apply) -> bool:
        """Whether the call ``W(x)`` names no function but a tensor or constant: W times (x)."""
        if node.name in FUNCTIONS or self._is_act(node):
            return False
        key = ir.tensor_key(node.name, node.label)
        return (not node.primes and node.label is None and node.index is None and node.parens
                and len(node.args) == 1 and (key in self.consts or key in self.tensors
                                             or key in self.defined_at or key in self.plain_names))

    def function(self, node: ast.Apply) -> tuple[str | None, int, str | None]:
        """The built-in function a call applies, its primes and its [index], all checked.

        The function is None for an unknown name of a program without
        declarations (it stays a named call).
        """
        key = ir.tensor_key(node.name, node.label)
        function: str | None = None
        primes = node.primes
        index = node.index.letter if node.index else None
        if node.name in FUNCTIONS:
            if node.label is not None:
                raise self.error(f"{node.name} is built in and takes no label", node.pos)
            function = node.name
        elif self._is_act(node):
            act = self.acts.get(key) or self.acts[node.name]
            function = act.function
            primes += act.primes
            index = index or act.index
        elif self.explicit:
            raise self.error(
                f"unknown function {key!r}: declare it (act {node.name} = sigmoid), or write "
                f"'{node.name} (…)' with a space for a product; built in: "
                f"{', '.join(sorted(FUNCTIONS))}", node.pos)
        if function is not None:
            self._check_call(node, function, primes, index)
        elif primes > 1:
            raise self.error("only first derivatives: f'(x)", node.pos)
        return function, primes, index

    def _check_call(self, node: ast.Apply, function: str, primes: int, index: str | None
                    ) -> None:
        spec = FUNCTIONS[function]
        if len(node.args) != spec.arity:
            raise self.error(f"{node.name} takes {spec.arity} argument"
                             f"{'s' if spec.arity > 1 else ''}, got {len(node.args)}", node.pos)
        if primes > 1:
            raise self.error("only first derivatives: f'(x)", node.pos)
        if primes and not spec.differentiable:
            raise self.error(f"{function}' is not elementwise: take derivatives with dL/dX",
                             node.pos)
        if spec.indexed and index is None:
            raise self.error(f"{node.name} needs the index it normalises over: "
                             f"{node.name}[k](…)", node.pos)
        if not spec.indexed and node.index is not None:
            raise self.error(f"{node.name} takes no [index]; only softmax[k] does",
                             node.index.pos)


def walk_refs(stmt: object) -> Iterable[ast.TensorRef]:
    """Tensor references written in plain (not as a function's name) in a statement."""
    stack: deque[object] = deque([stmt])  # breadth first, in order: a queue, never list.pop(0)
    while stack:
        node = stack.popleft()
        if isinstance(node, ast.TensorRef):
            yield node
        elif isinstance(node, (ast.Equation, ast.Claim)):
            stack.append(node.rhs)
            if isinstance(node, ast.Equation):
                stack.append(node.lhs)
        elif isinstance(node, ast.Decl):
            stack.append(node.tensor)
        elif isinstance(node, ast.Expr):
            stack.extend(t for _, t in node.terms)
        elif isinstance(node, ast.Term):
            stack.extend(n for _, n in node.items)
        elif isinstance(node, ast.Apply):
            stack.extend(node.args)
        elif isinstance(node, ast.Paren):
            stack.append(node.expr)
        elif isinstance(node, ast.Frac):
            stack.extend((node.num, node.den))
        elif isinstance(node, ast.Power):
            stack.append(node.base)
        elif isinstance(node, ast.SumOver):
            stack.append(node.body)


def _one_letter_each(names: Names, node: ast.TensorRef) -> None:
    """Refuse index arithmetic where an axis is named, not read.

    A declaration, a left-hand side or a derivative names each axis with one letter.
    """
    for index in node.indices:
        if index.compound:
            raise names.error("index arithmetic (t+k) reads a tensor on a right-hand side; "
                              "here each axis is named by one letter", index.pos)
