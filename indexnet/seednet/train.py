"""Training the seed's network: minibatch SGD, history, safe checkpoints, and ``indexnet train``.

:func:`train` runs minibatch stochastic gradient descent (with optional
momentum) through :meth:`Network.train_step <indexnet.seednet.nn.Network.train_step>`,
shuffling with a seeded generator so the same seed gives the same run. After
every epoch it records the mean training loss and the training and validation
accuracy, and, when ``save`` is given, writes the weights atomically so the
last good epoch always survives. A non-finite loss stops training with a
:class:`~indexnet.NonFiniteError` naming the epoch and the step.

>>> from indexnet.seednet.nn import Network
>>> from indexnet.seednet.data import split, synthetic
>>> tr, va, te = split(synthetic(n=300, d=5, k=3), seed=0)
>>> net = Network((5, 16, 3), seed=0)
>>> result = train(net, tr, va, epochs=5, progress=False)
>>> result.epochs, accuracy(net, te) > 0.9
(5, True)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..cli.argtypes import non_negative_int, positive_int
from ..errors import InvalidArgumentError, NonFiniteError, SizeMismatchError
from ..fileio import check_output_path, write_figure_png
from .data import DATASETS, Dataset, load_dataset, one_hot
from .nn import ACTIVATIONS, Network

__all__ = [
    "DEFAULTS",
    "TrainResult",
    "accuracy",
    "parse_hidden",
    "plot_history",
    "register",
    "run",
    "train",
]

#: Defaults of :func:`train` and ``indexnet train``, tuned on the digits dataset: a
#: 64-128-10 sigmoid/softmax network reaches about 97% test accuracy in well under
#: a second of training (see the README's table).
DEFAULTS: dict[str, Any] = {
    "hidden": (128,),
    "activation": "sigmoid",
    "epochs": 40,
    "batch_size": 32,
    "lr": 0.2,
    "momentum": 0.9,
    "l2": 0.0,
    "seed": 0,
    "dtype": "float64",
}

#: Called after each epoch with the epoch number (1-based) and that epoch's record
#: (``train_loss``, ``train_accuracy``, ``val_accuracy``); return True to stop early.
EpochCallback = Callable[[int, dict[str, Any]], Any]


@dataclass
class TrainResult:
    """What a training run produced; ``test_accuracy`` stays ``None`` until evaluated.

    ``history`` maps ``train_loss``, ``train_accuracy`` and ``val_accuracy``
    (absent without a validation set) to one value per completed epoch.
    """

    train_loss: float
    train_accuracy: float
    val_accuracy: float | None
    epochs: int
    seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)
    test_accuracy: float | None = None
    dataset: str = ""
    layer_sizes: tuple[int, ...] = ()
    stopped_early: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (layer sizes as a list).

        >>> TrainResult(0.5, 0.9, None, 1, 0.1).to_json()["train_loss"]
        0.5
        """
        out = asdict(self)
        out["layer_sizes"] = list(self.layer_sizes)
        return out


def accuracy(network: Network, dataset: Dataset) -> float:
    """Fraction of ``dataset`` the network classifies correctly (argmax of its output).

    >>> from indexnet.seednet.data import synthetic
    >>> 0.0 <= accuracy(Network((20, 3)), synthetic()) <= 1.0
    True
    """
    _check_fits(network, dataset)
    if len(dataset) == 0:
        raise InvalidArgumentError(f"accuracy of an empty dataset {dataset.name!r}")
    return _accuracy(network, dataset.x, dataset.labels)


