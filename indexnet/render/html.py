"""Rich display for notebooks: statements and programs as LaTeX math beside their diagrams.

Jupyter calls ``_repr_html_``; IR statements find :func:`statement_html` in
:data:`indexnet.ir.nodes.PRINTERS` (installed by :mod:`indexnet.render`) and
:class:`~indexnet.program.Program` calls :func:`module_html`. The math is
written as ``$$…$$``, which the notebook's MathJax typesets; the diagram is
inline SVG, left out (with a note) when networkx is not installed or the
formula is too large to draw.

>>> from indexnet.program import parse
>>> html = statement_html(parse("a^n_h = x^n_d W^d_h").equations[0])
>>> html.startswith('<div class="indexnet-statement">') and "$$" in html
True
"""

from __future__ import annotations

from html import escape

from .. import ir
from ..errors import InvalidArgumentError
from .diagram import diagram
from .text import post_scripted, render_latex

__all__ = ["module_html", "statement_html"]

_DRAWN = (ir.Equation, ir.Claim, ir.Derivation)


def _figure(stmt: ir.Statement) -> str:
    if not isinstance(stmt, _DRAWN) or not any(t.factors for t in stmt.rhs.terms):
        return ""
    try:
        return diagram(stmt)
    except InvalidArgumentError as err:  # networkx missing, or too many operands
        return f'<p class="indexnet-note">{escape(str(err))}</p>'


def statement_html(stmt: ir.Statement, params: frozenset[str] = frozenset()) -> str:
    """One statement as HTML: its LaTeX (``$$…$$``) and, for an equation, its diagram."""
    if isinstance(stmt, _DRAWN):
        math = f"$${escape(render_latex(stmt, params=params))}$$"
    else:
        math = f"<code>{escape(str(stmt))}</code>"
    return f'<div class="indexnet-statement">{math}{_figure(stmt)}</div>'


def module_html(module: ir.Module) -> str:
    """A whole program as HTML: every statement, in order, as :func:`statement_html` shows it.

    >>> from indexnet.program import parse
    >>> module_html(parse("a^n_h = x^n_d W^d_h")).count('class="indexnet-statement"')
    1
    """
    params = post_scripted(module)
    body = "".join(statement_html(s, params) for s in module.statements)
    return f'<div class="indexnet-program">{body}</div>'
