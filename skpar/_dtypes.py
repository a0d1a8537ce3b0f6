"""The numeric-dtype check every lazily or remotely held input goes through (dask arrays, CuPy arrays).

Host arrays go through scikit-learn's ``validate_data``; arrays it cannot see get the same messages from here.
"""

from __future__ import annotations

import numpy as np


def as_float(X, name, kind_of_array):
    """``X`` as float32/float64 (other numeric dtypes become float64); complex and non-numeric dtypes raise.

    Works on any array with ``dtype`` and ``astype`` (NumPy, dask, CuPy); ``kind_of_array`` names it in messages.
    """
    kind = X.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}")
    if kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got {kind_of_array} of dtype {X.dtype}")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return X