def train(
    network: Network,
    train_set: Dataset,
    val_set: Dataset | None = None,
    *,
    epochs: int = DEFAULTS["epochs"],
    batch_size: int = DEFAULTS["batch_size"],
    lr: float = DEFAULTS["lr"],
    momentum: float = DEFAULTS["momentum"],
    seed: int = 0,
    progress: bool = True,
    save: str | os.PathLike[str] | None = None,
    on_epoch: EpochCallback | None = None,
    drop_last: bool = False,
) -> TrainResult:
    """Train ``network`` in place by minibatch SGD; return the run's :class:`TrainResult`.

    Arguments:

    * ``epochs``: passes over ``train_set`` (>= 1).
    * ``batch_size``: examples a step (>= 1; capped at the training set's size).
      Each epoch's examples are shuffled and cut into batches of that size; the
      ragged last batch is kept (so two batch sizes are planned, once each), or
      dropped when ``drop_last`` is true (its examples come up in other epochs).
    * ``lr``, ``momentum``: step size (> 0) and momentum (in [0, 1)).
    * ``seed``: seeds the shuffling; the same seed (and network) gives the same run.
    * ``progress``: a tqdm bar on stderr showing the running loss and accuracy.
    * ``save``: after every epoch with a finite loss, save the network atomically here.
    * ``on_epoch``: ``on_epoch(epoch, record)`` after every epoch; return True to stop.

    Raises :class:`~indexnet.NonFiniteError` when a loss goes non-finite,
    naming the epoch and global step (the weights stay as they were before that step).
    """
    _check_fits(network, train_set)
    if val_set is not None:
        _check_fits(network, val_set)
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    if not (_is_real(lr) and math.isfinite(lr) and lr > 0):
        raise InvalidArgumentError(f"lr must be a finite number > 0, got {lr!r}")
    if not (_is_real(momentum) and 0 <= momentum < 1):
        raise InvalidArgumentError(f"momentum must be in [0, 1), got {momentum!r}")
    n = len(train_set)
    if n == 0:
        raise InvalidArgumentError(f"training set {train_set.name!r} is empty")
    if val_set is not None and len(val_set) == 0:
        val_set = None
    batch_size = min(batch_size, n)
    save_path = os.fspath(save) if save is not None else None
    if save_path is not None:
        check_output_path(save_path, "checkpoint")

    # Cast once: the loop only slices these arrays.
    x = np.ascontiguousarray(train_set.x, dtype=network.dtype)
    y = one_hot(train_set.labels, network.layer_sizes[-1], dtype=network.dtype)
    val_x = None if val_set is None else np.ascontiguousarray(val_set.x, dtype=network.dtype)
    starts = list(range(0, n, batch_size))
    if drop_last and n % batch_size and len(starts) > 1:
        starts.pop()
    steps_per_epoch = len(starts)
    rng = np.random.default_rng(seed)

    history: dict[str, list[float]] = {"train_loss": [], "train_accuracy": []}
    if val_set is not None:
        history["val_accuracy"] = []
    bar = _progress_bar(epochs * steps_per_epoch, enabled=progress)
    step = 0
    stopped_early = False
    began = time.perf_counter()
    # Overflow is reported once, as a NonFiniteError naming the step, not as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), _closing(bar):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)
            total, seen = 0.0, 0
            bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
            for start in starts:
                step += 1
                rows = order[start : start + batch_size]
                xb, yb = x[rows], y[rows]
                try:
                    loss = network.train_step(xb, yb, lr, momentum)
                except NonFiniteError as err:
                    raise NonFiniteError(_diverged(epoch, step, save_path, history, err)) from err
                total += loss * len(xb)
                seen += len(xb)
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix_str(_postfix(total / seen, history), refresh=False)
            record = {
                "train_loss": total / seen,
                "train_accuracy": _accuracy(network, x, train_set.labels),
            }
            if val_set is not None and val_x is not None:
                record["val_accuracy"] = _accuracy(network, val_x, val_set.labels)
            for key, value in record.items():
                history[key].append(value)
            bar.set_postfix_str(_postfix(record["train_loss"], history), refresh=False)
            if save_path is not None:
                _save_if_finite(network, save_path, epoch, step, record["train_loss"])
            if on_epoch is not None and on_epoch(epoch, dict(record)) is True:
                stopped_early = epoch < epochs
                break
    seconds = time.perf_counter() - began
    completed = len(history["train_loss"])
    return TrainResult(
        train_loss=history["train_loss"][-1],
        train_accuracy=history["train_accuracy"][-1],
        val_accuracy=history["val_accuracy"][-1] if "val_accuracy" in history else None,
        epochs=completed,
        seconds=seconds,
        history=history,
        dataset=train_set.name,
        layer_sizes=tuple(network.layer_sizes),
        stopped_early=stopped_early,
    )


