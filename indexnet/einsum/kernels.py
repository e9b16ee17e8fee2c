"""Kernels: one contraction step compiled to one NumPy call.

A step of a contraction path names one or two operands by their letters and
the letters of its result. :func:`compile_step` picks the cheapest NumPy
call that does the job: ``matmul`` with the right transposes for a matrix
product, a flat ``dot`` for a full contraction of two equal-shaped operands,
a broadcast ``multiply`` for a Hadamard or outer product, ``sum(axis)`` for a
single-operand reduction. Only what fits none of these (diagonals, size-1
broadcasting, three operands at once, dtypes BLAS does not take) goes to
``np.einsum``. :func:`chain` folds the compiled steps of a path into one
function of all operands, writing a plain matrix product (``a @ b.T``) inline.

>>> import numpy as np
>>> kind, kernel = compile_step(["nd", "dh"], "nh", [(2, 3), (3, 4)],
...                             {"n": 2, "d": 3, "h": 4}, fast=True)
>>> kind, kernel(np.ones((2, 3)), np.ones((3, 4))).tolist()[0]
('matmul', [3.0, 3.0, 3.0, 3.0])
"""

from __future__ import annotations

import functools
import importlib
import string
from collections.abc import Callable, Sequence
from math import prod
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ..typing import Shape, StepKind

__all__ = ["ONE_LOOP_SPACE", "Kernel", "aligner", "broadcast_sizes", "chain", "compile_step",
           "inline", "one_loop", "portable"]

#: A compiled step, or a whole compiled path: arrays in, one array out.
Kernel = Callable[..., Any]

#: Up to this many points of a contraction's index space (the product of every index's
#: size), one C einsum loop over all of three or more operands costs less than the
#: planned steps' calls (:func:`one_loop`). Measured on chains, rings and batched
#: products of 2x2 to 12x12 operands: the loop won up to about 160 points, and lost
#: from about 250.
ONE_LOOP_SPACE = 128
#: The dtype kinds :func:`one_loop` takes (floating and complex).
_ONE_LOOP_KINDS = "fc"


def _numpy_einsum_loop() -> Kernel | None:
    """NumPy's C einsum (``c_einsum``), which ``np.einsum(optimize=False)`` wraps in Python.

    A private name of NumPy (``numpy._core.multiarray`` in NumPy 2,
    ``numpy.core.multiarray`` before); None if it has moved.
    """
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            loop: Kernel = importlib.import_module(module).c_einsum
        except (ImportError, AttributeError):
            continue
        return loop
    return None


_EINSUM_LOOP = _numpy_einsum_loop()


def one_loop(subscripts: str, shapes: Sequence[Shape], dtypes: Sequence[Any]) -> Kernel | None:
    """One C einsum over all operands, where it beats a planned path; else None.

    For three or more NumPy operands of one floating or complex dtype whose
    index space has at most :data:`ONE_LOOP_SPACE` points, each planned step
    costs a call (``matmul``'s about 0.4 µs on 2×2), and one loop over the
    whole space costs less. ``subscripts`` is canonical (letters only, no
    ellipsis); labels outside ASCII letters, which NumPy's loop does not
    take, get None.

    >>> one_loop("ij,jk,kl->il", [(2, 2)] * 3, [np.dtype("float64")] * 3) is not None
    True
    >>> one_loop("ij,jk,kl->il", [(9, 9)] * 3, [np.dtype("float64")] * 3) is None
    True
    """
    inputs = subscripts.split("->")[0].split(",")
    if (_EINSUM_LOOP is None or len(inputs) < 3 or len(set(dtypes)) != 1
            or np.dtype(dtypes[0]).kind not in _ONE_LOOP_KINDS
            or not all(c in string.ascii_letters for c in subscripts.replace(",", "")
                       .replace("->", ""))):
        return None
    if prod(broadcast_sizes(inputs, shapes).values()) > ONE_LOOP_SPACE:
        return None
    return functools.partial(_EINSUM_LOOP, subscripts)


#: The 2-D products as Python expressions of their operands ``{0}`` and ``{1}``,
#: by (first operand transposed, second operand transposed).
_PRODUCTS = {(False, False): "{0} @ {1}", (True, False): "{0}.T @ {1}",
             (False, True): "{0} @ {1}.T", (True, True): "{0}.T @ {1}.T"}

