"""The report of a program as one self-contained HTML page, and its atomic writer.

:func:`build_report` returns the page; :func:`write_report` writes it (to a
temporary file beside the target, renamed over it, so a failed write leaves
nothing half-written). The page holds the program in rendered mathematics
(MathML, laid out by the browser), each equation with its einsum strings,
matrix form, loop nest and tensor-network diagram (inline SVG), the
derivatives step by step and the verdict on every claim with its diagnosis.
It loads nothing: no script, no font, no image, no style sheet from
elsewhere, and its Content-Security-Policy forbids it to.

>>> page = build_report("examples/seed.ix")
>>> page.startswith("<!DOCTYPE html>") and page.count("<math") > 20
True
"""

from __future__ import annotations

import importlib.metadata
import os
import re
from collections.abc import Sequence
from html import escape

from .. import ir
from ..errors import InvalidArgumentError
from ..fileio import atomic_write_bytes, check_output_path, read_text
from ..program import Program, parse
from ..render import spelling
from .facts import Facts, gather, intro_paragraphs
from .sections import (
    checks_section,
    derivation_section,
    equations_section,
    numbered,
    program_section,
)

__all__ = ["ProgramLike", "build_report", "load_program", "render_page", "summary", "write_page",
           "write_report"]

#: A program, or the path of a file that holds one.
ProgramLike = Program | ir.Module | str | os.PathLike

