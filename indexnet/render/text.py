"""Write programs, equations and einsum strings back out.

* :func:`render` — ``compact`` (``a^n_h = x^n_d W^d_h + b_h``), ``document``
  (``^n(a)_h = ^n(x)_d (W)_h^d + (b)_h``, Unicode, as the seed prints it)
  or ``latex`` (KaTeX/MathJax). :func:`~indexnet.program.parse` reads the
  compact and document forms back to an equal program.
* :func:`tensor_text` and :func:`deriv_text` — one tensor reference, one
  derivative atom, spelled as every other printer spells them.
* :func:`latex_aligned` — equations as one LaTeX ``aligned`` block.
* :func:`matrix_form` — ``a = x W + b`` where the products are matrix
  products, or the reason there is none.
* :func:`loop_nest` — the explicit loops.
* :func:`einsum_equation` — an einsum string as an equation of the language.

All of them write through :class:`~indexnet.render.writer.Writer`, the one
place a tensor with its indices is spelled; a printer handed no program
spells tensors as the program in force does (:func:`spelling`).

>>> from indexnet.program import parse
>>> eq = parse("g^d_h = xᵀ_n^d δ^n_h").equations[0]
>>> render(eq, "document")
'^d(g)_h = _n(x^T)^d ^n(δ)_h'
>>> render(eq, "latex")
'{}^{d}(g)_{h} = {}_{n}(x^{T})^{d}\\\\,{}^{n}(\\\\delta)_{h}'
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from .. import ir
from ..errors import InvalidArgumentError
from ..ir.numbers import format_number
from .einsum_text import einsum_equation
from .spelling import Spelling, in_force, post_scripted, spelling, written_form
from .writer import FORMS, Writer, latex_escape, latex_name

__all__ = [
    "FORMS",
    "Spelling",
    "deriv_text",
    "einsum_equation",
    "format_number",
    "in_force",
    "latex_aligned",
    "latex_name",
    "operand_names",
    "post_scripted",
    "render",
    "render_latex",
    "render_product",
    "scalar_text",
    "spelling",
    "tensor_text",
    "written_form",
]

_FORMAL = (ir.Equation, ir.Claim, ir.Derivation)


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise InvalidArgumentError(f"unknown form {form!r}; valid: {', '.join(FORMS)}")


def tensor_text(ref: ir.Ref, form: str = "document", *,
                params: frozenset[str] | None = None) -> str:
    """One tensor reference in ``form``, as every printer of indexnet spells it.

    ``params`` (default: those of the program in force, :func:`spelling`) are
    the tensors written with every index after the parentheses, lower first,
    as the seed writes its weights.

    >>> w = ir.Ref("w", "ℓ", "h", "k")
    >>> tensor_text(w), tensor_text(w, params=frozenset({"w_ℓ"})), tensor_text(w, "latex")
    ('^h(w_ℓ)_k', '(w_ℓ)_k^h', '{}^{h}(w_{\\\\ell})_{k}')
    """
    _check_form(form)
    return Writer(form, params).ref(ref)


def deriv_text(of: str, wrt: ir.Ref, top: ir.Ref | None = None, form: str | None = None, *,
               params: frozenset[str] | None = None) -> str:
    """A derivative atom: ``dL/dW^d_h`` (``top``: a Jacobian's tensor on top).

    ``form`` defaults to the form the program in force is written in
    (:func:`spelling`): the compact form, or the document form
    (``∂L/∂(w_ℓ)_k^h``) for a program written in it, so that the check table
    names a claim as ``derive`` prints its derivative.

    >>> deriv_text("L", ir.Ref("W", None, "d", "h"))
    'dL/dW^d_h'
    >>> deriv_text("g", ir.Ref("w", None, "e", ""), ir.Ref("g", None, "d", ""))
    'dg^d/dw^e'
    >>> deriv_text("L", ir.Ref("w", "ℓ", "h", "k"), form="document", params=frozenset({"w_ℓ"}))
    '∂L/∂(w_ℓ)_k^h'
    """
    form = form if form is not None else in_force().form
    _check_form(form)
    return Writer(form, params).deriv(of, wrt, top)


def scalar_text(value: Fraction, consts: tuple[tuple[str, Fraction], ...] = ()) -> str:
    """A product's scalar part as the compact form writes it ('' for 1).

    >>> scalar_text(Fraction(1, 2), (("lambda", Fraction(1)),))
    'lambda/2'
    """
    if value == 1 and not consts:
        return ""
    return Writer("compact").product(ir.Product(Fraction(value), consts, (), "", "", ""))


def operand_names(product: ir.Product) -> tuple[str, ...]:
    """The names of a product's einsum operands, in the order of its einsum string.

    A tensor is its name (``xᵀ`` transposed), a call ``f(…)``, a
    parenthesis ``(…)``, a derivative atom ``dL/dW``.

    >>> from indexnet.program import parse
    >>> operand_names(parse("y^n = sigmoid(x^n_d w^d) v^n + xᵀ_d^n u^d").equations[0].rhs.terms[1])
    ('xᵀ', 'u')
    """
    return tuple(_operand_name(f) for f in product.factors if ir.factor_output(f))


def _operand_name(factor: ir.Factor) -> str:
    if isinstance(factor, ir.Power):
        return f"{_operand_name(factor.base)}^{format_number(factor.exponent)}"
    if isinstance(factor, ir.Inverse):
        return f"1/{_operand_name(factor.base)}"
    if isinstance(factor, ir.Ref):
        return factor.key + ("ᵀ" if factor.transposed else "")
    if isinstance(factor, (ir.Eye, ir.Window)):
        return "eye" if isinstance(factor, ir.Eye) or factor.eye else factor.key
    if isinstance(factor, ir.Call):
        return f"{factor.function}{chr(39) * factor.primes}(…)"
    if isinstance(factor, ir.Group):
        return "(…)"
    return f"d{factor.of}/d{factor.wrt.key}"


def _params(obj: object) -> frozenset[str] | None:
    """A program's post-scripted tensors; None (the program in force) for a piece of one."""
    return post_scripted(obj) if isinstance(obj, ir.Module) else None


def render(obj: ir.Module | ir.Statement | ir.Sum | ir.Product, form: str = "compact",
           *, params: frozenset[str] | None = None) -> str:
    """Render a program, a statement, a sum or a product in ``form``.

    ``params`` (taken from the program when one is rendered, else from the
    program in force: see :func:`post_scripted` and :func:`spelling`) are
    written with all their indices after the parentheses in document form,
    lower first, as the seed writes its weights: ``(w_ℓ)_h^d``.

    >>> from indexnet.program import parse
    >>> print(render(parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h"), "document"))
    input ^n(x)_d
    param (W)_h^d
    ^n(a)_h = ^n(x)_d (W)_h^d
    """
    _check_form(form)
    writer = Writer(form, params if params is not None else _params(obj))
    if isinstance(obj, ir.Module):
        if form == "latex":
            return render_latex(obj, params=params)
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
    return Writer(form).product(product)


def render_latex(obj: ir.Module | ir.Equation | ir.Claim | ir.Derivation, *,
                 params: frozenset[str] | None = None) -> str:
    """LaTeX (KaTeX/MathJax): one ``aligned`` block for a program, one line for an equation.

    >>> from indexnet.program import parse
    >>> print(render_latex(parse("const λ = 0.1\\nL = λ/2 W^d_h W^d_h").equations[0]))
    L = \\frac{\\lambda}{2}\\,{}^{d}(W)_{h}\\,{}^{d}(W)_{h}
    """
    if isinstance(obj, ir.Module):
        rows = [s for s in obj.statements if isinstance(s, _FORMAL)]
        chosen = params if params is not None else post_scripted(obj)
        return f"$${latex_aligned(rows, params=chosen)}$$"
    return Writer("latex", params).statement(obj).replace(" &= ", " = ")


def latex_aligned(statements: Sequence[ir.Equation | ir.Claim | ir.Derivation], *,
                  params: frozenset[str] | None = None,
                  notes: Sequence[str] | None = None) -> str:
    r"""Equations as one LaTeX ``aligned`` block: one ``&=`` a line, ``\\`` between lines.

    ``notes`` (one a statement, ``""`` for none) are set after each line as
    ``\quad`` comments in typewriter type, as ``derive --latex`` sets the
    einsum strings. The block pastes into a LaTeX document inside
    ``\[ … \]`` or ``equation`` (amsmath), or into KaTeX and MathJax.

    >>> from indexnet.program import parse
    >>> print(latex_aligned(parse("a^n_h = x^n_d W^d_h\nL = a^n_h a^n_h").equations,
    ...                     notes=["nd,dh->nh", ""]))
    \begin{aligned}
    {}^{n}(a)_{h} &= {}^{n}(x)_{d}\,{}^{d}(W)_{h} \quad \texttt{nd,dh->nh} \\
    L &= {}^{n}(a)_{h}\,{}^{n}(a)_{h}
    \end{aligned}
    """
    writer = Writer("latex", params)
    if notes is not None and len(notes) != len(statements):
        raise InvalidArgumentError(f"{len(notes)} notes for {len(statements)} statements")
    rows = []
    for k, stmt in enumerate(statements):
        row = writer.statement(stmt)
        if " &= " not in row:  # a claim that does not mean anything, as written
            row = "& " + row
        note = notes[k] if notes is not None else ""
        rows.append(row + (f" \\quad \\texttt{{{latex_escape(note)}}}" if note else ""))
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
