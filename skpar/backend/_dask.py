"""The Dask backend: blocks live on the workers of a ``distributed`` cluster, tasks run where their block is."""

from __future__ import annotations

import threading
import time
from collections import Counter

from ._base import Completion, LostBlocksError, row_groups, take_rows
from ._block import make_block
from ._dask_input import delayed_blocks, is_dask_collection, rechunk_rows


def _ready(block):
    return None


def _live_workers(client):
    """The workers the scheduler knows now, by address, with their info. Asked of the scheduler itself: the client's
    ``scheduler_info`` stores its answer where the client's periodic refresh, which fetches no workers, can
    overwrite it before it is read, and it came back empty for a cluster of two workers (a clean-clone run). Where
    the scheduler cannot be reached, the client's cached view."""
    try:
        return client.sync(client.scheduler.identity, n_workers=-1)["workers"]
    except OSError:
        return client.scheduler_info(n_workers=-1)["workers"]


class DaskBackend:
    """Run tasks on the workers of ``client``.

    Local arrays are cut into blocks and scattered once per fit, block ``k`` to worker ``k mod W`` (in sorted
    address order, so placement is reproducible); a dask array's row chunks are turned into blocks on the workers
    and persisted there. Only models and statistics travel afterwards.

    Parameters
    ----------
    client : distributed.Client
    """

    #: tasks run in the workers' processes: blocks and models are sent
    in_process = False
    #: a block lost with its worker is placed again from the driver's copy or its chunk's graph (``restore``)
    recoverable = True
    #: no threads of this process work for the fit
    local_pool = None

    def __init__(self, client):
        self.client = client
        info = _live_workers(client)
        if not info:
            raise RuntimeError(f"the Dask cluster of {client} has no workers")
        self._workers = sorted(info)
        self.n_workers = int(sum(w.get("nthreads", 1) for w in info.values()))
        self.n_processes = len(self._workers)
        self._held = []
        self._where = {}  # block key -> the worker holding it
        self._recipes = {}  # block key -> how to make the block again: ("object", block) or ("delayed", delayed)

    def partition(self, X, y, sample_weight, *, n_blocks, seeds, validation_fraction, gpu=False,
                  held_out=None):
        if is_dask_collection(X):
            return self.place_delayed(delayed_blocks(rechunk_rows(X, n_blocks), y, sample_weight, seeds,
                                                     validation_fraction, gpu))
        if gpu:
            raise ValueError("CuPy data in this process cannot be spread over a Dask cluster: pass a dask array "
                             "of CuPy chunks (created on the workers, e.g. on a dask_cuda.LocalCUDACluster), or "
                             "fit on this process's GPU with client='threads'")
        else:
            return self.place([
                make_block(take_rows(X, rows), y[rows], None if sample_weight is None else sample_weight[rows], k,
                           int(seeds[k]), validation_fraction, rows=rows,
                           held_out=None if held_out is None else held_out[rows])
                for k, rows in enumerate(row_groups(y, n_blocks, X))
            ])

    def place_delayed(self, objects):
        """Compute ``dask.delayed`` objects (blocks built from chunks) on the workers, where they stay, and note
        where each one lives so that tasks on it are pinned there."""
        objects = list(objects)
        blocks = self.client.compute(objects)
        # wait for the blocks (a tiny task each; nothing comes back but None), then note where each one lives
        self.client.gather([self.client.submit(_ready, b, pure=False) for b in blocks])
        for key, holders in self.client.who_has(blocks).items():
            if holders:
                self._where[key] = holders[0]
        for b, obj in zip(blocks, objects, strict=True):
            self._recipes[b.key] = ("delayed", obj)
        self._held.extend(blocks)
        return blocks

    def place(self, objects):
        """Scatter ``objects`` once, object ``k`` to worker ``k mod W``; tasks then run where their object is."""
        handles = []
        for k, obj in enumerate(objects):
            where = self._workers[k % len(self._workers)]
            try:
                handle = self.client.scatter(obj, workers=[where], hash=False)
            except Exception as exc:  # distributed's own error (a KeyError) when the worker is gone: say it in words
                self._check_alive(cause=exc)
                raise
            self._where[handle.key] = where
            # the block stays on the driver too (views of the caller's arrays: no copy), to be placed again if its
            # worker is lost
            self._recipes[handle.key] = ("object", obj)
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

    def submit_to_block(self, fn, block, *args, **kwargs):
        """Run ``fn(block, *args)`` where the block lives (what :meth:`submit` does with a block first)."""
        return self.submit(fn, block, *args, **kwargs)

    def threads_per_block(self, blocks):
        """The threads of each block's worker, shared among the blocks of this fit that the worker holds (asked
        each time: blocks placed again after a worker left may share a worker now)."""
        info = _live_workers(self.client)
        where = [self._where.get(getattr(b, "key", None)) for b in blocks]
        count = Counter(where)
        return [max(1, int(info.get(w, {}).get("nthreads", 1)) // count[w]) for w in where]

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
                self.check_holders()
            return self.client.gather(futures)
        except RuntimeError:
            raise
        except Exception as exc:
            # a task cancelled or failed because its worker died: say so in words, if that is what happened
            self.check_holders(cause=exc)
            raise

    def restore(self, handles):
        """``handles`` with every block whose worker has left placed again on a live worker (scattered anew from
        the driver's block, or recomputed from its chunk's graph). Only for blocks without solver state: what a lost
        worker held beyond the data (dual variables) is gone, and the caller must not ask for those."""
        alive = self._check_alive()
        out = []
        for k, h in enumerate(handles):
            key = getattr(h, "key", None)
            if key is None or self._where.get(key) in alive:
                out.append(h)
                continue
            kind, recipe = self._recipes[key]
            if kind == "object":
                where, new = self._scatter_to_live(recipe, k)
                self._where[new.key] = where
                self._recipes[new.key] = (kind, recipe)
                self._held.append(new)
            else:
                new = self.place_delayed([recipe])[0]
            self._where.pop(key, None)
            out.append(new)
        self._workers = alive
        return out

    def _scatter_to_live(self, obj, k, tries=10):
        """``(worker, future)``: ``obj`` scattered to the ``k``-th live worker (modulo their number). A worker can
        leave between the scheduler's list and the scatter (the scheduler then raises KeyError on its address):
        the list is asked for again, and a cluster left with no workers ends the fit with a RuntimeError."""
        for _ in range(tries):
            alive = self._check_alive()
            where = alive[k % len(alive)]
            try:
                return where, self.client.scatter(obj, workers=[where], hash=False)
            except KeyError:
                time.sleep(0.5)  # the client's list of workers lags the scheduler's: let it catch up
        raise RuntimeError(f"every worker chosen for a lost block left the Dask cluster of {self.client} before the "
                           f"block reached it ({tries} tries); the fit cannot go on")

    def _check_alive(self, cause=None):
        """The live workers, sorted; none left raises."""
        alive = sorted(_live_workers(self.client))
        if not alive:
            raise RuntimeError(f"every worker of the Dask cluster of {self.client} has left; the fit cannot go on") \
                from cause
        return alive

    def check_holders(self, cause=None):
        """Raise :class:`LostBlocksError` (from ``cause``) if a worker holding one of our blocks has left, and a
        RuntimeError if the scheduler is gone (with it every block: nothing can be placed again)."""
        status = getattr(self.client, "status", "running")
        # a connection error can come before the client notices that the scheduler is gone (its status still
        # "running", and scheduler_info then answers from its cache): ask the scheduler itself
        if status != "running" or (isinstance(cause, OSError) and not self._scheduler_answers()):
            address = getattr(self.client.scheduler, "address", None) or "?"
            raise RuntimeError(
                f"the connection to the Dask scheduler at {address} was lost (client status {status!r}); the "
                "scheduler knew where this fit's blocks were, so the fit cannot go on. Fit again once the cluster "
                "is back."
            ) from cause
        alive = set(_live_workers(self.client))
        lost = sorted({w for w in self._where.values() if w not in alive})
        if lost:
            raise LostBlocksError(
                f"the Dask worker(s) {', '.join(lost)} holding blocks of this fit left the cluster; the blocks and "
                "any solver state on them are gone. Fit again (the data is scattered anew) or persist the input as "
                "a dask array so that lost blocks can be recomputed."
            ) from cause

    def _scheduler_answers(self, timeout=10.0):
        """Whether the scheduler answers a request within ``timeout`` seconds (distributed's connection errors are
        OSErrors)."""
        try:
            self.client.sync(self.client.scheduler.identity, n_workers=0, callback_timeout=timeout)
        except (OSError, TimeoutError):
            return False
        return True

    def as_completed(self, futures, poll=2.0):
        """Futures as they finish; while waiting, the blocks' holders are checked every ``poll`` seconds (a task
        pinned to a lost worker would never finish)."""
        return Completion(futures, check=self.check_holders, poll=poll)

    def close(self):
        # drop our references so the workers free the blocks
        for f in self._held:
            f.release()
        self._held = []
        self._where = {}  # block key -> the worker holding it
        self._recipes = {}

    def __repr__(self):
        return f"DaskBackend({self.client!r})"


