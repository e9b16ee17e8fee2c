"""Property tests of the index language (Hypothesis).

A generator draws small programs together with their meaning: the same
program spelled in the compact form and in the document form (independently
of indexnet's renderer), and the values NumPy computes for it directly with
``np.einsum``. Then:

* both spellings lower to the same program (hence the same einsum strings);
* evaluation equals the direct NumPy computation;
* parse ∘ render is the identity, in both forms;
* the reader, fed arbitrary text or mutations of valid programs, raises only
  indexnet's own errors, each with a line and a column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexnet.errors import IndexnetError, ProgramError
from indexnet.program import Program, parse
from indexnet.render import loop_nest, matrix_form

# The number of examples comes from the profile of tests/conftest.py (ci: 60, dev: 500).
SETTINGS = settings(deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
POOL = "abdeij"
FUNCTIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda a: np.exp(-np.logaddexp(0, -a)),  # 1/(1 + e^-a), no overflow
    "square": np.square,
}


@dataclass
class Tensor:
    name: str
    letters: str


@dataclass
class Ref:
    tensor: Tensor
    transposed: bool
    split: int
    upper_first: bool
    style: int

    @property
    def written(self) -> str:
        return self.tensor.letters[::-1] if self.transposed else self.tensor.letters

    @property
    def upper(self) -> str:
        return self.written[: self.split]

    @property
    def lower(self) -> str:
        return self.written[self.split:]


@dataclass
class Factor:
    kind: str  # ref, fn, fn2, paren
    refs: list[Ref]
    function: str = ""
    minus: bool = False

    @property
    def letters(self) -> str:
        return "".join(dict.fromkeys("".join(r.tensor.letters for r in self.refs)))


@dataclass
class Term:
    coefficient: Fraction
    negative: bool
    explicit: str
    factors: list[Factor]
    ops: list[str] = field(default_factory=list)


@dataclass
class Eq:
    target: Tensor
    split: int
    style: int
    terms: list[Term]


@dataclass
class Generated:
    inputs: list[Tensor]
    equations: list[Eq]
    sizes: dict[str, int]
    decl_styles: list[int]

    def arrays(self, seed: int = 0) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {t.name: rng.standard_normal(tuple(self.sizes[c] for c in t.letters))
                for t in self.inputs}


def group(letters: str) -> str:
    return letters if len(letters) == 1 else "{" + letters + "}"


# -- spelling --------------------------------------------------------------------------------


def compact_ref(ref: Ref) -> str:
    up = "^" + group(ref.upper) if ref.upper else ""
    low = "_" + group(ref.lower) if ref.lower else ""
    name = ref.tensor.name + ("ᵀ" if ref.transposed else "")
    return name + (up + low if ref.upper_first else low + up)


def document_ref(ref: Ref) -> str:
    if not ref.tensor.letters and not ref.transposed:
        return ref.tensor.name
    inner = ref.tensor.name + ("^T" if ref.transposed else "")
    up = "^" + group(ref.upper) if ref.upper else ""
    low = "_" + group(ref.lower) if ref.lower else ""
    style = ref.style % 4
    if style == 0:
        return f"({inner}){up}{low}"
    if style == 1:
        return f"{up}({inner}){low}"
    if style == 2:
        return f"{low}({inner}){up}"
    return ("{}" if up or low else "") + f"{up}{low}({inner})"


def spell_factor(factor: Factor, doc: bool) -> str:
    spell = document_ref if doc else compact_ref
    refs = [spell(r) for r in factor.refs]
    if factor.kind == "ref":
        return refs[0]
    name = factor.function
    if doc and name == "tanh":
        name = "\\tanh"
    if factor.kind == "fn":
        return f"{name}({refs[0]})"
    if factor.kind == "fn2":
        return f"{name}({refs[0]} {refs[1]})"
    return f"({refs[0]} {'-' if factor.minus else '+'} {refs[1]})"


def spell_coefficient(value: Fraction, doc: bool) -> str:
    if value == 1:
        return ""
    if value.denominator == 1:
        return str(value.numerator)
    if doc:
        return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    return f"{value.numerator}/{value.denominator}"


def spell_term(term: Term, doc: bool) -> str:
    words = []
    coefficient = spell_coefficient(term.coefficient, doc)
    if coefficient:
        words.append(coefficient)
    if term.explicit:
        words.append(("\\sum" if doc else "sum") + "_" + group(term.explicit))
    for k, factor in enumerate(term.factors):
        op = term.ops[k] if k < len(term.ops) else ""
        text = spell_factor(factor, doc)
        words.append(f"{op} {text}".strip() if k and op else text)
    return " ".join(words)


def spell_lhs(eq: Eq, doc: bool) -> str:
    ref = Ref(eq.target, False, eq.split, True, eq.style)
    return document_ref(ref) if doc else compact_ref(ref)


def spell(gen: Generated, doc: bool) -> str:
    lines = []
    for tensor, style in zip(gen.inputs, gen.decl_styles):
        ref = Ref(tensor, False, len(tensor.letters) // 2, True, style)
        lines.append("input " + (document_ref(ref) if doc else compact_ref(ref)))
    minus = "−" if doc else "-"
    for eq in gen.equations:
        rhs = ""
        for k, term in enumerate(eq.terms):
            text = spell_term(term, doc)
            if k == 0:
                rhs = (minus if term.negative else "") + text
            else:
                rhs += f" {minus if term.negative else '+'} {text}"
        lines.append(f"{spell_lhs(eq, doc)} = {rhs}")
    return "\n".join(lines)


# -- meaning, computed directly -----------------------------------------------------------------


def factor_value(factor: Factor, env: dict[str, np.ndarray], protected: set[str]
                 ) -> tuple[np.ndarray, str]:
    refs = factor.refs
    first = env[refs[0].tensor.name]
    letters = refs[0].tensor.letters
    if factor.kind == "ref":
        return first, letters
    if factor.kind == "fn":
        return FUNCTIONS[factor.function](first), letters
    second = env[refs[1].tensor.name]
    other = refs[1].tensor.letters
    if factor.kind == "paren":
        aligned = np.einsum(f"{other}->{letters}", second)
        return (first - aligned if factor.minus else first + aligned), letters
    inner = (set(letters) & set(other)) - protected
    out = "".join(c for c in dict.fromkeys(letters + other) if c not in inner)
    return FUNCTIONS[factor.function](np.einsum(f"{letters},{other}->{out}", first, second)), out


def equation_value(eq: Eq, env: dict[str, np.ndarray], sizes: dict[str, int]) -> np.ndarray:
    free = eq.target.letters
    shape = tuple(sizes[c] for c in free)
    total = np.zeros(shape)
    for term in eq.terms:
        values = []
        for k, factor in enumerate(term.factors):
            others = {c for j, f in enumerate(term.factors) if j != k for c in f.letters}
            protected = set(free) | set(term.explicit) | others
            values.append(factor_value(factor, env, protected))
        present = "".join(dict.fromkeys("".join(letters for _, letters in values)))
        out = "".join(c for c in free if c in present and c not in term.explicit)
        spec = ",".join(letters for _, letters in values) + "->" + out
        value = np.einsum(spec, *[v for v, _ in values]) * float(term.coefficient)
        index = tuple(slice(None) if c in out else None for c in free)
        total = total + (-1 if term.negative else 1) * np.asarray(value)[index]
    return np.broadcast_to(total, shape)


def expected(gen: Generated, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    env = dict(arrays)
    out = {}
    for eq in gen.equations:
        env[eq.target.name] = out[eq.target.name] = equation_value(eq, env, gen.sizes)
    return out


# -- strategies ----------------------------------------------------------------------------------


@st.composite
def refs(draw: st.DrawFn, tensor: Tensor) -> Ref:
    rank = len(tensor.letters)
    return Ref(tensor, draw(st.booleans()) if rank > 1 else False,
               draw(st.integers(0, rank)), draw(st.booleans()), draw(st.integers(0, 3)))


@st.composite
def factors(draw: st.DrawFn, tensors: list[Tensor]) -> Factor:
    kind = draw(st.sampled_from(["ref", "ref", "fn", "fn2", "paren"]))
    first = draw(st.sampled_from(tensors))
    if kind == "ref":
        return Factor("ref", [draw(refs(first))])
    function = draw(st.sampled_from(sorted(FUNCTIONS)))
    if kind == "fn":
        return Factor("fn", [draw(refs(first))], function)
    if kind == "paren":
        twins = [t for t in tensors if set(t.letters) == set(first.letters)]
        second = draw(st.sampled_from(twins))
        return Factor("paren", [draw(refs(first)), draw(refs(second))], minus=draw(st.booleans()))
    second = draw(st.sampled_from(tensors))
    return Factor("fn2", [draw(refs(first)), draw(refs(second))], function)


@st.composite
def terms(draw: st.DrawFn, tensors: list[Tensor]) -> Term:
    parts = draw(st.lists(factors(tensors), min_size=1, max_size=3))
    letters = "".join(dict.fromkeys("".join(f.letters for f in parts)))
    explicit = ""
    if letters and draw(st.booleans()):
        explicit = "".join(draw(st.lists(st.sampled_from(letters), min_size=1, max_size=2,
                                         unique=True)))
    coefficient = draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3)]))
    ops = draw(st.lists(st.sampled_from(["", "*", "⊙", "·"]), min_size=3, max_size=3))
    return Term(coefficient, draw(st.booleans()), explicit, parts, ops)


@st.composite
def programs(draw: st.DrawFn) -> Generated:
    letters = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4, unique=True))
    sizes = dict(zip(letters, draw(st.permutations([2, 3, 4, 5]))))
    names = ["x", "W", "u", "A", "G"]
    inputs = []
    for name in names[: draw(st.integers(1, 4))]:
        chosen = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
        inputs.append(Tensor(name, "".join(chosen)))
    tensors = list(inputs)
    used = sorted({c for t in inputs for c in t.letters})
    equations = []
    for k in range(draw(st.integers(1, 3))):
        free = "".join(draw(st.lists(st.sampled_from(used), max_size=3, unique=True))
                       if used else [])
        parts = draw(st.lists(terms(tensors), min_size=1, max_size=3))
        target = Tensor(f"y{k + 1}", free)
        equations.append(Eq(target, draw(st.integers(0, len(free))), draw(st.integers(0, 3)),
                            parts))
        tensors.append(target)
    styles = draw(st.lists(st.integers(0, 3), min_size=len(inputs), max_size=len(inputs)))
    return Generated(inputs, equations, sizes, styles)


FIXED = Generated(
    [Tensor("x", "ad"), Tensor("W", "db")],
    [Eq(Tensor("y1", "ab"), 1, 1, [Term(Fraction(1), False, "", [
        Factor("ref", [Ref(Tensor("x", "ad"), False, 1, True, 1)]),
        Factor("ref", [Ref(Tensor("W", "db"), False, 1, True, 0)])])])],
    {"a": 2, "d": 3, "b": 4},
    [1, 0],
)


# -- the properties ----------------------------------------------------------------------------


@SETTINGS
@given(programs())
@example(FIXED)
def test_compact_and_document_spellings_are_one_program(gen: Generated) -> None:
    compact, document = parse(spell(gen, False)), parse(spell(gen, True))
    assert compact == document
    assert [e for e, _ in compact.einsums()] == [e for e, _ in document.einsums()]


@SETTINGS
@given(programs(), st.integers(0, 3))
@example(FIXED, 0)
def test_evaluation_equals_numpy(gen: Generated, seed: int) -> None:
    program = parse(spell(gen, seed % 2 == 1))
    arrays = gen.arrays(seed)
    got = program.evaluate(**arrays)
    want = expected(gen, arrays)
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-9, err_msg=key)


@SETTINGS
@given(programs(), st.sampled_from(["compact", "document"]))
def test_parse_render_is_the_identity(gen: Generated, form: str) -> None:
    program = parse(spell(gen, form == "document"))
    text = program.render(form)
    again = parse(text)
    assert again == program, text
    assert again.render(form) == text


@SETTINGS
@given(programs())
def test_render_of_any_form_reads_back(gen: Generated) -> None:
    """Compact text rendered as document text (and back) keeps the program."""
    program = parse(spell(gen, False))
    assert parse(parse(program.render("document")).render("compact")) == program


# -- robustness of the reader --------------------------------------------------------------------

ALPHABET = st.sampled_from([
    *"xyWAbnhdk^_{}()[]+-*/'=,:0123 .\n\\#ᵀΣ∂⊙·−ℓδŷλ",
    "sum_", "sigmoid", "softmax", "eye", "input ", "param ", "const ", "act ", "size ",
    "claim ", "\\frac", "\\sum", "\\hat{y}", "\\text{", "\\ell", "\\cdot", "dL/d", "^T", "{}"])


def assert_clean(text: str) -> Program | None:
    """Parse and render; only indexnet's errors, each with a position, may come out."""
    try:
        program = parse(text)
    except IndexnetError as err:
        assert isinstance(err, ProgramError), type(err)
        assert isinstance(err.line, int) and isinstance(err.column, int)
        assert err.line >= 0 and err.column >= 0
        return None
    program.render("compact")
    program.render("document")
    program.render("latex")
    assert all(w.line >= 1 for w in program.warnings)
    for statement in (*program.equations, *program.claims):
        matrix_form(statement)
        loop_nest(statement)
    return program


