"""CoCoA / CoCoA+: distributed dual coordinate ascent for linear SVMs (Jaggi et al. 2014; Ma et al. 2015).

The dual variables belong to the data points, so model parallelism in the dual is data parallelism (Jaggi et al.
2014): every block improves its own dual variables against the shared ``w`` with local SDCA epochs, and the
driver combines the blocks' changes of ``w``, by adding them (CoCoA+, the local subproblems made safe by
``sigma' = K``) or by averaging them (CoCoA). The duality gap is computed every round from the blocks' primal losses
and dual terms, at the state the round started from, so the fit stops on a certificate.

The dual variables stay on the blocks, where their rows are. A round's change is kept pending on its block and
committed at the start of the next round, once the driver has taken the matching change of ``w``; a fit that stops
on its certificate discards it, so ``w`` and the dual variables always agree.

On a Dask cluster the dual variables are the one state a lost worker takes with it. The driver keeps a checkpoint
(every block's dual variables and ``w`` at the start of some round); when a worker holding a block leaves, the lost
blocks are placed again on live workers, every block goes back to the checkpoint and the rounds since then run
again with the same seeds: the fit ends with the dual variables and coefficients of an undisturbed run, bit for bit.
Checkpoints are taken so that fetching them costs at most about a tenth of the fit's time.
"""

from __future__ import annotations

import time

import numpy as np

from ..backend import LostBlocksError
from ..gpu._dcd import dcd_gpu, w_of_alpha_gpu
from ..gpu._namespace import array_module, to_host
from ..kernels import dcd_csr, dcd_dense, row_sq_norms_csr, row_sq_norms_dense, w_of_alpha_csr, w_of_alpha_dense


def _zeros(block, shape):
    """Dual variables where the block's rows are (GPU memory for a GPU block)."""
    return array_module(block.X).zeros(shape)


def _commit(block):
    pending = getattr(block, "pending", None)
    if pending is not None:
        block.alpha = block.alpha + pending
        block.pending = None


def dcd_task(block, W0, C, loss, pos_weight, neg_weight, bias, sigma, gamma, n_epochs, seed, rnd=0):
    """Commit the block's pending change, then run ``n_epochs`` local epochs; returns ``(dW, primal, dual)``.

    ``W0`` is the round's starting point (``w(alpha)``, or Catalyst's proximal iterate): the certificate's primal
    sums are taken there and the local steps start from it, moving it by ``sigma`` times each step. ``dW`` is the
    block's change of ``w(alpha)`` (the driver scales it by ``gamma``); the new dual variables are kept pending as
    ``gamma`` times their change.
    """
    _commit(block)
    K = W0.shape[0]
    if getattr(block, "alpha", None) is None or block.alpha.shape != (K, block.n_rows):
        block.alpha = _zeros(block, (K, block.n_rows))
    Wl, A = W0.copy(), block.alpha.copy()
    ps, ds = _dcd(block, W0, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd)
    block.pending = gamma * (A - block.alpha)
    return (Wl - W0) / sigma, ps, ds


def _dcd(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd=0):
    """``n_epochs`` passes of the kernel on the block's rows in orders drawn from ``seed``, the round ``rnd`` and the
    pass; ``Wl`` and ``A`` change in place. Returns the certificate's sums of the first pass.

    Every pass draws a fresh order. One fixed order (commit d53a852) took fewer passes on the sparse benchmark (21
    against 45 under Catalyst) but stalled on dense data with n >> d (20,000 x 30, C = 0.05: a gap of 2.3e-2 after
    3,000 passes,
    where fresh orders reach 1e-3; long PASSCoDe rounds in one order stalled the same way), and on GPUs (4.8e-3
    after 3,000 passes): fresh orders are the robust choice. On the CPU a pass is one kernel call; the shrinking
    state goes from call to call.
    """
    if block.on_gpu:
        return dcd_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs,
                       (seed + 7919 * rnd) % (1 << 31))
    X = block.X
    sqn = _row_sq_norms(block)
    active = np.ones(A.shape if n_epochs > 1 else (0, 0), dtype=np.bool_)
    thresholds = np.array([np.inf, -np.inf])
    sums = (0.0, 0.0)
    for epoch in range(n_epochs):
        order = block.permutation((seed + 7919 * rnd + 104729 * epoch) % (1 << 31))
        if block.is_sparse:
            out = dcd_csr(X.data, X.indices, X.indptr, sqn, block.y, block.sample_weight, order, W, Wl, A, C,
                          loss.kernel, loss.dual, pos_weight, neg_weight, bias, sigma, epoch == 0, active, thresholds)
        else:
            out = dcd_dense(X, sqn, block.y, block.sample_weight, order, W, Wl, A, C, loss.kernel, loss.dual,
                            pos_weight, neg_weight, bias, sigma, epoch == 0, active, thresholds)
        sums = out if epoch == 0 else sums
    return sums


