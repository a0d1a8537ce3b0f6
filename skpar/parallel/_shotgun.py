"""Shotgun parallel coordinate descent for the Lasso (Bradley, Kyrola, Bickson and Guestrin, ICML 2011).

Each step computes the coordinate updates of P coordinates from the same residual and applies them together: with P
up to ``P* = d / rho`` (``rho`` the spectral radius of the Gram matrix of the unit-norm columns) the updates barely
interfere and the number of epochs falls nearly P-fold; past it the iterates can diverge. On one machine the P
updates are split over threads (:func:`~skpar.kernels.deltas_dense`), then the residual update is split over rows.

Working sets (as celer and skglm do) keep an epoch from sweeping all d columns when few are active: each outer
iteration computes the full gradient once (for the duality gap, the stopping certificate), keeps the support and
adds the coordinates that violate their optimality condition most, and runs Shotgun on that set until its own gap
is below a fraction of the global one.
"""

from __future__ import annotations

import functools
import time
from typing import NamedTuple

import numpy as np

from .._lasso_objective import duality_gap, gap_from_sums, primal
from .._penalties import Penalty
from .._report import record, stop_requested
from ..kernels import gather_columns, sparse_arrays
from ..kernels._cd import (
    apply_deltas,
    cd_epochs_csc,
    cd_epochs_dense,
    column_dots_csc,
    deltas_csc,
    deltas_dense,
    residual_update_csc,
    residual_update_dense,
    shotgun_epoch_csc,
    shotgun_epoch_dense,
    shotgun_epoch_gram,
)
from ..kernels._newton import transposed_product_dense
from ._device_shotgun import DeviceShotgun
from ._lasso_data import dense_dot, dense_t_dot

#: below this many multiply-adds per step, a step is not worth two thread hand-offs
MIN_PARALLEL_WORK = 1 << 17
#: a dense working set whose F-ordered copy would exceed this fraction of X is solved on its Gram matrix instead
#: (when it has at least GRAM_ROWS_PER_COLUMN rows per column, so the m x m matrix is small next to X)
GRAM_COPY_FRACTION = 0.25
GRAM_ROWS_PER_COLUMN = 8
#: most groups of row chunks whose Gram sums run as tasks on the threads (fixed, so the sums do not follow the
#: thread count), and the most bytes their partial m x m sums may take together
GRAM_GROUPS = 16
GRAM_GROUP_BYTES = 1 << 28


def spectral_radius(data, **options):
    """Spectral radius of ``D^-1/2 X~^T S X~ D^-1/2`` (columns scaled to unit norm): ``d / rho`` is Shotgun's P*.
    See :meth:`skpar.parallel._lasso_data.LassoData.spectral_radius` for the estimate and its ``options``."""
    return data.spectral_radius(**options)


def _deltas_dense(X, args, idx):
    return deltas_dense(X, idx, *args)


def _deltas_csc(X, cols, args, n, idx):
    return deltas_csc(*sparse_arrays(X), cols, idx, *args, n)


def _residual_rows(X, idx, delta, r, rows):
    residual_update_dense(X, idx, delta, r, rows[0], rows[1])


