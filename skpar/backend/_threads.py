"""The in-process backend: a thread pool over blocks that are views of the caller's arrays.

numba kernels release the GIL (``nogil=True``), so the threads run truly in parallel; the blocks are views, so no
data is copied.
"""

from __future__ import annotations

import concurrent.futures as cf

import dask

from ._base import Completion, row_groups, take_rows
from ._block import make_block
from ._dask_input import delayed_blocks, is_dask_collection, rechunk_rows


class ThreadBackend:
    """Run tasks on ``n_jobs`` threads of this process.

    Parameters
    ----------
    n_jobs : int
        Number of threads.
    """

    #: tasks run in this process on the caller's arrays: nothing is sent (``SyncRounds`` counts no bytes)
    in_process = True
    #: nothing is lost while this process lives
    recoverable = False

    def __init__(self, n_jobs: int):
        self.n_workers = int(n_jobs)
        self.n_processes = 1
        self._pool = cf.ThreadPoolExecutor(max_workers=self.n_workers, thread_name_prefix="skpar")
        self._lanes = {}

    def partition(self, X, y, sample_weight, *, n_blocks, seeds, validation_fraction, gpu=False,
                  held_out=None):
        if is_dask_collection(X):
            # a dask array without a cluster: each chunk becomes a block in this process, computed once
            return self.place_delayed(delayed_blocks(rechunk_rows(X, n_blocks), y, sample_weight, seeds,
                                                     validation_fraction, gpu))
        if gpu:
            # one GPU is one block: its warps, not threads of this process, are the parallelism
            return [make_block(X, y, sample_weight, 0, int(seeds[0]), validation_fraction, gpu=True)]
        blocks = []
        for k, rows in enumerate(row_groups(y, n_blocks, X)):
            sw = None if sample_weight is None else sample_weight[rows]
            blocks.append(make_block(take_rows(X, rows), y[rows], sw, k, int(seeds[k]), validation_fraction,
                                     rows=rows, held_out=None if held_out is None else held_out[rows]))
        return blocks

    def place_delayed(self, objects):
        """Compute ``dask.delayed`` objects in this process (the threads' data lives here)."""
        return list(dask.compute(*objects))

    def place(self, objects):
        """Handles for objects that tasks will use where they are (here: the objects themselves)."""
        return list(objects)

    def submit(self, fn, *args, **kwargs):
        if self.n_workers == 1:
            # one thread: run here, not on a pool thread (a hand-over each round cost more than a small block's
            # whole epoch); errors reach the caller through the future, as from the pool
            future = cf.Future()
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, as the pool would
                future.set_exception(exc)
            return future
        return self._pool.submit(fn, *args, **kwargs)

    def submit_to_block(self, fn, block, *args, **kwargs):
        """Run ``fn(block, *args)`` on the block's own thread (its lane, started on first use).

        The tasks of one block run one after another, and a slow block never holds a thread that another block's
        tasks wait for: the counterpart of a Dask worker per block. The asynchronous parameter server needs it;
        with the shared pool, a straggler's queued tasks took both of two threads and stalled every block.
        """
        lane = self._lanes.get(block.index)
        if lane is None:
            lane = self._lanes[block.index] = cf.ThreadPoolExecutor(max_workers=1,
                                                                     thread_name_prefix=f"skpar-block{block.index}")
        return lane.submit(fn, block, *args, **kwargs)

    def threads_per_block(self, blocks):
        return [1] * len(blocks)

    @property
    def local_pool(self):
        """The backend's threads, for a driver's own parallel work (ShotgunLasso's column pieces)."""
        return self._pool

    def restore(self, handles):
        """Nothing is ever lost in this process: the handles as they are."""
        return list(handles)

    def check_holders(self, cause=None):
        """The blocks live in this process: no holder can leave."""

    def gather(self, futures):
        return [f.result() for f in futures]

    def as_completed(self, futures):
        return Completion(futures)

    def close(self):
        self._pool.shutdown(wait=True)
        for lane in self._lanes.values():
            lane.shutdown(wait=True)
        self._lanes.clear()

    def __repr__(self):
        return f"ThreadBackend(n_jobs={self.n_workers})"
