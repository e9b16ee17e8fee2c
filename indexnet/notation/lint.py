"""The lint: upper and lower indices used the way the seed uses them, axes named as declared.

Three variance warnings (INDEX-LANGUAGE.md, section 2), each with a line, a
column and, where one exists, the clean spelling:

* a summed index should occur exactly twice in its product, once upper and
  once lower (``x^n_d δ^n_h`` sums n over two upper positions; the clean
  spelling is ``xᵀ_n^d δ^n_h``). Indices summed by an explicit ``sum_`` are
  exempt: the sum sign states the intent;
* a free index should keep its position on both sides of ``=``;
* a free index repeated inside an inner product, once upper and once lower,
  looks like a contraction but is not summed (rule 1).

The clean spelling re-spells one tensor reference (transposing it, or moving
indices between upper and lower) without changing which axis each letter
names, choosing the re-spelling that leaves the fewest warnings.

And one warning where a typo hides (section 5.9, kind ``axes``): a reference
of a declared or defined tensor that names one of its axes with a letter the
declaration gives to another axis (``W^h_d`` for a declared ``W^d_h``), so
that two letters are forced to one size that nothing else in the program
makes one size.

>>> from indexnet.program import parse
>>> for warning in parse("g^d_h = x^n_d δ^n_h").warnings:
...     print(warning.line, warning.column, warning.suggestion)
1 9 xᵀ_n^d δ^n_h
1 9 xᵀ_n^d δ^n_h
>>> program = parse("param W^d_h\\ninput x^n_d\\na^n_h = x^n_d W^h_d")
>>> print([w for w in program.warnings if w.kind == "axes"][0])
line 3, column 15: W^h_d names W's axes h, d but W is declared W^d_h (line 1): this forces \
h and d to one size; did you mean W^d_h or Wᵀ_d^h?
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

from .. import ir
from ..render import render_product

__all__ = ["Lint", "lint"]

Scripted = Union[ir.Ref, ir.Eye, ir.Window]  # noqa: UP007
#: One warning found: (reference, message, product, kind).
_Problem = tuple[Scripted, str, ir.Product, str]


@dataclass(frozen=True)
class Lint:
    """One warning: where, what, the clean spelling (or None), and its kind.

    ``kind`` is ``variance`` (upper and lower indices) or ``axes`` (a
    tensor's axes named differently from its declaration, forcing two
    indices to one size).

    >>> str(Lint(3, 15, "W^h_d names W's axes h, d ...", "W^d_h", "axes"))
    "line 3, column 15: W^h_d names W's axes h, d ..."
    """

    line: int
    column: int
    message: str
    suggestion: str | None = None
    kind: str = "variance"

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


def _spell(node: Scripted) -> str:
    factor: ir.Factor = node
    product = ir.Product(Fraction(1), (), (factor,), "", "", "")
    return render_product(product)


def _occurrences(factors: tuple[ir.Factor, ...], letter: str
                 ) -> list[tuple[int, Scripted, bool]]:
    """(factor number, reference, upper?) for each place ``letter`` is written.

    Inside a parenthesised sum or a function's argument, the terms are
    alternatives, not factors: the term with the most occurrences stands for
    them all (``X^n_d (X^n_d w^d - y^n)`` has n twice).
    """
    out: list[tuple[int, Scripted, bool]] = []
    for k, factor in enumerate(factors):
        out.extend((k, ref, up) for ref, up in _in_factor(factor, letter))
    return out


def _in_factor(factor: ir.Factor, letter: str) -> list[tuple[Scripted, bool]]:
    while isinstance(factor, (ir.Power, ir.Inverse)):
        factor = factor.base
    if isinstance(factor, (ir.Ref, ir.Eye)):
        node: Scripted = factor
        return [(node, True) for c in factor.upper if c == letter] + \
            [(node, False) for c in factor.lower if c == letter]
    if isinstance(factor, ir.DerivRef):
        return _in_factor(factor.wrt, letter)
    if isinstance(factor, ir.Window):  # each slot that holds the letter, upper or lower
        return [(factor, k < factor.upper) for k, (terms, _) in enumerate(factor.slots)
                if any(c == letter for c, _ in terms)]
    sums = factor.args if isinstance(factor, ir.Call) else (factor.sum,)
    out: list[tuple[Scripted, bool]] = []
    for inner in sums:
        best: list[tuple[Scripted, bool]] = []
        for term in inner.terms:
            if letter in term.summed:
                continue
            found = [(ref, up) for f in term.factors for ref, up in _in_factor(f, letter)]
            if len(found) > len(best):
                best = found
        out.extend(best)
    return out


def _pos(node: Scripted) -> tuple[int, int]:
    return node.pos


class _Linter:
    def __init__(self, target: ir.Ref, rhs: ir.Sum) -> None:
        self.target = target
        self.rhs = rhs
        self.up = set(target.upper)
        self.free = target.written

    def problems(self, rhs: ir.Sum) -> list[_Problem]:
        """(reference, message, product, kind) for every warning of ``rhs``."""
        found: list[_Problem] = []
        top = set(map(id, rhs.terms))
        for product in ir.iter_products(rhs):
            found.extend(self._summed(product))
            if id(product) not in top:
                found.extend(self._free_pairs(product))
        for product in rhs.terms:
            found.extend(self._positions(product))
        return found

    def _summed(self, product: ir.Product) -> list[_Problem]:
        """Letters summed by the convention that do not occur once upper, once lower."""
        found: list[_Problem] = []
        conventional = [c for c in product.summed if c not in product.explicit]
        for letter in conventional:
            occ = _occurrences(product.factors, letter)
            if not occ:
                continue
            refs = ", ".join(dict.fromkeys(_spell(r) for _, r, _ in occ))
            uppers = sum(1 for _, _, up in occ if up)
            if len(occ) == 2 and uppers != 1:
                where = "upper" if uppers == 2 else "lower"
                found.append((occ[0][1], f"{letter} is summed over two {where} positions "
                              f"({refs})", product, "pair"))
            elif len(occ) == 1:
                found.append((occ[0][1], f"{letter} occurs once ({refs}) and is summed by "
                              f"rule 4; write sum_{letter} to say so", product, "once"))
            elif len(occ) > 2:
                found.append((occ[0][1], f"{letter} occurs {len(occ)} times ({refs}) and is "
                              "summed; a summed index should occur twice, once upper and "
                              "once lower", product, "many"))
        return found

    def _free_pairs(self, product: ir.Product) -> list[_Problem]:
        """Free letters that an inner product writes once upper and once lower."""
        found: list[_Problem] = []
        for letter in self.free:
            occ = _occurrences(product.factors, letter)
            factors = {k for k, _, _ in occ}
            kinds = {up for _, _, up in occ}
            if len(factors) >= 2 and len(kinds) == 2:
                spelled = " ".join(dict.fromkeys(_spell(r) for _, r, _ in occ))
                fresh = _fresh_letter(self.target, self.rhs)
                renamed = render_product(_rename_product(product, letter, fresh))
                found.append((occ[0][1], f"{letter} is free (it is on the left), so "
                              f"{spelled} is not summed over {letter} (rule 1); for a "
                              f"sum inside, use another letter: {renamed}", product,
                              "free-pair"))
        return found

    def _positions(self, product: ir.Product) -> list[_Problem]:
        """Free letters upper on one side of ``=`` and lower on the other."""
        found: list[_Problem] = []
        for letter in self.free:
            if letter in product.summed:
                continue
            for _, ref, up in _occurrences(product.factors, letter):
                if not isinstance(ref, ir.Window) and letter in ref.upper and letter in ref.lower:
                    continue  # a diagonal: one of its two positions must differ
                if up != (letter in self.up):
                    side = "upper" if letter in self.up else "lower"
                    found.append((ref, f"{letter} is {side} on the left but "
                                  f"{'upper' if up else 'lower'} in {_spell(ref)}",
                                  product, "position"))
        return found

    def count(self, rhs: ir.Sum) -> int:
        return sum(1 for *_, kind in self.problems(rhs) if kind in ("pair", "position"))

    def suggestion(self, product: ir.Product) -> str | None:
        """Re-spell one reference so that the fewest warnings remain; the product as text."""
        best: tuple[int, int, int] | None = None
        best_text: str | None = None
        base = self.count(self.rhs)
        refs = [f for f in _walk_refs(product)]
        for order, ref in enumerate(refs):
            for spelled in _respellings(ref):
                if spelled == ref:
                    continue
                rhs = _replace_sum(self.rhs, ref, spelled)
                score = self.count(rhs)
                if score >= base:
                    continue
                balanced = 0 if (len(spelled.written) < 2 or (spelled.upper and spelled.lower)) \
                    else 1
                key = (score, balanced, order)
                if best is None or key < best:
                    best = key
                    best_text = render_product(_replace_product(product, ref, spelled))
        return best_text

    def run(self) -> list[Lint]:
        out = []
        for ref, message, product, kind in self.problems(self.rhs):
            suggestion = self.suggestion(product) if kind in ("pair", "position") else None
            if kind == "once":
                letter = message.split(" ", 1)[0]
                suggestion = f"sum_{letter} " + render_product(dataclasses.replace(
                    product, coefficient=abs(product.coefficient)))
            text = message + (f"; the clean spelling: {suggestion}" if suggestion else "")
            line, column = _pos(ref)
            out.append(Lint(line, column, text, suggestion))
        return out


def _fresh_letter(target: ir.Ref, rhs: ir.Sum) -> str:
    used = set(target.written)
    for product in ir.iter_products(rhs):
        for factor in product.factors:
            used.update(ir.factor_output(factor))
    for ref in ir.iter_refs(rhs):
        used.update(ref.written)
    for letter in "efgjklmpqrstuvwxyzabcdhinoABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if letter not in used:
            return letter
    return "e"


def _rename_product(product: ir.Product, old: str, new: str) -> ir.Product:
    def swap(text: str) -> str:
        return text.replace(old, new)

    def factor(node: ir.Factor) -> ir.Factor:
        if isinstance(node, ir.Ref):
            return dataclasses.replace(node, upper=swap(node.upper), lower=swap(node.lower))
        if isinstance(node, (ir.Power, ir.Inverse)):
            return dataclasses.replace(node, base=factor(node.base))
        return node

    return dataclasses.replace(product, factors=tuple(factor(f) for f in product.factors))


def _walk_refs(product: ir.Product) -> list[ir.Ref]:
    out: list[ir.Ref] = []
    for factor in product.factors:
        stack: list[ir.Factor] = [factor]
        while stack:
            node = stack.pop()
            if isinstance(node, (ir.Power, ir.Inverse)):
                stack.append(node.base)
            elif isinstance(node, ir.Ref):
                if node.written:
                    out.append(node)
            elif isinstance(node, ir.Call):
                stack.extend(f for a in node.args for t in a.terms for f in t.factors)
            elif isinstance(node, ir.Group):
                stack.extend(f for t in node.sum.terms for f in t.factors)
    return out


def _respellings(ref: ir.Ref) -> list[ir.Ref]:
    """Every spelling of ``ref`` that names the same axes with the same letters."""
    letters = ref.subscripts
    out = []
    for transposed in (False, True):
        written = letters[::-1] if transposed else letters
        for k in range(len(written) + 1):
            out.append(dataclasses.replace(ref, upper=written[:k], lower=written[k:],
                                           transposed=transposed))
    return out


def _replace_product(product: ir.Product, old: ir.Ref, new: ir.Ref) -> ir.Product:
    """``product`` with the node ``old`` (that very object) replaced by ``new``."""
    return ir.rewrite_product(product, lambda f: new if f is old else None)


def _replace_sum(expr: ir.Sum, old: ir.Ref, new: ir.Ref) -> ir.Sum:
    """``expr`` with the node ``old`` (that very object) replaced by ``new``."""
    return ir.rewrite_sum(expr, lambda f: new if f is old else None)


# -- axes named differently from the declaration (section 5.9) --------------------------

#: The roles whose layout is stated: declared with ``input``/``param``, or defined.
_STATED = ("input", "param", "defined")


class _Classes:
    """Union-find over index letters and tensor axes (``("letter", c)``, ``("axis", key, k)``)."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, ...], tuple[str, ...]] = {}

    def find(self, node: tuple[str, ...]) -> tuple[str, ...]:
        root = node
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        self.parent[node] = root
        return root

    def union(self, a: tuple[str, ...], b: tuple[str, ...]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def ref(self, ref: ir.Ref) -> None:
        for axis, letter in enumerate(ref.subscripts):
            self.union(("letter", letter), ("axis", ref.key, str(axis)))

    def same(self, a: str, b: str) -> bool:
        return self.find(("letter", a)) == self.find(("letter", b))


def _sizing_statements(program: ir.Module) -> list[tuple[ir.Ref | None, ir.Sum, bool]]:
    """(target, right-hand side, written?) of every statement that sizes the program.

    Claims never merge two sizes, so they are left out; derivations (what
    :meth:`Program.derive` adds) size the program but are not written, so
    they are never warned about.
    """
    out: list[tuple[ir.Ref | None, ir.Sum, bool]] = []
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            out.append((stmt.target, stmt.rhs, True))
        elif isinstance(stmt, ir.Derivation):
            out.append((stmt.wrt, stmt.rhs, False))
            if stmt.top is not None:
                out.append((stmt.top, ir.Sum((), ""), False))
    return out


def _misnamed(ref: ir.Ref, declared: ir.Ref) -> list[list[str]]:
    """The letters ``ref`` forces to one size by naming axes with other axes' letters.

    Empty unless some letter of ``ref`` stands on an axis that the
    declaration gives another letter, while the declaration gives it to a
    different axis: ``W^h_d`` for ``W^d_h`` gives ``[["h", "d"]]``. A
    diagonal (a letter written twice, ``A^i_i``) is never a typo.

    >>> _misnamed(ir.Ref("W", None, "h", "d"), ir.Ref("W", None, "d", "h"))
    [['h', 'd']]
    >>> _misnamed(ir.Ref("W", None, "i", "j"), ir.Ref("W", None, "d", "h"))
    []
    """
    used, stated = ref.subscripts, declared.subscripts
    if len(used) != len(stated) or len(set(used)) < len(used) \
            or len(set(stated)) < len(stated):
        return []
    classes = _Classes()
    for u, d in zip(used, stated):
        if u != d and u in stated:
            classes.union(("letter", u), ("letter", d))
    groups: dict[tuple[str, ...], list[str]] = {}
    for letter in dict.fromkeys(used + stated):
        if ("letter", letter) in classes.parent:
            groups.setdefault(classes.find(("letter", letter)), []).append(letter)
    return [g for g in groups.values() if len(g) > 1]


def _axis_lint(program: ir.Module) -> list[Lint]:
    """A warning for every reference that forces two of the program's letters to one size.

    A reference is suspect when :func:`_misnamed` finds letters it forces
    together; it is warned about unless the rest of the program (every other
    reference, declaration, definition and ``eye``, but no suspect and no
    claim) already makes those letters one size, as a square matrix used
    with a trace or on a vector from both sides does.
    """
    layouts = {k: t for k, t in program.tensors.items() if t.role in _STATED}
    statements = _sizing_statements(program)
    suspects: list[tuple[ir.Ref, ir.TensorInfo, list[list[str]]]] = []
    for _, rhs, written in statements:
        for ref in ir.iter_refs(rhs) if written else ():
            info = layouts.get(ref.key)
            groups = _misnamed(ref, info.ref) if info is not None else []
            if info is not None and groups:
                suspects.append((ref, info, groups))
    if not suspects:
        return []
    rest = _rest(program, statements, {id(ref) for ref, _, _ in suspects})
    out = []
    for ref, info, groups in suspects:
        forced = [g for g in groups if not all(rest.same(g[0], c) for c in g[1:])]
        if forced:
            out.append(_axis_warning(ref, info, forced))
    return out


def _rest(program: ir.Module, statements: list[tuple[ir.Ref | None, ir.Sum, bool]],
          skip: set[int]) -> _Classes:
    """The size classes of ``program`` without the references whose ids are in ``skip``."""
    rest = _Classes()
    for info in program.tensors.values():
        rest.ref(info.ref)
    for target, rhs, _ in statements:
        if target is not None:
            rest.ref(target)
        for ref in ir.iter_refs(rhs):
            if id(ref) not in skip:
                rest.ref(ref)
        for product in ir.iter_products(rhs):
            for eye in _eyes(product):
                for letter in eye.subscripts:
                    rest.union(("letter", eye.subscripts[0]), ("letter", letter))
    return rest


def _eyes(product: ir.Product) -> list[ir.Eye]:
    out = []
    for factor in product.factors:
        while isinstance(factor, (ir.Power, ir.Inverse)):
            factor = factor.base
        if isinstance(factor, ir.Eye):
            out.append(factor)
    return out


def _axis_warning(ref: ir.Ref, info: ir.TensorInfo, forced: list[list[str]]) -> Lint:
    """The warning for ``ref``: what it names, the declaration, the letters forced, the fix."""
    stated = info.ref.subscripts
    upper = len(ref.upper)
    plain = dataclasses.replace(ref, upper=stated[:upper], lower=stated[upper:],
                                transposed=False)
    fixes = [_spell(plain)]
    if len(stated) == 2:
        back = stated[::-1]
        fixes.append(_spell(dataclasses.replace(ref, upper=back[:upper], lower=back[upper:],
                                                transposed=True)))
    how = "declared" if info.role in ("input", "param") else "defined"
    letters = "; ".join(", ".join(g[:-1]) + f" and {g[-1]}" for g in forced)
    message = (f"{_spell(ref)} names {ref.key}'s axes {', '.join(ref.subscripts)} but "
               f"{ref.key} is {how} {_spell(info.ref)} (line {info.line}): this forces "
               f"{letters} to one size; did you mean {' or '.join(fixes)}?")
    line, column = ref.pos
    return Lint(line, column, message, fixes[0], "axes")


def lint(program: ir.Module) -> list[Lint]:
    """Every warning of ``program`` (variance, then axes), in the order of the text.

    >>> from indexnet.program import parse
    >>> [w.kind for w in lint(parse("param W^d_h\\ninput x^n_d\\na^n_h = x^n_d W^h_d"))]
    ['variance', 'variance', 'axes']
    """
    out: list[Lint] = []
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            out.extend(_Linter(stmt.target, stmt.rhs).run())
        elif isinstance(stmt, (ir.Claim, ir.Derivation)):
            out.extend(_Linter(stmt.wrt, stmt.rhs).run())
    out.extend(_axis_lint(program))
    return sorted(out, key=lambda w: (w.line, w.column))
