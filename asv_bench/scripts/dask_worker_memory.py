"""Peak memory of each Dask worker during a fit against the bytes of the blocks it holds (issue 8: a worker holds
its blocks plus O(n_features) per task, nothing more).

For each estimator a fresh LocalCluster (2 worker processes, 1 thread each) is started and warmed up (numba
compiles on a tiny fit). Each worker then starts a sampling thread that records its resident set size every 2 ms
(Linux /proc/self/statm); the base is its size just before the fit. X comes either from this process (NumPy: the
blocks are scattered) or as a dask array made on the workers (``da.random``: chunks are built into blocks where they
are), or such a dask array persisted on the workers before the fit ("persisted", the usual way to fit a dask
array more than once; the base then includes the persisted chunks). After the fit, each worker reports
``peak - base``, which is divided by the bytes of its blocks (its rows x n_features x 8, plus targets): 1.0 means the
worker held its blocks and nothing else.

Usage: python asv_bench/scripts/dask_worker_memory.py [--rows 800000] [--features 100]
"""

import argparse
import os
import threading
import time
import warnings


def _start(dask_worker):
    page = os.sysconf("SC_PAGE_SIZE")

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    state = {"base": rss(), "stop": threading.Event()}
    state["peak"] = state["base"]

    def loop():
        while not state["stop"].is_set():
            state["peak"] = max(state["peak"], rss())
            time.sleep(0.002)

    threading.Thread(target=loop, daemon=True).start()
    dask_worker._skpar_memory = state


def _stop(dask_worker):
    state = dask_worker._skpar_memory
    state["stop"].set()
    return state["base"], state["peak"]


def measure(name, make, source, n, d):
    import dask.array as da
    import numpy as np
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit=0)
        client = Client(cluster)
    try:
        rng = np.random.default_rng(0)
        Xs = rng.normal(size=(2000, d))
        make(client).fit(Xs, (Xs[:, 0] > 0).astype(int))  # compile on the workers
        classify = name in ("AveragedSGDClassifier", "DualCoordinateAscentSVM")
        if source == "numpy":
            X = rng.standard_normal((n, d))
            y = (X[:, 0] > 0).astype(int) if classify else X[:, 0] + 0.1
        else:
            X = da.random.RandomState(0).standard_normal((n, d), chunks=(n // 2, d))
            y = (X[:, 0] > 0).astype(int) if classify else X[:, 0] + 0.1
            if source == "persisted":
                X, y = client.persist([X, y])
                client.wait_for_workers(2)
                from distributed import wait

                wait([X, y])
        client.run(_start)
        make(client).fit(X, y)
        used = client.run(_stop)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.close()
            cluster.close()
    block_bytes = (n // 2) * (d + 1) * 8  # each worker: half the rows, X and y
    return [(peak - base) / block_bytes for base, peak in used.values()]


def main():
    from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=800_000)
    p.add_argument("--features", type=int, default=100)
    args = p.parse_args()
    makers = {
        "ParallelSGDRegressor": lambda c: ParallelSGDRegressor(client=c, max_iter=2, tol=None, random_state=0),
        "AveragedSGDClassifier": lambda c: AveragedSGDClassifier(client=c, max_iter=2, tol=None, random_state=0),
        "ShotgunLasso": lambda c: ShotgunLasso(client=c, alpha=0.1, max_iter=3, random_state=0),
        "DualCoordinateAscentSVM": lambda c: DualCoordinateAscentSVM(client=c, max_iter=3, random_state=0),
    }
    n, d = args.rows, args.features
    print(f"\nworker peak memory during a fit / bytes of the worker's blocks, {n:,} x {d} float64, "
          "LocalCluster 2 workers x 1 thread")
    print(f"{'estimator':26s} {'X from':12s} {'block MB':>9s} {'worker 1':>9s} {'worker 2':>9s}")
    for name, make in makers.items():
        for source in ("numpy", "dask array", "persisted"):
            ratios = measure(name, make, source, n, d)
            print(f"{name:26s} {source:12s} {(n // 2) * (d + 1) * 8 / 1e6:9.0f} "
                  + " ".join(f"{r:9.2f}" for r in ratios), flush=True)


if __name__ == "__main__":
    main()
