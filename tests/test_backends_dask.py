"""Dask arrays chunked along the batch index: evaluate and derived programs stay lazy.

Nothing is computed until the caller asks (a scheduler that raises proves
it); the computed values equal NumPy's, on the threaded scheduler, for
millions of rows in chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("array_api_compat")

from indexnet.einsum.vjp import vjp  # noqa: E402
from indexnet.errors import ArrayLibraryError, InvalidArgumentError  # noqa: E402
from indexnet.program import parse  # noqa: E402

EXAMPLES = Path(__file__).parent.parent / "examples"


def _no_compute(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a Dask graph was computed before the caller asked")


@pytest.fixture(scope="module")
def seed() -> Any:
    return parse((EXAMPLES / "seed.ix").read_text())


def chunked(xs: dict[str, np.ndarray], rows: int, chunk: int) -> dict[str, Any]:
    """Arrays with ``rows`` rows (the batch index n) chunked along it; params whole."""
    return {k: da.from_array(v, chunks=(chunk, *v.shape[1:])) if v.shape[:1] == (rows,)
            else da.from_array(v, chunks=v.shape) for k, v in xs.items()}


def test_evaluate_and_derive_stay_lazy(seed: Any) -> None:
    xs = seed.random_inputs({"n": 40})
    derived = seed.derive()
    with dask.config.set(scheduler=_no_compute):
        out = derived.evaluate(**chunked(xs, 40, 10))
        grads = vjp("nd,dh->nh", da.ones((40, 3), chunks=(10, 3)), da.ones((3, 4)),
                    cotangent=da.ones((40, 4), chunks=(10, 4)))
    assert all(isinstance(v, da.Array) for v in [*out.values(), *grads])
    assert out["a_ℓ-1"].chunks[0] == (10, 10, 10, 10)  # still chunked along the batch
    expected = derived.evaluate(**xs)
    (computed,) = dask.compute(out, scheduler="sync")
    for key, value in expected.items():
        np.testing.assert_allclose(computed[key], value, rtol=1e-12, atol=1e-14)


def test_full_batch_loss_and_gradients_over_millions_of_rows(seed: Any) -> None:
    rows, chunk = 2_000_000, 250_000
    xs = seed.random_inputs({"n": rows}, seed=1)
    derived = seed.derive()
    expected = derived.evaluate(**xs)
    wanted = ["L", *(f"dL/d{k}" for k in seed.params)]
    with dask.config.set(scheduler=_no_compute):
        out = derived.evaluate(**chunked(xs, rows, chunk))
    (computed,) = dask.compute({k: out[k] for k in wanted}, scheduler="threads")
    for key in wanted:
        np.testing.assert_allclose(computed[key], expected[key], rtol=1e-10)


def test_vjp_on_dask_equals_numpy() -> None:
    rng = np.random.default_rng(0)
    x, w, g = rng.normal(size=(30, 4)), rng.normal(size=(4, 5)), rng.normal(size=(30, 5))
    expected = vjp("nd,dh->nh", x, w, cotangent=g)
    got = vjp("nd,dh->nh", da.from_array(x, chunks=(7, 4)), da.from_array(w),
              cotangent=da.from_array(g, chunks=(7, 5)))
    for a, b in zip(dask.compute(*got, scheduler="sync"), expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_gradients_of_a_chain_reverse_accumulate_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask arrays go through the plan's tree too: a graph, nothing computed, NumPy's values."""
    import indexnet.einsum.backprop as backprop
    import indexnet.einsum.vjp as vjp_module

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("one einsum per operand: not reverse accumulation")

    monkeypatch.setattr(backprop, "per_operand_gradients", refused)
    monkeypatch.setattr(vjp_module, "per_operand_gradients", refused)  # vjp's own binding
    rng = np.random.default_rng(1)
    a, b, c = rng.normal(size=(30, 4)), rng.normal(size=(4, 6)), rng.normal(size=(6, 5))
    g = rng.normal(size=(30, 5))
    expected_value, expected = backprop.value_and_grad("ij,jk,kl->il", a, b, c, cotangent=g)
    lazy = [da.from_array(a, chunks=(7, 4)), da.from_array(b), da.from_array(c)]
    with dask.config.set(scheduler=_no_compute):
        value, grads = backprop.value_and_grad("ij,jk,kl->il", *lazy,
                                               cotangent=da.from_array(g, chunks=(7, 5)))
        alone = vjp("ij,jk,kl->il", *lazy, cotangent=da.from_array(g, chunks=(7, 5)))
    assert all(isinstance(v, da.Array) for v in (value, *grads, *alone))
    computed = dask.compute(value, *grads, *alone, scheduler="sync")
    for got, want in zip(computed, [expected_value, *expected, *expected], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_unknown_chunk_sizes_are_refused() -> None:
    x = da.ones((6, 2), chunks=(3, 2))
    x = x[x[:, 0] > 0]  # sizes unknown until computed
    with pytest.raises(InvalidArgumentError, match="compute_chunk_sizes"):
        parse("s = x^n_d").evaluate(x=x)


def test_mixing_dask_and_numpy_names_both() -> None:
    with pytest.raises(ArrayLibraryError, match=r"'x' is a dask array but 'W' is a numpy"):
        parse("a^n_h = x^n_d W^d_h").evaluate(x=da.ones((2, 3)), W=np.ones((3, 4)))
