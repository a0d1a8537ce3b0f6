"""A block whose rows live in GPU memory: the same role as :class:`skpar.backend._block.Block`, on a device.

One GPU is one block (its thousands of warps are the parallelism inside it). The block owns the row orders of its
epochs, drawn on the device from a seed, so a round sends a seed and the model, never data.
"""

from __future__ import annotations

import math

import numpy as np

from .._device import cupy_module, is_sparse_gpu
from .._dtypes import check_block_values
from .._solver_state import SolverState, persisted_state
from ..kernels._cuda_source import MAX_CHUNKS

#: fewest rows a warp worker gets per epoch: a worker's epoch is its sequential progress (averaging workers cuts
#: noise, not bias), so small data gets fewer, longer-running workers
MIN_ROWS_PER_WORKER = 1024


class GPUBlock(SolverState):
    """Rows of X (C-ordered CuPy array or ``cupyx`` CSR), float64 targets and weights, all in GPU memory.

    Parameters
    ----------
    X : cupy.ndarray of shape (n, d) or cupyx.scipy.sparse.csr_matrix
    y, sample_weight : cupy.ndarray of shape (n,), float64
    index : int
        Position of the block in the partition.
    """

    on_gpu = True

    def __init__(self, X, y, sample_weight, index):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.index = index
        self._orders = {}
        self.device = int(cupy_module().cuda.Device().id)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    n_train = n_rows  # every row trains: no validation split on GPUs

    @property
    def is_sparse(self) -> bool:
        return is_sparse_gpu(self.X)

    @property
    def registers(self) -> bool:
        """Whether the register kernel (a model per warp) takes this block: dense rows of at most 1024 columns."""
        return not self.is_sparse and self.X.shape[1] <= 32 * MAX_CHUNKS

    def n_workers(self, fn=None) -> int:
        """Warp workers of the register kernel ``fn`` (by default its heaviest variant): see
        :func:`skpar.kernels._cuda.sgd_workers`; at least MIN_ROWS_PER_WORKER rows each."""
        from .._losses import make_loss
        from ..kernels._cuda import SGD_GROUP, sgd_warps_kernel, sgd_workers

        if fn is None:
            fn = sgd_warps_kernel(self.X.dtype, self.X.shape[1], True, make_loss("log_loss"), 1, SGD_GROUP)
        return sgd_workers(fn, self.n_rows, MIN_ROWS_PER_WORKER)

    def stripe_order(self, seed, n_workers):
        """The epoch's order of the full stripes (``n_workers`` consecutive rows each) as a random affine
        permutation ``s0, s0 + a, s0 + 2a, ... (mod S)`` with ``a`` coprime to ``S``, and a random shift of the
        workers. The partial stripe (the last ``n mod n_workers`` rows) comes after the full ones, so that a
        worker's rows are the first of its pass (the kernel works on its rows in groups that share a model)."""
        S = self.n_rows // n_workers
        rng = np.random.default_rng(seed)
        a = 0
        if S > 1:
            a = int(rng.integers(1, S))
            while math.gcd(a, S) != 1:
                a = a % (S - 1) + 1
        return int(rng.integers(max(S, 1))), a, S, int(rng.integers(n_workers))

    def row_order(self, seed):
        """All rows in the random order of ``seed`` (for the Hogwild!-style kernels)."""
        key = ("rows", seed)
        if key not in self._orders:
            cp = cupy_module()
            self._orders = {key: cp.random.RandomState(seed).permutation(self.n_rows).astype(cp.int64)}
        return self._orders[key]

    def __reduce__(self):
        return (GPUBlock, (self.X, self.y, self.sample_weight, self.index), persisted_state(self))


def canonical_rows(indices, indptr, xp):
    """Whether every row of a CSR matrix lists its columns in increasing order, each once (SciPy's canonical
    format). One pass over the indices on the device where they are: CuPy builds a CSR matrix from its arrays
    without checking, so its ``has_canonical_format`` is False until ``sum_duplicates`` runs, which replaces the
    matrix's arrays in place."""
    nnz = int(indices.shape[0])
    if nnz < 2:
        return True
    later = indices[1:] <= indices[:-1]  # position k: the pair (k, k + 1) is out of order or repeated
    starts = indptr[1:-1]
    starts = starts[(starts > 0) & (starts < nnz)] - 1  # pairs that straddle two rows are not compared
    later[starts] = False
    return not bool(later.any())


def make_gpu_block(X, y, sample_weight, index, check_finite=False):
    """Build a :class:`GPUBlock` on the current device from CuPy (or, for y and weights, host) arrays.

    ``check_finite`` is for chunks of a dask array never seen by the driver: NaN or inf, or a negative weight,
    raise a ValueError that names the block.
    """
    cp = cupy_module()
    import cupyx.scipy.sparse as cpsp

    if cpsp.issparse(X):
        X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if not canonical_rows(X.indices, X.indptr, cp):
            # the kernels need each row's values once (a row's squared norm is summed from them): on a copy,
            # so that the caller's matrix stays as it was
            X = X.copy()
            X.sum_duplicates()
    else:
        X = cp.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = cp.ascontiguousarray(X)
    y = cp.asarray(y, dtype=cp.float64).reshape(-1)
    sample_weight = (cp.ones(X.shape[0], dtype=cp.float64) if sample_weight is None
                     else cp.asarray(sample_weight, dtype=cp.float64).reshape(-1))
    if X.shape[0] != y.shape[0] or X.shape[0] != sample_weight.shape[0]:
        raise ValueError(
            f"block {index}: X has {X.shape[0]} rows but y has {y.shape[0]} and sample_weight "
            f"{sample_weight.shape[0]}; chunk the rows of X, y and sample_weight alike"
        )
    if check_finite:
        check_block_values(X, y, sample_weight, index, xp=cp)
    return GPUBlock(X, y, sample_weight, index)
