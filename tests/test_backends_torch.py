"""torch tensors all the way through: evaluate, derived programs and vjp, against torch.autograd.

Every gradient indexnet computes on torch tensors (a derived program's
``dL/dX``, :func:`indexnet.vjp`) is held against ``torch.autograd``'s, and
every result is a tensor of the caller's dtype and device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")

from indexnet.einsum.vjp import vjp  # noqa: E402
from indexnet.errors import ArrayLibraryError, InvalidArgumentError  # noqa: E402
from indexnet.ir.elementwise import FUNCTIONS, apply  # noqa: E402
from indexnet.program import parse  # noqa: E402
from indexnet.strategies import einsum_problems  # noqa: E402

SEED = Path(__file__).parent.parent / "examples" / "seed.ix"


@pytest.fixture(scope="module")
def seed() -> Any:
    return parse(SEED.read_text())


@pytest.fixture(scope="module")
def derived(seed: Any) -> Any:
    return seed.derive()


def tensors(arrays: dict[str, np.ndarray], **kwargs: Any) -> dict[str, Any]:
    return {k: torch.tensor(v, **kwargs) for k, v in arrays.items()}


def test_evaluate_returns_tensors_equal_to_numpy(seed: Any) -> None:
    xs = seed.random_inputs({"n": 16})
    expected = seed.evaluate(**xs)
    out = seed.evaluate(**tensors(xs))
    assert list(out) == list(expected)
    for key, value in out.items():
        assert isinstance(value, torch.Tensor), key
        assert value.dtype == torch.float64 and value.device.type == "cpu"
        np.testing.assert_allclose(value.numpy(), expected[key], rtol=1e-12, atol=1e-14)


def test_float32_stays_float32(seed: Any) -> None:
    xs = seed.random_inputs({"n": 4}, dtype="float32")
    out = seed.derive().evaluate(**tensors(xs))
    assert {v.dtype for v in out.values()} == {torch.float32}


@pytest.mark.parametrize("n", [1, 8, 33])
def test_seed_gradients_equal_torch_autograd(seed: Any, derived: Any, n: int) -> None:
    """The derived program on tensors equals autograd through a hand-written torch forward."""
    xs = seed.random_inputs({"n": n}, seed=n)
    params = {k: torch.tensor(xs[k], requires_grad=True) for k in seed.params}
    x, y = torch.tensor(xs["x_ℓ-1"]), torch.tensor(xs["y"])
    hidden = torch.sigmoid(x @ params["w_ℓ-1"] + params["b_ℓ-1"])
    yhat = torch.softmax(hidden @ params["w_ℓ"] + params["b_ℓ"], dim=1)
    loss = -(y * torch.log(yhat)).sum() + 0.01 / 2 * (
        (params["w_ℓ"] ** 2).sum() + (params["w_ℓ-1"] ** 2).sum())
    loss.backward()
    out = derived.evaluate(**tensors(xs))
    torch.testing.assert_close(out["L"], loss.detach(), rtol=1e-12, atol=1e-12)
    for key, param in params.items():
        torch.testing.assert_close(out[f"dL/d{key}"], param.grad, rtol=1e-10, atol=1e-12)


def test_autograd_through_evaluate_equals_derived(seed: Any, derived: Any) -> None:
    """torch.autograd can differentiate indexnet's own forward: nothing left torch."""
    xs = seed.random_inputs({"n": 8}, seed=3)
    inputs = tensors(xs)
    for key in seed.params:
        inputs[key].requires_grad_(True)
    seed.evaluate(**inputs)["L"].backward()
    out = derived.evaluate(**tensors(xs))
    for key in seed.params:
        torch.testing.assert_close(out[f"dL/d{key}"], inputs[key].grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("path", sorted(SEED.parent.glob("*.ix")), ids=lambda p: p.stem)
def test_every_example_and_its_derivatives_on_tensors(path: Path) -> None:
    program = parse(path.read_text())
    xs = program.random_inputs()
    programs = [program, program.derive()] if program.params else [program]
    for each in programs:
        expected = each.evaluate(**xs)
        out = each.evaluate(**tensors(xs))
        for key, value in expected.items():
            assert isinstance(out[key], torch.Tensor), key
            np.testing.assert_allclose(out[key].numpy(), value, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(problem=einsum_problems(max_operands=3, max_dims=3, max_side=3, allow_size_zero=False),
       seed=st.integers(0, 2**16))
def test_vjp_equals_torch_autograd(problem: tuple[str, list[np.ndarray]], seed: int) -> None:
    subscripts, operands = problem
    leaves = [torch.tensor(a, requires_grad=True) for a in operands]
    out = torch.einsum(subscripts, *leaves)
    g = torch.tensor(np.random.default_rng(seed).uniform(-2, 2, tuple(out.shape)))
    out.backward(g)
    grads = vjp(subscripts, *[t.detach() for t in leaves], cotangent=g)
    expected = vjp(subscripts, *operands, cotangent=g.numpy())
    for leaf, grad, reference in zip(leaves, grads, expected):
        assert isinstance(grad, torch.Tensor) and grad.shape == leaf.shape
        torch.testing.assert_close(grad, leaf.grad, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(grad.numpy(), reference, rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(problem=einsum_problems(max_operands=4, max_dims=3, max_side=3, allow_size_zero=False),
       seed=st.integers(0, 2**16), wrt=st.sampled_from([None, 0, -1]))
def test_value_and_grad_reverse_accumulates_on_tensors(
    problem: tuple[str, list[np.ndarray]], seed: int, wrt: Any,
) -> None:
    """Tensors go through the plan's tree as NumPy's arrays do: no einsum per operand."""
    import indexnet.einsum.backprop as backprop

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("one einsum per operand: not reverse accumulation")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backprop, "per_operand_gradients", refused)
        _value_and_grad_equals_autograd(problem, seed, wrt)


def _value_and_grad_equals_autograd(problem: tuple[str, list[np.ndarray]], seed: int,
                                    wrt: Any) -> None:
    from indexnet.einsum import backprop

    subscripts, operands = problem
    leaves = [torch.tensor(a, requires_grad=True) for a in operands]
    out = torch.einsum(subscripts, *leaves)
    g = torch.tensor(np.random.default_rng(seed).uniform(-2, 2, tuple(out.shape)))
    out.backward(g)
    chosen = backprop.normalize_wrt(wrt, len(operands))
    plain = [t.detach() for t in leaves]
    value, grads = backprop.value_and_grad(subscripts, *plain, cotangent=g, wrt=wrt)
    torch.testing.assert_close(value, out.detach(), rtol=1e-10, atol=1e-12)
    again, pullback = backprop.value_and_vjp(subscripts, *plain, wrt=wrt)
    torch.testing.assert_close(again, value, rtol=0, atol=0)  # the same tree, the same value
    for got in (grads, pullback(g)):
        assert len(got) == len(chosen)
        for k, grad in zip(chosen, got, strict=True):
            assert isinstance(grad, torch.Tensor) and grad.dtype == torch.float64
            torch.testing.assert_close(grad, leaves[k].grad, rtol=1e-10, atol=1e-12)
            assert all(grad.untyped_storage().data_ptr() != t.untyped_storage().data_ptr()
                       for t in (*plain, g) if t.numel())  # fresh: no view of an input


def test_a_pullback_of_tensors_refuses_a_numpy_cotangent() -> None:
    from indexnet.einsum.backprop import value_and_vjp

    _, pullback = value_and_vjp("ij,jk->ik", torch.ones(2, 3), torch.ones(3, 4))
    with pytest.raises(ArrayLibraryError, match=r"torch.*numpy"):
        pullback(np.ones((2, 4), dtype=np.float32))


def test_tensors_of_two_dtypes_are_promoted_as_numpy_promotes() -> None:
    """torch refuses float32 beside float64 in one product; indexnet casts first."""
    import indexnet

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((3, 4))
    g = rng.standard_normal((2, 4)).astype(np.float32)
    out = indexnet.contract("ij,jk->ik", torch.tensor(a), torch.tensor(b))
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), a.astype(np.float64) @ b, rtol=1e-12)
    grads = vjp("ij,jk->ik", torch.tensor(a), torch.tensor(b), cotangent=torch.tensor(g))
    for grad, want in zip(grads, (g @ b.T, a.T.astype(np.float64) @ g), strict=True):
        assert grad.dtype == torch.float64
        np.testing.assert_allclose(grad.numpy(), want, rtol=1e-6)


def test_a_wider_cotangent_widens_the_gradients_as_numpy_does() -> None:
    """Integers weighed by floats give float gradients (never truncated to zero), float32
    operands weighed in float64 give float64, before and after a pullback's forward pass."""
    from indexnet.einsum.backprop import value_and_vjp

    x, y = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    half = np.full((2, 4), 0.5)
    for g in (torch.tensor(half), half.tolist()):  # a tensor, and a list (weak, as a number)
        grads = vjp("ij,jk->ik", torch.tensor(x), torch.tensor(y), cotangent=g)
        want = vjp("ij,jk->ik", x, y, cotangent=half)
        for grad, expected in zip(grads, want, strict=True):
            assert grad.dtype.is_floating_point
            np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-6)
    a32 = torch.tensor(np.arange(6.0).reshape(2, 3), dtype=torch.float32)
    b32 = torch.tensor(np.arange(12.0).reshape(3, 4), dtype=torch.float32)
    _, pullback = value_and_vjp("ij,jk,kl->il", a32, b32, torch.ones(4, 2))
    grads = pullback(torch.full((2, 2), 1 / 3, dtype=torch.float64))
    assert [grad.dtype for grad in grads] == [torch.float64] * 3