def _row_sq_norms(block):
    """Squared norms of the block's rows, computed on first use and kept on the block (not sent with it)."""
    sqn = getattr(block, "row_sq_norms", None)
    if sqn is None:
        rows = np.arange(block.n_rows)
        X = block.X
        sqn = row_sq_norms_csr(X.data, X.indptr, rows) if block.is_sparse else row_sq_norms_dense(X, rows)
        block.row_sq_norms = sqn
    return sqn


def passcode_task(block, W, W_shared, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd):
    """PASSCoDe-Wild (Hsieh et al. 2015): epochs on the block's dual variables that write the shared ``w`` of the
    process without locks, ``sigma`` times each step (``1 / (1 + kappa)`` under Catalyst). Returns the block's
    primal and dual sums at the incoming ``(W, alpha)``."""
    K = W.shape[0]
    if getattr(block, "alpha", None) is None or block.alpha.shape != (K, block.n_rows):
        block.alpha = np.zeros((K, block.n_rows))
    block.pending = block.alpha.copy()  # the round's starting point, restored if the fit stops on it
    return _dcd(block, W, W_shared, block.alpha, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd)


def restore_task(block):
    """Put the block's dual variables back to where the round started (the certified state)."""
    block.alpha, block.pending = block.pending, None


def w_of_alpha_task(block, shape, bias):
    """``sum_i alpha_ik t_ik x~_i`` over the block: its exact share of ``w(alpha)``."""
    if block.on_gpu:
        return w_of_alpha_gpu(block, shape, bias)
    out = np.zeros(shape)
    X = block.X
    if block.is_sparse:
        w_of_alpha_csr(X.data, X.indices, X.indptr, block.y, block.alpha, bias, out)
    else:
        w_of_alpha_dense(X, block.y, block.alpha, bias, out)
    return out


def commit_task(block, keep):
    """Commit (``keep``) or discard the block's pending change of its dual variables."""
    if keep:
        _commit(block)
    block.pending = None


def checkpoint_task(block):
    """The block's dual variables with its pending change committed (a copy on the host; the block is unchanged).

    Committing computes ``alpha + pending`` exactly as the next round's :func:`dcd_task` will, so a block set back
    to this checkpoint continues with the same bits."""
    pending = getattr(block, "pending", None)
    alpha = getattr(block, "alpha", None)
    if alpha is None:
        return None
    return to_host(alpha + pending if pending is not None else alpha)


def set_alpha_task(block, alpha):
    """Set the block's dual variables to a checkpoint (``None``: not started), nothing pending."""
    block.alpha = None if alpha is None else array_module(block.X).asarray(alpha)
    block.pending = None


def alpha_task(block):
    """The block's dual variables and its row offset in the data (for ``dual_coef_``)."""
    return block.index, to_host(block.alpha)


