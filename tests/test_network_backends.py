"""The seed's network on torch and JAX (issue 12, item 2): same formulas, the caller's library.

``Network(..., backend="torch")`` keeps torch tensors and steps them; its
gradients equal ``torch.autograd``'s, a JAX network's equal ``jax.grad``'s,
and every step equals the NumPy network's from the same weights. torch and
JAX are optional (the ``backends`` extra): their tests skip without them.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexnet import Network
from indexnet.cli import main
from indexnet.einsum.plan import plan
from indexnet.errors import ArrayLibraryError, InvalidArgumentError, NonFiniteError
from indexnet.seednet.backends import lower, lower_accumulating, to_numpy
from indexnet.seednet.data import split, synthetic
from indexnet.seednet.nn import ACTIVATIONS, OUTPUTS
from indexnet.seednet.seed import SEED
from indexnet.seednet.train import train

SIZES = (6, 5, 4, 3)


def _batch(n: int = 9, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SIZES[0])), np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], n)]


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


@pytest.fixture
def jax() -> Iterator[Any]:
    jax = pytest.importorskip("jax")
    enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64
    with enable_x64(True):
        yield jax


def _torch_loss(torch: Any, params: dict[str, Any], x: Any, y: Any, net: Network) -> Any:
    """The seed's loss written directly in torch, for autograd to differentiate."""
    f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
         "identity": lambda a: a}[net.activation]
    h = x
    for i in range(1, net.depth + 1):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        h = f(a) if i < net.depth else a
    if net.output == "softmax":
        loss = -(y * torch.log_softmax(h, dim=1)).sum() / len(x)
    else:
        loss = 0.5 * ((h - y) ** 2).sum() / len(x)
    return loss + 0.5 * net.l2 * sum((params[f"W{i}"] ** 2).sum()
                                     for i in range(1, net.depth + 1))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_torch_gradients_equal_autograd(torch: Any, activation: str, output: str,
                                        l2: float) -> None:
    net = Network(SIZES, activation=activation, output=output, l2=l2, seed=1, backend="torch",
                  device="cpu")
    x, y = (torch.tensor(a) for a in _batch(seed=2))
    loss, grads = net.loss_and_gradients(x, y)
    leaves = {k: v.clone().requires_grad_(True) for k, v in net.parameters().items()}
    expected = _torch_loss(torch, leaves, x, y, net)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    for name, leaf in leaves.items():
        assert isinstance(grads[name], torch.Tensor) and grads[name].dtype == torch.float64
        torch.testing.assert_close(grads[name], leaf.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_torch_steps_equal_numpy_steps(torch: Any, momentum: float) -> None:
    here = Network(SIZES, l2=0.01, seed=3)
    there = Network(SIZES, l2=0.01, seed=3, backend="torch", device="cpu")
    x, y = _batch(seed=4)
    for _ in range(4):
        assert there.train_step(torch.tensor(x), y, 0.3, momentum) == pytest.approx(
            here.train_step(x, y, 0.3, momentum), rel=1e-12)
    for name, value in here.parameters().items():
        np.testing.assert_allclose(there.parameters()[name].numpy(), value, rtol=1e-10,
                                   atol=1e-13)


def test_torch_keeps_dtype_and_device_and_is_left_alone_by_a_bad_step(torch: Any) -> None:
    net = Network(SIZES, dtype="float32", backend="torch", device="cpu")
    x, y = _batch()
    out = net.forward(x)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert net.predict(x).dtype == torch.int64 and net.device == "cpu"
    before = {k: v.clone() for k, v in net.parameters().items()}
    with pytest.raises(NonFiniteError, match="left unchanged"):
        net.train_step(np.full_like(x, np.inf), y, 0.1)
    for name, value in before.items():
        assert torch.equal(net.parameters()[name], value)
    assert repr(net).endswith("backend='torch', device='cpu')")


def test_torch_training_equals_numpy_and_saves(torch: Any, tmp_path: Any) -> None:
    tr, va, _ = split(synthetic(n=400, d=6, k=3), seed=0)
    runs = {}
    for backend in ("numpy", "torch"):
        net = Network((6, 8, 3), l2=1e-4, seed=0, backend=backend)
        runs[backend] = train(net, tr, va, epochs=3, progress=False,
                              save=tmp_path / f"{backend}.npz")
    np.testing.assert_allclose(runs["torch"].history["train_loss"],
                               runs["numpy"].history["train_loss"], rtol=1e-10)
    loaded = Network.load(tmp_path / "torch.npz", backend="torch", device="cpu")
    assert isinstance(loaded.parameters()["W1"], torch.Tensor)
    np.testing.assert_allclose(to_numpy(loaded.parameters()["W1"]),
                               Network.load(tmp_path / "numpy.npz").parameters()["W1"],
                               rtol=1e-10)


def _cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda(), reason="needs a CUDA device")
def test_torch_on_cuda(torch: Any) -> None:  # pragma: no cover - GPU only
    net = Network(SIZES, l2=0.01, seed=1, backend="torch")
    here = Network(SIZES, l2=0.01, seed=1)
    assert net.device.startswith("cuda")
    x, y = _batch()
    assert net.train_step(x, y, 0.1, 0.9) == pytest.approx(here.train_step(x, y, 0.1, 0.9))
    assert net.parameters()["W1"].device.type == "cuda"


