"""The matrix form of an equation, where one exists: XW, XᵀΔ, ΔWᵀ, Σ_n, tr, ⊙, u vᵀ.

Each product term is read as matrices and vectors: a chain of matrix
products (transposed where the letters run the other way), a trace, a sum
over one index, a Hadamard product, a diagonal scaling or an outer product.
When a term is none of these (three-index tensors, an index kept and shared
at once as in a batched product), :func:`matrix_form` says why.

>>> from indexnet.program import parse
>>> str(matrix_form(parse("g^d_h = xᵀ_n^d δ^n_h").equations[0]))
'g = xᵀ δ'
>>> str(matrix_form(parse("c^b_i_k = A^b_i_j B^b_j_k").equations[0]))
'no matrix form: c has 3 indices'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .. import ir
from ..ir import format_number
from ..ir.elementwise import MATRIX_FUNCTIONS
from .text import scalar_text

__all__ = ["MatrixForm", "matrix_form"]


@dataclass(frozen=True)
class MatrixForm:
    """``text`` (None when there is no matrix form) and, then, the ``reason``."""

    text: str | None
    reason: str = ""

    def __str__(self) -> str:
        return self.text if self.text is not None else f"no matrix form: {self.reason}"


class _None(Exception):
    """Raised inside the builder when a term has no matrix form."""


def _name(ref: ir.Ref) -> str:
    if ref.label is None:
        return ref.name
    label = ref.label if len(ref.label) == 1 else "{" + ref.label + "}"
    return f"{ref.name}_{label}"


def _num(value: Fraction) -> str:
    return format_number(value)


def _t(text: str) -> str:
    """Transpose a matrix text: xᵀ, (x W)ᵀ."""
    if text.endswith("ᵀ") and " " not in text:
        return text[:-1]
    return (text if _atomic(text) else f"({text})") + "ᵀ"


def _atomic(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in "([⟨":
            depth += 1
        elif ch in ")]⟩":
            depth -= 1
        elif ch == " " and depth == 0:
            return False
    return True


def _paren(text: str) -> str:
    return text if _atomic(text) else f"({text})"


class _Builder:
    def sum(self, expr: ir.Sum) -> str:
        parts = []
        for k, term in enumerate(expr.terms):
            text = self.product(term)
            if k == 0:
                parts.append(("−" + text) if term.coefficient < 0 else text)
            else:
                parts.append((" − " if term.coefficient < 0 else " + ") + text)
        return "".join(parts)

    def product(self, product: ir.Product) -> str:
        scale = scalar_text(abs(product.coefficient), product.consts)
        prefix: list[str] = [scale] if scale else []
        operands: list[tuple[str, str]] = []
        for factor in product.factors:
            text, letters = self.factor(factor)
            if letters:
                operands.append((text, letters))
            else:
                prefix.append(_paren(text))
        body = self.arrange(operands, product.output)
        return " ".join(prefix + ([body] if body else [])) or "1"

    def factor(self, factor: ir.Factor) -> tuple[str, str]:
        letters = ir.factor_output(factor)
        if len(set(letters)) > 2 or (len(letters) > 2 and len(set(letters)) == len(letters)):
            raise _None(f"a factor has {len(letters)} indices")
        if isinstance(factor, ir.Ref):
            return _name(factor), factor.subscripts
        if isinstance(factor, ir.Eye):
            return ("I" if len(factor.subscripts) == 2 else "1"), factor.subscripts
        if isinstance(factor, ir.Group):
            return f"({self.sum(factor.sum)})", letters
        if isinstance(factor, ir.Call) and factor.function in MATRIX_FUNCTIONS:
            return _matrix_call(factor.function, self.sum(factor.args[0])), letters
        if isinstance(factor, ir.Call):
            args = ", ".join(self.sum(a) for a in factor.args)
            name = factor.function + "'" * factor.primes
            if factor.label is not None:
                name += "_" + (factor.label if len(factor.label) == 1 else
                               "{" + factor.label + "}")
            if factor.index is not None:
                name += f"[{factor.index}]"
            return f"{name}({args})", letters
        if isinstance(factor, ir.Power):
            text, _ = self.factor(factor.base)
            return f"{_paren(text)}^∘{_num(factor.exponent)}", letters
        if isinstance(factor, ir.Inverse):
            text, _ = self.factor(factor.base)
            return f"1/{_paren(text)}", letters
        if isinstance(factor, ir.Window):
            raise _None("index arithmetic (a window view) has no matrix form")
        return f"∂{factor.of}/∂{_name(factor.wrt)}", letters

    def arrange(self, ops: list[tuple[str, str]], out: str) -> str:
        if not ops:
            return ""
        if len(out) > 2:
            raise _None(f"the result has {len(out)} indices")
        if len(ops) == 1:
            return self.single(*ops[0], out)
        letter_sets = [frozenset(letters) for _, letters in ops]
        if all(len(set(lt)) == len(lt) for _, lt in ops) and len(set(letter_sets)) == 1 \
                and letter_sets[0] == frozenset(out):
            return " ⊙ ".join(self.orient(text, letters, out) for text, letters in ops)
        if len(ops) == 2:
            diag = self.diagonal_scaling(ops, out)
            if diag is not None:
                return diag
            if all(len(lt) == 1 for _, lt in ops) and len(out) == 2 and ops[0][1] != ops[1][1]:
                first, second = (ops if ops[0][1] == out[0] else ops[::-1])
                return f"{first[0]} {_t(second[0])}"
        return self.chain(ops, out)

    @staticmethod
    def orient(text: str, letters: str, out: str) -> str:
        if len(letters) == 2 and letters == out[::-1]:
            return _t(text)
        return text

    def single(self, text: str, letters: str, out: str) -> str:
        if letters == out:
            return text
        if len(letters) == 2 and letters == out[::-1]:
            return _t(text)
        if len(letters) == 2 and letters[0] == letters[1]:
            if out == "":
                return f"tr({text})"
            return f"diag({text})"
        summed = "".join(c for c in dict.fromkeys(letters) if c not in out)
        kept = "".join(c for c in letters if c in out)
        if len(set(letters)) == len(letters) and kept == out:
            sub = summed if len(summed) == 1 else "{" + summed + "}"
            return f"Σ_{sub} {_paren(text)}"
        raise _None(f"{text} is reduced in a way no matrix product writes")

    @staticmethod
    def diagonal_scaling(ops: list[tuple[str, str]], out: str) -> str | None:
        (ta, la), (tb, lb) = ops
        if len(la) == 1 and len(lb) == 2:
            (ta, la), (tb, lb) = (tb, lb), (ta, la)
        if not (len(la) == 2 and len(lb) == 1 and set(la) == set(out) and len(out) == 2):
            return None
        matrix = ta if la == out else _t(ta)
        vector = f"diag({tb})"
        return f"{vector} {matrix}" if lb == out[0] else f"{matrix} {vector}"

    def chain(self, ops: list[tuple[str, str]], out: str) -> str:
        """A product of vectors and matrices as a chain of matrix products, or raise."""
        where = _owners(ops, out)
        if len(ops) == 2 and not out and set(ops[0][1]) == set(ops[1][1]) and \
                len(ops[0][1]) == 2:
            (ta, la), (tb, lb) = ops
            b = tb if la == lb else _t(tb)
            if ta == tb and la == lb:
                return f"‖{ta}‖²"
            return f"⟨{ta}, {b}⟩"
        # walk the chain from its start, orienting each factor
        if out:
            start = where[out[0]][0]
            incoming = out[0]
        else:
            vectors = [k for k, (_, lt) in enumerate(ops) if len(lt) == 1]
            if not vectors:
                return self.trace(ops, where)
            start = vectors[0]
            incoming = ""
        pieces: list[str] = []
        visited: set[int] = set()
        current = start
        while True:
            visited.add(current)
            text, letters = ops[current]
            piece, nxt_letter = _link(text, letters, incoming, first=not pieces, out=out,
                                      alone=len(ops) == 1)
            pieces.append(piece)
            if not nxt_letter or nxt_letter in out:
                break
            following = [k for k in where[nxt_letter] if k != current]
            if not following or following[0] in visited:
                raise _None("the factors do not form a chain of matrix products")
            current = following[0]
            incoming = nxt_letter
        if len(visited) != len(ops):
            raise _None("the factors do not form one chain (part of the product is an outer "
                        "product with more than two indices)")
        if len(out) == 2 and ops[current][1].find(out[1]) < 0:
            raise _None("the chain does not end at the result's second index")
        return " ".join(pieces)

    @staticmethod
    def trace(ops: list[tuple[str, str]], where: dict[str, list[int]]) -> str:
        current, (text, pair) = 0, ops[0]
        a, b = pair[0], pair[1]
        pieces = [text]
        visited = {0}
        incoming_first = a
        nxt = b
        while True:
            following = [k for k in where[nxt] if k != current]
            if not following:
                raise _None("the factors do not close into a trace")
            current = following[0]
            if current in visited:
                break
            visited.add(current)
            text, pair = ops[current]
            x, y = pair[0], pair[1]
            pieces.append(text if nxt == x else _t(text))
            nxt = y if nxt == x else x
        if len(visited) != len(ops) or nxt != incoming_first:
            raise _None("the factors do not close into one trace")
        return f"tr({' '.join(pieces)})"


def matrix_form(statement: ir.Equation | ir.Claim) -> MatrixForm:
    """The equation in matrices and vectors, or the reason it has none.

    >>> from indexnet.program import parse
    >>> str(matrix_form(parse("a^n_h = x^n_d W^d_h + b_h").equations[0]))
    'a = x W + b'
    """
    if isinstance(statement, ir.Equation):
        target = statement.target
        lhs = _name(target)
    else:
        target = statement.wrt
        lhs = f"∂{statement.of}/∂{_name(target)}"
    if len(target.written) > 2:
        return MatrixForm(None, f"{_name(target)} has {len(target.written)} indices")
    try:
        return MatrixForm(f"{lhs} = {_Builder().sum(statement.rhs)}")
    except _None as reason:
        return MatrixForm(None, str(reason))


def _owners(ops: list[tuple[str, str]], out: str) -> dict[str, list[int]]:
    """Which factors carry each index; raise unless every index links a chain."""
    where: dict[str, list[int]] = {}
    for k, (_, letters) in enumerate(ops):
        if len(set(letters)) != len(letters):
            raise _None(f"{ops[k][0]} repeats an index inside a longer product")
        for c in letters:
            where.setdefault(c, []).append(k)
    for c, owners in where.items():
        if c in out and len(owners) > 1:
            raise _None(f"index {c} is both kept and shared by {len(owners)} factors "
                        "(a batched or Hadamard product)")
        if c not in out and len(owners) != 2:
            raise _None(f"index {c} is summed over {len(owners)} factor"
                        f"{'s' if len(owners) != 1 else ''}")
    return where


def _link(text: str, letters: str, incoming: str, *, first: bool, out: str,
          alone: bool) -> tuple[str, str]:
    """One factor of a chain, oriented to take ``incoming``; and the index it passes on."""
    if len(letters) == 1:
        if incoming == letters:  # the chain starts at an output vector index
            return text, ""
        if first and not out:
            return (text if alone else _t(text)), letters
        if first:
            raise _None("the chain does not start at the result's index")
        return text, ""
    a, b = letters[0], letters[1]
    if incoming and incoming in (a, b):
        return (text if incoming == a else _t(text)), (b if incoming == a else a)
    raise _None("the factors do not form a chain of matrix products")


def _matrix_call(function: str, arg: str) -> str:
    """``A⁻¹``, ``(A + λ I)⁻¹``, ``det(A)``, ``log|det(A)|`` in matrix form.

    >>> _matrix_call("inv", "A"), _matrix_call("inv", "A + B"), _matrix_call("logdet", "A")
    ('A⁻¹', '(A + B)⁻¹', 'log|det(A)|')
    """
    if function == "inv":
        return f"{_paren(arg)}⁻¹"
    if function == "det":
        return f"det({arg})"
    return f"log|det({arg})|"
