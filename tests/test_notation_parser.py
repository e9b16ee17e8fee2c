"""The reader: tokens, both spellings, LaTeX, script attachment, and its error messages."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from indexnet.errors import FormulaSyntaxError, IndexnetError, ProgramSyntaxError
from indexnet.notation import ast
from indexnet.notation.lexer import tokenize
from indexnet.notation.parser import MAX_DEPTH, parse_text
from indexnet.program import parse


def rhs_ref(text: str, k: int = 0) -> ast.TensorRef:
    """The k-th factor of the first term of the only equation."""
    node = parse_text(text).statements[-1].rhs.terms[0][1].items[k][1]
    assert isinstance(node, ast.TensorRef)
    return node


def layout(ref: ast.TensorRef) -> tuple[str, str, str, str | None, bool]:
    return (ref.name, "".join(i.letter for i in ref.upper), "".join(i.letter for i in ref.lower),
            ref.label, ref.transposed)


# -- tokens --------------------------------------------------------------------------------


def test_latex_spellings_are_normalised() -> None:
    texts = [t.text for t in tokenize(r"\delta \lambda \ell \hat{y} \cdot \odot \sum − ′ \top")]
    assert texts[:-1] == ["δ", "λ", "ℓ", "ŷ", "·", "⊙", "Σ", "-", "'", "ᵀ"]


def test_text_wrappers_and_functions() -> None:
    assert [t.text for t in tokenize(r"\text{softmax} \operatorname{relu} \exp \log")][:4] == [
        "softmax", "relu", "exp", "log"]


def test_comments_and_continuations_disappear() -> None:
    program = parse("input x^n  # data\na = x^n \\\n    + x^n   # two lines\n")
    assert len(program.equations) == 1
    assert program.equations[0].line == 2


def test_tokens_know_whether_they_touch() -> None:
    toks = tokenize("x^n y")
    assert toks[0].end == toks[1].offset and toks[2].end != toks[3].offset


# -- the two spellings (INDEX-LANGUAGE.md, section 1) ---------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("z = x^n_d", ("x", "n", "d", None, False)),
    ("z = ^n(x)_d", ("x", "n", "d", None, False)),
    ("z = W1^d_h", ("W1", "d", "h", None, False)),
    ("z = W1_h^d", ("W1", "d", "h", None, False)),
    ("z = (W1)^d_h", ("W1", "d", "h", None, False)),
    ("z = (W1)_h^d", ("W1", "d", "h", None, False)),
    ("z = (w_ℓ)_h^d", ("w", "d", "h", "ℓ", False)),
    ("z = (w_{ℓ-1})_h^d", ("w", "d", "h", "ℓ-1", False)),
    (r"z = (w_{\ell - 1})_h^d", ("w", "d", "h", "ℓ-1", False)),
    ("z = b_h", ("b", "", "h", None, False)),
    ("z = (b)_h", ("b", "", "h", None, False)),
    ("z = T^{ab}_c", ("T", "ab", "c", None, False)),
    ("z = ^{ab}(T)_c", ("T", "ab", "c", None, False)),
    ("z = L", ("L", "", "", None, False)),
    ("z = xᵀ_n^d", ("x", "d", "n", None, True)),
    ("z = _n(x^T)^d", ("x", "d", "n", None, True)),
    ("z = (x^T_{ℓ-1})^d_n", ("x", "d", "n", "ℓ-1", True)),
    (r"z = (w_\ell^T)_h^d", ("w", "d", "h", "ℓ", True)),
    ("z = {}^n(x)_d", ("x", "n", "d", None, False)),
    ("z = ^n y_h", ("y", "n", "h", None, False)),
    (r"z = ^n(\hat{y})_h", ("ŷ", "n", "h", None, False)),
    ("z = x^T", ("x", "", "", None, True)),
    ("z = x^{T}", ("x", "T", "", None, False)),
])
def test_reference_spellings(text: str, expected: tuple) -> None:
    assert layout(rhs_ref(text)) == expected


def test_which_tensor_a_script_belongs_to() -> None:
    term = parse_text("z = _n(x^T)^d ^n(δ)_h").statements[0].rhs.terms[0][1]
    first, second = (node for _, node in term.items)
    assert layout(first) == ("x", "d", "n", None, True)
    assert layout(second) == ("δ", "n", "h", None, False)
    # a group that touches the previous tensor belongs to it, even before '('
    term = parse_text("z = (y)_k ^n(x)_d").statements[0].rhs.terms[0][1]
    assert [layout(n) for _, n in term.items] == [("y", "", "k", None, False),
                                                  ("x", "n", "d", None, False)]
    # with a space, a later group belongs to the tensor before it
    assert layout(rhs_ref("z = x^n _d")) == ("x", "n", "d", None, False)
    # {} starts a new tensor
    term = parse_text("z = (a)_h{}^n(x)_d").statements[0].rhs.terms[0][1]
    assert [n.name for _, n in term.items] == ["a", "x"]


def test_a_doc_group_after_a_name_is_a_product() -> None:
    term = parse_text("z = λ(w_ℓ)_h^d").statements[0].rhs.terms[0][1]
    assert [type(n).__name__ for _, n in term.items] == ["TensorRef", "TensorRef"]


def test_function_calls_and_labels() -> None:
    call = parse_text("z = f'_{ℓ-1}(^n(a)_h)").statements[0].rhs.terms[0][1].items[0][1]
    assert isinstance(call, ast.Apply)
    assert (call.name, call.label, call.primes) == ("f", "ℓ-1", 1)
    call = parse_text("z = softmax[k](a^n_k)").statements[0].rhs.terms[0][1].items[0][1]
    assert call.index is not None and call.index.letter == "k"
    call = parse_text("z = log ^n(y)_k").statements[0].rhs.terms[0][1].items[0][1]
    assert isinstance(call, ast.Apply) and not call.parens
    call = parse_text("z = loss'(y^n, p^n)").statements[0].rhs.terms[0][1].items[0][1]
    assert len(call.args) == 2


def test_powers_are_numbers_after_caret() -> None:
    node = parse_text("z = x^n^2").statements[0].rhs.terms[0][1].items[0][1]
    assert isinstance(node, ast.Power) and node.exponent == 2
    node = parse_text("z = x^{-1}").statements[0].rhs.terms[0][1].items[0][1]
    assert isinstance(node, ast.Power) and node.exponent == -1
    node = parse_text("z = ^n(x)_d^2").statements[0].rhs.terms[0][1].items[0][1]
    assert isinstance(node, ast.Power)


@pytest.mark.parametrize(("text", "exponent"), [
    ("x^{1/2}", Fraction(1, 2)), ("x^{-3/2}", Fraction(-3, 2)), ("x^{0.5}", Fraction(1, 2)),
    ("x^{2/4}", Fraction(1, 2)), ("x^{1.5/3}", Fraction(1, 2)),
])
def test_a_power_may_be_a_fraction(text: str, exponent: Fraction) -> None:
    """Fractional powers render as p/q (x^{1/2}, never x^{0.5}), so they must read back."""
    node = parse_text(f"z = {text}").statements[0].rhs.terms[0][1].items[0][1]
    assert isinstance(node, ast.Power) and node.exponent == exponent


@pytest.mark.parametrize(("text", "says"), [
    ("z = x^{1/0}", "division by zero"), ("z = x^{1/y}", "expected a number after '/'"),
    ("z = x^{1/2", "expected '}' to close the power"),
])
def test_a_bad_fractional_power_names_its_fault(text: str, says: str) -> None:
    with pytest.raises(ProgramSyntaxError, match=re.escape(says)):
        parse_text(text)


def test_sum_spellings() -> None:
    for text in ("z = sum_n x^n", "z = Σ_n x^n", r"z = \sum_n x^n", "z = ∑_n x^n"):
        node = parse_text(text).statements[0].rhs.terms[0][1].items[0][1]
        assert isinstance(node, ast.SumOver) and node.indices[0].letter == "n"


def test_derivatives_and_claims_are_read() -> None:
    for text in ("dL/dW^d_h", "∂L/∂W^d_h", "dL/d(W)^d_h", "dL/d^d(W)_h",
                 r"\frac{\partial L}{\partial (W)^d_h}"):
        node = parse_text(f"z^d_h = {text}").statements[0].rhs.terms[0][1].items[0][1]
        assert isinstance(node, ast.Deriv), text
        assert node.of == "L" and layout(node.wrt) == ("W", "d", "h", None, False)
    claim = parse_text("claim dL/dW2^h_k = x2ᵀ_n^h delta2^n_k").statements[0]
    assert isinstance(claim, ast.Claim) and claim.lhs.wrt.name == "W2"


def test_declarations() -> None:
    statements = parse_text(
        "input x^n_d, y^n_k : onehot(k)\nparam s : positive, u^i : uniform(-1, 1)\n"
        "const lambda = 0.01, mu = -2\nact f = sigmoid, g_ℓ = softmax[k]\nsize n=6, d=5"
    ).statements
    kinds = [type(s).__name__ for s in statements]
    assert kinds == ["Decl", "Decl", "Decl", "Decl", "ConstDecl", "ConstDecl", "FunctionDecl",
                     "FunctionDecl", "SizeDecl"]
    assert statements[0].domain is None and statements[1].domain.kind == "onehot"
    assert statements[3].domain.args == (-1, 1)
    assert statements[5].value == -2


def test_keywords_only_start_declarations() -> None:
    program = parse("size = 3\ninput^n = size x^n")
    assert [eq.target.name for eq in program.equations] == ["size", "input"]


# -- errors -------------------------------------------------------------------------------------


def syntax_error(text: str) -> ProgramSyntaxError:
    with pytest.raises(ProgramSyntaxError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, FormulaSyntaxError) and isinstance(err, IndexnetError)
    assert err.line >= 1 and err.column >= 1
    return err


def test_one_index_after_caret() -> None:
    err = syntax_error("a = x^nd")
    assert err.message == "one index after ^; write x^{nd} for two"
    assert (err.line, err.column) == (1, 8)
    assert str(err).splitlines() == [
        "line 1, column 8: one index after ^; write x^{nd} for two",
        "  a = x^nd",
        "         ^",
    ]
    assert syntax_error("a = W_hdk").message == "one index after _; write W_{hdk} for three"


def test_errors_point_at_their_line() -> None:
    err = syntax_error("input x^n\n\nb = x^n +\n")
    assert err.line == 3 and "expected a term" in err.message
    assert "b = x^n +" in str(err)


@pytest.mark.parametrize(("text", "needle"), [
    ("a = x^n €", "unexpected character '€'"),
    ("a = (x^n", "expected ')' to close the '('"),
    ("a = x^n)", "unmatched ')'"),
    ("a x^n", "expected '=' after the left-hand side"),
    ("a = x = y", "a second '='"),
    ("a = sum x", "a sum takes its index after _"),
    ("a = sum_n", "expected what sum_n sums"),
    ("a = x^23", "one digit after ^; write x^{23}"),
    ("a = x_ℓ", "a layer label such as ℓ belongs inside the parentheses"),
    ("a = x_1", "_ takes an index letter"),
    ("a = x^{}", "empty index group"),
    ("a = x^{n2}", "'2' is not an index"),
    ("a = exp", "exp needs an argument"),
    ("a = f'", "expected '(' after f'"),
    ("a = x * * y", "expected a factor before '*'"),
    ("a = x /", "expected a factor after '/'"),
    ("a = x^T^T", "transposed twice"),
    ("a = ^n (x)", "a pre-script must touch its '('"),
    ("a = ^n + x", "these indices belong to no tensor"),
    ("a = (x + y)_h", "_ attaches indices to a tensor"),
    ("a = x^2^n", "indices come before a power"),
    ("a = x'", "a prime ' marks a function's derivative"),
    ("a = ^n(x + y)", "inside the parentheses of a tensor stand its name"),
    ("sigmoid^n = x^n", "sigmoid is a function, not a tensor"),
    ("dL/dW = x", "a derivative cannot be defined by an equation"),
    ("claim W = x", "claim states a derivative"),
    ("2 = x", "the left-hand side must be a tensor"),
    ("input 2", "input takes tensors"),
    ("const lambda", "expected '=' after lambda"),
    ("const lambda = x", "the value of lambda must be a number"),
    ("size n=2.5", "the size of n must be a whole number"),
    ("size nd=2", "size takes index letters"),
    ("act f = foo", "act names a built-in function"),
    ("input x^n : gaussian", "expected a domain"),
    ("input x^n : onehot(2)", "takes one index letter"),
    ("input x^n : uniform(0)", "uniform takes two numbers"),
    ("a = \\foo x", "unknown command \\foo"),
    ("a = \\hat{}", "is empty"),
    ("a = softmax[kk](x)", "expected one index letter in […]"),
    ("a = x ᵀ", "a transpose mark ᵀ follows a tensor name directly"),
])
def test_syntax_errors_say_what_was_expected(text: str, needle: str) -> None:
    assert needle in syntax_error(text).message


def test_deep_nesting_is_a_clean_error() -> None:
    err = syntax_error("a = " + "(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5))
    assert "nested more than" in err.message
    parse("a = " + "(" * (MAX_DEPTH // 2) + "x" + ")" * (MAX_DEPTH // 2))


def test_not_text_is_an_error() -> None:
    with pytest.raises(ProgramSyntaxError):
        parse(b"a = x")  # type: ignore[arg-type]


def test_errors_pickle_with_their_position() -> None:
    import pickle

    err = syntax_error("a = x^nd")
    again = pickle.loads(pickle.dumps(err))
    assert (again.line, again.column, str(again)) == (err.line, err.column, str(err))


@pytest.mark.parametrize(("text", "message"), [
    ("y = " + "9" * 5000 + " x", "out of range (at most 300 digits"),
    ("y = 1e" + "9" * 5000 + " x", "out of range (at most 300 digits"),
    ("size n=" + "9" * 5000, "the size of n is out of range"),
])
def test_huge_numbers_are_refused_before_python_reads_them(text: str, message: str) -> None:
    # Python refuses to read an int of more than 4300 digits; the language refuses first
    with pytest.raises(ProgramSyntaxError) as err:
        parse(text)
    assert message in err.value.message and err.value.line == 1