#: The kernel of each product expression, the operands also swapped (``{1} @ {0}``).
_KERNEL_OF: dict[str, Kernel] = {
    "{0} @ {1}": np.matmul,
    "{0}.T @ {1}": lambda a, b: a.T @ b,
    "{0} @ {1}.T": lambda a, b: a @ b.T,
    "{0}.T @ {1}.T": lambda a, b: a.T @ b.T,
    "{1} @ {0}": lambda a, b: b @ a,
    "{1}.T @ {0}": lambda a, b: b.T @ a,
    "{1} @ {0}.T": lambda a, b: b @ a.T,
    "{1}.T @ {0}.T": lambda a, b: b.T @ a.T,
}
#: Each kernel that is one expression of its two operands, and that expression:
#: :func:`chain` writes it inline, saving a call per step.
_INLINE: dict[Kernel, str] = {kernel: template for template, kernel in _KERNEL_OF.items()}


#: Each plain product as a function of any library's 2-D arrays (``@`` and ``.T`` only).
_PORTABLE: dict[str, Kernel] = {
    template: eval(f"lambda a, b: {template.format('a', 'b')}")  # our own eight templates
    for template in _KERNEL_OF}


def portable(kernel: Kernel) -> Kernel | None:
    """The same plain matrix product for any array library (torch, JAX, CuPy); else None.

    A NumPy kernel such as ``np.matmul`` would turn a tensor into a NumPy
    array; this one only uses ``@`` and ``.T``, which every library has.

    >>> portable(np.matmul)(np.eye(2), np.ones((2, 3))).shape
    (2, 3)
    >>> portable(np.multiply) is None
    True
    """
    template = _INLINE.get(kernel)
    return None if template is None else _PORTABLE[template]


def inline(kernel: Kernel, args: Sequence[str]) -> str | None:
    """The kernel called on ``args`` written as one expression, where it is a plain product.

    Generated code writes such a step inline and saves a Python call
    (about 0.1 µs); any other kernel gives None and is called by name.

    >>> inline(np.matmul, ["x", "y"])
    'x @ y'
    >>> inline(np.multiply, ["x", "y"]) is None
    True
    """
    template = _INLINE.get(kernel) if len(args) == 2 else None
    return None if template is None else template.format(*args)


def aligner(have: str, want: str) -> Callable[[Any], Any] | None:
    """Transpose/expand an array with letters ``have`` to broadcast against ``want``.

    Every letter of ``have`` must be in ``want``. None when the array already
    broadcasts as it is.

    >>> import numpy as np
    >>> aligner("ij", "ij") is None
    True
    >>> aligner("ji", "kij")(np.ones((3, 2))).shape
    (1, 2, 3)
    """
    kept = [c for c in want if c in have]
    perm = tuple(have.index(c) for c in kept)
    index = tuple(slice(None) if c in have else None for c in want)
    identity = perm == tuple(range(len(have)))
    full = len(kept) == len(want)
    if identity and full:
        return None
    if identity:
        return lambda a: a[index]
    if full:
        return lambda a: a.transpose(perm)
    return lambda a: a.transpose(perm)[index]


def broadcast_sizes(terms: Sequence[str], shapes: Sequence[Shape]) -> dict[str, int]:
    """Size of each letter of ``terms``: a size-1 axis yields to any other size.

    >>> broadcast_sizes(["ij", "j"], [(1, 3), (3,)])
    {'i': 1, 'j': 3}
    """
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes, strict=True):
        for letter, size in zip(term, shape, strict=True):
            if sizes.get(letter, 1) == 1:
                sizes[letter] = size
    return sizes


def chain(steps: Sequence[tuple[tuple[int, ...], Kernel]], n_operands: int) -> Kernel:
    """Fold the steps, ``(operand positions, kernel)`` each, into one function of all operands.

    Each step takes its operands from the working list (removing them, so the
    positions of the others shift down), calls its kernel on them in ascending
    order and appends the result. The schedule is resolved once, here, into
    straight-line code (one assignment per step), so a call does no list work;
    a step that is a plain matrix product is written as its expression.

    >>> run = chain([((0, 1), lambda a, b: a * b), ((0, 1), lambda a, b: a - b)], 3)
    >>> run(2, 3, 4)  # 4 - 2 * 3
    -2
    """
    if len(steps) == 1 and steps[0][0] == tuple(range(n_operands)):
        return steps[0][1]
    work = [f"x{i}" for i in range(n_operands)]
    lines = []
    namespace: dict[str, Any] = {}
    for k, (operands, kernel) in enumerate(steps):
        args = [work[i] for i in sorted(operands)]
        for i in sorted(operands, reverse=True):
            del work[i]
        expression = inline(kernel, args)
        if expression is not None:
            lines.append(f"    t{k} = {expression}")
        else:
            namespace[f"k{k}"] = kernel
            lines.append(f"    t{k} = k{k}({', '.join(args)})")
        work.append(f"t{k}")
    params = ", ".join(f"x{i}" for i in range(n_operands))
    source = f"def run({params}):\n" + "\n".join(lines) + f"\n    return {work[0]}\n"
    exec(compile(source, "<indexnet chain>", "exec"), namespace)
    run: Kernel = namespace["run"]
    return run


