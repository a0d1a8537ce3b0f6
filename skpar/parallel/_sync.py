"""Synchronous rounds: every block runs the same task from the same model, the driver combines in block order.

This is the data-parallel strategy, written once against the backend protocol. What the task
does (one mini-batch step, an epoch, a full local fit) decides whether a round is synchronous mini-batch SGD with an
all-reduce, local SGD with periodic averaging, or one-shot averaging; combining by a weighted average is done here,
in a fixed order, so that every backend gives the same floating-point result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..backend import LostBlocksError


def nbytes(obj) -> int:
    """Bytes of the arrays and numbers in ``obj`` (tuples, lists and dicts are walked): what a task ships."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (tuple, list)):
        return sum(nbytes(o) for o in obj)
    if isinstance(obj, dict):
        return sum(nbytes(o) for o in obj.values())
    if isinstance(obj, (int, float, np.number, bool)):
        return 8
    return 0


@dataclass
class Round:
    """What one synchronous round returned: the blocks' results in block order, its wall time and traffic."""

    results: list
    seconds: float
    bytes_sent: int


class SyncRounds:
    """Run a task on every block per round and gather the results in block order.

    Parameters
    ----------
    backend : Backend
        Thread or Dask backend (see :mod:`skpar.backend`).
    blocks : list
        Block handles from ``backend.partition``.
    """

    #: rounds run again, on blocks placed anew, when workers holding blocks leave (at most this many times a round)
    MAX_RECOVERIES = 3

    def __init__(self, backend, blocks, recoverable=False):
        self.backend = backend
        self.blocks = list(blocks)
        # only for tasks whose blocks carry no solver state: a round is a pure function of its arguments and the
        # blocks' data, so running it again on the same data placed elsewhere gives the same result to the last bit
        self.recoverable = recoverable
        self.recoveries = 0

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def run(self, fn, *args, per_block=None) -> Round:
        """One round: ``fn(block, *args, *per_block[k])`` on every block ``k``; results come back in block order.

        ``bytes_sent`` counts the arguments sent to each block and the results sent back (the model and the
        statistics; the blocks themselves never move); 0 on a backend whose tasks share this process's memory.
        """
        start = time.perf_counter()
        for attempt in range(self.MAX_RECOVERIES + 1):
            futures = []
            sent = 0
            ships = not self.backend.in_process  # threads share memory: nothing is sent
            for k, blk in enumerate(self.blocks):
                extra = () if per_block is None else tuple(per_block[k])
                futures.append(self.backend.submit(fn, blk, *args, *extra))
                if ships:
                    sent += nbytes(args) + nbytes(extra)
            try:
                results = self.backend.gather(futures)
                break
            except LostBlocksError:
                if not (self.recoverable and attempt < self.MAX_RECOVERIES and self.backend.recoverable):
                    raise
                # workers holding blocks left: place those blocks again on live workers and run the round again
                self.blocks = self.backend.restore(self.blocks)
                self.recoveries += 1
        if ships:
            sent += sum(nbytes(r) for r in results)
        return Round(results, time.perf_counter() - start, sent)


def weighted_average(arrays, weights):
    """``sum_k weights[k] * arrays[k] / sum(weights)``, summed in the given order (bit-reproducible)."""
    if len(arrays) == 1 and weights[0]:  # one block (small fits run one): its model, copied, is the average
        return np.array(arrays[0], dtype=np.float64)
    total = float(sum(weights))
    out = np.zeros_like(np.asarray(arrays[0], dtype=np.float64))
    for a, wk in zip(arrays, weights, strict=True):
        if wk:
            out += (wk / total) * np.asarray(a, dtype=np.float64)
    return out


def held_weights(weights, presence):
    """Per feature, the sum of ``weights`` over the blocks whose mask in ``presence`` holds it (in block order)."""
    out = np.zeros(np.shape(presence[0])[-1])
    for wk, mask in zip(weights, presence, strict=True):
        out += np.where(mask, float(wk), 0.0)
    return out


def feature_average(arrays, weights, presence):
    """:func:`weighted_average` of (K, d) models feature by feature over the blocks whose rows hold the feature.

    ``presence[k]`` is block k's boolean mask of features with a non-zero in its rows. A feature that only some
    blocks hold was stepped on by those alone: averaging it with the blocks that never saw it (whose copies only
    shrank) divides its progress by the blocks' number, where one SGD run over all rows gives it every step. A
    feature no block holds gets the plain average. Summed in block order (bit-reproducible).
    """
    num = np.zeros_like(np.asarray(arrays[0], dtype=np.float64))
    for a, wk, mask in zip(arrays, weights, presence, strict=True):
        if wk:
            num += np.where(mask, float(wk), 0.0) * np.asarray(a, dtype=np.float64)
    den = held_weights(weights, presence)
    held = den > 0
    return np.where(held, num / np.where(held, den, 1.0), weighted_average(arrays, weights))


def held_feature_decay(start, weights, presence, decays):
    r"""What :func:`feature_average` owes the l2 penalty: the correction that gives each feature the decay of the
    steps its progress stands for.

    A block's round shrinks every weight by its l2 factor ``a_k`` (:func:`skpar.kernels.l2_decay`) and
    moves those its rows hold. Averaged over the ``m`` blocks that hold feature j, the feature keeps all of their
    steps (``K / m`` times the plain average's progress, as one run over all rows would make) but one block's
    shrink, ``a``, where one run over all rows shrinks it by :math:`a^{K/m}`. So the penalty's weight on a feature
    held by ``m`` of ``K`` blocks was ``m / K`` of its own, and the weights settled where the penalty is that
    much weaker (Reuters' log loss on 16 blocks: a weight norm of 29.8 against the optimum's 24.0 after 256 epochs,
    a relative suboptimality of 0.14 that rose with the epochs). Returns

    .. math::

        \big(\bar a^{\,f_j} - \tilde a_j\big)\, w_{0j}, \qquad
        f_j = \frac{\sum_k \omega_k}{\sum_{k \ni j} \omega_k},

    with ``w_0 = start`` the round's start, :math:`\bar a` the blocks' mean factor and :math:`\tilde a_j` that of
    the blocks holding j (both weighted by ``weights``, as the average is): 0 for a feature every block holds, or
    none.
    """
    w = np.asarray(weights, dtype=np.float64)
    a = np.asarray(decays, dtype=np.float64)
    held, held_a = held_weights(w, presence), held_weights(w * a, presence)
    total = float(w.sum())
    mean_a = float(w @ a) / total if total > 0 else 1.0
    some = held > 0
    f = np.where(some, total / np.where(some, held, 1.0), 1.0)
    own = np.where(some, held_a / np.where(some, held, 1.0), mean_a)
    return (mean_a ** f - own) * np.asarray(start, dtype=np.float64)
