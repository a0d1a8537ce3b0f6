"""The Dask backend: blocks live on the workers of a ``distributed`` cluster, tasks run where their block is."""

from __future__ import annotations

import threading

from ._base import Completion, row_slice, row_splits
from ._block import make_block
from ._dask_input import delayed_blocks, is_dask_collection


def _ready(block):
    return None


class DaskBackend:
    """Run tasks on the workers of ``client``.

    Local arrays are cut into blocks and scattered once per fit, block ``k`` to worker ``k mod W`` (in sorted
    address order, so placement is reproducible); a dask array's row chunks are turned into blocks on the workers
    and persisted there. Only models and statistics travel afterwards.

    Parameters
    ----------
    client : distributed.Client
    """

    def __init__(self, client):
        self.client = client
        info = client.scheduler_info(n_workers=-1)["workers"]
        if not info:
            raise RuntimeError(f"the Dask cluster of {client} has no workers")
        self._workers = sorted(info)
        self.n_workers = int(sum(w.get("nthreads", 1) for w in info.values()))
        self._held = []
        self._where = {}  # block key -> the worker holding it

    def partition(self, X, y, sample_weight, *, n_blocks, seeds, validation_fraction, gpu=False):
        if is_dask_collection(X):
            return self.place_delayed(delayed_blocks(X, y, sample_weight, seeds, validation_fraction, gpu))
        if gpu:
            raise ValueError("CuPy data in this process cannot be spread over a Dask cluster: pass a dask array "
                             "of CuPy chunks (created on the workers, e.g. on a dask_cuda.LocalCUDACluster), or "
                             "fit on this process's GPU with client='threads'")
        else:
            return self.place([
                make_block(row_slice(X, a, b), y[a:b], None if sample_weight is None else sample_weight[a:b], k,
                           int(seeds[k]), validation_fraction)
                for k, (a, b) in enumerate(row_splits(X.shape[0], n_blocks))
            ])

    def place_delayed(self, objects):
        """Compute ``dask.delayed`` objects (blocks built from chunks) on the workers, where they stay, and note
        where each one lives so that tasks on it are pinned there."""
        blocks = self.client.compute(list(objects))
        # wait for the blocks (a tiny task each; nothing comes back but None), then note where each one lives
        self.client.gather([self.client.submit(_ready, b, pure=False) for b in blocks])
        for key, holders in self.client.who_has(blocks).items():
            if holders:
                self._where[key] = holders[0]
        self._held.extend(blocks)
        return blocks

    def place(self, objects):
        """Scatter ``objects`` once, object ``k`` to worker ``k mod W``; tasks then run where their object is."""
        handles = []
        for k, obj in enumerate(objects):
            where = self._workers[k % len(self._workers)]
            handle = self.client.scatter(obj, workers=[where], hash=False)
            self._where[handle.key] = where
            handles.append(handle)
        self._held.extend(handles)
        return handles

    def submit(self, fn, *args, **kwargs):
        """Submit ``fn``; a task on one of our blocks is pinned to the worker that holds the block.

        Pinning keeps the task where its data is (no transfer), and it keeps solver state that lives on a block
        (dual variables) in one copy: a task stolen to another worker would update a replica.
        """
        where = self._where.get(getattr(args[0], "key", None)) if args else None
        if where is not None:
            kwargs.setdefault("workers", [where])
            kwargs.setdefault("allow_other_workers", False)
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def gather(self, futures, poll=2.0):
        """Results of ``futures`` in order. A task pinned to a worker that has left the cluster would wait forever;
        while waiting, every ``poll`` seconds the holders of the blocks are checked, and a lost one ends the fit with
        an error.

        The wait is woken by the futures' own done-callbacks, not by polling: a round costs its work and the round
        trip, with no nap added to find out that it ended.
        """
        futures = list(futures)
        done = threading.Event()
        left = [len(futures)]
        lock = threading.Lock()

        def one_done(_):
            with lock:
                left[0] -= 1
                if left[0] <= 0:
                    done.set()

        if not futures:
            done.set()
        for f in futures:
            f.add_done_callback(one_done)
        try:
            while not done.wait(poll):
                self._check_holders()
            return self.client.gather(futures)
        except RuntimeError:
            raise
        except Exception as exc:
            # a task cancelled or failed because its worker died: say so in words, if that is what happened
            self._check_holders(cause=exc)
            raise

    def _check_holders(self, cause=None):
        alive = set(self.client.scheduler_info(n_workers=-1)["workers"])
        lost = sorted({w for w in self._where.values() if w not in alive})
        if lost:
            raise RuntimeError(
                f"the Dask worker(s) {', '.join(lost)} holding blocks of this fit left the cluster; the blocks and "
                "any solver state on them are gone. Fit again (the data is scattered anew) or persist the input as "
                "a dask array so that lost blocks can be recomputed."
            ) from cause

    def as_completed(self, futures):
        return Completion(futures)

    def close(self):
        # drop our references so the workers free the blocks
        for f in self._held:
            f.release()
        self._held = []
        self._where = {}  # block key -> the worker holding it

    def __repr__(self):
        return f"DaskBackend({self.client!r})"
