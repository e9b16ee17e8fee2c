"""``indexnet explain`` and ``indexnet eval``: the index language on the command line.

``explain TEXT`` takes an einsum string (``nd,dh->nh``) or an equation of the
language (``^n(a)_h = ^n(x)_d (w)^d_h + (b)_h``) and prints its free and
summed indices, variance warnings, einsum strings, matrix form and loop nest;
with ``--sizes`` also the FLOP count and the contraction path; ``--svg FILE``
writes its tensor-network diagram and ``--html FILE`` a self-contained page of
it all. ``eval FILE``
evaluates a program on random inputs drawn from its declared domains (or the
arrays of ``--inputs FILE.npz``) and prints each tensor's shape and values in
brief. Errors print their message (with the line and a caret under the
fault) and exit with status 2.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["explain", "nd,nh->dh", "--json"])
>>> args.func(args)  # doctest: +ELLIPSIS
{"input": "nd,nh->dh", ...
0
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import zipfile
from typing import Any

import numpy as np

from .. import ir
from ..einsum.plan import plan
from ..errors import DataError, IndexnetError, InvalidArgumentError
from ..fileio import atomic_write_bytes, check_output_path, read_text
from ..notation.parser import KEYWORDS
from ..program import Program, parse
from ..render import (
    MAX_OPERANDS,
    contraction_tree,
    diagram,
    einsum_equation,
    explain_html,
    loop_nest,
    matrix_form,
    post_scripted,
    render,
    render_latex,
    spelling,
)
from .argtypes import non_negative_int
from .options import (
    add_json_option,
    add_optimize_option,
    add_sizes_option,
    json_text,
    operand_shapes,
    sizes_of,
)

__all__ = ["Explanation", "explain", "explain_svg", "register", "run_eval", "run_explain"]

_EINSUM = re.compile(r"^[A-Za-z,.\->\s]*$")


def register(subparsers: Any) -> None:
    """Add the ``explain`` and ``eval`` subcommands to an argparse ``subparsers``."""
    p = subparsers.add_parser(
        "explain",
        help="explain an einsum string or an equation of the index language",
        description="Show the free and summed indices, variance warnings, einsum strings, "
        "matrix form and loop nest of an einsum string or an equation; with --sizes also "
        "the FLOPs and the contraction path.",
    )
    p.add_argument("text", help="an einsum string ('nd,dh->nh') or an equation "
                   "('a^n_h = x^n_d W^d_h + b_h', '^n(a)_h = ^n(x)_d (w)^d_h')")
    add_sizes_option(p, help="index sizes, e.g. n=256,d=784,h=256")
    add_optimize_option(p)
    add_json_option(p)
    p.add_argument("--strict", action="store_true", help="variance warnings are errors")
    p.add_argument("--svg", metavar="FILE.svg",
                   help="also write the formula's tensor-network diagram as SVG")
    p.add_argument("--html", metavar="FILE.html",
                   help="also write a self-contained HTML page: the explanation and diagram")
    p.set_defaults(func=run_explain, show_source=True)

    q = subparsers.add_parser(
        "eval",
        help="evaluate a program of the index language",
        description="Evaluate every equation of FILE on random inputs drawn from the declared "
        "domains (or on the arrays of --inputs) and print each tensor's shape and values.",
    )
    q.add_argument("file", help="a program, e.g. examples/seed.ix")
    q.add_argument("--inputs", metavar="FILE.npz",
                   help="an .npz archive (numpy.savez) of real arrays by tensor name")
    add_sizes_option(q, help="index sizes for the random inputs, e.g. n=8,d=6")
    q.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the random inputs, >= 0 (default 0)")
    add_json_option(q)
    q.add_argument("--strict", action="store_true", help="variance warnings are errors")
    q.set_defaults(func=run_eval, show_source=True)


# -- explain -----------------------------------------------------------------------------


def explain(text: str, sizes: dict[str, int] | None = None, *, strict: bool = False,
            optimize: Any = "auto") -> dict[str, Any]:
    """Everything ``indexnet explain`` prints, as a dict (the ``--json`` object).

    >>> info = explain("^n(a)_h = ^n(x)_d (w)^d_h + (b)_h")
    >>> info["einsum"], info["free"], info["summed"], info["matrix_form"]
    (['nd,dh->nh'], ['n', 'h'], ['d'], 'a = x w + b')
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError("explain takes an einsum string or an equation")
    words = text.split()
    einsum_input = "=" not in text and words[0] not in KEYWORDS
    if einsum_input:
        if not _EINSUM.match(text) or not ("->" in text or "," in text or len(words) == 1):
            raise InvalidArgumentError(
                f"{text.strip()!r} is neither an einsum string (nd,dh->nh) nor an equation "
                "(a^n_h = x^n_d W^d_h): an equation needs '='")
        # An einsum string has no upper or lower indices: the equation's are chosen here
        # (the cleanest spelling), so its variance is indexnet's, never linted or --strict.
        program = parse(einsum_equation(text, clean=True))
    else:
        program = parse(text, strict=strict)
    statements = [s for s in program.statements if isinstance(s, (ir.Equation, ir.Claim))]
    if not statements:
        raise InvalidArgumentError("nothing to explain: the text holds no equation")
    plans = _plans(program, sizes, optimize) if sizes is not None else None
    items = [_describe(program, s, plans, lint=not einsum_input) for s in statements]
    out: Explanation
    if len(items) == 1:
        out = Explanation({"input": text, **items[0]})
    else:
        out = Explanation({
            "input": text,
            "equations": items,
            "einsum": [e for item in items for e in item["einsum"]],
            "free": items[-1]["free"],
            "summed": sorted({c for item in items for c in item["summed"]}),
            "matrix_form": None,
            "warnings": [w for item in items for w in item["warnings"]],
            "flops": None if plans is None else sum(item["flops"] or 0 for item in items),
        })
    if sizes is not None:
        out["sizes"] = program.index_sizes(sizes)
    return out


