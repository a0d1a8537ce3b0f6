"""Strategies: how local work is arranged on the blocks and combined (synchronous rounds)."""

from .._lasso_objective import duality_gap, primal
from ._cocoa import cocoa
from ._hydra import ColumnBlock, hydra_lasso
from ._lasso_data import DeviceLassoData, LassoData
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
from ._shotgun import shotgun_lasso, spectral_radius
from ._sync import Round, SyncRounds, nbytes, weighted_average

__all__ = [
    "ColumnBlock",
    "cocoa",
    "DeviceLassoData",
    "LassoData",
    "duality_gap",
    "hydra_lasso",
    "primal",
    "shotgun_lasso",
    "spectral_radius",
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
