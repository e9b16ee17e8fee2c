"""Reverse mode over a program: exact derivatives as equations of the index language.

The cotangent of the scalar ``L`` is 1; walking the equations backwards, each
product term hands every factor the einsum rule's exchange (the cotangent
takes the factor's place, the factor's letters become the output, letters a
term lacks are summed: a bias gets ``Σ_n``); a function passes its cotangent
through its derivative (``f'(a) ⊙ …``; ``softmax[k]`` through its full
Jacobian-vector product ``ŷ ⊙ (g − Σ_k g ŷ)``); a repeated letter (a diagonal)
gives a Kronecker delta. Contributions accumulate over every use of a tensor.
The gradient of an intermediate tensor ``T`` is referred to as ``dL/dT``;
:func:`derive` simplifies every gradient, inlines those used once, and
returns :class:`~indexnet.ir.nodes.Derivation` statements.

>>> from indexnet.program import parse
>>> p = parse('''
... input x^n_d
... param W^d_h, b_h
... a^n_h = x^n_d W^d_h + b_h
... L = sum_{nh} sigmoid(a^n_h)
... ''')
>>> for d in derive(p, "L"):
...     print(d, " ", d.einsums())
dL/da^n_h = sigmoid'(a^n_h)   []
dL/dW^d_h = xᵀ_n^d dL/da^n_h   ['nd,nh->dh']
dL/db_h = sum_n dL/da^n_h   ['nh->h']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from fractions import Fraction

from .. import ir
from ..errors import InvalidArgumentError, NotSupportedError
from ..ir.elementwise import MATRIX_FUNCTIONS
from ..ir.module import Module, resolve_function
from ..ir.terms import (
    Term,
    all_letters,
    inventing,
    matrix_letters,
    merge_consts,
    multiply,
    new_letter,
    rename_factor,
    rename_term,
)
from .assemble import deriv_refs, reads_derivatives
from .local import local_derivative
from .prepare import lone_eyes
from .reletter import fresh_like, reletter
from .simplify import Simplifier, to_sum

__all__ = ["derive", "gradients", "reletter", "scalar_of", "substitute_atoms"]

ONE = Fraction(1)


def scalar_of(program: Module) -> str:
    """The scalar defined last, not through a derivative atom: what ``derive`` differentiates.

    >>> from indexnet.program import parse
    >>> scalar_of(parse("input x^i\\nL = x^i x^i\\nM = 2 L"))
    'M'
    """
    post = reads_derivatives(program)
    for eq in reversed(program.equations):
        if not eq.free and eq.target.key not in post:
            return eq.target.key
    raise InvalidArgumentError("the program defines no scalar to differentiate")


class _Reverse:
    """Reverse mode over one program's equations: the raw gradient of ``of`` by each tensor.

    A cotangent is a list of terms (their sum), laid out in the letters of
    the factor it flows into; :meth:`factor` dispatches on the node type to
    its rule, and :meth:`ref` accumulates what reaches a tensor.
    """

    def __init__(self, program: Module, of: str, outer: str = "") -> None:
        self.program = program
        self.of = of
        # a Jacobian's letters for the axes of ``of`` (fresh in the program), carried free
        # through every cotangent: the gradient of each tensor then has them after its own
        self.outer = outer
        self.grads: dict[str, list[Term]] = {}

    def run(self) -> dict[str, list[Term]]:
        """Walk the equations from ``of`` backwards; return every tensor's raw gradient."""
        eqs = self.program.equations
        index = next((k for k, eq in enumerate(eqs) if eq.target.key == self.of), None)
        if index is None:
            info = self.program.tensors.get(self.of)
            what = "not defined by an equation" if info is not None else "not a tensor"
            raise InvalidArgumentError(f"cannot differentiate {self.of}: it is {what} of this "
                                       "program")
        free = eqs[index].free
        if len(free) != len(self.outer):
            raise InvalidArgumentError(f"d{self.of}/d… needs a scalar {self.of}, but it has "
                                       f"indices {free}")
        for eq in reversed(eqs[:index + 1]):
            key = eq.target.key
            if key == self.of:  # the identity: one Kronecker delta per axis
                eyes = tuple(ir.Eye(c, o) for c, o in zip(free, self.outer))
                cot = [Term(ONE, (), eyes, free + self.outer)]
            elif key in self.grads:
                t = eq.target
                atom = ir.DerivRef(self.of, ir.Ref(t.name, t.label, t.upper, t.lower))
                cot = [Term(ONE, (), (atom,), eq.free + self.outer)]
            else:
                continue
            self.sum(lone_eyes(eq.rhs), cot)
        return self.grads

    # -- the rules ----------------------------------------------------------------------

    def sum(self, expr: ir.Sum, cot: Sequence[Term]) -> None:
        """``d(Σ_t p_t) = Σ_t dp_t``: every term gets the whole cotangent."""
        for product in expr.terms:
            self.product(product, cot)

    def product(self, p: ir.Product, cot: Sequence[Term]) -> None:
        """The einsum exchange: factor ``j`` gets the cotangent times the other factors.

        The cotangent takes factor ``j``'s place; ``j``'s letters become the
        output and every other letter is summed (a bias gets ``Σ_n``).
        """
        host = Term(p.coefficient, p.consts, p.factors, p.output)
        for c in cot:
            # the cotangent's letters and the term's summed letters must not meet
            h = rename_term(host, {}, avoid=set(c.letters))
            for j, factor in enumerate(h.factors):
                letters = "".join(dict.fromkeys(ir.factor_output(factor)))
                if not _depends(factor):
                    continue
                keep = "".join(dict.fromkeys(h.output + letters))
                rest = Term(h.coef, h.consts, h.factors[:j] + h.factors[j + 1:], keep)
                self.factor(factor, [multiply(c, rest, letters + self.outer)])

    @functools.singledispatchmethod
    def factor(self, f: ir.Factor, cot: list[Term]) -> None:
        """Pass ``cot`` into factor ``f``, by the rule for its node type.

        A Kronecker delta ``eye`` (the one node without a rule) depends on no
        tensor: nothing flows into it.
        """

    @factor.register(ir.Ref)
    def ref(self, f: ir.Ref, cot: list[Term]) -> None:
        """``X^{ab}`` gains the cotangent, renamed into X's own letters.

        A repeated letter (a diagonal, ``X^a_a``) gives a Kronecker delta
        between the two axes it names: ``∂X^a_a/∂X^b_c = δ^b_c``.
        """
        info = self.program.tensors[f.key]
        canon = info.letters
        subs = f.subscripts
        first: dict[str, str] = {}
        eyes: list[ir.Eye] = []
        for axis, c in enumerate(subs):
            if c in first:
                eyes.append(ir.Eye(first[c], canon[axis]))
            else:
                first[c] = canon[axis]
        out = self.grads.setdefault(f.key, [])
        for t in cot:
            r = rename_term(t, first, avoid=set(canon))
            out.append(Term(r.coef, r.consts, r.factors + tuple(eyes), canon + self.outer))

    @factor.register(ir.Window)
    def window(self, f: ir.Window, cot: list[Term]) -> None:
        """``x^n_{t+k}`` passes its cotangent back to x through a shifted delta.

        The adjoint of a strided view is a scatter-add: ``dL/dx^n_s`` gains
        ``G^n_{tk} eye^s_{t+k}`` (the transposed convolution). A plain slot
        renames its letter to x's own, as :meth:`ref` does.
        """
        if f.eye:
            return
        canon = self.program.tensors[f.key].letters
        simple: dict[str, str] = {}
        eyes: list[ir.Factor] = []
        compound: list[str] = []
        for axis, (terms, offset) in enumerate(f.slots):
            if len(terms) == 1 and terms[0][1] == 1 and offset == 0:
                letter = terms[0][0]
                if letter in simple:
                    eyes.append(ir.Eye(simple[letter], canon[axis]))
                else:
                    simple[letter] = canon[axis]
            else:
                compound += [c for c, _ in terms if c not in compound]
        used = set(canon) | set(self.outer)
        for t in cot:
            used |= set(t.letters)
        fresh: dict[str, str] = {}
        for c in compound:
            if c not in simple:
                fresh[c] = self.fresh_like(c, used | set(fresh.values()), prefer=c)
        moved = {**simple, **fresh}
        for axis, (terms, offset) in enumerate(f.slots):
            if not (len(terms) == 1 and terms[0][1] == 1 and offset == 0):
                slot = (tuple((moved[c], a) for c, a in terms), offset)
                eyes.append(ir.Window("eye", None, ((((canon[axis], 1),), 0), slot), 1, True))
        out = self.grads.setdefault(f.key, [])
        for t in cot:
            r = rename_term(t, moved, avoid=set(canon) | set(fresh.values()))
            out.append(Term(r.coef, r.consts, r.factors + tuple(eyes), canon + self.outer))

    @factor.register(ir.Group)
    def group(self, f: ir.Group, cot: list[Term]) -> None:
        """``(Σ_t p_t)``: the parenthesised sum's rule."""
        self.sum(f.sum, cot)

    @factor.register(ir.Power)
    def power(self, f: ir.Power, cot: list[Term]) -> None:
        """``d(u^e) = e u^(e−1) du`` (``2 u du`` for a square, ``du`` for ``e = 1``)."""
        letters = "".join(dict.fromkeys(ir.factor_output(f)))
        e = f.exponent
        local: list[ir.Factor] = [] if e == 1 else [ir.Power(f.base, e - 1)] if e != 2 \
            else [f.base]
        d = Term(e, (), tuple(local), letters)
        self.factor(f.base, [multiply(c, d, letters + self.outer) for c in cot])

    @factor.register(ir.Inverse)
    def inverse(self, f: ir.Inverse, cot: list[Term]) -> None:
        """``1/u = u^(−1)``, so ``d(1/u) = −u^(−2) du``: the power rule."""
        self.power(ir.Power(f.base, Fraction(-1)), cot)

    @factor.register(ir.Call)
    def call(self, f: ir.Call, cot: list[Term]) -> None:
        """``d f(u) = f'(u) ⊙ du`` per argument (:mod:`.local`); softmax has its own rule."""
        resolved = resolve_function(self.program, f)
        if resolved is None:
            raise NotSupportedError(
                f"function {ir.tensor_key(f.function, f.label)} is not declared, so it has no "
                "derivative: add 'act f = sigmoid' (or another built-in)", line=f.pos[0],
                column=f.pos[1], source=self.program.source)
        name, primes, index = resolved
        out = f.output
        if name == "softmax":
            assert index is not None
            self.softmax(f, index, cot)
            return
        if name in ("max", "min"):  # the subgradient: the one-hot of the arg-max
            (arg,) = f.args
            hot = ir.Call("argmax" if name == "max" else "argmin", None, 0, index, f.args,
                          arg.output, f.pos)
            d = Term(ONE, (), (hot,), arg.output)
            self.sum(arg, [multiply(c, d, arg.output + self.outer) for c in cot])
            return
        if name in MATRIX_FUNCTIONS:
            self.matrix(f, name, cot)
            return
        for k, arg in enumerate(f.args):
            local = local_derivative(f, name, primes, k)
            self.sum(arg, [multiply(c, d, out + self.outer) for c in cot for d in local])

    def softmax(self, f: ir.Call, k: str, cot: list[Term]) -> None:
        """``ŷ = softmax[k](a)`` passes ``g`` on as its Jacobian-vector product.

        ``ŷ ⊙ (g − Σ_j g_j ŷ_j)``, the sum over ``k`` renamed to a fresh ``j``.
        """
        out = f.output
        wide = out + self.outer
        terms: list[Term] = []
        y = Term(ONE, (), (f,), out)
        for c in cot:
            terms.append(multiply(c, y, wide))
            j = self.fresh_like(k, set(c.letters) | _all(f) | set(out))
            cj = rename_term(c, {k: j}, avoid={j})
            ident = {ch: ch for ch in out if ch != k}
            yj = rename_factor(f, {**ident, k: j})
            inner = Term(cj.coef, cj.consts, (*cj.factors, yj), cj.output)
            terms.append(multiply(Term(-ONE, (), (f,), out), inner, wide))
        self.sum(f.args[0], terms)

    def matrix(self, f: ir.Call, name: str, cot: list[Term]) -> None:
        """The classic rules, entry by entry (no symmetric-matrix convention).

        With ``B = inv(A)`` (rows r, columns s): ``d logdet A = tr(B dA)``
        passes ``g Bᵀ``; ``d det A = det A tr(B dA)`` passes ``g det(A) Bᵀ``;
        ``dB = −B dA B`` passes ``−Bᵀ G Bᵀ``: ``−inv(A)^p_r G^p_q inv(A)^s_q``
        with fresh p, q.
        """
        (arg,) = f.args
        r, s = matrix_letters(f)
        wide = arg.output + self.outer
        inverse = ir.Call("inv", None, 0, r + s, f.args, r + s, f.pos)
        if name != "inv":
            transposed = rename_factor(inverse, {r: s, s: r})
            local = (f, transposed) if name == "det" else (transposed,)
            d = Term(ONE, (), local, r + s)
            self.sum(arg, [multiply(c, d, wide) for c in cot])
            return
        terms: list[Term] = []
        for c in cot:
            avoid = set(c.letters) | _all(f) | set(self.outer)
            p = self.fresh_like(r, avoid, prefer="pqklmuv")
            q = self.fresh_like(s, avoid | {p}, prefer="qklmuv")
            g = rename_term(c, {r: p, s: q}, avoid={p, q, r, s})
            left = rename_factor(f, {r: p, s: r})
            right = rename_factor(f, {r: s, s: q})
            terms.append(multiply(g, Term(-ONE, (), (left, right), p + q + r + s), wide))
        self.sum(arg, terms)

    def fresh_like(self, letter: str, avoid: set[str], prefer: str = "jlmpqr") -> str:
        """A new letter for an axis like ``letter``'s: one the program gives the same size.

        Never a letter the program sizes otherwise (``softmax[j]`` beside a ``j`` of
        another size); failing one of the same size, a letter the program does not use.
        """
        return fresh_like(self.program, letter, avoid, prefer)

    @factor.register(ir.DerivRef)
    def deriv_ref(self, f: ir.DerivRef, cot: list[Term]) -> None:
        """A derivative atom ``dL/dX``: derivatives of derivatives are not supported."""
        raise NotSupportedError(
            f"d{self.of}/d… passes through the derivative atom d{f.of}/d{f.wrt.key}; "
            "derivatives of derivatives are not supported", line=f.pos[0],
            column=f.pos[1], source=self.program.source)


