"""The one place that creates or connects to a dask client.

wholesoil scales out with ``dask.distributed`` (DESIGN.md, engines): locally by default, on a
cluster when given the address of a running scheduler (``wholesoil ... --scheduler
tcp://host:8786``). Library functions that can use a cluster take ``client=None`` and then run
in-process (threads), without importing :mod:`distributed` at all; callers who want a cluster
open one here::

    from wholesoil.parallel import dask_client
    from wholesoil.mapping._grid import predict_grid

    with dask_client(n_workers=4) as client:             # a LocalCluster on this machine
        maps = predict_grid("run/model", covariates, client=client, store="run/blocks")

    with dask_client("tcp://10.0.0.5:8786") as client:   # a scheduler that is already running
        ...

Work shipped to workers must be reachable from them: a model *folder* is loaded by each worker
from its path (shared filesystem), an in-memory model is sent once per worker
(``Client.scatter(..., broadcast=True)``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wholesoil.errors import OptionalDependencyError, WholesoilError

if TYPE_CHECKING:  # distributed is imported only when a client is asked for
    from distributed import Client

#: How long :func:`dask_client` waits for a remote scheduler before giving up
#: (a dask time string, https://docs.dask.org/en/stable/configuration.html#time).
CONNECT_TIMEOUT = "10s"


#: The scheduler of every command that runs in parallel, unless the user names another:
#: threads of this process (no cluster is started).
DEFAULT_SCHEDULER = "threads"

#: Help of the one ``--scheduler`` option, the same for every command that has it.
SCHEDULER_HELP = (
    "threads (this process; the default) | processes (a local dask cluster of worker "
    "processes on this machine) | the address of a running dask scheduler (tcp://host:8786)."
)


def parse_scheduler(value: str | None) -> str:
    """Normalize a ``--scheduler`` value: ``"threads"``, ``"processes"`` or an address.

    ``None`` and ``""`` give :data:`DEFAULT_SCHEDULER`; ``"local"`` (the older spelling of a
    local cluster) gives ``"processes"``. Anything else must look like a dask address
    (``tcp://``, ``tls://``, ``inproc://``, ``ucx://``, or ``host:port``).
    """
    if value is None or not str(value).strip():
        return DEFAULT_SCHEDULER
    v = str(value).strip()
    if v in ("threads", "processes"):
        return v
    if v == "local":
        return "processes"
    if "://" in v or (":" in v and v.rsplit(":", 1)[1].isdigit()):
        return v
    raise ValueError(
        f"--scheduler must be threads, processes or a dask scheduler address such as "
        f"tcp://host:8786; got {value!r}"
    )


@contextlib.contextmanager
def client_for(scheduler: str | None, *, n_workers: int | None = None) -> Iterator[Client | None]:
    """The dask client of a ``--scheduler`` value, or None for threads of this process.

    The one place every parallel command opens its client. ``scheduler`` goes through
    :func:`parse_scheduler` first (None → :data:`DEFAULT_SCHEDULER`, ``"local"`` →
    ``"processes"``):

    - ``"threads"``: no cluster; yields None (the work runs on threads of this process and
      :mod:`distributed` is not imported);
    - ``"processes"``: a :class:`distributed.LocalCluster` of ``n_workers`` processes (default
      one per core), shut down on exit;
    - an address: a client connected to the scheduler running there.

    ``n_workers`` only sizes a local cluster; with threads or an address it is ignored.
    """
    resolved = parse_scheduler(scheduler)
    if resolved == "threads":
        yield None
    elif resolved == "processes":
        with dask_client(None, n_workers=n_workers) as client:
            yield client
    else:
        with dask_client(resolved) as client:
            yield client


class SchedulerUnreachableError(WholesoilError, ConnectionError):
    """No dask scheduler answered at the given address (the message names it)."""


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise OptionalDependencyError(
            "dask.distributed is needed for a cluster client; install it with "
            "`pip install 'dask[distributed]'` (or pass client=None to run in-process)"
        ) from exc
    return distributed


def default_n_workers() -> int:
    """Cores this process may use (``os.sched_getaffinity`` where available), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    processes: bool = True,
) -> Iterator[Client]:
    """A :class:`distributed.Client`, closed (and its local cluster shut down) on exit.

    Parameters
    ----------
    scheduler : str, optional
        None: start a :class:`distributed.LocalCluster` on this machine. An address such as
        ``"tcp://host:8786"``: connect to the scheduler already running there; ``n_workers``,
        ``threads_per_worker`` and ``processes`` are then the cluster's business and must be
        left unset.
    n_workers : int, optional
        Local workers; default one per core (:func:`default_n_workers`).
    threads_per_worker : int, optional
        Threads per local worker; default 1 (forest prediction is CPU-bound, so processes,
        not threads, give the parallelism).
    processes : bool
        Local workers as separate processes (True, default) or as threads of this process.

    Raises
    ------
    SchedulerUnreachableError
        Nothing answered at ``scheduler`` within :data:`CONNECT_TIMEOUT`.
    ValueError
        Local-cluster options given together with a scheduler address.
    """
    distributed = _import_distributed()
    if scheduler is None:
        workers = default_n_workers() if n_workers is None else int(n_workers)
        threads = 1 if threads_per_worker is None else int(threads_per_worker)
        if workers < 1 or threads < 1:
            raise ValueError(
                f"n_workers and threads_per_worker must be >= 1 (got {workers}, {threads})"
            )
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=bool(processes),
            dashboard_address=None,  # no web server; two jobs on one machine never clash
        )
        try:
            client = distributed.Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError(
            f"scheduler must be None (local cluster) or an address such as "
            f"'tcp://host:8786' (got {scheduler!r})"
        )
    if n_workers is not None or threads_per_worker is not None:
        raise ValueError(
            f"n_workers / threads_per_worker configure a local cluster; the scheduler at "
            f"{scheduler} has its own workers (got n_workers={n_workers!r}, "
            f"threads_per_worker={threads_per_worker!r})"
        )
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachableError(
            f"could not reach a dask scheduler at {scheduler} within {CONNECT_TIMEOUT}: "
            f"{exc}. Start one with `dask scheduler` (and workers with `dask worker "
            f"{scheduler}`), or leave the scheduler unset to run on this machine"
        ) from exc
    try:
        yield client
    finally:
        client.close()


def total_threads(client: Client) -> int:
    """Worker threads of the cluster behind ``client`` (at least 1)."""
    return max(1, sum(int(n) for n in client.nthreads().values()))
