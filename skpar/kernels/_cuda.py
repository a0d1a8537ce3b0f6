"""Compile (once per data type and shape class) and launch the CUDA kernels of :mod:`skpar.kernels._cuda_source`."""

from __future__ import annotations

import functools
import math
import os

import numpy as np

from .._device import cupy_module
from ._cuda_source import source

#: threads per block of every kernel (8 warps)
THREADS = 256
#: most rows a warp worker of the register SGD kernel holds in registers: the group it works on and those in flight
SGD_RING = 8
#: most rows of one batch a warp worker of the register SGD kernel works on together
SGD_GROUP = 4
#: warp workers of the register SGD kernel per SM. A worker's rows are its sequential progress (averaging workers
#: cuts noise, not bias), and a worker's pace is set by its chain of latencies, not by bandwidth: fewer workers
#: make more progress an epoch for little more time (the time to target by workers an SM is in
#: docs/benchmarks.md, "Measurements behind the code's choices")
SGD_WARPS_PER_SM = 3
#: threads per block of the register SGD kernel: one warp, so that the workers spread over every SM
SGD_THREADS = 32
#: warps a worker of the register SGD kernel is made of, at most: a batch's rows shared among a team's warps
#: (a thread block), their gradient sums added in shared memory, so a worker's step costs the time of its share
SGD_TEAM = 4


@functools.cache
def kernel(name: str, dtype: str, loss=None, **macros):
    """The compiled ``cupy.RawKernel`` ``name`` for ``dtype`` ('float' or 'double'), the loss class ``loss`` and
    ``macros``."""
    cp = cupy_module()
    return cp.RawKernel(source(name, dtype, loss, **macros), name, options=("-std=c++17",))


def ctype(dtype) -> str:
    return "float" if np.dtype(dtype) == np.float32 else "double"


