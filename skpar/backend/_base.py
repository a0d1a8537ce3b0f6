"""The backend protocol that strategies are written against, and helpers shared by the backends."""

from __future__ import annotations

import queue
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp


class Backend(Protocol):
    """Where work runs.

    Strategies use only these members, so one strategy runs unchanged on threads and on a Dask cluster.
    ``distributed``'s futures look like ``concurrent.futures``; both backends hand out such futures.
    """

    #: number of tasks that can run at once (threads, or threads over all workers)
    n_workers: int
    #: places with their own memory: 1 for the thread backend, the worker processes of a Dask cluster
    n_processes: int
    #: tasks run in this process on the caller's arrays and may share arrays with it (threads): nothing is sent
    in_process: bool
    #: blocks lost with a worker can be placed again (``restore``): they live elsewhere and can be rebuilt
    recoverable: bool
    #: an executor over this process's threads that drivers may use for their own parallel work, or None
    local_pool: Any

    def partition(self, X, y, sample_weight, *, n_blocks, seeds, validation_fraction, held_out=None) -> list[Any]:
        """Split the data into ``n_blocks`` blocks that stay where they live; return one handle per block, in order.
        A dask array's row chunks are the blocks: ``n_blocks`` None keeps its chunks, a count cuts its rows anew
        into that many, as local data is cut (:func:`~skpar.backend._dask_input.rechunk_rows`). Each block holds
        out ``validation_fraction`` of its rows, or, for local data, its rows of the boolean mask ``held_out``."""

    def place(self, objects) -> list[Any]:
        """Put objects (blocks built on the driver) where tasks will use them; one handle each."""

    def place_delayed(self, objects) -> list[Any]:
        """Compute ``dask.delayed`` objects where the work will run; one handle each."""

    def submit(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)``; a block handle among the args is replaced by the block."""

    def submit_to_block(self, fn, block, *args, **kwargs):
        """Run ``fn(block, *args, **kwargs)`` where the block lives: on the Dask worker that holds it, or on the
        block's own thread; a slow block delays its own tasks, not those of the other blocks (on threads)."""

    def threads_per_block(self, blocks) -> list[int]:
        """Threads each block's task may run: 1 on the thread backend (a block is a thread), on Dask the block's
        worker's threads shared among the blocks of the fit that the worker holds."""

    def gather(self, futures) -> list:
        """Results of ``futures``, in their order; the first failure is raised."""

    def as_completed(self, futures):
        """Iterate over ``futures`` as they finish; the iterator's ``add(future)`` adds one more."""

    def restore(self, handles) -> list[Any]:
        """``handles`` with every block lost with its worker placed again (only where ``recoverable``; blocks
        carry no solver state that could be restored)."""

    def check_holders(self, cause=None) -> None:
        """Raise :class:`LostBlocksError` (from ``cause``) if a place holding a block of the fit is gone."""

    def close(self) -> None:
        """Release what the backend started (threads, data held on workers)."""


class LostBlocksError(RuntimeError):
    """Workers holding blocks of a fit left the cluster (a round may be run again on blocks placed anew)."""


def row_slice(X, start, stop):
    """Rows ``start:stop`` of X without copying them: a NumPy view, or a CSR matrix over slices of X's arrays.

    scipy's ``X[start:stop]`` on CSR copies the rows' data and indices (measured: 0.93 s and 360 MB for the two
    halves of a 400,000 x 47,000 matrix with 30 million non-zeros); only the row pointers need a new array.
    """
    if not sp.issparse(X):
        return X[start:stop]
    X = X.tocsr()
    a, b = X.indptr[start], X.indptr[stop]
    # scipy's constructor copies even with copy=False; the arrays are set on an empty matrix of the right shape
    out = sp.csr_matrix((stop - start, X.shape[1]), dtype=X.dtype)
    out.data, out.indices = X.data[a:b], X.indices[a:b]
    out.indptr = (X.indptr[start:stop + 1] - a).astype(X.indices.dtype, copy=False)
    return out


#: the largest total variation distance between a contiguous block's mix of targets and the whole data's that
#: :func:`row_groups` lets stand (a shuffled file's blocks differ by a few hundredths at most)
MAX_BLOCK_SKEW = 0.1


