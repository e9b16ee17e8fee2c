"""Explicit paths and optimizer objects: a path checked against its operands, an object run.

``optimize`` may be an explicit path (checked by :func:`check_path`) or an
optimizer object: any opt_einsum ``PathOptimizer`` or cotengra optimizer
(:func:`is_optimizer_object`), called as opt_einsum calls it
(:func:`object_path`), or cotengra's own (:func:`cotengra_path`, for
``optimize="cotengra"`` too), whose tree may come sliced. A path that does
not fit the operands is an :class:`~indexnet.errors.InvalidArgumentError`
naming it; an object's own exception passes through as the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import opt_einsum

from ..errors import InvalidArgumentError, from_caller
from ..typing import Shape
from .cotengra_paths import (
    HYPER_REPEATS,
    hyper_optimizer,
    inner_sliced,
    is_cotengra_object,
    tree_of,
)
from .subscripts import Subscripts

__all__ = ["check_path", "check_returned", "cotengra_path", "is_optimizer_object", "object_path"]


def check_path(path: tuple[tuple[int, ...], ...], n_operands: int) -> None:
    """An explicit path must name distinct operands that exist, and end with one.

    >>> check_path(((0, 1), (0, 1)), 3)
    >>> check_path(((0, 1),), 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: path [(0, 1)] leaves 2 operands; ...
    """
    left = n_operands
    for k, step in enumerate(path):
        if not step or len(set(step)) != len(step) or not all(0 <= i < left for i in step):
            raise InvalidArgumentError(
                f"path step {k} {step} must name distinct operands among the {left} "
                f"left (0 to {left - 1})"
            )
        left -= len(step) - 1
    if left != 1:
        raise InvalidArgumentError(
            f"path {list(path)} leaves {left} operands; it must contract all "
            f"{n_operands} into one"
        )


def is_optimizer_object(optimize: Any) -> bool:
    """Whether ``optimize`` is an optimizer object: opt_einsum's ``PathOptimizer`` or cotengra's.

    >>> is_optimizer_object(opt_einsum.RandomGreedy()), is_optimizer_object("greedy")
    (True, False)
    """
    return isinstance(optimize, opt_einsum.paths.PathOptimizer) or is_cotengra_object(optimize)


def check_returned(path: Any, n: int, optimize: Any, parsed: Subscripts) -> None:
    """A path an optimizer object returned must fit the operands; else an error naming it."""
    try:
        check_path(tuple(tuple(step) for step in path), n)
    except InvalidArgumentError as err:
        raise InvalidArgumentError(
            f"the optimizer {type(optimize).__name__} returned the path {list(path)}, which "
            f"does not fit the {n} operands of {str(parsed)!r}: {err}"
        ) from None


def object_path(
    parsed: Subscripts, sizes: dict[str, int], optimize: Any, memory_limit: int | None
) -> list[tuple[int, ...]]:
    """The path an opt_einsum ``PathOptimizer`` object returns, called as opt_einsum calls it."""
    inputs = [frozenset(term) for term in parsed.inputs]
    try:
        found = optimize(inputs, frozenset(parsed.output), dict(sizes), memory_limit)
    except Exception as err:  # the caller's own optimizer failed: its error, unchanged
        raise from_caller(err) from None
    try:
        path = [tuple(int(i) for i in step) for step in found]
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"the optimizer {type(optimize).__name__} returned {found!r}, not a path such as "
            "[(0, 1), (0, 1)]"
        ) from None
    check_returned(path, len(parsed.inputs), optimize, parsed)
    return path


def cotengra_path(
    parsed: Subscripts,
    shapes: Sequence[Shape],
    sizes: dict[str, int],
    optimize: Any,
    memory_limit: int | None,
    budget: float | None,
) -> tuple[list[tuple[int, ...]], tuple[str, ...], str | None]:
    """Cotengra's path, the contracted indices its tree slices, and a note.

    ``optimize`` is ``"cotengra"`` (a fresh hyper-optimizer within ``budget``
    seconds, its trials sliced to fit ``memory_limit``) or one of cotengra's
    optimizer objects, run as it is. The note says when the budget ran out.
    """
    if len(shapes) < 3:  # one way to contract, whose only intermediate is the output
        return [tuple(range(len(shapes)))], (), None
    if 0 in sizes.values():  # nothing is computed (and cotengra divides by the sizes)
        path, _ = opt_einsum.contract_path(",".join(parsed.inputs) + "->" + parsed.output,
                                           *shapes, shapes=True, optimize="greedy")
        return [tuple(step) for step in path], (), None
    named = optimize == "cotengra"
    optimizer = hyper_optimizer(budget, memory_limit) if named else optimize
    try:
        tree = tree_of(optimizer, parsed.inputs, parsed.output, sizes)
    except InvalidArgumentError:
        raise
    except Exception as err:  # the caller's own optimizer object failed
        if named:
            raise
        raise from_caller(err) from None
    path = [tuple(int(i) for i in step) for step in tree.get_path()]
    check_returned(path, len(shapes), optimize, parsed)
    note = None
    trials = len(getattr(optimizer, "scores", ()))
    if named and budget is not None and trials < HYPER_REPEATS:
        note = (f"cotengra stopped at its {budget:g} s budget after {trials} trial"
                f"{'s' if trials != 1 else ''}; the best path it had found")
    return path, inner_sliced(tree, parsed.output), note
