"""cotengra, an optional extra: ``optimize="cotengra"``, optimizer objects, and slicing.

Nothing here imports cotengra until it is asked for, so ``import indexnet``
and every plan without it stay as fast as before; without cotengra installed,
``optimize="cotengra"`` raises :class:`MissingExtraError` (an
:class:`~indexnet.errors.InvalidArgumentError` and an ``ImportError``) saying
how to install it.

* :func:`hyper_optimizer`: cotengra's ``HyperOptimizer`` as indexnet runs it:
  a time budget (its ``max_time``), one process, no progress bar, the
  hyper-parameter sampler seeded, and (under a memory limit) trials scored
  sliced to fit it, the slices never cutting an output index.
* :func:`tree_of`: the contraction tree an optimizer object finds (cotengra's
  own, by its ``search``).
* :func:`slice_path`: cotengra's slicing (its ``SliceFinder``) of a path
  that is over a memory limit: the contracted indices to slice.

Trees are built on each operand's distinct letters (a repeated letter, a
diagonal, is one index to cotengra); only the path and the sliced letters
come back, and :mod:`indexnet.einsum.compiled` compiles them as any other.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Sequence
from typing import Any

from ..errors import InvalidArgumentError, MissingExtraError
from .search import COTENGRA_CODE, run_within

__all__ = [
    "HYPER_REPEATS",
    "RECONFIGURE_BUDGET_S",
    "SEED",
    "cotengra_installed",
    "hyper_optimizer",
    "inner_sliced",
    "is_cotengra_object",
    "require_cotengra",
    "slice_path",
    "tree_of",
]

#: Trials of ``optimize="cotengra"`` (fewer when its time budget runs out first).
HYPER_REPEATS = 128
#: Seed of cotengra's hyper-parameter sampler and slicer (its trial functions draw unseeded).
SEED = 0
#: Seconds cotengra's slicing with subtree reconfiguration may take (the plain slicing is kept
#: when it runs over).
RECONFIGURE_BUDGET_S = 1.0



@functools.cache
def cotengra_installed() -> bool:
    """Whether cotengra can be imported (looked up once, without importing it).

    >>> isinstance(cotengra_installed(), bool)
    True
    """
    return importlib.util.find_spec("cotengra") is not None


def require_cotengra(what: str) -> Any:
    """The cotengra module, or :class:`MissingExtraError` saying that ``what`` needs it."""
    try:
        return importlib.import_module("cotengra")
    except ImportError:
        raise MissingExtraError(
            f"{what} needs cotengra, which is not installed: pip install cotengra "
            "(or pip install 'indexnet[cotengra]')",
            package="cotengra",
        ) from None


def is_cotengra_object(optimize: Any) -> bool:
    """Whether ``optimize`` is one of cotengra's optimizer objects (it has ``search``).

    >>> is_cotengra_object("cotengra"), is_cotengra_object([(0, 1)])
    (False, False)
    """
    module = type(optimize).__module__ or ""
    return module.split(".")[0] == "cotengra" and callable(getattr(optimize, "search", None))


def _methods() -> list[str]:
    """The hyper-optimizer's path finders: greedy, and kahypar if installed, else labels."""
    # named, so cotengra does not warn that kahypar is missing (a warning is an error in tests)
    return ["greedy", "kahypar" if importlib.util.find_spec("kahypar") else "labels"]


def hyper_optimizer(budget: float | None, target_size: int | None = None) -> Any:
    """A fresh cotengra ``HyperOptimizer`` for ``optimize="cotengra"``.

    At most :data:`HYPER_REPEATS` trials and ``budget`` seconds (None: no
    limit); with ``target_size`` every trial is sliced (interleaved with
    subtree reconfiguration) until its largest intermediate is within it,
    cutting only contracted indices, and scored so.
    """
    cotengra = require_cotengra('optimize="cotengra"')
    options: dict[str, Any] = {
        "methods": _methods(),
        "max_repeats": HYPER_REPEATS,
        "max_time": budget,
        "parallel": False,
        "progbar": False,
        "minimize": "flops",
        "on_trial_error": "raise",
        "seed": SEED,
    }
    if target_size is not None:
        options["slicing_reconf_opts"] = {"target_size": target_size, "allow_outer": False}
    return cotengra.HyperOptimizer(**options)


def _distinct(inputs: Sequence[str]) -> list[str]:
    """Each term's letters, once each (cotengra reads a repeated letter as one index)."""
    return ["".join(dict.fromkeys(term)) for term in inputs]


def tree_of(
    optimizer: Any, inputs: Sequence[str], output: str, size_dict: dict[str, int]
) -> Any:
    """The contraction tree cotengra's ``optimizer`` finds (its ``search``).

    A tree for other operands than these (an optimizer object used before
    on another contraction) is an :class:`~indexnet.errors.InvalidArgumentError`.
    """
    terms = _distinct(inputs)
    tree = optimizer.search(terms, output, size_dict)
    found = [set(term) for term in tree.inputs]
    if len(found) != len(terms) or any(f != set(t) for f, t in zip(found, terms)):
        raise InvalidArgumentError(
            f"the optimizer {type(optimizer).__name__} returned a contraction tree for "
            f"{','.join(''.join(sorted(f)) for f in found)}, not for the operands "
            f"{','.join(inputs)}; was it used before on another contraction? Give each "
            "contraction a fresh optimizer, or use cotengra's ReusableHyperOptimizer"
        )
    return tree


def inner_sliced(tree: Any, output: str) -> tuple[str, ...]:
    """The contracted indices a cotengra tree slices (an output index is never kept)."""
    return tuple(c for c in getattr(tree, "sliced_inds", {}) if c not in output)


def slice_path(
    inputs: Sequence[str],
    output: str,
    size_dict: dict[str, int],
    path: Sequence[tuple[int, ...]],
    limit: int,
    budget: float = RECONFIGURE_BUDGET_S,
) -> list[tuple[list[tuple[int, ...]], tuple[str, ...]]]:
    """Cotengra's slicings of ``path`` within ``limit`` elements: (path, sliced indices) each.

    Two candidates: ``path`` itself sliced (its ``SliceFinder``), and, if it
    finishes within ``budget`` seconds, slicing interleaved with subtree
    reconfiguration (a new path, often far fewer FLOPs sliced). Only
    contracted indices are sliced (``allow_outer=False``), so the slices'
    results add up.
    """
    cotengra = require_cotengra("slicing a contraction to fit memory_limit")
    tree = cotengra.ContractionTree.from_path(
        _distinct(inputs), output, size_dict, path=[tuple(step) for step in path]
    )
    found = [([tuple(step) for step in path],
              inner_sliced(tree.slice(target_size=limit, allow_outer=False, seed=SEED), output))]
    done, reconfigured = run_within(
        lambda: tree.slice_and_reconfigure(target_size=limit, allow_outer=False), budget,
        code=COTENGRA_CODE,
    )
    if done:
        found.append(([tuple(int(i) for i in step) for step in reconfigured.get_path()],
                      inner_sliced(reconfigured, output)))
    return found
