"""The Lasso problem as the coordinate solvers see it: centred, weighted, never densified or copied whole, on the
host (:class:`LassoData`) or a GPU (:class:`DeviceLassoData`).

See :mod:`skpar.kernels._cd` for the formulation (residual kept as ``r + c``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._device import cupy_module, is_sparse_gpu
from ..kernels import column_moments_dense
from ..kernels._newton import transposed_product_dense

#: most rows of a chunk of a dense product (float32 X is upcast a chunk at a time: no float64 copy of all of X)
PRODUCT_ROWS = 1 << 16


def row_chunks(n):
    """The row ranges a dense pass is cut into: at most :data:`MOMENT_CHUNKS` of at least :data:`MOMENT_ROWS` rows
    and at most :data:`PRODUCT_ROWS`, fixed by ``n`` alone, so that sums over them, added in order, are the same
    whatever threads computed them."""
    step = min(max(MOMENT_ROWS, -(-n // MOMENT_CHUNKS)), PRODUCT_ROWS)
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def map_chunks(fn, chunks, pool=None):
    """``[fn(a, b) for (a, b) in chunks]``, on ``pool``'s threads where one is given."""
    if pool is None or len(chunks) == 1:
        return [fn(a, b) for a, b in chunks]
    return list(pool.map(lambda ab: fn(*ab), chunks))


def dense_t_dot(X, v, pool=None):
    """``X.T @ v`` in float64: for dense X, the compiled products of fixed row chunks (:func:`row_chunks`) on
    ``pool``'s threads, added in the chunks' order. Under :func:`~skpar.parallel._blas.one_blas_thread`
    the result is the same to the bit on any machine; one BLAS call over all rows split its sum over BLAS's threads
    and followed their count."""
    if sp.issparse(X):
        return np.asarray(X.T @ v).ravel()

    def chunk(a, b):
        if not X.flags.c_contiguous:
            # column-major (a working set's copy): BLAS's dots down the columns; the compiled loop reads rows, which
            # strides here (72.6 ms against 21.0 on 50,000 x 600, 2 threads)
            return X[a:b].T @ v[a:b]
        # compiled: BLAS's X.T @ v from several threads at once ran one call at a time on a 16-core host
        # (16 blocks' products took as long on 16 threads as on 2; docs/benchmarks.md)
        part = np.zeros((1, X.shape[1]))
        transposed_product_dense(X[a:b], v[None, a:b], part)
        return part[0]

    parts = map_chunks(chunk, row_chunks(X.shape[0]), pool)
    out = np.zeros(X.shape[1])
    for part in parts:
        out += part
    return out


def dense_dot(X, w, pool=None):
    """``X @ w`` in float64, a fixed row chunk at a time on ``pool``'s threads (each row's product is one call's)."""
    if sp.issparse(X):
        return np.asarray(X @ w).ravel()
    out = np.empty(X.shape[0])

    def chunk(a, b):
        out[a:b] = X[a:b] @ w

    map_chunks(chunk, row_chunks(X.shape[0]), pool)
    return out


#: most row chunks of the column moments (at least MOMENT_ROWS rows each): a chunk's partial sums take 2 d numbers
MOMENT_CHUNKS = 64
MOMENT_ROWS = 4096
#: dense X of at least this many values takes the compiled, threaded moments (50,000 x 2,000: 0.43 s in NumPy's
#: one-thread `x * x` and products, 0.14 s compiled on one thread); smaller X keeps NumPy's, whose sums scikit-learn's
#: weights-against-repeated-rows check saw give the same path (the compiled sums' other rounding changed a working
#: set's path there, and the two fits stopped 2e-4 apart within their tolerance)
MOMENT_VALUES = 1 << 20


