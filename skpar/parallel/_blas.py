"""BLAS inside tasks that share this process's cores."""

from __future__ import annotations

import contextlib
import functools


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # (scikit-learn's dependency; inspecting the libraries costs ms)

    return ThreadpoolController()


def one_blas_thread():
    """A context in which every BLAS call runs on one thread. A product's sums are then the same on any machine:
    OpenBLAS splits a long dot product or ``X.T @ v`` over its threads and adds the pieces, so their rounding
    followed the core count (ShotgunLasso's coefficients on 16 cores were not those of 2). The fits that hold it
    run their large products in fixed row chunks on their own threads instead
    (:func:`skpar.parallel._lasso_data.dense_t_dot`)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def one_blas_thread_each(rounds):
    """A context in which BLAS runs one thread per call, while several blocks' tasks run on this process's threads
    (the fits hold it around their rounds): the blocks' threads are the parallelism, and BLAS's own threads
    oversubscribed the cores, both while each block's products ran on them and afterwards, when OpenBLAS's threads
    spin for a while and took a core from the compiled SGD epochs that followed the critical batch size's Gram
    matrix (docs/benchmarks.md). A no-op for one block, or for blocks in other processes."""
    if rounds.backend.in_process and rounds.n_blocks > 1:
        return one_blas_thread()
    return contextlib.nullcontext()
