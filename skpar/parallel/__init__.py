"""Strategies: how local work is arranged on the blocks and combined (synchronous rounds)."""

from ._sgd import (
    SGDPlan,
    SGDState,
    block_train_sizes,
    epoch_rounds,
    evaluate,
    r2_from_sums,
    score_from_sums,
    sgd_oneshot,
    sgd_sync,
)
from ._sync import Round, SyncRounds, nbytes, weighted_average

__all__ = [
    "Round",
    "SGDPlan",
    "SGDState",
    "SyncRounds",
    "block_train_sizes",
    "epoch_rounds",
    "evaluate",
    "nbytes",
    "r2_from_sums",
    "score_from_sums",
    "sgd_oneshot",
    "sgd_sync",
    "weighted_average",
]
