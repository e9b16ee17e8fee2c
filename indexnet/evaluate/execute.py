"""Compile a program, once per set of shapes, into a chain of array calls.

Every product term becomes one cached :class:`~indexnet.einsum.plan.Plan`, made
here and never again for the same shapes; functions, powers and sums become
NumPy calls that work in place on arrays nobody else holds. Compiled for
another library (``library=``, an :class:`~indexnet.einsum.arrays.ArrayKind`),
the same chain runs on that library's arrays: contractions through
opt_einsum's backend, everything else through the array API, on the arrays'
device and in their dtype, nothing converted to NumPy. Calling the compiled
object only runs the chain.

>>> import numpy as np
>>> from indexnet.program import parse
>>> program = parse("a^n_h = x^n_d W^d_h + b_h")
>>> run = Compiled(program, {"n": 2, "d": 3, "h": 4}, "float64")
>>> out = run({"x": np.ones((2, 3)), "W": np.ones((3, 4)), "b": np.zeros(4)})
>>> out["a"].tolist()[0]
[3.0, 3.0, 3.0, 3.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from .. import ir
from ..einsum.arrays import ArrayKind, is_foreign
from ..einsum.kernels import aligner, inline
from ..einsum.plan import Plan, plan
from ..einsum.subscripts import operand_shapes
from ..errors import NotSupportedError, ProgramError, ProgramSizeError
from ..ir.elementwise import MATRIX_FUNCTIONS, apply, matrix_apply
from ..ir.module import resolve_function
from ..ir.terms import matrix_letters
from ..typing import OptimizeKind
from .nodes import (
    Env,
    Node,
    Value,
    constant_node,
    contract_node,
    first_term,
    foreign_aligner,
    foreign_result,
    foreign_window,
    pair_node,
    plain_call,
    scaled_node,
)
from .shared import Rewrite, SharedPair, shared_pairs

__all__ = ["Compiled"]



class Compiled:
    """A program compiled for one assignment of sizes: call it with the input arrays.

    ``plans`` lists every einsum plan made (with ``optimize``), in evaluation
    order. Calling it checks each input array's shape against the sizes it
    was compiled for and raises :class:`~indexnet.errors.ProgramSizeError`
    naming the tensor, its expected and its actual shape. ``library`` (None:
    NumPy) is the array library, dtype and device it runs on; ``dtype`` is
    then NumPy's name for the same type, which plans are made for. ``share``
    (on NumPy) contracts a pair of tensors that several products contract the
    same way once a call (:mod:`~indexnet.evaluate.shared`).
    """

    def __init__(self, program: ir.Module, sizes: Mapping[str, int], dtype: Any,
                 available: Iterable[str] = (), *, optimize: OptimizeKind = "auto",
                 library: ArrayKind | None = None, share: bool = True) -> None:
        self.program = program
        self.sizes = dict(sizes)
        self.dtype = np.dtype(dtype)
        self.optimize = optimize
        self.library = library
        self.xp: Any = np if library is None else library.xp
        self.plans: list[Plan] = []
        self.shapes = {key: tuple(self.sizes[c] for c in program.tensors[key].letters)
                       for key in program.inputs
                       if all(c in self.sizes for c in program.tensors[key].letters)}
        self._eyes: dict[tuple[int, int], np.ndarray] = {}
        self.steps: list[tuple[str, Node]] = []
        # derivative arrays (``dL/dX``) that the caller's env holds or a derivation computes
        self._derivatives = set(available)
        # contractions two or more products share, each computed once a call (NumPy only)
        self._rewrites: dict[int, Rewrite] = {}
        self._shared: dict[str, Node] = {}
        # products of two tensors called straight through their plan's kernel (:meth:`run_known`)
        self._pairs: dict[int, tuple[Callable[..., Any], str, str]] = {}
        #: Each step's key and node, and the (kernel, first, second) that computes it directly
        #: where the step is a product of two tensors (None elsewhere): :meth:`run_known`.
        self.known_steps: list[tuple[str, Node, tuple[Callable[..., Any], str, str] | None]] = []
        if library is None and share:
            products = [p for stmt in program.statements
                        if isinstance(stmt, (ir.Equation, ir.Derivation))
                        for p in ir.iter_products(stmt.rhs)]
            self._rewrites = shared_pairs(products, self.sizes, self.dtype)
        for stmt in program.statements:
            if isinstance(stmt, ir.Equation):
                self._step(stmt.target.key, stmt)
            elif isinstance(stmt, ir.Derivation):
                self._step(stmt.key, stmt)
                self._derivatives.add(stmt.key)

    def __call__(self, env: Env) -> dict[str, Any]:
        """Run the compiled program on ``env`` (arrays by key); return every defined tensor."""
        self._check_shapes(env)
        return self.run(env)

    def run(self, env: Env) -> dict[str, Any]:
        """:meth:`__call__` without its shape check, for arrays known to have the right shapes."""
        env = dict(env)
        out: dict[str, Any] = {}
        for key, node in self.steps:
            value = node(env)[0]
            env[key] = out[key] = value
        return out

    @functools.cached_property
    def run_known(self) -> Callable[[Env], dict[str, Any]]:
        """:meth:`run` for NumPy arrays of the shapes and dtypes of a call that :meth:`run` took.

        Every defined tensor by key, the steps run as straight-line code,
        generated on first use (a program compiled only to be checked once
        never pays for it).

        A product of two tensors is its plan's kernel called directly (a
        plain matrix product written inline, ``t0 = env['A'] @ env['B']``):
        its operands are known to be arrays of the planned shapes (the inputs
        by the caller's check, the tensors defined here by their equations),
        and the kernel's result is a fresh array of the equation's shape.
        Any other step is its node, which reads ``env``; the tensors it reads
        are written there first, so ``env`` must be the caller's own.
        """
        namespace: dict[str, Any] = {}
        body: list[str] = []
        local: dict[str, str] = {}  # each defined tensor's variable
        read_by_node = [False] * len(self.known_steps)  # a later step reads env
        for number in reversed(range(len(self.known_steps) - 1)):
            read_by_node[number] = (read_by_node[number + 1]
                                    or self.known_steps[number + 1][2] is None)
        for number, (key, node, direct) in enumerate(self.known_steps):
            name = f"t{number}"
            if direct is None:
                namespace[f"n{number}"] = node
                body.append(f"{name} = n{number}(env)[0]")
            else:
                kernel, first, second = direct
                args = [local.get(k, f"env[{k!r}]") for k in (first, second)]
                expression = inline(kernel, args)
                if expression is None:
                    namespace[f"k{number}"] = kernel
                    expression = f"k{number}({', '.join(args)})"
                body.append(f"{name} = {expression}")
            if read_by_node[number]:
                body.append(f"env[{key!r}] = {name}")
            local[key] = name
        body.append("return {" + ", ".join(f"{k!r}: {v}" for k, v in local.items()) + "}")
        source = "def run_known(env):\n" + "".join(f"    {line}\n" for line in body)
        exec(compile(source, "<indexnet program>", "exec"), namespace)
        run: Callable[[Env], dict[str, Any]] = namespace["run_known"]
        return run

    def _check_shapes(self, env: Env) -> None:
        for key, want in self.shapes.items():
            value = env.get(key)
            if value is not None and np.shape(value) != want:
                info = self.program.tensors[key]
                sizes = ", ".join(f"{c}={n}" for c, n in zip(info.letters, want))
                raise ProgramSizeError(
                    f"array {key!r} has shape {tuple(np.shape(value))}, but this program was "
                    f"compiled for {want} ({sizes})",
                    line=info.line, column=info.column, source=self.program.source)

    # -- compiling ---------------------------------------------------------------------

    def _error(self, message: str, pos: tuple[int, int], cls: type[ProgramError] = ProgramError
               ) -> ProgramError:
        return cls(message, line=pos[0], column=pos[1], source=self.program.source)

    def _step(self, key: str, eq: ir.Equation | ir.Derivation) -> None:
        """Compile ``eq`` as the step that defines ``key``."""
        node = self._equation(eq)
        self.steps.append((key, node))
        terms = eq.rhs.terms
        direct = self._pairs.get(id(terms[0])) if len(terms) == 1 and eq.free else None
        if direct is not None and terms[0].output != eq.rhs.output:
            direct = None  # laid out or broadcast otherwise than the equation: by its node
        self.known_steps.append((key, node, direct))

    def _equation(self, eq: ir.Equation | ir.Derivation) -> Node:
        shape = tuple(self.sizes[c] for c in eq.free)
        inner = self._sum(eq.rhs)
        if self.library is not None:
            return foreign_result(inner, shape, self.library)

        def run(env: Env) -> Value:
            value, owned = inner(env)
            if owned and type(value) is np.ndarray and value.shape == shape:  # the usual case
                return value, True
            if np.shape(value) != shape:
                return np.array(np.broadcast_to(value, shape)), True
            if not owned or not isinstance(value, np.ndarray):
                return np.array(value), True
            return value, True

        return run

    def _sum(self, expr: ir.Sum) -> Node:
        parts = []
        for term in expr.terms:
            node, sign = self._product(term)
            parts.append((node, sign, self._aligner(term.output, expr.output)))
        full = len(expr.output)
        if len(parts) == 1:
            node, sign, align = parts[0]
            if sign == 1 and align is None:
                return node

            def single(env: Env) -> Value:
                return first_term(node, sign, align, env)

            return single

        def run(env: Env) -> Value:
            acc, owned = first_term(*parts[0], env)
            for node, sign, align in parts[1:]:
                value = node(env)[0]
                if align is not None:
                    value = align(value)
                if owned and isinstance(acc, np.ndarray) and acc.ndim == full and \
                        np.ndim(value) <= acc.ndim and np.broadcast_shapes(
                            np.shape(value), acc.shape) == acc.shape:
                    if sign == 1:
                        acc += value
                    else:
                        acc -= value
                else:
                    acc = acc + value if sign == 1 else acc - value
                    owned = True
            return acc, owned

        return run

    def _scale(self, product: ir.Product) -> float:
        scale = Fraction(product.coefficient)
        try:
            value = float(scale)
            for name, power in product.consts:
                const = self._const(name, product)
                if const == 0 and power < 0:
                    raise self._error(f"division by the constant {name}, which is 0",
                                      product.pos)
                value *= float(const) ** float(power)
        except (OverflowError, ZeroDivisionError):
            raise self._error("the constant factor of this term is out of range of a float",
                              product.pos) from None
        return value

    def _const(self, name: str, product: ir.Product) -> Fraction | int:
        """The value of a named constant, or of an index size ``|n|``."""
        letter = ir.size_letter(name)
        if letter is None:
            return self.program.consts[name]
        if letter not in self.sizes:
            raise self._error(f"|{letter}|: the size of index {letter} is unknown here",
                              product.pos, ProgramSizeError)
        return self.sizes[letter]

    def _product(self, product: ir.Product) -> tuple[Node, int]:
        """The product's node and the sign it leaves to the caller (1 or -1)."""
        scale = self._scale(product)
        sign = 1
        if scale == -1.0:
            scale, sign = 1.0, -1
        arrays: list[Node] = []
        scalars: list[Node] = []
        for factor in product.factors:
            (arrays if ir.factor_output(factor) else scalars).append(self._factor(factor))
        compiled: Plan | None = None
        einsum, operands = product.einsum, product.operands
        rewrite = self._rewrites.get(id(product))
        if rewrite is not None:  # two of its tensors contracted once for several products
            einsum = rewrite.einsum(product)
            operands = [rewrite.letters, *(t for k, t in enumerate(operands)
                                           if k not in rewrite.positions)]
            arrays = [self._shared_node(rewrite.pair),
                      *(a for k, a in enumerate(arrays) if k not in rewrite.positions)]
        if einsum is not None:
            shapes = operand_shapes(operands, self.sizes)
            compiled = plan(einsum, *shapes, dtype=self.dtype, optimize=self.optimize)
            self.plans.append(compiled)
        if not arrays:
            return constant_node(scale, scalars, self.dtype, self.library), sign
        if compiled is None:
            if scale == 1.0 and not scalars:
                return arrays[0], sign
            return scaled_node(arrays[0], scale, scalars), sign
        native = self.library is None
        if len(arrays) == 2 and not scalars and scale == 1.0:
            refs = [f.key for f in product.factors if isinstance(f, ir.Ref)]
            if (native and sign == 1 and rewrite is None and compiled.refusal is None
                    and len(refs) == 2):
                self._pairs[id(product)] = (compiled.kernel, refs[0], refs[1])
            return pair_node(compiled, arrays[0], arrays[1], native), sign
        return contract_node(compiled, arrays, scale, scalars, native), sign

    def _shared_node(self, pair: SharedPair) -> Node:
        """The node of a shared contraction: computed on first use in a call, then kept."""
        node = self._shared.get(pair.memo)
        if node is not None:
            return node
        first, second = (self._factor(f) for f in pair.factors)
        inputs, _ = pair.einsum.split("->")
        letters = dict(zip(inputs.replace(",", ""), "".join(
            ir.factor_output(f) for f in pair.factors)))
        sizes = {c: self.sizes[letter] for c, letter in letters.items()}
        contract = plan(pair.einsum, *operand_shapes(inputs.split(","), sizes),
                        dtype=self.dtype, optimize=self.optimize)
        self.plans.append(contract)
        memo = pair.memo

        def shared(env: Env) -> Value:
            value = env.get(memo)
            if value is None:
                value = env[memo] = contract(first(env)[0], second(env)[0])
            return value, False  # read by several products: never written in place

        self._shared[memo] = shared
        return shared

    def _factor(self, factor: ir.Factor) -> Node:
        if isinstance(factor, ir.Ref):
            key = factor.key

            def ref(env: Env) -> Value:
                return env[key], False

            return ref
        if isinstance(factor, ir.Eye):
            eye = self._lift(self._eye(len(factor.subscripts), self.sizes[factor.subscripts[0]]))
            return lambda env: (eye, False)
        if isinstance(factor, ir.Window):
            return self._window(factor)
        if isinstance(factor, ir.Group):
            return self._sum(factor.sum)
        if isinstance(factor, ir.Power):
            return self._power(self._factor(factor.base), factor.exponent)
        if isinstance(factor, ir.Inverse):
            base = self._factor(factor.base)

            native = self.library is None

            def inverse(env: Env) -> Value:
                value, owned = base(env)
                if not native:
                    return 1.0 / value, True
                if owned and isinstance(value, np.ndarray) and value.ndim:
                    np.divide(1.0, value, out=value)
                    return value, True
                return np.divide(1.0, value), True

            return inverse
        if isinstance(factor, ir.DerivRef):
            dkey = ir.deriv_key(factor.of, factor.wrt.key)
            if dkey in self._derivatives:
                def derivative(env: Env) -> Value:
                    return env[dkey], False

                return derivative
            raise self._error(
                f"d{factor.of}/d{factor.wrt.key} is a derivative atom; evaluating derivatives is "
                "not supported yet", factor.pos, NotSupportedError)
        return self._call(factor)

    def _window(self, w: ir.Window) -> Node:
        """``x^n_{t+k}`` as a strided view of x (no copy); ``eye^s_{t+k}`` as 0/1 entries."""
        letters = w.subscripts
        shape = tuple(self.sizes[c] for c in letters)
        if w.eye:
            grids = np.ogrid[tuple(slice(0, n) for n in shape)] if shape else []
            at = dict(zip(letters, grids))
            values = [sum((a * at[c] for c, a in terms), np.int64(offset))
                      for terms, offset in w.slots]
            hit = np.ones(shape, dtype=bool)
            for v in values[1:]:
                hit &= np.broadcast_to(v == values[0], shape)
            eye = self._lift(hit.astype(self.dtype))
            return lambda env: (eye, False)
        key = w.key
        factors = [{c: a for c, a in terms} for terms, _ in w.slots]
        start = tuple(slice(offset, None) for _, offset in w.slots)
        if self.library is not None:
            return foreign_window(key, letters, shape, w.slots, self.library)

        def window(env: Env) -> Value:
            x = np.asarray(env[key])
            strides = tuple(sum(f.get(c, 0) * s for f, s in zip(factors, x.strides))
                            for c in letters)
            view = np.lib.stride_tricks.as_strided(x[start], shape, strides, writeable=False)
            return view, False

        return window

    def _aligner(self, have: str, want: str) -> Callable[[Any], Any] | None:
        """:func:`~indexnet.einsum.kernels.aligner`, through the array API for a foreign library."""
        if self.library is None:
            return aligner(have, want)
        return foreign_aligner(have, want, self.xp)

    def _lift(self, value: Any) -> Any:
        """A constant NumPy array as an array of the library compiled for (unchanged for NumPy)."""
        return value if self.library is None else self.library.asarray(value)

    def _own(self, value: Any) -> Any:
        """A value of a foreign computation as the library's array (a number or NumPy scalar)."""
        return value if is_foreign(value) else self.library.asarray(value)  # type: ignore[union-attr]

    def _eye(self, rank: int, size: int) -> np.ndarray:
        cached = self._eyes.get((rank, size))
        if cached is None:
            cached = np.zeros((size,) * rank, dtype=self.dtype)
            cached[(np.arange(size),) * rank] = 1
            self._eyes[(rank, size)] = cached
        return cached

    def _power(self, base: Node, exponent: Fraction) -> Node:
        if exponent == 1:
            return base
        if exponent == 2:
            kernel: Callable[..., Any] = np.square
        elif exponent == Fraction(1, 2):
            kernel = np.sqrt
        elif exponent == -1:
            kernel = np.reciprocal
        else:
            e = float(exponent)

            def kernel(x: Any, out: Any = None) -> Any:
                return np.power(x, e, out=out)

        if self.library is not None:
            return self._foreign_power(base, exponent)

        def power(env: Env) -> Value:
            value, owned = base(env)
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc":
                value, owned = np.asarray(value, dtype=self.dtype), False
            if owned and value.ndim:
                kernel(value, out=value)
                return value, True
            return kernel(value), True

        return power

    def _foreign_power(self, base: Node, exponent: Fraction) -> Node:
        """A power of a foreign array: the array API's ``square``, ``sqrt``, else ``**``."""
        xp, e = self.xp, float(exponent)

        def power(env: Env) -> Value:
            value = self._own(base(env)[0])
            if exponent == 2:
                return xp.square(value), True
            if exponent == Fraction(1, 2):
                return xp.sqrt(value), True
            if exponent == -1:
                return 1.0 / value, True
            return value ** e, True

        return power

    def _reduce(self, name: str, call: ir.Call, index: str) -> Node:
        """``max_k(u)``: ``u`` laid out as the call's letters then k, reduced along k."""
        (arg,) = call.args
        node, align = self._sum(arg), self._aligner(arg.output, call.output + index)
        native = self.library is None

        def reduce(env: Env) -> Value:
            value = node(env)[0]
            if align is not None:
                value = align(value)
            value = np.asarray(value, dtype=self.dtype) if native else self._own(value)
            return apply(name, 0, [value], False, -1, xp=self.xp), True

        return reduce

    def _matrix(self, name: str, call: ir.Call) -> Node:
        """``inv``, ``det``, ``logdet`` of the argument laid out as rows, then columns.

        The call's ``index`` holds the two letters; they must have one size.
        """
        (arg,) = call.args
        rows, cols = matrix_letters(call)
        if self.sizes[rows] != self.sizes[cols]:
            raise self._error(
                f"{name} takes a square matrix, but its rows {rows} have size "
                f"{self.sizes[rows]} and its columns {cols} {self.sizes[cols]}", call.pos,
                ProgramSizeError)
        node, align = self._sum(arg), self._aligner(arg.output, rows + cols)

        native, xp = self.library is None, self.xp

        def matrix(env: Env) -> Value:
            value = node(env)[0]
            if align is not None:
                value = align(value)
            value = np.asarray(value, dtype=self.dtype) if native else self._own(value)
            square = xp.broadcast_to(value, (self.sizes[rows],) * 2)
            return matrix_apply(name, square, xp=xp), True

        return matrix

    def _log_of_sigmoid(self, call: ir.Call) -> ir.Call | None:
        """``log(σ(u))`` as ``logsigmoid(u)``, which stays finite where σ(u) rounds to 0."""
        inner = plain_call(call.args[0]) if len(call.args) == 1 else None
        if inner is None or inner.output != call.output:
            return None
        if resolve_function(self.program, inner) != ("sigmoid", 0, None):
            return None
        return ir.Call("logsigmoid", None, 0, None, inner.args, inner.output, inner.pos)

    def _call(self, call: ir.Call) -> Node:
        resolved = resolve_function(self.program, call)
        if resolved is None:
            raise self._error(
                f"function {ir.tensor_key(call.function, call.label)} is not declared: add "
                f"'act {call.function} = sigmoid' (or another built-in) to evaluate it", call.pos)
        name, primes, index = resolved
        if (name, primes) == ("log", 0):
            inner = self._log_of_sigmoid(call)
            if inner is not None:
                return self._call(inner)
        if name in MATRIX_FUNCTIONS:
            return self._matrix(name, call)
        if index is not None and index not in call.output:  # max_k: reduce the last axis
            return self._reduce(name, call, index)
        axis = call.output.index(index) if index is not None else None
        args = []
        for arg in call.args:
            args.append((self._sum(arg), self._aligner(arg.output, call.output)))
        xp = self.xp
        if self.library is not None:
            return self._foreign_call(name, primes, axis, args)
        if len(args) == 1:
            node, align = args[0]

            def unary(env: Env) -> Value:
                value, owned = node(env)
                if align is not None:
                    value, owned = align(value), False
                if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc":
                    value, owned = np.asarray(value, dtype=self.dtype), True
                result = apply(name, primes, [value], owned, axis, xp=xp)
                return result, owned or result is not value

            return unary

        def many(env: Env) -> Value:
            values = []
            for node, align in args:
                value = node(env)[0]
                values.append(align(value) if align is not None else value)
            return apply(name, primes, values, False, axis, xp=xp), True

        return many

    def _foreign_call(self, name: str, primes: int, axis: int | None,
                      args: list[tuple[Node, Any]]) -> Node:
        """A built-in function on a foreign library's arrays, through the array API."""
        xp = self.xp

        def call(env: Env) -> Value:
            values = []
            for node, align in args:
                value = node(env)[0]
                values.append(self._own(align(value) if align is not None else value))
            return apply(name, primes, values, False, axis, xp=xp), True

        return call
