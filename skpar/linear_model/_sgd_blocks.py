"""What the SGD estimators ask of their blocks before and around the epochs: a survey of each block (its training
rows, the zero model's loss, its SGD workers), whether the rows are CSR, and the features each block holds."""

from __future__ import annotations

import numpy as np

from ..kernels import column_counts_csr, column_sq_sums_csr
from ..parallel._results import Survey
from ..parallel._tasks import zero_loss_task


def survey_task(block, loss, pos_weight, neg_weight):
    """A block's training rows, the loss of the zero model on them (it reads the targets alone), and its SGD workers
    (warps on a GPU, else 1)."""
    zero = zero_loss_task(block, loss, pos_weight, neg_weight)
    workers = block.n_workers() if block.on_gpu and block.registers else 1
    return Survey(block.n_train, zero, workers)


def sparse_rows(rounds, kind):
    """Whether the blocks hold CSR rows: known from local data, asked of the blocks of a dask array."""
    return kind.sparse if kind.sparse is not None else bool(rounds.run(_is_sparse).results[0])


def presence(rounds, X, local_steps, kind):
    """Each block's mask of the features its rows hold, for averaging sparse blocks feature by feature after
    rounds of many local steps (:func:`skpar.parallel._sync.feature_average`); None for dense data, one block,
    rounds of one step (whose plain average is exactly a mini-batch step on all the blocks' batches) and GPU blocks
    (whose rounds are the warps' own local SGD, averaged inside the GPU)."""
    if rounds.n_blocks < 2 or local_steps == 1 or kind.gpu or not sparse_rows(rounds, kind):
        return None
    return [counts > 0 for counts in rounds.run(column_counts, X.shape[1]).results]


def _is_sparse(block):
    return block.is_sparse


def column_counts(block, d):
    return column_counts_csr(block.X.indices, d) if block.is_sparse else np.full(d, block.n_rows)


def column_sq_sums(block, d):
    X = block.X
    if block.is_sparse:
        return column_sq_sums_csr(X.data, X.indices, d)
    return np.einsum("ij,ij->j", X, X, dtype=np.float64)


def batch_inverse_frequency_from_counts(counts, n, batch_size):
    """``1 / P(column j has a non-zero in a batch of batch_size rows)`` from its non-zero count over ``n`` rows."""
    p = np.asarray(counts, dtype=float) / max(n, 1)
    q = 1.0 - (1.0 - p) ** batch_size
    return np.where(q > 0, 1.0 / np.maximum(q, 1e-300), 1.0)
