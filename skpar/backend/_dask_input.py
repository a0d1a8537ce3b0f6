"""Dask collections as row blocks: one delayed block per row chunk, with y and sample_weight aligned to it."""

from __future__ import annotations

import dask
import numpy as np

from .._device import array_module
from .._dtypes import check_squares_finite, check_values
from ._base import row_splits
from ._block import make_block


def is_dask_collection(obj) -> bool:
    """True for dask arrays and dataframes/series (found by ``dask.is_dask_collection``, not by type names)."""
    return dask.is_dask_collection(obj)


def compute(*collections):
    """The dask collections (and any other values) computed into this process, in one graph."""
    return dask.compute(*collections)


def delayed_column_blocks(X, splits, piece, build, **kwargs):
    """One delayed block per column range of ``splits`` of the dask array ``X``: ``build(pieces, cols=cols,
    **kwargs)`` from ``piece(chunk, cols)`` of every row chunk, each piece cut where its chunk is. Neither X nor a
    rechunked copy of it reaches the driver."""
    if X.numblocks[1] > 1:
        X = X.rechunk({1: X.shape[1]})
    rows = X.to_delayed().ravel()
    cut = dask.delayed(piece, pure=True)
    make = dask.delayed(build, pure=True)
    return [make([cut(r, cols) for r in rows], cols=cols, **kwargs) for cols in splits]


def unique_labels(y):
    """The distinct values of the dask array ``y``, reduced where its chunks are: only they reach the driver."""
    import dask.array as da  # here, not at import: dask.array costs 0.3 s where no fit has a dask array

    return da.unique(y).compute()


def label_counts(y_enc, n_classes):
    """How many rows of each class index the dask array ``y_enc`` holds, counted where its chunks are."""
    import dask.array as da

    return da.bincount(y_enc.astype(np.intp), minlength=n_classes).compute()


def checked_chunks(X, name="X", squares=False):
    """``X`` (a dask array) with each chunk checked for NaN and inf where it is computed, as ``validate_data``
    checks a local array: the check is a task on the chunk's worker, and nothing but the chunk's own result moves.

    For data that no block is built from (ShotgunLasso's column pieces, ``predict``): the error comes when the
    result is computed, as a dask array's errors do. ``squares`` (fit data): values whose squares overflow float64
    raise too (:func:`~skpar._dtypes.check_squares_finite`)."""
    return X.map_blocks(_checked_chunk, label=name, squares=squares, dtype=X.dtype, meta=X._meta)


def _checked_chunk(chunk, label, squares):
    where, xp = " (in a chunk of the dask array)", array_module(chunk)
    check_values(label, chunk, where=where, xp=xp)
    if squares:
        check_squares_finite(label, chunk, where=where, xp=xp)
    return chunk


def as_row_chunked(arr, row_chunks, name):
    """``arr`` (dask or local, 1-d) as a dask array with the given row chunks."""
    if arr is None:
        return None
    if is_dask_collection(arr):
        if hasattr(arr, "to_dask_array"):
            arr = arr.to_dask_array(lengths=True)
        arr = arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
        if any(np.isnan(c) for c in arr.chunks[0]):
            raise ValueError(
                f"{name} is a dask array of unknown chunk sizes; call `compute_chunk_sizes()` on it first"
            )
        if arr.shape[0] != sum(row_chunks):
            raise ValueError(f"X has {sum(row_chunks)} rows but {name} has {arr.shape[0]}")
        return arr.rechunk((row_chunks,))
    arr = np.asarray(arr).reshape(-1)
    if arr.shape[0] != sum(row_chunks):
        raise ValueError(f"X has {sum(row_chunks)} rows but {name} has {arr.shape[0]}")
    import dask.array as da

    return da.from_array(arr, chunks=(row_chunks,))


def rechunk_rows(X, n_blocks):
    """The dask array ``X`` with its rows in ``n_blocks`` chunks cut where local data's blocks are cut
    (:func:`~skpar.backend._base.row_splits`), so that a fit on it builds the blocks a fit on the computed array
    builds (where those are contiguous ranges: a local fit deals the rows of a target-sorted file in turn, which a
    dask array's chunks are not). ``None``: its chunks as they are."""
    if n_blocks is None:
        return X
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X is a dask array of unknown chunk sizes, which n_blocks cannot cut anew; call "
                         "`compute_chunk_sizes()` on it first, or leave n_blocks='auto' (a block per chunk)")
    bounds = row_splits(X.shape[0], n_blocks)
    return X.rechunk({0: tuple(b - a for a, b in bounds)})


def delayed_blocks(X, y, sample_weight, seeds, validation_fraction, gpu=False):
    """One ``dask.delayed`` :class:`Block` per row chunk of the dask array ``X`` (columns merged into one chunk).

    The blocks check their own data for NaN and inf where they are built, since it was never seen by the driver.
    With ``gpu`` (chunks are CuPy arrays, as on a dask-cuda cluster) each block is a GPU block on its worker's GPU.
    """
    X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]
    y = as_row_chunked(y, row_chunks, "y")
    sw = as_row_chunked(sample_weight, row_chunks, "sample_weight")
    xs = X.to_delayed().ravel()
    ys = y.to_delayed().ravel()
    sws = sw.to_delayed().ravel() if sw is not None else [None] * len(xs)
    mk = dask.delayed(make_block, pure=True)
    return [
        mk(xs[k], ys[k], sws[k], k, int(seeds[k]), validation_fraction, check_finite=True, gpu=gpu)
        for k in range(len(xs))
    ]
