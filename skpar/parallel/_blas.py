"""BLAS inside tasks that share this process's cores."""

from __future__ import annotations

import contextlib
import functools


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # (scikit-learn's dependency; inspecting the libraries costs ms)

    return ThreadpoolController()


def one_blas_thread_each(rounds):
    """A context in which BLAS runs one thread per call, while several blocks' tasks run on this process's threads:
    each block's products with the library's own threads oversubscribed the cores (the normal equations of
    1,000,000 x 100 on 2 blocks and 2 cores: 1.4 s, against 0.4 s for one block alone). A no-op for one block, or
    for blocks in other processes."""
    if rounds.backend.in_process and rounds.n_blocks > 1:
        return _blas_controller().limit(limits=1, user_api="blas")
    return contextlib.nullcontext()
