"""Hogwild! kernel alone, 1, 2 and 4 threads: seconds an epoch (median of 5) and the speed-up over one thread.

A minimal one-row, squared-loss Hogwild! step (the shape of ``skpar.kernels._hogwild._hogwild_csr_rows``) on the async
benchmark's sparse data (400,000 x 47,000, 75 non-zeros a row); each thread takes a contiguous row range in a
random order and all write one shared weight vector. Variants ask what bounds the 2-thread ratio: the next row's
weights prefetched for writing (as the estimator's kernel does when threads share the model), a private model per
thread (no sharing: the ceiling), float32 inverse column frequencies, a per-thread intercept added every 64 rows, a
float32 model. Prints the column-frequency spread too (are there hot columns?).

Usage: python asv_bench/scripts/hogwild_threads.py [--order random|interleaved]
"""

import argparse
import statistics
import threading
import time

import numpy as np
from numba import njit

from skpar.backend._block import interleaved_shuffle
from skpar.datasets import make_sparse_design
from skpar.kernels._prefetch import prefetch_write


@njit(nogil=True)
def hogwild_rows(data, indices, indptr, y, rows, W, B, inv_q, eta, l2, flush, prefetch, private):
    if private:  # a model of the thread's own: the same loop without sharing, the ceiling for the shared one
        W = W.copy()
    local_b, pending = 0.0, 0
    n = rows.shape[0]
    for s in range(n):
        i = rows[s]
        a, z = indptr[i], indptr[i + 1]
        p = B[0] + local_b
        # the next row's weights prefetched for writing while this row's dot product is summed
        a2 = z2 = 0
        if prefetch and s + 1 < n:
            a2, z2 = indptr[rows[s + 1]], indptr[rows[s + 1] + 1]
        m = min(z - a, z2 - a2)
        for q in range(m):
            p += data[a + q] * W[indices[a + q]]
            prefetch_write(W, indices[a2 + q])
        for r in range(a + m, z):
            p += data[r] * W[indices[r]]
        for r in range(a2 + m, z2):
            prefetch_write(W, indices[r])
        g = p - y[i]
        for r in range(a, z):
            j = indices[r]
            W[j] = (1.0 - eta * l2 * inv_q[j]) * W[j] - eta * g * data[r]
        if flush == 0:
            B[0] -= eta * g
        else:  # the intercept, which every row writes, kept per thread and added every `flush` rows
            local_b -= eta * g
            pending += 1
            if pending == flush:
                B[0] += local_b
                local_b, pending = 0.0, 0
    B[0] += local_b


def epoch_time(X, y, k, w_dtype, inv_q, eta, flush, rng, prefetch=False, private=False, order="random"):
    W, B = np.zeros(X.shape[1], dtype=w_dtype), np.zeros(1)
    # each thread's rows in a random order, or in the estimator's (interleaved_shuffle: random chunks read as
    # sequential streams)
    shuffle = rng.permutation if order == "random" else (lambda p: p[interleaved_shuffle(p.shape[0], rng)])
    parts = [shuffle(p) for p in np.array_split(np.arange(X.shape[0], dtype=np.int64), k)]
    threads = [threading.Thread(target=hogwild_rows, args=(X.data, X.indices, X.indptr, y, p, W, B, inv_q, eta,
                                                           1e-4, flush, prefetch, private)) for p in parts]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--order", choices=["random", "interleaved"], default="random",
                   help="each thread's row order: a permutation, or the estimator's interleaved_shuffle")
    args = p.parse_args()
    n, d = 400_000, 47_000
    X = make_sparse_design(n, d, 75, random_state=0)
    rng = np.random.default_rng(1)
    y = X @ (rng.standard_normal(d) * (rng.random(d) < 0.1)) + 0.5 * rng.standard_normal(n)
    counts = np.bincount(X.indices, minlength=d).astype(float)
    inv_q = n / np.maximum(counts, 1)
    eta = 0.125 / float(X.multiply(X).sum(1).mean())
    print(f"rows a column: max {counts.max():.0f}, median {np.median(counts):.0f}; the top 1% of columns hold "
          f"{np.sort(counts)[-d // 100:].sum() / counts.sum():.1%} of the non-zeros")
    variants = {
        "baseline": (np.float64, np.float64, 0, False, False),
        "prefetch next row (write)": (np.float64, np.float64, 0, True, False),
        "private models (no sharing)": (np.float64, np.float64, 0, False, True),
        "inv_q float32": (np.float64, np.float32, 0, False, False),
        "per-thread intercept": (np.float64, np.float64, 64, False, False),
        "inv_q float32 + intercept": (np.float64, np.float32, 64, False, False),
        "model float32 + both": (np.float32, np.float32, 64, False, False),
    }
    for name, (w_dtype, q_dtype, flush, prefetch, private) in variants.items():
        q = inv_q.astype(q_dtype)
        epoch_time(X[:100], y[:100], 1, w_dtype, q, eta, flush, rng, prefetch, private)  # compile this signature
        t = {k: statistics.median(epoch_time(X, y, k, w_dtype, q, eta, flush, rng, prefetch, private, args.order)
                                  for _ in range(5))
             for k in (1, 2, 4)}
        print(f"{name:26s} 1: {t[1]:.3f} s  2: {t[2]:.3f} s  4: {t[4]:.3f} s  "
              f"2 vs 1: {t[1] / t[2]:.2f}x  4 vs 1: {t[1] / t[4]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
