"""The training step and the path suite on a GPU, through torch and CuPy (issue 12, item 5).

One short script (a few minutes on a GPU) for a machine with an accelerator:

1. **Training step** of the seed's network, float32 and float64, at mnist size
   (784-256-10, batch 256) and at a size a GPU is for (4096-4096-10, batch
   4096): ``Network(backend="torch", device="cuda").train_step`` against the
   same step written by hand in torch (``bench_train_torch.TorchByHand``) and
   against torch autograd; ``Network(backend="cupy")`` against the step
   written by hand in CuPy. Each is checked against the hand-written step
   first (one step from the same weights: same loss and weights).
2. **Contraction paths**: the expressions of ``bench_paths.py``'s quick suite,
   planned by indexnet (``greedy`` and the default ``auto``) and run on the
   GPU through opt_einsum's expression for that path, on torch and on CuPy.

Times are wall clock, the device synchronised after every call, medians of
interleaved rounds. Without a CUDA device it prints "no CUDA device: nothing
to time" and exits 0; ``--device cpu --tiny`` runs the same code on the CPU
at tiny sizes (what the test suite does, to keep the script working).

Run ``python benchmarks/gpu.py [--out FILE] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
for _path in (_HERE.parent, _HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import numpy as np  # noqa: E402

from indexnet import Network, plan  # noqa: E402

PARAMS = ("W1", "b1", "W2", "b2")
LR = 1e-3
L2 = 1e-4
#: (label, layer sizes, batch)
SIZES = [("mnist", (784, 256, 10), 256), ("wide", (4096, 4096, 10), 4096)]
TINY = [("tiny", (8, 16, 4), 32)]
RTOL = {"float64": 1e-9, "float32": 1e-3}


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def cuda_libraries() -> dict[str, Any]:
    """The libraries that see a CUDA device: ``torch`` and ``cupy`` where installed."""
    found: dict[str, Any] = {}
    torch = _optional("torch")
    if torch is not None and torch.cuda.is_available():
        found["torch"] = torch
    cupy = _optional("cupy")
    if cupy is not None:
        try:
            if cupy.cuda.runtime.getDeviceCount() > 0:
                found["cupy"] = cupy
        except Exception:  # CuPy installed without a driver
            pass
    return found


class XpByHand:
    """The seed's step written by hand for an array module (CuPy), no autograd."""

    def __init__(self, xp: Any, params: dict[str, np.ndarray], l2: float) -> None:
        self.xp = xp
        self.W1, self.b1, self.W2, self.b2 = (xp.asarray(params[k]) for k in PARAMS)
        self.l2 = l2

    def parameters(self) -> dict[str, Any]:
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def train_step(self, x: Any, y: Any, lr: float) -> float:
        xp, l2 = self.xp, self.l2
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        n = x.shape[0]
        s = x @ W1
        s += b1
        s = 0.5 * (1.0 + xp.tanh(0.5 * s))
        p = s @ W2
        p += b2
        p -= p.max(axis=1, keepdims=True)
        xp.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        loss = -(y.reshape(-1) @ xp.log(xp.maximum(p, xp.finfo(p.dtype).tiny)).reshape(-1)) / n
        loss = loss + 0.5 * l2 * (W1.reshape(-1) @ W1.reshape(-1) + W2.reshape(-1) @ W2.reshape(-1))
        value = float(loss)
        if not math.isfinite(value):
            raise FloatingPointError(f"loss is {value}")
        d2 = (p - y) * (1.0 / n)
        gW2 = s.T @ d2 + l2 * W2
        gb2 = d2.sum(axis=0)
        d1 = (d2 @ W2.T) * (s * (1.0 - s))
        gW1 = x.T @ d1 + l2 * W1
        gb1 = d1.sum(axis=0)
        W1 -= lr * gW1
        b1 -= lr * gb1
        W2 -= lr * gW2
        b2 -= lr * gb2
        return value


def _host(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "get"):
        return value.get()
    return np.asarray(value)


