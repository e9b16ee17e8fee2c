"""The loop nest of an equation: what an einsum does, written as explicit loops.

Free letters become the outer loops, each product's summed letters inner
loops; a function of a longer expression, a parenthesised sum or a softmax
is computed first into a temporary ``t1``, ``t2``, ….

>>> from indexnet.program import parse
>>> print(loop_nest(parse("a^n_h = x^n_d W^d_h + b_h").equations[0]))
for n, h:
    a[n,h] = 0
    for d:
        a[n,h] += x[n,d]·W[d,h]
    a[n,h] += b[h]
"""

from __future__ import annotations

from .. import ir
from ..ir import format_number
from ..ir.elementwise import MATRIX_FUNCTIONS
from ..ir.sizing import slot_text
from ..ir.terms import matrix_letters
from .text import scalar_text

__all__ = ["loop_nest"]


def _index(name: str, letters: str) -> str:
    return f"{name}[{','.join(letters)}]" if letters else name


def _slice(text: str, index: str) -> str:
    """``a[n,k]`` with ``k`` replaced by ``:``."""
    if "[" not in text:
        return text
    head, _, rest = text.partition("[")
    letters = rest.rstrip("]").split(",")
    return f"{head}[{','.join(':' if c == index else c for c in letters)}]"


def _name(ref: ir.Ref) -> str:
    return ref.key


class _Loops:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def temp(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def assign(self, name: str, out: str, expr: ir.Sum) -> None:
        if len(expr.terms) == 1 and self.softmax(name, out, expr.terms[0]):
            return
        bodies = [(term, self.term_text(term)) for term in expr.terms]
        target = _index(name, out)
        indent = "    " if out else ""
        if out:
            self.lines.append(f"for {', '.join(out)}:")
        if not bodies:  # an empty sum: the statement is zero
            self.lines.append(f"{indent}{target} = 0")
            return
        first, text = bodies[0]
        if not first.summed and first.output == out:
            minus = "-" if first.coefficient < 0 else ""
            self.lines.append(f"{indent}{target} = {minus}{text}")
            bodies = bodies[1:]
        else:
            self.lines.append(f"{indent}{target} = 0")
        for term, text in bodies:
            op = "-=" if term.coefficient < 0 else "+="
            if term.summed:
                self.lines.append(f"{indent}for {', '.join(term.summed)}:")
                self.lines.append(f"{indent}    {target} {op} {text}")
            else:
                self.lines.append(f"{indent}{target} {op} {text}")

    def softmax(self, name: str, out: str, term: ir.Product) -> bool:
        """Write a row-wise softmax loop directly when it is the whole statement."""
        if term.coefficient != 1 or term.consts or len(term.factors) != 1:
            return False
        call = term.factors[0]
        if not isinstance(call, ir.Call) or call.index is None or call.output != out \
                or call.function in MATRIX_FUNCTIONS:
            return False
        self.row_call(name, call)
        return True

    def row_call(self, name: str, call: ir.Call) -> None:
        index = call.index or ""
        letters = call.output
        args = [self.simple(arg) for arg in call.args]
        rest = [c for c in letters if c != index]
        row = ",".join(":" if c == index else c for c in letters)
        indent = "    " if rest else ""
        if rest:
            self.lines.append(f"for {', '.join(rest)}:")
        inner = ", ".join(_slice(a, index) for a in args)
        self.lines.append(f"{indent}{name}[{row}] = {call.function}({inner})")

    def term_text(self, term: ir.Product) -> str:
        scale = scalar_text(abs(term.coefficient), term.consts)
        head = [scale] if scale else []
        top: list[str] = []
        bottom: list[str] = []
        for factor in term.factors:
            if isinstance(factor, ir.Inverse):
                bottom.append(self.value(factor.base))
            else:
                top.append(self.value(factor))
        text = "·".join(head + top) or "1"
        for part in bottom:
            text += f"/{part}"
        return text

    def value(self, factor: ir.Factor) -> str:
        """An inline text for the factor's entry, hoisting a temporary where needed."""
        letters = ir.factor_output(factor)
        if isinstance(factor, ir.Ref):
            return _index(_name(factor), factor.subscripts)
        if isinstance(factor, ir.Eye):
            return _index("eye", factor.subscripts)
        if isinstance(factor, ir.DerivRef):
            return _index(f"d{factor.of}/d{_name(factor.wrt)}", ir.factor_output(factor))
        if isinstance(factor, ir.Window):  # x[n, t+k]
            name = "eye" if factor.eye else factor.key
            return f"{name}[{', '.join(slot_text(*slot) for slot in factor.slots)}]"
        if isinstance(factor, ir.Power):
            return f"{self.value(factor.base)}^{format_number(factor.exponent)}"
        if isinstance(factor, ir.Inverse):
            return f"(1/{self.value(factor.base)})"
        if isinstance(factor, ir.Call) and factor.function in MATRIX_FUNCTIONS:
            return self.matrix_call(factor)
        if isinstance(factor, ir.Call):
            name = factor.function + "'" * factor.primes
            if factor.label is not None:
                name += "_" + factor.label
            if factor.index is not None:
                temp = self.temp()
                self.row_call(temp, factor)
                return _index(temp, letters)
            args = [self.simple(arg) for arg in factor.args]
            return f"{name}({', '.join(args)})"
        temp = self.temp()
        assert isinstance(factor, ir.Group)
        self.assign(temp, letters, factor.sum)
        return _index(temp, letters)

    def matrix_call(self, call: ir.Call) -> str:
        """``inv``, ``det``, ``logdet`` of a whole matrix: ``t2[:,:] = inv(t1[:,:])``."""
        (arg,) = call.args
        rows, cols = matrix_letters(call)
        whole = _slice(_slice(self.simple(arg), rows), cols)
        if not call.output:
            return f"{call.function}({whole})"
        temp = self.temp()
        self.lines.append(f"{temp}[:,:] = {call.function}({whole})")
        return _index(temp, call.output)

    def simple(self, expr: ir.Sum) -> str:
        """An argument inline when it is one plain factor, else through a temporary."""
        if len(expr.terms) == 1:
            term = expr.terms[0]
            if (term.coefficient == 1 and not term.consts and not term.summed
                    and len(term.factors) == 1):
                factor = term.factors[0]
                if ir.factor_output(factor) == term.output:
                    return self.value(factor)
        temp = self.temp()
        self.assign(temp, expr.output, expr)
        return _index(temp, expr.output)


def loop_nest(statement: ir.Equation | ir.Claim) -> str:
    """The statement as loops over its indices (temporaries first).

    >>> from indexnet.program import parse
    >>> print(loop_nest(parse("s = lambda sum_n x^n").equations[0]))
    s = 0
    for n:
        s += lambda·x[n]
    """
    if isinstance(statement, ir.Claim) and statement.problem:
        return f"# no loops: {statement.problem}"
    loops = _Loops()
    if isinstance(statement, ir.Equation):
        name, out = _name(statement.target), statement.free
    else:
        name, out = f"d{statement.of}/d{_name(statement.wrt)}", statement.free
    loops.assign(name, out, statement.rhs)
    return "\n".join(loops.lines)
