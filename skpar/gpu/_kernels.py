"""Compile (once per data type and shape class) and launch the CUDA kernels of :mod:`skpar.gpu._source`."""

from __future__ import annotations

import functools
import os

import numpy as np

from ._namespace import cupy_module
from ._source import source

#: threads per block of every kernel (8 warps)
THREADS = 256


@functools.cache
def kernel(name: str, dtype: str, **macros):
    """The compiled ``cupy.RawKernel`` ``name`` for ``dtype`` ('float' or 'double') and ``macros``."""
    cp = cupy_module()
    return cp.RawKernel(source(name, dtype, **macros), name, options=("-std=c++17",))


def ctype(dtype) -> str:
    return "float" if np.dtype(dtype) == np.float32 else "double"


def grid(n_warps: int) -> tuple:
    """Blocks of :data:`THREADS` threads for ``n_warps`` warps."""
    return (max(1, -(-int(n_warps) * 32 // THREADS)),)


def launch(n_warps: int) -> tuple:
    """``(grid, block)`` that start exactly ``n_warps`` warps when that is under one block (the grid-stride kernels
    count their warps from the launch), else whole blocks of :data:`THREADS` threads."""
    n_warps = max(1, int(n_warps))
    if n_warps * 32 < THREADS:
        return (1,), (n_warps * 32,)
    return grid(n_warps), (THREADS,)


def i32(v):
    return np.int32(v)


def i64(v):
    return np.int64(v)


def f64(v):
    return np.float64(v)


def resident_warps_of(fn, threads=THREADS) -> int:
    """Warps of kernel ``fn`` that the current GPU keeps resident at once, from its register count: launching more
    warp workers than this runs them in waves, the later ones only after the first finish."""
    cp = cupy_module()
    attrs = cp.cuda.Device().attributes
    regs = max(1, int(fn.attributes["num_regs"]))
    per_warp = -(-regs * 32 // 256) * 256  # registers are allocated per warp in units of 256
    warps_per_block = threads // 32
    by_regs = attrs.get("MaxRegistersPerMultiprocessor", 65536) // per_warp // warps_per_block
    by_threads = attrs.get("MaxThreadsPerMultiProcessor", 2048) // threads
    blocks = max(1, min(by_regs, by_threads, attrs.get("MaxBlocksPerMultiprocessor", 32)))
    return int(blocks * warps_per_block * attrs["MultiProcessorCount"])


def sgd_warps_kernel(dtype, d, average, loss_code, schedule):
    """The register SGD kernel for ``d`` columns, with the Polyak average or not, for a loss and a schedule."""
    nc = max(1, -(-int(d) // 32))
    # at least MINB blocks of 8 warps resident per SM. Measured on an H100 over 10,000,000 x 100 float32
    # (gpu_benchmark.py --parts passes, SWEEP_MINB=1,2,3,4): 3 blocks (80 registers) ran an epoch in 2.53 ms, 57% of
    # the X.T @ r bandwidth, against 3.12 ms at 2 and 6.84 ms at 4 (spills); with the average, 2 blocks: 3.83 ms
    minb = (2 if average else 3) if nc <= 4 else (2 if nc <= 8 else 1)
    minb = int(os.environ.get("SKPAR_SGD_MINB", minb))  # for studies (gpu_benchmark.py --parts passes)
    return kernel("sgd_warps", ctype(dtype), NC=nc, AVG=int(average), LOSS=int(loss_code), SCHED=int(schedule),
                  MINB=minb)
