"""Diagnostics of parallel fits: the critical batch size of mini-batch SGD, and how many coordinates Shotgun can
update at once."""

from ._batch_size import CriticalBatchSize, critical_batch_size, estimate_on_blocks
from ._shotgun import ShotgunParallelism, shotgun_parallelism

__all__ = ["CriticalBatchSize", "ShotgunParallelism", "critical_batch_size", "estimate_on_blocks",
           "shotgun_parallelism"]