class Explanation(dict):
    """What :func:`explain` finds: the ``--json`` object, shown as a table in notebooks.

    >>> info = explain("nd,dh->nh")
    >>> info["einsum"], 'class="indexnet-explain"' in info._repr_html_()
    (['nd,dh->nh'], True)
    """

    def _repr_html_(self) -> str:
        """The explanation as a table, and the formula's diagram when it can be drawn."""
        try:
            picture, kind = explain_svg(self["input"], self.get("sizes"))
        except IndexnetError:  # networkx missing, several equations: the table alone
            picture, kind = "", ""
        return explain_html(self, picture, kind)


def _plans(program: Program, sizes: dict[str, int], optimize: Any) -> dict[int, list[Any]]:
    by_line: dict[int, list[Any]] = {}
    resolved = program.index_sizes(sizes)
    for stmt in program.statements:
        if isinstance(stmt, (ir.Equation, ir.Claim)):
            found = []
            for product in ir.iter_products(stmt.rhs):
                if product.einsum:
                    shapes = operand_shapes(product.operands, resolved)
                    found.append(plan(product.einsum, *shapes, optimize=optimize))
            by_line[id(stmt)] = found
    return by_line


def _describe(program: Program, stmt: ir.Equation | ir.Claim,
              plans: dict[int, list[Any]] | None, lint: bool = True) -> dict[str, Any]:
    params = post_scripted(program)
    form = matrix_form(stmt)
    with spelling(program):
        warnings = [str(w) for w in program.warnings if w.line == stmt.line] if lint else []
    item: dict[str, Any] = {
        "line": stmt.line,
        "equation": render(stmt, params=params),
        "document": render(stmt, "document", params=params),
        "latex": render_latex(stmt, params=params),
        "einsum": stmt.einsums(),
        "free": list(stmt.free),
        "summed": list(stmt.summed),
        "matrix_form": form.text,
        "matrix_form_reason": form.reason or None,
        "loops": loop_nest(stmt),
        "warnings": warnings,
        "flops": None,
        "path": None,
    }
    if plans is not None:
        found = plans[id(stmt)]
        item["flops"] = sum(p.flops for p in found)
        item["path"] = [{"einsum": str(p.subscripts), "shapes": [list(s) for s in p.shapes],
                         "path": [list(step) for step in p.path], "flops": p.flops,
                         "naive_flops": p.naive_flops,
                         "steps": [{"subscripts": s.subscripts, "kind": s.kind,
                                    "flops": s.flops} for s in p.steps]}
                        for p in found]
        item["plans"] = [str(p) for p in found]
    return item


def _print_item(item: dict[str, Any]) -> None:
    def row(label: str, value: str) -> None:
        lines = value.split("\n")
        print(f"{label:<10}{lines[0]}")
        for line in lines[1:]:
            print(f"{'':<10}{line}")

    row("equation", item["equation"])
    row("document", item["document"])
    row("free", ", ".join(item["free"]) or "none (a scalar)")
    row("summed", ", ".join(item["summed"]) or "none")
    row("einsum", "\n".join(item["einsum"]) or "none (elementwise only)")
    row("matrix", item["matrix_form"] or f"none: {item['matrix_form_reason']}")
    row("loops", item["loops"])
    row("warnings", "\n".join(item["warnings"]) or "none")
    if item["flops"] is not None:
        row("flops", f"{item['flops']:,}")
        row("plan", "\n".join(item.get("plans", [])) or "none")