def plot_history(history: Mapping[str, Sequence[float]], path: str | os.PathLike[str]) -> None:
    """Write a PNG of the loss curve (and accuracies, on a second axis) to ``path`` atomically.

    Needs matplotlib (``pip install indexnet[plot]``); uses the Agg backend
    without touching pyplot's global state.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InvalidArgumentError(
            "plotting needs matplotlib: pip install indexnet[plot]"
        ) from None
    losses = list(history.get("train_loss", []))
    if not losses:
        raise InvalidArgumentError("plot_history: the history has no train_loss values")
    epochs = np.arange(1, len(losses) + 1)
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(epochs, losses, color="tab:blue", marker="o", markersize=3, label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss", color="tab:blue")
    if all(v > 0 for v in losses):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    acc_keys = [k for k in ("train_accuracy", "val_accuracy") if history.get(k)]
    if acc_keys:
        ax2 = ax.twinx()
        for key, colour in zip(acc_keys, ("tab:orange", "tab:green"), strict=False):
            ax2.plot(
                epochs[: len(history[key])],
                list(history[key]),
                color=colour,
                label=key.replace("_", " "),
            )
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(0.0, 1.0)
        ax2.legend(loc="center right")
    ax.legend(loc="upper right")
    ax.set_title("indexnet training")
    fig.tight_layout()
    write_figure_png(fig, path, "plot")


# -- the command line ------------------------------------------------------------------


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse ``--hidden``: a comma list of hidden-layer sizes, or ``none`` for no hidden layer.

    >>> parse_hidden("128"), parse_hidden("64, 32"), parse_hidden("none")
    ((128,), (64, 32), ())
    >>> parse_hidden("64,x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: bad --hidden '64,x': 'x' is not a positive integer; ...
    """
    if text.strip().lower() == "none":
        return ()
    sizes = []
    for part in text.split(","):
        part = part.strip()
        try:
            size = int(part)
        except ValueError:
            size = 0
        if size < 1:
            raise InvalidArgumentError(
                f"bad --hidden {text!r}: {part!r} is not a positive integer; "
                "write sizes such as 128 or 64,32 (or none)"
            )
        sizes.append(size)
    return tuple(sizes)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to an argparse subparsers object; returns its parser."""
    d = DEFAULTS
    p = subparsers.add_parser(
        "train",
        help="train the seed's network on digits, MNIST or synthetic data",
        description=(
            "Train the seed's fully connected network (sigmoid hidden layers, softmax output, "
            "cross-entropy loss) by minibatch SGD with momentum, every product through the "
            "seed's einsum formulas. The data are split into train/validation/test parts "
            "(70/10/20 for digits and synthetic; MNIST keeps its own test files and takes 10% "
            "of its training files for validation); the summary reports test accuracy."
        ),
        epilog="example: indexnet train --epochs 20 --save net.npz --plot loss.png",
    )
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="digits: scikit-learn's bundled 8x8 digits (needs indexnet[data]); "
        "mnist: the four IDX files in --data-dir; synthetic: Gaussian blobs "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder holding MNIST's IDX files (train-images-idx3-ubyte, ... plain or "
        ".gz); needed for --dataset mnist",
    )
    p.add_argument(
        "--hidden",
        default=",".join(map(str, d["hidden"])),
        metavar="SIZES",
        help="hidden-layer sizes as a comma list, e.g. 128 or 256,64; 'none' for "
        "softmax regression; no layer's weight matrix (its inputs times its outputs) "
        "may exceed 2**31 elements (default: %(default)s)",
    )
    p.add_argument(
        "--activation",
        choices=tuple(ACTIVATIONS),
        default=d["activation"],
        help="hidden-layer activation (default: %(default)s, the seed's)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=d["epochs"],
        metavar="N",
        help="passes over the training set, >= 1 (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=d["batch_size"],
        metavar="N",
        help="examples a step, >= 1; the ragged last batch of an epoch is kept "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--lr",
        type=float,
        default=d["lr"],
        metavar="RATE",
        help="learning rate, > 0 (default: %(default)s)",
    )
    p.add_argument(
        "--momentum",
        type=float,
        default=d["momentum"],
        metavar="M",
        help="momentum in [0, 1); 0 is plain SGD (default: %(default)s)",
    )
    p.add_argument(
        "--l2",
        type=float,
        default=d["l2"],
        metavar="LAMBDA",
        help="L2 penalty λ/2·Σ‖W‖² on the weights, >= 0 (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=d["seed"],
        help="seeds the data split, the initial weights and the shuffling, >= 0; the "
        "same seed gives the same run (default: %(default)s)",
    )
    p.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default=d["dtype"],
        help="floating-point type of weights and data (default: %(default)s)",
    )
    p.add_argument(
        "--save",
        metavar="PATH",
        help="save the network (.npz) atomically after every epoch with a finite "
        "loss, so the last good weights survive a crash or divergence; its folder "
        "must exist (checked before training)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write the loss and accuracy curves to this PNG, atomically; its folder "
        "must exist (checked before training; needs indexnet[plot])",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (test_accuracy, train_loss, val_accuracy, epochs, "
        "seconds, dataset, layer_sizes, history, ...) instead of the summary",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="do not show the progress bar on stderr"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Carry out ``indexnet train``: load, train, evaluate on the test part, report; returns 0."""
    hidden = parse_hidden(args.hidden)
    _positive_int("--epochs", args.epochs)
    _positive_int("--batch-size", args.batch_size)
    if args.seed < 0:
        raise InvalidArgumentError(f"--seed must be an integer >= 0, got {args.seed}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise InvalidArgumentError(f"--lr must be a finite number > 0, got {args.lr}")
    if not (0 <= args.momentum < 1):
        raise InvalidArgumentError(f"--momentum must be in [0, 1), got {args.momentum}")
    # Every output path is checked now, so a typo cannot throw away a finished run.
    if args.plot is not None:
        check_output_path(args.plot, "--plot", ".png")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise InvalidArgumentError(
                "--plot needs matplotlib: pip install indexnet[plot]"
            ) from None
    if args.save is not None:
        check_output_path(args.save, "--save")
    if args.data_dir is not None and args.dataset != "mnist":
        raise InvalidArgumentError("--data-dir is only used with --dataset mnist")
    train_set, val_set, test_set = load_dataset(args.dataset, args.data_dir, seed=args.seed)
    sizes = (train_set.d, *hidden, train_set.n_classes)
    network = Network(
        sizes, activation=args.activation, l2=args.l2, seed=args.seed, dtype=args.dtype
    )
    result = train(
        network,
        train_set,
        val_set,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        seed=args.seed,
        progress=not args.no_progress,
        save=args.save,
    )
    result.test_accuracy = accuracy(network, test_set)
    result.dataset = args.dataset
    if args.plot is not None:
        plot_history(result.history, args.plot)
    if args.json:
        out = result.to_json()
        out.update(
            activation=args.activation,
            lr=args.lr,
            momentum=args.momentum,
            l2=args.l2,
            batch_size=args.batch_size,
            seed=args.seed,
            dtype=args.dtype,
            n_train=len(train_set),
            n_val=len(val_set),
            n_test=len(test_set),
            save=args.save,
            plot=args.plot,
        )
        print(json.dumps(out))
        return 0
    net_name = "-".join(map(str, sizes))
    print(
        f"indexnet train: {args.dataset} ({len(train_set)} train, {len(val_set)} val, "
        f"{len(test_set)} test), network {net_name} {args.activation}/softmax"
    )
    print(
        f"  {result.epochs} epochs in {result.seconds:.1f} s (batch {args.batch_size}, "
        f"lr {args.lr}, momentum {args.momentum})"
    )
    val = f"{result.val_accuracy:.2%}" if result.val_accuracy is not None else "n/a"
    print(
        f"  train loss {result.train_loss:.4f}   train accuracy {result.train_accuracy:.2%}   "
        f"val accuracy {val}   test accuracy {result.test_accuracy:.2%}"
    )
    if args.save:
        print(f"  saved {args.save}")
    if args.plot:
        print(f"  plot {args.plot}")
    return 0


# -- helpers ---------------------------------------------------------------------------


def _check_fits(network: Network, dataset: Dataset) -> None:
    d, k = network.layer_sizes[0], network.layer_sizes[-1]
    if dataset.d != d:
        raise SizeMismatchError(
            f"dataset {dataset.name!r} has {dataset.d} features but the network's input "
            f"layer has {d}"
        )
    if dataset.n_classes != k:
        raise SizeMismatchError(
            f"dataset {dataset.name!r} has {dataset.n_classes} classes but the network's "
            f"output layer has {k}"
        )


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidArgumentError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _accuracy(network: Network, x: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(network.predict(x) == labels))


def _postfix(loss: float, history: dict[str, list[float]]) -> str:
    text = f"loss={loss:.4f}"
    for key, label in (("train_accuracy", "acc"), ("val_accuracy", "val_acc")):
        if history.get(key):
            text += f", {label}={history[key][-1]:.3f}"
    return text


def _save_if_finite(network: Network, path: str, epoch: int, step: int, loss: float) -> None:
    params = network.parameters()
    if not math.isfinite(loss) or not all(np.all(np.isfinite(p)) for p in params.values()):
        kept = (
            f"the last good weights (epoch {epoch - 1}) are at {path}"
            if epoch > 1
            else f"nothing was saved to {path}"
        )
        raise NonFiniteError(
            f"training diverged: epoch {epoch} (step {step}) ended with a non-finite loss or "
            f"weights, so it was not saved; {kept}"
        )
    network.save(path)


def _diverged(
    epoch: int, step: int, save: str | None, history: dict[str, list[float]], err: Exception
) -> str:
    message = f"training diverged at epoch {epoch}, step {step}: {err}"
    if save is None:
        return message + "; try a smaller learning rate"
    if history["train_loss"]:
        return message + f"; the last good weights (epoch {epoch - 1}) are at {save}"
    return message + f"; no epoch finished, so nothing was saved to {save}"


@contextlib.contextmanager
def _closing(bar: Any) -> Iterator[None]:
    try:
        yield
    finally:
        bar.close()


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_description(self, desc: str, refresh: bool = True) -> None:
        pass

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="step", leave=True, dynamic_ncols=True)