def compile_step(
    inputs: Sequence[str],
    output: str,
    shapes: Sequence[Shape],
    sizes: dict[str, int],
    fast: bool,
) -> tuple[StepKind, Kernel]:
    """The kind (``matmul``, ``dot``, ``multiply``, ``sum``, ``einsum``) and kernel of one step.

    ``sizes`` are the letters' sizes as this step sees them
    (:func:`broadcast_sizes`); ``fast`` says the dtype is one BLAS takes.
    """
    generic = _ascii("->".join([",".join(inputs), output]))

    def einsum_kernel(*ops: Any) -> Any:
        return np.einsum(generic, *ops)

    broadcasts = any(
        shape[axis] != sizes[c]
        for term, shape in zip(inputs, shapes)
        for axis, c in enumerate(term)
    )
    repeated = any(len(set(term)) != len(term) for term in inputs)
    if not fast or broadcasts or repeated or len(inputs) > 2:
        return "einsum", einsum_kernel
    if len(inputs) == 1:
        return _compile_single(inputs[0], output)
    return _compile_pair(inputs[0], inputs[1], output, sizes)


def _same(a: Any) -> Any:
    return a


def _ascii(subscripts: str) -> str:
    """``subscripts`` with its letters renamed to ASCII ones, the only ones np.einsum takes.

    >>> _ascii("αβ,βγ->αγ"), _ascii("ij,jk->ik")
    ('ab,bc->ac', 'ij,jk->ik')
    """
    letters = dict.fromkeys(c for c in subscripts if c not in ",->")
    if all(c in string.ascii_letters for c in letters):
        return subscripts
    if len(letters) > len(string.ascii_letters):
        raise InvalidArgumentError(
            f"one contraction step, {subscripts!r}, holds {len(letters)} distinct indices; "
            f"NumPy's einsum takes at most {len(string.ascii_letters)}: choose a path "
            "whose steps are smaller (optimize='greedy', say)"
        )
    rename = dict(zip(letters, string.ascii_letters))
    return "".join(rename.get(c, c) for c in subscripts)


def _compile_single(term: str, output: str) -> tuple[StepKind, Kernel]:
    axes = tuple(i for i, c in enumerate(term) if c not in output)
    kept = [c for c in term if c in output]
    perm = tuple(kept.index(c) for c in output)
    identity = perm == tuple(range(len(perm)))
    if not axes:
        if identity:
            return "sum", _same
        return "sum", lambda a: a.transpose(perm)
    if identity:
        return "sum", lambda a: a.sum(axis=axes)
    return "sum", lambda a: a.sum(axis=axes).transpose(perm)


def _reducer(term: str, keep: str) -> tuple[str, Callable[[Any], Any] | None]:
    """Sum away the letters of ``term`` that are not in ``keep``."""
    axes = tuple(i for i, c in enumerate(term) if c not in keep)
    reduced = "".join(c for c in term if c in keep)
    if not axes:
        return reduced, None
    return reduced, lambda a: a.sum(axis=axes)


def _compile_pair(ta: str, tb: str, out: str, sizes: dict[str, int]) -> tuple[StepKind, Kernel]:
    ta, reduce_a = _reducer(ta, tb + out)
    tb, reduce_b = _reducer(tb, ta + out)
    kind, core = _pair_core(ta, tb, out, sizes)
    if reduce_a is None and reduce_b is None:
        return kind, core
    ra = reduce_a or _same
    rb = reduce_b or _same
    return kind, lambda a, b: core(ra(a), rb(b))


def _pair_core(ta: str, tb: str, out: str, sizes: dict[str, int]) -> tuple[StepKind, Kernel]:
    contracted = [c for c in ta if c in tb and c not in out]
    if not contracted:
        return "multiply", _multiply_kernel(ta, tb, out)
    if ta == tb and not out:
        return "dot", lambda a, b: np.dot(a.reshape(-1), b.reshape(-1))
    batch = [c for c in out if c in ta and c in tb]
    left = [c for c in out if c in ta and c not in tb]
    right = [c for c in out if c in tb and c not in ta]
    if batch:
        return "matmul", _batched_matmul(ta, tb, out, batch, left, contracted, right, sizes)
    return "matmul", _matmul(ta, tb, out, left, contracted, right, sizes)


