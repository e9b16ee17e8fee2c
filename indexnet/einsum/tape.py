"""The compiled reverse pass of one plan: a :class:`Tape`.

A :class:`~indexnet.einsum.compiled.Plan` contracts its operands pairwise
(or a few at a time), each intermediate used exactly once, so its steps form
a tree whose leaves are the operands. A :class:`Tape` reads that tree
from the plan alone: which nodes need a cotangent for the chosen operands,
which forward values the backward pass reads, and which forward steps the
gradients alone need. From these it generates straight-line forward
functions at once; the backward pass is compiled on its first run, each line
the einsum rule (:func:`~indexnet.einsum.rule.derivative`) of one step's
input, planned as an ordinary cached plan (a direct BLAS call for a matrix
product) and followed by what turns its result into the cotangent (a
broadcast, a sum back to size 1, a diagonal, a copy). Every generated
function deletes each intermediate and cotangent right after its last use.
The entry points are in :mod:`~indexnet.einsum.backprop`.

>>> from indexnet.einsum.plan import plan
>>> import numpy as np
>>> p = Tape(plan("ij,jk,kl->il", (2, 3), (3, 4), (4, 5)), (0, 1, 2),
...             (np.dtype("float64"),) * 3, "auto")
>>> [(line.target, line.args) for line in p.grads]
[(2, ('c4', 'v3')), (3, ('v2', 'c4')), (0, ('c3', 'v1')), (1, ('v0', 'c3'))]
>>> p.saved, p.vjp_steps
(['v0', 'v1', 'v2', 'v3'], [0])
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np

from ..errors import AllocationError, InternalError, SizeMismatchError
from ..typing import OptimizeKind, Shape
from .arrays import ArrayKind
from .compiled import Plan
from .kernels import Kernel, broadcast_sizes, inline, portable
from .memory import too_large
from .plan import plan
from .rule import Derivative, derivative, finish_foreign, finisher
from .subscripts import Subscripts

__all__ = ["Backward", "Fused", "GradientFlops", "Tape", "check_cotangent", "check_gradients_fit"]

#: A generated backward pass: (saved values, cotangent) -> gradients; it empties the list.
Backward = Callable[[list[Any], Any], list[Any]]
#: A generated forward-then-backward pass: (*operands, cotangent) -> gradients, one call.
Fused = Callable[..., list[Any]]

_signature = operator.attrgetter("__class__", "shape", "dtype")
#: The most backward passes a tape remembers (one per cotangent signature).
_CACHE_MAX = 64



@dataclass(frozen=True)
class _Step:
    """One step of the tree: its input and output nodes (operands are 0 to n-1)."""

    inputs: tuple[int, ...]
    output: int
    subscripts: str
    kernel: Kernel
    sizes: dict[str, int]  # its letters' sizes as the step sees them (size-1 broadcasting)


@dataclass(frozen=True)
class _Grad:
    """One line of the backward pass: the cotangent of input ``j`` of step ``t``."""

    target: int  # the node whose cotangent this is
    step: int
    j: int
    args: tuple[str, ...]  # variable names, the output's cotangent at position j


@dataclass(frozen=True)
class GradientFlops:
    """FLOPs of a forward pass and its gradients, counted as plans count them.

    ``forward``: the forward plan; ``backward``: reverse accumulation through
    it (every step's gradient einsums); ``vjp_forward``: the part of the
    forward pass that the gradients alone need (all but its last step);
    ``per_operand``: one planned einsum per gradient, each on its own (what
    :func:`~indexnet.einsum.vjp.vjp` ran before reverse accumulation).

    >>> from indexnet.einsum.backprop import gradient_flops
    >>> f = gradient_flops("ij,jk,kl->il", (8, 8), (8, 8), (8, 8))
    >>> f.forward, f.backward, f.value_and_grad / f.forward
    (2048, 4096, 3.0)
    """

    forward: int
    backward: int
    vjp_forward: int
    per_operand: int

    @property
    def value_and_grad(self) -> int:
        """The forward pass and all gradients, reusing its intermediates."""
        return self.forward + self.backward

    @property
    def vjp(self) -> int:
        """The gradients alone, by reverse accumulation."""
        return self.vjp_forward + self.backward


class Tape:
    """Reverse accumulation for one plan, operand dtypes and choice of operands.

    Built from the plan's steps alone (nothing is run): the tree, which
    nodes need a cotangent, which forward values the backward pass reads,
    and two generated forward functions, ``forward_value`` (all steps:
    ``(value, saved)``) and ``forward_saved`` (only the steps whose results
    the gradients read: ``saved``). The backward pass is compiled on its
    first run, once per cotangent signature (:meth:`run_backward`).
    """

    def __init__(self, chosen: Plan, wrt: tuple[int, ...], dtypes: tuple[np.dtype[Any], ...],
                 optimize: Any) -> None:
        self.plan = chosen
        self.wrt = wrt
        self.dtypes = dtypes
        self.optimize = optimize
        # the gradients of one step: "naive" stays one einsum, anything else is planned
        naive = isinstance(optimize, str) and optimize == "naive"
        self.step_optimize: OptimizeKind = "naive" if naive else "auto"
        n = self.n = len(chosen.shapes)
        shapes: dict[int, Shape] = dict(enumerate(chosen.shapes))
        work = list(range(n))
        steps = []
        for t, step in enumerate(chosen.steps):
            inputs = tuple(work[i] for i in step.operands)  # ascending, as compiled
            for i in sorted(step.operands, reverse=True):
                del work[i]
            terms, out = step.subscripts.split("->")
            sizes = broadcast_sizes(terms.split(","), [shapes[i] for i in inputs])
            shapes[n + t] = tuple(sizes[c] for c in out)
            work.append(n + t)
            steps.append(_Step(inputs, n + t, step.subscripts, step.kernel, sizes))
        if len(work) != 1 or not steps:
            raise InternalError(f"internal error, please report: the plan of "
                                f"{str(chosen.subscripts)!r} is not a contraction tree")
        self.steps = steps
        self.shapes = shapes
        self.root = work[0]
        self.out_shape = shapes[self.root]
        needs = {i: i in wrt for i in range(n)}
        for s in steps:
            needs[s.output] = any(needs[i] for i in s.inputs)
        self.grads = self._schedule(needs) if needs[self.root] else []
        read = {a for g in self.grads for a in g.args if a.startswith("v")}
        self.saved = sorted(read, key=lambda name: int(name[1:]))
        computed = {int(a[1:]) for a in read}
        for s in reversed(steps):  # a result read backwards needs its inputs computed
            if s.output in computed:
                computed.update(s.inputs)
        self.vjp_steps = [t for t, s in enumerate(steps) if s.output in computed]
        saved = f"[{', '.join(self.saved)}]"
        self.forward_value = self._forward(range(len(steps)), f"v{self.root}, {saved}")
        self.forward_saved = self._forward(self.vjp_steps, saved)
        #: compiled backward passes, by the cotangent's (class, shape, dtype)
        self.backward: dict[tuple[Any, ...], Backward] = {}
        #: the same, each fused with the forward steps it reads (:data:`Fused`)
        self.fused: dict[tuple[Any, ...], Fused] = {}
        #: the plans of :meth:`forward_foreign` and :meth:`backward_foreign`, by dtype
        self._foreign: dict[str, tuple[list[Kernel], list[tuple[Derivative, Kernel]]]] = {}

    def _schedule(self, needs: dict[int, bool]) -> list[_Grad]:
        """The backward pass's lines, last step first.

        Within a step, the gradient that reads the largest intermediate comes
        first, so that intermediate is freed before the next is allocated.
        """
        lines = []
        for t in reversed(range(len(self.steps))):
            s = self.steps[t]
            if not needs[s.output]:
                continue

            def freed(j: int, s: _Step = s) -> int:
                return sum(prod(self.shapes[i]) for k, i in enumerate(s.inputs)
                           if k != j and i >= self.n)

            for j in sorted((j for j, i in enumerate(s.inputs) if needs[i]), key=freed,
                            reverse=True):
                args = tuple(f"c{s.output}" if k == j else f"v{i}"
                             for k, i in enumerate(s.inputs))
                lines.append(_Grad(s.inputs[j], t, j, args))
        return lines

    def _forward(self, steps: Sequence[int], result: str) -> Callable[..., Any]:
        namespace: dict[str, Any] = {}
        lines = self._forward_lines(steps, namespace)
        params = [f"v{i}" for i in range(self.n)]
        return _generate("forward", params, [], lines, result, namespace)

    def _forward_lines(self, steps: Sequence[int], namespace: dict[str, Any]
                       ) -> list[tuple[str, str, tuple[str, ...]]]:
        """The lines ``v<node> = <call>`` of these forward steps; kernels go in ``namespace``."""
        lines = []
        for t in steps:
            s = self.steps[t]
            args = tuple(f"v{i}" for i in s.inputs)
            lines.append((f"v{s.output}", _call(namespace, f"s{t}", s.kernel, args), args))
        return lines

    def leaf_dtype(self, k: int, operands: Sequence[Any], g: Any) -> np.dtype[Any]:
        """The dtype of operand ``k``'s gradient: that of g and the other operands."""
        return np.result_type(*(a for i, a in enumerate(operands) if i != k), g)

    def compile_backward(self, saved: list[Any], operands: Sequence[Any],
                         g: np.ndarray) -> tuple[Backward, Fused, list[Any]]:
        """Run the backward pass once, checked, compiling each line; two functions, the gradients.

        The functions are the backward pass alone and the :data:`Fused` one
        that runs :attr:`forward_saved`'s steps first. ``saved`` is emptied as
        the generated function empties it, so the first run frees what it has
        used as early as later runs do.
        """
        env = dict(zip(self.saved, saved))
        saved.clear()
        env[f"c{self.root}"] = g
        last = _last_uses([line.args for line in self.grads])
        keep = {f"c{i}" for i in self.wrt}
        namespace: dict[str, Any] = {}
        code = []
        for number, line in enumerate(self.grads):
            s = self.steps[line.step]
            rule = derivative(s.subscripts, line.j)
            ops = [env[a] for a in line.args]
            chosen = plan(rule.executable, *ops, optimize=self.step_optimize)
            raw = chosen(*ops)  # checked: shapes, and that every tensor fits
            leaf = line.target < self.n
            dtype = self.leaf_dtype(line.target, operands, g) if leaf else np.result_type(*ops)
            finish = finisher(rule, raw, [*ops, *operands, g], self.shapes[line.target],
                              s.sizes, dtype, fresh=leaf)
            env[f"c{line.target}"] = raw if finish is None else finish(raw)
            call = _call(namespace, f"k{number}", chosen.kernel, line.args)
            if finish is not None:
                namespace[f"f{number}"] = finish
                call = f"f{number}({call})"
            code.append((f"c{line.target}", call, line.args))
            for name in line.args:
                if last[name] == number and name not in keep:
                    del env[name]
        grads = [env[f"c{i}"] for i in self.wrt]
        prologue = []
        if self.saved:
            unpack = ", ".join(self.saved) + ("," if len(self.saved) == 1 else "")
            prologue = [f"{unpack} = S", "S.clear()"]
        result = f"[{', '.join(f'c{i}' for i in self.wrt)}]"
        run = _generate("backward", ["S", f"c{self.root}"], prologue, code, result, namespace)
        forward = self._forward_lines(self.vjp_steps, namespace)
        params = [*(f"v{i}" for i in range(self.n)), f"c{self.root}"]
        fused = _generate("vjp", params, [], forward + code, result, namespace)
        return run, fused, grads

    def run_backward(self, saved: list[Any], operands: Sequence[Any], g: np.ndarray,
                     remember: bool) -> list[Any]:
        """The gradients for cotangent ``g`` (checked: its shape); compiled on a first run."""
        check_cotangent(self.plan.subscripts, self.out_shape, g.shape)
        check_gradients_fit(self.plan.subscripts, [operands[k].shape for k in self.wrt], self.wrt,
                            np.result_type(*operands, g))
        key = _signature(g)
        known = self.backward.get(key)
        if known is not None:
            return known(saved, g)
        run, fused, grads = self.compile_backward(saved, operands, g)
        if remember:
            if len(self.backward) >= _CACHE_MAX:
                self.backward.clear()
                self.fused.clear()
            self.backward[key] = run
            self.fused[key] = fused
        return grads

    # -- arrays of another library ---------------------------------------------------------

    def _foreign_plans(self, dtype: str) -> tuple[list[Kernel], list[tuple[Derivative, Kernel]]]:
        """Each forward step's function and each backward line's rule and function, for ``dtype``.

        A plain matrix product is ``@`` with its transposes, as on NumPy
        (:func:`~indexnet.einsum.kernels.portable`); anything else is its
        cached plan, called on the arrays (opt_einsum's backend for their
        library, whose ``tensordot`` copies transposed operands). Planned on
        the first call of that dtype and kept: later calls plan nothing.
        """
        known = self._foreign.get(dtype)
        if known is None:
            def function(subscripts: str, shapes: Sequence[Shape]) -> Kernel:
                chosen = plan(subscripts, *shapes, dtype=dtype, optimize=self.step_optimize)
                direct = portable(chosen.kernel) if len(chosen.steps) == 1 else None
                return chosen if direct is None else direct

            steps = [function(s.subscripts, [self.shapes[i] for i in s.inputs])
                     for s in self.steps]
            lines = []
            for line in self.grads:
                rule = derivative(self.steps[line.step].subscripts, line.j)
                lines.append((rule, function(rule.executable,
                                             [self.shapes[int(a[1:])] for a in line.args])))
            known = self._foreign[dtype] = (steps, lines)
        return known

    def forward_foreign(self, operands: Sequence[Any], kind: ArrayKind,
                        steps: Sequence[int]) -> tuple[Any, list[Any]]:
        """The forward ``steps`` on another library's arrays: (last result, saved values).

        Each step is ``@`` for a plain matrix product, else its own cached
        plan called on the arrays (:meth:`_foreign_plans`). The saved values are in :attr:`saved`'s
        order, as :meth:`backward_foreign` reads them. (On NumPy arrays the
        generated :attr:`forward_value` and :attr:`forward_saved` do this.)
        """
        plans, _ = self._foreign_plans(kind.numpy_dtype)
        values: dict[int, Any] = dict(enumerate(operands))
        last = None
        for t in steps:
            s = self.steps[t]
            last = values[s.output] = plans[t](*(values[i] for i in s.inputs))
        return last, [values[int(name[1:])] for name in self.saved]

    def backward_foreign(self, saved: list[Any], operands: Sequence[Any], g: Any,
                         kind: ArrayKind) -> list[Any]:
        """The gradients for cotangent ``g`` (checked: its shape), on another library's arrays.

        The lines of the NumPy backward pass, each the einsum rule of one step
        run as :meth:`_foreign_plans` says, then finished through the
        library's array API (:func:`~indexnet.einsum.rule.finish_foreign`):
        each gradient handed back is a fresh array of that library. Saved
        values are cast to the cotangent's dtype where it is wider.
        """
        check_cotangent(self.plan.subscripts, self.out_shape, tuple(g.shape))
        _, lines = self._foreign_plans(kind.numpy_dtype)
        if g.dtype != kind.dtype:  # a cotangent of a wider type: the gradients take it
            saved = [kind.xp.astype(value, g.dtype) for value in saved]
        env: dict[str, Any] = dict(zip(self.saved, saved))
        env[f"c{self.root}"] = g
        for line, (rule, chosen) in zip(self.grads, lines, strict=True):
            ops = [env[a] for a in line.args]
            raw = chosen(*ops)
            leaf = line.target < self.n  # handed to the caller: fresh
            env[f"c{line.target}"] = finish_foreign(
                rule, raw, self.shapes[line.target], self.steps[line.step].sizes, kind,
                [*ops, *operands, g], fresh=leaf)
        return [env[f"c{i}"] for i in self.wrt]

    def flops(self) -> GradientFlops:
        """FLOPs of the forward pass, the backward pass and one einsum per operand."""
        dtype = self.plan.dtype
        backward = 0
        for line in self.grads:
            s = self.steps[line.step]
            rule = derivative(s.subscripts, line.j)
            shapes = [self.shapes[s.output] if k == line.j else self.shapes[i]
                      for k, i in enumerate(s.inputs)]
            backward += plan(rule.executable, *shapes, dtype=dtype,
                             optimize=self.step_optimize).flops
        per_operand = 0
        for k in self.wrt:
            rule = derivative(self.plan.subscripts, k)
            shapes = [self.out_shape if i == k else shape
                      for i, shape in enumerate(self.plan.shapes)]
            per_operand += plan(rule.executable, *shapes, dtype=dtype,
                                optimize=self.optimize).flops
        vjp_forward = sum(self.plan.steps[t].flops for t in self.vjp_steps)
        return GradientFlops(self.plan.flops, backward, vjp_forward, per_operand)


def check_cotangent(parsed: Subscripts, out_shape: Shape, shape: Shape) -> None:
    """Raise :class:`~indexnet.errors.SizeMismatchError` unless the cotangent fits the output."""
    if tuple(shape) != tuple(out_shape):
        raise SizeMismatchError(
            f"cotangent has shape {tuple(shape)} but {str(parsed)!r} produces {out_shape} "
            f"(output {parsed.output!r})"
        )


def check_gradients_fit(parsed: Subscripts, shapes: Sequence[Shape], wrt: Sequence[int],
                        dtype: Any) -> None:
    """Raise :class:`~indexnet.errors.AllocationError` if the gradients cannot fit."""
    gradients = [(f"the gradient of operand {k} ({parsed.inputs[k]!r})", shape)
                 for k, shape in zip(wrt, shapes)]
    why = too_large(gradients, str(dtype))
    if why is not None:
        raise AllocationError(why)


def _last_uses(uses: Sequence[Sequence[str]]) -> dict[str, int]:
    last: dict[str, int] = {}
    for number, names in enumerate(uses):
        for name in names:
            last[name] = number
    return last


def _call(namespace: dict[str, Any], name: str, kernel: Kernel, args: Sequence[str]) -> str:
    """``kernel`` called on ``args`` as code: inline if a plain product, else by ``name``."""
    expression = inline(kernel, args)
    if expression is None:
        namespace[name] = kernel
        expression = f"{name}({', '.join(args)})"
    return expression


def _generate(name: str, params: Sequence[str], prologue: Sequence[str],
              lines: Sequence[tuple[str, str, tuple[str, ...]]], result: str,
              namespace: dict[str, Any]) -> Callable[..., Any]:
    """Straight-line code: each line ``target = call``, a name deleted after its last use.

    Names in ``result`` are kept; the rest go as soon as no later line reads
    them, so an intermediate lives no longer than it must.
    """
    last = _last_uses([used for _, _, used in lines])
    keep = set(result.replace("[", " ").replace("]", " ").replace(",", " ").split())
    body = [f"    {line}" for line in prologue]
    for number, (target, call, used) in enumerate(lines):
        body.append(f"    {target} = {call}")
        dead = [u for u in dict.fromkeys(used) if last[u] == number and u not in keep]
        if dead:
            body.append(f"    del {', '.join(dead)}")
    body.append(f"    return {result}")
    source = f"def {name}({', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<indexnet {name}>", "exec"), namespace)
    run: Callable[..., Any] = namespace[name]
    return run
