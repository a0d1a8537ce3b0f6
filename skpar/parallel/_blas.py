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
    oversubscribed the cores. Each block's products on the library's threads made the normal equations of
    1,000,000 x 100 on 2 blocks and 2 cores take 1.4 s, against 0.4 s for one block alone; and OpenBLAS's threads,
    which spin for a while after a call, took a core from the SGD epochs that followed the critical batch size's
    Gram matrix (ijcnn1's default fit: 80 ms, 48 ms with the limit). A no-op for one block, or for blocks in other
    processes."""
    if rounds.backend.in_process and rounds.n_blocks > 1:
        return _blas_controller().limit(limits=1, user_api="blas")
    return contextlib.nullcontext()