_SANS = '"Liberation Sans","DejaVu Sans",Helvetica,Arial,sans-serif'
_MONO = '"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace'
_STYLE = f"""
:root{{--ink:#1d2330;--muted:#5b6473;--rule:#d9dee7;--accent:#2b5797;--pass:#1e7d32;
--fail:#c0392b;--tint:#f5f7fa}}
*{{box-sizing:border-box}}
body{{margin:0;background:#e9edf2;color:var(--ink);
font:16px/1.55 "Liberation Serif","DejaVu Serif",Georgia,"Times New Roman",serif}}
main{{max-width:64rem;margin:0 auto;padding:2.5rem 3rem 2rem;background:#fff;min-height:100vh}}
h1,h2,h3,dt,.label,th,nav,.kicker,.chips,.card header,.why,.mark,.badge,.meta,footer,figcaption
{{font-family:{_SANS}}}
h1{{font-size:2rem;line-height:1.2;margin:.1rem 0 .6rem}}
h2{{font-size:1.35rem;margin:2.6rem 0 1rem;padding-bottom:.25rem;border-bottom:2px solid
var(--accent);color:var(--accent)}}
h3{{font-size:1rem;margin:1.6rem 0 .5rem}}
.kicker{{margin:0;color:var(--accent);font-size:.8rem;letter-spacing:.08em;
text-transform:uppercase;font-weight:600}}
.chips{{margin:0 0 1rem}}
.chips span{{display:inline-block;margin:0 .4rem .4rem 0;padding:.15rem .65rem;
border-radius:1rem;background:var(--tint);border:1px solid var(--rule);font-size:.85rem}}
.chips .fail{{background:#fbe4e1;border-color:#f1b7af;color:var(--fail)}}
.chips .pass{{background:#e3f3e5;border-color:#b5dcba;color:var(--pass)}}
nav{{margin:1.2rem 0;padding:.7rem 1rem;background:var(--tint);border-radius:6px;
font-size:.92rem}}
nav ol{{margin:.3rem 0 0;padding-left:1.4rem;columns:2}}
a{{color:var(--accent)}}
math{{font-family:"STIX Two Math","Latin Modern Math","Cambria Math","DejaVu Math TeX Gyre",
math;font-size:1.08em}}
.formula{{overflow-x:auto;overflow-y:hidden;padding:.15rem 0}}
.formula math{{margin:.35rem 0}}
.display{{display:flex;align-items:center;gap:1rem;margin:.45rem 0}}
.display .formula{{flex:1;min-width:0}}
.eqno{{color:var(--muted);text-decoration:none;font-family:{_SANS};font-size:.9rem}}
table{{border-collapse:collapse;width:100%}}
th,td{{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--rule);
vertical-align:middle}}
th{{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}}
td.role{{font-family:{_MONO};font-size:.88rem;color:var(--accent)}}
.comment{{color:var(--muted);font-style:italic}}
p.comment{{margin:.2rem 0}}
code,pre{{font-family:{_MONO};font-size:.85rem}}
code{{background:var(--tint);padding:.05rem .3rem;border-radius:3px}}
pre{{margin:0;padding:.5rem .75rem;background:var(--tint);border-radius:4px;overflow-x:auto;
line-height:1.4}}
.card{{border:1px solid var(--rule);border-radius:8px;padding:.9rem 1.25rem 1.1rem;
margin:1.2rem 0;break-inside:avoid}}
.card header{{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}}
.card header .eqno{{font-weight:600;color:var(--ink);margin-right:.3rem}}
.facts-grid{{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.5rem;
align-items:start;margin-top:.6rem}}
.loops{{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:1rem;margin-top:.8rem}}
@media (max-width:52rem){{.facts-grid{{grid-template-columns:minmax(0,1fr)}}
main{{padding:1.5rem 1.2rem}}}}
dl{{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.4rem 1rem;margin:0}}
dt,.label{{font-size:.72rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);
padding-top:.2rem}}
dd{{margin:0}}
figure.diagram{{margin:0;text-align:center}}
figure.diagram.wide{{grid-column:1/-1}}
figure.diagram svg{{max-width:100%;height:auto}}
figcaption{{font-size:.75rem;color:var(--muted);max-width:24rem;margin:.3rem auto 0}}
.steps{{display:grid;grid-template-columns:max-content minmax(0,1fr) max-content;
gap:.3rem .6rem;align-items:center;margin:1rem 0;padding:.7rem 1rem;background:var(--tint);
border-left:3px solid var(--accent);border-radius:0 6px 6px 0;break-inside:avoid}}
.steps .lhs{{text-align:right}}
.steps .rhs{{overflow-x:auto;overflow-y:hidden}}
.why{{font-size:.75rem;color:var(--muted);text-align:right}}
.verdict{{display:grid;grid-template-columns:6rem minmax(0,1fr);gap:1rem;
border:1px solid var(--rule);border-left-width:5px;border-radius:6px;padding:.6rem 1rem;
margin:.9rem 0;break-inside:avoid}}
.verdict.pass{{border-left-color:var(--pass)}}
.verdict.fail{{border-left-color:var(--fail);background:#fdf5f4}}
.mark{{font-weight:600;padding-top:.6rem}}
.pass .mark,.summary.pass{{color:var(--pass)}}
.fail .mark,.summary.fail{{color:var(--fail)}}
.what .formula math{{margin:.2rem 0}}
.meta{{font-size:.8rem;color:var(--muted);margin:.2rem 0}}
.diagnosis{{margin:.4rem 0 .1rem}}
.summary{{font-weight:600}}
.badge{{display:inline-block;margin-left:.4rem;padding:.05rem .55rem;border-radius:1rem;
font-size:.72rem;font-weight:600;text-decoration:none;text-transform:none;letter-spacing:0}}
.badge.pass{{background:#e3f3e5;color:var(--pass)}}
.badge.fail{{background:#fbe4e1;color:var(--fail)}}
.note,.bad,.warnings{{padding:.6rem .9rem;border-radius:0 6px 6px 0;background:var(--tint);
border-left:3px solid var(--muted)}}
.bad{{background:#fdf5f4;border-left-color:var(--fail)}}
.warnings{{background:#fff8e6;border-left-color:#d49a00;margin-top:1.2rem}}
.warnings h3{{margin:0 0 .3rem}}
.warnings ul{{margin:0;padding-left:1.2rem}}
.nowrap{{white-space:nowrap}}
mtext.tt{{font-family:{_MONO}}}
details{{margin-top:2.6rem}}
summary{{cursor:pointer;font-family:{_SANS};font-weight:600;color:var(--accent)}}
footer{{margin-top:2.5rem;padding-top:.8rem;border-top:1px solid var(--rule);
font-size:.8rem;color:var(--muted)}}
@media print{{body{{background:#fff}}main{{max-width:none;padding:0}}
a{{color:inherit;text-decoration:none}}details{{display:none}}}}
"""

#: The page may load nothing: no script, no font, no image from anywhere.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _version() -> str:
    """The installed version of indexnet (for the footer), or a note that it is not installed.

    >>> _version() == importlib.metadata.version("indexnet")
    True
    """
    try:
        return importlib.metadata.version("indexnet")
    except importlib.metadata.PackageNotFoundError:
        return "unknown version: not installed"


def load_program(program: ProgramLike) -> tuple[Program, str]:
    """The program and the name the page calls it by (its file's name, or 'program').

    A path is read and parsed; an unreadable, empty or ill-formed file raises.
    """
    if isinstance(program, ir.Module):
        return Program.of(program), "program"
    if isinstance(program, (str, os.PathLike)):
        path = os.fspath(program)
        text = read_text(path, "program")
        if not text.strip():
            raise InvalidArgumentError(f"program {path!r} is empty: it holds no declaration or "
                                       "equation")
        return parse(text), os.path.basename(path)
    raise InvalidArgumentError(f"build_report takes a Program or the path of a program file, "
                               f"not {type(program).__name__}")