def _all(f: ir.Factor) -> set[str]:
    return all_letters(f)


def _depends(f: ir.Factor) -> bool:
    """Whether a factor can depend on a tensor (an Eye cannot)."""
    while isinstance(f, (ir.Power, ir.Inverse)):
        f = f.base
    return not isinstance(f, ir.Eye)


# -- deriving --------------------------------------------------------------------------------


def gradients(program: Module, of: str, outer: str = "") -> dict[str, list[Term]]:
    """The raw (unsimplified) gradient of scalar ``of`` for every tensor it depends on.

    Each list of terms is in the tensor's own letters; intermediate gradients
    appear as ``dL/dT`` atoms. For a tensor ``of``, ``outer`` gives fresh
    letters for its axes, which every gradient carries after its own (the
    rows of the Jacobian).
    """
    with inventing(functools.partial(fresh_like, program)):
        return _Reverse(program, of, outer).run()


def _atoms(terms: Iterable[Term], of: str) -> list[str]:
    found = []
    for t in terms:
        for f in t.factors:
            if isinstance(f, ir.DerivRef) and f.of == of:
                found.append(f.wrt.key)
    return found


def substitute_atoms(terms: list[Term], of: str, table: dict[str, list[Term]],
                     letters: dict[str, str]) -> list[Term]:
    """``terms`` with every atom ``d{of}/dT`` of ``table`` replaced by T's expression.

    ``letters`` gives each tensor's own letters, in which ``table`` is written;
    an atom's letters are renamed onto them, and a broadcast size left over is
    the tensor's own (``|i|``).
    """
    out: list[Term] = []
    for t in terms:
        pending = [t]
        while True:
            nxt: list[Term] = []
            progressed = False
            for u in pending:
                j = next((i for i, f in enumerate(u.factors) if isinstance(f, ir.DerivRef)
                          and f.of == of and f.wrt.key in table), None)
                if j is None:
                    nxt.append(u)
                    continue
                progressed = True
                atom = u.factors[j]
                assert isinstance(atom, ir.DerivRef)
                subs, eyes = _distinct(atom.wrt.subscripts, set(u.letters))
                canon = letters[atom.wrt.key]
                keep = "".join(dict.fromkeys(u.output + subs))
                rest = Term(u.coef, u.consts, u.factors[:j] + eyes + u.factors[j + 1:], keep)
                m = dict(zip(canon, subs))
                back = {s: c for c, s in m.items()}
                for e in table[atom.wrt.key]:
                    renamed = rename_term(e, m, avoid=set(subs))
                    joined = multiply(rest, renamed, u.output)
                    nxt.append(_sizes_as(joined, back, merge_consts(rest.consts,
                                                                    renamed.consts)))
            pending = nxt
            if not progressed:
                break
        out.extend(pending)
    return out


