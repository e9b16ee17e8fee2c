"""The one writer of the IR as text.

Every printed form of a tensor reference, a derivative atom, an expression
or a statement comes out of :class:`Writer` (``compact``, ``document`` or
``latex``); :mod:`indexnet.render.text` holds the public functions over it.
A tensor with its indices is spelled in exactly one place,
:meth:`Writer.tensor`, so that ``derive``, ``check``, ``explain``, the lint,
the HTML and the diagrams all write a tensor the same way.

The document form follows the seed: a tensor's leading (upper) indices stand
before the parenthesis, ``^n(x_ℓ)_d``, except for the tensors the program
writes with every index after it (its weights: the seed writes
``(w_ℓ)_h^d``), which are written lower indices first, then upper, as the
seed does. Which tensors those are is a fact about the program
(:func:`~indexnet.render.spelling.post_scripted`); where a printer is handed
no program, it uses the program in force
(:func:`~indexnet.render.spelling.spelling`), else none.

>>> from indexnet.program import parse
>>> from indexnet.render.spelling import post_scripted, spelling
>>> program = parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h")
>>> Writer("document", post_scripted(program)).ref(program.equations[0].rhs.terms[0].factors[1])
'(W)_h^d'
>>> with spelling(program):
...     Writer("document").ref(program.equations[0].rhs.terms[0].factors[1])
'(W)_h^d'
>>> Writer("document").ref(program.equations[0].rhs.terms[0].factors[1])
'^d(W)_h'
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from .. import ir
from ..ir.elementwise import MATRIX_FUNCTIONS
from ..ir.nodes import Slot
from ..ir.numbers import format_number, is_power_of_ten
from ..ir.sizing import slot_text
from .spelling import in_force

__all__ = [
    "FORMS",
    "Writer",
    "latex_escape",
    "latex_name",
]

#: The text forms the writer writes.
FORMS = ("compact", "document", "latex")

_GREEK_WORDS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_LATEX_OF_GREEK = {v: "\\" + k for k, v in _GREEK_WORDS.items()} | {"ℓ": "\\ell"}
#: Functions written with their index as a subscript: ``max_k(…)``.
_REDUCERS = ("max", "min")
_LATEX_FUNCTIONS = {"exp": "\\exp", "log": "\\log", "tanh": "\\tanh"}


def _group(letters: str, latex: bool = False) -> str:
    if latex or len(letters) != 1:
        return "{" + letters + "}"
    return letters


def _slot_group(slots: tuple[Slot, ...], latex: bool = False) -> str:
    """The slots of one script group: ``n``, ``{nc}``, ``{t+k}`` or ``{i+p, j+q}``."""
    texts = [slot_text(terms, offset) for terms, offset in slots]
    if all(len(t) == 1 for t in texts):
        return _group("".join(texts), latex)
    return "{" + ", ".join(texts) + "}"


def _lone_ref(call: ir.Call) -> ir.Ref | None:
    """The plain reference that is a matrix call's whole argument, laid out as rows, columns."""
    (arg,) = call.args
    if len(arg.terms) != 1:
        return None
    (term,) = arg.terms
    if term.coefficient != 1 or term.consts or term.explicit or len(term.factors) != 1:
        return None
    (ref,) = term.factors
    if not isinstance(ref, ir.Ref) or ref.transposed or ref.subscripts != call.index:
        return None
    return ref


def _label(label: str) -> str:
    return "_" + (label if len(label) == 1 else "{" + label + "}")


