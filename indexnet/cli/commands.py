"""The table of ``indexnet``'s subcommands: what ``indexnet --help`` lists, and where each lives.

A plain table with no imports, so that both the quick top-level help
(:mod:`.help`) and the argparse parser (:mod:`.parser`) read it without
loading anything else.

>>> COMMANDS["plan"]
('plan', 'show the contraction plan of an einsum string')
"""

from __future__ import annotations

__all__ = ["COMMANDS", "DESCRIPTION"]

#: What ``indexnet --help`` says the command is.
DESCRIPTION = "Tensor-index notation as planned einsum formulas, and the seed's network."

#: Every subcommand, in the order of ``--help``: its module (which registers it,
#: with the full arguments) and its one-line help. ``indexnet --help`` reads only
#: this table, so it starts without loading NumPy or the language; a command
#: loads its own module alone.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "the seed's network step by step: formulas, checks, training"),
    "train": ("train", "train the seed's network on digits, MNIST or synthetic data"),
    "explain": ("explain", "explain an einsum string or an equation of the index language"),
    "eval": ("explain", "evaluate a program of the index language"),
    "derive": ("derive", "print the exact derivatives of a program, simplified"),
    "check": ("derive", "judge the claims of a program against the exact derivative"),
    "bench": ("bench", "benchmark every optimizer's path: FLOPs against measured time"),
    "plan": ("plan", "show the contraction plan of an einsum string"),
    "report": ("report", "write a program's report: one self-contained HTML page"),
}
