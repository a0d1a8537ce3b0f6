"""Local solvers on one in-memory block: numba kernels for dense and CSR data, float32 and float64.

Kernels are pure functions of their inputs and know nothing of blocks, backends or estimators. The Shotgun
steps' own kernels (``_cd.py``) are imported by their one driver from there.
"""

from ._cd import cd_epochs_csc, cd_epochs_dense
from ._dcd import certificate_csr, certificate_dense, dcd_csr, dcd_dense, w_of_alpha_csr, w_of_alpha_dense
from ._dcd_outputs import certificate_csr_outputs, certificate_dense_outputs, dcd_csr_outputs, dcd_dense_outputs
from ._hogwild import hogwild_csr
from ._indices import sparse_arrays
from ._rows import rows_of
from ._schedule import l2_decay
from ._sgd import sgd_dense
from ._sgd_csr import sgd_csr
from ._stats import (
    column_counts_csr,
    column_moments_dense,
    column_sq_sums_csr,
    eval_rows,
    gather_columns,
    line_losses,
    row_sq_norms,
)

__all__ = [
    "certificate_csr",
    "certificate_csr_outputs",
    "certificate_dense",
    "certificate_dense_outputs",
    "cd_epochs_csc",
    "cd_epochs_dense",
    "column_counts_csr",
    "column_moments_dense",
    "column_sq_sums_csr",
    "gather_columns",
    "dcd_csr",
    "dcd_csr_outputs",
    "dcd_dense",
    "dcd_dense_outputs",
    "eval_rows",
    "hogwild_csr",
    "l2_decay",
    "line_losses",
    "row_sq_norms",
    "rows_of",
    "sgd_csr",
    "sgd_dense",
    "sparse_arrays",
    "w_of_alpha_csr",
    "w_of_alpha_dense",
]