def build_report(program: ProgramLike, sizes: dict[str, int] | None = None, *,
                 of: str | None = None, wrt: Sequence[str] | None = None, draws: int = 3,
                 seed: int = 0, title: str | None = None) -> str:
    """The HTML report of ``program`` (a Program, or the path of a program file).

    ``sizes`` (letter → size) override the program's ``size`` lines for the
    diagrams, the FLOP counts and the check; ``of`` and ``wrt`` choose the
    derivatives as ``indexnet derive`` does; ``draws`` and ``seed`` the random
    draws of the check; ``title`` heads the page (default: the file's name).
    A part that does not apply (no claims, no scalar to differentiate) says
    why in its place. A file that cannot be read or parsed raises, as
    :func:`~indexnet.program.parse` does.
    """
    prog, name = load_program(program)
    facts = gather(prog, title or name, sizes, of=of, wrt=wrt, draws=draws, seed=seed)
    return render_page(facts)


def write_report(path: str | os.PathLike[str], program: ProgramLike,
                 sizes: dict[str, int] | None = None, *, what: str = "report",
                 **options: object) -> str:
    """Build the report of ``program`` and write it to ``path`` atomically; return the page.

    The path is checked before any work (its folder must exist, it must be
    named ``*.html`` and not be a folder or a device); a write that fails
    leaves the file that was there, if any, and no temporary file behind.
    Every failure is a :class:`~indexnet.CheckpointError` naming ``what``.
    ``options`` are those of :func:`build_report`.
    """
    check_output_path(path, what, ".html")
    page = build_report(program, sizes, **options)  # type: ignore[arg-type]
    write_page(path, page, what)
    return page


def write_page(path: str | os.PathLike[str], page: str, what: str = "report") -> int:
    """Write ``page`` to ``path`` as UTF-8, atomically; return its size in bytes."""
    data = page.encode("utf-8")
    atomic_write_bytes(path, lambda handle: handle.write(data), what)
    return len(data)


def summary(facts: Facts) -> str:
    """One line about the report: ``7 equations, 6 of 6 claims hold, 6 derivatives``."""
    return ", ".join(re.sub(r"<[^>]+>", "", chip) for chip in _chips(facts)
                     if not chip.startswith("sizes"))


def _chips(facts: Facts) -> list[str]:
    program = facts.program
    equations = len(program.equations)
    chips = [f"{equations} equation{'s' if equations != 1 else ''}"]
    report = facts.checked
    if report is not None:
        held, count = sum(r.ok for r in report), len(report)
        kind = "pass" if report.ok else "fail"
        chips.append(f'<span class="{kind}">{held} of {count} claim{"s" if count != 1 else ""}'
                     f" hold{'s' if count == 1 else ''}</span>")
    elif program.claims:
        chips.append(f"{len(program.claims)} claims, unchecked")
    if facts.derived is not None:
        count = len(facts.shown)
        chips.append(f"{count} derivative{'s' if count != 1 else ''}")
    if facts.sizes:
        chips.append("sizes " + escape(", ".join(f"{c}={n}" for c, n in facts.sizes.items())))
    return chips


def render_page(facts: Facts) -> str:
    """The page of the report whose contents :func:`~indexnet.report.facts.gather` worked out."""
    with spelling(facts.program):  # every piece spells each tensor as the program does
        return _page(facts)


def _page(facts: Facts) -> str:
    program = facts.program
    chips = "".join(c if c.startswith("<span") else f"<span>{c}</span>" for c in _chips(facts))
    first = min((getattr(s, "line", 0) for s in program.statements), default=0)
    intro = "".join(f"<p>{escape(p)}</p>" for p in intro_paragraphs(program.source, first))
    contents = [("program", "The program"), ("equations", "Equation by equation"),
                ("derivation", "The derivatives, step by step"),
                ("checks", "The claims, checked")]
    nav = "".join(f'<li><a href="#{k}">{t}</a></li>' for k, t in contents)
    if facts.sizes_note:
        intro += f'<p class="bad">The sizes do not resolve: {escape(facts.sizes_note)}</p>'
    title = escape(facts.name)
    source = (f"<details><summary>The source, as written ({len(numbered(facts))} equations and "
              f"claims)</summary><pre>{escape(program.source)}</pre></details>"
              if program.source.strip() else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="indexnet report">'
        f"<title>{title}: indexnet report</title><style>{_STYLE}</style></head><body><main>"
        f'<header><p class="kicker">indexnet report</p><h1>{title}</h1>'
        f'<p class="chips">{chips}</p>{intro}'
        f"<nav><b>Contents</b><ol>{nav}</ol></nav></header>"
        f"{program_section(facts)}{equations_section(facts)}{derivation_section(facts)}"
        f"{checks_section(facts)}{source}"
        f"<footer>Written by <code>indexnet report</code> (indexnet {_version()}). The page "
        "is self-contained: its mathematics is MathML, laid out by the browser, its diagrams "
        "inline SVG; it loads no script, font or image.</footer>"
        "</main></body></html>\n")
