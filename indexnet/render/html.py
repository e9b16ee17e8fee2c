"""Rich display for notebooks: statements, programs, result tables and explanations.

Jupyter calls ``_repr_html_``; IR statements find :func:`statement_html` in
:data:`indexnet.ir.nodes.PRINTERS` (installed by :mod:`indexnet.render`) and
:class:`~indexnet.program.Program` calls :func:`module_html`. The math is
written as ``$$…$$``, which the notebook's MathJax typesets; the diagram is
inline SVG, left out (with a note) when networkx is not installed or the
formula is too large to draw. :func:`table_html` is the one table of
verdicts (``CheckReport``, ``GradcheckReport``): each row's verdict marked
pass (✓, green) or fail (✗, red). :func:`explain_html` shows what
``indexnet explain`` finds.

>>> from indexnet.program import parse
>>> html = statement_html(parse("a^n_h = x^n_d W^d_h").equations[0])
>>> html.startswith('<div class="indexnet-statement">') and "$$" in html
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from .. import ir
from ..errors import InvalidArgumentError
from .diagram import diagram
from .spelling import post_scripted, spelling
from .text import render_latex

__all__ = [
    "cell",
    "explain_html",
    "module_html",
    "statement_html",
    "table_html",
    "verdict_cell",
]

_DRAWN = (ir.Equation, ir.Claim, ir.Derivation)
#: The rows of an explanation (``indexnet explain``'s dict), in order: label, key.
_EXPLAINED = (("equation", "equation"), ("document", "document"), ("LaTeX", "latex"),
              ("einsum", "einsum"), ("matrix", "matrix_form"), ("loops", "loops"),
              ("warnings", "warnings"), ("FLOPs", "flops"))


def _figure(stmt: ir.Statement) -> str:
    if not isinstance(stmt, _DRAWN) or not any(t.factors for t in stmt.rhs.terms):
        return ""
    try:
        return diagram(stmt, title=False)  # its LaTeX is shown just above
    except InvalidArgumentError as err:  # networkx missing, or too many operands
        return f'<p class="indexnet-note">{escape(str(err))}</p>'


def statement_html(stmt: ir.Statement, params: frozenset[str] | None = None) -> str:
    """One statement as HTML: its LaTeX (``$$…$$``) and, for an equation, its diagram.

    ``params`` (default: the program in force's, :func:`~indexnet.render.spelling`)
    are the tensors written with every index after the parentheses.
    """
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
    with spelling(module):  # the diagrams' titles and the code lines spell as the math does
        params = post_scripted(module)
        body = "".join(statement_html(s, params) for s in module.statements)
    return f'<div class="indexnet-program">{body}</div>'


def cell(text: str, *, code: bool = False) -> str:
    """One table cell holding ``text`` (escaped; in ``<code>`` with ``code``).

    >>> cell("a < b"), cell("nd->d", code=True)
    ('<td>a &lt; b</td>', '<td><code>nd-&gt;d</code></td>')
    """
    body = escape(text)
    return f"<td><code>{body}</code></td>" if code else f"<td>{body}</td>"


def verdict_cell(ok: bool, label: str) -> str:
    """A cell marked pass (✓, green) or fail (✗, red and bold), with ``label`` beside the mark.

    >>> verdict_cell(True, "pass")
    '<td class="pass" style="color:#1e7d32">&#10003; pass</td>'
    """
    if ok:
        return f'<td class="pass" style="color:#1e7d32">&#10003; {escape(label)}</td>'
    return (f'<td class="fail" style="color:#c0392b;font-weight:bold">&#10007; '
            f"{escape(label)}</td>")


def table_html(kind: str, header: Sequence[str], rows: Sequence[Sequence[str]], *,
               before: Sequence[str] = (), after: Sequence[str] = ()) -> str:
    """A table of verdicts for notebooks, ``<div class="indexnet-{kind}">``.

    ``rows`` are lists of cells made by :func:`cell` and :func:`verdict_cell`;
    ``before`` and ``after`` are paragraphs of text (escaped here) set above
    and below the table.

    >>> row = [cell("dL/dw"), verdict_cell(False, "FAIL")]
    >>> html = table_html("check", ["claim", "result"], [row])
    >>> html.count("<tr>"), 'class="fail"' in html
    (2, True)
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    above = "".join(f"<p>{escape(p)}</p>" for p in before)
    below = "".join(f"<p>{escape(p)}</p>" for p in after)
    return (f'<div class="indexnet-{escape(kind)}">{above}<table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{below}</div>")


def explain_html(info: Mapping[str, Any], picture: str = "", kind: str = "") -> str:
    """What ``indexnet explain`` found (its ``--json`` object) as an HTML fragment.

    One table a formula (its forms, einsum strings, matrix form, loop nest,
    warnings, FLOPs, free and summed indices), then ``picture`` (an SVG)
    under the heading ``kind``. ``explain --html`` wraps it in a page.

    >>> explain_html({"input": "nd,dh->nh", "einsum": ["nd,dh->nh"], "free": ["n", "h"],
    ...               "summed": ["d"]}).count("<tr>")
    3
    """
    rows = []
    for item in info.get("equations", [info]):
        for label, key in _EXPLAINED:
            value = item.get(key)
            if isinstance(value, list):
                value = "\n".join(map(str, value))
            if value in (None, ""):
                continue
            text = f"{value:,}" if isinstance(value, int) else str(value)
            rows.append(f"<tr><th>{label}</th><td><pre>{escape(text)}</pre></td></tr>")
        for label in ("free", "summed"):
            letters = ", ".join(item.get(label, [])) or "none"
            rows.append(f"<tr><th>{label}</th><td>{escape(letters)}</td></tr>")
    figure = (f"<h2>{escape(kind)}</h2><figure>{picture}</figure>" if picture and kind
              else f"<figure>{picture}</figure>" if picture else "")
    return (f'<div class="indexnet-explain"><h1>{escape(str(info.get("input", "")))}</h1>'
            f"<table>{''.join(rows)}</table>{figure}</div>")
