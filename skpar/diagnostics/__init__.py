"""Diagnostics of parallel fits: the critical batch size of mini-batch SGD."""

from ._batch_size import CriticalBatchSize, critical_batch_size, estimate_on_blocks

__all__ = ["CriticalBatchSize", "critical_batch_size", "estimate_on_blocks"]
