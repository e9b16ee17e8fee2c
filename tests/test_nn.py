"""The seed's network: gradients against finite differences, API, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import indexnet
from indexnet import Network, gradcheck
from indexnet.seednet.nn import ACTIVATIONS, OUTPUTS


def _batch(rng: np.random.Generator, n: int, sizes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    x = rng.standard_normal((n, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    return x, y


def _loss_fn(net: Network, x: np.ndarray, y: np.ndarray):
    def loss(params: dict[str, np.ndarray]) -> float:
        trial = Network(net.layer_sizes, activation=net.activation, output=net.output, l2=net.l2)
        trial.set_parameters(params)
        return trial.loss(x, y)

    return loss


@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple),
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    output=st.sampled_from(OUTPUTS),
    l2=st.sampled_from([0.0, 0.1]),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_gradients_equal_finite_differences(sizes, activation, output, l2, n, seed):
    rng = np.random.default_rng(seed)
    net = Network(sizes, activation=activation, output=output, l2=l2, seed=seed)
    x, y = _batch(rng, n, sizes)
    if activation == "relu":  # keep pre-activations away from the kink at 0
        for i in range(1, net.depth + 1):
            net.parameters()[f"b{i}"][:] = 0.05 + 0.1 * rng.random(sizes[i])
    report = gradcheck(_loss_fn(net, x, y), net.parameters(), net.gradients(x, y), mode="full",
                       rtol=1e-4, atol=1e-7)
    # vacuous: a loss that is constant (softmax over one class), whose gradients are all 0
    assert report.ok or (report.vacuous and sizes[-1] == 1), str(report)


def test_seed_network_matches_direct_numpy():
    """Forward and gradients equal the seed's equations written with NumPy's @."""
    rng = np.random.default_rng(0)
    net = Network((6, 5, 3), l2=0.01, seed=3)
    x, y = _batch(rng, 7, (6, 5, 3))
    p = {k: v.copy() for k, v in net.parameters().items()}
    a1 = x @ p["W1"] + p["b1"]
    x2 = 1 / (1 + np.exp(-a1))
    a2 = x2 @ p["W2"] + p["b2"]
    yhat = np.exp(a2) / np.exp(a2).sum(axis=1, keepdims=True)
    loss = -np.sum(y * np.log(yhat)) / 7 + 0.005 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    d2 = (yhat - y) / 7
    d1 = (d2 @ p["W2"].T) * x2 * (1 - x2)
    want = {"W1": x.T @ d1 + 0.01 * p["W1"], "b1": d1.sum(0),
            "W2": x2.T @ d2 + 0.01 * p["W2"], "b2": d2.sum(0)}
    got_loss, got = net.loss_and_gradients(x, y)
    assert np.allclose(net.forward(x), yhat)
    assert got_loss == pytest.approx(loss)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12)


def test_products_use_the_seed_formula_plans():
    net = Network((4, 3, 2))
    net.loss_and_gradients(np.ones((5, 4)), np.eye(2)[[0, 1, 0, 1, 0]])
    plans = net._batch_plans(5)
    used = {str(p.subscripts) for p in plans.plans}
    seed_products = {f.einsum for f in indexnet.SEED.values() if f.einsum}
    assert used == seed_products
    assert all(p.kernel in _kernels(plans) for p in plans.plans if p.shapes[0] == (5, 4))
    assert net._batch_plans(5) is plans  # planned once per batch size


def _kernels(plans):
    found = {plans.softmax_sum, plans.loss}
    for layer in plans.layers:
        found |= {layer.forward, layer.weight_gradient, layer.bias_gradient, layer.backprop,
                  layer.hadamard, layer.l2}
    return found


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_train_step_reduces_loss_and_keeps_dtype(dtype):
    rng = np.random.default_rng(1)
    net = Network((8, 16, 3), dtype=dtype, seed=1)
    x, y = _batch(rng, 32, (8, 16, 3))
    first = net.train_step(x, y, lr=0.5)
    for _ in range(50):
        last = net.train_step(x, y, lr=0.5, momentum=0.5)
    assert last < first
    assert all(p.dtype == np.dtype(dtype) for p in net.parameters().values())
    assert net.predict(x).shape == (32,)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_l2_term_folded_into_the_step_is_sgd_on_the_full_gradient(momentum):
    """W ← (1 − lr·λ)W − lr·∂L/∂W (issue 11 item 6) is SGD on the gradient with λW in it."""
    rng = np.random.default_rng(2)
    net, twin = Network((6, 5, 3), l2=0.05, seed=4), Network((6, 5, 3), l2=0.05, seed=4)
    x, y = _batch(rng, 8, (6, 5, 3))
    velocity = {k: np.zeros_like(v) for k, v in twin.parameters().items()}
    for _ in range(3):
        loss, grads = twin.loss_and_gradients(x, y)
        for name, g in grads.items():
            velocity[name] = momentum * velocity[name] - 0.3 * g
            twin.parameters()[name] += velocity[name]
        assert net.train_step(x, y, lr=0.3, momentum=momentum) == pytest.approx(loss, rel=1e-12)
    for name, value in twin.parameters().items():
        np.testing.assert_allclose(net.parameters()[name], value, rtol=1e-12, atol=1e-14)


def test_non_finite_loss_leaves_weights_unchanged():
    net = Network((2, 2))
    before = {k: v.copy() for k, v in net.parameters().items()}
    with pytest.raises(indexnet.NonFiniteError, match="unchanged"):
        net.train_step(np.array([[np.nan, 1.0]]), np.array([[1.0, 0.0]]), lr=0.1)
    for name, value in net.parameters().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layer_sizes": (3,)}, "input and an output"),
        ({"layer_sizes": (3, 0)}, ">= 1"),
        ({"layer_sizes": "abc"}, "integers"),
        ({"activation": "softplus"}, "sigmoid, tanh, relu, identity"),
        ({"output": "sigmoid"}, "softmax, identity"),
        ({"l2": -1.0}, "l2"),
        ({"dtype": "int32"}, "float32 or float64"),
    ],
)
def test_bad_arguments_raise_typed_errors(kwargs, match):
    with pytest.raises(indexnet.InvalidArgumentError, match=match):
        Network(**kwargs)


def test_bad_shapes_name_the_index_and_sizes():
    net = Network((4, 3, 2))
    with pytest.raises(indexnet.SizeMismatchError, match=r"\(n, 4\)"):
        net.forward(np.ones((5, 3)))
    with pytest.raises(indexnet.SizeMismatchError, match=r"one-hot"):
        net.loss(np.ones((5, 4)), np.ones(5))


def test_set_parameters_validates():
    net = Network((4, 3, 2))
    params = {k: v.copy() for k, v in net.parameters().items()}
    params["W1"] = np.ones((3, 4))
    with pytest.raises(indexnet.SizeMismatchError, match="W1"):
        net.set_parameters(params)
    params["W1"] = np.full((4, 3), np.inf)
    with pytest.raises(indexnet.NonFiniteError, match="W1"):
        net.set_parameters(params)
    with pytest.raises(indexnet.InvalidArgumentError, match="exactly"):
        net.set_parameters({"W1": np.ones((4, 3))})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layer_sizes": "32"}, "sequence of integers"),
        ({"layer_sizes": (3.9, 2.2)}, "sequence of integers"),
        ({"layer_sizes": (10**6, 10**6)}, "2\\*\\*31"),
        ({"seed": -1}, "seed"),
        ({"seed": "a"}, "seed"),
        ({"l2": None}, "l2"),
        ({"l2": "a"}, "l2"),
        ({"dtype": "bogus"}, "float32 or float64"),
        ({"activation": []}, "activation"),
    ],
)
def test_more_bad_arguments_raise_typed_errors(kwargs, match):
    with pytest.raises(indexnet.InvalidArgumentError, match=match):
        Network(**kwargs)


@pytest.mark.parametrize(
    ("lr", "momentum", "match"),
    [(float("nan"), 0.0, "lr"), (float("inf"), 0.0, "lr"), (-0.1, 0.0, "lr"),
     (0.1, 5.0, "momentum"), (0.1, -0.5, "momentum")],
)
def test_train_step_rejects_bad_rates_before_touching_weights(lr, momentum, match):
    net = Network((2, 2))
    before = {k: v.copy() for k, v in net.parameters().items()}
    with pytest.raises(indexnet.InvalidArgumentError, match=match):
        net.train_step(np.ones((3, 2)), np.eye(2)[[0, 1, 0]], lr=lr, momentum=momentum)
    for name, value in net.parameters().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("x", [np.ones((3, 2)) + 1j, [["a", "b"]] * 3, [[1.0, 2.0], [3.0]]])
def test_complex_text_or_ragged_input_is_a_typed_error(x):
    with pytest.raises(indexnet.InvalidArgumentError, match="x"):
        Network((2, 2)).forward(x)
