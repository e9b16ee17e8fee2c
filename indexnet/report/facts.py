"""What a report says about a program, worked out once: sizes, checks, derivatives, comments.

:func:`gather` runs everything the page shows (``check``, ``derive``,
``derive --steps``) and keeps, for each part that does not apply to the
program (no claims, no scalar to differentiate, no params, sizes that do not
resolve), the reason, so the page can say why that part is absent. An
internal error of indexnet is never hidden in the page: it propagates.

>>> from indexnet.program import parse
>>> facts = gather(parse("input x^n_d\\nparam W^d_h\\na^n_h = x^n_d W^d_h"))
>>> facts.derived is None, facts.derive_note
(True, 'the program defines no scalar to differentiate')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import ir
from ..check.report import CheckReport
from ..derive.assemble import shown_for
from ..derive.steps import Step, steps
from ..errors import IndexnetError, InternalError
from ..program import Program
from ..render import latex_name, post_scripted, spelling

__all__ = ["Facts", "chain_latex", "comment_before", "gather", "intro_paragraphs",
           "matrix_latex", "trailing_comment"]


@dataclass
class Facts:
    """Everything the page shows, and why a part is absent when it is.

    ``sizes`` are every letter's size (None, with ``sizes_note``, when they
    do not resolve); ``checked`` is the check report (None, with
    ``check_note``, when there is none); ``derived``, ``shown`` and
    ``worked`` are ``derive``'s program, the derivations it shows and their
    steps by key (None and empty, with ``derive_note``, when derive does not
    apply).
    """

    program: Program
    name: str
    params: frozenset[str]
    sizes: dict[str, int] | None = None
    sizes_note: str = ""
    checked: CheckReport | None = None
    check_note: str = ""
    derived: Program | None = None
    derive_note: str = ""
    shown: list[ir.Derivation] = field(default_factory=list)
    worked: dict[str, Step] = field(default_factory=dict)


def gather(program: Program, name: str = "program", sizes: dict[str, int] | None = None, *,
           of: str | None = None, wrt: Sequence[str] | None = None, draws: int = 3,
           seed: int = 0) -> Facts:
    """Work out everything the report of ``program`` shows.

    ``sizes`` (letter → size) override the program's ``size`` lines; a letter
    the program does not use is an :class:`~indexnet.InvalidArgumentError`.
    ``of``, ``wrt`` choose the derivatives as ``indexnet derive`` does (a
    name that cannot be differentiated then raises, as there);
    ``draws`` and ``seed`` the random draws of the check.
    """
    program.check_letters(sizes, "sizes")
    facts = Facts(program, name, post_scripted(program))
    with spelling(program):  # diagnoses and steps spell each tensor as the program does
        _work_out(facts, sizes, of, wrt, draws, seed)
    return facts


def _work_out(facts: Facts, sizes: dict[str, int] | None, of: str | None,
              wrt: Sequence[str] | None, draws: int, seed: int) -> None:
    """Fill in ``facts``: the sizes, the check, the derivatives (see :func:`gather`)."""
    program = facts.program
    try:
        facts.sizes = program.size_model.resolve({}, sizes, defaults=True)
    except InternalError:
        raise
    except IndexnetError as err:
        facts.sizes_note = _message(err)
    if not program.claims:
        facts.check_note = "the program makes no claims"
    else:
        try:
            facts.checked = program.check(sizes, draws=draws, seed=seed)
        except InternalError:
            raise
        except IndexnetError as err:
            facts.check_note = _message(err)
    try:
        derived = program.derive(of, list(wrt) if wrt else None)
    except InternalError:
        raise
    except IndexnetError as err:
        if of is not None or wrt:  # asked for by name: a mistake in the request, not a note
            raise
        facts.derive_note = _message(err)
    else:
        facts.derived = derived
        facts.shown = list(derived.derivations if not wrt else shown_for(derived, list(wrt)))
        facts.worked = {s.key: s for s in steps(program, derived, "latex")}


def _message(err: Exception) -> str:
    """An error's message without the caret lines a message about source text may carry."""
    return str(err).split("\n", 1)[0]


# -- spelling pieces of the page in LaTeX ---------------------------------------------------


_BARE_NAME = re.compile(r"^\w+$")


