"""Einsum strings as equations of the index language, upper and lower indices chosen.

An einsum string has no upper or lower indices; to explain one as an
equation, :func:`einsum_equation` chooses them. By default the first axis
of each operand is upper and the rest lower; with ``clean=True`` it looks
for the spelling the variance lint has nothing to say about (every summed
letter once upper and once lower, every free letter on the side it takes on
the left), so that ``nd,nh->dh`` reads as the seed's xᵀδ.
"""

from __future__ import annotations

from collections import Counter

from ..einsum.subscripts import parse as parse_subscripts
from ..errors import InvalidArgumentError

__all__ = ["einsum_equation"]

#: The most spellings :func:`einsum_equation` weighs before it settles for the best so far.
SEARCH_LIMIT = 20_000


def _group(letters: str) -> str:
    return letters if len(letters) == 1 else "{" + letters + "}"


def einsum_equation(subscripts: str, names: tuple[str, ...] | None = None,
                    output: str = "out", *, clean: bool = False) -> str:
    """An einsum string as an equation of the language.

    Rule 4 of the language sums every letter that is not on the left, so the
    equation means exactly what the einsum string does. By default the first
    axis of each operand is upper and the rest lower. With ``clean``, the
    upper and lower indices are chosen so that the variance lint has the
    least to say (nothing, where a spelling allows it), and a letter summed
    over one operand, or over more than two, gets an explicit ``sum_``.

    >>> einsum_equation("nd,dh->nh")
    'out^n_h = A^n_d B^d_h'
    >>> einsum_equation("ii->")
    'out = A^i_i'
    >>> einsum_equation("nd,nh->dh", clean=True)
    'out^d_h = Aᵀ_n^d B^n_h'
    >>> einsum_equation("bhqd,bhkd->bhqk", clean=True)
    'out^{bhq}_k = A^{bhqd} B^{bh}_{kd}'
    >>> einsum_equation("ij->i", clean=True)
    'out^i = sum_j A^i_j'
    """
    parsed = parse_subscripts(subscripts)
    if any("..." in t for t in (*parsed.inputs, parsed.output)):
        raise InvalidArgumentError("write the letters for '...' to explain an einsum string")
    inputs, out = list(parsed.inputs), parsed.output
    if names is None:
        names = tuple(chr(ord("A") + k % 26) + ("" if k < 26 else str(k // 26))
                      for k in range(len(inputs)))
    if clean:
        split, choices, explicit = _clean(inputs, out)
    else:
        split, explicit = min(1, len(out)), ""
        choices = [_Choice(t[:1], t[1:], False) for t in inputs]
    target = _Choice(out[:split], out[split:], False).text(output)
    rhs = " ".join(c.text(n) for n, c in zip(names, choices)) or "1"
    head = f"sum_{_group(explicit)} " if explicit else ""
    return f"{target} = {head}{rhs}"


class _Choice(tuple):  # (upper, lower, transposed)
    """One spelling of an operand: its upper letters, its lower letters, transposed or not."""

    def __new__(cls, upper: str, lower: str, transposed: bool) -> _Choice:
        return super().__new__(cls, (upper, lower, transposed))

    def text(self, name: str) -> str:
        upper, lower, transposed = self
        up = "^" + _group(upper) if upper else ""
        low = "_" + _group(lower) if lower else ""
        return name + ("ᵀ" + low + up if transposed else up + low)

    def sides(self, term: str) -> list[bool]:
        """For each axis of ``term`` (in its order), whether this spelling writes it upper."""
        upper, _, transposed = self
        if transposed:
            return [k >= len(term) - len(upper) for k in range(len(term))]
        return [k < len(upper) for k in range(len(term))]


def _oddness(choice: _Choice, term: str) -> tuple[int, int]:
    """How far a spelling is from the usual one: (odd marks, letters moved).

    A transpose is odd, and a tensor of two or more indices with none upper
    twice as odd (the seed writes every matrix with an upper index, and
    transposes one to contract it: xᵀδ); the letters moved are counted from
    the usual spelling, first axis upper and the rest lower.
    """
    upper, _, transposed = choice
    odd = int(transposed) + 2 * int(len(term) >= 2 and not upper)
    usual = [k == 0 for k in range(len(term))]
    return odd, sum(a != b for a, b in zip(choice.sides(term), usual))


def _choices(term: str) -> list[tuple[_Choice, tuple[int, int]]]:
    """Every spelling of an operand that names its axes with its letters, the usual first.

    Spellings that put the same letters up are one: the untransposed one is
    kept. They come in the order of :func:`_oddness`.
    """
    found: dict[tuple[bool, ...], _Choice] = {}
    for transposed in (False, True):
        written = term[::-1] if transposed else term
        for k in range(len(written) + 1):
            choice = _Choice(written[:k], written[k:], transposed)
            found.setdefault(tuple(choice.sides(term)), choice)
    return sorted(((c, _oddness(c, term)) for c in found.values()), key=lambda p: p[1])


def _clean(inputs: list[str], out: str) -> tuple[int, list[_Choice], str]:
    """The output's split, a spelling per operand, and the explicitly summed letters.

    A branch-and-bound search for the fewest warnings, then the least odd
    spelling (:func:`_oddness`): a free letter costs a warning wherever it
    is on the other side than on the left (except on a diagonal, ``A^i_i``),
    a letter summed over two positions one when both are upper or both lower.
    At most :data:`SEARCH_LIMIT` spellings are weighed; the best found is used.
    """
    count = Counter(c for t in inputs for c in t)
    explicit = "".join(c for c in count if c not in out and count[c] != 2)
    options = [_choices(t) for t in inputs]
    best: tuple[tuple[int, int, int], int, list[_Choice]] | None = None
    budget = [SEARCH_LIMIT]
    chosen: list[_Choice] = []

    def walk(i: int, cost: tuple[int, int, int], split: int, up: dict[str, bool],
             placed: dict[str, bool]) -> None:
        nonlocal best
        if best is not None and cost >= best[0]:
            return
        if i == len(inputs):
            best = (cost, split, list(chosen))
            return
        term = inputs[i]
        for choice, (odd, moved) in options[i]:
            if budget[0] <= 0 and best is not None:
                return
            budget[0] -= 1
            sides = choice.sides(term)
            extra, now = 0, dict(placed)
            for c, side in zip(term, sides):
                if c in up:
                    diagonal = len({s for d, s in zip(term, sides) if d == c}) == 2
                    extra += not diagonal and side != up[c]
                elif count[c] == 2:
                    if c in now:
                        extra += now[c] == side
                    now[c] = side
            chosen.append(choice)
            walk(i + 1, (cost[0] + extra, cost[1] + odd, cost[2] + moved), split, up, now)
            chosen.pop()

    target = [(k, _oddness(_Choice(out[:k], out[k:], False), out)) for k in range(len(out) + 1)]
    for split, (odd, moved) in sorted(target, key=lambda p: p[1]):
        walk(0, (0, odd, moved), split, {c: k < split for k, c in enumerate(out)}, {})
    assert best is not None
    return best[1], best[2], explicit
