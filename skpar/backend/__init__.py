"""Where work runs: in-process threads (the default) or a Dask client; blocks, futures, gather, as_completed."""

from ._base import Backend, Completion, LostBlocksError, contiguous, row_groups, row_slice, row_splits, take_rows
from ._block import Block, make_block
from ._dask import DaskBackend
from ._dask_input import (
    checked_chunks,
    compute,
    delayed_column_blocks,
    is_dask_collection,
    label_counts,
    unique_labels,
)
from ._device_input import check_gpu_fit_data, check_gpu_predict_data, linear_scores
from ._kind import DataKind, data_kind
from ._select import get_backend, resolve_n_jobs
from ._threads import ThreadBackend

__all__ = [
    "Backend",
    "Completion",
    "DataKind",
    "LostBlocksError",
    "Block",
    "DaskBackend",
    "ThreadBackend",
    "check_gpu_fit_data",
    "check_gpu_predict_data",
    "checked_chunks",
    "compute",
    "data_kind",
    "delayed_column_blocks",
    "get_backend",
    "is_dask_collection",
    "label_counts",
    "linear_scores",
    "unique_labels",
    "make_block",
    "resolve_n_jobs",
    "contiguous",
    "row_groups",
    "row_slice",
    "row_splits",
    "take_rows",
]
