"""How many threads (and blocks) a fit on local data takes when ``n_jobs`` is left at ``None``."""

from __future__ import annotations

from ..backend import resolve_n_jobs

#: with ``n_jobs=None``, a thread (and a block) per this many non-zeros of the data, up to every core
MIN_BLOCK_NONZEROS = 200_000
#: with ``n_jobs=None`` a block that averages with others holds at least this many rows per feature
MIN_BLOCK_ROWS_PER_FEATURE = 10


def default_n_jobs(n_jobs, X, kind, averaged=True):
    """Threads for ``n_jobs=None``: every core, but no more than one per ``MIN_BLOCK_NONZEROS`` of local data and,
    where the blocks' models are averaged (``averaged``: every SGD mode but Hogwild!; not the SVM's Newton
    rounds, which are exact sums), no more than one per ``MIN_BLOCK_ROWS_PER_FEATURE`` rows per feature.

    A synchronous round costs a hand-over to each thread and a combine (about 0.5 ms on two threads); below a few
    hundred thousand non-zeros a block's whole epoch costs less than that, and one thread, running the round in
    the calling thread, is faster (1,000 x 10: 1.4 ms an epoch on two threads). Blocks that each run an epoch and
    are then averaged make, far from the optimum, about the progress of one block's epoch, not of all of them;
    that pays only once an epoch takes the fit most of the way, which needs many rows per feature. On the real
    sets with fewer (Reuters 0.9, 20 Newsgroups 0.2, dorothea 0.01 rows per feature) two blocks took more epochs
    and lost accuracy (20 Newsgroups 80.9% on one block, 78.4% on two, docs/benchmarks.md); with more (a9a 265,
    Fashion-MNIST 77) they did not. An explicit ``n_jobs`` is kept, and dask and GPU data are cut by their chunks
    and devices, not by this."""
    if n_jobs is not None or kind.gpu or kind.dask:
        return n_jobs
    n, d = X.shape
    nnz = X.nnz if kind.sparse else n * d
    most = min(resolve_n_jobs(None), nnz // MIN_BLOCK_NONZEROS)
    if averaged:
        most = min(most, n // (MIN_BLOCK_ROWS_PER_FEATURE * max(d, 1)))
    return max(1, most)
