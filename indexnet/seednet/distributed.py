"""The seed's network on a Dask cluster: full-batch (or large-batch) gradients in chunks.

The data are Dask arrays chunked along the rows (``n``), on the cluster:
made there (:func:`synthetic_chunks` draws each chunk on a worker from a
seed, so nothing is shipped from the client), or NumPy arrays the client
scatters once. A gradient is one task per chunk: the worker rebuilds the
network from a small spec, runs the seed's forward and backward passes on
its chunk with NumPy and returns one vector, the chunk's *sums* (loss,
correct predictions, rows, every gradient); the vectors are added pairwise
on the cluster and only the total comes back. The L2 term is the client's,
added once. The chunk tasks of generated data are fused with their
generation, so a worker holds a chunk only while it works on it; Dask
retries a chunk whose worker died.

:func:`train_on_cluster` runs gradient descent with those gradients: the
client holds the weights, steps them, feeds the progress bar as chunk
tasks finish, and is the only one that writes checkpoints.

>>> x, y = synthetic_chunks(1000, d=4, k=3, chunk_rows=300)
>>> x.chunks[0], y.shape
((300, 300, 300, 100), (1000, 3))
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    ClusterError,
    IndexnetError,
    InvalidArgumentError,
    NonFiniteError,
    SizeMismatchError,
)
from ..fileio import check_output_path
from ..validate import fraction, positive_int, positive_real
from .data import Dataset
from .nn import Network
from .train import TrainResult, progress_bar

__all__ = [
    "LOCAL",
    "ClusterGradient",
    "NetworkSpec",
    "chunk_sums",
    "local_cluster",
    "open_cluster",
    "synthetic_chunks",
    "synthetic_dataset",
    "train_on_cluster",
]

#: The address that asks for a cluster on this machine: a ``LocalCluster`` of processes.
LOCAL = "local"

#: Rows a chunk holds by default.
CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class NetworkSpec:
    """What a worker needs to rebuild a network (small to pickle): no weights, no L2."""

    layer_sizes: tuple[int, ...]
    activation: str
    output: str
    dtype: str

    @classmethod
    def of(cls, network: Network) -> NetworkSpec:
        """The spec of ``network``."""
        return cls(tuple(network.layer_sizes), network.activation, network.output,
                   str(network.dtype))

    def size(self) -> int:
        """Length of a chunk's vector: loss, correct, rows, then every gradient."""
        return 3 + sum(d * h + h for d, h in zip(self.layer_sizes, self.layer_sizes[1:]))


#: One network per spec in each worker process (its plans are made once per chunk size).
_NETWORKS: dict[NetworkSpec, Network] = {}


def chunk_sums(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray],
               spec: NetworkSpec) -> np.ndarray:
    """On a worker: one chunk's sums, ``[loss, correct, rows, ∂W1, ∂b1, ...]``, as a row.

    The loss and the gradients are sums over the chunk's rows (the client
    divides by the rows of the whole batch), without the L2 term.

    >>> net = Network((3, 4, 2), seed=0)
    >>> x, y = np.ones((5, 3)), np.eye(2)[[0, 1, 1, 0, 1]]
    >>> v = chunk_sums(x, y, net.parameters(), NetworkSpec.of(net))
    >>> v.shape, float(v[0, 2]), bool(np.isclose(v[0, 0] / 5, net.loss(x, y)))
    ((1, 29), 5.0, True)
    """
    net = _NETWORKS.get(spec)
    if net is None:
        net = _NETWORKS[spec] = Network(spec.layer_sizes, activation=spec.activation,
                                        output=spec.output, dtype=spec.dtype)
    trial = copy.copy(net)  # this task's weights; the cached plans are shared
    trial._params = params
    n = len(x)
    x = trial._inputs(x)
    y = trial._targets(y, n)
    plans = trial._batch_plans(n)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        xs = trial._forward(x, plans)
        loss = trial._loss(xs, y, plans) * n
        grads = trial._backward(xs, y, plans, scale=float(n))  # Σ over rows, not the mean
    correct = np.count_nonzero(np.argmax(xs[-1], axis=1) == np.argmax(y, axis=1))
    parts = [np.array([loss, correct, n], dtype=np.float64)]
    parts += [grads[name].ravel() for pair in trial._names for name in pair]
    return np.concatenate(parts)[None, :]


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.add(a, b)


# -- data made on the workers ---------------------------------------------------------------


def _row_chunks(n: int, chunk_rows: int) -> tuple[int, ...]:
    full, rest = divmod(n, chunk_rows)
    return (chunk_rows,) * full + ((rest,) if rest else ())