def _certify(W, sums, rnd, res, history, start_time, verbose, W_primal=None):
    """Primal, dual and relative duality gap of a round's starting state from the blocks' ``(primal, dual)`` sums;
    one ``history`` row. ``W`` is ``w(alpha)``; the primal sums were taken at ``W_primal`` (default ``W``).
    Returns the relative gap; a non-finite primal raises."""
    W_primal = W if W_primal is None else W_primal
    primal = 0.5 * float(np.vdot(W_primal, W_primal)) + sum(p for p, _ in sums)
    dual = sum(d for _, d in sums) - 0.5 * float(np.vdot(W, W))
    gap = primal - dual
    rel = gap / max(abs(primal), 1e-300)
    history.append({"round": rnd, "time": time.perf_counter() - start_time, "primal": primal, "dual": dual,
                    "gap": gap, "relative_gap": rel, "bytes_sent": res.bytes_sent})
    if verbose:
        print(f"-- round {rnd}: primal {primal:.6g}, dual {dual:.6g}, relative gap {rel:.3e}")
    if not np.isfinite(primal):
        raise FloatingPointError("dual coordinate ascent produced a non-finite primal objective")
    return rel


class Catalyst:
    """Catalyst acceleration (Lin, Mairal and Harchaoui 2015; with a dual inner solver, AccProxSDCA of
    Shalev-Shwartz and Zhang 2014) of the rounds of dual coordinate ascent.

    Round ``t`` makes one warm-started round of progress on the proximal problem

    .. math::

        \\min_w \\tfrac12 \\|w\\|^2 + \\sum_i C_i \\ell(t_i w \\cdot x_i) + \\tfrac{\\kappa}{2} \\|w - y_t\\|^2,

    whose dual has the SVM's own variables and box, with :math:`w(\\alpha) = v_t + u(\\alpha) / (1 + \\kappa)`,
    :math:`v_t = \\kappa y_t / (1 + \\kappa)` and :math:`u(\\alpha) = \\sum_i \\alpha_i t_i x_i` the SVM's
    ``w(alpha)``. So the local solvers run unchanged from ``start(u)`` with every step scaled by ``scale = 1 /
    (1 + kappa)``. The certificate is the SVM's own duality gap: the dual at ``alpha`` (which needs ``u``) against
    the primal at ``start(u)``, the proximal iterate, which converges to the same optimum. Taken at ``u`` instead,
    the primal would carry each proximal solve's error times ``1 + kappa`` (measured on dense 50,000 x 100, C = 2,
    after 1,000 passes: a certified gap of 0.51 at ``u``, 0.039 at ``start(u)``). Between rounds the centre moves with
    momentum, :math:`y_{t+1} = w_t + \\beta (w_t - w_{t-1})`, :math:`\\beta = (1 - \\sqrt q) / (1 + \\sqrt q)`,
    :math:`q = 1 / (1 + \\kappa)`; the momentum restarts (``y = w``) when the certified gap is more than twice the
    best one so far (:func:`_on_course`; the gap of an accelerated run is not monotone, but it does not double).

    Why: plain dual coordinate ascent needs passes in proportion to the problem's condition, the accelerated scheme
    in proportion to its square root. Measured to a gap of 1e-3: the sparse benchmark (200,000 x 50,000, C = 0.5)
    95 passes plain, 58 with the automatic ``kappa`` (10.3), 36 with 5; dense 20,000 x 30 (C = 0.05, 2 blocks) 929
    against 213 (``kappa`` 3.3); ``python asv_bench/scripts/svm_kappa.py --sparse`` reproduces these.
    ``kappa = 0`` is plain dual coordinate ascent.
    """

    def __init__(self, kappa, W):
        self.kappa = float(kappa)
        q = 1.0 / (1.0 + self.kappa)
        self.beta = (1.0 - q ** 0.5) / (1.0 + q ** 0.5)
        self.v = np.zeros_like(W)
        self.w_prev = None

    @property
    def scale(self):
        return 1.0 / (1.0 + self.kappa)

    def start(self, u):
        """Where the round's local solvers start: the proximal problem's ``w(alpha)``."""
        return self.v + self.scale * u if self.kappa else u

    def step(self, u_new, improved):
        """Move the centre after a round that took the SVM's ``w(alpha)`` to ``u_new``."""
        if not self.kappa:
            return
        w = self.start(u_new)
        y = w if self.w_prev is None or not improved else w + self.beta * (w - self.w_prev)
        self.w_prev, self.v = w, self.kappa * self.scale * y

    def switch_on(self, kappa, u):
        """Start accelerating from the SVM's ``w(alpha) = u``, the first centre."""
        self.__init__(kappa, u)
        self.v = self.kappa * self.scale * u
        self.w_prev = u.copy()

    def state(self):
        return self.kappa, self.v.copy(), None if self.w_prev is None else self.w_prev.copy()

    def set_state(self, state):
        kappa, v, w_prev = state
        self.__init__(kappa, v)
        self.v, self.w_prev = v.copy(), None if w_prev is None else w_prev.copy()


