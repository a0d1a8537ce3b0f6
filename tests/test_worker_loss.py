"""Workers lost in the middle of a fit: synchronous SGD places the lost blocks again and finishes with the
coefficients of an undisturbed run; a fit whose blocks hold solver state (dual variables) ends with a clear error;
losing every worker ends any fit with a clear error. Always in bounded time, never a hang."""

import os
import threading
import time
import warnings

import numpy as np
import pytest

from skpar import DualCoordinateAscentSVM, ParallelSGDRegressor


def _cluster():
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # processes with nannies: a killed worker process is replaced by a new one, at a new address
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster, set_as_default=False)
    return cluster, client


def _kill_later(client, victim, after=2.0):
    def kill():
        time.sleep(after)
        try:
            client.run(os._exit, 1, workers=[victim])
        except Exception:  # noqa: BLE001 - the worker dies while answering
            pass

    threading.Thread(target=kill, daemon=True).start()


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 10))
    return X, X @ rng.normal(size=10)


def test_sync_sgd_finishes_after_a_worker_is_lost_with_the_undisturbed_answer():
    X, y = _data()
    kw = dict(local_steps=10, max_iter=30, tol=None, random_state=0)
    cluster, client = _cluster()
    try:
        reg = ParallelSGDRegressor(client=client, **kw)
        reg._straggler_delays = (0.05, 0.05)  # slow rounds, so that the loss lands in the middle of the fit
        _kill_later(client, sorted(client.scheduler_info(n_workers=-1)["workers"])[0])
        start = time.perf_counter()
        reg.fit(X, y)
        assert time.perf_counter() - start < 120
    finally:
        client.close()
        cluster.close()
    undisturbed = ParallelSGDRegressor(n_jobs=2, client="threads", **kw).fit(X, y)
    np.testing.assert_allclose(reg.coef_, undisturbed.coef_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(reg.intercept_, undisturbed.intercept_, rtol=1e-12, atol=0)
    assert reg.n_iter_ == undisturbed.n_iter_ == 30
    assert reg.n_recoveries_ >= 1  # the loss did land in the middle of the fit


def test_a_fit_with_state_on_its_blocks_ends_with_a_clear_error():
    X, y = _data()
    cluster, client = _cluster()
    try:
        svm = DualCoordinateAscentSVM(C=10.0, tol=1e-12, max_iter=100_000, client=client, random_state=0)
        _kill_later(client, sorted(client.scheduler_info(n_workers=-1)["workers"])[0])
        start = time.perf_counter()
        with pytest.raises(RuntimeError, match="left the cluster"):
            svm.fit(np.repeat(X, 5, axis=0), np.repeat(y > 0, 5))
        assert time.perf_counter() - start < 60
        assert not hasattr(svm, "coef_")  # no coefficients are handed out
    finally:
        client.close()
        cluster.close()


def test_losing_every_worker_ends_the_fit_with_a_clear_error():
    X, y = _data()
    cluster, client = _cluster()
    try:
        ParallelSGDRegressor(client=client, max_iter=1).fit(X, y)  # the workers compile first
        reg = ParallelSGDRegressor(client=client, local_steps=10, max_iter=1000, tol=None, random_state=0)
        reg._straggler_delays = (0.05, 0.05)

        def stop_all():
            time.sleep(1.5)
            cluster.scale(0)  # every worker goes, and none comes back

        threading.Thread(target=stop_all, daemon=True).start()
        start = time.perf_counter()
        with pytest.raises(RuntimeError, match="left"):
            reg.fit(X, y)
        assert time.perf_counter() - start < 60
        assert not hasattr(reg, "coef_")
    finally:
        client.close()
        cluster.close()