#: the mean squared z-score of contiguous blocks' column means (on a sample of their rows) above which
#: :func:`row_groups` takes the rows at random: about 1 for rows in no particular order; ijcnn1's stored rows,
#: whose halves' own optima lie 0.05-0.5 above the whole's optimum, score in the hundreds
MAX_BLOCK_Z2 = 4.0
#: rows a block's column means are sampled from (every s-th of the block's rows, at least this many)
Z2_ROWS = 2048


def row_groups(y, n_blocks: int, X=None) -> list:
    """Which rows go to which block: contiguous ranges (:func:`row_splits`), unless those would hold different
    mixes of targets, then the rows are dealt to the blocks in turn (block ``k`` takes rows ``k, k + K, ...``), or,
    given ``X``, different columns (:func:`features_differ`), then each block takes a random K-th of the rows
    (sorted index arrays, drawn from a fixed seed: the data decides the blocks, not the machine).

    A file stored class by class (20 Newsgroups: classes 1-10 in the first half, 11-20 in the second) in contiguous
    halves gives each block classes the other never sees, and the blocks' combined steps then fight (CoCoA+ all but
    stalled: docs/benchmarks.md). Dealt in turn, the blocks are samples of the same data. Contiguous ranges are
    views of ``X`` (:func:`row_slice`); dealt rows are copies, so they are taken only where the mixes differ beyond
    chance: for integer targets within a span of 256 and ten rows a value, as :func:`_mixes_differ` says; else by
    more than half a standard deviation (and three random spreads) in mean.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    splits = row_splits(y.shape[0], n_blocks)
    if len(splits) < 2:
        return [slice(a, b) for a, b in splits]
    smallest = min(b - a for a, b in splits)
    # levels of an integer-valued target within a span of 256 (encoded classes), counted in one pass; np.unique's
    # sort cost a quarter of a second on 1,000,000 rows, on every fit with blocks
    low = float(y.min()) if y.size else 0.0
    span = float(y.max()) - low if y.size else 0.0
    discrete = span < 256 and bool(np.all(y == np.floor(y)))
    codes = (y - low).astype(np.intp) if discrete else None
    n_values = int(np.count_nonzero(np.bincount(codes))) if discrete else y.shape[0]
    # a random split's blocks differ by about sqrt(values / rows) in their mix (by 1 / sqrt(rows) standard
    # deviations in their mean): three times that is chance, not order
    if discrete and 10 * n_values <= y.shape[0]:  # classes (or few levels), many rows each
        # the bins between the levels are empty in every block: they add nothing
        skewed = _mixes_differ(codes, int(span) + 1, splits, max(MAX_BLOCK_SKEW, 3.0 * np.sqrt(n_values / smallest)))
    else:
        spread, whole = float(np.std(y)), float(np.mean(y))
        shift = max(abs(float(np.mean(y[a:b])) - whole) for a, b in splits)
        skewed = spread > 0 and shift > max(0.5, 3.0 / np.sqrt(smallest)) * spread
    if skewed:
        return [slice(k, None, len(splits)) for k in range(len(splits))]
    if X is not None and features_differ(X, splits):
        # at random, not dealt in turn: ijcnn1's even and odd rows differ as much as its halves (the optimum of
        # the even rows is 0.52 above the whole's, its first half's 0.22)
        K = len(splits)
        block_of = np.empty(y.shape[0], dtype=np.intp)
        block_of[np.random.default_rng(0).permutation(y.shape[0])] = np.arange(y.shape[0]) % K
        return [np.flatnonzero(block_of == k) for k in range(K)]  # sorted, without a sort
    return [slice(a, b) for a, b in splits]


def features_differ(X, splits) -> bool:
    """Whether contiguous ``splits`` of the rows of ``X`` hold different columns beyond chance: the mean squared
    z-score of each block's column means against the whole's, over the blocks and the columns that vary, above
    :data:`MAX_BLOCK_Z2` (about 1 for blocks that are random samples of the rows). Read on every s-th row of each
    block (at least :data:`Z2_ROWS` of them), so a few hundred thousand values whatever the data's size.

    A file stored in an order (ijcnn1: an engine's signals, row after row) gives contiguous blocks different
    optima: local SGD's blocks then drift apart each epoch, and their average settled 2.2e-2 above the log loss's
    optimum on 2 blocks, where random blocks reach 1.8e-4 (docs/benchmarks.md).
    """
    means, counts, squares = [], [], []
    for a, b in splits:
        rows = X[a:b:max(1, (b - a) // Z2_ROWS)]
        if sp.issparse(rows):
            total = np.asarray(rows.sum(axis=0), dtype=np.float64).ravel()
            sq = np.asarray(rows.multiply(rows).sum(axis=0), dtype=np.float64).ravel()
        else:
            rows = np.asarray(rows, dtype=np.float64)
            total, sq = rows.sum(axis=0), np.einsum("ij,ij->j", rows, rows)
        means.append(total / rows.shape[0])
        counts.append(rows.shape[0])
        squares.append(sq)
    n = sum(counts)
    mean = sum(m * c for m, c in zip(means, counts, strict=True)) / n
    var = sum(squares) / n - mean * mean
    keep = var > 1e-12 * max(float(var.max(initial=0.0)), 1e-300)
    if not keep.any():
        return False
    z2 = [(m[keep] - mean[keep]) ** 2 / (var[keep] / c * (1.0 - c / n)) for m, c in zip(means, counts, strict=True)]
    return float(np.mean(np.concatenate(z2))) > MAX_BLOCK_Z2


def _mixes_differ(codes, bins, splits, tv_limit):
    """Whether the contiguous ``splits`` hold different mixes of the classes ``codes`` (integers below ``bins``)
    beyond chance: a block's mix differs from the whole's by more than ``tv_limit`` in total variation, or a block
    holds a class at less than half or more than twice its share of the whole, and three binomial standard
    deviations off it. The second rule catches a rare class that a file sorted by label keeps out of the first
    blocks: ijcnn1 (9.7% positive) sorted by label has a first half without positives, a total variation of 0.097
    from the whole, and in contiguous halves the default classifier's test accuracy fell from 0.919 to 0.906 (about
    the majority class's share), where dealt rows keep 0.918 (docs/benchmarks.md)."""
    whole = np.bincount(codes, minlength=bins) / codes.shape[0]
    seen = whole > 0
    for a, b in splits:
        share = np.bincount(codes[a:b], minlength=bins) / (b - a)
        if 0.5 * np.abs(share - whole).sum() > tv_limit:
            return True
        p, q = whole[seen], share[seen]
        off = (q < 0.5 * p) | (q > 2.0 * p)
        if np.any(off & (np.abs(q - p) > 3.0 * np.sqrt(p * (1.0 - p) / (b - a)))):
            return True
    return False


def take_rows(X, rows):
    """The rows ``rows`` (a :func:`row_groups` slice or index array) of X: a view for a contiguous range, else a
    C-ordered copy (a CSR copy for sparse X)."""
    if contiguous(rows):
        return row_slice(X, rows.start, rows.stop)
    if sp.issparse(X):
        return X.tocsr()[rows]
    return np.ascontiguousarray(X[rows])


def contiguous(rows) -> bool:
    """Whether ``rows`` (a :func:`row_groups` group) is a contiguous range of the rows."""
    return isinstance(rows, slice) and rows.step is None


def row_splits(n_rows: int, n_blocks: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` row ranges of near-equal size, as ``numpy.array_split`` cuts."""
    n_blocks = max(1, min(n_blocks, n_rows))
    bounds = np.linspace(0, n_rows, n_blocks + 1).round().astype(int)
    # array_split puts the remainder in the first blocks; linspace spreads it, which is as good and simpler
    return [(int(bounds[k]), int(bounds[k + 1])) for k in range(n_blocks)]


class Completion:
    """Futures in the order they finish, to which more can be added while iterating.

    Works for ``concurrent.futures`` and ``distributed`` futures alike (both call ``add_done_callback``), so a
    strategy that adds tasks as others finish runs unchanged on both backends. While waiting, ``check`` (if given)
    is called every ``poll`` seconds: a backend whose tasks can wait forever (pinned to a worker that left) raises
    from it instead.
    """

    def __init__(self, futures=(), check=None, poll=2.0):
        self._done = queue.Queue()
        self._count = 0
        self._check, self._poll = check, poll
        for f in futures:
            self.add(f)

    def add(self, future):
        self._count += 1
        future.add_done_callback(self._done.put)

    def __iter__(self):
        return self

    def __next__(self):
        if self._count == 0:
            raise StopIteration
        while True:
            try:
                future = self._done.get(timeout=self._poll if self._check is not None else None)
            except queue.Empty:
                self._check()
                continue
            self._count -= 1
            return future