def _jax_loss(jnp: Any, jax: Any, params: dict[str, Any], x: Any, y: Any, net: Network) -> Any:
    f = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu,
         "identity": lambda a: a}[net.activation]
    h = x
    for i in range(1, net.depth + 1):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        h = f(a) if i < net.depth else a
    if net.output == "softmax":
        loss = -(y * jax.nn.log_softmax(h, axis=1)).sum() / len(x)
    else:
        loss = 0.5 * ((h - y) ** 2).sum() / len(x)
    return loss + 0.5 * net.l2 * sum((params[f"W{i}"] ** 2).sum()
                                     for i in range(1, net.depth + 1))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", OUTPUTS)
def test_jax_gradients_equal_jax_grad(jax: Any, activation: str, output: str) -> None:
    import jax.numpy as jnp

    net = Network(SIZES, activation=activation, output=output, l2=0.05, seed=5, backend="jax")
    x, y = (jnp.asarray(a) for a in _batch(seed=6))
    loss, grads = net.loss_and_gradients(x, y)
    expected = jax.grad(lambda p: _jax_loss(jnp, jax, p, x, y, net))(net.parameters())
    assert loss == pytest.approx(float(_jax_loss(jnp, jax, net.parameters(), x, y, net)),
                                 rel=1e-12)
    for name, value in expected.items():
        assert isinstance(grads[name], jax.Array) and grads[name].dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(grads[name]), np.asarray(value), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_jax_compiled_steps_equal_numpy_steps(jax: Any, momentum: float) -> None:
    here = Network(SIZES, l2=0.01, seed=7)
    there = Network(SIZES, l2=0.01, seed=7, backend="jax")
    x, y = _batch(seed=8)
    for _ in range(3):
        assert there.train_step(x, y, 0.2, momentum) == pytest.approx(
            here.train_step(x, y, 0.2, momentum), rel=1e-12)
    for name, value in here.parameters().items():
        np.testing.assert_allclose(np.asarray(there.parameters()[name]), value, rtol=1e-10,
                                   atol=1e-13)
    with pytest.raises(NonFiniteError):
        there.train_step(np.full_like(x, np.nan), y, 0.2, momentum)
    np.testing.assert_allclose(np.asarray(there.parameters()["W1"]), here.parameters()["W1"])


def test_jax_float64_needs_64_bit_mode() -> None:
    jax = pytest.importorskip("jax")
    enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64
    with enable_x64(False), pytest.raises(InvalidArgumentError, match="jax_enable_x64"):
        Network(SIZES, backend="jax")
    with enable_x64(False):
        assert Network(SIZES, backend="jax", dtype="float32").forward(_batch()[0]).shape == (9, 3)


def test_arrays_of_another_library_are_refused(torch: Any, jax: Any) -> None:
    import jax.numpy as jnp

    net = Network(SIZES, backend="torch", device="cpu")
    with pytest.raises(ArrayLibraryError, match="x is a jax array but the network runs on torch"):
        net.forward(jnp.ones((2, SIZES[0])))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"backend": "tensorflow"}, "backend"),
    ({"device": "cuda"}, "NumPy network lives on the CPU"),
])
def test_bad_backends(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        Network(SIZES, **kwargs)


def test_a_missing_library_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_cupy(name: str, *args: Any) -> Any:
        if name == "cupy":
            raise ImportError("no cupy", name="cupy")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_cupy)
    with pytest.raises(ArrayLibraryError, match=r"needs cupy: pip install 'indexnet\[backends\]'"):
        Network(SIZES, backend="cupy")


@pytest.mark.parametrize("key", sorted(k for k, f in SEED.items() if f.einsum))
def test_every_seed_formula_lowers_to_a_native_call(key: str) -> None:
    """Each seed product becomes ``@``/``.T``/``.sum``/``*``/a flat dot: no einsum, no plan."""
    subscripts = SEED[key].einsum or ""
    sizes = {"n": 5, "d": 3, "h": 4}
    shapes = [tuple(sizes[c] for c in term) for term in subscripts.split("->")[0].split(",")]
    compiled = plan(subscripts, *shapes)
    kernel = lower(compiled)
    assert kernel is not compiled
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in shapes]
    np.testing.assert_allclose(kernel(*arrays), compiled(*arrays), rtol=1e-12)
    accumulating = lower_accumulating(compiled)
    assert (accumulating is None) == (compiled.steps[0].kind != "matmul")


def test_cli_trains_on_torch(torch: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["train", "--dataset", "synthetic", "--backend", "torch", "--device", "cpu",
                   "--epochs", "2", "--hidden", "8", "--json", "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["backend"] == "torch" and out["device"] == "cpu"
    assert out["test_accuracy"] > 0.9


def test_cli_device_needs_a_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "synthetic", "--device", "cuda"]) == 2
    assert "--device is only used with --backend" in capsys.readouterr().err


def _gpu_script() -> Any:
    path = Path(__file__).parent.parent / "benchmarks" / "gpu.py"
    spec = importlib.util.spec_from_file_location("indexnet_gpu_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(_cuda(), reason="a CUDA device is here: the script would time it")
def test_the_gpu_script_says_there_is_nothing_to_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert _gpu_script().main([]) == 0
    assert capsys.readouterr().out == "no CUDA device: nothing to time\n"


def test_the_gpu_script_runs_on_the_cpu_at_tiny_sizes(torch: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("threadpoolctl")  # the benchmarks' harness (the bench extra)
    out = tmp_path / "gpu.md"
    assert _gpu_script().main(["--device", "cpu", "--tiny", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.strip() == capsys.readouterr().out.strip()
    assert "| torch | tiny | 8-16-4 | 32 | float64 |" in text
    assert "| bilinear layer y = x₁ᵀ W x₂ | auto |" in text
