"""Hogwild! with a replica a thread: every few thousand steps, each thread adds its replica's progress to the shared
model, without locks.

Hogwild! threads that all write one shared model trade its cache lines at every step: a weight one core wrote must
travel to the other before that core reads it. On the 400,000 x 47,000 benchmark this bounds two threads to about
1.2-1.3x one thread on the GPU machine's Intel cores, where the same loop on a private model per thread runs 1.7x
(docs/benchmarks.md). So each thread steps on a replica ``W`` of its own and, every ``period`` steps, *folds* it
into the shared model ``G``:

.. math:: G \\leftarrow G + (W - S), \\qquad W \\leftarrow G, \\qquad S \\leftarrow G,

where ``S`` is the replica's value after its last fold, so ``W - S`` is the thread's progress since then. ``G``
collects every thread's steps, as Hogwild!'s shared model does, with a delay of about a fold period a thread
instead of a few rows. A fold takes no lock, as Hogwild!'s steps take none: two threads folding the same weight at
the same moment may lose one's change to it (the other's write lands on the value read before), never count it
twice, and the cores trade the model's lines once a fold instead of at every step. (HogWild++, Zhang, Hsieh and
Akella 2016, hands a token round so that folds take turns; with a turn to wait for, a thread whose turn was held by
a descheduled thread, or by one not yet started, went on stepping for most of an epoch, and the sum of such stale
progress diverged at any step size.)

The delay is the price: ``R`` threads each add a fold period's progress made without the others', so a coordinate
that every row touches moves ``R`` periods' worth at once. Summed stale steps overshoot once
``R * period * eta * h`` (``h`` the coordinate's curvature per step) nears 1, so the intercepts, which every row
touches, are added to the shared model on a period of their own, bounded by their curvature, and the weights'
period is bounded by their largest curvature (:func:`stable_period`). Like Hogwild!, this is not reproducible run
to run.
"""

from numba import njit

from ._hogwild import hogwild_csr


@njit(nogil=True, cache=True)
def fold_replica(W, S, G):
    """Add the replica's progress since its last fold, ``W - S``, to the shared ``G`` and restart the replica
    and its snapshot from the sum (no lock: see the module docstring)."""
    K, d = W.shape
    for k in range(K):
        g, w, s = G[k], W[k], S[k]
        for j in range(d):
            v = g[j] + (w[j] - s[j])
            g[j] = v
            w[j] = v
            s[j] = v


@njit(nogil=True, cache=True)
def hogwild_csr_replica(data, indices, indptr, y, sw, rows, W, S, G, GB, fold_steps, b_steps, inv_q, t0,
                        batch_size, loss, margin, eps, pos_weight, neg_weight, l2, l1, fit_intercept, schedule, eta,
                        power_t, samples_per_step, warmup_steps, eta_start, blowup, distinct):
    """:func:`~skpar.kernels.hogwild_csr` over ``rows`` on the replica ``W`` (snapshot ``S``), folded into the
    shared ``G`` after every ``fold_steps`` steps and at the end.

    The intercepts, which every row touches, take a shorter period: the thread steps on intercepts of its own and
    adds their change to the shared ``GB`` every ``b_steps`` steps (written at every step, their one cache line
    would travel between the cores at every row). The loop over the periods is compiled: from Python each period
    would cost a dispatch of some thirty arguments and a turn at the GIL. Returns what :func:`hogwild_csr`
    returns, summed over the periods; a diverged pass folds nothing more (the caller restores the model).
    """
    K = W.shape[0]
    B = GB.copy()
    SB = GB.copy()
    period = max(1, min(b_steps, fold_steps))
    chunk = period * batch_size
    per_fold = max(1, fold_steps // period)  # intercept periods a weight fold
    n_rows = rows.shape[0]
    loss_sum, n_seen, steps, diverged, last_eta, periods = 0.0, 0, 0, False, 0.0, 0
    for c in range(0, n_rows, chunk):
        ls, ns, st, dv, le = hogwild_csr(data, indices, indptr, y, sw, rows[c:min(c + chunk, n_rows)], W, B, inv_q,
                                         t0 + steps, batch_size, 1 << 62, loss, margin, eps, pos_weight, neg_weight, l2,
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
        fold_replica(B.reshape(K, 1), SB.reshape(K, 1), GB.reshape(K, 1))  # the intercepts' own fold
        periods += 1
        if periods % per_fold == 0:
            fold_replica(W, S, G)
    if not diverged and periods % per_fold != 0:
        fold_replica(W, S, G)
    return loss_sum, n_seen, steps, diverged, last_eta


#: the bound on ``R * period * eta * h`` that :func:`stable_period` keeps (summed stale steps overshoot near 1)
STABLE_DELAY = 0.25


def stable_period(steps, n_threads, eta, curvature):
    """The fold period, in steps: ``steps``, but at most ``STABLE_DELAY / (n_threads * eta * curvature)`` (at least
    1), where ``curvature`` is the largest of the coordinates' (mean squared column value, in units of the loss's
    curvature): past it the ``n_threads`` replicas' summed progress on that coordinate would overshoot."""
    bound = STABLE_DELAY / max(n_threads * eta * curvature, 1e-300)
    return int(max(1, min(steps, bound)))
