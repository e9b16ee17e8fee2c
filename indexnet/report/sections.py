"""The sections of the report, each a piece of HTML from the :class:`~indexnet.report.facts.Facts`.

1. the program: its declarations and its equations in rendered mathematics;
2. equation by equation: each with its einsum strings, indices, matrix form,
   cost, loop nest and tensor-network diagram;
3. the derivatives step by step (``derive --steps``);
4. the verdict on every claim (``check``), with its diagnosis.

Each formula is MathML (:func:`~indexnet.report.mathml.mathml`), each
diagram inline SVG; nothing refers to anything outside the page.
"""

from __future__ import annotations

import re
from html import escape

from .. import ir
from ..check.report import ClaimResult
from ..einsum.plan import plan
from ..einsum.subscripts import operand_shapes
from ..errors import IndexnetError, InternalError
from ..render import diagram, latex_name, loop_nest, matrix_form, render_latex, tensor_text
from .facts import (
    Facts,
    chain_latex,
    comment_before,
    matrix_latex,
    trailing_comment,
)
from .mathml import mathml

__all__ = ["checks_section", "derivation_section", "equations_section", "program_section"]

_SHOWN = (ir.Equation, ir.Claim)
#: A diagram wider than this (pixels) goes under the facts of its equation, not beside them.
_BESIDE_PX = 430
_ROLES = {"input": "an input (data)", "param": "a parameter (learned)"}


def _sizes_text(sizes: dict[str, int]) -> str:
    return ", ".join(f"{c}={n}" for c, n in sizes.items())


def _display(tex: str) -> str:
    """A formula on its own line, scrolling sideways when it is wider than the page."""
    return f'<div class="formula">{mathml(tex)}</div>'


