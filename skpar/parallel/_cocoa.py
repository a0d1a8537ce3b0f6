"""CoCoA / CoCoA+: distributed dual coordinate ascent for linear SVMs (Jaggi et al. 2014; Ma et al. 2015).

The dual variables belong to the data points, so model parallelism in the dual is data parallelism (Jaggi et al.
2014): every block improves its own dual variables against the shared ``w`` with local SDCA epochs, and the
driver combines the blocks' changes of ``w``: by the share of their sum that maximises the dual objective (an exact
line search: the dual is quadratic along the change; the local subproblems' safety factor follows how much the
blocks' changes overlap), by adding them (CoCoA+, the local subproblems made safe by
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

from .._report import record, stop_requested
from ..backend import LostBlocksError
from ._catalyst import MAX_KAPPA, Catalyst, _on_course, auto_kappa
from ._dcd_tasks import (
    certificate_task,
    checkpoint_task,
    column_stats_task,
    dcd_task,
    discard_task,
    passcode_task,
    set_alpha_task,
    w_of_alpha_task,
)


def _certify(W, sums, rnd, res, history, start_time, W_primal=None):
    """Primal, dual and relative duality gap of a round's starting state from the blocks' ``(primal, dual)`` sums;
    one ``history`` row. ``W`` is ``w(alpha)``; the primal sums were taken at ``W_primal`` (default ``W``).
    Returns the relative gap; a non-finite primal raises."""
    W_primal = W if W_primal is None else W_primal
    primal = 0.5 * float(np.vdot(W_primal, W_primal)) + sum(p for p, _ in sums)
    dual = sum(d for _, d in sums) - 0.5 * float(np.vdot(W, W))
    gap = primal - dual
    rel = gap / max(abs(primal), 1e-300)
    record(history, {"round": rnd, "time": time.perf_counter() - start_time, "primal": primal, "dual": dual,
                     "gap": gap, "relative_gap": rel, "bytes_sent": res.bytes_sent}, model=lambda: W_primal)
    if not np.isfinite(primal):
        raise FloatingPointError("dual coordinate ascent produced a non-finite primal objective")
    return rel


class _Checkpoints:
    """The driver's copy of every block's dual variables and ``w`` at the start of one round (Dask only).

    A checkpoint is taken at the start of a round once the rounds since the last one have taken at least ten times
    as long as fetching the last one did (and at least ``min_seconds``), so checkpoints cost about a tenth of the fit
    at most; the round-0 checkpoint (nothing started) is free.
    """

    def __init__(self, rounds, W, history, catalyst, sigma, min_seconds=1.0):
        self.rounds, self.min_seconds = rounds, min_seconds
        self.enabled = hasattr(rounds.backend, "restore")  # only a cluster loses workers
        self.round, self.W, self.alphas, self.n_history = 0, W.copy(), [None] * rounds.n_blocks, len(history)
        self.theta, self.sigma = np.ones(W.shape[0]), sigma  # nothing is pending at round 0
        self.catalyst, self.catalyst_state = catalyst, catalyst.state()
        self.taken_at, self.cost = time.perf_counter(), 0.0
        self.roll_backs = 0  # to the current checkpoint

    def maybe_take(self, rnd, W, theta, sigma, history):
        now = time.perf_counter()
        if not self.enabled or rnd == self.round or now - self.taken_at < max(self.min_seconds, 10 * self.cost):
            return
        alphas = self.rounds.run(checkpoint_task, theta).results
        self.round, self.W, self.alphas, self.n_history = rnd, W.copy(), alphas, len(history)
        self.theta, self.sigma = theta.copy(), sigma
        self.catalyst_state = self.catalyst.state()
        self.taken_at = time.perf_counter()
        self.cost = self.taken_at - now
        self.roll_backs = 0

    def roll_back(self, history, lost):
        """Place lost blocks again, set every block to the checkpoint; returns ``(round, W, theta, sigma)`` to go on
        from (``sigma``: the local problems' ``sigma'`` of the checkpoint's round).

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
        return self.round, self.W.copy(), self.theta.copy(), self.sigma


def cocoa(rounds, W, *, C, loss, pos_weight, neg_weight, bias, combine, local_iters, max_rounds, tol, seed,
          kappa=0.0, history=None, start_time=None, gap_tol=0.0):
    """Run CoCoA rounds until the relative duality gap is ``<= tol`` (or the gap itself ``<= gap_tol``), the
    blocks' changes combined by
    ``combine``: ``'line_search'`` (the summed change taken by the share that maximises the dual, at most 1,
    :func:`best_share`; the local subproblems' ``sigma'`` from the blocks' overlap, :func:`next_sigma`), ``'add'``
    (CoCoA+: ``sigma' = K``, the changes added) or ``'average'`` (CoCoA).

    ``kappa``: Catalyst's weight (:class:`Catalyst`), ``'auto'`` to choose it after two plain rounds
    (:func:`auto_kappa`). Each round visits a block's rows in an order drawn from ``seed`` and the round (see
    :func:`_dcd`).
    Returns ``(W, relative_gap, n_rounds, converged, kappa)``; the blocks keep dual variables that match ``W``.
    On a Dask cluster, a worker lost mid-fit costs a roll-back to the last checkpoint (module docstring).
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    K = rounds.n_blocks
    # one block has nothing to combine: its change is taken whole, as CoCoA+ takes it
    line_search = combine == "line_search" and K > 1
    # under the line search sigma' starts at 1 (the local problems as if alone), then follows the blocks' overlap
    # (next_sigma); it stays 1 while kappa='auto' is still to be chosen from the first rounds' gaps: adapting it
    # there changed those gaps, and kappa='auto' then chose 0 on Reuters and 20 Newsgroups (2x and 12x the passes)
    sigma, gamma = (float(K), 1.0) if combine == "add" else (1.0, 1.0 if line_search else 1.0 / K)
    W = np.array(W, dtype=np.float64)
    theta = np.full(W.shape[0], gamma)
    catalyst = Catalyst(0.0 if kappa == "auto" else kappa, W)
    checkpoints = _Checkpoints(rounds, W, history, catalyst, sigma)
    rel, converged, rnd, since = np.inf, False, 0, 0  # since: the history row at which kappa was switched on
    plain = None  # the plain rounds' rate a round before Catalyst came on (see astray)
    while True:
        try:
            checkpoints.maybe_take(rnd, W, theta, sigma, history)
            W0 = catalyst.start(W)  # the primal point of this round's start, certified with the dual variables
            res = rounds.run(dcd_task, W0, C, loss, pos_weight, neg_weight, bias, sigma * catalyst.scale, theta,
                             local_iters, seed, rnd, line_search)
            rel = _certify(W, [r[1:3] for r in res.results], rnd, res, history, start_time, W0)
            history[-1]["passes"] = rnd * local_iters
            target = max(tol, gap_tol / max(abs(history[-1]["primal"]), 1e-300))
            if rel <= target or rnd == max_rounds or stop_requested(history):
                converged = rel <= target
                rounds.run(discard_task)
                break
        except LostBlocksError as lost:
            rnd, W, theta, sigma = checkpoints.roll_back(history, lost)
            continue
        dA = sum(r[0] for r in res.results)
        choosing = kappa == "auto" and rnd == 2  # this round's gap chooses kappa, its cap from the blocks' overlap
        overlap = next_sigma([r[0] for r in res.results], dA, K) if line_search or choosing else None
        if line_search:
            theta = best_share([r[3] for r in res.results], W0, dA, catalyst.scale)
            history[-1]["theta"], history[-1]["sigma"] = theta, sigma
            if kappa != "auto" or rnd >= 2:
                sigma = overlap
        W += theta[:, None] * dA
        catalyst.step(W, _on_course(history))
        if choosing:
            catalyst.switch_on(auto_kappa(history, cap=kappa_cap(rounds, overlap, C, bias)), W)
            since = len(history) - 1
            plain = plain_rate(history[-2:])
        elif kappa == "auto" and catalyst.kappa and astray(history, catalyst.kappa, since, plain):
            catalyst.switch_on(0.0, W)  # plain rounds from here: under the line search they raise the dual
            history[-1]["catalyst_off"] = True
        rnd += 1
    return W0, rel, rnd, converged, catalyst.kappa


def dual_ascent(rounds, W, **common):
    """Dual coordinate ascent to a certificate, reproducible and without acceleration (``kappa = 0``): on one block
    liblinear's method (:func:`passcode` on one thread), on several CoCoA rounds of one pass with the line search
    (:func:`cocoa`). ``common``: the drivers' other arguments
    (``tol`` and ``gap_tol`` among them). Returns ``(W, relative_gap, n_passes, converged)``."""
    common = {**common, "kappa": 0.0}
    if rounds.n_blocks == 1:
        W, rel, n_passes, converged, _ = passcode(rounds, W, local_iters="auto", incremental=True, **common)
    else:
        W, rel, n_passes, converged, _ = cocoa(rounds, W, combine="line_search", local_iters=1, **common)
    return W, rel, n_passes, converged


def astray(history, kappa, since, plain=None):
    """Whether Catalyst's rounds since it was switched on (``history`` row ``since``) went astray: the scheme's
    outer rate, about ``1 - 1 / sqrt(1 + kappa)`` a round, promises a factor ``e^2`` in ``2 sqrt(1 + kappa)``
    rounds; not even a factor ``e`` by then says ``kappa`` was wrong (:func:`auto_kappa` can read the first
    passes' plateau as a slow rate; docs/benchmarks.md has the sets where that happened). The rounds then go on
    plain, which under the line search raise the dual every round.

    ``plain``: the plain rounds' rate a round before Catalyst came on (:func:`plain_rate`; CoCoA's rounds on several
    blocks). Rounds that are ahead of it, and took the gap down by ``AHEAD`` at least, are not astray, however short
    of the promise: on a9a with 4 blocks the plain rounds' rate was 0.99 a round, Catalyst (kappa 47) took the gap
    from 0.98 to 0.63 in 14 rounds where plain ones would have reached 0.84, and switching it off there left the
    line search's plain rounds short of the target after 1,000 passes (docs/benchmarks.md)."""
    rounds = len(history) - 1 - since
    if rounds < 2.0 * np.sqrt(1.0 + kappa):
        return False
    gaps = [h["relative_gap"] for h in history[since:]]
    best = min(gaps)
    if best <= gaps[0] / np.e:
        return False
    window = int(np.ceil(STALLED * np.sqrt(1.0 + kappa)))
    if rounds > window and min(gaps[-window:]) > min(gaps[:-window]) / np.e:
        return True  # stalled: the last window of rounds took the best gap down by less than a factor e
    return plain is None or best > history[since]["relative_gap"] * min(plain ** rounds, AHEAD)


#: Catalyst's rounds, which have not taken the gap down by a factor ``e`` since they began, are astray once
#: ``STALLED * sqrt(1 + kappa)`` of them in a row (four times the rounds in which the scheme promises a factor
#: ``e^2``) have not taken the best gap down by a factor ``e``, however far ahead of the plain rounds' pace: on
#: dorothea (two blocks, seed 2) kappa 100 took the gap from 1.0 to 0.67 in 20 rounds, "ahead" of the plain rounds'
#: first rate, and then held it at 0.65-1.0 for 800 rounds; plain rounds from there certified in 20 more
STALLED = 8.0

#: the fall of the gap, at the least, by which Catalyst's rounds that are ahead of the plain rounds' pace are not
#: astray (with 16 blocks on a9a and ijcnn1 the plain rounds' first rate was 1, no progress, and Catalyst's gaps
#: stayed at 1.0-1.1 for 120 rounds: being "ahead" of no progress is not enough)
AHEAD = 0.8


def plain_rate(rows):
    """The certified gap's rate a round between two ``history`` rows of plain rounds (1: no progress)."""
    g0, g1 = rows[0]["relative_gap"], rows[1]["relative_gap"]
    return g1 / g0 if 0.0 < g1 < g0 else 1.0


def best_share(terms, W0, dA, scale):
    r"""The share ``theta`` (by output) of the blocks' summed change that maximises the dual objective on its line,
    at most 1.

    Along ``alpha + theta dalpha`` the dual of the round's problem (the proximal one under Catalyst, whose primal
    point is ``W0 = v + scale w(alpha)``) changes by

    .. math::

        \theta \,(L - W_0 \cdot dA) - \tfrac{\theta^2}{2}\,(Q + \mathrm{scale}\, \|dA\|^2),

    with ``dA`` the change of ``w(alpha)`` and ``L, Q`` summed over the blocks' :func:`step_terms`, so the best
    share is the ratio, clipped to ``[0, min(top, 1)]``: ``top`` keeps the dual variables in their box, and 1
    keeps the share from extrapolating the blocks' change. The dual never falls: blocks that step along the same
    directions get a share near ``1 / K``, blocks that do not get one near 1.

    Why at most 1: from ``alpha = 0`` the dual's maximiser along the first round's change lies far out (a share of
    93 on a dense 200,000 x 100 problem, 9.8 on a9a), where ``w(alpha)`` is far from the primal optimum (a primal
    of 8e8 against an optimum of 4.6e4): the next rounds' certified gaps read as a plateau, ``kappa='auto'`` chose
    22 instead of 100 and the fit stalled (docs/benchmarks.md). Later rounds' maximisers above 1 were rare (and
    below 1.05) on the real sets; blocks that could step further alone get a smaller ``sigma'`` (:func:`next_sigma`).
    """
    L = sum(t[0] for t in terms)
    Q = sum(t[1] for t in terms)
    top = np.min([t[2] for t in terms], axis=0)
    slope = L - np.einsum("kj,kj->k", W0, dA)
    curvature = Q + scale * np.einsum("kj,kj->k", dA, dA)
    theta = np.where(curvature > 0, slope / np.where(curvature > 0, curvature, 1.0), 0.0)
    return np.clip(theta, 0.0, np.minimum(top, 1.0))


def kappa_cap(rounds, overlap, C, bias):
    r"""The largest ``kappa`` that ``kappa='auto'`` may choose on blocks whose changes overlap by ``overlap``
    (:func:`next_sigma`).

    A round of local problems that count the others' steps ``sigma'`` times progresses about ``sigma'`` times
    slower, as a worse-conditioned problem would, so the cap grows with the overlap: :data:`MAX_KAPPA` ``sigma' /
    2`` (MAX_KAPPA was set on two blocks, an overlap of at most 2). Where the blocks are samples of the same data
    (their column means within chance of the whole's, :func:`blocks_z2` at most :data:`HETEROGENEOUS_Z2`), the
    local problems are as well conditioned as the whole's scaled by ``sigma'``, and Catalyst's choice for SDCA
    (Lin et al. 2015: the proximal weight that makes the inner problem's condition about ``n``),

    .. math::

        \kappa = 2 \sigma' R^2 C - 1, \qquad R^2 = \frac{1}{n} \sum_i \|\tilde x_i\|^2

    (the squared hinge's dual curvature ``1 / (2 C)``), lowers the cap where it is smaller, down to
    :data:`MAX_KAPPA`. On Reuters (``R^2 C = 2``) 16 blocks took 99 passes with the cap from the overlap (685),
    45 with 100; ijcnn1, whose stored rows make blocks that differ (``z^2`` 1,400), needs the overlap's cap
    (docs/benchmarks.md). Reading the blocks' columns costs one pass, once a fit.
    """
    cap = MAX_KAPPA * max(1.0, overlap / 2.0)
    if cap <= MAX_KAPPA:
        return cap
    try:
        stats = rounds.run(column_stats_task, bias).results
    except LostBlocksError:  # the next round meets the loss and rolls back; the overlap's cap is the safe one
        return cap
    n = sum(st[0] for st in stats)
    if blocks_z2(stats) > HETEROGENEOUS_Z2:
        return cap
    r2 = sum(st[1] for st in stats) / max(n, 1)
    return float(min(cap, max(MAX_KAPPA, 2.0 * overlap * r2 * C - 1.0)))


def blocks_z2(stats):
    """The mean squared z-score of the blocks' column means against the whole's, over the blocks and the columns
    that vary: about 1 where the blocks are random samples of the rows (the variance of a block's mean is then
    ``var / n_b (1 - n_b / n)``), far above where the rows are stored in an order that the blocks keep.
    ``stats``: per block ``(n_b, _, column sums, column sums of squares)`` (:func:`column_stats_task`)."""
    n = sum(st[0] for st in stats)
    col = sum(st[2] for st in stats)
    mean = col / n
    var = sum(st[3] for st in stats) / n - mean * mean
    keep = var > 1e-12 * max(float(var.max(initial=0.0)), 1e-300)
    if not keep.any():
        return 0.0
    total, count = 0.0, 0
    for nb, _, cb, _ in stats:
        if not 0 < nb < n:
            continue
        z2 = (cb[keep] / nb - mean[keep]) ** 2 / (var[keep] / nb * (1.0 - nb / n))
        total += float(z2.sum())
        count += int(keep.sum())
    return total / count if count else 0.0


#: the mean squared z-score of the blocks' column means (:func:`blocks_z2`) above which the blocks are not samples
#: of the same rows (random blocks: about 1; ijcnn1's stored order: 1,400)
HETEROGENEOUS_Z2 = 4.0


def next_sigma(parts, dA, K):
    r"""The local problems' safety factor ``sigma'`` for the next round of the line search: the overlap of this
    round's changes of ``w(alpha)``, ``parts`` (one per block; ``dA`` their sum),

    .. math::

        \rho = \max_k \frac{\|\sum_b dA_{b,k}\|^2}{\sum_b \|dA_{b,k}\|^2} \in [0, K],

    times :data:`SIGMA_MARGIN`, within ``[1, K]``. CoCoA+ (Ma et al. 2015) makes the local problems safe with
    ``sigma' >= max ||A alpha||^2 / sum_b ||A_b alpha_b||^2``, which is ``K`` for blocks whose changes coincide and
    1 for blocks whose changes are orthogonal (no shared features); ``rho`` measures that ratio on the changes the
    blocks just made. ``sigma' = 1`` throughout took 3x the passes of CoCoA+'s ``K`` on a dense 200,000 x 100 problem
    under Catalyst (shares of 0.55-0.6 every round), ``K`` throughout 2-10x the passes of 1 on the sparse real sets
    (docs/benchmarks.md); ``rho`` was 1.8-1.95 on the former, 1.0-1.6 on dorothea.
    """
    num = np.einsum("kj,kj->k", dA, dA)
    den = sum(np.einsum("kj,kj->k", part, part) for part in parts)
    rho = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)  # an output that did not move says nothing
    return float(np.clip(SIGMA_MARGIN * np.max(rho), 1.0, K))


