r"""Local SGD's blocks combined by a line search: the share of their averaged change that minimises the objective.

Periodic averaging (local SGD) averages the blocks' models after every round. Far from the optimum the blocks
step the same way, and their average moves about as far as one block alone: ``K`` blocks, each through a ``K``-th
of the rows, then make an epoch's progress of one block's ``K``-th of an epoch, and the epochs to a target grow as
``K`` (a9a's log loss at ``K = 16``: 16 epochs against 2 at ``K = 2``, docs/benchmarks.md). Near the optimum the
blocks' changes are mostly noise, and their average is what cancels it.

The line search serves both. With ``w_0`` the round's start and :math:`D = \bar w - w_0` the blocks' averaged
change, the new model is :math:`w_0 + \theta D`, with the share

.. math::

    \theta = \operatorname{argmin}_{\theta \in \Theta} \; \frac{1}{n} \sum_i s_i \,
    \ell(x_i^\top (w_0 + \theta D) + b_0 + \theta D_b, y_i) + \Omega(w_0 + \theta D),

over a geometric grid :math:`\Theta` from 1 (the average) to ``K`` (the sum of the blocks' changes, as if one run
had taken every block's steps). The objective is evaluated at every point in one round, on a fixed sample of each
block's rows (every s-th, at least :data:`LINE_ROWS` a block), with the l2 and l1 terms exact: every block sums its
sampled rows' losses at every share, two scores a row and a model (:func:`skpar.kernels.line_losses`). The share is
the server step of federated averaging chosen by the objective (FedExP, Jhunjhunwala et al. 2023, extrapolates by a
step computed from the clients' changes; CoCoA's line search, :func:`skpar.parallel._cocoa.best_share`, does the
same for the dual). 1 is on the grid, so the sampled objective never rises above the average's. With Polyak
averaging on, the average's change gets a share of its own in the same round. Rounds in which the line stops
paying are averaged (:class:`LineSearch`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..kernels import line_losses
from ._tasks import _loss_args

#: the grid's points per doubling of the share: shares sqrt(2) apart
POINTS_PER_DOUBLING = 2
#: a block sums the line's losses over every s-th of its training rows, s the stride that leaves at least this many:
#: on 16 blocks of 25,000 dense rows a pass over all of them cost 12 ms a line round against an epoch's 42 ms, and
#: the epochs to a target on a9a and cpusmall were those of 4,096 rows a block (docs/benchmarks.md)
LINE_ROWS = 1024
#: a line round pays where it lowers the objective by this share of it or more (the stop rule's default ``tol``,
#: relative): on a9a's default fit (hinge, 2 blocks) the rounds gained 5e-5 to 3e-4, on fits whose blocks' steps
#: add up 1e-3 to 0.3 (docs/benchmarks.md)
PAYS = 1e-3


def shares(n_blocks):
    """The grid of shares from 1 to ``n_blocks``, geometric with :data:`POINTS_PER_DOUBLING` points a doubling."""
    steps = max(1, math.ceil(POINTS_PER_DOUBLING * math.log2(n_blocks)))
    return np.asarray(n_blocks, dtype=np.float64) ** (np.arange(steps + 1) / steps)


def line_task(block, W0, B0, DW, DB, thetas, plan):
    """Loss sums along each line (``(M, G)``, :func:`skpar.kernels.line_losses`) over every ``s``-th of the block's
    training rows, ``s`` the stride that leaves at least :data:`LINE_ROWS` of them, and their count."""
    rows = block.train_rows
    rows = rows[::max(1, rows.shape[0] // LINE_ROWS)]
    return line_losses(block.kernel_X, block.y, block.sample_weight, rows, W0, B0, DW, DB, thetas,
                       *_loss_args(plan)), rows.shape[0]


class LineSearch:
    """When a fit's rounds run the line search.

    A line round costs a round trip and a pass over a sample of the rows (:data:`LINE_ROWS` a block). The first
    round, from the start (and through the warm-up), is averaged: on every fit measured its best share was 1. From
    the second on, a line round that lowers the objective by :data:`PAYS` of it or more is followed by another; one
    that does not is followed by ``wait`` averaged rounds, ``wait`` 2, 4, 8 ... as the line keeps not paying, and
    back to 2 once it pays. A default fit whose blocks agree (a9a's hinge on 2 blocks: gains of 5e-5 to 3e-4) so
    runs 2 line rounds in its 8. Nor does it run in the epochs that the stop rule counts as not improving by
    ``tol`` (:func:`~skpar.parallel._sgd.sgd_sync`): they are its check of convergence, and a share taken there
    restarted the count (a default fit on 400,000 x 50 dense rows, 16 blocks: 11 epochs instead of 8, at the same
    test accuracy). The schedule follows the fit's own objective values: every backend runs the same rounds.
    """

    def __init__(self, wait=1, backoff=2):
        self.wait = wait  # averaged rounds before the next line round
        self.backoff = backoff  # the wait after the next line round that does not pay

    @classmethod
    def of(cls, plan):
        """The schedule where the plan's last epoch left it (``partial_fit``'s epochs run as one fit's)."""
        return cls(plan.line_wait, plan.line_backoff)

    def into(self, plan):
        """The plan with this schedule, for the next ``partial_fit``."""
        return replace(plan, line_wait=self.wait, line_backoff=self.backoff)

    def __call__(self, rounds, old, new, plan, penalty):
        """``new`` (the blocks' averaged state) moved along its change from ``old`` by the best share, where this
        round runs the line search; returns it and the iterate's share (1 where none was taken)."""
        if self.wait > 0:
            self.wait -= 1
            return new, 1.0
        new, share, gain = take_best_share(rounds, old, new, plan, penalty)
        if gain >= PAYS:
            self.backoff = 2
        else:
            self.wait, self.backoff = self.backoff, 2 * self.backoff
        return new, share


def take_best_share(rounds, old, new, plan, penalty):
    """``new`` (the blocks' combined :class:`~skpar.parallel._sgd.SGDState`) moved to the best share of its change
    from ``old``, iterate and, where averaging ran through the round, average apart. Returns it, the iterate's
    share and the largest relative fall of an objective against the average's (0 where the average was best).
    One round of :func:`line_task` on the blocks; their sums are added in block order, so the share is the same
    on every backend."""
    thetas = shares(rounds.n_blocks)
    pairs = [("w", "b")]
    if old.n_avg > 0 and new.n_avg > 0:  # the average was there at the start: its change is a round's too
        pairs.append(("wbar", "bbar"))
    W0 = np.stack([getattr(old, w) for w, _ in pairs])
    B0 = np.stack([getattr(old, b) for _, b in pairs])
    DW = np.stack([getattr(new, w) for w, _ in pairs]) - W0
    DB = np.stack([getattr(new, b) for _, b in pairs]) - B0
    sums, n_rows = np.zeros((len(pairs), thetas.shape[0])), 0
    for part, count in rounds.run(line_task, W0, B0, DW, DB, thetas, plan).results:
        sums += part
        n_rows += count
    share, gain = 1.0, 0.0
    for m, (w, b) in enumerate(pairs):
        objective = sums[m] / max(n_rows, 1) + [penalty.value(W0[m] + t * DW[m]) for t in thetas]
        # the first (smallest) share of the lowest objective; none where the objective is not finite
        best = int(np.argmin(np.where(np.isfinite(objective), objective, np.inf)))
        if not np.isfinite(objective[best]) or best == 0:
            continue
        setattr(new, w, W0[m] + thetas[best] * DW[m])
        setattr(new, b, B0[m] + thetas[best] * DB[m])
        gain = max(gain, float((objective[0] - objective[best]) / max(abs(objective[0]), 1e-300)))
        if m == 0:
            share = float(thetas[best])
    return new, share, gain
