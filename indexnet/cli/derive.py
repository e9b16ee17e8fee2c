"""``indexnet derive`` and ``indexnet check``: exact derivatives and judged claims.

``derive FILE`` prints the simplified derivative of the scalar the file
defines last, for every param (or ``--wrt NAME``), each equation with its
einsum strings; ``--latex`` and ``--doc`` choose the notation (``--latex``
prints one ``aligned`` block that pastes into a LaTeX document, the einsum
strings as ``\\quad`` comments; ``--no-einsum`` leaves them out). ``check FILE``
prints one row per claim (line, claim, einsum strings, pass or fail, largest
relative error, diagnosis), or with ``--json`` a list of objects (strict
JSON: a NaN or an infinity prints as ``null``, see
:func:`~indexnet.cli.options.json_text`). Both print the program's warnings
(variance, and axes named differently from their declaration) to stderr, one
line each with line and column, as ``eval`` does; they never change the exit
status. Exit status: 0 when every claim holds, 1 when one fails, 2 when the
file cannot be read or parsed or its declarations and equations do not size.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["derive", "examples/seed.ix", "--wrt", "b_ℓ"])
>>> args.func(args)  # doctest: +NORMALIZE_WHITESPACE
∂L/∂^n(a_ℓ)_k = ^n(ŷ)_k − ^n(y)_k
∂L/∂(b_ℓ)_k = Σ_n ^n(δ_ℓ)_k    [nk->k]
0
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..derive.assemble import shown_for
from ..derive.steps import steps
from ..errors import InvalidArgumentError
from ..fileio import read_text
from ..program import Program, parse
from ..render import latex_aligned, post_scripted, render, spelling
from .argtypes import non_negative_int, positive_int
from .options import add_json_option, add_sizes_option, json_text, sizes_of

__all__ = ["register", "run_check", "run_derive"]


def register(subparsers: Any) -> None:
    """Add the ``derive`` and ``check`` subcommands to an argparse ``subparsers``."""
    p = subparsers.add_parser(
        "derive",
        help="print the exact derivatives of a program, simplified",
        description="Print the derivative of the scalar FILE defines last (or --of) with "
        "respect to every param (or --wrt), simplified, each equation with its einsum strings.",
    )
    p.add_argument("file", help="a program, e.g. examples/seed.ix")
    p.add_argument("--wrt", action="append", metavar="NAME",
                   help="differentiate with respect to this tensor (repeatable; default: "
                   "every param)")
    p.add_argument("--of", metavar="SCALAR", help="the scalar to differentiate (default: the "
                   "last one defined)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--latex", action="store_true",
                      help="print one LaTeX aligned block (amsmath), the einsum strings as "
                      "\\quad comments")
    form.add_argument("--doc", action="store_true", help="print the document form (default)")
    form.add_argument("--compact", action="store_true", help="print the compact form")
    p.add_argument("--no-einsum", action="store_true",
                   help="leave the einsum strings out")
    p.add_argument("--steps", action="store_true",
                   help="show each derivative step by step: the chain rule, the local "
                   "derivatives, then the simplified result")
    add_json_option(p, help="print a JSON list")
    p.set_defaults(func=run_derive, show_source=True)

    q = subparsers.add_parser(
        "check",
        help="judge the claims of a program against the exact derivative",
        description="Evaluate every claim of FILE on random draws from the declared domains "
        "and compare it with the exact derivative (itself confirmed by finite differences); "
        "diagnose failures. Exit 0: all hold; 1: one fails; 2: unreadable or does not size.",
    )
    q.add_argument("file", help="a program with claims, e.g. examples/seed.ix")
    add_sizes_option(q)
    q.add_argument("--draws", type=positive_int, default=3,
                   help="random draws, >= 1 (default 3)")
    q.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the first draw, >= 0 (default 0)")
    add_json_option(q, help="print a JSON list, one object a claim")
    q.set_defaults(func=run_check, show_source=True)


def _print_warnings(program: Program, path: str) -> None:
    """Print every warning of ``program`` to stderr, one line each: ``FILE: line L, column C: …``.

    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     _print_warnings(parse("db_k = delta^n_k"), "f.ix")
    >>> err.getvalue().startswith("f.ix: line 1, column 8: n occurs once (delta^n_k)")
    True
    """
    with spelling(program):  # a warning spells each tensor as derive and check do
        for warning in program.warnings:
            print(f"{path}: {warning}", file=sys.stderr)


def _read(path: str) -> Program:
    """The program in the file at ``path``, its warnings printed to stderr.

    An unreadable or empty file is a typed error.
    """
    text = read_text(path, "program")
    if not text.strip():
        raise InvalidArgumentError(f"program {path!r} is empty: it holds no declaration or "
                                   "equation")
    program = parse(text)
    _print_warnings(program, path)
    return program


def run_derive(args: argparse.Namespace) -> int:
    """The ``derive`` subcommand."""
    program = _read(args.file)
    program.size_model.resolve({}, None, defaults=True)
    derived = program.derive(args.of, args.wrt)
    form = "latex" if args.latex else "compact" if args.compact else "document"
    params = post_scripted(program)
    rows = []
    shown = derived.derivations if args.wrt is None else shown_for(derived, args.wrt)
    with spelling(program):  # the steps spell each tensor as the program does
        worked = {s.key: s for s in steps(program, derived, "compact")} if args.steps else {}
    for d in shown:
        text = render(d, form, params=params)
        row: dict[str, Any] = {"derivative": d.key, "equation": render(d, "compact",
                                                                       params=params),
                               "text": text, "einsum": d.einsums()}
        if d.key in worked:
            step = worked[d.key]
            row["steps"] = {"chain rule": step.chain, "local derivatives": step.local}
        rows.append(row)
    if args.json:
        print(json_text(rows))
        return 0
    if args.latex and not args.steps:
        notes = None if args.no_einsum else ["; ".join(row["einsum"]) for row in rows]
        print(latex_aligned(shown, params=params, notes=notes))
        return 0
    for row in rows:
        einsums = f"    [{'; '.join(row['einsum'])}]" if row["einsum"] and not args.no_einsum \
            else ""
        if "steps" in row:
            lhs = row["equation"].split(" = ", 1)[0]
            pad = " " * len(lhs)
            print(f"{lhs} = {row['steps']['chain rule']}    (chain rule)")
            print(f"{pad} = {row['steps']['local derivatives']}    (local derivatives)")
            print(f"{pad} = {row['equation'].split(' = ', 1)[1]}{einsums}    (simplified)")
            print()
        else:
            print(f"{row['text']}{einsums}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """The ``check`` subcommand."""
    program = _read(args.file)
    sizes = sizes_of(args)
    program.check_letters(sizes, "--sizes")
    if args.draws < 1:
        raise InvalidArgumentError("--draws must be at least 1")
    with spelling(program):  # the claims named as derive names the derivatives
        report = program.check(sizes, draws=args.draws, seed=args.seed)
    if args.json:
        print(json_text(report.to_json()))
    else:
        print(report)
    for defect in report.defects:
        print(f"indexnet check: INDEXNET DEFECT: {defect}", file=sys.stderr)
    return 0 if report.ok else 1