class Writer:
    """Writes IR nodes in one of :data:`FORMS`; ``params`` as ``post_scripted`` gives them.

    ``params`` defaults to those of the program in force (:func:`~.spelling.spelling`).
    """

    def __init__(self, form: str, params: frozenset[str] | None = None) -> None:
        self.form = form
        self.params = params if params is not None else in_force().params
        self.latex = form == "latex"
        self.doc = form in ("document", "latex")

    # -- names and references ----------------------------------------------------------

    def name(self, name: str) -> str:
        """A tensor's or constant's name (LaTeX: ``\\delta``, ``\\hat{y}``)."""
        if not self.latex:
            return name
        return latex_name(name)

    def ref(self, ref: ir.Ref) -> str:
        """A tensor reference: ``x^n_d`` (compact), ``^n(x)_d`` (document), ``{}^{n}(x)_{d}``."""
        if not self.doc and ref.label is None:
            text = ref.name + ("ᵀ" if ref.transposed else "")
            up = "^" + _group(ref.upper) if ref.upper else ""
            low = "_" + _group(ref.lower) if ref.lower else ""
            return text + (low + up if ref.transposed else up + low)
        return self.doc_ref(ref)

    def window(self, w: ir.Window) -> str:
        """A read through index arithmetic: ``x^n_{t+k}``, ``^n(x)_{t+k}``, ``eye^s_{t+k}``."""
        latex = self.latex
        ups, lows = w.slots[:w.upper], w.slots[w.upper:]
        up = "^" + _slot_group(ups, latex) if ups else ""
        low = "_" + _slot_group(lows, latex) if lows else ""
        if w.eye:
            return ("\\operatorname{eye}" if latex else "eye") + up + low
        if not self.doc and w.label is None:
            return w.name + up + low
        return self.tensor(w.name, w.label, up, low, w.key)

    def doc_ref(self, ref: ir.Ref) -> str:
        """A tensor reference in the document form (LaTeX when the form is ``latex``)."""
        latex = self.latex
        up = ("^" + _group(ref.upper, latex)) if ref.upper else ""
        low = ("_" + _group(ref.lower, latex)) if ref.lower else ""
        return self.tensor(ref.name, ref.label, up, low, ref.key, ref.transposed)

    def inner(self, name: str, label: str | None, transposed: bool = False) -> str:
        """What stands inside the parentheses: the name, its layer label, its transpose mark."""
        text = self.name(name)
        if label is not None:
            text += ("_{" + label.replace("ℓ", "\\ell ").strip() + "}" if self.latex
                     else _label(label))
        if transposed:
            text += "^{T}" if self.latex else "^T"
        return text

    def tensor(self, name: str, label: str | None, up: str, low: str, key: str,
               transposed: bool = False) -> str:
        """The document form of a tensor with its scripts (``up``, ``low``: ``^n``, ``_{hk}``).

        The one place a tensor with its indices is spelled. The leading
        indices (upper; lower for a transpose) stand before the parenthesis,
        ``^n(x)_d``, ``_n(x^T)^d``; a tensor of ``params`` has them all after
        it, lower first as the seed writes its weights: ``(w_ℓ)_h^d``.
        """
        inner = self.inner(name, label, transposed)
        if not up and not low:
            return inner if label is None and not transposed else f"({inner})"
        if key in self.params:
            return f"({inner}){low}{up}"
        pre, post = (low, up) if transposed else (up, low)
        if self.latex and pre:
            pre = "{}" + pre
        return f"{pre}({inner}){post}"

    def deriv(self, of: str, wrt: ir.Ref, top: ir.Ref | None = None) -> str:
        """A derivative atom: ``dL/dW^d_h``, ``∂L/∂(W)_h^d``, ``\\frac{\\partial L}{…}``."""
        if self.latex:
            above = self.ref(top) if top is not None else self.name(of)
            return f"\\frac{{\\partial {above}}}{{\\partial {self.ref(wrt)}}}"
        if self.doc:
            above = self.ref(top) if top is not None else of
            return f"∂{above}/∂{self.ref(wrt)}"
        if top is not None:  # a Jacobian; with a label, the ∂ form (it reads back)
            if top.label is None and wrt.label is None:
                return f"d{self.ref(top)}/d{self.ref(wrt)}"
            return f"∂{self.doc_ref(top)}/∂{self.doc_ref(wrt)}"
        if wrt.label is not None:
            return f"d{of}/d{self.doc_ref(wrt)}"
        return f"d{of}/d{self.ref(wrt)}"

    # -- expressions ---------------------------------------------------------------------

    def sum(self, expr: ir.Sum) -> str:
        """Terms joined by ``+`` and ``-`` (``−`` in the document form)."""
        parts: list[str] = []
        for k, term in enumerate(expr.terms):
            negative = term.coefficient < 0
            body = self.product(term, absolute=True)
            if k == 0:
                parts.append(("-" if not self.doc or self.latex else "−") + body if negative
                             else body)
            else:
                minus = "-" if not self.doc or self.latex else "−"
                parts.append(f" {minus} {body}" if negative else f" + {body}")
        return "".join(parts)

    def product(self, product: ir.Product, absolute: bool = False) -> str:
        """One product term: coefficient, constants, explicit sum, then the factors."""
        if self.latex:
            return self.latex_product(product, absolute)
        value = abs(product.coefficient) if absolute else product.coefficient
        sign = "-" if value < 0 else ""
        product, word = _reduction(product)
        shared = self.shared_denominator(abs(value), product)
        if shared is not None:
            return sign + shared
        words = self.scalar_words(abs(value), product)
        reduction = ""
        if product.explicit:
            word = "Σ" if self.doc and word == "sum" else word
            reduction = word + "_" + _group(product.explicit)
            words.append(reduction)
        hadamard = self.doc and _is_hadamard(product)
        for k, factor in enumerate(product.factors):
            if isinstance(factor, ir.Inverse):
                if not words or words[-1] == reduction:  # sum_n 1 / a^n: a numerator to divide
                    words.append("1")
                words.append("/ " + self.factor(factor.base, operand=True))
            elif hadamard and k:
                words.append("⊙ " + self.factor(factor))
            else:
                words.append(self.factor(factor))
        return sign + " ".join(words)

    def shared_denominator(self, value: Fraction, product: ir.Product) -> str | None:
        """``1 / (2 sqrt(v))``, ``y / (2 sqrt(v))`` for a fraction that divides, else None.

        A term with a fractional coefficient, no constant and no explicit sum
        whose divisors come last puts the coefficient's denominator with the
        divisors, as on paper, rather than writing ``1/2 y / sqrt(v)``.
        """
        factors = product.factors
        if value.denominator == 1 or product.consts or product.explicit:
            return None
        first = next((k for k, f in enumerate(factors) if isinstance(f, ir.Inverse)), None)
        if first is None or not all(isinstance(f, ir.Inverse) for f in factors[first:]):
            return None
        if first > 1 and self.doc and _is_hadamard(product):  # x ⊙ y: written as usual
            return None
        outside = _summed_below(factors[:first], factors[first:], product.output)
        explicit = ""
        if outside:  # sum_k 1 / (2 v_k W_{jk}): summed over the whole quotient, as meant
            explicit = ("Σ" if self.doc else "sum") + "_" + _group(outside) + " "
        top = [str(value.numerator)] if value.numerator != 1 or not first else []
        top += [self.factor(f) for f in factors[:first]]
        below = [str(value.denominator)] + [self.factor(f.base, operand=True)  # type: ignore[union-attr]
                                            for f in factors[first:]]
        return f"{explicit}{' '.join(top)} / ({' '.join(below)})"

    def scalar_words(self, value: Fraction, product: ir.Product) -> list[str]:
        """The words of a term's positive scalar part: ``2``, ``0.01 λ``, ``λ/2``, ``1/N``."""
        ups = [(n, p) for n, p in product.consts if p > 0]
        downs = [(n, -p) for n, p in product.consts if p < 0]
        rest = bool(ups or product.factors or product.explicit)
        num, den = value.numerator, value.denominator
        words: list[str] = []
        tail = ""
        if den == 1:
            if num != 1 or not rest:
                words.append(str(num))
        elif is_power_of_ten(den):
            words.append(format_number(value))  # 0.01 λ; a half is 1/2 or λ/2, never 0.5
        else:
            if num != 1 or not ups:
                words.append(str(num))
            tail = f"/{den}"
        words += [self.power_text(self.name(n), p) for n, p in ups]
        below = ([tail[1:]] if tail else []) + [self.power_text(self.name(n), p)
                                                for n, p in downs]
        if below:  # 1/|n|, λ/(2 |n|)
            text = "/" + (below[0] if len(below) == 1 else f"({' '.join(below)})")
            if words:
                words[-1] += text
            else:
                words.append("1" + text)
        return words

    def latex_product(self, product: ir.Product, absolute: bool) -> str:
        """One product term in LaTeX, a quotient as ``\\frac``."""
        product, word = _reduction(product)
        value = abs(product.coefficient) if absolute else product.coefficient
        sign = "-" if value < 0 else ""
        value = abs(value)
        top: list[str] = []
        bottom: list[str] = []
        if value.numerator != 1:
            top.append(str(value.numerator))
        if value.denominator != 1:
            bottom.append(str(value.denominator))
        for n, p in product.consts:
            (top if p > 0 else bottom).append(self.power_text(self.name(n), abs(p)))
        command = "\\sum" if word == "sum" else "\\operatorname{mean}"
        explicit = f"{command}_{{{product.explicit}}} " if product.explicit else ""
        inverses = [f for f in product.factors if isinstance(f, ir.Inverse)]
        outside = "".join(c for c in _summed_below(
            [f for f in product.factors if not isinstance(f, ir.Inverse)], inverses,
            product.output) if c not in product.explicit)
        if outside:  # \sum_{k} \frac{1}{2 v_k W_{jk}}, not a sum in the denominator
            explicit = f"\\sum_{{{outside}}} " + explicit
        factors = []
        for factor in product.factors:
            if isinstance(factor, ir.Inverse):
                bottom.append(self.factor(factor.base))
            else:
                factors.append(self.factor(factor))
        joiner = " \\odot " if _is_hadamard(product) else "\\,"
        body = joiner.join(factors)
        if bottom:
            numerator = "\\,".join(top) or "1"
            if factors and not inverses:
                denominator = "\\,".join(bottom)
                return f"{sign}\\frac{{{numerator}}}{{{denominator}}}\\,{explicit}{body}"
            numerator = "\\,".join(top + factors) or "1"
            denominator = "\\,".join(bottom)
            return f"{sign}{explicit}\\frac{{{numerator}}}{{{denominator}}}"
        head = "\\,".join(top)
        if head and body:
            return f"{sign}{head}\\,{explicit}{body}"
        return f"{sign}{head or ('' if body else '1')}{explicit}{body}"

    def power_text(self, base: str, power: Fraction) -> str:
        """``base`` to ``power`` (``x^2``, ``x^{1/2}``)."""
        if power == 1:
            return base
        if self.latex:
            return f"{base}^{{{format_number(power)}}}"
        text = format_number(power)
        return f"{base}^{text}" if len(text) == 1 else f"{base}^{{{text}}}"

    def factor(self, factor: ir.Factor, operand: bool = False) -> str:
        """One factor of a product."""
        if isinstance(factor, ir.Ref):
            return self.ref(factor)
        if isinstance(factor, ir.Window):
            return self.window(factor)
        if isinstance(factor, ir.Eye):
            if self.latex:
                up = "^{" + factor.upper + "}" if factor.upper else ""
                low = "_{" + factor.lower + "}" if factor.lower else ""
                return f"\\operatorname{{eye}}{up}{low}"
            up = "^" + _group(factor.upper) if factor.upper else ""
            low = "_" + _group(factor.lower) if factor.lower else ""
            return f"eye{up}{low}"
        if isinstance(factor, ir.Call):
            return self.call(factor)
        if isinstance(factor, ir.Group):
            inner = self.sum(factor.sum)
            return f"\\left({inner}\\right)" if self.latex else f"({inner})"
        if isinstance(factor, ir.Power):
            base = factor.base
            text = self.factor(base)
            if isinstance(base, ir.Inverse):
                pass  # factor() already parenthesised it
            elif isinstance(base, ir.DerivRef) or (self.latex and isinstance(base, ir.Power)):
                text = f"\\left({text}\\right)" if self.latex else f"({text})"
            return self.power_text(text, factor.exponent)
        if isinstance(factor, ir.Inverse):
            inner = self.factor(factor.base, operand=True)
            if self.latex:
                return f"\\frac{{1}}{{{inner}}}"
            return f"(1 / {inner})"
        return self.deriv(factor.of, factor.wrt, factor.top)

    def call(self, call: ir.Call) -> str:
        """A function call: ``sigmoid(…)``, ``softmax[k](…)``, ``max_k(…)``, ``f'_ℓ(…)``."""
        args = ", ".join(self.sum(arg) for arg in call.args)
        if call.function in MATRIX_FUNCTIONS and not call.primes and call.label is None:
            return self.matrix_call(call, args)
        if self.latex:
            name = _LATEX_FUNCTIONS.get(call.function)
            if name is None:
                name = (f"\\operatorname{{{call.function}}}" if len(call.function) > 1
                        else self.name(call.function))
            name += "'" * call.primes
            if call.label is not None:
                name += "_{" + call.label.replace("ℓ", "\\ell ").strip() + "}"
            if call.index is not None:
                name += "_{" + call.index + "}"
            if call.function in _REDUCERS and call.index is not None:
                return f"\\{call.function}_{{{call.index}}}\\left({args}\\right)"
            if call.function == "sqrt" and not call.primes:
                return f"\\sqrt{{{args}}}"
            if call.function == "abs" and not call.primes:
                return f"\\left|{args}\\right|"
            return f"{name}\\left({args}\\right)"
        name = call.function + "'" * call.primes
        if call.label is not None:
            name += _label(call.label)
        if call.function in _REDUCERS and call.index is not None:
            name += f"_{call.index}"
        elif call.index is not None:
            name += f"[{call.index}]"
        return f"{name}({args})"

    def matrix_call(self, call: ir.Call, args: str) -> str:
        """``inv(A^i_j)`` (document ``(A^{-1})^i_j``), ``det(…)``, ``logdet(…)``.

        The letters of the matrix are the argument's, so ``index`` is not written.
        """
        if call.function == "inv":
            ref = _lone_ref(call)
            if ref is not None and self.doc:
                return self.inverse_ref(ref)
            return f"\\left({args}\\right)^{{-1}}" if self.latex else f"inv({args})"
        if not self.latex:
            return f"{call.function}({args})"
        if call.function == "det":
            return f"\\det\\left({args}\\right)"
        return f"\\log\\left|\\det\\left({args}\\right)\\right|"

    def inverse_ref(self, ref: ir.Ref) -> str:
        """``(A^{-1})^i_j``: the document form of ``inv(A^i_j)`` (INDEX-LANGUAGE.md 5.6)."""
        latex = self.latex
        inner = self.inner(ref.name, ref.label) + "^{-1}"
        up = ("^" + _group(ref.upper, latex)) if ref.upper else ""
        low = ("_" + _group(ref.lower, latex)) if ref.lower else ""
        return (f"\\left({inner}\\right)" if latex else f"({inner})") + up + low

    # -- statements ------------------------------------------------------------------------

    def statement(self, stmt: ir.Statement) -> str:
        """A whole statement (an equation's ``=`` is ``&=`` in LaTeX, for ``aligned``)."""
        if isinstance(stmt, ir.Equation):
            sep = " &= " if self.latex else " = "
            return f"{self.ref(stmt.target)}{sep}{self.sum(stmt.rhs)}"
        if isinstance(stmt, ir.Claim) and stmt.problem:  # as written: it has no meaning
            if self.latex:
                return f"\\texttt{{{latex_escape(stmt.text)}}}"
            return stmt.text
        if isinstance(stmt, ir.Claim):
            sep = " &= " if self.latex else " = "
            head = "\\text{claim}\\ " if self.latex else "claim "
            return f"{head}{self.deriv(stmt.of, stmt.wrt, stmt.top)}{sep}{self.sum(stmt.rhs)}"
        if isinstance(stmt, ir.Derivation):
            sep = " &= " if self.latex else " = "
            return f"{self.deriv(stmt.of, stmt.wrt, stmt.top)}{sep}{self.sum(stmt.rhs)}"
        if self.latex:
            return ""
        if isinstance(stmt, ir.TensorDecl):
            domain = f" : {stmt.domain}" if stmt.domain is not None else ""
            return f"{stmt.role} {self.ref(stmt.ref)}{domain}"
        if isinstance(stmt, ir.ConstDecl):
            return f"const {stmt.name} = {stmt.value_text}"
        if isinstance(stmt, ir.ActDecl):
            label = _label(stmt.label) if stmt.label is not None else ""
            index = f"[{stmt.index}]" if stmt.index else ""
            return f"act {stmt.name}{label} = {stmt.function}{chr(39) * stmt.primes}{index}"
        return "size " + ", ".join(f"{c}={n}" for c, n in stmt.sizes)