@SETTINGS
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_arbitrary_text_raises_only_indexnet_errors(text: str) -> None:
    assert_clean(text)


@SETTINGS
@given(st.text(max_size=60))
def test_arbitrary_unicode_raises_only_indexnet_errors(text: str) -> None:
    assert_clean(text)


@SETTINGS
@given(programs(), st.booleans(), st.data())
def test_mutated_programs_raise_only_indexnet_errors(gen: Generated, doc: bool,
                                                     data: st.DataObject) -> None:
    text = spell(gen, doc)
    for _ in range(data.draw(st.integers(1, 3))):
        if not text:
            break
        at = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        if action == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 4)):]
        elif action == "insert":
            text = text[:at] + data.draw(ALPHABET) + text[at:]
        elif action == "duplicate":
            text = text[:at] + text[at: at + 5] + text[at:]
        elif at + 1 < len(text):
            text = text[:at] + text[at + 1] + text[at] + text[at + 2:]
    assert_clean(text)


DEEP = [
    "y = " + "(" * 5000 + "x" + ")" * 5000,
    "y = " + "exp(" * 3000 + "x" + ")" * 3000,
    "y = " + "exp " * 3000 + "x",
    "y = " + "sum_i " * 3000 + "x^i",
    "y = x" + "^2" * 5000,
    "y = " + "sigmoid(" * 200 + "x" + ")" * 200,
    "y = " + "\\frac{" * 500 + "1}{2}" * 500,
    "y = " + " + ".join(["x^i y_i"] * 3000),
    "y = " + " ".join(["x"] * 5000),
]


@pytest.mark.parametrize("text", DEEP, ids=[f"deep{k}" for k in range(len(DEEP))])
def test_deep_or_long_input_gets_a_clean_answer(text: str) -> None:
    try:
        program = parse(text)
    except ProgramError as err:
        assert "nested" in err.message or "levels" in err.message or err.line == 1
        return
    program.render("compact")
    assert program.equations