def chain_latex(chain: str) -> str:
    r"""The chain rule of ``derive --steps`` (``∂L/∂T ∂T/∂X + ∂L/∂X|_L``) with fractions.

    :func:`~indexnet.derive.steps.steps` writes each derivative of the chain
    as ``∂top/∂bottom``, top and bottom in the form asked for (LaTeX here);
    this sets each as ``\frac{\partial top}{\partial bottom}``, and a
    restricted one (``|_L``, the terms of L itself) with a bar. Text of
    another shape is returned as it is.

    >>> print(chain_latex("∂L/∂a ∂a/∂W"))
    \frac{\partial L}{\partial a}\,\frac{\partial a}{\partial W}
    >>> print(chain_latex("∂L/∂W|_L"))
    \left.\frac{\partial L}{\partial W}\right|_{L}
    """
    parts = []
    for part in chain.split(" + "):
        restricted = ""
        head, bar, tail = part.rpartition("|_")
        if bar and _BARE_NAME.match(tail):
            part, restricted = head, tail
        fractions = []
        for k, piece in enumerate(part.split(" ∂")):
            text = piece if k == 0 else "∂" + piece
            top, slash, bottom = text[1:].partition("/∂")
            if not text.startswith("∂") or not slash:
                return chain
            if _BARE_NAME.match(top):
                top = latex_name(top)
            fractions.append(f"\\frac{{\\partial {top}}}{{\\partial {bottom}}}")
        text = "\\,".join(fractions)
        if restricted:
            text = f"\\left.{text}\\right|_{{{latex_name(restricted)}}}"
        parts.append(text)
    return " + ".join(parts)


_MATRIX_TOKEN = re.compile(r"_\{[^{}]*\}|[A-Za-z]{2,}|⁻¹|\s+|.")
#: The matrix form's own marks, in LaTeX.
_MATRIX_MARKS = {"ᵀ": "^{T}", "⁻¹": "^{-1}", "²": "^{2}", "Σ": "\\sum", "∘": "\\circ ",
                 "⟨": "\\langle ", "⟩": "\\rangle "}
_OPERATORS = set("+−-=⊙,/")


def matrix_latex(text: str) -> str:
    r"""The matrix form (:func:`~indexnet.render.matrix_form`'s text) in LaTeX.

    Names of several letters are set upright (``yhat``, ``softmax``), a space
    between two operands becomes a thin space, ``ᵀ``, ``⁻¹``, ``²``, ``^∘2``
    become scripts, ``|n|`` and ``‖A‖`` become delimiters.

    >>> print(matrix_latex("∂L/∂w_ℓ = x_ℓᵀ δ_ℓ + lambda w_ℓ"))
    ∂L/∂w_ℓ = x_ℓ^{T}\,δ_ℓ + \lambda \,w_ℓ
    >>> print(matrix_latex("L = 0.5 Σ_{nd} (y − t)^∘2 + ‖W‖²"))
    L = 0.5\,\sum_{nd}\,(y − t)^{\circ 2} + \lVert W\rVert ^{2}
    """
    text = re.sub(r"\^∘([0-9.]+)", r"^{∘\1}", text)
    text = re.sub(r"‖([^‖]+)‖", "\x01\\1\x02", text)
    text = re.sub(r"\|([^|]+)\|", "\x03\\1\x04", text)
    tokens = _MATRIX_TOKEN.findall(text)
    out = []
    for k, token in enumerate(tokens):
        if token.isspace():
            before = tokens[k - 1] if k else "="
            after = tokens[k + 1] if k + 1 < len(tokens) else "="
            out.append(" " if before in _OPERATORS or after in _OPERATORS else "\\,")
        elif token in _MATRIX_MARKS:
            out.append(_MATRIX_MARKS[token])
        elif len(token) > 1 and token.isalpha():
            out.append(latex_name(token) + " ")
        else:
            out.append({"\x01": "\\lVert ", "\x02": "\\rVert ", "\x03": "\\lvert ",
                        "\x04": "\\rvert "}.get(token, token))
    return "".join(out)


# -- the comments of the source ---------------------------------------------------------------


def _comment(line: str) -> str | None:
    """The text of a whole-line comment (``# text`` → ``text``), else None."""
    stripped = line.strip()
    return stripped[1:].strip() if stripped.startswith("#") else None


def comment_before(source: str, line: int) -> list[str]:
    """The paragraphs of the comment block right above source line ``line`` (1-based).

    >>> comment_before("x = 1\\n# the weights\\n# of layer 1\\nw = 2", 4)
    ['the weights of layer 1']
    """
    lines = source.splitlines()
    block: list[str] = []
    k = line - 2
    while 0 <= k < len(lines) and _comment(lines[k]) is not None:
        block.insert(0, lines[k])
        k -= 1
    return _paragraphs(block)


def intro_paragraphs(source: str, first_line: int) -> list[str]:
    """The paragraphs of the comments above the first statement (at ``first_line``)."""
    return _paragraphs(source.splitlines()[:max(first_line - 1, 0)])


def _paragraphs(lines: list[str]) -> list[str]:
    """Comment lines joined into paragraphs; an empty line or an empty comment ends one."""
    out: list[list[str]] = [[]]
    for line in lines:
        text = _comment(line)
        if not text:
            out.append([])
        else:
            out[-1].append(text)
    return [" ".join(p) for p in out if p]


def trailing_comment(source: str, line: int) -> str:
    """The comment after the code on source line ``line`` (1-based), or ''.

    >>> trailing_comment("input x^n_d   # the data", 1)
    'the data'
    """
    lines = source.splitlines()
    if not 0 < line <= len(lines):
        return ""
    code, mark, note = lines[line - 1].partition("#")
    return note.strip() if mark and code.strip() else ""