def _summed_below(above: Sequence[ir.Factor], below: Sequence[ir.Factor], output: str) -> str:
    """The letters that the divisors ``below``, under one bar, would sum there; the term sums them.

    By rule 3 (INDEX-LANGUAGE.md) a letter that two or more parenthesised
    factors share is summed inside the parentheses when it is not free and
    no factor ``above`` has it. The term sums it outside, so it is written
    ``sum_k 1 / (2 v_k W_{jk})``: ``1 / (2 v_k W_{jk})`` would be
    ``1 / (2 Σ_k v_k W_{jk})``.

    >>> v, w = (ir.Ref(n, None, "", s) for n, s in (("v", "k"), ("W", "jk")))
    >>> _summed_below([], [ir.Inverse(v), ir.Inverse(w)], "j")
    'k'
    >>> _summed_below([], [ir.Inverse(v), ir.Inverse(w)], "jk")
    ''
    """
    seen = Counter(c for f in below for c in dict.fromkeys(ir.factor_output(f)))
    outside = set(output).union(*(ir.factor_output(f) for f in above))
    return "".join(c for c, n in seen.items() if n > 1 and c not in outside)


def _is_hadamard(product: ir.Product) -> bool:
    ops = product.operands
    return len(ops) >= 2 and not product.summed and len({frozenset(o) for o in ops}) == 1