def _note(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{text}</p>'


def numbered(facts: Facts) -> list[tuple[int, ir.Equation | ir.Claim]]:
    """The equations and claims of the program, numbered from 1 in their order."""
    shown = [s for s in facts.program.statements if isinstance(s, _SHOWN)]
    return list(enumerate(shown, 1))


def _verdicts(facts: Facts) -> dict[int, ClaimResult]:
    return {r.line: r for r in facts.checked} if facts.checked is not None else {}


def _badge(result: ClaimResult | None) -> str:
    if result is None:
        return ""
    if result.ok:
        return f'<a class="badge pass" href="#claim-{result.line}">&#10003; holds</a>'
    return f'<a class="badge fail" href="#claim-{result.line}">&#10007; fails</a>'


# -- 1. the program ---------------------------------------------------------------------------


def _declaration(stmt: ir.Statement, facts: Facts) -> tuple[str, str, str]:
    """A declaration's role, its LaTeX and what it says beside (domain, value, function)."""
    if isinstance(stmt, ir.TensorDecl):
        says = _ROLES.get(stmt.role, stmt.role)
        if stmt.domain is not None:
            says += f", in {stmt.domain}"
        return stmt.role, tensor_text(stmt.ref, "latex", params=facts.params), says
    if isinstance(stmt, ir.ConstDecl):
        return "const", f"{latex_name(stmt.name)} = {stmt.value_text}", "a constant"
    if isinstance(stmt, ir.ActDecl):
        name = latex_name(stmt.name) + "'" * stmt.primes
        if stmt.label is not None:
            name += "_{" + stmt.label.replace("ℓ", "\\ell ").strip() + "}"
        index = f" over {stmt.index}" if stmt.index else ""
        return "act", name, f"the function {stmt.function}{index}"
    if isinstance(stmt, ir.SizeDecl):
        sizes = ",\\quad ".join(f"\\lvert {c}\\rvert = {n}" for c, n in stmt.sizes)
        return "size", sizes, "index sizes, for the diagrams and the checks"
    return "", "", ""


def program_section(facts: Facts) -> str:
    """The declarations (a table, one row a source line) and every equation, numbered."""
    program, source = facts.program, facts.program.source
    rows: dict[int, list[tuple[str, str, str]]] = {}
    for stmt in program.statements:
        if not isinstance(stmt, (*_SHOWN, ir.Derivation)):
            rows.setdefault(getattr(stmt, "line", 0), []).append(_declaration(stmt, facts))
    body = []
    for line, decls in rows.items():
        role = decls[0][0]
        math = mathml(",\\quad ".join(d[1] for d in decls), display=False)
        says = "; ".join(dict.fromkeys(d[2] for d in decls if d[2]))
        note = trailing_comment(source, line)
        body.append(f"<tr><td class=\"role\">{escape(role)}</td><td>{math}</td>"
                    f"<td>{escape(says)}</td><td class=\"comment\">{escape(note)}</td></tr>")
    parts = ['<section id="program"><h2>1. The program</h2>']
    if body:
        parts.append('<table class="decls"><thead><tr><th>role</th><th>tensor</th>'
                     "<th>what</th><th>note</th></tr></thead><tbody>"
                     + "".join(body) + "</tbody></table>")
    equations = numbered(facts)
    if equations:
        parts.append("<h3>Equations and claims</h3>")
        for number, stmt in equations:
            parts.append(f'<div class="display">{_display(render_latex(stmt, params=facts.params))}'
                         f'<a class="eqno" href="#eq-{number}">({number})</a></div>')
    else:
        parts.append(_note("The program holds no equation."))
    if program.warnings:
        items = "".join(f"<li>{escape(str(w))}</li>" for w in program.warnings)
        parts.append(f'<div class="warnings"><h3>Warnings</h3><ul>{items}</ul></div>')
    parts.append("</section>")
    return "".join(parts)


# -- 2. equation by equation --------------------------------------------------------------------


def _cost(stmt: ir.Equation | ir.Claim, facts: Facts) -> str:
    """The FLOPs of the statement's einsums at the report's sizes, or ''."""
    if facts.sizes is None:
        return ""
    flops = 0
    try:
        for product in ir.iter_products(stmt.rhs):
            if product.einsum:
                shapes = operand_shapes(product.operands, facts.sizes)
                flops += plan(product.einsum, *shapes).flops
    except InternalError:
        raise
    except IndexnetError:
        return ""
    return f"{flops:,} FLOPs at {_sizes_text(facts.sizes)}" if flops else ""


def _figure(stmt: ir.Equation | ir.Claim, facts: Facts) -> str:
    """The statement's tensor-network diagram, or a note saying why there is none."""
    if not any(t.factors for t in stmt.rhs.terms):
        return ""
    try:
        svg = diagram(stmt, facts.sizes or {}, title=False)  # the card shows it above
    except InternalError:
        raise
    except IndexnetError as err:  # networkx missing, or more than MAX_OPERANDS operands
        return f'<figure class="diagram">{_note(escape(str(err)))}</figure>'
    caption = ("Tensor network: a box per tensor, a line per summed index, a loose leg per "
               "free index (upper indices up, lower down)")
    width = re.search(r'width="([0-9.]+)"', svg)
    wide = " wide" if width is not None and float(width.group(1)) > _BESIDE_PX else ""
    return (f'<figure class="diagram{wide}">{svg}<figcaption>{caption}</figcaption>'
            "</figure>")


def _facts_list(stmt: ir.Equation | ir.Claim, facts: Facts) -> str:
    """The definition list of one statement: forms, einsums, indices, matrix form, cost, loops."""
    rows: list[tuple[str, str]] = []
    einsums = stmt.einsums()
    rows.append(("einsum", " ".join(f"<code>{escape(e)}</code>" for e in einsums)
                 or "none: no product of tensors"))
    free = ", ".join(stmt.free) or "none (a scalar)"
    summed = ", ".join(stmt.summed) or "none"
    rows.append(("indices", f"free: {escape(free)} &middot; summed: {escape(summed)}"))
    form = matrix_form(stmt)
    rows.append(("matrix form", mathml(matrix_latex(form.text), display=False)
                 if form.text is not None else f"none: {escape(form.reason)}"))
    cost = _cost(stmt, facts)
    if cost:
        rows.append(("cost", escape(cost)))
    warnings = [str(w) for w in facts.program.warnings if w.line == stmt.line]
    if warnings:
        rows.append(("warnings", "<br>".join(escape(w) for w in warnings)))
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _card(number: int, stmt: ir.Equation | ir.Claim, facts: Facts,
          verdicts: dict[int, ClaimResult]) -> str:
    kind = "claim" if isinstance(stmt, ir.Claim) else "equation"
    head = (f'<header><span class="eqno">({number})</span> {kind}, line {stmt.line} '
            f"{_badge(verdicts.get(stmt.line))}</header>")
    source = facts.program.source
    notes = [*comment_before(source, stmt.line), trailing_comment(source, stmt.line)]
    said = "".join(f'<p class="comment">{escape(p)}</p>' for p in notes if p)
    math = _display(render_latex(stmt, params=facts.params))
    if isinstance(stmt, ir.Claim) and stmt.problem:
        body = _note(f"This claim does not fit the program: {escape(stmt.problem)}", "bad")
    else:
        body = (f'<div class="facts-grid">{_facts_list(stmt, facts)}{_figure(stmt, facts)}'
                f'</div><div class="loops"><span class="label">loop nest</span>'
                f"<pre>{escape(loop_nest(stmt))}</pre></div>")
    return f'<article class="card" id="eq-{number}">{head}{said}{math}{body}</article>'


def equations_section(facts: Facts) -> str:
    """One card per equation and claim: its mathematics, einsums, loops and diagram."""
    verdicts = _verdicts(facts)
    cards = [_card(n, s, facts, verdicts) for n, s in numbered(facts)]
    if not cards:
        cards = [_note("Nothing to show: the program holds no equation.")]
    return ('<section id="equations"><h2>2. Equation by equation</h2>'
            + "".join(cards) + "</section>")


# -- 3. the derivatives -----------------------------------------------------------------------


def _steps_block(d: ir.Derivation, facts: Facts) -> str:
    lhs, _, rhs = render_latex(d, params=facts.params).partition(" = ")
    einsums = " ".join(f"<code>{escape(e)}</code>" for e in d.einsums())
    step = facts.worked.get(d.key)
    rows = []
    if step is not None:
        rows.append((chain_latex(step.chain), "chain rule"))
        rows.append((step.local, "local derivatives"))
    rows.append((rhs, f"simplified {einsums}".strip() if step is not None else einsums))
    cells = []
    for k, (tex, why) in enumerate(rows):
        left = mathml(lhs, display=False) if k == 0 else ""
        cells.append(f'<div class="lhs">{left}</div><div class="rhs">'
                     f'{mathml("= " + tex, display=False)}</div><div class="why">{why}</div>')
    return f'<div class="steps" id="d-{escape(d.key)}">{"".join(cells)}</div>'


def derivation_section(facts: Facts) -> str:
    """Every derivative ``derive`` shows, step by step; or why derive does not apply."""
    parts = ['<section id="derivation"><h2>3. The derivatives, step by step</h2>']
    if facts.derived is None:
        parts.append(_note(
            f"<b>No derivatives:</b> {escape(facts.derive_note)}. <code>indexnet derive</code> "
            "differentiates a scalar the program defines (a loss, by default the last one) "
            "with respect to its params, so this part applies to programs that have both."))
    else:
        scalar = facts.shown[0].of if facts.shown else ""
        parts.append(
            f"<p>The derivative of {mathml(latex_name(scalar), display=False)} with respect to "
            "each param, as <code>indexnet derive --steps</code> works it out: first the chain "
            "rule, a sum over the tensors that read the param (a bar "
            "<span class=\"nowrap\">|<sub>L</sub></span> marks the terms of the scalar itself "
            "that read it, such as an L2 term); then the local derivative of each of those "
            "equations; then the result, simplified, with its einsum strings. Each result is "
            "confirmed against finite differences before it is shown.</p>")
        parts.extend(_steps_block(d, facts) for d in facts.shown)
        if not facts.shown:
            parts.append(_note("derive found no derivative to show."))
    parts.append("</section>")
    return "".join(parts)


# -- 4. the checks ----------------------------------------------------------------------------


def _verdict(result: ClaimResult, facts: Facts, claims: dict[int, ir.Claim]) -> str:
    stmt = claims.get(result.line)
    math = (f'<div class="formula">{mathml(render_latex(stmt, params=facts.params), False)}</div>'
            if stmt is not None
            else f"<p><code>{escape(result.statement)}</code></p>")
    error = "-" if result.max_rel_error is None else f"{result.max_rel_error:.2e}"
    einsums = "; ".join(result.einsums) or "none"
    kind, mark = ("pass", "&#10003; holds") if result.ok else ("fail", "&#10007; fails")
    meta = (f"line {result.line} &middot; einsum <code>{escape(einsums)}</code> &middot; "
            f"largest relative error {error}")
    diagnosis = (f'<p class="diagnosis"><b>Diagnosis:</b> {escape(result.diagnosis)}</p>'
                 if result.diagnosis else "")
    return (f'<div class="verdict {kind}" id="claim-{result.line}"><div class="mark">{mark}'
            f'</div><div class="what">{math}<p class="meta">{meta}</p>{diagnosis}</div></div>')


def checks_section(facts: Facts) -> str:
    """Every claim's verdict with its diagnosis; or why there is nothing to check."""
    parts = ['<section id="checks"><h2>4. The claims, checked</h2>']
    report = facts.checked
    if report is None:
        if facts.program.claims:
            parts.append(_note(f"<b>The claims could not be checked:</b> "
                               f"{escape(facts.check_note)}.", "bad"))
        else:
            parts.append(_note(
                "<b>Nothing to check:</b> the program makes no claims. A claim is a line "
                "<code>claim dL/dX = …</code> giving a derivative worked out by hand; "
                "<code>indexnet check</code> holds it against the exact derivative."))
    else:
        held = sum(r.ok for r in report)
        summary = (f"{held} of {len(report)} claim{'s' if len(report) != 1 else ''} "
                   f"{'hold' if len(report) != 1 else 'holds'}, each compared with the exact "
                   f"derivative on {report.draws} random draw{'s' if report.draws != 1 else ''} "
                   f"from the declared domains at sizes {escape(_sizes_text(report.sizes))}.")
        parts.append(f'<p class="summary {"pass" if report.ok else "fail"}">{summary}</p>')
        claims = {c.line: c for c in facts.program.claims}
        parts.extend(_verdict(r, facts, claims) for r in report)
        parts.extend(_note(f"<b>INDEXNET DEFECT:</b> {escape(d)}", "bad")
                     for d in report.defects)
    parts.append("</section>")
    return "".join(parts)