class _Shotgun:
    """Shotgun epochs on a working set of columns, with the P-guard."""

    def __init__(self, data, pool, n_threads, l1, l2, positive):
        self.data, self.pool, self.T = data, pool, max(1, n_threads)
        self.l1, self.l2, self.positive = l1, l2, positive
        n = data.n
        bounds = np.linspace(0, n, self.T + 1).astype(int)
        self.row_ranges = [(int(bounds[k]), int(bounds[k + 1])) for k in range(self.T)]

    def set_working_set(self, ws):
        d = self.data
        self.ws = ws
        self.G = None
        if d.sparse:
            self.Xws = d.X
            self.cols = ws.astype(np.int64)
        else:
            # column access needs F order: an F-ordered X with the whole working set is used as it is; a copy of a
            # few columns is cheap; a large working set of a C-ordered X is solved on its Gram matrix (no copy of X)
            X = d.X
            self.Xws = None  # let the last working set's copy go before the next is made
            copy_bytes = X.shape[0] * ws.size * X.itemsize
            if ws.size == X.shape[1] and X.flags.f_contiguous:
                self.Xws = X
            elif copy_bytes > GRAM_COPY_FRACTION * X.nbytes and GRAM_ROWS_PER_COLUMN * ws.size <= X.shape[0]:
                self._gram(ws)
            elif X.flags.c_contiguous:
                # the compiled gather, a range of rows a thread (NumPy's column indexing is one thread)
                self.Xws = np.empty((X.shape[0], ws.size), dtype=X.dtype, order="F")
                cols = ws.astype(np.int64)
                if self.pool is not None and self.T > 1:
                    list(self.pool.map(lambda rr: gather_columns(X, cols, rr[0], rr[1], self.Xws), self.row_ranges))
                else:
                    gather_columns(X, cols, 0, X.shape[0], self.Xws)
            else:
                self.Xws = np.empty((X.shape[0], ws.size), dtype=X.dtype, order="F")
                for a in range(0, ws.size, 64):
                    self.Xws[:, a:a + 64] = X[:, ws[a:a + 64]]
            self.cols = np.arange(ws.size, dtype=np.int64)
        self.colsum, self.xbar, self.L = d.colsum[ws], d.xbar[ws], d.L[ws]

    def _gram(self, ws):
        """``G = X~_ws^T S X~_ws / n`` and ``b = X~_ws^T S yc / n`` in one pass over row chunks of X (each chunk's
        columns gathered and upcast on their own: no copy of X); ``c0 = yc^T S yc / n``. The chunks are summed in
        :data:`GRAM_GROUPS` fixed groups of consecutive chunks, a group a task on the threads, and the groups'
        sums added in order: the same bits on any number of threads."""
        d = self.data
        X, s, yc, n = d.X, d.s, d.yc, d.n
        m = ws.size
        rows = max(1, (1 << 21) // m)
        starts = list(range(0, n, rows))
        # at most GRAM_GROUPS partial m x m sums, fewer where they would pass GRAM_GROUP_BYTES (fixed by m alone)
        n_groups = max(1, min(GRAM_GROUPS, len(starts), GRAM_GROUP_BYTES // (8 * m * m)))
        bounds = np.linspace(0, len(starts), n_groups + 1).astype(int)

        def group(g):
            G, u = np.zeros((m, m)), np.zeros(m)
            for a in starts[bounds[g]:bounds[g + 1]]:
                Xa = np.asarray(X[a:a + rows][:, ws], dtype=np.float64)
                sa = s[a:a + rows]
                G += Xa.T @ (Xa * sa[:, None])
                # compiled, as dense_t_dot's chunks: BLAS's X.T @ v from several threads ran one call at a time
                transposed_product_dense(Xa, (sa * yc[a:a + rows])[None, :], u[None, :])
            return G, u

        parts = self._map(group, list(range(n_groups)), n * m * m)
        G, u = parts[0]
        for Gg, ug in parts[1:]:
            G += Gg
            u += ug
        xb = d.xbar[ws]
        # centring: X~^T S X~ = X^T S X - n xbar xbar^T (the weights sum to n); yc is centred, so b needs none
        self.G = G / n - np.outer(xb, xb)
        self.b = u / n
        self.c0 = float(s @ (yc * yc)) / n

    def begin(self, w, r):
        """The state the epochs of this working set update: the residual ``r``, or on the Gram matrix the
        correlations ``z = b - G w`` (``w`` the working set's coordinates)."""
        return r if self.G is None else self.b - self.G @ w

    def state_at(self, w, ref, ref_state):
        """The state of :meth:`begin` at the working set's coordinates ``w``, from the state ``ref_state`` at ``ref``:
        the residual moves by ``X~_ws (ref - w)`` (a product with the working set's columns only), the Gram
        correlations are ``b - G w``."""
        if self.G is not None:
            return self.b - self.G @ w
        delta = ref - w
        if self.data.sparse:
            X = self.Xws
            moved = np.zeros(self.data.n)
            residual_update_csc(*sparse_arrays(X), self.cols, np.arange(self.cols.size), -delta, moved)
        else:
            moved = dense_dot(self.Xws, delta, self._pool())
        return ref_state + moved - float(self.xbar @ delta)

    def primal(self, w, state):
        """The objective at the working set's coordinates ``w`` (the other coordinates are zero)."""
        if self.G is None:
            return primal(self.data, w, state, self.l1, self.l2)
        return 0.5 * self._r_norm2(w, state) / self.data.n + Penalty(self.l1, self.l2).value(w)

    def gap(self, w, state):
        """The duality gap of the problem restricted to the working set."""
        if self.G is None:
            return duality_gap(self.data, w, state, self.gradient(state), self.l1, self.l2, self.positive)
        n = self.data.n
        return gap_from_sums(n, self._r_norm2(w, state), n * (self.c0 - float(self.b @ w)), state, w, self.l1,
                             self.l2, self.positive)

    def _r_norm2(self, w, z):
        # r^T S r / n = c0 - 2 b.w + w.G w = c0 - w.b - w.z
        return max(self.data.n * (self.c0 - float(w @ self.b) - float(w @ z)), 0.0)

    def _pool(self):
        """The pool for a pass's fixed row chunks (:func:`~skpar.parallel._lasso_data.dense_t_dot`), or None."""
        return self.pool if self.T > 1 else None

    def _map(self, fn, chunks, work, *args):
        """``[fn(*args, c) for c in chunks]``, on the threads when the step carries enough work."""
        if self.T == 1 or len(chunks) == 1 or work < MIN_PARALLEL_WORK:
            return [fn(*args, c) for c in chunks]
        return [f.result() for f in [self.pool.submit(fn, *args, c) for c in chunks]]

    def epoch(self, w, r, P, order):
        """One pass over ``order`` (positions in the working set) in steps of P; ``w`` and ``r`` change in place.

        Returns the number of parallel steps (rounds of P simultaneous updates) taken. On the Gram matrix ``r`` is
        the state of :meth:`begin`."""
        if self.G is not None:
            return shotgun_epoch_gram(self.G, r, order, P, w, self.l1, self.l2, self.positive)
        d, s = self.data, self.data.s
        args = (s, r, 0.0, self.colsum, self.L, w, self.l1, self.l2, self.positive)
        if P == 1:  # sequential coordinate descent: one kernel call for the whole epoch
            if d.sparse:
                wn, rn, c = cd_epochs_csc(*sparse_arrays(self.Xws), self.cols, order, s, r,
                                          0.0, self.colsum, self.xbar, self.L, w, self.l1, self.l2, self.positive,
                                          1, 1.0, d.n)
            else:
                wn, rn, c = cd_epochs_dense(self.Xws, order, s, r, 0.0, self.colsum, self.xbar, self.L, w, self.l1,
                                            self.l2, self.positive, 1, 1.0)
            w[:] = wn
            r[:] = rn + c
            return order.size
        X = self.Xws
        per_step = (X.nnz / max(d.d, 1) if d.sparse else d.n) * P
        if self.T == 1 or per_step < MIN_PARALLEL_WORK:
            # small steps: the same Shotgun steps in one kernel call, no thread hand-offs
            if d.sparse:
                return shotgun_epoch_csc(*sparse_arrays(X), self.cols, order, P, s, r, self.colsum,
                                         self.xbar, self.L, w, self.l1, self.l2, self.positive, d.n)
            return shotgun_epoch_dense(X, order, P, s, r, self.colsum, self.xbar, self.L, w, self.l1, self.l2,
                                       self.positive)
        # the one-thread kernels' arithmetic, step for step, so that any thread count gives the same bits: the
        # changes and the centring shift are applied in order (apply_deltas); dense rows take each step's shift,
        # sparse columns carry it as an offset c folded into r at the end
        c = 0.0
        for start in range(0, order.size, P):
            idx = order[start:start + P]
            parts = np.array_split(idx, min(self.T, idx.size))
            if d.sparse:
                X = self.Xws
                nnz = int((X.indptr[self.cols[idx] + 1] - X.indptr[self.cols[idx]]).sum())
                step_args = (s, r, c, *args[3:])
                deltas = self._map(_deltas_csc, parts, nnz, X, self.cols, step_args, d.n)
            else:
                deltas = self._map(_deltas_dense, parts, d.n * idx.size, self.Xws, args)
            delta = np.concatenate(deltas)
            if not delta.any():
                continue
            if d.sparse:
                c = apply_deltas(idx, delta, self.xbar, w, c)
                residual_update_csc(*sparse_arrays(self.Xws), self.cols, idx, delta, r)
            else:
                shift = apply_deltas(idx, delta, self.xbar, w, 0.0)
                self._map(_residual_rows, self.row_ranges, d.n * idx.size, self.Xws, idx, delta, r)
                if shift != 0.0:
                    r += shift
        if c != 0.0:
            r += c
        return -(-order.size // P)

    def gradient(self, r):
        sr = self.data.s * r
        if self.data.sparse:
            g = column_dots_csc(*sparse_arrays(self.Xws), self.cols, sr)
        else:
            g = dense_t_dot(self.Xws, sr, self._pool())
        return (g - self.xbar * sr.sum()) / self.data.n


#: iterates that Anderson acceleration combines (one extrapolation every this many epochs)
ANDERSON_DEPTH = 5


class _Anderson:
    """Anderson acceleration of the epochs on a working set (as in Bertrand and Massias 2021 and skglm's solver).

    Coordinate descent epochs on a working set converge linearly once the support is found, and their iterates
    then line up along the slowest directions; the combination of the last ``depth`` iterates whose weights (summing
    to one) minimise the norm of the combined differences extrapolates along them. The caller keeps it only where
    it lowers the objective, so the epochs' descent is never lost.
    """

    def __init__(self, depth):
        self.depth = depth
        self.iterates = []

    def push(self, w):
        """Record an epoch's iterate; every ``depth`` epochs return the extrapolated point (else None)."""
        self.iterates.append(w.copy())
        if len(self.iterates) <= self.depth:
            return None
        Xs = np.array(self.iterates)
        self.iterates = []
        U = np.diff(Xs, axis=0)
        # weights c, summing to one, that minimise ||U^T c||: C^-1 1 normalised, or where C is singular (more
        # iterates than directions left, near the optimum) a null vector of C, whose combination has no residual
        lam, V = np.linalg.eigh(U @ U.T)
        if not np.isfinite(lam).all() or lam[-1] <= 0.0:
            return None
        if lam[0] <= 1e-13 * lam[-1]:
            z = V[:, 0]
        else:
            z = V @ ((V.T @ np.ones(lam.size)) / lam)
        if not np.isfinite(z).all() or abs(z.sum()) < 1e-12 * np.abs(z).sum():
            return None
        c = z / z.sum()
        return c @ Xs[1:]


def _cut_parallelism(p_ws, P, rho, ws_size, history, row, model=None):
    """The P-guard's cut after an epoch that raised the objective: half of ``p_ws``, or at once the P* of the
    estimated ``rho`` if that is smaller; with P chosen automatically, ``rho`` is raised to match. Records the event
    in ``history`` with ``model`` (the coefficients the undone epoch left as they were, see :func:`_record`);
    returns ``(p_ws, P, rho)``."""
    p_new = max(1, min(p_ws // 2, int(ws_size / rho)))
    record(history, {"round": len(history), **row, "gap": np.nan, "P": p_ws, "working_set": ws_size,
                     "event": f"objective rose: P {p_ws} -> {p_new}"}, model=model)
    P = p_new if P is not None else None
    rho = max(rho, ws_size / p_new) if P is None else rho
    return p_new, P, rho


def _extrapolate(anderson, solver, ww, state, cur):
    """Anderson's extrapolation of the working set's iterates, kept only where it lowers the objective ``cur`` at
    ``ww`` (the epochs alone descend; ``None``: not taken yet, computed here if needed); returns ``(ww, state,
    objective)``, the objective ``None`` where it was neither given nor needed."""
    if anderson is not None:
        extrapolated = anderson.push(ww)
        if extrapolated is not None:
            cur = solver.primal(ww, state) if cur is None else cur
            state_x = solver.state_at(extrapolated, ww, state)
            cur_x = solver.primal(extrapolated, state_x)
            if np.isfinite(cur_x) and cur_x < cur:
                return extrapolated, state_x, cur_x
    return ww, state, cur


def _working_set(data, w, z, penalty, positive):
    """The coordinates of the next working set, sorted: the support, and the zero coordinates farthest from their
    optimality condition (scaled by their column norms), twice the support's size and at least 100."""
    support = np.flatnonzero(w)
    score = penalty.violation(z, w, positive) / np.sqrt(np.maximum(data.L, 1e-300))
    score[support] = np.inf
    size = int(min(data.d, max(2 * support.size, 100)))
    return np.sort(np.argpartition(-score, size - 1)[:size]) if size < data.d else np.arange(data.d)


def _record(history, start_time, model=None, **row):
    """One ``history`` row of an outer iteration (reported where ``history`` is a :class:`skpar._report.FitLog`,
    with ``model``, the coefficients and intercept as they stand)."""
    record(history, {"round": len(history), "time": time.perf_counter() - start_time, **row}, model=model)


class ShotgunResult(NamedTuple):
    """What :func:`shotgun_lasso` returns: the coefficients, their certified duality gap, the epochs run, whether the
    gap met the tolerance, the last P whose epoch was kept, and the exact residual and gradient at ``w`` (from which
    a fit at another alpha that starts at ``w`` can start, with no pass over X)."""

    w: np.ndarray
    gap: float
    epochs: int
    converged: bool
    P: int
    residual: object
    gradient: np.ndarray


def shotgun_lasso(data, w, l1, l2, *, P, rho, max_epochs, tol, positive=False, working_set=True,
                  selection="cyclic", rng=None, pool=None, n_threads=1, history=None, start_time=None, max_inner=200,
                  known=None):
    """Minimise the (elastic-net) Lasso by Shotgun coordinate descent on working sets.

    Parameters
    ----------
    data : LassoData or DeviceLassoData
    w : ndarray of shape (d,)
        Starting coefficients (warm start).
    l1, l2 : float
        ``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``.
    P : int or None
        Coordinates updated at once; ``None`` takes ``|working set| / rho`` (P* of the working set is at least
        that, since the spectral radius of a subset of columns is at most ``rho``).
    rho : float
        Spectral radius estimate (:func:`spectral_radius`).
    max_epochs : int
        Epochs (passes over the current working set) in all.
    tol : float
        Stop once the duality gap is at most ``tol`` (absolute, in the objective's scale).
    known : tuple of (residual, gradient), optional
        The exact residual and gradient at the starting ``w`` where the caller has them (the previous alpha of a
        path ended there): they are not computed again.

    Returns
    -------
    ShotgunResult
        ``history`` gets one row per outer iteration (``epochs`` and ``steps``, the parallel steps of P updates so
        far, ``primal``, ``gap``, ``P``, ``working_set``) and one per P-guard event (``event``).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    w = np.array(w, dtype=np.float64)
    # the one place the data's kind matters: host columns through the compiled kernels, or GPU products
    solver = (DeviceShotgun if data.device else _Shotgun)(data, pool, n_threads, l1, l2, positive)
    # the residual computed from w (or given exact), not carried through the epochs' in-place updates
    r, z = (data.residual(w), None) if known is None else (known[0].copy(), known[1])
    exact = True
    epochs, steps, converged, p_used, ws_size = 0, 0, False, 1, 0
    while True:
        z = data.gradient(r) if z is None else z
        gap = duality_gap(data, w, r, z, l1, l2, positive)
        if not exact and (gap <= tol or epochs >= max_epochs or stop_requested(history)):
            # the answer's gap is taken on the residual computed afresh (the carried one holds the rounding drift
            # of many in-place updates): a certificate, not an estimate
            r, z, exact = data.residual(w), None, True
            continue
        _record(history, start_time, model=lambda: (w, data.ybar - float(data.xbar @ w)), epochs=epochs,
                steps=steps, primal=primal(data, w, r, l1, l2), gap=gap,
                P=p_used, working_set=ws_size)
        if gap <= tol:
            converged = True
            break
        if epochs >= max_epochs or stop_requested(history):  # the budget spent, or the callback said stop
            break
        ws = _working_set(data, w, z, Penalty(l1, l2), positive) if working_set else np.arange(data.d)
        ws_size = ws.size
        solver.set_working_set(ws)
        ww = w[ws].copy()
        p_ws = int(P) if P is not None else int(ws.size / rho)
        p_ws = max(1, min(p_ws, ws.size))
        inner_tol = 0.3 * gap if working_set and ws.size < data.d else tol
        state = solver.begin(ww, r)
        ww, state, epochs, steps, p_last, P, rho = _working_set_epochs(
            solver, ww, state, p_ws, P, rho, inner_tol=inner_tol, epochs=epochs, steps=steps, max_epochs=max_epochs,
            max_inner=max_inner, order=_orders(ws.size, selection, rng), anderson=not positive, history=history,
            start_time=start_time, model_of=functools.partial(_model_with, data, w, ws))
        p_used = p_last or p_used
        w[ws] = ww
        # the epochs carried the residual along (on the Gram matrix they carry correlations instead): a pass over
        # X to recompute it is taken only for the answer's certificate (above), not every outer iteration
        r, exact = (state, False) if solver.G is None else (data.residual(w), True)
        z = None
    return ShotgunResult(w, gap, epochs, converged, p_used, r, z)


def _model_with(data, w, ws, part):
    """The :func:`_record` callable of the whole model with the working set ``ws``'s coefficients at ``part`` (a
    copy: the epochs go on in place)."""
    full = w.copy()
    full[ws] = part

    def model():
        return full, data.ybar - float(data.xbar @ full)
    return model


def _orders(size, selection, rng):
    """The working set's coordinate order of each epoch: a fresh permutation (``'random'``) or the stored one."""
    cyclic = np.arange(size)
    while True:
        yield rng.permutation(size) if selection == "random" else cyclic


def _working_set_epochs(solver, ww, state, p_ws, P, rho, *, inner_tol, epochs, steps, max_epochs, max_inner, order,
                        anderson, history, start_time, model_of=None):
    """Shotgun epochs of ``p_ws`` updates at once on the working set (``ww``, ``state``) until its gap is at most
    ``inner_tol`` (checked every 5 epochs), ``max_inner`` epochs or the fit's ``max_epochs``, with the P-guard and
    Anderson extrapolation. ``model_of(ww)``: the whole model's callable for :func:`_record`. Returns ``(ww, state,
    epochs, steps, p_used, P, rho)``: ``p_used`` is the last P whose epoch was kept (None if none was), ``P`` and
    ``rho`` as the P-guard left them."""
    prev = solver.primal(ww, state)  # the working set holds the support: the other coordinates are zero
    accel = _Anderson(ANDERSON_DEPTH) if anderson else None
    p_used = None
    for k in range(max_inner):
        if epochs >= max_epochs:
            break
        # one coordinate at a time, each update minimises the objective along its coordinate: an epoch cannot
        # raise it, so the P-guard's snapshot and its objective are skipped (a real cost on many short epochs),
        # and the objective is taken only where Anderson needs it
        sequential = p_ws == 1
        snapshot = None if sequential else (ww.copy(), state.copy())
        steps += solver.epoch(ww, state, p_ws, next(order))
        epochs += 1
        cur = None if sequential else solver.primal(ww, state)
        if cur is not None and (not np.isfinite(cur) or cur > prev * (1 + 1e-12) + 1e-300):
            # P past P*: the simultaneous updates interfered. Undo the epoch; halve P, or go at once to the
            # P* of the estimated rho if that is smaller: a P just under the rise can still crawl (updates of
            # correlated columns undo each other without the objective going up)
            ww, state = snapshot
            p_ws, P, rho = _cut_parallelism(p_ws, P, rho, ww.size, history, {
                "time": time.perf_counter() - start_time, "epochs": epochs, "steps": steps, "primal": prev},
                model=None if model_of is None else model_of(ww))
            continue
        p_used = p_ws
        ww, state, prev = _extrapolate(accel, solver, ww, state, cur)
        if (k + 1) % 5 == 0 or epochs >= max_epochs:
            # the working set holds the support, so this is the gap of the problem restricted to it
            if solver.gap(ww, state) <= inner_tol:
                break
    return ww, state, epochs, steps, p_used, P, rho
