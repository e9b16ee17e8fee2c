"""``indexnet plan``: the contraction plan of one einsum string, step by step.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["plan", "nd,dh->nh", "--sizes", "n=2,d=3,h=4"])
>>> args.func(args)
nd,dh->nh  shapes (2, 3), (3, 4)
  FLOPs 48 (naive 48, 1x), largest intermediate 8 elements
  step 0: (0, 1): nd,dh->nh [matmul]
0
"""

from __future__ import annotations

import argparse
from typing import Any

from ..einsum.plan import Plan, plan
from ..einsum.subscripts import parse
from ..errors import InvalidArgumentError
from .argtypes import parse_sizes, positive_seconds
from .options import (
    add_json_option,
    add_optimize_option,
    add_sizes_option,
    json_text,
    operand_shapes,
)

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``plan`` subcommand to an argparse ``subparsers``."""
    p = subparsers.add_parser(
        "plan",
        help="show the contraction plan of an einsum string",
        description="Plan an einsum string with opt_einsum and show each step, the NumPy call it "
        "compiles to, and its FLOP count.",
    )
    p.add_argument("subscripts", help="an einsum string such as 'nd,dh,hk->nk'")
    add_sizes_option(p, required=True)
    add_optimize_option(p)
    p.add_argument("--budget", type=positive_seconds, default=10.0, metavar="SECONDS",
                   help="time allowed to an exponential path search (optimal, branch-*, dp, "
                   "auto-hq) on more than six operands, after which the best path found "
                   "is used and the plan says so; default 10")
    p.add_argument("--memory-limit", type=memory_limit_arg, metavar="ELEMENTS",
                   help="largest intermediate allowed (elements, or max_input: the largest "
                   "operand's size); where no path fits it, the plan runs in slices (with "
                   "cotengra installed) and shows them")
    add_json_option(p)
    p.set_defaults(func=run)


def memory_limit_arg(text: str) -> int | str:
    """``--memory-limit``: a number of elements >= 1, or ``max_input``.

    >>> memory_limit_arg("2,560"), memory_limit_arg("max_input")
    (2560, 'max_input')
    """
    if text == "max_input":
        return text
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number of elements >= 1 or max_input, not {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """The ``plan`` subcommand: print the plan (or its JSON object); returns 0."""
    parsed = parse(args.subscripts)
    sizes = parse_sizes(args.sizes)
    missing = sorted({c for term in parsed.inputs for c in term if c.isalpha()} - set(sizes))
    if missing or any("..." in term for term in parsed.inputs):
        raise InvalidArgumentError(
            f"--sizes must give every index of {str(parsed)!r} (no '...'); "
            f"missing: {', '.join(missing) or '...'}"
        )
    unused = sorted(set(sizes) - set(parsed.letters))
    if unused:
        raise InvalidArgumentError(
            f"--sizes names {', '.join(unused)}, which {str(parsed)!r} does not use"
        )
    shapes = operand_shapes(parsed.inputs, sizes)
    # an exponential search stops at --budget with the best path found; the plan's note says so
    result = plan(args.subscripts, *shapes, optimize=args.optimize, budget=args.budget,
                  memory_limit=args.memory_limit)
    print(json_text(_as_json(result)) if args.json else result)
    return 0


def _as_json(result: Plan) -> dict[str, Any]:
    """The ``--json`` object of a plan (``slicing`` None unless it runs in slices)."""
    s = result.slicing
    return {
        "subscripts": str(result.subscripts),
        "shapes": [list(s) for s in result.shapes],
        "path": [list(p) for p in result.path],
        "steps": [
            {"operands": list(s.operands), "subscripts": s.subscripts, "kind": s.kind,
             "flops": s.flops}
            for s in result.steps
        ],
        "flops": result.flops,
        "naive_flops": result.naive_flops,
        "largest_intermediate": result.largest_intermediate,
        "memory_limit": result.memory_limit,
        "slicing": None if s is None else {
            "indices": list(s.indices), "sizes": list(s.sizes), "chunks": list(s.chunks),
            "slices": s.n_slices, "flops_per_slice": s.flops_per_slice,
            "unsliced_flops": s.unsliced_flops, "overhead": s.overhead,
        },
        "note": result.note,
    }
