"""The critical batch size of mini-batch SGD (McCandlish et al. 2018).

For the square loss, the largest stable step of mini-batch SGD grows linearly with the batch size ``b`` up to a
critical batch size and then saturates at ``1 / lambda_max``, ``lambda_max`` the largest eigenvalue of
:math:`H = E[x x^T]`. With :math:`\\|x\\|^2 \\le L` almost surely,

.. math::

    \\frac{E\\|x\\|^2}{\\lambda_{\\max}} = \\frac{\\sum_i \\lambda_i}{\\lambda_{\\max}} \\le \\tilde b
    \\le \\frac{L}{\\lambda_{\\max}},

and for data that is not very kurtotic ``L`` is close to ``E||x||^2``. Past ``b~`` a larger batch buys no fewer
steps, only more work per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import get_backend
from ..parallel._sgd import block_train_sizes
from ..parallel._sync import SyncRounds
from ..parallel._tasks import moments_task, sample_matvec_task

#: above this many columns the Gram matrix of the row sample is replaced by power iteration
MAX_GRAM_FEATURES = 2048


@dataclass(frozen=True)
class CriticalBatchSize:
    """Estimate of the critical batch size and the moments it comes from.

    Attributes
    ----------
    lower : float
        :math:`E\\|x\\|^2 / \\lambda_{\\max}`, the estimate to use for data that is not heavy-tailed.
    upper : float
        :math:`\\max \\|x\\|^2 / \\lambda_{\\max}` over the sample.
    lambda_max : float
        Largest eigenvalue of :math:`E[x x^T]` (``x`` extended by a 1 when an intercept is fitted).
    lambda_min : float
        Smallest eigenvalue of the same matrix on the sample above ``1e-6 * lambda_max`` (smaller ones come from
        linearly dependent columns and change no prediction); 0 where power iteration was used (unknown).
    mean_sq_norm : float
        :math:`E\\|x\\|^2`.
    max_sq_norm : float
        :math:`\\max\\|x\\|^2` over the sample.
    n_samples : int
        Rows the moments were estimated on.
    typical : float
        :math:`E\\|x\\|^6 / (E\\|x\\|^4 \\lambda_{\\max})`, between ``lower`` and ``upper``: the estimate where the
        rows' squared norms spread (heavy rows). One-row steps are stable in mean square, for an error whose energy
        along each row's direction is proportional to that row's squared norm :math:`s` (where the gradient noise
        puts it) and rows that are nearly orthogonal, while :math:`\\eta < 2 E[s^2] / E[s^3]`; the batch at which
        the largest stable step is half of linear growth is then ``1 + typical``. Rows of one norm give ``lower``.
    """

    lower: float
    upper: float
    lambda_max: float
    lambda_min: float
    mean_sq_norm: float
    max_sq_norm: float
    n_samples: int
    typical: float = float("nan")


def estimate_on_blocks(rounds: SyncRounds, n_features, *, fit_intercept, max_samples, seed,
                       n_power_iter=50, rtol=1e-4, n_rows=None):
    """Estimate the critical batch size from blocks that stay where they are (one or a few rounds).

    Each block contributes a row sample proportional to its size, at most ``max_samples`` rows in all. For up to
    :data:`MAX_GRAM_FEATURES` columns the blocks return the sample's Gram matrix (one round) and ``lambda_max`` is
    exact on the sample; beyond, power iteration runs one round per iteration until ``lambda_max`` changes by less
    than ``rtol``. ``n_rows`` (the blocks' training rows, if the caller has them) saves a round.
    """
    with_gram = n_features + fit_intercept <= MAX_GRAM_FEATURES
    # row samples proportional to the blocks' sizes, max_samples rows in all
    n_rows = np.array(block_train_sizes(rounds) if n_rows is None else n_rows, dtype=float)
    caps = np.maximum(1, np.ceil(max_samples * n_rows / max(n_rows.sum(), 1))).astype(int)
    res = rounds.run(_moments_with_cap, seed, fit_intercept, with_gram, per_block=[(int(c),) for c in caps]).results
    n = sum(r["n_sample"] for r in res)
    if n == 0:
        raise ValueError("cannot estimate the critical batch size: the blocks hold no training rows")
    mean_sq = sum(r["sum_sq"] for r in res) / n
    max_sq = max(r["max_sq"] for r in res)
    if with_gram:
        H = sum(r["gram"] for r in res if r["gram"] is not None) / n  # an empty block has no sample
        eig = np.linalg.eigvalsh(H)
        lam = float(eig[-1])
        # directions of (numerically) zero variance, from linearly dependent columns, change no prediction: the
        # smallest eigenvalue that matters is the smallest one above them
        live = eig[eig > 1e-6 * lam]
        lam_min = float(live[0]) if live.size else 0.0
    else:
        lam_min = 0.0
        dim = n_features + int(fit_intercept)
        # from the sample's mean row where every block sent its sums: for data that is not centred it lies near the
        # top eigenvector, and power iteration takes about half the rounds from it (docs/benchmarks.md); else
        # (GPU blocks, or a mean of zero) from a random direction
        sums = [r.get("col_sum") for r in res if r["n_sample"]]
        v = np.sum(sums, axis=0) if all(c is not None for c in sums) else None
        if v is None or not v.any():
            v = np.random.default_rng(seed).standard_normal(dim)
        v = v / np.linalg.norm(v)
        lam = 0.0
        for _ in range(n_power_iter):
            parts = rounds.run(_matvec_with_cap, seed, fit_intercept, v,
                               per_block=[(int(c),) for c in caps]).results
            hv = np.sum(parts, axis=0) / n
            new = float(np.linalg.norm(hv))
            if new == 0.0:
                break
            # done when the estimate stops moving, or when v is already an eigenvector: ||Hv|| meets the Rayleigh
            # quotient v.Hv (always below it otherwise), which a start near the top eigenvector (the mean row of
            # non-negative data) shows after one product instead of two
            done = abs(new - lam) <= rtol * new or new - float(v @ hv) <= rtol * new
            v = hv / new
            lam = new
            if done:
                break
    lam = max(lam, np.finfo(float).tiny)
    # E[s^3] / E[s^2] from each block's sums scaled by its own max, rescaled to the largest (no overflow)
    sq3 = sum((r["max_sq"] / max_sq) ** 3 * r["sum_q3"] for r in res if r["max_sq"] > 0)
    sq2 = sum((r["max_sq"] / max_sq) ** 2 * r["sum_q2"] for r in res if r["max_sq"] > 0)
    typical = max_sq * (sq3 / sq2) / lam if sq2 > 0 else mean_sq / lam
    return CriticalBatchSize(mean_sq / lam, max_sq / lam, lam, lam_min, mean_sq, max_sq, n, typical)


def _moments_with_cap(block, seed, fit_intercept, with_gram, cap):
    return moments_task(block, cap, seed, fit_intercept, with_gram)


def _matvec_with_cap(block, seed, fit_intercept, v, cap):
    return sample_matvec_task(block, cap, seed, fit_intercept, v)


def critical_batch_size(X, *, fit_intercept=True, max_samples=20_000, random_state=None, client=None,
                        n_jobs=None):
    """Estimate the critical batch size of mini-batch SGD on ``X``, blockwise on the backend.

    Parameters
    ----------
    X : array-like, sparse matrix or dask array of shape (n_samples, n_features)
        Training data.
    fit_intercept : bool, default=True
        Extend each row by a constant 1, as the model with an intercept sees it.
    max_samples : int, default=20000
        Rows sampled (spread over the blocks) to estimate the moments.
    random_state : int, RandomState instance or None
        Seed of the row sample and of power iteration.
    client : distributed.Client, "threads" or None
        Where to compute (see :func:`skpar.backend.get_backend`).
    n_jobs : int or None
        Threads of the thread backend (``None``: every core).

    Returns
    -------
    CriticalBatchSize
        ``lower`` :math:`= E\\|x\\|^2/\\lambda_{\\max}`, ``upper`` :math:`= \\max\\|x\\|^2/\\lambda_{\\max}` and
        ``typical`` between them (heavy rows).
    """
    from sklearn.utils import check_random_state

    from ..backend import is_dask_collection

    if not is_dask_collection(X):
        from sklearn.utils import check_array

        X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
        if hasattr(X, "tocsr"):
            X = X.tocsr()
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    backend = get_backend(client, n_jobs)
    try:
        y = np.zeros(X.shape[0])
        n_blocks = backend.n_workers
        blocks = backend.partition(X, y, None, n_blocks=n_blocks, seeds=np.arange(max(n_blocks, 1 << 12)),
                                   validation_fraction=0.0)
        return estimate_on_blocks(SyncRounds(backend, blocks), X.shape[1], fit_intercept=fit_intercept,
                                  max_samples=max_samples, seed=seed)
    finally:
        backend.close()
