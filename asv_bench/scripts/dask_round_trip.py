"""Median wall time of one synchronous round of a task that does nothing, on a 2 x 1 LocalCluster: what every
round of a fit costs on Dask before any work (submit, run, done-callback, gather).

Usage: python asv_bench/scripts/dask_round_trip.py [--rounds 50]
"""

import argparse
import statistics
import time

import numpy as np
from distributed import Client, LocalCluster

from skpar.backend import DaskBackend
from skpar.parallel import SyncRounds


def nothing(block):
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=50)
    args = p.parse_args()
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as c:
        backend = DaskBackend(c)
        rounds = SyncRounds(backend, backend.place([np.ones(10), np.ones(10)]))
        for _ in range(5):
            rounds.run(nothing)
        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            rounds.run(nothing)
            times.append(time.perf_counter() - t)
    print(f"round trip, median of {args.rounds}: {statistics.median(times) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
