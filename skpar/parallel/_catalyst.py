"""Catalyst acceleration of dual coordinate ascent, and the choice of its ``kappa`` from the certified gaps."""

from __future__ import annotations

import numpy as np


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
    the primal would carry each proximal solve's error times ``1 + kappa`` (docs/benchmarks.md has the gaps
    measured both ways). Between rounds the centre moves with
    momentum, :math:`y_{t+1} = w_t + \\beta (w_t - w_{t-1})`, :math:`\\beta = (1 - \\sqrt q) / (1 + \\sqrt q)`,
    :math:`q = 1 / (1 + \\kappa)`; the momentum restarts (``y = w``) when the certified gap is more than twice the
    best one so far (:func:`_on_course`; the gap of an accelerated run is not monotone, but it does not double).

    Why: plain dual coordinate ascent needs passes in proportion to the problem's condition, the accelerated scheme
    in proportion to its square root (the passes saved, by ``python asv_bench/scripts/svm_kappa.py``, are in
    docs/benchmarks.md). ``kappa = 0`` is plain dual coordinate ascent.
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


def auto_kappa(history, share=0.5, cap=None):
    """Catalyst's ``kappa`` from the certified gaps of two plain rounds (the last two ``history`` rows: passes 1
    and 2 in CoCoA rounds, 3 and 7 in PASSCoDe's, whose ``passes`` give the passes between them).

    The gap's rate per pass ``rho`` gives ``e = -1 / log(rho)``, the passes per factor ``e`` of progress. With
    ``1 + kappa`` about ``e / 2`` one pass on the proximal problem makes steady progress and the outer rate is about
    ``1 - 1 / sqrt(1 + kappa)``; below ``kappa = 1`` (problems solved in a few passes) acceleration does not pay.
    ``1 + kappa = share * e``: CoCoA's rounds take ``share = 1/2``. PASSCoDe's take 1: the rate over passes 3 to 7
    is still faster than the passes' later rate, and ``e / 2`` from it chose kappa 4 to 5 on a dense 3,000 x 40
    problem whose later rate asks for about 8, where Catalyst was switched off as astray in half the seeds (plain:
    about 225 passes); ``e`` chose 6 to 11 and took 31 to 44 passes in all eight fits (docs/benchmarks.md).
    On problems with many more rows than features the first passes show a plateau (a rate near 1, so a huge
    ``e``) that later passes do not keep, so ``kappa`` is capped at :data:`MAX_KAPPA`: past it a larger ``kappa``
    stopped converging on some problems (docs/benchmarks.md, from ``python asv_bench/scripts/svm_kappa.py``).
    Gaps that do not fall between the two passes give :data:`MAX_KAPPA` too. ``cap`` (default :data:`MAX_KAPPA`)
    replaces it: CoCoA's rounds on many blocks whose changes overlap raise it (:func:`skpar.parallel._cocoa.cocoa`).
    """
    cap = MAX_KAPPA if cap is None else cap
    g1, g2 = history[-2]["relative_gap"], history[-1]["relative_gap"]
    if g2 <= 0.0 < g1:
        return 0.0  # solved to rounding between the two: nothing to accelerate
    if not (0.0 < g2 < g1):
        return cap
    between = max(1, int(history[-1].get("passes", 1) - history[-2].get("passes", 0)))
    e = -between / np.log(g2 / g1)  # passes per factor e, from the rate per pass between the two certificates
    kappa = share * e - 1.0
    return float(min(kappa, cap)) if kappa >= 1.0 else 0.0


#: the largest ``kappa`` that :func:`auto_kappa` picks (see there)
MAX_KAPPA = 100.0
