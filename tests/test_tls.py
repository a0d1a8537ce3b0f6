"""The Dask backend on a cluster secured by TLS: certificates made in the test (``Security.temporary``), every
connection encrypted; the fit equals the thread backend's to the last bit, as on a plain LocalCluster."""

import numpy as np
import pytest

pytest.importorskip("cryptography")  # Security.temporary() makes its self-signed certificates with it

from distributed import Client, LocalCluster  # noqa: E402
from distributed.security import Security  # noqa: E402

from skpar import DualCoordinateAscentSVM, ParallelSGDRegressor  # noqa: E402


def test_fit_on_a_tls_cluster_equals_threads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 10))
    y = X @ rng.normal(size=10) + 0.1 * rng.normal(size=4000)
    security = Security.temporary()
    assert security.require_encryption
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tls://", security=security,
                      dashboard_address=None) as cluster, Client(cluster, security=security,
                                                                 set_as_default=False) as client:
        assert client.scheduler.address.startswith("tls://")
        kw = dict(learning_rate="constant", average=True, max_iter=5, tol=None, random_state=0)
        on_tls = ParallelSGDRegressor(n_blocks=2, client=client, **kw).fit(X, y)
        svm = DualCoordinateAscentSVM(C=0.1, tol=1e-4, random_state=0, client=client).fit(X, y > 0)
    on_threads = ParallelSGDRegressor(n_jobs=2, client="threads", **kw).fit(X, y)
    assert on_tls.n_blocks_ == on_threads.n_blocks_ == 2
    np.testing.assert_array_equal(on_tls.coef_, on_threads.coef_)
    assert svm.duality_gap_ <= 1e-4
