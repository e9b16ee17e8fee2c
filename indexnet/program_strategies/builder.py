"""The program builder behind :func:`indexnet.program_strategies.programs`.

``_Builder`` makes every choice of one program through a ``draw`` callable
(a Hypothesis draw, or a seeded ``random.Random``): declarations on demand,
equations, the scalar ``L`` and the equations that read its derivatives. The
vocabulary the programs are made of (letters, functions, names) lives here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

__all__ = ["FUNCTIONS", "LETTERS", "UNDRAWN"]

#: The index letters programs use.
LETTERS = "ijkmnp"

#: Every elementwise built-in: (its argument must be positive, it is positive),
#: for the function and for its derivative ``f'``. ``exp`` takes tame arguments.
FUNCTIONS: dict[str, tuple[tuple[bool, bool], tuple[bool, bool]]] = {
    "sigmoid": ((False, True), (False, True)),
    "softplus": ((False, True), (False, True)),
    "logsigmoid": ((False, False), (False, True)),
    "tanh": ((False, False), (False, False)),
    "relu": ((False, False), (False, False)),
    "exp": ((False, True), (False, True)),
    "log": ((True, False), (True, True)),
    "sqrt": ((True, True), (True, True)),
    "abs": ((False, False), (False, False)),
    "square": ((False, False), (False, False)),
    "identity": ((False, False), (False, True)),
}
_OTHER = ("softmax", "loss")  # the built-ins drawn by their own rules
#: Built-ins the strategy does not draw yet: version 2's reductions ``max_k``, ``min_k``
#: with their derivatives ``argmax[k]``, ``argmin[k]``, and the matrix functions.
UNDRAWN = ("argmax", "argmin", "det", "inv", "logdet", "max", "min")
_PARAMS = ("W", "V", "U", "c", "g", "s", "b")
_INPUTS = ("x", "t", "u", "v")
_DEFINED = ("a", "z", "q", "r", "o", "h")
_READING = ("delta", "gamma", "rho")
_INTEGERS: dict[tuple[int, int], st.SearchStrategy[int]] = {}
_BOUNDS: dict[int, tuple[int, int]] = {}  # id of a cached strategy: its bounds
_COEFFICIENTS = ("2", "0.5", "1/3", "3/2", "1e-1", "lambda", "lambda/2", "2 mu")


@dataclass
class _Tensor:
    name: str
    letters: str  # one letter per array axis, as declared or defined
    role: str  # input, param, defined
    positive: bool = False
    domain: str = ""
    deps: frozenset[str] = frozenset()


@dataclass
class _Expr:
    text: str
    letters: frozenset[str]  # the letters it passes up
    positive: bool = False
    atom: bool = True  # takes a power suffix without parentheses
    reads: frozenset[str] = frozenset()


@dataclass
class _Scope:
    """The letters a product may pass up (held around it) and those it binds itself."""

    allowed: frozenset[str]
    top: bool = False
    fresh: list[str] = field(default_factory=list)

    def inner(self) -> _Scope:
        return _Scope(self.allowed | set(self.fresh))


@dataclass(frozen=True)
class _Options:
    max_equations: int
    max_terms: int
    max_factors: int
    max_depth: int
    functions: tuple[str, ...]
    flags: frozenset[str]  # the constructs drawn (the names of programs()' switches)
    min_side: int


def _group(letters: str) -> str:
    return letters if len(letters) == 1 else "{" + letters + "}"


def _scripts(letters: str, split: int, lower_first: bool) -> str:
    upper = f"^{_group(letters[:split])}" if letters[:split] else ""
    lower = f"_{_group(letters[split:])}" if letters[split:] else ""
    return lower + upper if lower_first else upper + lower


class _Builder:
    """Draws one program: declarations on demand, equations, ``L``, derivative readers."""

    def __init__(self, draw: Callable[[Any], Any], options: _Options) -> None:
        self.draw = draw
        self.options = options
        self.sizes = {c: self.integer(options.min_side, 3) for c in LETTERS}
        self.tensors: dict[str, _Tensor] = {}
        self.used: set[str] = set()  # letters of the program (for the size line)
        self.taken: set[str] = set()  # letters of the current equation
        self.consts: set[str] = set()
        self.act = ""
        self.reading = False  # drawing equations after L (derivative atoms allowed)

    # -- choices --------------------------------------------------------------------------

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi] (strategies cached: building one per draw is slow)."""
        strategy = _INTEGERS.get((lo, hi))
        if strategy is None:
            strategy = _INTEGERS[lo, hi] = st.integers(lo, hi)
            _BOUNDS[id(strategy)] = (lo, hi)
        return self.draw(strategy)

    def chance(self, one_in: int) -> bool:
        return self.integer(0, one_in - 1) == 0

    def free_letters(self) -> str:
        """The free letters of a new equation: 0 to 3 distinct ones."""
        letters = ""
        for _ in range(self.integer(0, 3)):
            letters += self.pick([c for c in LETTERS if c not in letters])
        return letters

    def few(self, most: int) -> int:
        """A count from 1 to ``most``, small ones likelier."""
        count = 1
        while count < most and self.chance(2):
            count += 1
        return count

    def pick(self, items: Sequence[str]) -> str:
        return items[self.integer(0, len(items) - 1)]

    def functions(self) -> list[str]:
        return [f for f in self.options.functions if f in FUNCTIONS]

    # -- the program ----------------------------------------------------------------------

    def program(self) -> str:
        equations = []
        for _ in range(self.integer(0, self.options.max_equations)):
            equations.append(self.equation(self.new_name(_DEFINED)))
        if "softmax_cross_entropy" in self.options.flags and self.chance(3):
            equations.append(self.softmax_equation())
        equations.append(self.loss())
        if "derivative_reading" in self.options.flags and self.chance(2):
            self.reading = True
            for _ in range(self.integer(1, 2)):
                equations.append(self.reader())
        return "\n".join([*self.declarations(), *equations]) + "\n"

    def declarations(self) -> list[str]:
        lines = []
        for t in self.tensors.values():
            if t.role != "defined":
                domain = f" : {t.domain}" if t.domain else ""
                split = self.integer(0, len(t.letters))
                lines.append(f"{t.role} {t.name}{_scripts(t.letters, split, False)}{domain}")
        if "lambda" in self.consts:
            lines.append("const lambda = 0.01")
        if "mu" in self.consts:
            lines.append("const mu = 1.5")
        if self.act:
            lines.append(f"act f = {self.act}")
        if self.used:
            lines.append("size " + ", ".join(f"{c}={self.sizes[c]}" for c in sorted(self.used)))
        return lines

    def new_name(self, pool: Sequence[str]) -> str:
        for name in pool:
            if name not in self.tensors:
                return name
        n = 1
        while f"{pool[0]}{n}" in self.tensors:
            n += 1
        return f"{pool[0]}{n}"

    def lhs(self, name: str, letters: str) -> str:
        split = self.integer(0, len(letters))
        return name + _scripts(letters, split, False)

    def start(self, letters: str) -> _Scope:
        self.taken = set(letters)
        self.used |= set(letters)
        return _Scope(frozenset(letters), top=True)

    def define(self, name: str, letters: str, rhs: _Expr) -> str:
        deps = frozenset(rhs.reads).union(*(self.tensors[k].deps for k in rhs.reads
                                            if k in self.tensors))
        self.tensors[name] = _Tensor(name, letters, "defined", rhs.positive, deps=deps)
        return f"{self.lhs(name, letters)} = {rhs.text}"

    def equation(self, name: str) -> str:
        letters = self.free_letters()
        scope = self.start(letters)
        rhs = self.sum(scope, "positive" if self.chance(3) else "any", 0)
        return self.define(name, letters, rhs)

    def softmax_equation(self) -> str:
        k = self.pick([c for c in LETTERS if self.sizes[c] > 1] or LETTERS)
        batch = self.pick([c for c in LETTERS if c != k]) if self.chance(2) else ""
        letters = batch + k
        scope = self.start(letters)
        arg = self.sum(_Scope(scope.allowed), "tame", 1, must=frozenset(k))
        self.tensors["y"] = _Tensor("y", letters, "input", domain=f"onehot({k})")
        rhs = _Expr(f"softmax[{k}]({arg.text})", frozenset(letters), True, reads=arg.reads)
        return self.define("yhat", letters, rhs)

    def loss(self) -> str:
        self.start("")
        defined = [t for t in self.tensors.values() if t.role == "defined"]
        terms = [self.reduce(t) for t in defined
                 if not any(t.name in u.deps for u in defined)]
        if not terms or self.chance(3):
            terms.append(self.sum(self.start(""), "any", 1))
        if not any(t.role == "param" for t in self.tensors.values()):
            # every program has a param to differentiate by (eye alone reads no tensor)
            self.start("")
            terms.append(self.reduce(self.leaf("", False)))
        return self.define("L", "", _join(self, terms))

    def reduce(self, t: _Tensor) -> _Expr:
        """A scalar term that reads all of ``t``."""
        self.taken = set(t.letters)
        ref = f"{t.name}{_scripts(t.letters, self.integer(0, len(t.letters)), False)}"
        sums = f"sum_{_group(t.letters)} " if t.letters else ""
        forms = [f"{sums}{ref}^2", f"{sums}tanh({ref})", f"{sums}{ref}"]
        if t.positive:
            forms.append(f"{sums}log({ref})")
        if t.name == "yhat":
            y = f"y{_scripts(t.letters, len(t.letters), False)}"
            forms = [f"-{sums}{y} log({ref})", f"{sums}loss({y}, {ref})"]
        reads = frozenset({t.name, "y"} if t.name == "yhat" else {t.name})
        return _Expr(self.pick(forms), frozenset(), reads=reads)

    def reader(self) -> str:
        name = self.new_name(_READING)
        targets = self.tensors["L"].deps
        choices = [k for k in self.tensors if k in targets and k != "y"]
        if not choices or self.chance(2):
            letters = self.free_letters()
            scope = self.start(letters)
            return self.define(name, letters, self.sum(scope, "any", 0))
        t = self.tensors[self.pick(choices)]
        self.start(t.letters)
        split = self.integer(0, len(t.letters))
        atom = _Expr(f"dL/d{t.name}{_scripts(t.letters, split, False)}", frozenset(t.letters))
        return self.define(name, t.letters, atom)

    # -- sums and products ----------------------------------------------------------------

    def sum(self, scope: _Scope, need: str, depth: int,
            must: frozenset[str] = frozenset()) -> _Expr:
        """A sum whose first term passes up every letter that any of its terms passes up.

        At the top of an equation every term may pass up any free letter (the
        others are broadcast); inside, the terms after the first pass up only
        letters of the first.
        """
        if "broadcasts" not in self.options.flags and scope.top:
            must = scope.allowed
        first = self.product(scope, need, depth, must)
        terms = [first]
        count = 1 if need == "tame" else self.few(self.options.max_terms)
        held = scope.allowed if scope.top else first.letters
        for _ in range(count - 1):
            inner = _Scope(held, top=scope.top)
            if "broadcasts" not in self.options.flags:
                terms.append(self.product(inner, need, depth, must=held))
            elif self.chance(5):
                terms.append(_Expr(self.pick(("1", "2", "0.5")), frozenset(), True))
            else:
                terms.append(self.product(inner, need, depth))
        return _join(self, terms, signs=need == "any")

    def product(self, scope: _Scope, need: str, depth: int,
                must: frozenset[str] = frozenset()) -> _Expr:
        scope = _Scope(scope.allowed, scope.top)
        most = 2 if need == "tame" else self.options.max_factors
        factors = [self.factor(scope, need, depth) for _ in range(self.few(most))]
        missing = "".join(sorted(must - frozenset().union(*(f.letters for f in factors))))
        if missing:
            factors.append(self.cover(scope, missing, need))
        if need != "tame" and "divisions" in self.options.flags and depth < self.options.max_depth \
                and self.chance(6):
            divisor = self.factor(scope, "positive", depth)
            divisor.text = "/ " + divisor.text
            factors.append(divisor)
        return self.bind(scope, factors, need)

    def bind(self, scope: _Scope, factors: list[_Expr], need: str) -> _Expr:
        """Join factors; sum the letters this product introduced.

        A letter passed up by one factor only is summed with ``sum_`` (at the
        top of an equation, one of a plain reference may be left to rule 4); one
        shared by several factors is summed by the convention, or with ``sum_``.
        """
        if "lone_sums" not in self.options.flags:
            for c in scope.fresh:
                if sum(c in f.letters for f in factors) == 1:
                    factors.append(self.spell(self.leaf(c, need == "positive"), c))
        explicit = []
        for c in scope.fresh:
            holders = [f for f in factors if c in f.letters]
            if not holders:  # drawn for a reference that was then not made
                continue
            if len(holders) == 1:
                plain = "(" not in holders[0].text and not holders[0].text.startswith("/")
                if not (scope.top and plain and self.chance(2)):
                    explicit.append(c)
            elif self.chance(4):
                explicit.append(c)
        words = []
        if need == "tame" and any(f.atom and "(" not in f.text for f in factors):
            words.append("0.1")  # keeps exp of a sum of products moderate
        elif need != "tame" and self.chance(4):
            words.append(self.coefficient())
        if explicit:
            words.append(f"sum_{_group(''.join(explicit))}")
        text = factors[0].text
        for f in factors[1:]:
            op = " " if f.text.startswith("/") else self.pick((" ", " ", " ", " * ", " ⊙ ", " · "))
            text += op + f.text
        words.append(text)
        letters = frozenset().union(*(f.letters for f in factors)) - set(scope.fresh)
        positive = all(f.positive for f in factors)
        reads = frozenset().union(*(f.reads for f in factors))
        atom = len(factors) == 1 and len(words) == 1 and factors[0].atom
        return _Expr(" ".join(words), letters, positive, atom, reads)

    def coefficient(self) -> str:
        choices = list(_COEFFICIENTS)
        if "index_sizes" in self.options.flags:
            choices += ["1/|{}|", "|{}|"]
        word = self.pick(choices)
        if "{}" in word:
            letter = self.pick(LETTERS)
            self.used.add(letter)
            word = word.format(letter)
        for name in ("lambda", "mu"):
            if name in word:
                self.consts.add(name)
        return word

    # -- factors --------------------------------------------------------------------------

    def factor(self, scope: _Scope, need: str, depth: int) -> _Expr:
        kinds = ["ref"] * (4 + 4 * depth)
        if depth < self.options.max_depth:
            kinds += ["call", "call"]
            if need != "tame":
                kinds.append("group")
        if "traces" in self.options.flags and need == "any":
            kinds.append("eye")
        if self.reading and need == "any":
            kinds.append("deriv")
        kind = self.pick(kinds)
        if kind == "call":
            f = self.call(scope, need, depth + 1)
        elif kind == "group":
            inner = self.sum(scope.inner(), need, depth + 1)
            # a lone reference in parentheses would read as the document form's (x^T)
            bare = " " not in inner.text and not inner.text.startswith("-")
            text = inner.text if bare else f"({inner.text})"
            f = _Expr(text, inner.letters, inner.positive, inner.atom or not bare, inner.reads)
        elif kind == "eye":
            f = self.eye(scope)
        elif kind == "deriv":
            f = self.deriv(scope, None)
        else:
            f = self.ref(scope, need)
        return self.power(f, need)

    def power(self, f: _Expr, need: str) -> _Expr:
        if not ("powers" in self.options.flags and f.atom and need != "tame" and self.chance(6)):
            return f
        exponents = ["2", "3"] + (["{-1}", "{0.5}", "{-2}"] if f.positive else [])
        exponent = self.pick(exponents)
        positive = f.positive
        return _Expr(f"{f.text}^{exponent}", f.letters, positive, False, f.reads)

    def call(self, scope: _Scope, need: str, depth: int) -> _Expr:
        inner = scope.inner()
        names = self.functions()
        if need == "tame":
            names = [f for f in names if f in ("tanh", "sigmoid")] or ["tanh"]
        elif need == "positive":
            names = [f for f in names if FUNCTIONS[f][0][1] or FUNCTIONS[f][1][1]]
        if need == "any" and "loss" in self.options.functions:
            names.append("loss")
        if need != "tame" and "softmax" in self.options.functions and inner.allowed:
            names.append("softmax")
        if not names:
            return self.ref(scope, need)
        name = self.pick(names)
        if name == "softmax":
            k = self.pick(sorted(inner.allowed))
            arg = self.sum(inner, "tame" if need == "positive" else "any", depth,
                           must=frozenset(k))
            return _Expr(f"softmax[{k}]({arg.text})", arg.letters, True, True, arg.reads)
        if name == "loss":
            y = self.sum(inner, "any", depth)
            p = self.sum(_Scope(y.letters), "positive", depth)
            return _Expr(f"loss({y.text}, {p.text})", y.letters | p.letters, False, True,
                         y.reads | p.reads)
        prime = "primes" in self.options.flags and self.chance(4)
        arg_positive, positive = FUNCTIONS[name][prime]
        if need == "positive" and not positive:
            prime = not prime
            arg_positive, positive = FUNCTIONS[name][prime]
        # exp, and a sigmoid that must stay away from 0, take tame arguments
        tame = name == "exp" or (need == "positive" and name in ("sigmoid", "softplus",
                                                                 "logsigmoid"))
        arg_need = "positive" if arg_positive else "tame" if tame else "any"
        arg = self.sum(inner, arg_need, depth)
        spelled = name
        if name in ("sigmoid", "tanh") and self.act in ("", name) and self.chance(3):
            self.act, spelled = name, "f"
        return _Expr(f"{spelled}{chr(39) * prime}({arg.text})", arg.letters, positive, True,
                     arg.reads)

    def letter(self, scope: _Scope, size: int, chosen: str, repeat: bool = True) -> str | None:
        """A letter of ``size`` for an axis: held, introduced here, repeated, or new."""
        held = [c for c in sorted(scope.allowed) + scope.fresh
                if self.sizes[c] == size and c not in chosen]
        if "traces" in self.options.flags and repeat and chosen and self.chance(6):
            held += [c for c in chosen if self.sizes[c] == size]
        new = [c for c in LETTERS if c not in self.taken and self.sizes[c] == size
               and c not in chosen]
        pool = held + new[:1]
        if not pool:
            return None
        c = self.pick(pool)
        if c not in self.taken:
            self.taken.add(c)
            self.used.add(c)
            scope.fresh.append(c)
        return c

    def letters_for(self, scope: _Scope, tensor_letters: str,
                    repeat: bool = True) -> str | None:
        chosen = ""
        for axis in tensor_letters:
            c = self.letter(scope, self.sizes[axis], chosen, repeat)
            if c is None:
                return None
            chosen += c
        return chosen

    def ref(self, scope: _Scope, need: str) -> _Expr:
        """A reference to a declared or defined tensor (a new leaf when none fits)."""
        leaves_only = need == "tame"
        candidates = [t for t in self.tensors.values()
                      if (t.positive or need != "positive") and t.name not in ("L", "y")
                      and not (leaves_only and t.role == "defined") and t.name not in _READING]
        if candidates and (len(self.tensors) > 4 or not self.chance(2)):
            t = self.tensors[self.pick([t.name for t in candidates])]
            letters = self.letters_for(scope, t.letters)
            if letters is not None:
                return self.spell(t, letters)
        rank = self.integer(0, 3)
        letters = ""
        for _ in range(rank):
            c = self.letter(scope, self.sizes[self.pick(LETTERS)], letters)
            if c is not None and c not in letters:
                letters += c
        return self.spell(self.leaf(letters, need == "positive"), letters)

    def leaf(self, letters: str, positive: bool) -> _Tensor:
        first = not any(t.role == "param" for t in self.tensors.values())
        role = "param" if first else self.pick(("param", "param", "input"))
        name = self.new_name(_PARAMS if role == "param" else _INPUTS)
        domain = self.pick(("positive", "uniform(1, 2)")) if positive else ""
        t = _Tensor(name, letters, role, positive, domain)
        self.tensors[name] = t
        return t

    def spell(self, t: _Tensor, letters: str) -> _Expr:
        split = self.integer(0, len(letters))
        transposed = "transposes" in self.options.flags and len(letters) > 1 and self.chance(4)
        written = letters[::-1] if transposed else letters
        scripts = _scripts(written, split, self.chance(4))
        text = f"{t.name}ᵀ{scripts}" if transposed else f"{t.name}{scripts}"
        return _Expr(text, frozenset(letters), t.positive, not transposed, frozenset({t.name}))

    def cover(self, scope: _Scope, letters: str, need: str) -> _Expr:
        """A reference that passes up exactly ``letters`` (all held by ``scope``)."""
        return self.spell(self.leaf(letters, need == "positive"), letters)

    def eye(self, scope: _Scope) -> _Expr:
        size = self.integer(self.options.min_side, 3)
        letters = ""
        for _ in range(self.integer(2, 3)):
            c = self.letter(scope, size, "")
            if c is None or c in letters:
                break
            letters += c
        if len(letters) < 2:
            return self.ref(scope, "any")
        split = self.integer(0, len(letters))
        return _Expr(f"eye{_scripts(letters, split, False)}", frozenset(letters), False, False)

    def deriv(self, scope: _Scope, target: _Tensor | None) -> _Expr:
        """A derivative atom ``dL/dX`` of a tensor that ``L`` reads."""
        if target is None:
            choices = [k for k in sorted(self.tensors["L"].deps) if k != "y"]
            if not choices:
                return self.ref(scope, "any")
            target = self.tensors[self.pick(choices)]
        letters = self.letters_for(scope, target.letters, repeat=False)
        if letters is None:
            return self.ref(scope, "any")
        split = self.integer(0, len(letters))
        return _Expr(f"dL/d{target.name}{_scripts(letters, split, False)}",
                     frozenset(letters), False, False, frozenset())


def _join(builder: _Builder, terms: list[_Expr], signs: bool = True) -> _Expr:
    minus = [signs and builder.chance(3) for _ in terms]
    words = []
    for term, flip in zip(terms, minus):
        negative = flip != term.text.startswith("-")
        words.append(("-" if negative else "+", term.text.removeprefix("-")))
    text = ("-" if words[0][0] == "-" else "") + words[0][1]
    for sign, word in words[1:]:
        text += f" {sign} {word}"
    positive = all(t.positive for t in terms) and not any(minus)
    reads = frozenset().union(*(t.reads for t in terms))
    atom = len(terms) == 1 and terms[0].atom and not minus[0]
    return _Expr(text, terms[0].letters, positive, atom, reads)