def latex_name(name: str) -> str:
    r"""A tensor name in LaTeX: Greek letters as commands, ŷ as \hat{y}, long names upright.

    >>> latex_name("δ"), latex_name("lambda"), latex_name("ŷ"), latex_name("W1"), latex_name("yhat")
    ('\\delta', '\\lambda', '\\hat{y}', 'W1', '\\mathrm{yhat}')
    """
    if name in _GREEK_WORDS:
        return "\\" + name
    letter = ir.size_letter(name)
    if letter is not None:
        return f"\\lvert {latex_name(letter)} \\rvert"
    base = name.rstrip("0123456789")
    digits = name[len(base):]
    if len(base) == 1:
        if base in _LATEX_OF_GREEK:
            return _LATEX_OF_GREEK[base] + digits
        decomposed = unicodedata.normalize("NFD", base)
        if len(decomposed) == 2 and decomposed[1] == "\u0302":
            return f"\\hat{{{decomposed[0]}}}{digits}"
        return base + digits
    return "\\mathrm{" + "".join(_LATEX_OF_GREEK.get(c, c) for c in base) + "}" + digits



def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped, for ``\\texttt``."""
    out = []
    for c in text:
        if c == "\\":
            out.append("\\textbackslash{}")
        elif c in "{}_^#$%&~":
            out.append({"^": "\\^{}", "~": "\\~{}"}.get(c, "\\" + c))
        else:
            out.append(c)
    return "".join(out)


def _reduction(product: ir.Product) -> tuple[ir.Product, str]:
    """``(product, "mean")`` less the ``1/|n|`` of a ``mean_n``, else ``(product, "sum")``.

    A product that sums its explicit letters and divides by the size of each
    (``1/|n| sum_n x^n``) is written ``mean_n x^n``.
    """
    explicit = "".join(dict.fromkeys(product.explicit))
    if not explicit:
        return product, "sum"
    consts = dict(product.consts)
    names = [ir.size_name(c) for c in explicit]
    if any(consts.get(n, 0) > -1 for n in names):
        return product, "sum"
    for n in names:
        consts[n] += 1
    rest = tuple((n, p) for n, p in consts.items() if p != 0)
    return dataclasses.replace(product, consts=rest), "mean"