def _on_course(history):
    """False when the last certified gap is more than twice the best so far: Catalyst's momentum then restarts."""
    gaps = [h["relative_gap"] for h in history]
    return gaps[-1] <= 2.0 * min(gaps)


def auto_kappa(history):
    """Catalyst's ``kappa`` from the certified gaps of two plain rounds (the last two ``history`` rows: passes 1
    and 2 in CoCoA rounds, 2 and 6 in PASSCoDe's, whose ``passes`` give the passes between them).

    The gap's rate per pass ``rho`` gives ``e = -1 / log(rho)``, the passes per factor ``e`` of progress. With
    ``1 + kappa`` about ``e / 2`` one pass on the proximal problem makes steady progress and the outer rate is about
    ``1 - 1 / sqrt(1 + kappa)``; below ``kappa = 1`` (problems solved in a few passes) acceleration does not pay.
    On problems with many more rows than features the first passes show a plateau (a rate near 1, so a huge
    ``e``) that later passes do not keep, so ``kappa`` is capped at :data:`MAX_KAPPA`. Measured to a gap of 1e-3
    (1 thread, 1,000 passes at most): dense 50,000 x 100 (C = 2) kappa 10 did not get there, 30 took 845 passes,
    100 took 297, 300 took 109; scikit-learn's class-weight check (blobs with standard deviation 20, class weight
    1000, 3 classes) reached a gap of 0.72 with kappa 10, 0.017 with 100, 0.0024 with 300, but with 2 classes
    kappa 100 converged and 300 did not; on the sparse benchmark kappa 5 to 50 took 36 to 71 passes
    (``python asv_bench/scripts/svm_kappa.py --sparse``). Gaps that do not fall between the two passes give
    :data:`MAX_KAPPA` too.
    """
    g1, g2 = history[-2]["relative_gap"], history[-1]["relative_gap"]
    if g2 <= 0.0 < g1:
        return 0.0  # solved to rounding between the two: nothing to accelerate
    if not (0.0 < g2 < g1):
        return MAX_KAPPA
    between = max(1, int(history[-1].get("passes", 1) - history[-2].get("passes", 0)))
    e = -between / np.log(g2 / g1)  # passes per factor e, from the rate per pass between the two certificates
    kappa = e / 2.0 - 1.0
    return float(min(kappa, MAX_KAPPA)) if kappa >= 1.0 else 0.0


#: the largest ``kappa`` that :func:`auto_kappa` picks (see there)
MAX_KAPPA = 100.0


