"""JAX arrays all the way through: derived programs and vjp, against ``jax.grad`` (CPU, float64).

Every test runs under ``jax.enable_x64`` so that gradients compare at float64
precision; results are JAX arrays of the caller's dtype.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
pytest.importorskip("array_api_compat")
jnp = pytest.importorskip("jax.numpy")

from indexnet.einsum.vjp import vjp  # noqa: E402
from indexnet.errors import ArrayLibraryError  # noqa: E402
from indexnet.program import parse  # noqa: E402
from indexnet.strategies import einsum_problems  # noqa: E402

EXAMPLES = Path(__file__).parent.parent / "examples"


#: float64 inside a context: ``jax.enable_x64`` (newer JAX) or ``jax.experimental``'s.
enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64


@pytest.fixture(autouse=True)
def x64() -> Iterator[None]:
    with enable_x64(True):
        yield


@pytest.fixture(scope="module")
def seed() -> Any:
    return parse((EXAMPLES / "seed.ix").read_text())


def arrays(xs: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: jnp.asarray(v) for k, v in xs.items()}


@pytest.mark.parametrize("n", [1, 8, 33])
def test_seed_gradients_equal_jax_grad(seed: Any, n: int) -> None:
    """The derived program on JAX arrays equals jax.grad of indexnet's own forward."""
    xs = seed.random_inputs({"n": n}, seed=n)
    names = list(seed.params)
    data = arrays({k: v for k, v in xs.items() if k not in names})

    def loss(*params: Any) -> Any:
        return seed.evaluate(**data, **dict(zip(names, params)))["L"]

    expected = jax.grad(loss, argnums=tuple(range(len(names))))(*(jnp.asarray(xs[k])
                                                                 for k in names))
    out = seed.derive().evaluate(**arrays(xs))
    for key, grad in zip(names, expected):
        got = out[f"dL/d{key}"]
        assert isinstance(got, jax.Array) and got.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(got), np.asarray(grad), rtol=1e-10, atol=1e-12)


def test_seed_gradients_equal_jax_grad_of_a_hand_written_forward(seed: Any) -> None:
    xs = seed.random_inputs({"n": 16}, seed=5)
    x, y = jnp.asarray(xs["x_ℓ-1"]), jnp.asarray(xs["y"])

    def loss(w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        hidden = jax.nn.sigmoid(x @ w1 + b1)
        yhat = jax.nn.softmax(hidden @ w2 + b2, axis=1)
        return -(y * jnp.log(yhat)).sum() + 0.01 / 2 * ((w2**2).sum() + (w1**2).sum())

    names = ["w_ℓ-1", "b_ℓ-1", "w_ℓ", "b_ℓ"]
    expected = jax.grad(loss, argnums=(0, 1, 2, 3))(*(jnp.asarray(xs[k]) for k in names))
    out = seed.derive().evaluate(**arrays(xs))
    for key, grad in zip(names, expected):
        np.testing.assert_allclose(np.asarray(out[f"dL/d{key}"]), np.asarray(grad),
                                   rtol=1e-10, atol=1e-12)


def test_integer_arrays_weighed_by_floats_give_float_gradients() -> None:
    x, y = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    half = np.full((2, 4), 0.5)
    with enable_x64(True):
        grads = vjp("ij,jk->ik", jnp.asarray(x), jnp.asarray(y), cotangent=jnp.asarray(half))
    for grad, expected in zip(grads, vjp("ij,jk->ik", x, y, cotangent=half), strict=True):
        assert jnp.issubdtype(grad.dtype, jnp.floating)
        np.testing.assert_allclose(np.asarray(grad), expected, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(problem=einsum_problems(max_operands=3, max_dims=3, max_side=3, allow_size_zero=False),
       seed=st.integers(0, 2**16))
def test_vjp_equals_jax_grad(problem: tuple[str, list[np.ndarray]], seed: int) -> None:
    subscripts, operands = problem
    with enable_x64(True):
        ops = [jnp.asarray(a) for a in operands]
        out_shape = jnp.einsum(subscripts, *ops).shape
        g = jnp.asarray(np.random.default_rng(seed).uniform(-2, 2, out_shape))

        def inner(*xs: Any) -> Any:
            return jnp.sum(jnp.einsum(subscripts, *xs) * g)

        expected = jax.grad(inner, argnums=tuple(range(len(ops))))(*ops)
        grads = vjp(subscripts, *ops, cotangent=g)
    for op, grad, reference in zip(ops, grads, expected):
        assert isinstance(grad, jax.Array) and grad.shape == op.shape
        np.testing.assert_allclose(np.asarray(grad), np.asarray(reference),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ix")), ids=lambda p: p.stem)
def test_every_example_and_its_derivatives_on_jax(path: Path) -> None:
    program = parse(path.read_text())
    xs = program.random_inputs()
    for each in [program, program.derive()] if program.params else [program]:
        expected = each.evaluate(**xs)
        out = each.evaluate(**arrays(xs))
        for key, value in expected.items():
            assert isinstance(out[key], jax.Array), key
            np.testing.assert_allclose(np.asarray(out[key]), value, rtol=1e-10, atol=1e-12)


def test_float32_stays_float32(seed: Any) -> None:
    xs = seed.random_inputs({"n": 4}, dtype="float32")
    out = seed.derive().evaluate(**arrays(xs))
    assert {v.dtype for v in out.values()} == {jnp.dtype("float32")}


def test_mixing_jax_and_numpy_names_both() -> None:
    with pytest.raises(ArrayLibraryError, match=r"'x' is a jax array but 'W' is a numpy"):
        parse("a^n_h = x^n_d W^d_h").evaluate(x=jnp.ones((2, 3)), W=np.ones((3, 4)))


def test_mixing_jax_and_torch_names_both() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ArrayLibraryError, match=r"jax.*torch"):
        vjp("nd,dh->nh", jnp.ones((2, 3)), torch.ones(3, 4), cotangent=jnp.ones((2, 4)))
