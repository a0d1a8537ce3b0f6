"""Shared fixtures: a ``scheduler`` fixture that runs a case on threads and on a 2-worker LocalCluster."""

import warnings

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cluster_client():
    """A 2-worker, 1-thread-per-worker ``distributed.LocalCluster`` with worker processes, shared by the session."""
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               worker_dashboard_address=None)
        client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    """The ``client`` argument of an estimator: ``'threads'`` (2 threads) or a 2-worker LocalCluster client."""
    if request.param == "threads":
        return "threads"
    return request.getfixturevalue("cluster_client")


def ridge_optimum(X, y, alpha, sample_weight=None):
    """Exact minimiser of (1/2n) sum s_i (y_i - x_i w - b)^2 + (alpha/2) ||w||^2 (sklearn SGD's scaling)."""
    Xd = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=float)
    n = Xd.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    xm = s @ Xd / s.sum()
    ym = s @ y / s.sum()
    Xc = Xd - xm
    A = (Xc * s[:, None]).T @ Xc / n + alpha * np.eye(Xd.shape[1])
    w = np.linalg.solve(A, (Xc * s[:, None]).T @ (y - ym) / n)
    return w, ym - xm @ w


def ridge_objective(X, y, w, b, alpha, sample_weight=None):
    r = y - (X @ w) - b
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    return 0.5 * np.mean(s * r * r) + 0.5 * alpha * w @ w