#: the margin on the measured overlap that :func:`next_sigma` makes ``sigma'``: one round's changes are one
#: direction, the safe ``sigma'`` a maximum over all (with 1.1 the dense 200,000 x 100 problem took 112 passes, with
#: 1.0 299; with 1.25 dorothea's ``kappa='auto'`` went otherwise and took 313 passes, with 1.1 72: docs/benchmarks.md)
SIGMA_MARGIN = 1.1


def next_passes(history, done, tol, budget):
    """Passes to run before the next certificate, from the duality gaps certified so far (PASSCoDe rounds).

    A certificate costs a pass that reads every row, so certifying every pass (95 certificates on the sparse
    benchmark) costs about as much as the passes. The gap falls about geometrically: its rate per pass between the
    last two certificates (``history`` rows, each with the ``passes`` done before it; the last one taken after the
    ``done`` passes so far) predicts how many passes ``R`` remain; the next round runs them all, at most twice
    ``done`` and at least one. Until 2026-12-05 the round was chosen before the certificate of the round just run
    was taken, from the two before it: on 20 Newsgroups the slow rate of passes 1-2 then sent the fit from pass 6
    to 14 or 18 where 9-10 passes reached the target (docs/benchmarks.md). Late passes, most variables shrunk, cost
    less than a certificate (Reuters: 0.3 ms against 0.4 ms), so a round that ends a pass past the target wastes
    less than an extra certificate costs; the earlier rule, half of ``R`` (about ``log2`` of the passes certified),
    took 1.1-1.2x the time on Reuters and 20 Newsgroups (SVM and hinge classifier, docs/benchmarks.md).
    """
    if len(history) < 2:
        return 1
    g0, g1 = history[-2]["relative_gap"], history[-1]["relative_gap"]
    between = history[-1]["passes"] - history[-2]["passes"]
    if not (0.0 < g1 < g0) or between <= 0 or tol <= 0.0:
        need = 2.0 * between  # no measurable progress (or no target): double the rounds' length
    else:
        rate = (g1 / g0) ** (1.0 / between)
        need = np.log(max(tol, 1e-300) / g1) / np.log(rate)
    return int(max(1, min(np.ceil(need), 2 * done, budget - done)))


