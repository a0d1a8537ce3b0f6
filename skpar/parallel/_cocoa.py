"""CoCoA / CoCoA+: distributed dual coordinate ascent for linear SVMs (Jaggi et al. 2014; Ma et al. 2015).

The dual variables belong to the data points, so model parallelism in the dual is data parallelism (lecture notes,
seed 000): every block improves its own dual variables against the shared ``w`` with local SDCA epochs, and the
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

from ..backend._dask import LostBlocksError
from ..gpu._dcd import dcd_gpu, w_of_alpha_gpu
from ..gpu._namespace import array_module, to_host
from ..kernels import dcd_csr, dcd_dense


def _zeros(block, shape):
    """Dual variables where the block's rows are (GPU memory for a GPU block)."""
    return array_module(block.X).zeros(shape)


def _commit(block):
    pending = getattr(block, "pending", None)
    if pending is not None:
        block.alpha = block.alpha + pending
        block.pending = None


def dcd_task(block, W, C, loss, pos_weight, neg_weight, bias, sigma, gamma, n_epochs, seed):
    """Commit the block's pending change, then run ``n_epochs`` local epochs; returns ``(dW, primal, dual)``.

    ``dW`` is the block's full change of ``w`` (the driver scales it by ``gamma``); the new dual variables are kept
    pending as ``gamma`` times their change.
    """
    _commit(block)
    K = W.shape[0]
    if getattr(block, "alpha", None) is None or block.alpha.shape != (K, block.n_rows):
        block.alpha = _zeros(block, (K, block.n_rows))
    Wl, A = W.copy(), block.alpha.copy()
    ps, ds = _dcd(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed)
    block.pending = gamma * (A - block.alpha)
    return (Wl - W) / sigma, ps, ds


def _dcd(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed):
    """The kernel on the block's rows in the order of ``seed``; ``Wl`` and ``A`` change in place."""
    if block.on_gpu:
        return dcd_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed)
    order = block.epoch_order(seed)
    X = block.X
    if block.is_sparse:
        return dcd_csr(X.data, X.indices, X.indptr, block.y, block.sample_weight, order, W, Wl, A, C, loss,
                       pos_weight, neg_weight, bias, sigma, n_epochs)
    return dcd_dense(X, block.y, block.sample_weight, order, W, Wl, A, C, loss, pos_weight, neg_weight, bias,
                     sigma, n_epochs)


def passcode_task(block, W, W_shared, C, loss, pos_weight, neg_weight, bias, n_epochs, seed):
    """PASSCoDe-Wild (Hsieh et al. 2015): epochs on the block's dual variables that write the shared ``w`` of the
    process without locks. Returns the block's primal and dual sums at the incoming ``(W, alpha)``."""
    K = W.shape[0]
    if getattr(block, "alpha", None) is None or block.alpha.shape != (K, block.n_rows):
        block.alpha = np.zeros((K, block.n_rows))
    block.pending = block.alpha.copy()  # the round's starting point, restored if the fit stops on it
    return _dcd(block, W, W_shared, block.alpha, C, loss, pos_weight, neg_weight, bias, 1.0, n_epochs, seed)


def restore_task(block):
    """Put the block's dual variables back to where the round started (the certified state)."""
    block.alpha, block.pending = block.pending, None


def w_of_alpha_task(block, shape, bias):
    """``sum_i alpha_ik t_ik x~_i`` over the block: its exact share of ``w(alpha)``."""
    if block.on_gpu:
        return w_of_alpha_gpu(block, shape, bias)
    K = shape[0]
    out = np.zeros(shape)
    X, y = block.X, block.y
    for k in range(K):
        cls = 1.0 if K == 1 else float(k)
        coef = block.alpha[k] * np.where(y == cls, 1.0, -1.0)
        out[k, :X.shape[1]] = np.asarray(X.T @ coef).ravel()
        if bias:
            out[k, -1] = bias * coef.sum()
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


def _certify(W, sums, rnd, res, history, start_time, verbose):
    """Primal, dual and relative duality gap of a round's starting state from the blocks' ``(primal, dual)`` sums;
    one ``history`` row. Returns the relative gap; a non-finite primal raises."""
    wn = 0.5 * float(np.vdot(W, W))
    primal = wn + sum(p for p, _ in sums)
    dual = sum(d for _, d in sums) - wn
    gap = primal - dual
    rel = gap / max(abs(primal), 1e-300)
    history.append({"round": rnd, "time": time.perf_counter() - start_time, "primal": primal, "dual": dual,
                    "gap": gap, "relative_gap": rel, "bytes_sent": res.bytes_sent})
    if verbose:
        print(f"-- round {rnd}: primal {primal:.6g}, dual {dual:.6g}, relative gap {rel:.3e}")
    if not np.isfinite(primal):
        raise FloatingPointError("dual coordinate ascent produced a non-finite primal objective")
    return rel