def _column_moments(X, s, pool, n_threads):
    """``(sum_i s_i x_ij^2, sum_i s_i x_ij)`` of a dense C-ordered X by the compiled pass, over row chunks fixed by
    ``n`` (on ``pool``'s threads where there is one), their partial sums added in the chunks' order."""
    n, d = X.shape
    step = max(MOMENT_ROWS, -(-n // MOMENT_CHUNKS))
    starts = list(range(0, n, step))
    parts = np.zeros((len(starts), 2, d))

    def chunk(k):
        column_moments_dense(X, s, starts[k], min(starts[k] + step, n), parts[k, 0], parts[k, 1])

    if pool is not None and n_threads > 1 and len(starts) > 1:
        list(pool.map(chunk, range(len(starts))))
    else:
        for k in range(len(starts)):
            chunk(k)
    sq, colsum = np.zeros(d), np.zeros(d)
    for k in range(len(starts)):  # in order: the same sums whatever ran the chunks
        sq += parts[k, 0]
        colsum += parts[k, 1]
    return sq, colsum


@dataclass
class LassoData:
    """X (C- or F-ordered dense, or CSC), centred targets and the column statistics every solver needs.

    ``s`` are the sample weights scaled to sum to ``n``; ``xbar`` the weighted column means (zeros without an
    intercept); ``colsum = n * xbar``; ``L`` the weighted centred squared column norms over ``n``.
    """

    X: object
    yc: np.ndarray
    s: np.ndarray
    xbar: np.ndarray
    colsum: np.ndarray
    L: np.ndarray
    ybar: float
    #: the threads that take the dense passes' fixed row chunks (:func:`dense_t_dot`), or None
    pool: object = None

    #: host data: the coordinate steps run in the compiled kernels (a :class:`DeviceLassoData` runs them on a GPU)
    device = False

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @property
    def sparse(self):
        return sp.issparse(self.X)

    @classmethod
    def build(cls, X, y, sample_weight, fit_intercept, pool=None, n_threads=1):
        """The problem's statistics from X, y and the weights. ``pool`` (a thread pool of ``n_threads``) takes the
        column moments of dense C-ordered rows a chunk of rows a task; the chunks depend on ``n`` only, and their
        sums are added in order, so the statistics are the same to the bit on any number of threads."""
        n = X.shape[0]
        s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (n / np.sum(sample_weight))
        if sp.issparse(X):
            X = X.tocsc()
            if not X.has_sorted_indices:  # a sorted copy: the caller's matrix stays as it was
                X = X.sorted_indices()
            squares = X.copy()
            squares.data = np.square(X.data, dtype=np.float64)  # float32 squares overflow past 1.8e19
            sq = np.asarray(squares.T @ s).ravel()
            colsum = np.asarray(X.T @ s).ravel() if fit_intercept else np.zeros(X.shape[1])
        elif X.flags.c_contiguous and X.size >= MOMENT_VALUES:
            sq, colsum = _column_moments(X, s, pool, n_threads)
            if not fit_intercept:
                colsum = np.zeros(X.shape[1])
        else:
            # in row chunks: no n x d temporary for X * X
            sq = np.zeros(X.shape[1])
            step = max(1, (1 << 21) // max(X.shape[1], 1))
            for a in range(0, n, step):
                xa = np.asarray(X[a:a + step], dtype=np.float64)  # float32 squares overflow past 1.8e19
                sq += (xa * xa).T @ s[a:a + step]
            colsum = dense_t_dot(X, s, pool) if fit_intercept else np.zeros(X.shape[1])
        xbar = colsum / n
        ybar = float(s @ y / n) if fit_intercept else 0.0
        L = np.maximum(sq / n - xbar * xbar, 0.0)
        return cls(X, np.asarray(y, float) - ybar, s, xbar, colsum, L, ybar,
                   pool if pool is not None and n_threads > 1 else None)

    def residual(self, w):
        """The exact centred residual ``yc - (X - xbar) w`` (offset folded in)."""
        if not w.any():
            return self.yc.copy()
        return self.yc - dense_dot(self.X, w, self.pool) + float(self.xbar @ w)

    def gradient(self, r):
        """``z = (X - xbar)^T (s * r) / n`` for every column (one pass over X)."""
        sr = self.s * r
        return (dense_t_dot(self.X, sr, self.pool) - self.xbar * sr.sum()) / self.n

    def spectral_radius(self, *, max_rows=2000, n_iter=30, rtol=1e-2, seed=0):
        """Spectral radius of ``D^-1/2 X~^T S X~ D^-1/2`` (columns scaled to unit norm), on a row sample.

        ``X~`` is X centred by the weighted column means; columns of zero norm are left out. Power iteration stops
        when the estimate changes by less than ``rtol``. ``rho`` lies in ``[1, d]``; ``d / rho`` is Shotgun's P*.
        """
        rng = np.random.default_rng(seed)
        gram, live = self.scaled_gram(max_rows=max_rows, rng=rng)
        if not live.any():
            return 1.0
        return max(power_iteration(gram, rng.standard_normal(live.shape[0]) * live, n_iter, rtol)[0], 1.0)

    def scaled_gram(self, *, max_rows=None, rng=None):
        """``(gram, live)``: the product ``v -> D^-1/2 X~^T S X~ D^-1/2 v`` on ``max_rows`` rows drawn by ``rng``
        (every row where None or at least ``n``), never densifying X, and the mask of the columns of non-zero norm
        (the others are left out: their rows and columns of the matrix are 0)."""
        n = self.n
        xbar = self.xbar
        if max_rows is None or n <= max_rows:
            # every row: X itself (no copy, no change of format), and the centred column norms from the data's own
            # sums, sum_i s_i (x_ij - xbar_j)^2 = sq_j - 2 xbar_j colsum_j + xbar_j^2 sum_i s_i with sq_j = n (L_j +
            # xbar_j^2), with no pass over X
            Xs = self.X if hasattr(self.X, "toarray") else np.asarray(self.X, dtype=float)
            sq = np.sqrt(self.s)
            norms2 = n * (self.L + xbar ** 2) - 2 * xbar * self.colsum + xbar ** 2 * float(self.s.sum())
        else:
            rows = np.sort(rng.choice(n, size=max_rows, replace=False))
            Xs = self.X[rows]
            sq = np.sqrt(self.s[rows])
            if hasattr(Xs, "toarray"):
                # sparse: never densified; the centring is applied implicitly, (X - 1 xbar^T) v = X v - (xbar . v) 1
                norms2 = np.asarray(Xs.multiply(Xs).T @ (sq * sq)).ravel() \
                    - 2 * xbar * np.asarray(Xs.T @ (sq * sq)).ravel() + xbar ** 2 * float(sq @ sq)
            else:
                Xs = np.asarray(Xs, dtype=float)
                norms2 = ((Xs - xbar) ** 2 * (sq * sq)[:, None]).sum(axis=0)
        norms = np.sqrt(np.maximum(norms2, 0.0))
        live = norms > 1e-12 * max(norms.max(initial=0.0), 1e-300)
        scale = np.where(live, 1.0 / np.where(live, norms, 1.0), 0.0)

        def gram(v):  # D^-1/2 X~^T S X~ D^-1/2 v on the rows
            u = scale * v
            z = sq * (np.asarray(Xs @ u).ravel() - float(xbar @ u))
            z = sq * z
            return scale * (np.asarray(Xs.T @ z).ravel() - xbar * z.sum())

        return gram, live


def power_iteration(op, v, n_iter, rtol):
    """``(lam, v)``: the largest eigenvalue of the symmetric positive semi-definite operator ``op`` and its unit
    eigenvector, by power iteration from ``v`` (not zero); it stops when the estimate changes by less than ``rtol``,
    or when ``||op v||`` meets the Rayleigh quotient ``v . op v`` (``v`` already an eigenvector), as the critical
    batch size's estimate does."""
    v = v / np.linalg.norm(v)
    lam = 0.0
    for _ in range(n_iter):
        u = op(v)
        new = float(np.linalg.norm(u))
        if new == 0.0:
            return 0.0, v
        done = abs(new - lam) <= rtol * new or new - float(v @ u) <= rtol * new
        v = u / new
        lam = new
        if done:
            break
    return lam, v


#: rows sampled for the spectral radius estimate on a GPU
DEVICE_RHO_ROWS = 20_000


@dataclass
class DeviceLassoData:
    """:class:`LassoData` with X, the targets and the weights in GPU memory (a CuPy array or ``cupyx`` CSR).

    The same interface for the Shotgun driver (:func:`skpar.parallel._shotgun.shotgun_lasso`): ``residual`` takes
    host coefficients and gives the residual on the device, ``gradient`` gives it back on the host (``d`` numbers);
    the column statistics ``xbar``, ``colsum`` and ``L`` are host arrays (``d`` numbers), with device copies for the
    steps. Centring stays implicit: X is never copied.
    """

    X: object
    yc: object
    s: object
    xbar: np.ndarray
    colsum: np.ndarray
    L: np.ndarray
    ybar: float
    xbar_device: object = None  # xbar in GPU memory, for the steps (set by build)

    device = True

    @property
    def n(self):
        return int(self.X.shape[0])

    @property
    def d(self):
        return int(self.X.shape[1])

    @property
    def sparse(self):
        return is_sparse_gpu(self.X)

    @classmethod
    def build(cls, X, y, sample_weight, fit_intercept):
        cp = cupy_module()
        n, d = X.shape
        s = cp.ones(n) if sample_weight is None else sample_weight * (n / float(sample_weight.sum()))
        if is_sparse_gpu(X):
            squares = X.copy()
            squares.data = cp.square(X.data.astype(cp.float64))  # float32 squares overflow past 1.8e19
            sq = squares.T @ s
        else:
            sq = cp.zeros(d)
            step = max(1, (1 << 24) // max(d, 1))  # row chunks: no n x d temporary for X * X
            for a in range(0, n, step):
                xa = X[a:a + step].astype(cp.float64)
                sq += (xa * xa).T @ s[a:a + step]
        colsum = (X.T @ s.astype(X.dtype)) if fit_intercept else cp.zeros(d)
        sq, colsum = cp.asarray(sq, dtype=cp.float64).ravel().get(), cp.asarray(colsum, dtype=cp.float64).ravel().get()
        xbar = colsum / n
        ybar = float(s @ y / n) if fit_intercept else 0.0
        L = np.maximum(sq / n - xbar * xbar, 0.0)
        return cls(X, y - ybar, s, xbar, colsum, L, ybar, cp.asarray(xbar))

    def centred_matvec(self, v):
        """``(X - xbar) v`` as a float64 device vector (``v`` on the device or the host)."""
        cp = cupy_module()
        v = cp.asarray(v, dtype=cp.float64)
        return (self.X @ v.astype(self.X.dtype)).astype(cp.float64).ravel() - float(self.xbar_device @ v)

    def residual(self, w):
        """The exact centred residual ``yc - (X - xbar) w``, on the device (``w`` a host vector)."""
        return self.yc - self.centred_matvec(w)

    def device_gradient(self, r):
        """``z = (X - xbar)^T (s * r) / n`` for every column, on the device (one pass over X)."""
        cp = cupy_module()
        sr = self.s * r
        Xt_sr = (self.X.T @ sr.astype(self.X.dtype)).astype(cp.float64).ravel()
        return (Xt_sr - self.xbar_device * float(sr.sum())) / self.n

    def gradient(self, r):
        """:meth:`device_gradient` on the host."""
        return self.device_gradient(r).get()

    def spectral_radius(self, *, max_rows=DEVICE_RHO_ROWS, n_iter=30, seed=0):
        """:meth:`LassoData.spectral_radius` on the device: power iteration on a sample of ``max_rows`` rows,
        densified there (each product a GEMV), ``n_iter`` products."""
        cp = cupy_module()
        rs = cp.random.RandomState(seed)
        rows = cp.unique(rs.randint(0, self.n, size=max_rows, dtype=cp.int64)) if self.n > max_rows \
            else cp.arange(self.n)
        Xs = self.X[rows]
        Xs = Xs.toarray() if is_sparse_gpu(Xs) else Xs
        Xs = Xs.astype(cp.float64) - self.xbar_device
        L = cp.asarray(self.L)
        scale = 1.0 / cp.sqrt(cp.maximum(L, 1e-300))
        scale[L <= 0] = 0.0
        v = rs.standard_normal(self.d)
        lam = 1.0
        for _ in range(n_iter):
            u = Xs.T @ (Xs @ (scale * v)) * scale / rows.shape[0]
            nrm = float(cp.linalg.norm(u))
            if nrm == 0.0:
                return 1.0
            lam, v = float(v @ u) / float(v @ v), u / nrm
        return max(lam, 1.0)
