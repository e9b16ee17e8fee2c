"""Sliced contractions on a Dask cluster: batches of slices as tasks, summed as a tree.

``contract(..., memory_limit=..., client=client)`` plans as ever; a plan
sliced to fit the limit (:mod:`indexnet.einsum.slicing`) then runs here:
the operands are scattered to the cluster once, the slices are split into
a few contiguous batches per worker thread (never one task per tiny slice),
each task sums its batch (one slice's memory at a time, on the worker), and
the partial sums are added pairwise on the cluster until one is left, which
comes back. A plan that needs no slicing runs as one task. Workers rebuild
the slice's compiled plan from a small picklable :class:`SliceJob` (so they
need indexnet installed, as a LocalCluster's do).

``client`` is a ``distributed.Client`` or a scheduler address (connected for
the call, then closed); a scheduler that cannot be reached is a
:class:`ClusterError` naming the address. dask.distributed is imported only
here, and only when a client is given.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from ..errors import ClusterError, IndexnetError, MissingExtraError
from ..typing import Shape
from .compiled import Plan, cached_plan
from .slicing import Slicing, batches

__all__ = [
    "BATCHES_PER_THREAD",
    "CONNECT_TIMEOUT_S",
    "SliceJob",
    "connect",
    "run_on_cluster",
    "using_client",
]

#: Tasks per worker thread a sliced contraction is split into (fewer when there are fewer slices).
BATCHES_PER_THREAD = 4
#: Seconds to wait for a scheduler before :class:`ClusterError`.
CONNECT_TIMEOUT_S = 10.0



@dataclass(frozen=True)
class SliceJob:
    """What a worker needs to run slices of a plan: plain data, small to pickle.

    ``slicing`` is None for a plan run whole (one task).
    """

    subscripts: str
    slice_shapes: tuple[Shape, ...]
    dtype: str
    path: tuple[tuple[int, ...], ...]
    slicing: Slicing | None

    @classmethod
    def of(cls, plan: Plan) -> SliceJob:
        """The job of ``plan``."""
        shapes = plan.shapes if plan.slicing is None else plan.slicing.slice_shapes
        return cls(str(plan.subscripts), shapes, plan.dtype,
                   tuple(tuple(step) for step in plan.path), plan.slicing)


def run_batch(job: SliceJob, start: int, stop: int, *arrays: Any) -> Any:
    """On a worker: the sum of slices ``start`` to ``stop`` (the whole contraction if unsliced)."""
    one = cached_plan(job.subscripts, job.slice_shapes, job.dtype, job.path, None)
    if job.slicing is None:
        return one.kernel(*arrays)
    return job.slicing.run(one.kernel, arrays, start, stop)


def add(a: Any, b: Any) -> Any:
    """On a worker: two partial sums added (a new array: task results are never changed)."""
    return np.add(a, b)


def _reachable(address: str, timeout: float) -> None:
    """Fail fast, with the reason, when nothing listens at a TCP ``address``."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp":
        return  # tls, inproc, ucx...: the client itself says
    try:
        host, port = parts.hostname, parts.port
    except ValueError as err:
        raise ClusterError(f"bad Dask scheduler address {address!r}: {err}",
                           address=address) from None
    if host is None or port is None:
        raise ClusterError(f"bad Dask scheduler address {address!r}: write tcp://HOST:PORT",
                           address=address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: "
                           f"{err.strerror or err}", address=address) from None


def connect(address: str, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, or a :class:`ClusterError`.

    >>> connect("tcp://127.0.0.1:1", timeout=1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.ClusterError: cannot reach the Dask scheduler at ...
    """
    _reachable(address, timeout)
    try:
        # optional (dask[distributed], in the test extra): imported only when a cluster is asked for
        from distributed import Client
    except ImportError:
        raise MissingExtraError(
            f"running on the Dask cluster at {address} needs dask.distributed: "
            "pip install 'dask[distributed]'", package="distributed"
        ) from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as err:  # anything while connecting: the scheduler cannot be used
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: "
                           f"{type(err).__name__}: {err}", address=address) from None


@contextlib.contextmanager
def using_client(client: Any, timeout: float = CONNECT_TIMEOUT_S) -> Iterator[Any]:
    """``client`` itself, or (for an address) a client connected for the block, then closed."""
    if not isinstance(client, str):
        if not callable(getattr(client, "submit", None)):
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"client must be a distributed.Client or a scheduler address, not "
                f"{type(client).__name__}"
            )
        yield client
        return
    own = connect(client, timeout)
    try:
        yield own
    finally:
        own.close()


def _address(client: Any) -> str:
    return str(getattr(getattr(client, "scheduler", None), "address", None) or client)


def _threads(client: Any) -> int:
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # an old or unusual client: one batch per slice up to a small cap
        return 1


def run_on_cluster(
    plan: Plan, arrays: Sequence[np.ndarray[Any, Any]], client: Any,
    batches_per_thread: int = BATCHES_PER_THREAD,
) -> Any:
    """Run ``plan`` on ``arrays`` on the Dask ``client``'s cluster; return the result.

    The slices of a sliced plan go in ``batches_per_thread`` batches per
    worker thread, summed on the cluster pairwise; an unsliced plan is one task.
    """
    job = SliceJob.of(plan)
    n_slices = 1 if plan.slicing is None else plan.slicing.n_slices
    ranges = batches(n_slices, batches_per_thread * _threads(client))
    try:
        scattered = client.scatter(list(arrays), hash=False)
        futures = [client.submit(run_batch, job, start, stop, *scattered, pure=False)
                   for start, stop in ranges]
        while len(futures) > 1:  # a tree sum on the cluster: log2(batches) rounds
            pairs = [client.submit(add, futures[i], futures[i + 1], pure=False)
                     for i in range(0, len(futures) - 1, 2)]
            futures = pairs + futures[len(pairs) * 2:]
        return futures[0].result()
    except IndexnetError:
        raise
    except Exception as err:  # a worker lost, indexnet missing there...: the cluster's failure
        raise ClusterError(f"the Dask cluster at {_address(client)} failed to run the "
                           f"contraction: {type(err).__name__}: {err}",
                           address=_address(client)) from err


def timed_run(plan: Plan, arrays: Sequence[Any], client: Any) -> tuple[Any, float]:
    """:func:`run_on_cluster` and its wall-clock seconds."""
    start = time.perf_counter()
    result = run_on_cluster(plan, arrays, client)
    return result, time.perf_counter() - start
