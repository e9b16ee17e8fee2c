"""Program: evaluation through plans made once, sizes, random inputs, every example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import indexnet.evaluate.execute
from indexnet.errors import InvalidArgumentError, ProgramError
from indexnet.program import Program, parse

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.ix"))

NETWORK = """
input x^n_d
input y^n_k : onehot(k)
param W1^d_h, b1_h, W2^h_k, b2_k
const lambda = 0.01
act f = sigmoid
a1^n_h = x^n_d W1^d_h + b1_h
x2^n_h = f(a1^n_h)
a2^n_k = x2^n_h W2^h_k + b2_k
yhat^n_k = softmax[k](a2^n_k)
L = -sum_{nk} y^n_k log(yhat^n_k) + lambda/2 (sum_{dh} W1^d_h W1^d_h + sum_{hk} W2^h_k W2^h_k)
"""


def reference(x, y, W1, b1, W2, b2):
    a1 = x @ W1 + b1
    x2 = 1 / (1 + np.exp(-a1))
    a2 = x2 @ W2 + b2
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    yhat = e / e.sum(axis=1, keepdims=True)
    loss = -np.sum(y * np.log(yhat)) + 0.005 * (np.sum(W1**2) + np.sum(W2**2))
    return {"a1": a1, "x2": x2, "a2": a2, "yhat": yhat, "L": loss}


def test_evaluate_equals_the_explicit_formulas() -> None:
    program = parse(NETWORK)
    arrays = program.random_inputs({"n": 7, "d": 5, "h": 4, "k": 3}, seed=3)
    got = program.evaluate(**arrays)
    want = reference(**arrays)
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, err_msg=key)


def test_the_network_matches_indexnet_network() -> None:
    from indexnet import Network

    net = Network((5, 4, 3), l2=0.01, seed=1)
    program = parse(NETWORK)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 5)), np.eye(3)[[0, 1, 2, 0, 1, 2]]
    out = program.evaluate(x=x, y=y, **net.parameters())
    np.testing.assert_allclose(out["yhat"], net.forward(x))


def test_plans_are_made_once_per_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = indexnet.evaluate.execute.plan

    def counting(subscripts, *shapes, **kwargs):
        calls.append(subscripts)
        return real(subscripts, *shapes, **kwargs)

    monkeypatch.setattr(indexnet.evaluate.execute, "plan", counting)
    program = parse(NETWORK)
    arrays = program.random_inputs()
    program.evaluate(**arrays)
    planned = len(calls)
    assert planned == len(program.einsums())
    for _ in range(3):
        program.evaluate(**arrays)
    assert len(calls) == planned  # called, never planned again
    program.evaluate(**program.random_inputs({"n": 11}))
    assert len(calls) == 2 * planned  # a new batch size is planned once


def test_results_are_fresh_arrays_and_inputs_are_untouched() -> None:
    program = parse("input x^n\ny^n = x^n\nz^n = sigmoid(y^n)")
    x = np.linspace(-1, 1, 4)
    before = x.copy()
    out = program.evaluate(x=x)
    assert not np.shares_memory(out["y"], x)
    np.testing.assert_array_equal(x, before)


def test_float32_stays_float32() -> None:
    program = parse(NETWORK)
    arrays = {k: v.astype(np.float32) for k, v in program.random_inputs().items()}
    out = program.evaluate(**arrays)
    assert out["a1"].dtype == np.float32 and out["yhat"].dtype == np.float32


def test_evaluate_names_missing_and_unknown_arrays() -> None:
    program = parse("input x^n_d\nparam w^d\ny^n = x^n_d w^d")
    with pytest.raises(ProgramError) as info:
        program.evaluate(x=np.ones((2, 3)))
    assert "no array for param 'w'" in info.value.message and info.value.line == 2
    with pytest.raises(InvalidArgumentError, match="'q' is not an input of this program; "
                                                   "inputs: x, w"):
        program.evaluate(x=np.ones((2, 3)), w=np.ones(3), q=1)


def test_random_inputs_follow_the_domains() -> None:
    program = parse("input y^n_k : onehot(k), p^n_k : simplex(k), s : positive\n"
                    "input u^n : uniform(-2, -1), z^n\nsize n=50, k=4\nt = s")
    xs = program.random_inputs(seed=1)
    assert xs["y"].shape == (50, 4)
    np.testing.assert_array_equal(xs["y"].sum(axis=1), 1)
    assert set(np.unique(xs["y"])) <= {0.0, 1.0}
    np.testing.assert_allclose(xs["p"].sum(axis=1), 1)
    assert (xs["p"] > 0).all() and float(xs["s"]) > 0
    assert (xs["u"] >= -2).all() and (xs["u"] < -1).all()
    assert np.array_equal(program.random_inputs(seed=1)["z"], xs["z"])


def test_default_sizes_are_small_and_distinct() -> None:
    program = parse("a^n_h = x^n_d W^d_h")
    sizes = program.index_sizes(defaults=True)
    assert len(set(sizes.values())) == 3 and max(sizes.values()) < 10


def test_einsums_list_every_product_with_its_equation() -> None:
    program = parse(NETWORK)
    listed = program.einsums()
    assert [e for e, _ in listed] == ["nd,dh->nh", "nh,hk->nk", "nk,nk->", "dh,dh->", "hk,hk->"]
    assert [eq.line for _, eq in listed] == [7, 9, 11, 11, 11]


def test_plans_at_given_sizes() -> None:
    program = parse("a^n_h = x^n_d W^d_h")
    ((einsum, eq, plan),) = program.plans({"n": 256, "d": 784, "h": 256})
    assert einsum == "nd,dh->nh" and eq is program.equations[0]
    assert plan.flops == 2 * 256 * 784 * 256


def test_programs_compare_by_meaning() -> None:
    compact = parse("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h")
    document = parse("input ^n(x)_d\nparam (W)_h^d\n^n(a)_h = ^n(x)_d \\cdot (W)^d_h")
    assert compact == document and hash(compact) == hash(document)
    assert compact != parse("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h + 1")
    assert repr(compact) == "Program(1 equation; inputs x; params W)"


def test_latex_for_jupyter() -> None:
    program = parse(NETWORK)
    latex = program._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert latex.count("{") == latex.count("}")
    assert program.equations[0]._repr_latex_().startswith("$$")


def test_undeclared_functions_cannot_be_evaluated() -> None:
    program = parse("y^n = f(x^n)")
    with pytest.raises(ProgramError, match="function f is not declared"):
        program.evaluate(x=np.ones(2))


#: Examples whose claims the strict variance lint flags, by design: a Hessian XᵀSX with a
#: diagonal S sums n over three factors.
NOT_EINSTEIN = {"newton_logistic.ix": [
    "n occurs 3 times (Xᵀ_n^d, s^n, Xᵀ_n^e) and is summed"]}
#: Examples whose claims read windows (index arithmetic), which no transpose turns around:
#: the lint flags the claims' positions; the equations keep to the rules.
CLAIMS_NOT_EINSTEIN = {"conv1d.ix", "conv2d.ix", "maxpool.ix"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_evaluates(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name in NOT_EINSTEIN:  # the one warning it has, and no other
        assert [w.message.split(";")[0] for w in parse(text).warnings] == NOT_EINSTEIN[path.name]
    if path.name in NOT_EINSTEIN or path.name in CLAIMS_NOT_EINSTEIN:
        claims = {n for n, line in enumerate(text.splitlines(), 1) if line.startswith("claim")}
        assert {w.line for w in parse(text).warnings} <= claims
        text = "\n".join(line for line in text.splitlines() if not line.startswith("claim"))
    program = parse(text, strict=True)
    assert isinstance(program, Program) and program.equations
    out = program.evaluate(**program.random_inputs(seed=0))
    assert list(out) == list(program.defined)
    for key, value in out.items():
        assert np.all(np.isfinite(value)), key
    assert parse(program.render("compact")) == program
    assert parse(program.render("document")) == program


def test_examples_compute_what_they_say() -> None:
    root = Path(__file__).parent.parent / "examples"
    ids = parse((root / "identities.ix").read_text(encoding="utf-8"))
    xs = ids.random_inputs(seed=2)
    out = ids.evaluate(**xs)
    a, b, u, v, s = xs["A"], xs["B"], xs["u"], xs["v"], xs["s"]
    np.testing.assert_allclose(out["tr"], np.trace(a))
    np.testing.assert_allclose(out["diag"], np.diag(a))
    np.testing.assert_allclose(out["AB"], a @ b)
    np.testing.assert_allclose(out["Atu"], a.T @ u)
    np.testing.assert_allclose(out["quad"], v @ a @ u)
    np.testing.assert_allclose(out["outer"], np.outer(u, v))
    np.testing.assert_allclose(out["frob"], np.sum(a * a))
    np.testing.assert_allclose(out["had"], a * a.T)
    np.testing.assert_allclose(out["delta"], np.trace(a))
    np.testing.assert_allclose(out["scaled"], s * a / 2)

    att = parse((root / "attention.ix").read_text(encoding="utf-8"))
    xs = att.random_inputs(seed=0)
    out = att.evaluate(**xs)
    scores = xs["Q"] @ xs["K"].T / 2
    weights = np.exp(scores - scores.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    np.testing.assert_allclose(out["O"], weights @ xs["V"])

    rnn = parse((root / "rnn_cell.ix").read_text(encoding="utf-8"))
    xs = rnn.random_inputs(seed=0)
    np.testing.assert_allclose(rnn.evaluate(**xs)["hnew"],
                               np.tanh(xs["x"] @ xs["U"] + xs["h"] @ xs["W"] + xs["b"]))


# -- the layout issue's fixes: compiled shapes, optimize=, bounded cache, internal errors --

CHAIN = "input x^n_d\nparam A^d_h, B^h_k\ny^n_k = x^n_d A^d_h B^h_k"


def test_compiled_checks_its_input_shapes() -> None:
    from indexnet.errors import ProgramSizeError

    program = parse("input x^n_d\nparam W^d_h\na^n_h = x^n_d W^d_h")
    compiled = program.compile({"x": (2, 3), "W": (3, 4)})
    compiled({"x": np.ones((2, 3)), "W": np.ones((3, 4))})
    with pytest.raises(ProgramSizeError, match=r"array 'x' has shape \(5, 3\).*\(2, 3\)") as err:
        compiled({"x": np.ones((5, 3)), "W": np.ones((3, 4))})
    assert err.value.line == 1


@pytest.mark.parametrize("optimize", ["greedy", "optimal", "naive", "dp"])
def test_evaluate_runs_the_plans_that_plans_reports(optimize: str) -> None:
    program = parse(CHAIN)
    sizes = {"n": 50, "d": 2, "h": 40, "k": 3}
    arrays = program.random_inputs(sizes, seed=1)
    reported = [p for _, _, p in program.plans(sizes, optimize=optimize)]
    compiled = program.compile({k: v.shape for k, v in arrays.items()}, optimize=optimize)
    assert [(p.optimize, p.path) for p in compiled.plans] == \
        [(p.optimize, p.path) for p in reported]
    got = program.evaluate(optimize=optimize, **arrays)["y"]
    np.testing.assert_allclose(got, arrays["x"] @ arrays["A"] @ arrays["B"], rtol=1e-12)


def test_evaluate_rejects_an_unknown_optimizer() -> None:
    program = parse(CHAIN)
    with pytest.raises(InvalidArgumentError, match="unknown optimizer 'fastest'"):
        program.evaluate(optimize="fastest", **program.random_inputs())  # type: ignore[arg-type]


def test_the_compiled_cache_is_bounded() -> None:
    program = parse("input x^n\ns = sum_n x^n")
    for n in range(1, 3 * Program.CACHE_SIZE):
        assert program.evaluate(x=np.ones(n))["s"] == n
    assert len(program._compiled) == Program.CACHE_SIZE
    assert len(program._warm) <= Program.CACHE_SIZE


def test_a_remembered_call_runs_the_compiled_program_unchecked_and_still_checks_others() -> None:
    program = parse("input A^i_j, B^j_k\ny^i_k = A^i_j B^j_k\ns = sum_{ik} y^i_k")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    program.evaluate(A=a, B=b)
    assert len(program._warm) == 1  # float64 NumPy arrays used as given: remembered
    a2, b2 = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    out = program.evaluate(A=a2, B=b2)
    np.testing.assert_allclose(out["y"], a2 @ b2, rtol=1e-12)
    np.testing.assert_allclose(out["s"], (a2 @ b2).sum(), rtol=1e-12)
    assert list(out) == ["y", "s"]
    with pytest.raises(ProgramError, match="index 'j' has size 5 in A"):  # checked again
        program.evaluate(A=np.ones((2, 5)), B=b2)
    ints = program.evaluate(A=np.ones((2, 3), dtype=int), B=np.ones((3, 4), dtype=int))
    assert ints["y"].dtype == np.float64 and float(ints["s"]) == 24.0
    assert len(program._warm) == 1  # integers were converted: not remembered
    lists = program.evaluate(A=a2.tolist(), B=b2)
    np.testing.assert_allclose(lists["y"], a2 @ b2, rtol=1e-12)


def test_a_remembered_call_keeps_its_compiled_form_recent() -> None:
    program = parse("input x^n\ns = sum_n x^n")
    hot = np.ones(1)
    program.evaluate(x=hot)
    (signature, compiled), = program._compiled.items()
    for n in range(2, 3 * Program.CACHE_SIZE):  # new shapes between remembered hot calls
        program.evaluate(x=np.ones(n))
        assert program.evaluate(x=hot)["s"] == 1.0
    assert program._compiled[signature] is compiled  # never evicted, never compiled again
    assert len(program._warm) <= Program.CACHE_SIZE


def test_a_remembered_call_still_refuses_an_optimize_equal_to_a_valid_one() -> None:
    program = parse("y^i_k = A^i_j B^j_k")
    a, b = np.ones((2, 3)), np.ones((3, 4))
    assert program.evaluate(A=a, B=b, optimize=True)["y"].sum() == 24.0
    with pytest.raises(InvalidArgumentError, match="not 1"):  # 1 == True, but not an optimizer
        program.evaluate(A=a, B=b, optimize=1)  # type: ignore[arg-type]


def test_a_remembered_augmented_program_returns_only_its_own_tensors() -> None:
    program = parse("input x^n_d\nparam w^d\ny^n = x^n_d w^d\nL = sum_n y^n y^n\n"
                    "g^d = dL/dw^d")
    arrays = program.random_inputs({"n": 3, "d": 2}, seed=0)
    first = program.evaluate(**arrays)
    second = program.evaluate(**arrays)  # remembered
    assert list(first) == list(second) == ["y", "L", "g"]
    np.testing.assert_allclose(second["g"], 2 * arrays["x"].T @ (arrays["x"] @ arrays["w"]),
                               rtol=1e-12)


def test_a_remembered_call_contracts_products_of_two_tensors_through_their_kernels() -> None:
    program = parse("input A^i_j, B^j_k, C^k_l\ny^i_k = A^i_j B^j_k\nz^i_l = y^i_k C^k_l\n"
                    "t_k^i = A^i_j B^j_k\nu^i_l = 2 y^i_k C^k_l\nv^{ikm} = A^i_j B^j_k\nsize m=2")
    rng = np.random.default_rng(1)
    arrays = {k: rng.standard_normal(s) for k, s in (("A", (2, 3)), ("B", (3, 4)), ("C", (4, 5)))}
    given = dict(arrays)
    first = program.evaluate(**arrays)
    (compiled,) = program._compiled.values()
    direct = {key for key, _, pair in compiled.known_steps if pair is not None}
    assert direct == {"y", "z", "t"}  # u is scaled, v broadcast over m: through their nodes
    second = program.evaluate(**arrays)  # remembered: y, z, t straight through their kernels
    a, b, c = arrays["A"], arrays["B"], arrays["C"]
    want = {"y": a @ b, "z": a @ b @ c, "t": a @ b, "u": 2 * a @ b @ c,  # t stored as (i, k)
            "v": np.repeat((a @ b)[:, :, None], 2, axis=2)}
    for key in want:
        np.testing.assert_allclose(second[key], want[key], rtol=1e-12)
        np.testing.assert_array_equal(second[key], first[key])
        assert second[key].shape == want[key].shape
        assert not any(np.shares_memory(second[key], v) for v in (*arrays.values(), first[key]))
    assert arrays == given and list(arrays) == ["A", "B", "C"]  # the caller's dict untouched


def test_a_remembered_call_reports_an_unexpected_failure_as_internal() -> None:
    from indexnet.errors import InternalError

    program = parse("y^i_k = A^i_j B^j_k")
    a, b = np.ones((2, 3)), np.ones((3, 4))
    program.evaluate(A=a, B=b)
    (key,) = program._warm  # the remembered call
    signature, compiled, own = program._warm[key]

    def broken(env):
        raise ZeroDivisionError("boom")

    compiled.__dict__["run_known"] = broken  # what run_known's cache would hold
    assert program._warm[key] == (signature, compiled, own)
    with pytest.raises(InternalError, match="evaluating a program: ZeroDivisionError") as err:
        program.evaluate(A=a, B=b)
    assert isinstance(err.value.__cause__, ZeroDivisionError)


def test_unexpected_failures_are_internal_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import indexnet.program as program_module
    from indexnet.errors import InternalError

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    program = parse(CHAIN)
    scalar = parse(CHAIN + "\nL = sum_{nk} y^n_k")
    monkeypatch.setattr(program_module, "read", broken)
    with pytest.raises(InternalError, match="internal error, please report: reading a program: "
                       "ZeroDivisionError: boom") as err:
        parse(CHAIN)
    assert isinstance(err.value.__cause__, ZeroDivisionError)
    monkeypatch.setattr(program_module, "derive", broken)
    with pytest.raises(InternalError, match="deriving a program"):
        scalar.derive()
    monkeypatch.setattr(program_module, "check", broken)
    with pytest.raises(InternalError, match="checking the claims"):
        program.check()
    monkeypatch.setattr(program_module.Compiled, "__call__", broken)
    with pytest.raises(InternalError, match="evaluating a program"):
        program.evaluate(**program.random_inputs())


def test_indexnet_errors_pass_through_unwrapped() -> None:
    with pytest.raises(ProgramError) as err:
        parse("a^n = x^n +")
    assert type(err.value).__name__ == "ProgramSyntaxError"
