"""Shared fixtures: a ``scheduler`` fixture that runs a case on threads and on a 2-worker LocalCluster.

Randomness is fixed: hypothesis draws the same examples on every run (``derandomize``: CI never meets a case that
no one has seen; ``HYPOTHESIS_PROFILE=explore`` draws new ones, for a developer hunting bugs), and NumPy's global
generator, which an estimator with ``random_state=None`` draws from, is reseeded before every test.
"""

import os
import types
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# no deadline and no too-slow health check: a loaded machine makes an example slow, and speed is a benchmark's
# claim, not a unit test's
_UNTIMED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", derandomize=True, **_UNTIMED)
settings.register_profile("explore", derandomize=False, max_examples=200, **_UNTIMED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seeded_global_generator():
    """An estimator left at ``random_state=None`` draws from NumPy's global generator: the same draws in every run
    and whatever ran before."""
    np.random.seed(0)  # noqa: NPY002 - the legacy global generator is what random_state=None reads


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


class InThreadRounds:
    """``SyncRounds.run`` in this thread over the given blocks (the solvers' round boundary, without a backend): for
    tests of a driver's logic on hand-made blocks."""

    backend = types.SimpleNamespace(in_process=True)  # the thread backend's: device blocks keep device vectors

    def __init__(self, blocks):
        self.blocks = blocks

    @property
    def n_blocks(self):
        return len(self.blocks)

    def run(self, fn, *args, per_block=None):
        extra = per_block or [()] * len(self.blocks)
        return types.SimpleNamespace(results=[fn(b, *args, *e) for b, e in zip(self.blocks, extra, strict=True)],
                                     bytes_sent=0)
