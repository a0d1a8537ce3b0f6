"""Step size of global step ``t`` inside the kernels (one formula for every backend and strategy)."""

import numpy as np
from numba import njit

CONSTANT = 0
INVSCALING = 1


@njit(inline="always", nogil=True, cache=True)
def step_size(t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start):
    """Learning rate of global step ``t`` (0-based).

    ``eta`` is the step after the scaling rule. ``invscaling`` decays it with the number of samples seen, as
    scikit-learn's SGD does per sample, so k steps of batch B decay like kB single-sample steps (the premise of the
    linear scaling rule). During the first ``warmup_steps`` the step rises linearly from ``eta_start`` (the
    unscaled step) to that value (Goyal et al. 2017).
    """
    if schedule == INVSCALING:
        # exponent 1 (learning_rate='optimal') divides without pow, a call that cost more than the rest of a sparse
        # row's step; pow(x, 1) is x exactly, so the steps are the same to the bit
        base = 1.0 + t * samples_per_step
        e = eta / base if power_t == 1.0 else eta / base ** power_t
    else:
        e = eta
    if t < warmup_steps:
        e = eta_start + (e - eta_start) * (t + 1.0) / warmup_steps
    return e


@njit(inline="always", nogil=True, cache=True)
def batch_step(batch_loss, m, blowup, t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start):
    """The step size of global step ``t`` after a batch of ``m`` samples whose weighted losses sum to
    ``batch_loss``; -1.0 where that loss blew up (non-finite, or more than ``blowup`` a sample): the kernel then
    stops, diverged, before the step."""
    if not np.isfinite(batch_loss) or batch_loss > blowup * m:
        return -1.0
    return step_size(t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)


@njit(inline="always", nogil=True, cache=True)
def n_batches(n_steps, batch_size, n_rows):
    """The mini-batch steps a kernel takes over ``n_rows`` rows: batches of ``batch_size`` consecutive rows (the last
    may be short), at most ``n_steps``. Step ``s`` reads rows ``s * batch_size`` up to the next batch's first."""
    return min(n_steps, (n_rows + batch_size - 1) // batch_size)


@njit(nogil=True, cache=True)
def l2_decay(t0, n_steps, l2, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start):
    """The factor by which ``n_steps`` steps from global step ``t0`` shrink a weight that no row of theirs holds:
    the product of the l2 penalty's ``max(0, 1 - eta_t l2)``, as the kernels apply it step by step."""
    a = 1.0
    for s in range(n_steps):
        a *= max(0.0, 1.0 - step_size(t0 + s, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start) * l2)
    return a
