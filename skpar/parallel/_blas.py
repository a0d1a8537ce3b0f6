"""BLAS inside tasks that share this process's cores."""

from __future__ import annotations

import contextlib
import functools


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # (scikit-learn's dependency; inspecting the libraries costs ms)

    return ThreadpoolController()


def one_blas_thread_each(rounds):
    """A context in which BLAS runs one thread per call, while several blocks' tasks run on this process's threads
    (the fits hold it around their rounds): the blocks' threads are the parallelism, and BLAS's own threads
    oversubscribed the cores, both while each block's products ran on them and afterwards, when OpenBLAS's threads
    spin for a while and took a core from the compiled SGD epochs that followed the critical batch size's Gram
    matrix (docs/benchmarks.md). A no-op for one block, or for blocks in other processes."""
    if rounds.backend.in_process and rounds.n_blocks > 1:
        return _blas_controller().limit(limits=1, user_api="blas")
    return contextlib.nullcontext()