def passcode(rounds, W, *, C, loss, pos_weight, neg_weight, bias, local_iters, max_rounds, tol, seed,
             kappa=0.0, history=None, start_time=None, incremental=False, gap_tol=0.0):
    """PASSCoDe-Wild on the thread backend: every thread runs dual coordinate ascent on its own block of dual
    variables against one shared ``w``, written without locks (no sigma' penalty: the steps are full).

    Lost updates make the shared ``w`` drift from ``w(alpha)``; so every round starts from the exact ``w(alpha)``
    (a reduction over the blocks) and the duality gap is computed at that exact pair, a true certificate.
    ``incremental`` (one block on one thread, where no update is lost): ``w(alpha)`` follows the shared ``w``'s
    change instead, as in CoCoA rounds.
    ``kappa`` as in :func:`cocoa`. A round runs ``local_iters`` passes; with ``local_iters='auto'``, one on several
    blocks (the threads meet every pass) and under Catalyst (one pass a proximal problem is what the scheme
    needs), else as many as :func:`next_passes` says.
    ``max_rounds`` bounds the passes. The fit stops once the relative duality gap is at most ``tol`` or the gap
    itself at most ``gap_tol``. Returns ``(W, relative_gap, n_passes, converged, kappa)``, the passes counted up to
    the certified state returned.
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    W = np.array(W, dtype=np.float64)
    catalyst = Catalyst(0.0 if kappa == "auto" else kappa, W)
    rel, converged, done, rnd, since = np.inf, False, 0, 0, 0  # since: the history row at which kappa was switched on
    choose = kappa == "auto"  # kappa is still to be chosen, from the plain passes' rate
    # one block choosing kappa: its first certificates at passes 3 and 7 (see below); else passes 1, 2, ...
    while True:
        W0 = catalyst.start(W)
        # the certificate at the round's start, (W0, alpha), W = w(alpha) exactly: a pass that reads, apart from the
        # round's passes, so that these keep their shrinking from round to round and a fit that stops wastes none
        res = rounds.run(certificate_task, W0, C, loss, pos_weight, neg_weight, bias)
        rel = _certify(W, res.results, rnd, res, history, start_time, W0)
        history[-1]["passes"] = done
        # the target as a relative gap: an absolute one divided by the primal
        target = max(tol, gap_tol / max(abs(history[-1]["primal"]), 1e-300))
        if rel <= target or done >= max_rounds or stop_requested(history):
            converged = rel <= target
            break
        if choose and done >= AUTO_KAPPA_PASSES[1]:
            # kappa='auto' reads the plain passes' rate between the certificates at passes 3 and 7, not 1 and 2 as
            # CoCoA does: the first passes often show a plateau that plain passes then leave (dorothea: gaps 0.96,
            # 0.91 after passes 1 and 2, then 0.12 after 3, where the rate of passes 1-2 chose kappa 9.5 and took 137
            # passes), and the rate of one pass is noisy (passes 2-3 of one dense problem chose kappa 1.5 or 13-19
            # by the seed, then 225 or 26-29 passes; docs/benchmarks.md)
            early = [h for h in history if h["passes"] <= AUTO_KAPPA_PASSES[0]][-1]
            catalyst.switch_on(auto_kappa([early, history[-1]], share=1.0), W)
            W0 = catalyst.start(W)  # the same point: the proximal problem starts centred on it
            since, choose = len(history) - 1, False
        # the round's passes, from the certificates up to this one
        passes = _round_passes(local_iters, rounds.n_blocks, choose, catalyst.kappa, history, done, target, max_rounds)
        shared = np.array(W0, order="F")  # a feature's outputs adjacent (skpar.kernels._dcd_outputs)
        rounds.run(passcode_task, W0, shared, C, loss, pos_weight, neg_weight, bias, catalyst.scale, passes, seed,
                   rnd)
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
        if kappa == "auto" and catalyst.kappa and astray(history, catalyst.kappa, since):
            catalyst.switch_on(0.0, W)
            history[-1]["catalyst_off"] = True
    return W0, rel, done, converged, catalyst.kappa


def _round_passes(local_iters, n_blocks, choose, kappa, history, done, target, budget):
    """The passes of PASSCoDe's next round (see :func:`passcode`), ``done`` passes and the certificates of
    ``history`` behind it: ``local_iters`` if it is a number; one on several blocks; on one block, to passes 3 and
    then 7 while ``kappa='auto'`` is still to be chosen, one a round under Catalyst, else as many as
    :func:`next_passes` says."""
    if local_iters != "auto":
        return int(local_iters)
    if n_blocks > 1:
        # In a round of many passes a thread that starts first, or keeps its core while the other waits for one (a
        # loaded machine), runs many passes alone, and blocks solved one after another converge slowly where rows
        # are many per feature (docs/benchmarks.md); each round's exact w(alpha) also drops the pass's lost writes
        return 1
    if choose:
        return max((AUTO_KAPPA_PASSES[0] if done < AUTO_KAPPA_PASSES[0] else AUTO_KAPPA_PASSES[1]) - done, 1)
    return 1 if kappa else next_passes(history, done, target, budget)


#: the passes after which PASSCoDe's driver certifies to choose ``kappa='auto'`` (see :func:`passcode`)
AUTO_KAPPA_PASSES = (3, 7)
