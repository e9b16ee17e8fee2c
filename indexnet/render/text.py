"""Write programs, equations and einsum strings back out.

* :func:`render` — ``compact`` (``a^n_h = x^n_d W^d_h + b_h``), ``document``
  (``^n(a)_h = ^n(x)_d (W)^d_h + (b)_h``, Unicode, as the seed prints it)
  or ``latex`` (KaTeX/MathJax). :func:`~indexnet.program.parse` reads the
  compact and document forms back to an equal program.
* :func:`matrix_form` — ``a = x W + b`` where the products are matrix
  products, or the reason there is none.
* :func:`loop_nest` — the explicit loops.
* :func:`einsum_equation` — an einsum string as an equation of the language.

>>> from indexnet.program import parse
>>> eq = parse("g^d_h = xᵀ_n^d δ^n_h").equations[0]
>>> render(eq, "document")
'^d(g)_h = _n(x^T)^d ^n(δ)_h'
>>> render(eq, "latex")
'{}^{d}(g)_{h} = {}_{n}(x^{T})^{d}\\\\,{}^{n}(\\\\delta)_{h}'
"""

from __future__ import annotations

import dataclasses
import unicodedata
from fractions import Fraction
from typing import Any

from .. import ir
from ..einsum.subscripts import parse as parse_subscripts
from ..errors import InvalidArgumentError
from ..ir.elementwise import MATRIX_FUNCTIONS
from ..ir.nodes import Slot, decimal_places, format_number
from ..ir.sizing import slot_text

__all__ = [
    "FORMS",
    "deriv_text",
    "einsum_equation",
    "format_number",
    "latex_name",
    "post_scripted",
    "render",
    "render_latex",
    "render_product",
    "scalar_text",
]

#: The text forms :func:`render` writes.
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


class _Writer:
    def __init__(self, form: str, params: frozenset[str] = frozenset()) -> None:
        self.form = form
        self.params = params
        self.latex = form == "latex"
        self.doc = form in ("document", "latex")

    # -- names and references ----------------------------------------------------------

    def name(self, name: str) -> str:
        if not self.latex:
            return name
        return latex_name(name)

    def ref(self, ref: ir.Ref) -> str:
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
        inner = self.name(w.name)
        if w.label is not None:
            label = w.label.replace("ℓ", "\\ell ") if latex else w.label
            inner += "_{" + label.strip() + "}" if latex else _label(label)
        if w.key in self.params or not up:
            return f"({inner}){up}{low}"
        return f"{'{}' if latex else ''}{up}({inner}){low}"

    def doc_ref(self, ref: ir.Ref) -> str:
        latex = self.latex
        inner = self.name(ref.name)
        if ref.label is not None:
            label = ref.label.replace("ℓ", "\\ell ") if latex else ref.label
            inner += "_{" + label.strip() + "}" if latex else _label(label)
        if ref.transposed:
            inner += "^{T}" if latex else "^T"
        up = ("^" + _group(ref.upper, latex)) if ref.upper else ""
        low = ("_" + _group(ref.lower, latex)) if ref.lower else ""
        if not up and not low:
            if ref.label is None and not ref.transposed:
                return inner
            return f"({inner})"
        if ref.key in self.params:
            post = low + up if ref.transposed else up + low
            return f"({inner}){post}"
        pre, post = (low, up) if ref.transposed else (up, low)
        if latex and pre:
            pre = "{}" + pre
        return f"{pre}({inner}){post}"

    def deriv(self, of: str, wrt: ir.Ref, top: ir.Ref | None = None) -> str:
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

    def scalar_words(self, value: Fraction, product: ir.Product) -> list[str]:
        """The words of a term's positive scalar part: ``2``, ``0.5 λ``, ``λ/3``, ``1/N``."""
        ups = [(n, p) for n, p in product.consts if p > 0]
        downs = [(n, -p) for n, p in product.consts if p < 0]
        rest = bool(ups or product.factors or product.explicit)
        num, den = value.numerator, value.denominator
        words: list[str] = []
        tail = ""
        if den == 1:
            if num != 1 or not rest:
                words.append(str(num))
        elif decimal_places(den) is not None and not (den <= 4 and ups):
            words.append(format_number(value))
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
            if factors and not [f for f in product.factors if isinstance(f, ir.Inverse)]:
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
        if power == 1:
            return base
        if self.latex:
            return f"{base}^{{{format_number(power)}}}"
        text = format_number(power)
        return f"{base}^{text}" if len(text) == 1 else f"{base}^{{{text}}}"

    def factor(self, factor: ir.Factor, operand: bool = False) -> str:
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
        """``(A^{-1})^i_j``: the document form of ``inv(A^i_j)``."""
        latex = self.latex
        inner = self.name(ref.name)
        if ref.label is not None:
            label = ref.label.replace("ℓ", "\\ell ") if latex else ref.label
            inner += "_{" + label.strip() + "}" if latex else _label(label)
        inner += "^{-1}"
        up = ("^" + _group(ref.upper, latex)) if ref.upper else ""
        low = ("_" + _group(ref.lower, latex)) if ref.lower else ""
        return (f"\\left({inner}\\right)" if latex else f"({inner})") + up + low

    # -- statements ------------------------------------------------------------------------

    def statement(self, stmt: ir.Statement) -> str:
        if isinstance(stmt, ir.Equation):
            sep = " &= " if self.latex else " = "
            return f"{self.ref(stmt.target)}{sep}{self.sum(stmt.rhs)}"
        if isinstance(stmt, ir.Claim) and stmt.problem:  # as written: it has no meaning
            if self.latex:
                return f"\\texttt{{{_latex_escape(stmt.text)}}}"
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
            return f"const {stmt.name} = {format_number(stmt.value)}"
        if isinstance(stmt, ir.ActDecl):
            label = _label(stmt.label) if stmt.label is not None else ""
            index = f"[{stmt.index}]" if stmt.index else ""
            return f"act {stmt.name}{label} = {stmt.function}{chr(39) * stmt.primes}{index}"
        return "size " + ", ".join(f"{c}={n}" for c, n in stmt.sizes)


