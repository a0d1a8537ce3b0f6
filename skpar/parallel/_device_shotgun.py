"""The Shotgun driver's epochs on a GPU (:func:`skpar.parallel._shotgun.shotgun_lasso` on a
:class:`~skpar.parallel._lasso_data.DeviceLassoData`): the same interface as the host epochs, CuPy products in place
of the compiled kernels."""

from __future__ import annotations

from .._device import cupy_module
from .._lasso_objective import duality_gap, primal
from .._penalties import Penalty


class DeviceShotgun:
    """The host epochs' interface (``skpar.parallel._shotgun._Shotgun``) for a
    :class:`~skpar.parallel._lasso_data.DeviceLassoData`: a step is two cuBLAS (or cuSPARSE) products over X on the
    GPU, the gradient of every column ``(X - xbar)^T (s r) / n`` and the residual's update ``r -= (X - xbar) delta``
    by the P coordinates that moved. The residual stays on the device; the working set's coefficients come and go
    once an epoch (``|ws|`` numbers)."""

    #: epochs between exact residuals: many in-place updates of a float32 X drift
    REFRESH = 10

    def __init__(self, data, pool, n_threads, l1, l2, positive):
        self.data, self.l1, self.l2, self.positive = data, l1, l2, positive
        self.penalty = Penalty(l1, l2)
        self.G = None
        self.epochs = 0

    def set_working_set(self, ws):
        cp = cupy_module()
        self.ws = ws
        self.ws_dev = cp.asarray(ws)
        self.L_dev = cp.asarray(self.data.L[ws])
        self.xbar = self.data.xbar[ws]

    def begin(self, w, r):
        return r

    def _full(self, w):
        """The working set's coefficients ``w`` as a device vector of all ``d`` (zero elsewhere)."""
        full = cupy_module().zeros(self.data.d)
        full[self.ws_dev] = cupy_module().asarray(w)
        return full

    def state_at(self, w, ref, ref_state):
        return ref_state + self.data.centred_matvec(self._full(ref - w))

    def primal(self, w, state):
        return primal(self.data, w, state, self.l1, self.l2)

    def gap(self, w, state):
        return duality_gap(self.data, w, state, self.gradient(state), self.l1, self.l2, self.positive)

    def gradient(self, r):
        return self.data.gradient(r)[self.ws]

    def epoch(self, w, r, P, order):
        """One pass over ``order`` in steps of P simultaneous updates; ``w`` (host) and ``r`` (device) change in
        place. Returns the number of steps."""
        cp = cupy_module()
        data = self.data
        w_dev = cp.asarray(w)
        order_dev = cp.asarray(order)
        for a in range(0, order.size, P):
            local = order_dev[a:a + P]
            cols = self.ws_dev[local]
            wb = w_dev[local]
            u = self.L_dev[local] * wb + data.device_gradient(r)[cols]
            new = self.penalty.coordinate_minimizers(u, self.L_dev[local], self.positive)
            delta = cp.zeros(data.d)
            delta[cols] = new - wb
            w_dev[local] = new
            r -= data.centred_matvec(delta)
        w[:] = w_dev.get()
        self.epochs += 1
        if self.epochs % self.REFRESH == 0:
            r[:] = data.residual(self._full(w))
        return -(-order.size // P)