def _matmul(
    ta: str,
    tb: str,
    out: str,
    left: list[str],
    contracted: list[str],
    right: list[str],
    sizes: dict[str, int],
) -> Kernel:
    """A product with no batch letter: both operands as matrices, one ``matmul``."""
    m, k, n = (prod(sizes[c] for c in letters) for letters in (left, contracted, right))
    # Contracted letters in the order one operand already holds them, so that
    # at least that operand reshapes without a copy.
    contracted = _block_order(ta, left, contracted) or _block_order(tb, right, contracted) or \
        contracted
    as_a = _matrix_view(ta, left, contracted, m, k)
    as_b = _matrix_view(tb, contracted, right, k, n)
    result_shape = tuple(sizes[c] for c in left + right)
    if "".join(left + right) == out:
        if len(result_shape) == 2 and len(ta) == 2 and len(tb) == 2:
            return _direct_matmul(ta, tb, left, right)
        return lambda a, b: np.matmul(as_a(a), as_b(b)).reshape(result_shape)
    if "".join(right + left) == out:
        if len(result_shape) == 2 and len(ta) == 2 and len(tb) == 2:
            # (AB)ᵀ-free: out = B·A, its operands swapped in the expression
            return _KERNEL_OF[_product(tb, ta, right, left).format("{1}", "{0}")]
        flipped = tuple(sizes[c] for c in right + left)
        return lambda a, b: np.matmul(as_b(b).T, as_a(a).T).reshape(flipped)
    perm = tuple((left + right).index(c) for c in out)
    return lambda a, b: np.matmul(as_a(a), as_b(b)).reshape(result_shape).transpose(perm)


def _direct_matmul(ta: str, tb: str, left: list[str], right: list[str]) -> Kernel:
    """The four 2-D cases: XW, XᵀW, XWᵀ, XᵀWᵀ with no reshapes at all."""
    return _KERNEL_OF[_product(ta, tb, left, right)]


def _product(ta: str, tb: str, left: list[str], right: list[str]) -> str:
    """The expression of :func:`_direct_matmul`'s product (see :data:`_PRODUCTS`)."""
    return _PRODUCTS[(ta[0] != left[0], tb[1] != right[0])]


def _block_order(term: str, outer: list[str], contracted: list[str]) -> list[str] | None:
    """Contracted letters as ``term`` holds them, if one block after or before ``outer``."""
    inner = [c for c in term if c in contracted]
    rest = [c for c in term if c not in contracted]
    if rest != outer or len(inner) != len(contracted):
        return None
    if list(term) in (rest + inner, inner + rest):
        return inner
    return None


def _matrix_view(
    term: str, rows: list[str], cols: list[str], m: int, n: int
) -> Callable[[Any], Any]:
    """A function that presents an operand with indices ``term`` as an m×n matrix."""
    letters = list(term)
    plain = len(rows) == 1 and len(cols) == 1
    if letters == rows + cols:
        if plain:
            return _same
        return lambda a: a.reshape(m, n)
    if letters == cols + rows:
        if plain:
            return lambda a: a.T
        return lambda a: a.reshape(n, m).T
    perm = tuple(letters.index(c) for c in rows + cols)
    return lambda a: a.transpose(perm).reshape(m, n)


def _batched_matmul(
    ta: str,
    tb: str,
    out: str,
    batch: list[str],
    left: list[str],
    contracted: list[str],
    right: list[str],
    sizes: dict[str, int],
) -> Kernel:
    def size(letters: list[str]) -> int:
        return prod(sizes[c] for c in letters)

    bsz, m, k, n = size(batch), size(left), size(contracted), size(right)
    perm_a = tuple(ta.index(c) for c in batch + left + contracted)
    perm_b = tuple(tb.index(c) for c in batch + contracted + right)
    produced = batch + left + right
    result_shape = tuple(sizes[c] for c in produced)
    perm_out = tuple(produced.index(c) for c in out)

    def kernel(a: Any, b: Any) -> Any:
        a3 = a.transpose(perm_a).reshape(bsz, m, k)
        b3 = b.transpose(perm_b).reshape(bsz, k, n)
        return np.matmul(a3, b3).reshape(result_shape).transpose(perm_out)

    return kernel


def _multiply_kernel(ta: str, tb: str, out: str) -> Kernel:
    """Hadamard, outer and broadcast products: align both operands to ``out``."""
    align_a = aligner(ta, out) or _same
    align_b = aligner(tb, out) or _same
    return lambda a, b: np.multiply(align_a(a), align_b(b))
