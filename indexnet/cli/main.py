"""The ``indexnet`` command line: ``demo``, ``train``, ``plan``, ``explain``, ``eval``,
``derive``, ``check``, ``bench``.

Library errors become one line on stderr and exit status 2, never a
traceback; a closed pipe (``indexnet demo | head``) exits quietly.

>>> main(["plan", "nd,dh->nh", "--sizes", "n=2,d=3,h=4"])
nd,dh->nh  shapes (2, 3), (3, 4)
  FLOPs 48 (naive 48, 1x), largest intermediate 8 elements
  step 0: (0, 1): nd,dh->nh [matmul]
0
"""

from __future__ import annotations

import argparse
import json
import os
import string
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ..errors import IndexnetError, InvalidArgumentError
from ..typing import OPTIMIZERS

__all__ = ["build_parser", "main", "parse_sizes"]


def parse_sizes(text: str) -> dict[str, int]:
    """Parse ``n=256,d=784`` into a dict of index sizes.

    >>> parse_sizes("n=2, d=3")
    {'n': 2, 'd': 3}
    >>> parse_sizes("n=2,n=3")
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: bad size 'n=3': index 'n' is given twice
    """
    sizes: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or len(name) != 1 or name not in string.ascii_letters:
            raise InvalidArgumentError(
                f"bad size {part!r}: write one index letter (a-z, A-Z), '=', and a size, "
                "as in n=256"
            )
        if name in sizes:
            raise InvalidArgumentError(f"bad size {part!r}: index {name!r} is given twice")
        if not value.isascii() or not value.isdigit():
            raise InvalidArgumentError(
                f"bad size {part!r}: {value!r} is not a whole number >= 0"
            )
        sizes[name] = int(value)
    return sizes


def _plan_command(args: argparse.Namespace) -> int:
    from ..einsum.plan import plan
    from ..einsum.subscripts import parse

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
    shapes = [tuple(sizes[c] for c in term) for term in parsed.inputs]
    optimize: Any = args.optimize
    if optimize in _EXPONENTIAL_SEARCHES and len(shapes) > 6:
        from ..bench.paths import find_path

        path, _, reason = find_path(optimize, str(parsed), shapes, args.budget)
        if path is None:
            raise InvalidArgumentError(f"{optimize}: {reason}; try --optimize greedy")
        optimize = path
    result = plan(args.subscripts, *shapes, optimize=optimize)
    if args.json:
        print(
            json.dumps(
                {
                    "subscripts": str(result.subscripts),
                    "shapes": [list(s) for s in result.shapes],
                    "path": [list(p) for p in result.path],
                    "steps": [
                        {"operands": list(s.operands), "subscripts": s.subscripts,
                         "kind": s.kind, "flops": s.flops}
                        for s in result.steps
                    ],
                    "flops": result.flops,
                    "naive_flops": result.naive_flops,
                    "largest_intermediate": result.largest_intermediate,
                }
            )
        )
    else:
        print(result)
    return 0


#: Path searches that can take exponential time; `plan` runs them under --budget.
_EXPONENTIAL_SEARCHES = frozenset({"optimal", "branch-all", "branch-2", "dp", "auto-hq",
                                   "random-greedy-128"})


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


class _OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``indexnet`` command."""
    parser = _OneLineParser(
        prog="indexnet",
        description="Tensor-index notation as planned einsum formulas, and the seed's network.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    from ..seednet import train
    from . import bench as bench_cli
    from . import demo, explain
    from . import derive as derive_cli

    demo.register(sub)
    train.register(sub)
    explain.register(sub)
    derive_cli.register(sub)
    bench_cli.register(sub)

    p = sub.add_parser(
        "plan",
        help="show the contraction plan of an einsum string",
        description="Plan an einsum string with opt_einsum and show each step, the NumPy call it "
        "compiles to, and its FLOP count.",
    )
    p.add_argument("subscripts", help="an einsum string such as 'nd,dh,hk->nk'")
    p.add_argument("--sizes", required=True, help="index sizes, e.g. n=256,d=784,h=256,k=10")
    p.add_argument("--optimize", default="auto", choices=OPTIMIZERS,
                   help="path optimizer (default: auto)")
    p.add_argument("--budget", type=_positive_seconds, default=10.0, metavar="SECONDS",
                   help="time allowed to an exponential path search (optimal, branch-*, dp, "
                   "auto-hq) on more than six operands; default 10")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_plan_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except IndexnetError as err:
        text = str(err)
        message = text.splitlines()[0] if "\n" in text else " ".join(text.split())
        return _fail(args.command, message)
    except MemoryError:
        return _fail(args.command, "out of memory: the sizes asked for are too large "
                     "for this machine")
    except KeyboardInterrupt:
        print(f"indexnet {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Python flushes stdout at exit; point it at devnull so that fails quietly too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as err:  # stdout on a full disk, a file the library did not wrap
        where = err.filename if err.filename is not None else "the output"
        return _fail(args.command, f"cannot use {where}: {err.strerror or err}")
    return status


def _fail(command: str, message: str) -> int:
    print(f"indexnet {command}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
