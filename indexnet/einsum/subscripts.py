"""Plain einsum strings: parse, validate against shapes, canonical form.

The parser scans the text once, records the position of every character and
raises a :class:`~indexnet.errors.FormulaSyntaxError` with a caret at the
first rejection. Ellipses are resolved to explicit letters once the number of
dimensions of every operand is known, so everything downstream sees plain
letters only.

>>> str(parse("nd,dh"))
'nd,dh->hn'
>>> parse("...i,i->...", ndims=(3, 1)).inputs
('YZi', 'i')
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import FormulaSyntaxError, OperandCountError, SizeMismatchError

__all__ = [
    "Subscripts",
    "from_interleaved",
    "index_sizes",
    "is_index",
    "operand_shapes",
    "parse",
]

LETTERS = string.ascii_letters
ELLIPSIS = "..."
# Letters given to ellipsis axes, taken from the end so they rarely clash; then,
# past the 52 ASCII letters, the symbols opt_einsum's get_symbol makes.
_ELLIPSIS_POOL = string.ascii_uppercase[::-1] + string.ascii_lowercase[::-1] + "".join(
    chr(i + 140) for i in range(52, 116) if chr(i + 140).isalpha()
)


def is_index(char: str) -> bool:
    """Whether ``char`` may be an index: a letter of any alphabet, or a symbol from U+00C0 up.

    The second kind takes every symbol opt_einsum's ``get_symbol`` makes
    (``'×'`` is its 75th), so opt_einsum's own equations of any size read.

    >>> [is_index(c) for c in "aZλ×1_ "]
    [True, True, True, True, False, False, False]
    """
    return char.isalpha() or (char >= "\u00c0" and not char.isspace())


@dataclass(frozen=True)
class Subscripts:
    """A parsed einsum formula: one index string per operand and the output.

    After ``parse(..., ndims=...)`` the strings hold letters only; without
    ``ndims`` they may still hold ``...``.

    >>> s = parse("nd,dh->nh")
    >>> s.inputs, s.output, s.summed
    (('nd', 'dh'), 'nh', 'd')
    """

    inputs: tuple[str, ...]
    output: str
    #: The letters that stand for ``...`` once resolved (left to right), and the
    #: input terms as written; only messages read them.
    ellipsis: str = field(default="", compare=False)
    written: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{','.join(self.inputs)}->{self.output}"

    @property
    def letters(self) -> str:
        """Every distinct index letter, in order of first appearance."""
        seen: dict[str, None] = {}
        for term in (*self.inputs, self.output):
            for letter in term.replace(ELLIPSIS, ""):
                seen.setdefault(letter)
        return "".join(seen)

    @property
    def summed(self) -> str:
        """Index letters that are summed over (in no output), in order of appearance."""
        return "".join(c for c in self.letters if c not in self.output)


def parse(subscripts: str, *, ndims: Sequence[int] | None = None) -> Subscripts:
    """Parse and validate an einsum string; resolve ``...`` when ``ndims`` is given.

    Implicit mode (no ``->``) follows NumPy: the output is the ellipsis axes,
    then the letters that occur exactly once, in alphabetical order. Spaces
    are ignored.

    >>> str(parse("ii"))
    'ii->'
    >>> parse("nd,dh->nH")
    Traceback (most recent call last):
    ...
    indexnet.errors.FormulaSyntaxError: output index 'H' occurs in no input (at position 8)
      nd,dh->nH
              ^
    """
    if not isinstance(subscripts, str):
        raise FormulaSyntaxError(
            f"subscripts must be a string such as 'nd,dh->nh', not {type(subscripts).__name__}"
        )
    inputs, output, positions = _scan(subscripts)
    if ndims is not None:
        ndims = tuple(ndims)
        if len(ndims) != len(inputs):
            raise OperandCountError(
                f"formula {subscripts!r} has {len(inputs)} input term(s) "
                f"but {len(ndims)} operand(s) were given"
            )
    if output is None:
        once = sorted(c for c in set("".join(inputs).replace(ELLIPSIS, ""))
                      if "".join(inputs).count(c) == 1)
        has_ellipsis = any(ELLIPSIS in term for term in inputs)
        output = (ELLIPSIS if has_ellipsis else "") + "".join(once)
    else:
        _check_output(subscripts, inputs, output, positions)
    if ndims is None:
        return Subscripts(tuple(inputs), output)
    return _resolve_ellipsis(subscripts, inputs, output, ndims)


def _scan(text: str) -> tuple[list[str], str | None, list[int]]:
    """Split ``text`` into input terms and output, checking every character."""
    terms: list[str] = [""]
    output: str | None = None
    positions: list[int] = []  # position of each character of the output
    i = 0
    while i < len(text):
        char = text[i]
        if char == " ":
            i += 1
        elif char == "." or is_index(char):
            piece = char if char != "." else _ellipsis_at(
                text, i, terms[-1] if output is None else output
            )
            if output is None:
                terms[-1] += piece
            else:
                output += piece
                positions.extend(range(i, i + len(piece)))
            i += len(piece)
        elif char == ",":
            if output is not None:
                raise FormulaSyntaxError("',' after '->': the output is a single term", text, i)
            terms.append("")
            i += 1
        elif char == "-":
            if text[i + 1 : i + 2] != ">":
                raise FormulaSyntaxError("'-' must be followed by '>'", text, i)
            if output is not None:
                raise FormulaSyntaxError("'->' occurs twice", text, i)
            output = ""
            i += 2
        else:
            raise _bad_character(text, i)
    return terms, output, positions


def _ellipsis_at(text: str, i: int, current: str) -> str:
    """The ellipsis that starts at ``text[i]`` (a '.'), added to the term ``current``."""
    if text[i : i + 3] != ELLIPSIS:
        raise FormulaSyntaxError("'.' is allowed only as the ellipsis '...'", text, i)
    if ELLIPSIS in current:
        raise FormulaSyntaxError("a term may hold only one ellipsis '...'", text, i)
    return ELLIPSIS


def _bad_character(text: str, i: int) -> FormulaSyntaxError:
    """The error for ``text[i]``, which no einsum string may hold there."""
    if text[i] == ">":
        return FormulaSyntaxError("'>' must follow '-'", text, i)
    return FormulaSyntaxError(
        f"character {text[i]!r} is not an index: indices are single letters (a-z, A-Z or "
        "any other alphabet's) or symbols from U+00C0 up",
        text,
        i,
    )


def _check_output(text: str, inputs: list[str], output: str, positions: list[int]) -> None:
    in_letters = set("".join(inputs).replace(ELLIPSIS, ""))
    for k, char in enumerate(output):
        if char == ".":
            continue
        if output.count(char) > 1 and output.index(char) < k:
            raise FormulaSyntaxError(f"output index {char!r} occurs twice", text, positions[k])
        if char not in in_letters:
            raise FormulaSyntaxError(
                f"output index {char!r} occurs in no input", text, positions[k]
            )
    if ELLIPSIS in output and not any(ELLIPSIS in term for term in inputs):
        raise FormulaSyntaxError(
            "the output has '...' but no input does", text, positions[output.index(ELLIPSIS)]
        )


def _resolve_ellipsis(
    text: str, inputs: list[str], output: str, ndims: tuple[int, ...]
) -> Subscripts:
    widths = []
    for k, (term, ndim) in enumerate(zip(inputs, ndims)):
        explicit = len(term.replace(ELLIPSIS, ""))
        if ELLIPSIS in term:
            if explicit > ndim:
                raise SizeMismatchError(
                    f"operand {k} ({term!r}) names {explicit} indices besides '...' "
                    f"but its array has only {ndim} dimension(s)"
                )
            widths.append(ndim - explicit)
        elif explicit != ndim:
            raise SizeMismatchError(
                f"operand {k} ({term!r}) has {explicit} indices "
                f"but its array has {ndim} dimension(s)"
            )
    width = max(widths, default=0)
    if width and ELLIPSIS not in output:
        raise FormulaSyntaxError(
            f"the inputs' '...' covers {width} axis/axes but the output has no '...': "
            "write '...' in the output (ellipsis axes are broadcast, never summed)",
            text,
        )
    used = set("".join(inputs) + output)
    pool = [c for c in _ELLIPSIS_POOL if c not in used]
    if width > len(pool):
        raise FormulaSyntaxError(f"'...' covers {width} axes but only {len(pool)} letters are free")
    letters = "".join(pool[:width])[::-1]  # ... ZYX reversed reads XYZ

    def expand(term: str, ndim: int) -> str:
        if ELLIPSIS not in term:
            return term
        span = ndim - len(term.replace(ELLIPSIS, ""))
        return term.replace(ELLIPSIS, letters[width - span :] if span else "")

    new_inputs = tuple(expand(t, n) for t, n in zip(inputs, ndims))
    return Subscripts(new_inputs, output.replace(ELLIPSIS, letters), letters, tuple(inputs))


def index_sizes(parsed: Subscripts, shapes: Sequence[Sequence[int]]) -> dict[str, int]:
    """Size of every index letter; a size-1 axis broadcasts, as in NumPy.

    >>> index_sizes(parse("nd,dh->nh"), [(5, 3), (3, 4)])
    {'n': 5, 'd': 3, 'h': 4}
    >>> index_sizes(parse("nd,dh->nh"), [(5, 3), (2, 4)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.SizeMismatchError: index 'd' has size 3 in operand 0 ('nd', axis 1) but 2 ...
    """
    sizes: dict[str, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for k, (term, shape) in enumerate(zip(parsed.inputs, shapes)):
        if len(term) != len(shape):
            raise SizeMismatchError(
                f"operand {k} ({term!r}) has {len(term)} indices "
                f"but its array has shape {tuple(shape)}"
            )
        for axis, (letter, size) in enumerate(zip(term, shape)):
            size = int(size)
            first = term.index(letter)
            if int(shape[first]) != size:  # a diagonal needs equal axes, no broadcasting
                raise SizeMismatchError(
                    f"index {letter!r} has size {int(shape[first])} in operand {k} "
                    f"({term!r}, axis {first}) but {size} in operand {k} ({term!r}, axis {axis}): "
                    "a letter repeated in one term reads a diagonal, so its axes must be equal"
                )
            known = sizes.get(letter)
            if known is None or known == 1:
                if known is None or size != 1:
                    sizes[letter] = size
                    where[letter] = (k, axis)
            elif size not in (known, 1):
                k0, axis0 = where[letter]
                raise SizeMismatchError(
                    f"{_index_name(parsed, letter)} has size {known} in operand {k0} "
                    f"({_term(parsed, k0)!r}, axis {axis0}) but {size} in operand {k} "
                    f"({_term(parsed, k)!r}, axis {axis})"
                )
    return sizes


def _index_name(parsed: Subscripts, letter: str) -> str:
    """``index 'd'``, or for a letter standing for ``...``: which of its axes it is."""
    if letter in parsed.ellipsis:
        width = len(parsed.ellipsis)
        return f"'...' (its axis {parsed.ellipsis.index(letter)} of {width})"
    return f"index {letter!r}"


def _term(parsed: Subscripts, k: int) -> str:
    """Operand ``k``'s term as the user wrote it (with ``...``)."""
    return parsed.written[k] if parsed.written else parsed.inputs[k]


def operand_shapes(terms: Iterable[str], sizes: Mapping[str, int]) -> list[tuple[int, ...]]:
    """The shape of each operand of an einsum from its index letters and the index sizes.

    >>> operand_shapes(["nd", "d", ""], {"n": 2, "d": 3})
    [(2, 3), (3,), ()]
    """
    return [tuple(sizes[c] for c in term) for term in terms]


def from_interleaved(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """NumPy's interleaved form ``op0, labels0, op1, labels1, ..., [output]`` as a string.

    Labels are any hashable values (``...`` for an ellipsis); each distinct
    label becomes one index letter, in order of first appearance (a-z, A-Z,
    then opt_einsum's symbols), so any number of indices can be named.

    >>> from_interleaved(["A", [0, 1], "B", [1, "k"], [0, "k"]])
    ('ab,bc->ac', ['A', 'B'])
    >>> from_interleaved(["A", [..., 0]])
    ('...a', ['A'])
    """
    if len(args) < 2:
        raise OperandCountError(
            "the interleaved form takes operands each followed by its labels, "
            "op0, [0, 1], op1, [1, 2], ..., and perhaps the output's labels"
        )
    operands = list(args[0::2][: len(args) // 2])
    sublists = list(args[1::2])
    output = args[-1] if len(args) % 2 else None
    symbols: dict[Any, str] = {}

    def term(labels: Any, where: str, output: bool = False) -> str:
        if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
            raise FormulaSyntaxError(
                f"{where}: the interleaved form takes a list of labels such as [0, 1], "
                f"not {labels!r}"
            )
        letters = []
        for label in labels:
            if label is Ellipsis:
                letters.append(ELLIPSIS)
                continue
            try:
                letter = symbols.get(label)
            except TypeError:
                raise FormulaSyntaxError(
                    f"{where}: label {label!r} cannot be an index: labels must be hashable"
                ) from None
            if letter is None:
                if output:
                    raise FormulaSyntaxError(f"{where}: label {label!r} is in no operand's labels")
                letter = symbols[label] = _symbol(len(symbols))
            letters.append(letter)
        return "".join(letters)

    text = ",".join(term(labels, f"operand {k}'s labels") for k, labels in enumerate(sublists))
    if output is not None:
        text += "->" + term(output, "the output's labels", output=True)
    return text, operands


def _symbol(i: int) -> str:
    """The ``i``-th index letter: a-z, A-Z, then opt_einsum's ``get_symbol`` (skipping '.')."""
    if i < len(LETTERS):
        return string.ascii_lowercase[i] if i < 26 else string.ascii_uppercase[i - 26]
    return chr(i + 140) if i + 140 < 0xD800 else chr(i + 2048)
