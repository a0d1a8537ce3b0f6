"""The Dask backend: blocks live on the workers of a ``distributed`` cluster, tasks run where their block is."""

from __future__ import annotations

from ._base import row_splits
from ._block import make_block
from ._dask_input import delayed_blocks, is_dask_collection


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

    def partition(self, X, y, sample_weight, *, n_blocks, seeds, validation_fraction):
        if is_dask_collection(X):
            blocks = self.client.compute(delayed_blocks(X, y, sample_weight, seeds, validation_fraction))
        else:
            return self.place([
                make_block(X[a:b], y[a:b], None if sample_weight is None else sample_weight[a:b], k,
                           int(seeds[k]), validation_fraction)
                for k, (a, b) in enumerate(row_splits(X.shape[0], n_blocks))
            ])
        self._held.extend(blocks)
        return blocks

    def place(self, objects):
        """Scatter ``objects`` once, object ``k`` to worker ``k mod W``; tasks then run where their object is."""
        handles = [self.client.scatter(obj, workers=[self._workers[k % len(self._workers)]], hash=False)
                   for k, obj in enumerate(objects)]
        self._held.extend(handles)
        return handles

    def submit(self, fn, *args, **kwargs):
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def gather(self, futures):
        return self.client.gather(list(futures))

    def as_completed(self, futures):
        from distributed import as_completed

        return as_completed(futures)

    def close(self):
        # drop our references so the workers free the blocks
        for f in self._held:
            f.release()
        self._held = []

    def __repr__(self):
        return f"DaskBackend({self.client!r})"