class _Checkpoints:
    """The driver's copy of every block's dual variables and ``w`` at the start of one round (Dask only).

    A checkpoint is taken at the start of a round once the rounds since the last one have taken at least ten times
    as long as fetching the last one did (and at least ``min_seconds``), so checkpoints cost about a tenth of the fit
    at most; the round-0 checkpoint (nothing started) is free.
    """

    def __init__(self, rounds, W, history, catalyst, min_seconds=1.0):
        self.rounds, self.min_seconds = rounds, min_seconds
        self.enabled = hasattr(rounds.backend, "restore")  # only a cluster loses workers
        self.round, self.W, self.alphas, self.n_history = 0, W.copy(), [None] * rounds.n_blocks, len(history)
        self.catalyst, self.catalyst_state = catalyst, catalyst.state()
        self.taken_at, self.cost = time.perf_counter(), 0.0
        self.roll_backs = 0  # to the current checkpoint

    def maybe_take(self, rnd, W, history):
        now = time.perf_counter()
        if not self.enabled or rnd == self.round or now - self.taken_at < max(self.min_seconds, 10 * self.cost):
            return
        alphas = self.rounds.run(checkpoint_task).results
        self.round, self.W, self.alphas, self.n_history = rnd, W.copy(), alphas, len(history)
        self.catalyst_state = self.catalyst.state()
        self.taken_at = time.perf_counter()
        self.cost = self.taken_at - now
        self.roll_backs = 0

    def roll_back(self, history, lost):
        """Place lost blocks again, set every block to the checkpoint; returns ``(round, W)`` to go on from.

        ``lost`` (the :class:`LostBlocksError`) is raised again off a thread backend or once
        ``SyncRounds.MAX_RECOVERIES`` roll-backs to the same checkpoint have not got past it."""
        rounds = self.rounds
        if not self.enabled or self.roll_backs >= rounds.MAX_RECOVERIES:
            raise lost
        self.roll_backs += 1
        rounds.blocks = rounds.backend.restore(rounds.blocks)
        rounds.recoveries += 1
        rounds.run(set_alpha_task, per_block=[(a,) for a in self.alphas])
        del history[self.n_history:]
        self.catalyst.set_state(self.catalyst_state)
        self.taken_at = time.perf_counter()
        return self.round, self.W.copy()


