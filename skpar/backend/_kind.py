"""What kind of data a fit is given, decided once where the data enters (after validation) and passed down."""

from __future__ import annotations

from dataclasses import dataclass

import scipy.sparse as sp

from .._device import is_sparse_gpu, on_gpu
from ._dask_input import is_dask_collection


@dataclass(frozen=True)
class DataKind:
    """Where the rows are and how they are stored.

    Attributes
    ----------
    gpu : bool
        The values are in GPU memory: a CuPy array or ``cupyx`` sparse matrix, or a dask array of such chunks.
    dask : bool
        A dask collection: its row chunks become the blocks, built where they are.
    sparse : bool or None
        CSR rows; ``None`` for a dask array, whose chunks say it (the blocks are asked).
    """

    gpu: bool
    dask: bool
    sparse: bool | None

    @property
    def local_gpu(self) -> bool:
        """A GPU array of this process (one GPU, no cluster)."""
        return self.gpu and not self.dask


def data_kind(X) -> DataKind:
    """The :class:`DataKind` of ``X`` (validated training or prediction data)."""
    dask = is_dask_collection(X)
    gpu = on_gpu(X)
    sparse = None if dask else bool(sp.issparse(X) or (gpu and is_sparse_gpu(X)))
    return DataKind(gpu=gpu, dask=dask, sparse=sparse)
