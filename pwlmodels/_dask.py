"""The ``client`` argument of :func:`fit_many` and :func:`verify_many`: one Dask path for both.

``client=None`` runs in this process; a ``dask.distributed.Client`` runs
batches of items on its workers, gathered back in item order;
``client="local"`` starts a ``LocalCluster`` of one single-threaded worker
process per core for the call and closes it afterwards, also on an error.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator

import numpy as np

__all__: list[str] = []

#: Items go to a cluster in about this many batches per worker (fewer tasks, even load).
BATCHES_PER_WORKER = 4


def check_client(client: object) -> bool:
    """Whether to start a LocalCluster; checks the type of ``client``."""
    if client is None:
        return False
    if isinstance(client, str):
        if client != "local":
            raise ValueError(
                f'`client` must be None, "local" or a dask.distributed.Client; got {client!r}'
            )
        import_distributed()
        return True
    distributed = import_distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(
            '`client` must be None, "local" or a dask.distributed.Client; got '
            f"{type(client).__name__}"
        )
    return False


def import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
        raise ImportError(
            "`client` needs dask.distributed: pip install 'pwlmodels[scale]'"
        ) from exc
    return distributed


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


@contextlib.contextmanager
def client_for(client: object) -> Iterator[object]:
    """``client`` itself (None or a Client), or a LocalCluster's for ``"local"``."""
    if not check_client(client):
        yield client
        return
    with local_client(cores()) as started:
        yield started


@contextlib.contextmanager
def local_client(n_workers: int, *, processes: bool = True) -> Iterator[object]:
    """A Client of a new LocalCluster of ``n_workers`` single-threaded workers, closed after.

    The worker processes start without the ``MALLOC_TRIM_THRESHOLD_`` that
    Dask's nanny sets by default: with it glibc gives every freed block over
    64 KiB back to the system at once and maps it afresh on the next
    allocation: torch's branch and bound in :func:`check` took 1.5x the CPU
    time (ACAS Xu 2_9 prop 8: 2.6 s -> 3.9 s, one process with and without
    the variable), more in wall time on a loaded machine.
    """
    import dask
    from distributed import Client, LocalCluster

    key = "distributed.nanny.pre-spawn-environ"
    environ = {k: v for k, v in dask.config.get(key, {}).items() if k != "MALLOC_TRIM_THRESHOLD_"}
    with (
        dask.config.set({key: environ}),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # any free port: no clash with a running cluster
        ) as cluster,
        Client(cluster) as started,
    ):
        yield started


def map_batches(
    fn: Callable[..., list],
    items: list,
    client,
    *,
    progress: bool,
    per_worker: int | None = BATCHES_PER_WORKER,
    **kwargs: object,
) -> list:
    """``fn(batch, **kwargs)`` on the workers for consecutive batches of ``items``; the
    returned lists joined in item order. ``per_worker=None``: one item a batch."""
    from distributed import progress as dask_progress

    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    wanted = len(items) if per_worker is None else per_worker * n_workers
    n_batches = max(1, min(len(items), wanted))
    bounds = np.linspace(0, len(items), n_batches + 1).round().astype(int)
    batches = [items[a:b] for a, b in itertools.pairwise(bounds)]
    data = client.scatter(batches, hash=False)  # own keys: a second call's cancel is its own
    futures = client.map(fn, data, pure=False, **kwargs)
    try:
        if progress:
            dask_progress(futures)
        return [out for batch in client.gather(futures) for out in batch]
    finally:
        client.cancel([*futures, *data])