def _blob_rows(block_id: tuple[int, ...], seed: int, rows: tuple[int, ...],
               centres: np.ndarray, stream: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and points of one chunk, drawn from the chunk's own seed."""
    rng = np.random.default_rng([seed, stream, block_id[0]])
    labels = rng.integers(0, len(centres), size=rows[block_id[0]])
    return labels, centres[labels] + rng.standard_normal((len(labels), centres.shape[1]))


def _blob_x(block_id: tuple[int, ...] | None = None, *, seed: int, rows: tuple[int, ...],
            centres: np.ndarray, kind: str, stream: int) -> np.ndarray:
    assert block_id is not None
    return _blob_rows(block_id, seed, rows, centres, stream)[1].astype(kind, copy=False)


def _blob_y(block_id: tuple[int, ...] | None = None, *, seed: int, rows: tuple[int, ...],
            centres: np.ndarray, kind: str, stream: int) -> np.ndarray:
    assert block_id is not None
    labels = _blob_rows(block_id, seed, rows, centres, stream)[0]
    return np.eye(len(centres), dtype=kind)[labels]


def synthetic_chunks(n: int, d: int = 20, k: int = 3, chunk_rows: int = CHUNK_ROWS,
                     seed: int = 0, dtype: str = "float64", stream: int = 0) -> tuple[Any, Any]:
    """``k`` Gaussian blobs in ``d`` dimensions, ``n`` rows, as lazy Dask arrays ``(x, y)``.

    Each chunk of ``chunk_rows`` rows is drawn where it is computed (on a
    worker) from ``[seed, stream, chunk number]``: nothing but the ``k`` class
    centres travels, the same seed gives the same data, and a chunk dropped
    from memory is drawn again identically. ``y`` is one-hot. Another
    ``stream`` draws other points around the same centres (a held-out set).
    """
    import dask.array as da  # deferred: optional (dask[array], in the test extra)

    for name, value in (("n", n), ("d", d), ("k", k), ("chunk_rows", chunk_rows)):
        positive_int(f"synthetic_chunks: {name}", value)
    centres = _centres(seed, k, d)
    rows = _row_chunks(n, chunk_rows)
    common = {"seed": seed, "rows": rows, "centres": centres, "kind": dtype, "stream": stream}
    x = da.map_blocks(_blob_x, chunks=(rows, (d,)), dtype=dtype,
                      meta=np.empty((0, d), dtype), **common)
    y = da.map_blocks(_blob_y, chunks=(rows, (k,)), dtype=dtype,
                      meta=np.empty((0, k), dtype), **common)
    return x, y


def synthetic_dataset(n: int, d: int = 20, k: int = 3, seed: int = 0, stream: int = 1) -> Dataset:
    """``n`` rows of :func:`synthetic_chunks`'s blobs drawn here, as a Dataset (held-out sets).

    >>> synthetic_dataset(10, d=4).x.shape
    (10, 4)
    """
    labels, x = _blob_rows((0,), seed, (n,), _centres(seed, k, d), stream)
    return Dataset("synthetic", x, labels, k)


def _centres(seed: int, k: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(k, d))


# -- connecting ------------------------------------------------------------------------------


def local_cluster(workers: int = 2, threads: int = 1, memory_limit: str | int | None = None,
                  quiet: bool = False) -> Any:
    """A ``LocalCluster`` of ``workers`` processes on this machine.

    Its scheduler's HTTP server takes a free port, so that clusters started
    side by side never collide on Dask's fixed 8787.

    ``quiet`` keeps the workers' and scheduler's warnings (a restarted worker,
    memory use) off stderr; errors still show.
    """
    from distributed import LocalCluster  # deferred: optional (dask[distributed])

    return LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                        dashboard_address=":0",
                        memory_limit=memory_limit if memory_limit is not None else "auto",
                        silence_logs=logging.ERROR if quiet else logging.WARNING)


@contextlib.contextmanager
def open_cluster(address: str, workers: int = 2, memory_limit: str | int | None = None,
                 quiet: bool = True) -> Iterator[Any]:
    """A ``distributed.Client`` for the block, closed after.

    The client of a new local cluster of ``workers`` processes (``"local"``),
    or of the scheduler at ``address``. A scheduler that cannot be reached is a
    :class:`~indexnet.errors.ClusterError` naming the address.
    """
    from ..einsum.distributed import connect  # the engine's one way to reach a scheduler

    if quiet:  # the cluster's INFO lines would bury the progress bar
        logging.getLogger("distributed").setLevel(logging.ERROR)
    if address == LOCAL:
        from distributed import Client  # deferred: optional

        with local_cluster(workers, memory_limit=memory_limit, quiet=quiet) as cluster, \
                Client(cluster, set_as_default=False) as client:
            yield client
        return
    client = connect(address)
    try:
        yield client
    finally:
        client.close()


# -- gradients on the cluster ---------------------------------------------------------------


