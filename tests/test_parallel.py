"""wholesoil.parallel.dask_client: a local cluster, or a client of a running scheduler."""

from __future__ import annotations

import socket

import pytest

from wholesoil import parallel
from wholesoil.parallel import SchedulerUnreachableError, dask_client, total_threads


def _square(v: int) -> int:
    return v * v


def test_local_cluster_in_process_threads():
    with dask_client(n_workers=2, threads_per_worker=1, processes=False) as client:
        assert len(client.nthreads()) == 2 and total_threads(client) == 2
        assert client.gather(client.map(_square, range(5))) == [0, 1, 4, 9, 16]
    assert client.status == "closed"


def test_connects_to_a_running_scheduler_by_address():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        with dask_client(cluster.scheduler_address) as client:
            assert client.submit(_square, 7).result() == 49
            assert client.scheduler.address == cluster.scheduler_address
        assert client.status == "closed"
        assert cluster.status.name == "running"  # a cluster we did not start is left running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_names_the_address(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(SchedulerUnreachableError, match=rf"dask scheduler at {address}"), \
            dask_client(address):
        pass


def test_options_checked():
    with pytest.raises(ValueError, match="configure a local cluster"), \
            dask_client("tcp://127.0.0.1:8786", n_workers=2):
        pass
    with pytest.raises(ValueError, match="scheduler must be None"), dask_client(""):
        pass
    with pytest.raises(ValueError, match=">= 1"), dask_client(n_workers=0):
        pass


def test_default_workers_is_the_core_count():
    assert parallel.default_n_workers() >= 1


@pytest.mark.slow
def test_local_cluster_processes_default():
    with dask_client(n_workers=2) as client:  # processes=True, one thread each
        assert sorted(client.nthreads().values()) == [1, 1]
        # a builtin: functions of this test module are not importable on worker processes
        assert client.submit(pow, 3, 2).result() == 9