def _median_times(runs: dict[str, Callable[[], Any]], sync: Callable[[], None], rounds: int,
                  sample_s: float) -> dict[str, float]:
    """Median seconds per call of each run, in interleaved rounds after a warm-up."""
    loops = {}
    for name, run in runs.items():
        run()
        sync()
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < sample_s or count < 2:
            run()
            count += 1
        sync()
        loops[name] = max(1, round(count * sample_s / max(time.perf_counter() - start, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            sync()
            start = time.perf_counter()
            for _ in range(loops[name]):
                runs[name]()
            sync()
            samples[name].append((time.perf_counter() - start) / loops[name])
    return {name: statistics.median(s) for name, s in samples.items()}


def _check(label: str, expected: tuple[float, dict[str, Any]],
           got: tuple[float, dict[str, Any]], rtol: float) -> None:
    if not np.isclose(got[0], expected[0], rtol=rtol):
        raise AssertionError(f"{label}: loss {got[0]} != the hand-written step's {expected[0]}")
    for name in PARAMS:
        a, b = _host(got[1][name]), _host(expected[1][name])
        if not np.allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.abs(b).max()))):
            raise AssertionError(f"{label}: updated {name} differs from the hand-written step's")


def train_rows(libraries: dict[str, Any], device: str, sizes: list[tuple[str, Any, int]],
               rounds: int, sample_s: float) -> list[list[str]]:
    """The training-step table's rows."""
    from bench_train_torch import TorchAutograd, TorchByHand

    rows = []
    for label, layers, n in sizes:
        for dtype in ("float32", "float64"):
            rng = np.random.default_rng(1)
            x = rng.random((n, layers[0])).astype(dtype)
            labels = rng.integers(0, layers[-1], n)
            y = np.eye(layers[-1], dtype=dtype)[labels]
            initial = {k: v.copy() for k, v in Network(layers, seed=0, dtype=dtype)
                       .parameters().items()}
            for lib_name, lib in libraries.items():
                net = Network(layers, seed=0, dtype=dtype, l2=L2, backend=lib_name,
                              device=device if lib_name == "torch" else None)
                if lib_name == "torch":
                    hand = TorchByHand(lib, initial, L2)
                    for k in PARAMS:
                        setattr(hand, k, getattr(hand, k).to(device))
                    auto = TorchAutograd(lib, initial, L2)
                    auto.params = [p.detach().to(device).requires_grad_(True)
                                   for p in auto.params]
                    tx, ty = lib.from_numpy(x).to(device), lib.from_numpy(y).to(device)
                    tl = lib.from_numpy(labels).to(device)
                    sync = lib.cuda.synchronize if device.startswith("cuda") else (lambda: None)
                    runs = {"by hand": lambda h=hand, a=tx, b=ty: h.train_step(a, b, LR),
                            "indexnet": lambda m=net, a=tx, b=ty: m.train_step(a, b, LR),
                            "autograd": lambda g=auto, a=tx, b=tl: g.train_step(a, b, LR)}
                else:
                    hand = XpByHand(lib, initial, L2)
                    tx, ty = lib.asarray(x), lib.asarray(y)
                    sync = lib.cuda.Device().synchronize
                    runs = {"by hand": lambda h=hand, a=tx, b=ty: h.train_step(a, b, LR),
                            "indexnet": lambda m=net, a=tx, b=ty: m.train_step(a, b, LR)}
                _check(f"{lib_name} {label} {dtype}",
                       (hand.train_step(tx, ty, LR), hand.parameters()),
                       (net.train_step(tx, ty, LR), net.parameters()), RTOL[dtype])
                times = _median_times(runs, sync, rounds, sample_s)
                base = times["by hand"]
                rows.append([lib_name, label, "-".join(map(str, layers)), str(n), dtype]
                            + [f"{times[k] * 1e6:,.0f}" + ("" if k == "by hand" else
                                                            f" ({times[k] / base:.2f}×)")
                               if k in times else "—" for k in ("by hand", "indexnet",
                                                                 "autograd")])
    return rows