def cocoa(rounds, W, *, C, loss, pos_weight, neg_weight, bias, combine, local_iters, max_rounds, tol, seed,
          kappa=0.0, history=None, start_time=None, verbose=0):
    """Run CoCoA+ (``combine='add'``) or CoCoA (``'average'``) rounds until the relative duality gap is ``<= tol``.

    ``kappa``: Catalyst's weight (:class:`Catalyst`), ``'auto'`` to choose it after two plain rounds
    (:func:`auto_kappa`). Each round visits a block's rows in an order drawn from ``seed`` and the round (see
    :func:`_dcd`).
    Returns ``(W, relative_gap, n_rounds, converged, kappa)``; the blocks keep dual variables that match ``W``.
    On a Dask cluster, a worker lost mid-fit costs a roll-back to the last checkpoint (module docstring).
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    K = rounds.n_blocks
    sigma, gamma = (float(K), 1.0) if combine == "add" else (1.0, 1.0 / K)
    W = np.array(W, dtype=np.float64)
    catalyst = Catalyst(0.0 if kappa == "auto" else kappa, W)
    checkpoints = _Checkpoints(rounds, W, history, catalyst)
    rel, converged, rnd = np.inf, False, 0
    while True:
        try:
            checkpoints.maybe_take(rnd, W, history)
            W0 = catalyst.start(W)  # the primal point of this round's start, certified with the dual variables
            res = rounds.run(dcd_task, W0, C, loss, pos_weight, neg_weight, bias, sigma * catalyst.scale, gamma,
                             local_iters, seed, rnd)
            rel = _certify(W, [r[1:] for r in res.results], rnd, res, history, start_time, verbose, W0)
            history[-1]["passes"] = rnd * local_iters
            if rel <= tol or rnd == max_rounds:
                converged = rel <= tol
                rounds.run(commit_task, False)
                break
        except LostBlocksError as lost:
            rnd, W = checkpoints.roll_back(history, lost)
            continue
        for dW, _, _ in res.results:
            W += gamma * dW
        catalyst.step(W, _on_course(history))
        if kappa == "auto" and rnd == 2:
            catalyst.switch_on(auto_kappa(history), W)
        rnd += 1
    return W0, rel, rnd, converged, catalyst.kappa


def next_passes(history, current, done, tol, budget):
    """Passes to run before the next certificate, from the duality gaps certified so far (PASSCoDe rounds).

    A certificate costs a reduction of ``w(alpha)`` and one pass without shrinking, so certifying every pass (95
    certificates on the sparse benchmark) costs about as much as the passes. The gap falls about geometrically:
    its rate per pass between the last two certificates (``history`` rows, each with the ``passes`` done before it)
    predicts where the round in progress (``current`` passes; ``done`` counts them) will take it and how many
    passes ``R`` remain after that; the next round runs half of them, at most twice ``done`` and at least one.
    A round that ends past the target wastes its work (the fit returns the certified state at a round's start),
    so this wastes at most about half of a round and certifies about ``log2`` of the passes times.
    """
    if len(history) < 2:
        return 1
    g0, g1 = history[-2]["relative_gap"], history[-1]["relative_gap"]
    between = history[-1]["passes"] - history[-2]["passes"]
    if not (0.0 < g1 < g0) or between <= 0 or tol <= 0.0:
        need = 2.0 * current  # no measurable progress (or no target): keep the rounds' length
    else:
        rate = (g1 / g0) ** (1.0 / between)
        expected = g1 * rate ** current
        need = np.log(max(tol, 1e-300) / expected) / np.log(rate) if expected > tol else 0.0
    return int(max(1, min(np.ceil(need / 2.0), 2 * done, budget - done)))


def passcode(rounds, W, *, C, loss, pos_weight, neg_weight, bias, local_iters, max_rounds, tol, seed,
             kappa=0.0, history=None, start_time=None, verbose=0, incremental=False):
    """PASSCoDe-Wild on the thread backend: every thread runs dual coordinate ascent on its own block of dual
    variables against one shared ``w``, written without locks (no sigma' penalty: the steps are full).

    Lost updates make the shared ``w`` drift from ``w(alpha)``; so every round starts from the exact ``w(alpha)``
    (a reduction over the blocks) and the duality gap is computed at that exact pair, a true certificate.
    ``incremental`` (one block on one thread, where no update is lost): ``w(alpha)`` follows the shared ``w``'s
    change instead, as in CoCoA rounds.
    ``kappa`` as in :func:`cocoa`. A round runs ``local_iters`` passes; with ``local_iters='auto'``, one under
    Catalyst (one pass a proximal problem is what the scheme needs), else as many as :func:`next_passes` says.
    ``max_rounds`` bounds the passes. Returns ``(W, relative_gap, n_passes, converged, kappa)``, the passes
    counted up to the certified state returned.
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    W = np.array(W, dtype=np.float64)
    catalyst = Catalyst(0.0 if kappa == "auto" else kappa, W)
    rel, converged, done, rnd = np.inf, False, 0, 0
    passes = 1 if local_iters == "auto" else int(local_iters)
    while True:
        W0 = catalyst.start(W)
        shared = W0.copy()
        res = rounds.run(passcode_task, W0, shared, C, loss, pos_weight, neg_weight, bias, catalyst.scale, passes,
                         seed, rnd)
        rel = _certify(W, res.results, rnd, res, history, start_time, verbose, W0)
        history[-1]["passes"] = done
        if rel <= tol or done >= max_rounds:
            # the certificate is for the round's start: (W0, alpha at the start), W = w(alpha) exactly
            rounds.run(restore_task)
            converged = rel <= tol
            break
        if incremental:
            # one thread in this process: no write was lost, so the shared w moved by exactly scale times the
            # change of w(alpha), as a CoCoA round's does; the reduction (a pass over the support vectors, as
            # costly as a pass on dense data with many of them) is not needed
            W = W + (shared - W0) / catalyst.scale
        else:
            W = sum(rounds.run(w_of_alpha_task, W.shape, bias).results)
        done += passes
        rnd += 1
        catalyst.step(W, _on_course(history))
        # kappa='auto' reads the rate of plain passes between passes 2 and 6, not 1 and 2 as CoCoA does: the
        # first passes often show a plateau that plain passes then leave (dorothea: gaps 0.96, 0.91 after passes
        # 1 and 2, then 2e-4 after 6 and 0 after 18 plain passes, where the rate of passes 1-2 chose kappa 9.5
        # and took 137 passes; a9a: 0.90 to 0.72 between passes 2 and 6 still asks for acceleration)
        if kappa == "auto" and rnd == 4:
            catalyst.switch_on(auto_kappa(history), W)
        if local_iters == "auto":
            if kappa == "auto" and rnd < 4:
                passes = 4 if rnd == 3 else 1
            else:
                passes = 1 if catalyst.kappa else next_passes(history, passes, done, tol, max_rounds)
    return W0, rel, done, converged, catalyst.kappa