def _distinct(subs: str, used: set[str]) -> tuple[str, tuple[ir.Factor, ...]]:
    """An atom's letters made distinct, a repeat getting a fresh letter and a delta.

    A repeat (a diagonal, ``dL/dX^{ii}``) gets a fresh letter and a Kronecker
    delta to its first occurrence. Substituting X's gradient then renames distinct letters only; the
    simplifier contracts the delta where the gradient allows it.
    """
    if len(set(subs)) == len(subs):
        return subs, ()
    out = ""
    eyes: list[ir.Factor] = []
    taken = set(used) | set(subs)
    for c in subs:
        if c in out:
            fresh = new_letter(c, taken, prefer=c)
            taken.add(fresh)
            eyes.append(ir.Eye(c, fresh))
            c = fresh
        out += c
    return out, tuple(eyes)


def _sizes_as(t: Term, back: dict[str, str],
              before: tuple[tuple[str, Fraction], ...]) -> Term:
    """``t`` with the size ``|b|`` of an atom's letter written as that of the tensor's own axis.

    A broadcast summed away leaves the size of its letter; the atom's letters
    are made up, the tensor's own (``back``) are the program's, whose sizes
    are known. Only the sizes the product itself left (those beyond
    ``before``, the factors' own constants) are renamed: a ``1/|j|`` the
    program wrote means its own j, whatever the atom's letters are.
    """
    had, has = dict(before), dict(t.consts)
    lost = [(n, has.get(n, Fraction(0)) - had.get(n, Fraction(0)))
            for n in dict.fromkeys([*has, *had])]
    lost = [(n, p) for n, p in lost if p != 0 and ir.size_letter(n) in back]
    if not lost:
        return t
    kept = [(n, -p) for n, p in lost]
    moved = [(ir.size_name(back[ir.size_letter(n) or ""]), p) for n, p in lost]
    return Term(t.coef, merge_consts(t.consts, kept, moved), t.factors, t.output)