def grid(n_warps: int, threads: int = THREADS) -> tuple:
    """Blocks of ``threads`` threads for ``n_warps`` warps."""
    return (max(1, -(-int(n_warps) * 32 // threads)),)


def sgd_threads() -> int:
    """Threads per block of the register SGD kernel."""
    return int(os.environ.get("SKPAR_SGD_THREADS", SGD_THREADS))


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


@functools.cache
def _attributes(device_id: int) -> dict:
    """The attributes of GPU ``device_id`` (CuPy queries every one of them on each ``Device.attributes``)."""
    return dict(cupy_module().cuda.Device(device_id).attributes)


def device_attributes() -> dict:
    """The attributes of the current GPU."""
    return _attributes(int(cupy_module().cuda.Device().id))


def resident_warps_of(fn, threads=THREADS) -> int:
    """Warps of kernel ``fn`` that the current GPU keeps resident at once, from its register count: launching more
    warp workers than this runs them in waves, the later ones only after the first finish."""
    attrs = device_attributes()
    regs = max(1, int(fn.attributes["num_regs"]))
    per_warp = -(-regs * 32 // 256) * 256  # registers are allocated per warp in units of 256
    warps_per_block = threads // 32
    by_regs = attrs.get("MaxRegistersPerMultiprocessor", 65536) // per_warp // warps_per_block
    by_threads = attrs.get("MaxThreadsPerMultiProcessor", 2048) // threads
    blocks = max(1, min(by_regs, by_threads, attrs.get("MaxBlocksPerMultiprocessor", 32)))
    return int(blocks * warps_per_block * attrs["MultiProcessorCount"])


def sgd_warps_kernel(dtype, d, average, loss, schedule, batch=1):
    """The register SGD kernel for ``d`` columns, with the Polyak average or not, for a loss object, a schedule and
    the workers' batch size (rows of one batch are worked on in groups: see ``sgd_warps`` in _source_sgd.py)."""
    nc = max(1, -(-int(d) // 32))
    ring, g = sgd_ring(nc, batch, int(os.environ.get("SKPAR_SGD_RING", SGD_RING)),
                       int(os.environ.get("SKPAR_SGD_GROUP", SGD_GROUP)),
                       int(os.environ.get("SKPAR_SGD_RING_REGS", 64)))
    nw = sgd_team(batch, g)
    # Teams of up to SGD_TEAM warps: registers capped so that SGD_WARPS_PER_SM teams stay resident on an SM (168 a
    # thread for teams of 4), since the workers launched are those that fit (sgd_workers): a kernel at 180 registers
    # held two teams an SM, and with fewer workers its epochs were another partition's. One-warp workers and larger
    # teams (studies): no floor (MINB 1): the ring of rows takes registers, and capping one-warp workers at 128
    # (MINB 2) spilled it (docs/benchmarks.md, "Measurements behind the code's choices")
    capped = 1 < nw <= SGD_TEAM
    minb = int(os.environ.get("SKPAR_SGD_MINB", math.ceil(SGD_WARPS_PER_SM) if capped else 1))  # env: studies
    fn = kernel("sgd_warps", ctype(dtype), type(loss), NC=nc, AVG=int(average), SCHED=int(schedule),
                MINB=minb, LBT=nw * 32 if nw > 1 else THREADS, R=ring, G=g, NW=nw)
    _TEAM[id(fn)] = nw
    return fn


#: warps a worker of each compiled register SGD kernel (by its id) takes: see sgd_team
_TEAM = {}


def sgd_team(batch, group) -> int:
    """Warps a worker of the register SGD kernel is made of (``SKPAR_SGD_TEAM`` overrides :data:`SGD_TEAM`, for
    studies): a divisor of the batch's groups, so that each warp takes an equal share of every batch."""
    team = int(os.environ.get("SKPAR_SGD_TEAM", SGD_TEAM))
    return max(1, math.gcd(max(1, int(batch) // max(1, int(group))), max(1, team)))


def sgd_launch(fn, n_workers) -> tuple:
    """``(grid, block)`` of a launch of the register SGD kernel ``fn`` with ``n_workers`` workers. A team whose
    block would need more registers than the GPU gives a block (``SKPAR_SGD_TEAM=16`` at 160 registers a thread)
    raises, naming the largest team that fits, where CUDA would only say "invalid argument"."""
    nw = _TEAM.get(id(fn), 1)
    threads = nw * 32 if nw > 1 else sgd_threads()
    need = threads * int(fn.attributes["num_regs"])
    limit = int(device_attributes().get("MaxRegistersPerBlock", 65536))
    if need > limit:
        raise ValueError(f"a team of {nw} warps ({threads} threads of {fn.attributes['num_regs']} registers) needs "
                         f"{need} registers a block, more than this GPU's {limit}: set SKPAR_SGD_TEAM to at most "
                         f"{max(1, limit // (32 * int(fn.attributes['num_regs'])))}")
    return grid(n_workers * nw, threads), (threads,)


def sgd_ring(nc, batch, max_ring=SGD_RING, max_group=SGD_GROUP, ring_regs=64):
    """``(R, G)`` of the register SGD kernel for rows of ``nc`` chunks of 32 columns and the workers' ``batch``: a
    ring of ``R`` rows, about ``ring_regs`` registers of them and at most ``max_ring``, worked on in groups of ``G``
    rows, a divisor of the batch (the rows of a group share one model) and of ``R``, with ``R >= 2 G`` (one group
    worked on while the next is in flight)."""
    ring = max(2, min(int(max_ring), int(ring_regs) // max(1, int(nc))))
    g = math.gcd(int(batch), int(max_group), max(1, ring // 2))
    return g * max(2, ring // g), g


def sgd_workers(fn, n_rows, min_rows) -> int:
    """Warp workers of the register SGD kernel ``fn`` on ``n_rows`` rows (see :data:`SGD_WARPS_PER_SM`), at most
    those that stay resident at once and at least ``min_rows`` rows each."""
    per_sm = float(os.environ.get("SKPAR_SGD_WARPS_PER_SM", SGD_WARPS_PER_SM))  # for studies
    wanted = int(per_sm * device_attributes()["MultiProcessorCount"])
    nw = _TEAM.get(id(fn), 1)
    resident = resident_warps_of(fn, nw * 32 if nw > 1 else sgd_threads()) // nw
    return int(max(1, min(wanted, resident, n_rows // min_rows)))