def test_gradients_under_torch_func_transforms() -> None:
    """vmap's and grad's tensors have no storage to compare: gradients are copied, not refused."""
    b, g = torch.randn(3, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    xs = torch.randn(5, 2, 3, dtype=torch.float64)
    batched = torch.func.vmap(lambda x: vjp("ij,jk->ik", x, b, cotangent=g)[1])(xs)
    assert batched.shape == (5, 3, 4)
    for x, grad in zip(xs, batched, strict=True):
        torch.testing.assert_close(grad, x.T @ g)


def test_vjp_of_a_diagonal_and_a_broadcast() -> None:
    a = torch.randn(3, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, 4, dtype=torch.float64, requires_grad=True)
    c = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    for subscripts, ops in (("iij->j", [a]), ("ij,kj->ik", [b, c])):
        out = torch.einsum(subscripts, *ops)
        g = torch.randn_like(out)
        out.backward(g)
        grads = vjp(subscripts, *[t.detach() for t in ops], cotangent=g)
        for t, grad in zip(ops, grads):
            torch.testing.assert_close(grad, t.grad)


@pytest.mark.parametrize("name", sorted(n for n, f in FUNCTIONS.items() if not f.matrix))
def test_every_function_on_tensors_equals_numpy(name: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 2.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
    if name in ("log", "sqrt"):
        x = np.abs(x)
    f = FUNCTIONS[name]
    axis = 1 if f.indexed else None
    for primes in range(2 if f.differentiable else 1):
        args = [np.abs(x), np.abs(x)] if f.arity == 2 else [x]
        expected = apply(name, primes, [a.copy() for a in args], axis=axis)
        got = apply(name, primes, [torch.tensor(a) for a in args], axis=axis)
        assert isinstance(got, torch.Tensor)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-14)


def test_matrix_functions_on_tensors() -> None:
    program = parse("input A^i_j\nB^i_j = inv(A^i_j)\nC^i_j = inv(A^j_i + 2 eye^i_j)\n"
                    "d = det(A^i_j)\nl = logdet(A^i_j)")
    a = np.array([[2.0, 1.0], [0.5, -3.0]])
    expected = program.evaluate(A=a)
    out = program.evaluate(A=torch.tensor(a))
    for key in expected:
        assert isinstance(out[key], torch.Tensor)
        np.testing.assert_allclose(out[key].numpy(), expected[key], rtol=1e-12)


def test_integer_tensors_become_the_default_float() -> None:
    out = parse("a^n = x^n + 1").evaluate(x=torch.arange(3))
    assert out["a"].dtype == torch.get_default_dtype()
    assert out["a"].tolist() == [1.0, 2.0, 3.0]


def test_lists_beside_tensors_take_their_library() -> None:
    out = parse("a^n_h = x^n_d W^d_h").evaluate(x=torch.ones(2, 3), W=[[1.0]] * 3)
    assert isinstance(out["a"], torch.Tensor) and out["a"].dtype == torch.float32


def test_mixing_numpy_and_torch_names_both() -> None:
    program = parse("a^n_h = x^n_d W^d_h")
    with pytest.raises(ArrayLibraryError, match=r"'x' is a torch array but 'W' is a numpy"):
        program.evaluate(x=torch.ones(2, 3), W=np.ones((3, 4)))
    with pytest.raises(ArrayLibraryError, match=r"numpy.*torch"):
        vjp("nd,dh->nh", np.ones((2, 3)), torch.ones(3, 4), cotangent=np.ones((2, 4)))
    assert issubclass(ArrayLibraryError, InvalidArgumentError)


def test_complex_tensors_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="complex"):
        parse("a^n = x^n").evaluate(x=torch.ones(2, dtype=torch.complex64))


def test_results_are_not_the_callers_tensors() -> None:
    x = torch.ones(3)
    out = parse("a^n = x^n").evaluate(x=x)
    assert out["a"] is not x and out["a"].data_ptr() != x.data_ptr()


def test_a_shape_mismatch_after_compiling_is_typed(seed: Any) -> None:
    xs = tensors(seed.random_inputs({"n": 4}))
    seed.evaluate(**xs)
    xs["w_ℓ"] = torch.ones(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError):
        seed.evaluate(**xs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_stay_on_the_device(seed: Any) -> None:  # pragma: no cover - GPU only
    xs = tensors(seed.random_inputs({"n": 8}), device="cuda")
    out = seed.derive().evaluate(**xs)
    assert {v.device.type for v in out.values()} == {"cuda"}