class _Checkpoints:
    """The driver's copy of every block's dual variables and ``w`` at the start of one round (Dask only).

    A checkpoint is taken at the start of a round once the rounds since the last one have taken at least ten times
    as long as fetching the last one did (and at least ``min_seconds``), so checkpoints cost about a tenth of the fit
    at most; the round-0 checkpoint (nothing started) is free.
    """

    def __init__(self, rounds, W, history, min_seconds=1.0):
        self.rounds, self.min_seconds = rounds, min_seconds
        self.enabled = hasattr(rounds.backend, "restore")  # only a cluster loses workers
        self.round, self.W, self.alphas, self.n_history = 0, W.copy(), [None] * rounds.n_blocks, len(history)
        self.taken_at, self.cost = time.perf_counter(), 0.0
        self.roll_backs = 0  # to the current checkpoint

    def maybe_take(self, rnd, W, history):
        now = time.perf_counter()
        if not self.enabled or rnd == self.round or now - self.taken_at < max(self.min_seconds, 10 * self.cost):
            return
        alphas = self.rounds.run(checkpoint_task).results
        self.round, self.W, self.alphas, self.n_history = rnd, W.copy(), alphas, len(history)
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
        self.taken_at = time.perf_counter()
        return self.round, self.W.copy()


def cocoa(rounds, W, *, C, loss, pos_weight, neg_weight, bias, combine, local_iters, max_rounds, tol, seeds,
          history=None, start_time=None, verbose=0):
    """Run CoCoA+ (``combine='add'``) or CoCoA (``'average'``) rounds until the relative duality gap is ``<= tol``.

    Returns ``(W, relative_gap, n_rounds, converged)``; the blocks keep dual variables that match ``W``. On a Dask
    cluster, a worker lost mid-fit costs a roll-back to the last checkpoint (see the module's docstring).
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    K = rounds.n_blocks
    sigma, gamma = (float(K), 1.0) if combine == "add" else (1.0, 1.0 / K)
    W = np.array(W, dtype=np.float64)
    checkpoints = _Checkpoints(rounds, W, history)
    rel, converged, rnd = np.inf, False, 0
    while True:
        try:
            checkpoints.maybe_take(rnd, W, history)
            res = rounds.run(dcd_task, W, C, loss, pos_weight, neg_weight, bias, sigma, gamma, local_iters,
                             int(seeds[rnd % len(seeds)]))
            rel = _certify(W, [r[1:] for r in res.results], rnd, res, history, start_time, verbose)
            if rel <= tol or rnd == max_rounds:
                converged = rel <= tol
                rounds.run(commit_task, False)
                break
        except LostBlocksError as lost:
            rnd, W = checkpoints.roll_back(history, lost)
            continue
        for dW, _, _ in res.results:
            W += gamma * dW
        rnd += 1
    return W, rel, rnd, converged


def passcode(rounds, W, *, C, loss, pos_weight, neg_weight, bias, local_iters, max_rounds, tol, seeds,
             history=None, start_time=None, verbose=0):
    """PASSCoDe-Wild on the thread backend: every thread runs dual coordinate ascent on its own block of dual
    variables against one shared ``w``, written without locks (no sigma' penalty: the steps are full).

    Lost updates make the shared ``w`` drift from ``w(alpha)``; so every round starts from the exact ``w(alpha)``
    (a reduction over the blocks) and the duality gap is computed at that exact pair, a true certificate.
    Returns what :func:`cocoa` returns.
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    W = np.array(W, dtype=np.float64)
    rel, converged, rnd = np.inf, False, 0
    for rnd in range(max_rounds + 1):
        shared = W.copy()
        res = rounds.run(passcode_task, W, shared, C, loss, pos_weight, neg_weight, bias, local_iters,
                         int(seeds[rnd % len(seeds)]))
        rel = _certify(W, res.results, rnd, res, history, start_time, verbose)
        if rel <= tol or rnd == max_rounds:
            # the certificate is for the round's start: (W, alpha at the start), W = w(alpha) exactly
            rounds.run(restore_task)
            converged = rel <= tol
            break
        W = sum(rounds.run(w_of_alpha_task, W.shape, bias).results)
    return W, rel, rnd, converged
