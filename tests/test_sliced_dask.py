"""Sliced contractions on a Dask cluster: one LocalCluster (two worker processes) per module.

The sliced results are checked against the unsliced plan run locally, and
against ``np.einsum``. The cluster starts once, with no dashboard; every test
here is quick.
"""

from __future__ import annotations

import importlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from indexnet import ClusterError, InvalidArgumentError, contract, plan
from indexnet.einsum.distributed import connect, run_on_cluster

pytest.importorskip("cotengra")
distributed = pytest.importorskip("distributed")

cli_module = importlib.import_module("indexnet.cli.main")

# the seed's chain: no unsliced path keeps within 2,560 elements (the smallest is 7,840)
CHAIN = ("nd,dh,hk->nk", [(256, 784), (784, 256), (256, 10)])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()


def arrays_for(shapes: list[tuple[int, ...]], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def free_address() -> str:
    """The address of a local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


class CountingClient:
    """A client that counts the tasks submitted through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.submitted: list[str] = []

    def submit(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self.submitted.append(func.__name__)
        return self.client.submit(func, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_sliced_on_the_cluster_equals_unsliced(client: Any) -> None:
    eq, shapes = CHAIN
    arrays = arrays_for(shapes)
    sliced = plan(eq, *shapes, memory_limit=2560)
    assert sliced.slicing is not None and sliced.slicing.n_slices > 1
    got = contract(eq, *arrays, memory_limit=2560, client=client)
    unsliced = contract(eq, *arrays)
    np.testing.assert_allclose(got, unsliced, rtol=1e-10)
    np.testing.assert_allclose(got, arrays[0] @ arrays[1] @ arrays[2], rtol=1e-10)


def test_thousands_of_slices_go_in_a_few_batches(client: Any) -> None:
    eq, shapes = "ab,bc,ca->", [(40, 20), (20, 40), (40, 40)]
    arrays = arrays_for(shapes, 1)
    p = plan(eq, *shapes, memory_limit=1)  # one element at a time: hundreds of slices
    assert p.slicing is not None and p.slicing.n_slices >= 400
    counting = CountingClient(client)
    got = run_on_cluster(p, arrays, counting)
    batches = counting.submitted.count("run_batch")
    assert 1 < batches <= 4 * 2  # four per worker thread, not one per slice
    assert counting.submitted.count("add") == batches - 1  # a tree sum
    np.testing.assert_allclose(got, np.trace(arrays[0] @ arrays[1] @ arrays[2]), rtol=1e-10)


def test_unsliced_plan_is_one_task(client: Any) -> None:
    eq, shapes = "ij,jk->ik", [(5, 6), (6, 7)]
    arrays = arrays_for(shapes, 2)
    counting = CountingClient(client)
    got = run_on_cluster(plan(eq, *shapes), arrays, counting)
    assert counting.submitted == ["run_batch"]
    np.testing.assert_allclose(got, arrays[0] @ arrays[1], rtol=1e-12)


def test_a_scheduler_address_connects_for_the_call(cluster: Any) -> None:
    eq, shapes = CHAIN
    arrays = arrays_for(shapes, 3)
    got = contract(eq, *arrays, memory_limit=2560, client=cluster.scheduler_address)
    np.testing.assert_allclose(got, contract(eq, *arrays), rtol=1e-10)


def test_an_unreachable_scheduler_is_an_error_naming_it() -> None:
    address = free_address()
    with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at {address}") \
            as info:
        contract("ij,jk->ik", np.ones((2, 3)), np.ones((3, 2)), client=address)
    assert info.value.address == address and isinstance(info.value, ConnectionError)
    with pytest.raises(ClusterError, match="bad Dask scheduler address"):
        connect("tcp://127.0.0.1:notaport")


def test_other_libraries_arrays_are_refused_with_a_client(client: Any) -> None:
    da = pytest.importorskip("dask.array")
    x = da.ones((4, 3), chunks=2)
    with pytest.raises(InvalidArgumentError, match="client= runs NumPy operands"):
        contract("ij,jk->ik", x, np.ones((3, 2)), client=client)
    with pytest.raises(InvalidArgumentError, match=r"client must be a distributed\.Client"):
        contract("ij,jk->ik", np.ones((4, 3)), np.ones((3, 2)), client=42)


# -- indexnet bench --dask -----------------------------------------------------------------


def test_bench_dask_reports_the_sliced_plan(cluster: Any, capsys: Any) -> None:
    argv = ["bench", "nd,dh,hk->nk", "--sizes", "n=64,d=96,h=64,k=4", "--memory-limit", "256",
            "--dask", cluster.scheduler_address, "--optimizers", "auto", "--repeats", "1",
            "--json"]
    assert cli_module.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["memory_limit"] == 256 and cluster.scheduler_address in report["where"]
    (row,) = report["results"]
    assert row["optimizer"] == "auto" and row["slices"] > 1 and row["skipped"] is None
    assert row["overhead"] >= 1.0 and row["largest_intermediate"] <= 256
    assert row["run_seconds"] > 0 and row["max_rel_diff"] < 1e-12
    assert report["unsliced"]["slices"] == 1


def test_bench_dask_table(cluster: Any, capsys: Any) -> None:
    argv = ["bench", "nd,dh,hk->nk", "--sizes", "n=64,d=96,h=64,k=4", "--memory-limit", "256",
            "--dask", cluster.scheduler_address, "--optimizers", "auto", "--repeats", "1"]
    assert cli_module.main(argv) == 0
    out = capsys.readouterr().out
    assert "slices run on the Dask cluster at" in out and "overhead" in out
    assert out.splitlines()[4].startswith("unsliced") and out.splitlines()[5].startswith("auto")


def test_bench_dask_unreachable_is_exit_2_naming_the_address(capsys: Any) -> None:
    address = free_address()
    argv = ["bench", "ij,jk->ik", "--sizes", "i=2,j=3,k=2", "--dask", address]
    assert cli_module.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("indexnet bench: error: cannot reach the Dask scheduler at " + address)
    assert len(err.strip().splitlines()) == 1
