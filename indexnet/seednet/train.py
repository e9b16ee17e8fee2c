"""Training the seed's network: minibatch SGD, history, safe checkpoints, plots.

:func:`train` runs minibatch stochastic gradient descent (with optional
momentum) through :meth:`Network.train_step <indexnet.seednet.nn.Network.train_step>`,
shuffling with a seeded generator so the same seed gives the same run. After
every epoch it records the mean training loss and the training and validation
accuracy (and the validation loss), and, when ``save`` is given, writes the
weights atomically whenever they are the best seen (by validation loss, else
by training loss, and better than the starting weights), so a worse epoch
never replaces a better one. A non-finite loss stops training with a
:class:`~indexnet.NonFiniteError` naming the epoch and the step; a divergence
with finite numbers (the loss far above its start, or accuracy fallen back to
chance, for :data:`DIVERGENCE_PATIENCE` epochs) with a
:class:`~indexnet.errors.DivergenceError`, the network holding its best weights.

>>> from indexnet.seednet.nn import Network
>>> from indexnet.seednet.data import split, synthetic
>>> tr, va, te = split(synthetic(n=300, d=5, k=3), seed=0)
>>> net = Network((5, 16, 3), seed=0)
>>> result = train(net, tr, va, epochs=5, progress=False)
>>> result.epochs, accuracy(net, te) > 0.9
(5, True)
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import DivergenceError, InvalidArgumentError, NonFiniteError, SizeMismatchError
from ..fileio import check_output_path, write_figure_png
from ..validate import fraction, positive_int, positive_real
from .backends import to_numpy
from .data import Dataset, one_hot
from .nn import Network

__all__ = [
    "DEFAULTS",
    "DIVERGENCE_PATIENCE",
    "TrainResult",
    "accuracy",
    "plot_history",
    "progress_bar",
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

#: Epochs in a row that must look diverged before training stops (the last epoch of a
#: run counts at once): the mean training loss above twice its start (and at least 1
#: above it), or the training accuracy back at chance after being well above it.
DIVERGENCE_PATIENCE = 3

#: Called after each epoch with the epoch number (1-based) and that epoch's record
#: (``train_loss``, ``train_accuracy``, ``val_accuracy``); return True to stop early.
EpochCallback = Callable[[int, dict[str, Any]], Any]


@dataclass
class TrainResult:
    """What a training run produced; ``test_accuracy`` stays ``None`` until evaluated.

    ``history`` maps ``train_loss``, ``train_accuracy``, ``val_loss`` and
    ``val_accuracy`` (the last two absent without a validation set) to one
    value per completed epoch. ``best_epoch`` is the epoch with the best
    validation loss (training loss without a validation set), the one ``save``
    kept; 0 when no epoch beat the starting weights.
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
    best_epoch: int = 0

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

    Args:
        network: the network to train; its weights change in place.
        train_set: the examples to learn from; must fit the network's input and output sizes.
        val_set: examples for the validation accuracy of every epoch (optional).
        epochs: passes over ``train_set`` (>= 1).
        batch_size: examples a step (>= 1; capped at the training set's size).
            Each epoch's examples are shuffled and cut into batches of that size; the
            ragged last batch is kept (so two batch sizes are planned, once each), or
            dropped when ``drop_last`` is true (its examples come up in other epochs).
        lr: step size (> 0).
        momentum: momentum (in [0, 1)).
        seed: seeds the shuffling; the same seed (and network) gives the same run.
        progress: a tqdm bar on stderr showing the running loss and accuracy.
        save: save the network atomically here after every epoch that is the best
            so far (by validation loss, else training loss) and better than the
            starting weights; a worse epoch never replaces a better one.
        on_epoch: ``on_epoch(epoch, record)`` after every epoch; return True to stop.
        drop_last: drop each epoch's ragged last batch (see ``batch_size``).

    Raises:
        NonFiniteError: a loss went non-finite; the message names the epoch and
            global step (the weights stay as they were before that step).
        DivergenceError: the loss stayed far above its start, or the accuracy
            fell back to chance, for :data:`DIVERGENCE_PATIENCE` epochs (or in
            the last epoch); the network is given back its best weights.
    """
    _check_fits(network, train_set)
    if val_set is not None:
        _check_fits(network, val_set)
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    lr = positive_real("lr", lr)
    momentum = fraction("momentum", momentum)
    n = len(train_set)
    if n == 0:
        raise InvalidArgumentError(f"training set {train_set.name!r} is empty")
    if val_set is not None and len(val_set) == 0:
        val_set = None
    batch_size = min(batch_size, n)
    save_path = None if save is None else check_output_path(save, "checkpoint")

    history: dict[str, list[float]] = {"train_loss": [], "train_accuracy": []}
    val = None
    k = network.layer_sizes[-1]
    if val_set is not None:
        history["val_loss"] = []
        history["val_accuracy"] = []
        val = (network.as_dataset(val_set.x), val_set.labels,
               network.as_dataset(one_hot(val_set.labels, k, dtype=network.dtype)))
    starts = _batch_starts(n, batch_size, drop_last)
    x = network.as_dataset(train_set.x)  # on the network's backend and device
    y = network.as_dataset(one_hot(train_set.labels, k, dtype=network.dtype))
    loop = _Loop(  # x, y and val are cast once: the loop only slices them
        network=network,
        x=x,
        y=y,
        labels=train_set.labels,
        val=val,
        guard=_Guard.start(network, x, y, train_set.labels, val),
        starts=starts,
        batch_size=batch_size,
        lr=lr,
        momentum=momentum,
        save_path=save_path,
        bar=progress_bar(epochs * len(starts), enabled=progress),
        history=history,
    )
    rng = np.random.default_rng(seed)
    stopped_early = False
    began = time.perf_counter()
    # Overflow is reported once, as a NonFiniteError naming the step, not as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), _closing(loop.bar):
        for epoch in range(1, epochs + 1):
            loop.bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
            record = loop.epoch(epoch, network.as_rows(rng.permutation(n)))
            loop.check_divergence(epoch, last=epoch == epochs)
            if on_epoch is not None and on_epoch(epoch, dict(record)) is True:
                stopped_early = epoch < epochs
                break
    return TrainResult(
        train_loss=history["train_loss"][-1],
        train_accuracy=history["train_accuracy"][-1],
        val_accuracy=history["val_accuracy"][-1] if "val_accuracy" in history else None,
        epochs=len(history["train_loss"]),
        seconds=time.perf_counter() - began,
        history=history,
        dataset=train_set.name,
        layer_sizes=tuple(network.layer_sizes),
        stopped_early=stopped_early,
        best_epoch=loop.guard.best_epoch,
    )


def plot_history(history: Mapping[str, Sequence[float]], path: str | os.PathLike[str]) -> None:
    """Write a PNG of the loss curve (and accuracies, on a second axis) to ``path`` atomically.

    Needs matplotlib (``pip install indexnet[plot]``); uses the Agg backend
    without touching pyplot's global state.
    """
    try:  # matplotlib is optional (indexnet[plot]): imported only to plot
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


def _accuracy(network: Network, x: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(to_numpy(network.predict(x)) == labels))


def _batch_starts(n: int, batch_size: int, drop_last: bool) -> list[int]:
    """Where each batch of an epoch starts; without the ragged last one if ``drop_last``."""
    starts = list(range(0, n, batch_size))
    if drop_last and n % batch_size and len(starts) > 1:
        starts.pop()
    return starts


@dataclass
class _Loop:
    """One training run's state: the data cast once, the batches, the history so far."""

    network: Network
    x: Any  # the network's backend's arrays (NumPy's, torch's...)
    y: Any  # one-hot targets of x
    labels: np.ndarray
    val: tuple[Any, np.ndarray, Any] | None  # validation x, labels, one-hot y
    guard: _Guard
    starts: list[int]
    batch_size: int
    lr: float
    momentum: float
    save_path: str | None
    bar: Any
    history: dict[str, list[float]]
    step: int = 0  # global: steps of every epoch so far

    def epoch(self, epoch: int, order: Any) -> dict[str, float]:
        """One pass over the batches of ``order``; returns the epoch's record (also kept).

        With a save path, the network is saved after the epoch if its loss and
        weights are finite and it is the best so far (see :class:`_Guard`).
        """
        total, seen = 0.0, 0
        for start in self.starts:
            self.step += 1
            rows = order[start : start + self.batch_size]
            xb, yb = self.x[rows], self.y[rows]
            try:
                loss = self.network.train_step(xb, yb, self.lr, self.momentum)
            except NonFiniteError as err:
                message = _diverged(epoch, self.step, self.save_path, self.guard, err)
                raise NonFiniteError(message) from err
            total += loss * len(xb)
            seen += len(xb)
            self.bar.update(1)
            if self.step % 20 == 0:
                self.bar.set_postfix_str(_postfix(total / seen, self.history), refresh=False)
        record = {
            "train_loss": total / seen,
            "train_accuracy": _accuracy(self.network, self.x, self.labels),
        }
        if self.val is not None:
            record["val_loss"] = _finite_or_inf(self.network.loss(self.val[0], self.val[2]))
            record["val_accuracy"] = _accuracy(self.network, *self.val[:2])
        for key, value in record.items():
            self.history[key].append(value)
        self.bar.set_postfix_str(_postfix(record["train_loss"], self.history), refresh=False)
        if self.save_path is not None:
            _check_finite(self.network, self.save_path, epoch, self.step, record["train_loss"],
                          self.guard)
        score = record.get("val_loss", record["train_loss"])
        if self.guard.improved(epoch, score, self.network) and self.save_path is not None:
            self.network.save(self.save_path)
        return record

    def check_divergence(self, epoch: int, *, last: bool) -> None:
        """Raise DivergenceError (restoring the best weights) if training has diverged."""
        why = self.guard.diverging(self.history, last=last)
        if why:
            self.guard.restore(self.network)
            raise DivergenceError(_divergence_message(epoch, why, self.save_path, self.guard),
                                  epoch=epoch, best_epoch=self.guard.best_epoch)


def _postfix(loss: float, history: dict[str, list[float]]) -> str:
    text = f"loss={loss:.4f}"
    for key, label in (("train_accuracy", "acc"), ("val_accuracy", "val_acc")):
        if history.get(key):
            text += f", {label}={history[key][-1]:.3f}"
    return text


def _finite_or_inf(loss: float) -> float:
    """``loss``, or infinity when it is NaN (an overflowed loss ranks last)."""
    return float(loss) if math.isfinite(loss) or loss == math.inf else math.inf


def _check_finite(network: Network, path: str, epoch: int, step: int, loss: float,
                  guard: _Guard) -> None:
    """Raise NonFiniteError when the epoch ended with a non-finite loss or weights."""
    params = network.parameters()
    if not math.isfinite(loss) or not all(np.all(np.isfinite(to_numpy(p)))
                                          for p in params.values()):
        raise NonFiniteError(
            f"training diverged: epoch {epoch} (step {step}) ended with a non-finite loss or "
            f"weights, so it was not saved; {_kept(path, guard)}"
        )


def _kept(save: str | None, guard: _Guard) -> str:
    """Where the best weights are: ``save`` (and which epoch), or that nothing was saved."""
    if save is None:
        return "try a smaller learning rate"
    if guard.best_epoch:
        return f"the best weights (epoch {guard.best_epoch}) are at {save}"
    return f"no epoch improved on the starting weights, so {save} was not written"


def _diverged(epoch: int, step: int, save: str | None, guard: _Guard, err: Exception) -> str:
    message = f"training diverged at epoch {epoch}, step {step}: {err}"
    if save is None:
        return message + "; try a smaller learning rate"
    if guard.best_epoch:
        return message + f"; {_kept(save, guard)}"
    return message + f"; no epoch finished better than the start, so nothing was saved to {save}"


def _divergence_message(epoch: int, why: str, save: str | None, guard: _Guard) -> str:
    """The one line of a DivergenceError: when, why, and where the best weights are."""
    kept = (f"the network holds the best weights (epoch {guard.best_epoch})"
            if guard.best_epoch else "the network holds its starting weights again")
    where = f"; {_kept(save, guard)}" if save is not None else ""
    return (f"training diverged at epoch {epoch}: {why}; {kept}{where}; try a smaller "
            "learning rate")


@dataclass
class _Guard:
    """The best weights seen (by the selection loss), and the signs of divergence.

    The selection loss is the validation loss, else the epoch's mean training
    loss; epoch 0 is the starting weights, which an epoch must beat to count.
    """

    start_loss: float  # training loss of the starting weights
    best_score: float  # the best selection loss so far (the start's, at first)
    chance: float  # the accuracy of always answering the commonest class
    best_epoch: int = 0
    best_params: dict[str, np.ndarray] | None = None
    peak_accuracy: float = 0.0
    streak: int = 0

    @classmethod
    def start(cls, network: Network, x: Any, y: Any, labels: np.ndarray,
              val: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> _Guard:
        """The guard of a run starting from ``network``'s present weights."""
        start_loss = _finite_or_inf(network.loss(x, y))
        score = start_loss if val is None else _finite_or_inf(network.loss(val[0], val[2]))
        counts = np.bincount(np.asarray(labels, dtype=np.int64))
        chance = float(counts.max() / counts.sum()) if counts.size else 0.0
        kept = {k: to_numpy(v).copy() for k, v in network.parameters().items()}
        return cls(start_loss, score, chance, best_params=kept)

    def improved(self, epoch: int, score: float, network: Network) -> bool:
        """Whether ``epoch`` (selection loss ``score``) is the best yet; if so, remember it."""
        if not score < self.best_score:
            return False
        self.best_score, self.best_epoch = score, epoch
        self.best_params = {k: to_numpy(v).copy() for k, v in network.parameters().items()}
        return True

    def restore(self, network: Network) -> None:
        """Give ``network`` the best weights seen (the starting ones when none was better)."""
        if self.best_params is not None:
            network.set_parameters(self.best_params)  # momentum starts afresh

    def diverging(self, history: Mapping[str, Sequence[float]], *, last: bool) -> str:
        """Why the latest epoch of ``history`` ends a divergent run; '' when it does not."""
        loss, acc = history["train_loss"][-1], history["train_accuracy"][-1]
        self.peak_accuracy = max(self.peak_accuracy, acc)
        bound = max(2 * self.start_loss, self.start_loss + 1)
        why = ""
        if loss > bound:
            why = (f"the training loss {loss:.4g} is more than twice its start "
                   f"{self.start_loss:.4g}")
        elif self._collapsed(acc):
            why = (f"the training accuracy fell from {self.peak_accuracy:.1%} back to "
                   f"{acc:.1%} (chance is {self.chance:.1%})")
        self.streak = self.streak + 1 if why else 0
        if why and (self.streak >= DIVERGENCE_PATIENCE or last):
            return f"{why}, {self.streak} epoch{'s' if self.streak > 1 else ''} in a row"
        return ""

    def _collapsed(self, acc: float) -> bool:
        """Accuracy back at chance after having been well above it."""
        room = 1.0 - self.chance
        return self.peak_accuracy >= self.chance + 0.25 * room and acc <= self.chance + 0.02 * room


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


def progress_bar(total: int, enabled: bool, unit: str = "step") -> Any:
    """A tqdm bar on stderr counting ``unit``s, or one that shows nothing when not ``enabled``."""
    if not enabled:
        return _NoBar()
    return tqdm(total=total, file=sys.stderr, unit=unit, leave=True, dynamic_ncols=True)