def path_rows(libraries: dict[str, Any], device: str, tiny: bool, rounds: int,
              sample_s: float) -> list[list[str]]:
    """The path table's rows: indexnet's paths run on the GPU by each library."""
    import opt_einsum
    from bench_paths import suite

    rows = []
    for case in suite(quick=True):
        sizes = {c: 2 for c in case.sizes} if tiny else case.sizes
        shapes = case.shapes or [tuple(sizes[c] for c in term)
                                 for term in case.subscripts.split("->")[0].split(",")]
        if tiny and case.shapes:
            shapes = [tuple(min(s, 2) for s in shape) for shape in shapes]
        arrays = [np.random.default_rng(0).random(s) for s in shapes]
        for optimize in ("greedy", "auto"):
            p = plan(case.subscripts, *shapes, optimize=optimize)
            expression = opt_einsum.contract_expression(
                str(p.subscripts), *p.shapes, optimize=[tuple(s) for s in p.path])
            cells = []
            for lib_name, lib in libraries.items():
                if lib_name == "torch":
                    ops = [lib.from_numpy(a).to(device) for a in arrays]
                    sync = lib.cuda.synchronize if device.startswith("cuda") else (lambda: None)
                else:
                    ops = [lib.asarray(a) for a in arrays]
                    sync = lib.cuda.Device().synchronize
                got = _host(expression(*ops, backend=lib_name))
                if not np.allclose(got, p(*arrays), rtol=1e-9):
                    raise AssertionError(f"{case.label}: {lib_name} disagrees with NumPy")
                t = _median_times({"run": lambda e=expression, o=ops, b=lib_name: e(*o, backend=b)},
                                  sync, rounds, sample_s)["run"]
                cells.append(f"{t * 1e6:,.1f}")
            rows.append([case.label, optimize, f"{p.flops:,}", *cells])
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", metavar="FILE", help="also write the tables here")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, mnist size only")
    parser.add_argument("--device", default="cuda",
                        help="cuda (default), or cpu to run the code path without a GPU")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (for tests)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda"):
        libraries = cuda_libraries()
        if not libraries:
            print("no CUDA device: nothing to time")
            return 0
    else:  # the CPU: torch only (CuPy needs a GPU), to exercise the script
        torch = _optional("torch")
        if torch is None:
            print("torch is not installed: nothing to run on the CPU")
            return 0
        libraries = {"torch": torch}
        torch.set_num_threads(1)
    rounds, sample_s = (3, 0.02) if args.quick or args.tiny else (11, 0.2)
    sizes = TINY if args.tiny else SIZES[:1] if args.quick else SIZES
    started = time.perf_counter()
    names = ", ".join(f"{k} {getattr(v, '__version__', '')}" for k, v in libraries.items())
    gpu = ""
    if "torch" in libraries and args.device.startswith("cuda"):
        gpu = libraries["torch"].cuda.get_device_name(0)
    header = [f"- device: {args.device} {gpu}".rstrip(), f"- libraries: {names}",
              f"- Python {platform.python_version()}, numpy {np.__version__}",
              "- wall clock, the device synchronised after every call; medians of "
              f"{rounds} interleaved rounds; L2 λ = {L2}"]
    train = train_rows(libraries, args.device, sizes, rounds, sample_s)
    paths = path_rows(libraries, args.device, args.tiny, rounds, sample_s)
    text = "\n".join([
        f"## Training step on {args.device} (µs a step)", "", *header, "",
        _table(["library", "size", "layers", "batch", "dtype", "by hand", "indexnet",
                "torch autograd"], train),
        "", f"## Contraction paths on {args.device} (µs a call)", "",
        _table(["expression", "indexnet path", "FLOPs", *(f"{k} (µs)" for k in libraries)],
               paths),
        "", f"Total {time.perf_counter() - started:.0f} s.",
    ])
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