def _subject(text: str, strict: bool) -> tuple[str | ir.Equation | ir.Claim, str]:
    """What to draw for ``text`` (the einsum string, or its one statement) and its largest einsum.

    The einsum string with the most operands is what a formula too large to
    draw shows as a contraction tree instead.
    """
    words = text.split()
    if "=" not in text and words and words[0] not in KEYWORDS:
        einsum = "".join(words)
        if _EINSUM.match(text):
            return einsum, einsum
    statements: list[ir.Equation | ir.Claim] = [
        s for s in parse(text, strict=strict).statements if isinstance(s, (ir.Equation, ir.Claim))]
    if len(statements) != 1:
        raise InvalidArgumentError(f"--svg and --html draw one formula; the text holds "
                                   f"{len(statements)} equations")
    einsums = statements[0].einsums() or [""]
    return statements[0], max(einsums, key=lambda e: e.count(","))


def explain_svg(text: str, sizes: dict[str, int] | None = None, *, strict: bool = False,
                optimize: Any = "auto") -> tuple[str, str]:
    """The SVG picture of one formula and what it is: ``diagram`` or ``contraction tree``.

    An einsum of more than 30 operands is too large to draw legibly: the
    picture is then its contraction tree (letters without a size get 2).

    >>> svg, kind = explain_svg("nd,dh->nh")  # doctest: +SKIP
    >>> kind  # doctest: +SKIP
    'diagram'
    """
    subject, einsum = _subject(text, strict)
    if einsum.count(",") + 1 <= MAX_OPERANDS:
        return diagram(subject, sizes), "diagram"
    inputs = einsum.split("->")[0].split(",")
    shapes = [tuple((sizes or {}).get(c, 2) for c in term) for term in inputs]
    return contraction_tree(plan(einsum, *shapes, optimize=optimize)), "contraction tree"


def _page(info: dict[str, Any], picture: str, kind: str) -> str:
    """A self-contained HTML page (no scripts, no fonts from the network) of ``explain``."""
    title = html.escape(info["input"])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>indexnet explain: {title}</title><style>body{{font:15px sans-serif;"
            "margin:2em}th{text-align:left;vertical-align:top;padding-right:1em}"
            "pre{margin:0}</style></head><body>"
            f"{explain_html(info, picture, kind)}</body></html>\n")


def _write(path: str, text: str, what: str) -> None:
    atomic_write_bytes(path, lambda handle: handle.write(text.encode("utf-8")), what)


def run_explain(args: argparse.Namespace) -> int:
    """The ``explain`` subcommand."""
    for option, suffix in (("svg", ".svg"), ("html", ".html")):
        if getattr(args, option, None):  # refused before any work: nothing half-written
            check_output_path(getattr(args, option), f"--{option}", suffix)
    info = explain(args.text, sizes_of(args), strict=args.strict, optimize=args.optimize)
    if getattr(args, "svg", None) or getattr(args, "html", None):
        picture, kind = explain_svg(args.text, info.get("sizes") or sizes_of(args),
                                    strict=args.strict, optimize=args.optimize)
        if kind != "diagram":
            print(f"indexnet explain: {info['input'].strip()!r} has more than {MAX_OPERANDS} "
                  "operands, too many to draw legibly; drawing its contraction tree instead",
                  file=sys.stderr)
        if args.svg:
            _write(args.svg, picture, "--svg")
        if args.html:
            _write(args.html, _page(info, picture, kind), "--html")
    if args.json:
        print(json_text(info))
        return 0
    if "=" not in args.text:
        print(f"{'einsum':<10}{args.text.strip()}")
    items = info.get("equations", [info])
    for k, item in enumerate(items):
        if k:
            print()
        _print_item(item)
    if "sizes" in info:
        print(f"{'sizes':<10}{', '.join(f'{c}={n}' for c, n in info['sizes'].items())}")
    return 0


# -- eval -----------------------------------------------------------------------------------


def _summary(value: np.ndarray) -> dict[str, Any]:
    array = np.asarray(value, dtype=float)
    if array.size == 0:
        return {"shape": list(array.shape)}
    with np.errstate(all="ignore"):  # NaN and infinities are reported, not warned about
        return {"shape": list(array.shape), "min": float(array.min()),
                "max": float(array.max()), "mean": float(array.mean()),
                "std": float(array.std())}


def _load_inputs(path: str) -> dict[str, np.ndarray]:
    """The arrays of the .npz archive at ``path``, each real (bool, integer or float).

    A missing file, a folder, a file that is not an .npz archive (a single
    ``.npy`` array included) or an array of strings, objects or complex
    numbers is a :class:`~indexnet.DataError` naming the file (and the array).
    """
    if os.path.isdir(path):
        raise DataError(f"cannot read --inputs {path!r}: it is a folder, not an .npz file")
    if not os.path.exists(path):
        raise DataError(f"cannot read --inputs {path!r}: no such file")
    if not zipfile.is_zipfile(path):
        raise DataError(f"--inputs {path!r} is not an .npz archive (numpy.savez); a single "
                        ".npy array or other file cannot name its tensors")
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):  # pragma: no cover - is_zipfile said an archive
                raise DataError(f"--inputs {path!r} is not an .npz archive (numpy.savez)")
            for key in data.files:
                try:
                    array = np.asarray(data[key])
                except ValueError as err:  # object arrays need pickle, refused
                    raise DataError(f"--inputs {path!r}: array {key!r} cannot be read: "
                                    f"{err}") from None
                out[key] = _real_input(path, key, array)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read arrays from --inputs {path!r}: {err}") from None
    return out


