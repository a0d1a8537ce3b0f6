"""Hogwild! with a replica a thread: the threads take turns adding their replicas' progress to the shared model.

Hogwild! threads that all write one shared model trade its cache lines at every step: a weight one core wrote must
travel to the other before that core reads it. On the 400,000 x 47,000 benchmark this bounds two threads to about
1.1-1.4x one thread, where the same loop on a private model per thread runs 1.6-2x (docs/benchmarks.md). So each
thread steps on a replica ``W`` of its own and, every few hundred steps, *folds* it into the shared model ``G``:

.. math:: G \\leftarrow G + (W - S), \\qquad W \\leftarrow G, \\qquad S \\leftarrow G,

where ``S`` is the replica's value after its last fold, so ``W - S`` is the thread's progress since then. ``G``
collects every thread's steps, as Hogwild!'s shared model does, with a delay of about a fold period a thread
instead of a few rows. The threads fold in turn (a token handed round, as in HogWild++, Zhang, Hsieh and Akella
2016), so two folds never interleave; a thread whose turn it is not goes on stepping and folds at its next try.
Nobody waits: a thread that has finished its rows leaves the ring and the turn skips it, and whatever it did not
fold is returned to the caller, who adds it to ``G``.

The delay is the price: ``R`` threads each add a fold period's progress made without the others', so a coordinate
that every row touches moves ``R`` periods' worth at once. Summed stale steps overshoot once
``R * period * eta * h`` (``h`` the coordinate's curvature per step) nears 1, so the intercepts, which every row
touches, are added to the shared model on a period of their own, bounded by their curvature, and the weights'
period is bounded by their largest curvature (:func:`stable_period`). Like Hogwild!, this is not reproducible run
to run.
"""

import numpy as np
from numba import njit

from ._sgd import hogwild_csr


@njit(nogil=True, cache=True)
def _pass_turn(token, done, me):
    """Hand the turn on from ``me`` to the next thread still in the ring (``me`` again if none is)."""
    n = done.shape[0]
    nxt = (me + 1) % n
    while done[nxt] and nxt != me:
        nxt = (nxt + 1) % n
    token[0] = nxt


@njit(nogil=True, cache=True)
def fold_replica(W, S, G, token, done, me):
    """If it is thread ``me``'s turn, add its progress since its last fold to the shared ``G``, restart its replica
    ``W`` and snapshot ``S`` from the sum, and hand the turn on. Returns whether it folded.

    A turn left with a thread that has finished (it left the ring between a neighbour's check and the hand-over)
    is taken by the first thread still in the ring, so the ring never stalls for the rest of an epoch.
    """
    t = token[0]
    if t != me:
        if not done[t]:
            return False
        first = 0
        while first < done.shape[0] and done[first]:
            first += 1
        if first != me:
            return False
    K, d = W.shape
    for k in range(K):
        g, w, s = G[k], W[k], S[k]
        for j in range(d):
            v = g[j] + (w[j] - s[j])
            g[j] = v
            w[j] = v
            s[j] = v
    _pass_turn(token, done, me)
    return True


@njit(nogil=True, cache=True)
def leave_ring(token, done, me):
    """Thread ``me`` has finished its rows: it leaves the ring, handing the turn on if it held it."""
    done[me] = 1
    if token[0] == me:
        _pass_turn(token, done, me)


@njit(nogil=True, cache=True)
def hogwild_csr_replica(data, indices, indptr, y, sw, rows, W, S, G, GB, token, done, me, fold_steps, b_steps,
                        inv_q, t0, batch_size, loss, eps, pos_weight, neg_weight, l2, l1, fit_intercept, schedule,
                        eta, power_t, samples_per_step, warmup_steps, eta_start, blowup, distinct):
    """:func:`~skpar.kernels.hogwild_csr` over ``rows`` on the replica ``W`` (snapshot ``S``), folded into the
    shared ``G`` after every ``fold_steps`` steps when it is thread ``me``'s turn.

    The intercepts, which every row touches, take a shorter period: the thread steps on intercepts of its own and
    adds their change to the shared ``GB`` every ``b_steps`` steps, without a turn (as Hogwild! writes them: two
    threads adding at once may lose one's change, never double it). Written at every step, the one cache line of
    ``GB`` would travel between the cores at every row. The loop over the periods is compiled too: from Python
    each period would cost a dispatch of some thirty arguments and a turn at the GIL. Returns what
    :func:`hogwild_csr` returns, summed over the periods; the caller leaves the ring.
    """
    K = W.shape[0]
    B = GB.copy()
    SB = GB.copy()
    chunk = max(1, min(b_steps, fold_steps) * batch_size)
    per_fold = max(1, fold_steps // max(1, min(b_steps, fold_steps)))  # intercept periods a weight fold
    n_rows = rows.shape[0]
    loss_sum = 0.0
    n_seen = 0
    steps = 0
    diverged = False
    last_eta = 0.0
    periods = 0
    for c in range(0, n_rows, chunk):
        ls, ns, st, dv, le = hogwild_csr(data, indices, indptr, y, sw, rows[c:min(c + chunk, n_rows)], W, B, inv_q,
                                         t0 + steps, batch_size, 1 << 62, loss, eps, pos_weight, neg_weight, l2,
                                         l1, fit_intercept, schedule, eta, power_t, samples_per_step, warmup_steps,
                                         eta_start, blowup, distinct, False)
        loss_sum += ls
        n_seen += ns
        steps += st
        if st > 0:
            last_eta = le
        if dv:
            diverged = True
            break
        for k in range(K):
            v = GB[k] + (B[k] - SB[k])
            GB[k] = v
            B[k] = v
            SB[k] = v
        periods += 1
        if periods % per_fold == 0:
            fold_replica(W, S, G, token, done, me)
    if not diverged:
        for k in range(K):
            GB[k] += B[k] - SB[k]
    return loss_sum, n_seen, steps, diverged, last_eta


#: the bound on ``R * period * eta * h`` that :func:`stable_period` keeps (summed stale steps overshoot near 1)
STABLE_DELAY = 0.25


def stable_period(steps, n_threads, eta, curvature):
    """The fold period, in steps: ``steps``, but at most ``STABLE_DELAY / (n_threads * eta * curvature)`` (at least
    1), where ``curvature`` is the largest of the weights' (mean squared column value, in units of the loss's
    curvature): past it the ``n_threads`` replicas' summed progress on that coordinate would overshoot."""
    bound = STABLE_DELAY / max(n_threads * eta * curvature, 1e-300)
    return int(max(1, min(steps, bound)))


class ReplicaRing:
    """The turn and the finished flags of ``n`` threads folding replicas into one shared model."""

    def __init__(self, n):
        self.token = np.zeros(1, dtype=np.int64)
        self.done = np.zeros(max(int(n), 1), dtype=np.uint8)