def derive(program: Module, of: str | None = None, wrt: Iterable[str] | None = None, *,
           domains: bool = True, group: bool = True) -> list[ir.Derivation]:
    """Simplified derivatives of scalar ``of`` (default: the last scalar) by ``wrt``.

    ``wrt`` defaults to the program's params. Gradients of intermediate
    tensors used more than once (the seed's error signals δ) are kept as
    their own statements, listed before their first use; the others are
    inlined. ``domains`` uses onehot/simplex facts (exact only on such data).
    """
    with inventing(functools.partial(fresh_like, program)):
        return _derive(program, of, wrt, domains=domains, group=group)


def _derive(program: Module, of: str | None, wrt: Iterable[str] | None, *, domains: bool,
            group: bool) -> list[ir.Derivation]:
    of = of or scalar_of(program)
    raw = gradients(program, of)
    wanted = list(program.params) if wrt is None else list(wrt)
    for key in wanted:
        if key not in program.tensors:
            raise InvalidArgumentError(program._unknown(key))
    if not wanted:
        raise InvalidArgumentError("the program has no params; say which tensor with --wrt")
    simp = Simplifier(program, domains=domains)
    letters = {k: program.tensors[k].letters for k in program.tensors}
    exprs = {k: simp.sum(terms, letters[k]) for k, terms in raw.items()}
    # inline the gradients used once, latest tensor first
    needed = _closure(wanted, exprs, of)
    uses: dict[str, int] = {}
    for k in needed:
        for a in set(_atoms(exprs.get(k, []), of)):
            uses[a] = uses.get(a, 0) + 1
    inline = {k for k in needed if k not in wanted and (uses.get(k, 0) <= 1 or _trivial(
        exprs.get(k, [])))}
    position = {eq.target.key: n for n, eq in enumerate(program.equations)}
    for k in sorted(needed, key=lambda k: -position.get(k, -1)):
        if k in exprs and any(a in inline for a in _atoms(exprs[k], of)):
            table = {a: exprs[a] for a in inline if a in exprs}
            exprs[k] = simp.sum(substitute_atoms(exprs[k], of, table, letters), letters[k])
    order: list[str] = []

    def visit(k: str) -> None:
        if k in order:
            return
        for a in _atoms(exprs.get(k, []), of):
            if a not in inline:
                visit(a)
        order.append(k)

    for k in reversed(wanted):
        visit(k)
    order = [k for k in order if k not in wanted] + [k for k in wanted if k in order]
    keep_first = [k for k in order if k not in wanted]
    final = []
    for k in [*keep_first, *(w for w in wanted)]:
        info = program.tensors[k]
        ref = ir.Ref(info.ref.name, info.ref.label, info.ref.upper, info.ref.lower)
        rhs = to_sum(simp.tidy(exprs.get(k, []), info.letters), info.letters, group=group)
        final.append(ir.Derivation(of, ref, rhs))
    return reletter(program, _backprop_order(final))


def _backprop_order(ds: list[ir.Derivation]) -> list[ir.Derivation]:
    """Each derivation after those it uses, else in the order given reversed by layer."""
    keys = {d.key for d in ds}
    done: list[ir.Derivation] = []
    placed: set[str] = set()
    remaining = list(ds)
    while remaining:
        for d in remaining:
            deps = {ir.deriv_key(r.of, r.wrt.key) for r in deriv_refs(d.rhs)} & keys
            if deps <= placed | {d.key}:
                done.append(d)
                placed.add(d.key)
                remaining.remove(d)
                break
        else:  # pragma: no cover - derivations form no cycles
            done.extend(remaining)
            break
    return done


def _trivial(terms: list[Term]) -> bool:
    """A gradient too plain to name: one term, at most one tensor factor."""
    return len(terms) <= 1 and all(len(t.factors) <= 1 and all(
        isinstance(f, ir.Ref) for f in t.factors) for t in terms)


def _closure(wanted: Iterable[str], exprs: dict[str, list[Term]], of: str) -> set[str]:
    seen: set[str] = set()
    stack = list(wanted)
    while stack:
        k = stack.pop()
        if k in seen:
            continue
        seen.add(k)
        stack.extend(_atoms(exprs.get(k, []), of))
    return seen