def deriv_text(of: str, wrt: ir.Ref, top: ir.Ref | None = None) -> str:
    """A derivative's left-hand side in compact form (``top``: a Jacobian's tensor on top).

    >>> deriv_text("L", ir.Ref("W", None, "d", "h"))
    'dL/dW^d_h'
    >>> deriv_text("g", ir.Ref("w", None, "e", ""), ir.Ref("g", None, "d", ""))
    'dg^d/dw^e'
    """
    return _Writer("compact").deriv(of, wrt, top)


def scalar_text(value: Fraction, consts: tuple[tuple[str, Fraction], ...] = ()) -> str:
    """A product's scalar part as the compact form writes it ('' for 1).

    >>> scalar_text(Fraction(1, 2), (("lambda", Fraction(1)),))
    'lambda/2'
    """
    if value == 1 and not consts:
        return ""
    text = _Writer("compact").product(ir.Product(Fraction(value), consts, (), "", "", ""))
    return text


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


def _params(obj: Any) -> frozenset[str]:
    if isinstance(obj, ir.Module):
        return post_scripted(obj)
    return frozenset()


def post_scripted(program: ir.Module) -> frozenset[str]:
    """Tensors the document form writes with every index after the parentheses.

    Those the program wrote that way first, and params it wrote in the compact
    form (the seed writes its weights ``(w)^d_h``).
    """
    return frozenset(key for key, info in program.tensors.items()
                     if info.style == "post" or (info.style == "" and info.role == "param"))


def render(obj: ir.Module | ir.Statement | ir.Sum | ir.Product, form: str = "compact",
           *, params: frozenset[str] | None = None) -> str:
    """Render a program, a statement, a sum or a product in ``form``.

    ``params`` (taken from the program when one is rendered: see
    :func:`post_scripted`) are written with all their indices after the
    parentheses in document form, as the seed writes its weights: ``(w)^d_h``.

    >>> from indexnet.program import parse
    >>> print(render(parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h"), "document"))
    input ^n(x)_d
    param (W)^d_h
    ^n(a)_h = ^n(x)_d (W)^d_h
    """
    if form not in FORMS:
        raise InvalidArgumentError(f"unknown form {form!r}; valid: {', '.join(FORMS)}")
    writer = _Writer(form, params if params is not None else _params(obj))
    if isinstance(obj, ir.Module):
        if form == "latex":
            return render_latex(obj)
        return "\n".join(writer.statement(s) for s in obj.statements)
    if isinstance(obj, ir.Sum):
        return writer.sum(obj)
    if isinstance(obj, ir.Product):
        return writer.product(obj)
    return writer.statement(obj).replace(" &= ", " = ")


def render_product(product: ir.Product, form: str = "compact") -> str:
    """One product term (its sign included).

    >>> from indexnet.program import parse
    >>> render_product(parse("const c = 3\\nL = -c/2 W^d_h W^d_h").equations[0].rhs.terms[0])
    '-c/2 W^d_h W^d_h'
    """
    return _Writer(form).product(product)


def render_latex(obj: ir.Module | ir.Equation | ir.Claim | ir.Derivation, *,
                 params: frozenset[str] | None = None) -> str:
    """LaTeX (KaTeX/MathJax): one ``aligned`` block for a program, one line for an equation.

    >>> from indexnet.program import parse
    >>> print(render_latex(parse("const λ = 0.1\\nL = λ/2 W^d_h W^d_h").equations[0]))
    L = \\frac{\\lambda}{2}\\,{}^{d}(W)_{h}\\,{}^{d}(W)_{h}
    """
    writer = _Writer("latex", params if params is not None else _params(obj))
    if isinstance(obj, ir.Module):
        rows = [writer.statement(s) for s in obj.statements
                if isinstance(s, (ir.Equation, ir.Claim, ir.Derivation))]
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"
    return writer.statement(obj).replace(" &= ", " = ")


def einsum_equation(subscripts: str, names: tuple[str, ...] | None = None,
                    output: str = "out") -> str:
    """An einsum string as an equation of the language: first axis upper, the rest lower.

    Rule 4 of the language sums every letter that is not on the left, so the
    equation means exactly what the einsum string does.

    >>> einsum_equation("nd,dh->nh")
    'out^n_h = A^n_d B^d_h'
    >>> einsum_equation("ii->")
    'out = A^i_i'
    """
    parsed = parse_subscripts(subscripts)
    if any("..." in t for t in (*parsed.inputs, parsed.output)):
        raise InvalidArgumentError("write the letters for '...' to explain an einsum string")
    if names is None:
        pool = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        names = tuple(pool[k % 26] + ("" if k < 26 else str(k // 26)) for k in range(len(
            parsed.inputs)))

    def spell(name: str, letters: str) -> str:
        if not letters:
            return name
        up = "^" + letters[0]
        low = "_" + _group(letters[1:]) if len(letters) > 1 else ""
        return name + up + low

    rhs = " ".join(spell(n, t) for n, t in zip(names, parsed.inputs)) or "1"
    return f"{spell(output, parsed.output)} = {rhs}"


def _latex_escape(text: str) -> str:
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
