"""One size per index: which letters and tensor axes must agree, and their sizes.

Every letter has one size in a whole program, and letters that name the same
axis of a tensor share it (``x^i A^i_j x^j`` makes i and j equal). The
:class:`SizeModel` joins letters and axes into classes (union-find) once per
program; :meth:`SizeModel.resolve` then fixes each class's size from arrays,
given sizes, ``size`` lines or small distinct defaults, and names the index,
both tensors and both sizes when two disagree.

>>> from indexnet.program import parse
>>> model = SizeModel(parse("y^i = A^i_j x^j\\nz = x^i x^i"))
>>> model.same("i", "j")
True
>>> model.resolve({"A": (3, 3), "x": (3,)})
{'i': 3, 'j': 3}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from ..errors import ProgramSizeError
from . import nodes as ir
from .elementwise import MATRIX_FUNCTIONS


class Statements(Protocol):
    """What sizing reads of a program (a :class:`~indexnet.ir.module.Module`)."""

    statements: tuple[ir.Statement, ...]
    tensors: dict[str, ir.TensorInfo]
    source: str

__all__ = ["SizeModel", "slot_text"]

Node = tuple[str, ...]
#: Where a class's size came from: a tensor axis (key, axis), ``given`` or ``declared``.
Origin = tuple[str, int] | str


class SizeModel:
    """Classes of letters and axes that must share a size, for one program."""

    def __init__(self, program: Statements) -> None:
        self.program = program
        self._parent: dict[Node, Node] = {}
        self._first: dict[Node, tuple[int, int]] = {}
        self._soft = False
        #: Reads through index arithmetic: (window, axis, its slot), each a size constraint.
        self.windows: list[tuple[ir.Window, int, ir.Slot]] = []
        # letters joined as the rows and columns of a square matrix, with where: for messages
        self._squares: dict[frozenset[str], str] = {}
        for info in program.tensors.values():
            self._ref(info.ref, info.key)
        for stmt in program.statements:
            if isinstance(stmt, ir.TensorDecl):
                self._ref(stmt.ref, stmt.ref.key)
                if stmt.domain is not None and stmt.domain.kind == "spd":
                    letters = "".join(str(a) for a in stmt.domain.args)
                    self._same(letters)
                    self._squares.setdefault(frozenset(letters), (
                        f"are the rows and columns of {stmt.ref.key}: spd (line {stmt.line})"))
            elif isinstance(stmt, (ir.Equation, ir.Derivation)):
                target = stmt.target if isinstance(stmt, ir.Equation) else stmt.wrt
                self._ref(target, target.key)
                if isinstance(stmt, ir.Derivation) and stmt.top is not None:
                    self._ref(stmt.top, stmt.top.key)
                self._expr(stmt.rhs)
            elif isinstance(stmt, ir.SizeDecl):
                for letter, _ in stmt.sizes:
                    self._find(("letter", letter))
        # a claim may be wrong: its letters join the program's classes but never merge two
        # of them (indexnet check judges a claim that does not size as a failed claim)
        self._soft = True
        for stmt in program.statements:
            if isinstance(stmt, ir.Claim) and not stmt.problem:
                self._ref(stmt.wrt, stmt.wrt.key)
                if stmt.top is not None:
                    self._ref(stmt.top, stmt.top.key)
                self._expr(stmt.rhs)
        self._soft = False
        self.letters = [n[1] for n in self._parent if n[0] == "letter"]

    # -- union-find -------------------------------------------------------------------

    def _find(self, node: Node) -> Node:
        parent = self._parent.setdefault(node, node)
        while parent != node:
            grand = self._parent[parent]
            self._parent[node] = grand
            node, parent = parent, grand
        return node

    def _union(self, a: Node, b: Node) -> None:
        if self._soft and a in self._parent and b in self._parent:
            return  # both known: a claim does not merge classes
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[rb] = ra

    def _ref(self, ref: ir.Ref, key: str) -> None:
        for axis, letter in enumerate(ref.subscripts):
            self._union(("letter", letter), ("axis", key, str(axis)))

    def _expr(self, expr: ir.Sum) -> None:
        for product in ir.iter_products(expr):
            for name, _ in product.consts:
                letter = ir.size_letter(name)
                if letter is not None:
                    self._find(("letter", letter))
            for factor in product.factors:
                base = factor
                while isinstance(base, (ir.Power, ir.Inverse)):
                    base = base.base
                if isinstance(base, ir.Ref):
                    self._ref(base, base.key)
                elif isinstance(base, ir.DerivRef):
                    self._ref(base.wrt, base.wrt.key)
                    if base.top is not None:
                        self._ref(base.top, base.top.key)
                elif isinstance(base, ir.Eye):
                    self._same(base.subscripts)
                elif isinstance(base, ir.Window):
                    self._window(base)
                elif isinstance(base, ir.Call) and base.function in MATRIX_FUNCTIONS:
                    self._same(base.index or "")  # inv(A^i_j): |i| = |j|
                    self._squares.setdefault(frozenset(base.index or ""), (
                        f"are the rows and columns of the square matrix of {base.function} "
                        f"(line {base.pos[0]}, column {base.pos[1]})"))

    def _same(self, letters: str) -> None:
        """Letters that must have one size (``eye^i_j``, ``inv(A^i_j)``, ``spd(i,j)``)."""
        for letter in letters:
            self._union(("letter", letters[0]), ("letter", letter))

    def _window(self, window: ir.Window) -> None:
        """A plain slot names its axis like a reference; a compound one constrains it."""
        for axis, slot in enumerate(window.slots):
            terms, offset = slot
            for letter, _ in terms:
                self._find(("letter", letter))
            if window.eye:
                continue
            if len(terms) == 1 and terms[0][1] == 1 and offset == 0:
                self._union(("letter", terms[0][0]), ("axis", window.key, str(axis)))
            else:
                self._find(("axis", window.key, str(axis)))
                self.windows.append((window, axis, slot))

    def letter_class(self, letter: str) -> Node:
        """The class (a representative node) of index ``letter``."""
        return self._find(("letter", letter))

    def axis_class(self, key: str, axis: int) -> Node:
        """The class (a representative node) of axis ``axis`` of tensor ``key``."""
        return self._find(("axis", key, str(axis)))

    def same(self, a: str, b: str) -> bool:
        """Whether letters ``a`` and ``b`` must have one size."""
        return self._find(("letter", a)) == self._find(("letter", b))

    def classes(self) -> list[list[str]]:
        """The letters of each class, classes in order of first appearance."""
        out: dict[Node, list[str]] = {}
        for letter in self.letters:
            out.setdefault(self._find(("letter", letter)), []).append(letter)
        return list(out.values())

    # -- sizes ----------------------------------------------------------------------

    def resolve(
        self,
        shapes: Mapping[str, Sequence[int]],
        given: Mapping[str, int] | None = None,
        *,
        declared: bool = True,
        defaults: bool = False,
    ) -> dict[str, int]:
        """The size of every letter.

        Sizes come from the arrays' ``shapes`` (by tensor key), then
        ``given`` letters, then the program's ``size`` lines (``declared``),
        then, with ``defaults``, small distinct sizes (3, 4, 5, …).
        """
        size: dict[Node, int] = {}
        source: dict[Node, Origin] = {}
        for key, shape in shapes.items():
            self._size_from_shape(key, shape, size, source)
        self._size_from_letters("given", given or {}, size, source)
        if declared:
            self._size_from_letters("declared", self._declared(), size, source)
        out = self._every_letter(size, defaults)
        self._check_windows(size)
        return out

    def _size_from_shape(self, key: str, shape: Sequence[int], size: dict[Node, int],
                         source: dict[Node, Origin]) -> None:
        """Fix the class of every axis of tensor ``key`` from its array's ``shape``."""
        program = self.program
        info = program.tensors[key]
        shape = tuple(int(n) for n in shape)
        if len(shape) != info.rank:
            raise ProgramSizeError(
                f"{key} has {info.rank} ind{'ex' if info.rank == 1 else 'ices'} "
                f"({', '.join(info.letters) or 'none'}) but its array has shape {shape}",
                line=info.line, column=info.column, source=program.source)
        for axis, n in enumerate(shape):
            root = self._find(("axis", key, str(axis)))
            known = source.get(root)
            if root in size and size[root] != n and isinstance(known, tuple):
                other, other_axis = known
                letter = info.letters[axis]
                first_letter = program.tensors[other].letters[other_axis]
                what = (f"index {letter!r} has" if letter == first_letter else
                        f"indices {first_letter!r} and {letter!r} name the same axis, so "
                        "they need one size; it has")
                raise ProgramSizeError(
                    f"{what} size {size[root]} in {other} (axis {other_axis}) but {n} in "
                    f"{key} (axis {axis})",
                    line=info.line, column=info.column, source=program.source)
            size.setdefault(root, n)
            source.setdefault(root, (key, axis))

    def _size_from_letters(self, origin: str, sizes: Mapping[str, int], size: dict[Node, int],
                           source: dict[Node, Origin]) -> None:
        """Fix classes from letter ``sizes`` (``given`` or ``declared``); name any conflict."""
        for letter, n in sizes.items():
            node = ("letter", letter)
            if node not in self._parent:
                continue
            root = self._find(node)
            if root not in size:
                size[root] = n
                source[root] = origin
            elif size[root] != n:
                self._conflict(origin, sizes, letter, n, size[root], source[root])

    def _conflict(self, origin: str, sizes: Mapping[str, int], letter: str, n: int, have: int,
                  known: Origin) -> None:
        """Raise for ``letter`` given size ``n`` where its class already has ``have``."""
        if isinstance(known, tuple) and origin == "given":
            raise ProgramSizeError(
                f"index {letter!r} is given size {n} but has size {have} in "
                f"{known[0]} (axis {known[1]})")
        if known == origin:
            root = self._find(("letter", letter))
            others = [c for c in sizes if c != letter and self._find(("letter", c)) == root]
            line = self._declared_line() if origin == "declared" else 0
            other = others[0] if others else "?"
            why = self._squares.get(frozenset((other, letter)), "name the same axis")
            raise ProgramSizeError(
                f"indices {other!r} and {letter!r} {why}, so they need one size, but get "
                f"{have} and {n}",
                line=line, column=1 if line else 0, source=self.program.source)

    def _infer_windows(self, size: dict[Node, int]) -> bool:
        """Sizes that reads through index arithmetic imply, as for a "valid" convolution.

        An unsized axis is as long as the farthest position any of its windows
        reaches, plus one (``|t| + |k| - 1`` for ``x_{t+k}``); an unsized letter,
        the only one of its slot, runs as far as the axis allows (``|t| = |s| - |k| + 1``).
        Returns whether any size was found.
        """
        found = False
        while True:
            axes: dict[Node, int] = {}
            letters: dict[Node, int] = {}
            for window, axis, (terms, offset) in self.windows:
                root = self._find(("axis", window.key, str(axis)))
                roots = [self._find(("letter", c)) for c, _ in terms]
                open_ = [k for k, r in enumerate(roots) if r not in size]
                if root not in size and not open_:
                    high = sum(a * (size[r] - 1) for r, (_, a) in zip(roots, terms)) + offset
                    axes[root] = max(axes.get(root, 0), high + 1)
                elif root in size and len(open_) == 1:
                    k = open_[0]
                    rest = sum(a * (size[r] - 1) for i, (r, (_, a)) in
                               enumerate(zip(roots, terms)) if i != k) + offset
                    room = (size[root] - 1 - rest) // terms[k][1] + 1
                    letters[roots[k]] = min(letters.get(roots[k], room), room)
            fresh = {**axes, **{r: n for r, n in letters.items() if n >= 1}}
            if not fresh:
                return found
            size.update(fresh)
            found = True

    def _check_windows(self, size: dict[Node, int]) -> None:
        """Every position a window reaches lies on its axis; else an error at the window."""
        for window, axis, (terms, offset) in self.windows:
            root = self._find(("axis", window.key, str(axis)))
            roots = [self._find(("letter", c)) for c, _ in terms]
            if root not in size or any(r not in size for r in roots):
                continue
            high = sum(a * (size[r] - 1) for r, (_, a) in zip(roots, terms)) + offset
            slot = slot_text(terms, offset)
            if offset < 0:
                raise ProgramSizeError(
                    f"{window.key}: the slot {slot} reaches {offset} (at 0), before the first "
                    f"entry of axis {axis}; there is no implicit padding",
                    line=window.pos[0], column=window.pos[1], source=self.program.source)
            if high >= size[root]:
                letters = ", ".join(f"|{c}|={size[r]}" for r, (c, _) in zip(roots, terms))
                raise ProgramSizeError(
                    f"{window.key}: the slot {slot} reaches {high} ({letters}) but axis {axis} "
                    f"of {window.key} has size {size[root]} (positions 0 to {size[root] - 1}); "
                    "there is no implicit padding: pad the input, or size it larger",
                    line=window.pos[0], column=window.pos[1], source=self.program.source)

    def _every_letter(self, size: dict[Node, int], defaults: bool) -> dict[str, int]:
        """Every letter's size, declared letters first; defaults fill unknown classes.

        An axis read through index arithmetic takes its size from the window's
        letters before any default is given to it.
        """
        out: dict[str, int] = {}
        used = set(size.values())
        candidate = 3
        missing = []
        self._infer_windows(size)
        windowed = {self._find(("axis", w.key, str(a))) for w, a, _ in self.windows}
        for letters in self.classes():
            root = self._find(("letter", letters[0]))
            if root not in size and root in windowed:
                continue  # sized below, from the window's letters
            if root not in size:
                if not defaults:
                    missing.extend(letters)
                    continue
                while candidate in used:
                    candidate += 1
                size[root] = candidate
                used.add(candidate)
            for letter in letters:
                out[letter] = size[root]
        if self._infer_windows(size):
            for letters in self.classes():
                root = self._find(("letter", letters[0]))
                if root in size:
                    for letter in letters:
                        out.setdefault(letter, size[root])
        missing = [c for c in missing if c not in out]
        missing += [c for letters in self.classes() for c in letters
                    if c not in out and c not in missing]
        if missing:
            raise ProgramSizeError(
                f"the size of ind{'ex' if len(missing) == 1 else 'ices'} "
                f"{', '.join(missing)} is unknown: give it with a size line "
                f"(size {missing[0]}=4), --sizes, or an array")
        order = [c for c in self._declared() if c in out]
        return {**{c: out[c] for c in order}, **out}

    def _declared_line(self) -> int:
        for stmt in self.program.statements:
            if isinstance(stmt, ir.SizeDecl):
                return stmt.line
        return 0

    def _declared(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for stmt in self.program.statements:
            if isinstance(stmt, ir.SizeDecl):
                out.update(stmt.sizes)
        return out

    def shape(self, key: str, sizes: Mapping[str, int]) -> tuple[int, ...]:
        """The shape of tensor ``key`` under letter ``sizes``."""
        info = self.program.tensors[key]
        return tuple(sizes[c] for c in info.letters)


def slot_text(terms: tuple[tuple[str, int], ...], offset: int) -> str:
    """A slot of index arithmetic as the language writes it: ``2t+k-1``.

    >>> slot_text((("t", 2), ("k", 1)), -1)
    '2t+k-1'
    """
    text = "+".join(f"{a if a != 1 else ''}{c}" for c, a in terms)
    if offset:
        text += f"{offset:+d}"
    return text
