"""How many blocks a fit cuts its rows into, and how many threads run them.

The blocks decide the model; the threads (or a Dask cluster's workers) only decide where the blocks run. So a
count of blocks never comes from the machine: given ``random_state`` and ``n_blocks``, a synchronous fit gives the
same coefficients, to the bit, on one thread, on sixteen, and on a Dask cluster of any size (each block runs the
same steps from the same seeds wherever it is, and the driver combines the blocks' results in block order).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..backend import compute, resolve_n_jobs

#: with ``n_blocks='auto'``, a block per this many non-zeros of the data, at the most
MIN_BLOCK_NONZEROS = 200_000
#: with ``n_blocks='auto'``, a block whose model is averaged with others holds at least this many rows per feature
MIN_BLOCK_ROWS_PER_FEATURE = 20
#: ``n_blocks='auto'`` cuts local data into at most this many blocks: enough for the 16 cores of a workstation
#: (a block runs on one thread at a time)
MAX_AUTO_BLOCKS = 16


def auto_n_blocks(X, kind, averaged=True) -> int:
    """The blocks ``n_blocks='auto'`` cuts local data ``X`` into, from its shape and non-zeros alone.

    A power of two (so that 2, 4, 8 or 16 cores share the blocks out evenly), at most :data:`MAX_AUTO_BLOCKS`, at
    most one per :data:`MIN_BLOCK_NONZEROS` and, where the blocks' models are averaged (``averaged``: every SGD mode
    but Hogwild!; not Newton's rounds, which are exact sums), at most one per :data:`MIN_BLOCK_ROWS_PER_FEATURE` rows
    per feature.

    A synchronous round costs a hand-over to each thread and a combine (about 0.5 ms on two threads); below a few
    hundred thousand non-zeros a block's whole epoch costs less than that, and one block, run in the calling
    thread, is faster (1,000 x 10: 1.4 ms an epoch on two threads). Blocks that each run an epoch and are then
    averaged make, far from the optimum, about the progress of one block's epoch, not of all of them; that pays only
    once an epoch takes the fit most of the way, which needs many rows per feature. On the real sets with fewer
    (Reuters 0.9, 20 Newsgroups 0.2, dorothea 0.01 rows per feature) two blocks took more epochs and lost accuracy
    (20 Newsgroups 80.9% on one block, 78.4% on two, docs/benchmarks.md); with more (a9a 265, Fashion-MNIST 77) two
    did not, but Fashion-MNIST's four blocks (19 rows per feature each) lost 0.6 points against two (83.0% and 83.6%,
    the default fit, docs/benchmarks.md): hence 20 rows per feature a block.
    """
    n, d = X.shape
    nnz = X.nnz if kind.sparse else n * d
    most = min(MAX_AUTO_BLOCKS, nnz // MIN_BLOCK_NONZEROS)
    if averaged:
        most = min(most, n // (MIN_BLOCK_ROWS_PER_FEATURE * max(d, 1)))
    return 1 << (max(1, int(most)).bit_length() - 1)


def auto_column_blocks(X, kind) -> int:
    """The column blocks ``n_blocks='auto'`` cuts ``X`` into for :class:`~skpar.ShotgunLasso`'s rounds on a cluster,
    from the data alone, so that a default fit gives the same coefficients on a cluster of any size:
    :func:`auto_n_blocks`'s rule without its rows per feature (the blocks' changes are added, CoCoA+-safe, not
    averaged), and at most a block a column. A dask array of sparse chunks has its non-zeros counted, a task a
    chunk (one small round before the fit)."""
    n, d = X.shape
    # a dask array's chunks are sparse where its meta (an empty chunk) is: a count a chunk, added up
    if kind.dask and hasattr(getattr(X, "_meta", None), "nnz"):
        counts = X.map_blocks(_stored, dtype=np.int64, chunks=tuple((1,) * len(c) for c in X.chunks),
                              meta=np.empty((0, 0), dtype=np.int64))
        nnz = int(compute(counts.sum())[0])
    else:
        nnz = X.nnz if kind.sparse else n * d
    most = min(MAX_AUTO_BLOCKS, nnz // MIN_BLOCK_NONZEROS, d)
    return 1 << (max(1, int(most)).bit_length() - 1)


def _stored(chunk):
    return np.array([[chunk.nnz]], dtype=np.int64)


def resolve_n_blocks(n_blocks, n_jobs, X, kind, averaged=True):
    """The fit's count of row blocks, or None where a dask array's row chunks are the blocks.

    ``n_blocks`` an int: that many (a dask array is rechunked to them, :func:`skpar.backend.rechunk_rows`).
    ``'auto'``: a dask array's chunks; one block for GPU data in this process (its warps are the parallelism);
    ``n_jobs`` blocks where ``n_jobs`` is a positive count (a block a thread, the meaning ``n_jobs`` had before
    ``n_blocks`` came; a count the user wrote, not the machine's); else :func:`auto_n_blocks`, from the data alone.
    """
    if kind.gpu and not kind.dask:
        if n_blocks not in ("auto", 1):
            raise ValueError(f"n_blocks={n_blocks!r}: a CuPy array of this process fits as one block on its GPU "
                             "(its warps are the parallelism); leave n_blocks='auto'")
        return 1
    if isinstance(n_blocks, Integral):
        return int(n_blocks)
    if kind.dask:
        return None
    if n_jobs is not None and n_jobs > 0:
        return int(n_jobs)
    return auto_n_blocks(X, kind, averaged)


def n_threads(n_jobs, n_blocks) -> int:
    """Threads for the thread backend: ``n_jobs`` (``None``: every core), never more than there are blocks
    (``n_blocks`` None: a dask array's chunks, counted by the backend)."""
    threads = resolve_n_jobs(n_jobs)
    return threads if n_blocks is None else max(1, min(threads, n_blocks))