class ClusterGradient:
    """Loss and gradients of a network over Dask arrays, computed chunk by chunk on a cluster.

    Args:
        client: a ``distributed.Client``.
        x: inputs, a Dask array chunked along the rows only, or a NumPy array
            (scattered to the cluster once, in chunks of ``chunk_rows``).
        y: one-hot (or real) targets, chunked as ``x``.
        persist: keep the chunks in the workers' memory after the first
            gradient (only for data that fits); by default generated data
            are drawn again for every gradient and NumPy data stay scattered.
    """

    def __init__(self, client: Any, x: Any, y: Any, *, chunk_rows: int = CHUNK_ROWS,
                 persist: bool = False) -> None:
        import dask.array as da  # deferred: optional

        self.client = client
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            x, y = (da.from_array(np.asarray(a), chunks=(chunk_rows, -1)) for a in (x, y))
            persist = True  # the client holds them anyway: send them once
        if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
            raise SizeMismatchError(f"x and y must be (n, d) and (n, k) arrays with the same "
                                    f"rows, got {x.shape} and {y.shape}")
        if len(x.chunks[1]) != 1 or len(y.chunks[1]) != 1:
            x, y = x.rechunk({1: -1}), y.rechunk({1: -1})
        if x.chunks[0] != y.chunks[0]:
            y = y.rechunk({0: x.chunks[0]})
        if persist:
            x, y = client.persist([x, y])
        self.x, self.y = x, y
        self.rows: tuple[int, ...] = tuple(int(r) for r in x.chunks[0])
        self.n = int(sum(self.rows))

    @property
    def chunks(self) -> int:
        """Number of chunks (one task each per gradient)."""
        return len(self.rows)

    def sums(self, network: Network, chunks: Sequence[int] | None = None,
             on_chunk: Callable[[], Any] | None = None) -> np.ndarray:
        """The vector of sums (see :func:`chunk_sums`) over ``chunks`` (all by default).

        ``on_chunk()`` is called as each chunk's task finishes.
        """
        import dask.array as da  # deferred: optional
        from dask import delayed
        from distributed import as_completed

        _check_backend(network)
        spec = NetworkSpec.of(network)
        params = {k: np.ascontiguousarray(v) for k, v in network.parameters().items()}
        client = self.client
        # the weights travel inside the graph, as one key: a worker lost with them is
        # recomputed from it (scattered data would be lost with the worker)
        held = delayed(params, pure=False, traverse=False)
        size = spec.size()
        # one (1, size) row per chunk; blockwise, so a generated chunk's drawing fuses into it
        # (x and y hold one chunk of columns each: "ij" for both, unaligned, is what lets
        # Dask fuse the chunk's drawing and this task)
        parts = da.blockwise(chunk_sums, "ij", self.x, "ij", self.y, "ij", held, None, spec, None,
                             adjust_chunks={"i": 1, "j": size}, align_arrays=False,
                             dtype=np.float64, meta=np.empty((0, size)))
        blocks = parts.to_delayed().ravel()
        chosen = [blocks[i] for i in (range(self.chunks) if chunks is None else chunks)]
        try:
            futures = client.compute(chosen)
            pending = list(futures)
            while len(pending) > 1:  # a tree sum on the cluster, queued as the chunks finish
                pairs = [client.submit(_add, pending[i], pending[i + 1], pure=False)
                         for i in range(0, len(pending) - 1, 2)]
                pending = pairs + pending[len(pairs) * 2:]
            if on_chunk is not None:
                for _ in as_completed(futures, loop=client.loop):
                    on_chunk()
            total = pending[0].result()
        except IndexnetError:
            raise
        except Exception as err:  # a chunk failed more often than Dask retries it, ...
            address = str(getattr(client.scheduler, "address", client))
            raise ClusterError(f"the Dask cluster at {address} failed to compute the gradient: "
                               f"{type(err).__name__}: {err}", address=address) from err
        return np.asarray(total)[0]

    def loss_and_gradients(self, network: Network, chunks: Sequence[int] | None = None,
                           on_chunk: Callable[[], Any] | None = None,
                           ) -> tuple[float, dict[str, np.ndarray], float]:
        """Mean loss (L2 included), mean gradients and accuracy over ``chunks`` (all by default).

        Equal to ``network.loss_and_gradients`` on all the rows at once, in
        NumPy, up to rounding.
        """
        total = self.sums(network, chunks, on_chunk)
        rows = total[2]
        loss = total[0] / rows
        grads: dict[str, np.ndarray] = {}
        at = 3
        params = network.parameters()
        for w_name, b_name in network._names:
            for name in (w_name, b_name):
                shape = params[name].shape
                size = int(np.prod(shape))
                grads[name] = (total[at:at + size] / rows).reshape(shape).astype(network.dtype)
                at += size
        if network.l2:
            for w_name, _ in network._names:
                w = params[w_name]
                loss += 0.5 * network.l2 * float(np.vdot(w, w))
                grads[w_name] += network.l2 * w
        return float(loss), {name: grads[name] for name in params}, float(total[1] / rows)


