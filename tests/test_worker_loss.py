"""A worker lost in the middle of a fit ends it with a clear error in bounded time, never a hang."""

import os
import threading
import time
import warnings

import numpy as np
import pytest

from skpar import ParallelSGDRegressor


def test_losing_a_worker_mid_fit_raises_in_bounded_time():
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster, set_as_default=False)
    try:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(4000, 10))
        y = X @ rng.normal(size=10)
        reg = ParallelSGDRegressor(client=client, local_steps=10, max_iter=100, tol=None, random_state=0)
        reg._straggler_delays = (0.05, 0.05)  # slow rounds, so that the loss lands in the middle of the fit
        victim = sorted(client.scheduler_info(n_workers=-1)["workers"])[0]

        def kill():
            time.sleep(2.0)
            try:
                client.run(os._exit, 1, workers=[victim])
            except Exception:  # noqa: BLE001 - the worker dies while answering
                pass

        threading.Thread(target=kill, daemon=True).start()
        start = time.perf_counter()
        with pytest.raises(RuntimeError, match="left the cluster"):
            reg.fit(X, y)
        assert time.perf_counter() - start < 60
        assert not hasattr(reg, "coef_")  # no coefficients are handed out
    finally:
        client.close()
        cluster.close()
