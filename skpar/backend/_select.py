"""Choosing where a fit runs: an explicit client, else the active ``distributed`` client, else threads."""

from __future__ import annotations

import functools
import sys

import joblib

from ._dask import DaskBackend
from ._threads import ThreadBackend


def _active_client():
    if "distributed" not in sys.modules:
        # no client and no worker without distributed imported: a fit on threads need not import it (0.38 s of
        # a first fit's 0.45 s on the 2-core VM, more on the GPU host)
        return None
    try:
        from distributed import get_client, get_worker
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    try:
        get_worker()
        # inside a Dask task (GridSearchCV under joblib's dask backend): do not submit tasks from tasks, whose
        # threads the outer search already occupies; fit on this worker's threads instead
        return None
    except ValueError:
        pass
    try:
        return get_client()
    except ValueError:
        return None


@functools.cache
def _cores() -> int:
    # joblib's count honours CPU affinity and cgroup quotas; asked once (it cost 0.15 ms a call, twice a fit)
    return joblib.cpu_count()


def resolve_n_jobs(n_jobs) -> int:
    """Threads for the thread backend: ``None`` or ``-1`` means every core, ``-k`` all but ``k - 1`` (joblib's
    convention)."""
    if n_jobs is None:
        n_jobs = -1
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use a positive count, or -1 (or None) for every core")
    return max(1, _cores() + 1 + n_jobs if n_jobs < 0 else n_jobs)


def check_gpu_local_client(client):
    """A CuPy array of this process fits on this process's GPU: an explicit Dask client cannot take it."""
    if client is not None and not isinstance(client, str):
        raise ValueError("X is a CuPy array of this process, not data on the Dask cluster of client=: pass a "
                         "dask array of CuPy chunks to fit on the cluster's GPUs, or client='threads'")


def get_backend(client=None, n_jobs=None, gpu_local=False):
    """The backend for a fit.

    Parameters
    ----------
    client : distributed.Client, "threads" or None
        An explicit client; ``"threads"`` forces the thread backend; ``None`` takes the active ``distributed``
        client if there is one (outside Dask tasks), else threads.
    n_jobs : int or None
        Threads of the thread backend.
    gpu_local : bool
        The data is a CuPy array of this process: it fits on this process's GPU (one block), whatever client is
        active; an explicit client is an error, since the data is not on its workers.
    """
    if gpu_local:
        check_gpu_local_client(client)
        return ThreadBackend(1)
    if isinstance(client, str):
        if client != "threads":
            raise ValueError(f"client must be a distributed.Client, 'threads' or None, got {client!r}")
        return ThreadBackend(resolve_n_jobs(n_jobs))
    if client is None:
        client = _active_client()
    if client is None:
        return ThreadBackend(resolve_n_jobs(n_jobs))
    return DaskBackend(client)