# -- training --------------------------------------------------------------------------------


def _finite_or_inf(loss: float) -> float:
    return loss if math.isfinite(loss) else math.inf


def _batches(rows: Sequence[int], batch_rows: int | None) -> list[list[int]]:
    """Consecutive chunks grouped into batches of at least ``batch_rows`` rows (all: None)."""
    if batch_rows is None:
        return [list(range(len(rows)))]
    groups: list[list[int]] = [[]]
    held = 0
    for i, r in enumerate(rows):
        if held >= batch_rows:
            groups.append([])
            held = 0
        groups[-1].append(i)
        held += r
    return groups


def train_on_cluster(
    network: Network,
    gradient: ClusterGradient,
    *,
    epochs: int = 40,
    lr: float = 0.2,
    momentum: float = 0.9,
    batch_rows: int | None = None,
    seed: int = 0,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    save: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Gradient descent on the cluster's gradients; the weights and checkpoints stay here.

    Each epoch passes over the data once: one full-batch step (``batch_rows``
    None), or one step per batch of consecutive chunks holding at least
    ``batch_rows`` rows, the batches in a seeded random order. ``val`` is a
    small validation set ``(x, labels)`` held by the client. With ``save``,
    the client writes the network after every epoch that is the best so far
    (by validation loss, else training loss) and, with a validation set,
    better than the starting weights; the workers never write.

    Raises:
        NonFiniteError: a loss went non-finite; the weights are as before that step.
    """
    _check_backend(network)
    epochs = positive_int("epochs", epochs)
    lr = positive_real("lr", lr)
    momentum = fraction("momentum", momentum)
    if batch_rows is not None:
        batch_rows = positive_int("batch_rows", batch_rows)
    save_path = None if save is None else check_output_path(save, "checkpoint")
    groups = _batches(gradient.rows, batch_rows)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"train_loss": [], "train_accuracy": []}
    if val is not None:
        history["val_loss"], history["val_accuracy"] = [], []
        k = network.layer_sizes[-1]
        val_y = np.eye(k, dtype=network.dtype)[np.asarray(val[1])]
    bar = progress_bar(epochs * gradient.chunks, progress, unit="chunk")
    velocity = {name: np.zeros_like(p) for name, p in network.parameters().items()}
    # an epoch must beat the starting weights (on the validation set, when there is one)
    best = math.inf if val is None else _finite_or_inf(network.loss(val[0], val_y))
    best_epoch, step = 0, 0
    began = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
            total = correct = 0.0
            order = rng.permutation(len(groups)) if len(groups) > 1 else [0]
            for g in order:
                step += 1
                loss, grads, acc = gradient.loss_and_gradients(
                    network, groups[g], on_chunk=lambda: bar.update(1))
                if not math.isfinite(loss):
                    raise NonFiniteError(f"training diverged at epoch {epoch}, step {step}: "
                                         f"loss is {loss}; the weights were left unchanged; "
                                         "try a smaller learning rate")
                rows = sum(gradient.rows[i] for i in groups[g])
                total += loss * rows
                correct += acc * rows
                params = network.parameters()
                for name, grad in grads.items():
                    v = velocity[name]
                    v *= momentum
                    v -= lr * grad
                    params[name] += v
            record = {"train_loss": total / gradient.n, "train_accuracy": correct / gradient.n}
            if val is not None:
                record["val_loss"] = network.loss(val[0], val_y)
                record["val_accuracy"] = float(np.mean(network.predict(val[0]) == val[1]))
            for key, value in record.items():
                history[key].append(float(value))
            bar.set_postfix_str(f"loss={record['train_loss']:.4f}", refresh=False)
            score = record.get("val_loss", record["train_loss"])
            if score < best:
                best, best_epoch = score, epoch
                if save_path is not None:
                    network.save(save_path)  # the client's write, atomic
    finally:
        bar.close()
    return TrainResult(
        train_loss=history["train_loss"][-1],
        train_accuracy=history["train_accuracy"][-1],
        val_accuracy=history["val_accuracy"][-1] if val is not None else None,
        epochs=len(history["train_loss"]),
        seconds=time.perf_counter() - began,
        history=history,
        layer_sizes=tuple(network.layer_sizes),
        best_epoch=best_epoch,
    )


def _check_backend(network: Network) -> None:
    if network.backend != "numpy":
        raise InvalidArgumentError(
            f"a network on the Dask cluster computes with NumPy on the workers; this one "
            f"runs on {network.backend}")