def _real_input(path: str, key: str, array: np.ndarray) -> np.ndarray:
    kind = array.dtype.kind
    if kind == "c":
        raise DataError(
            f"--inputs {path!r}: array {key!r} has dtype {array.dtype}; complex arrays are "
            "not supported (programs of the index language evaluate real numbers only)")
    if kind not in "biuf":
        raise DataError(f"--inputs {path!r}: array {key!r} has dtype {array.dtype}; eval "
                        "needs real numbers (bool, integer or float)")
    return array


def run_eval(args: argparse.Namespace) -> int:
    """The ``eval`` subcommand."""
    program, given, sizes, values = _evaluate(args)
    origin = f"arrays from {args.inputs}" if given else f"random inputs, seed {args.seed}"
    warnings = [str(w) for w in program.warnings]  # printed to stderr by _evaluate
    if args.json:
        print(json_text({
            "file": args.file,
            "sizes": sizes,
            "inputs": origin,
            "tensors": {k: _summary(v) for k, v in values.items()},
            "claims": len(program.claims),
            "warnings": warnings,
        }))
        return 0
    count = len(program.equations)
    print(f"{args.file}: {count} equation{'s' if count != 1 else ''}; sizes "
          f"{', '.join(f'{c}={n}' for c, n in sizes.items())} ({origin})")
    _print_values(values)
    if program.claims:
        n = len(program.claims)
        print(f"  {n} claim{'s' if n != 1 else ''} not evaluated here (indexnet check judges "
              "claims)")
    return 0


def _evaluate(args: argparse.Namespace) -> tuple[Program, dict[str, np.ndarray], dict[str, int],
                                                 dict[str, np.ndarray]]:
    """Read and evaluate ``args.file``: the program, the given arrays, the sizes, the values."""
    text = read_text(args.file, "program")
    program = parse(text, strict=args.strict)
    if not args.json:  # before evaluating: a warning often explains a size conflict
        with spelling(program):
            for warning in program.warnings:
                print(f"{args.file}: {warning}", file=sys.stderr)
    if not program.equations and not program.claims:
        what = "is empty" if not text.strip() else "holds no equation"
        raise InvalidArgumentError(f"program {args.file!r} {what}: nothing to evaluate")
    given = _load_inputs(args.inputs) if args.inputs else {}
    for key in given:
        if key not in program.inputs:
            raise InvalidArgumentError(
                f"{args.inputs} holds {key!r}, which is not an input of {args.file}; "
                f"inputs: {', '.join(program.inputs) or 'none'}")
    shapes = {k: v.shape for k, v in given.items()}
    program.check_letters(sizes_of(args), "--sizes")
    sizes = program.size_model.resolve(shapes, sizes_of(args), defaults=True)
    arrays: dict[str, Any] = program.random_inputs(sizes, seed=args.seed)
    arrays.update(given)
    values = program.evaluate(**arrays)
    return program, given, sizes, values


def _print_values(values: dict[str, np.ndarray]) -> None:
    """One line a tensor: its shape and its values in brief."""
    width = max((len(k) for k in values), default=0)
    for key, value in values.items():
        info = _summary(value)
        shape = str(tuple(info["shape"]))
        if "min" not in info:
            print(f"  {key:<{width}}  {shape:<12} (empty)")
        elif value.ndim == 0:
            print(f"  {key:<{width}}  {shape:<12} {info['mean']:.6g}")
        else:
            print(f"  {key:<{width}}  {shape:<12} min {info['min']:.4g}  max {info['max']:.4g}  "
                  f"mean {info['mean']:.4g}  std {info['std']:.4g}")
