"""A block: the rows of X, y and sample_weight that one task works on, where they live.

A block never travels back to the driver. It is built where its data is (in this process for the thread backend,
on a worker for Dask) and holds, besides the data, its split into training and validation rows and a memo of the
shuffled row order of the current epoch, so that a round needs only a seed and an offset, not an O(n) permutation.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from .._dtypes import check_block_values
from .._solver_state import SolverState, persisted_state
from ..kernels._rows import rows_of

#: rows per chunk and chunks read at once by :func:`interleaved_shuffle`
SHUFFLE_CHUNK = 32
SHUFFLE_STREAMS = 32
#: blocks of at most this many bytes of data take uniformly random orders for dual coordinate ascent (about the
#: development VM's last-level cache; see :meth:`Block.permutation`)
RANDOM_ORDER_BYTES = 32 << 20


def interleaved_shuffle(n, rng, chunk=SHUFFLE_CHUNK, streams=SHUFFLE_STREAMS):
    """A permutation of ``range(n)`` that is random where SGD needs it and sequential where memory needs it.

    A plain permutation makes every row a random memory access: measured on this project's 2-core machine, a local
    SGD pass over 500,000 x 100 float64 rows took 0.25 s in permuted order and 0.05 s in order. Here the rows are cut
    into chunks of ``chunk`` consecutive rows, the chunks are permuted, and groups of ``streams`` chunks are read
    interleaved (row 0 of each chunk, then row 1 of each, ...). Consecutive samples, and so every mini-batch, come
    from different random chunks, while memory sees ``streams`` sequential streams that prefetchers follow (0.06 s).
    The price: rows less than ``chunk`` apart in the input tend to land in consecutive mini-batches.
    """
    return interleaved_take(np.arange(n, dtype=np.int64), rng, chunk, streams)


def interleaved_take(rows, rng, chunk=SHUFFLE_CHUNK, streams=SHUFFLE_STREAMS):
    """``rows[interleaved_shuffle(len(rows), rng)]``: the chunk permutation is drawn here and the rest is compiled
    and runs without the GIL. In Python (a loop over the groups of chunks, then a gather) it held the GIL: 16 Hogwild!
    threads starting an epoch at once queued for it, and the last began its rows up to 0.1 s after the first, on an
    epoch of 0.15 s (the GPU machine's 16 cores, 400,000 x 47,000)."""
    n = rows.shape[0]
    perm = rng.permutation(-(-n // chunk))
    return _interleave(rows, perm, n, chunk, streams)


@njit(nogil=True, cache=True)
def _interleave(rows, perm, n, chunk, streams):
    out = np.empty(n, dtype=rows.dtype)
    q = 0
    n_chunks = perm.shape[0]
    for g in range(0, n_chunks, streams):
        top = min(g + streams, n_chunks)
        longest = 0
        for c in range(g, top):
            longest = max(longest, min(chunk, n - perm[c] * chunk))
        for off in range(longest):
            for c in range(g, top):
                start = perm[c] * chunk
                if off < min(chunk, n - start):
                    out[q] = rows[start + off]
                    q += 1
    return out


@njit(nogil=True, cache=True)
def shuffled(rows, seed):
    """``rows`` in a uniformly random order drawn from ``seed`` (Fisher-Yates on a splitmix64 stream), compiled: a
    NumPy ``Generator`` made and drawn from each pass cost 0.12 ms of a 0.6 ms pass of dual coordinate ascent on
    Reuters (docs/benchmarks.md)."""
    out = rows.copy()
    golden = np.uint64(0x9E3779B97F4A7C15)
    state = np.uint64(seed) * golden
    for i in range(out.shape[0] - 1, 0, -1):
        state += golden
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        j = np.int64(z % np.uint64(i + 1))  # the modulo's bias is below 2^-40 for any block's row count
        out[i], out[j] = out[j], out[i]
    return out


class Block(SolverState):
    """Rows of one partition of the data.

    Parameters
    ----------
    X : ndarray of shape (n, d) or scipy.sparse CSR matrix
        Float32 or float64, finite.
    y : ndarray of shape (n,)
    sample_weight : ndarray of shape (n,)
    index : int
        Position of the block in the partition (the order in which results are combined).
    val_rows : ndarray of int64, optional
        Rows held out for validation (``early_stopping``); the others are the training rows.
    rows : slice or ndarray of int, optional
        Which rows of the fit's data the block holds (:func:`~skpar.backend.row_groups`); ``None`` for a dask
        array's chunk (the chunks in order are the data).
    """

    #: rows in host memory (:class:`~skpar.backend._gpu_block.GPUBlock` sets this True): the tasks pick their
    #: kernels by it
    on_gpu = False

    def __init__(self, X, y, sample_weight, index, val_rows=None, rows=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.index = index
        self.rows = rows
        n = X.shape[0]
        if val_rows is None or len(val_rows) == 0:
            self.val_rows = np.empty(0, dtype=np.int64)
            self.train_rows = np.arange(n, dtype=np.int64)
        else:
            mask = np.ones(n, dtype=bool)
            mask[val_rows] = False
            self.val_rows = np.sort(np.asarray(val_rows, dtype=np.int64))
            self.train_rows = np.flatnonzero(mask).astype(np.int64)
        self._order = (None, self.train_rows)
        self._perm = (None, self.train_rows)

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]

    @property
    def n_train(self) -> int:
        return self.train_rows.shape[0]

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.X)

    @property
    def kernel_X(self):
        """X as the row kernels read it (:func:`~skpar.kernels._rows.rows_of`): the dense array, or the CSR arrays
        as a tuple, for which numba compiles the same kernel's CSR body."""
        return rows_of(self.X, self.is_sparse)

    def epoch_order(self, seed):
        """Training rows shuffled by ``seed`` (``None``: in order); the last order is memoised.

        See :func:`interleaved_shuffle` for why this is not a plain permutation.
        """
        if seed is None:
            return self.train_rows
        if self._order[0] != seed:
            self._order = (seed, interleaved_take(self.train_rows, np.random.default_rng(seed)))
        return self._order[1]

    def permutation(self, seed):
        """The order of a pass of dual coordinate ascent drawn from ``seed`` (the last one is memoised): the training
        rows in a uniformly random order where the block's data is at most :data:`RANDOM_ORDER_BYTES`, else
        :meth:`epoch_order`'s interleaved chunks.

        With the interleaved chunks a row keeps its neighbours in the input from pass to pass, and on inputs stored
        in an order (the real sets' files) the passes behaved like a fixed cyclic order: Reuters (7,770 x 8,315,
        one block) took 447 passes to a relative duality gap of 1e-4, against 17 in random orders, as liblinear
        draws them; a9a 374 against 30. A random order makes every row a miss, though, and past the last-level
        cache that costs more than it saves on rows stored in no particular order: on 500,000 x 100 dense rows
        (400 MB) a pass took 380 ms in random order and 109 ms interleaved, for 32 and 29 passes
        (docs/benchmarks.md).
        """
        X = self.X
        nbytes = X.data.nbytes + X.indices.nbytes if sp.issparse(X) else X.nbytes
        if nbytes > RANDOM_ORDER_BYTES:
            return self.epoch_order(seed)
        if self._perm[0] != seed:
            self._perm = (seed, shuffled(self.train_rows, seed))
        return self._perm[1]

    def __reduce__(self):
        # memos (row orders, row norms) are rebuilt where the block lands; solver state it was told to keep travels
        return (Block, (self.X, self.y, self.sample_weight, self.index, self.val_rows, self.rows),
                persisted_state(self))


def make_block(X, y, sample_weight, index, seed, validation_fraction, check_finite=False, gpu=False, rows=None,
               held_out=None):
    """Build a :class:`Block` where its data lives, holding out ``validation_fraction`` of its rows (drawn from
    ``seed``), or the rows where the boolean mask ``held_out`` is True (drawn on the driver over all the rows, as
    scikit-learn draws them); ``rows`` says which rows of the fit's data it holds (see :class:`Block`).

    ``check_finite`` is for data that was never validated on the driver (chunks of a dask array): NaN or inf in a
    block, or a negative weight, raise a ``ValueError`` that names the block. ``gpu`` (found where the data entered
    skpar) builds a :class:`skpar.backend._gpu_block.GPUBlock` on the current device instead.
    """
    if gpu:  # no validation rows on GPUs: the estimators refuse early_stopping for GPU data before this
        from ._gpu_block import make_gpu_block

        return make_gpu_block(X, y, sample_weight, index, check_finite=check_finite)
    if sp.issparse(X):
        X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
    else:
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0], dtype=np.float64)
    else:
        sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if X.shape[0] != y.shape[0] or X.shape[0] != sample_weight.shape[0]:
        raise ValueError(
            f"block {index}: X has {X.shape[0]} rows but y has {y.shape[0]} and sample_weight "
            f"{sample_weight.shape[0]}; chunk the rows of X, y and sample_weight alike"
        )
    if check_finite:
        check_block_values(X, y, sample_weight, index)
    val_rows = None
    n = X.shape[0]
    if held_out is not None:
        val_rows = np.flatnonzero(held_out)
        if val_rows.shape[0] >= n:  # a block may hold no validation rows, but it must train on some
            raise ValueError(f"block {index}: all of its {n} rows are validation rows (early_stopping's "
                             f"validation_fraction={validation_fraction}); use fewer blocks or a smaller fraction")
    elif validation_fraction:
        n_val = int(round(validation_fraction * n))
        if not 1 <= n_val < n:  # scikit-learn refuses an empty side too, rather than move the fraction
            raise ValueError(f"block {index}: validation_fraction={validation_fraction} of its {n} rows leaves "
                             f"{n - n_val} training and {n_val} validation rows, and early stopping needs both; "
                             "change validation_fraction, use fewer blocks, or fit without early_stopping")
        rng = np.random.default_rng(seed)
        val_rows = rng.choice(n, size=n_val, replace=False)
    return Block(X, y, sample_weight, index, val_rows, rows)
