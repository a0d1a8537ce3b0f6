"""CUDA C source of the GPU kernels, compiled by CuPy (NVRTC) on first use for each data type.

The kernels (their text in ``_source_sgd.py`` and ``_source_dcd.py``), each many samples per launch so that
memory bandwidth, not launch overhead, bounds a pass:

``sgd_warps``
    Dense rows, ``d <= 32 * MAX_CHUNKS``. Every warp is one SGD worker holding its model in registers (lane ``l``
    owns columns ``l, l + 32, ...``); it runs mini-batch SGD over its share of the rows, and the launch returns
    every worker's model for the driver to average (local SGD with periodic averaging, the strategy of the CPU
    ``sync`` rounds, with hundreds of workers: a few an SM, since a worker's rows are its sequential progress).
    Rows are read in *stripes* of ``n_workers`` consecutive rows: at its step ``k`` worker ``w`` reads row
    ``s_k * n_workers + (w + shift) % n_workers`` with the stripe ``s_k = (s_0 + k a) mod S`` over the ``S`` full
    stripes (a random affine permutation, computed rather than loaded), then its row of the partial stripe if it
    has one; so the whole GPU sweeps X stripe by stripe (coalesced) while each worker sees rows from stripes in
    random order. A worker holds a ring of ``R`` rows in registers and works on ``G`` of them at once (``G``
    divides the batch, so they share one model): their dot products and warp reductions overlap, and the next
    group's rows are loading meanwhile. A worker's pace is its chain of latencies, not bandwidth, so a worker is a
    team of ``NW`` warps (a thread block) that share each batch's rows, ``batch / NW`` a warp, and add their
    gradient sums in shared memory before the step, which every warp of the team takes alike.
``sgd_wild``
    CSR rows, or dense rows too wide for registers: Hogwild! on the GPU. A warp per row reads the shared model from
    global memory and adds its step with ``atomicAdd`` (no update is lost, reads may be stale). The l2 shrinkage,
    which touches every weight, is applied by the driver once per launch.
``dcd_wild`` and ``dcd_warps``
    Dual coordinate ascent for linear SVMs in the manner of TPA-SCD (Parnell et al. 2017): a warp per dual
    coordinate (row), ``atomicAdd`` of its step into the shared ``w``; the clipped Newton step of Hsieh et al. 2008.
    ``dcd_warps`` (dense rows) buffers a warp's steps in registers and adds them every few rows, since every dense
    row touches every weight and per-row atomics on the same ``d`` addresses serialise.

Dual and Hogwild! model arithmetic is float64 (as on the CPU); the register SGD kernel keeps its model in the data's
precision (float32 registers for float32 data: half the registers and shuffles). X is read as stored.
"""

from __future__ import annotations

from .._penalties import SOFT_THRESHOLD_CUDA
from ._dcd_cuda_source import DCD_WARPS, DCD_WILD
from ._sgd_cuda_source import SGD_WARPS, SGD_WILD, SGD_WILD_SOFTMAX

#: widest dense row the register kernel takes, in chunks of 32 columns
MAX_CHUNKS = 32

COMMON = r"""
typedef __TYPE__ T;
#define FULL 0xffffffffu

__device__ __forceinline__ double warp_sum(double v) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
    return v;
}

// the loss's l(p, y) and dl/dp: the body is the loss's own CUDA text (skpar._losses, Loss.cuda); margin losses
// take y in {-1, +1}
__device__ __forceinline__ void loss_deriv(double p, double y, double eps, double* l, double* g) {
    __LOSS_BODY__
}

// the step size of global step t: skpar.kernels._schedule.step_size
__device__ __forceinline__ double step_size(long long t, int schedule, double eta, double power_t, double sps,
                                            double warm, double eta_start) {
    // power_t 1 (learning_rate='optimal') divides without pow, as the CPU kernels do: the same steps to the bit
    double base = 1.0 + (double)t * sps;
    double e = schedule == 1 ? eta / (power_t == 1.0 ? base : pow(base, power_t)) : eta;
    if ((double)t < warm) e = eta_start + (e - eta_start) * ((double)t + 1.0) / warm;
    return e;
}

__SOFT_THRESHOLD__
// target and weight of a sample: regression reads y; classification compares the class index with cls
__device__ __forceinline__ void target(int classify, double yi, double cls, double pos_w, double neg_w,
                                       double* yy, double* wt) {
    if (classify) { if (yi == cls) { *yy = 1.0; *wt = pos_w; } else { *yy = -1.0; *wt = neg_w; } }
    else { *yy = yi; *wt = 1.0; }
}
"""


def source(kernel: str, dtype: str, loss=None, **macros) -> str:
    """The full source of ``kernel`` ('sgd_warps', 'sgd_wild', 'sgd_wild_softmax', 'dcd_wild' or 'dcd_warps') for
    ``dtype`` ('float' or 'double') and the loss class ``loss`` (a :class:`skpar._losses.Loss` subclass: its ``cuda``
    text becomes ``loss_deriv``, its ``dual`` the dual kernels' box), with its macros (``NC``, ``AVG``, ``SCHED``,
    ``MINB``, ``CSR``, ``K``) filled in."""
    body = {"sgd_warps": SGD_WARPS, "sgd_wild": SGD_WILD, "sgd_wild_softmax": SGD_WILD_SOFTMAX, "dcd_wild": DCD_WILD,
            "dcd_warps": DCD_WARPS}[kernel]
    text = COMMON.replace("__TYPE__", dtype).replace("__SOFT_THRESHOLD__", SOFT_THRESHOLD_CUDA) + body
    text = text.replace("__LOSS_BODY__", loss.cuda if loss is not None else "*l = 0.0; *g = 0.0;")
    dual = loss.dual if loss is not None and loss.dual is not None else (0.0, True)
    text = text.replace("__DUAL_DC__", repr(float(dual[0]))).replace("__DUAL_BOUNDED__", str(int(dual[1])))
    for key, value in macros.items():
        text = text.replace(f"__{key}__", str(int(value)))
    return text
