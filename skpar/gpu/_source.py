"""CUDA C source of the GPU kernels, compiled by CuPy (NVRTC) on first use for each data type.

Three kernels, each many samples per launch so that memory bandwidth, not launch overhead, bounds a pass:

``sgd_warps``
    Dense rows, ``d <= 32 * MAX_CHUNKS``. Every warp is one SGD worker holding its model in registers (lane ``l``
    owns columns ``l, l + 32, ...``); it runs mini-batch SGD over its share of the rows, and the launch returns
    every worker's model for the driver to average (local SGD with periodic averaging, the strategy of the CPU
    ``sync`` rounds, with thousands of workers). Rows are read in *stripes* of ``n_workers`` consecutive rows:
    at its step ``k`` worker ``w`` reads row ``stripe[k] * n_workers + (w + shift) % n_workers``, so the whole
    GPU sweeps X stripe by stripe (coalesced, sequential) while each worker sees rows from stripes in random order.
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

// loss codes of skpar._losses: 0 squared, 1 huber, 2 epsilon-insensitive, 3 squared epsilon-insensitive,
// 10 hinge, 11 log, 12 modified huber, 13 squared hinge (margin losses take y in {-1, +1})
__device__ __forceinline__ void loss_deriv(int code, double p, double y, double eps, double* l, double* g) {
    if (code < 10) {
        double r = p - y;
        if (code == 0) { *l = 0.5 * r * r; *g = r; return; }
        double a = fabs(r), s = r > 0 ? 1.0 : -1.0;
        if (code == 1) {
            if (a <= eps) { *l = 0.5 * r * r; *g = r; }
            else { *l = eps * a - 0.5 * eps * eps; *g = s * eps; }
            return;
        }
        double z = a - eps;
        if (z <= 0.0) { *l = 0.0; *g = 0.0; return; }
        if (code == 2) { *l = z; *g = s; } else { *l = z * z; *g = 2.0 * s * z; }
        return;
    }
    double z = p * y;
    if (code == 10) { if (z < 1.0) { *l = 1.0 - z; *g = -y; } else { *l = 0.0; *g = 0.0; } return; }
    if (code == 13) {
        if (z < 1.0) { *l = (1.0 - z) * (1.0 - z); *g = -2.0 * y * (1.0 - z); } else { *l = 0.0; *g = 0.0; }
        return;
    }
    if (code == 11) {
        if (z > 18.0) { double e = exp(-z); *l = e; *g = -y * e; }
        else if (z < -18.0) { *l = -z; *g = -y; }
        else { *l = log1p(exp(-z)); *g = -y / (1.0 + exp(z)); }
        return;
    }
    if (z >= 1.0) { *l = 0.0; *g = 0.0; }
    else if (z >= -1.0) { *l = (1.0 - z) * (1.0 - z); *g = -2.0 * y * (1.0 - z); }
    else { *l = -4.0 * z; *g = -4.0 * y; }
}

// the step size of global step t: skpar.kernels._schedule.step_size
__device__ __forceinline__ double step_size(long long t, int schedule, double eta, double power_t, double sps,
                                            double warm, double eta_start) {
    double e = schedule == 1 ? eta / pow(1.0 + (double)t * sps, power_t) : eta;
    if ((double)t < warm) e = eta_start + (e - eta_start) * ((double)t + 1.0) / warm;
    return e;
}

__device__ __forceinline__ double soft(double v, double t) {
    return v > t ? v - t : (v < -t ? v + t : 0.0);
}

// target and weight of a sample: regression reads y; classification compares the class index with cls
__device__ __forceinline__ void target(int classify, double yi, double cls, double pos_w, double neg_w,
                                       double* yy, double* wt) {
    if (classify) { if (yi == cls) { *yy = 1.0; *wt = pos_w; } else { *yy = -1.0; *wt = neg_w; } }
    else { *yy = yi; *wt = 1.0; }
}
"""

SGD_WARPS = r"""
#define NC __NC__
#define AVG __AVG__
#define LOSS __LOSS__
#define SCHED __SCHED__
#define MINB __MINB__

// the stripe after s in the epoch's order s0, s0 + a, s0 + 2a, ... (mod S): a random affine permutation of the
// stripes (a coprime to S), computed, not loaded, so no load stands between a warp and its next row
__device__ __forceinline__ long long next_stripe(long long s, long long a, long long S) {
    s += a;
    return s >= S ? s - S : s;
}

// one mini-batch step from the gradient sums g, gb of in_batch rows: shrink, step, the l1 proximal step unless it is
// the worker's last (that one is the driver's, after the average), then the Polyak average (as skpar.kernels.sgd_dense)
#if AVG
#define AVERAGE_STEP \
    if (t >= avg_start) { \
        navg += 1; \
        double f = 1.0 / (double)navg; \
        _Pragma("unroll") for (int c = 0; c < NC; ++c) wb[c] += (w[c] - wb[c]) * (T)f; \
        bb += (b - bb) * f; \
    }
#else
#define AVERAGE_STEP
#endif
#define SGD_STEP(last) { \
    e = step_size(t, SCHED, eta, power_t, sps, warm, eta_start); \
    double decay = 1.0 - e * l2, sc = e / in_batch, thr = (last) ? 0.0 : e * l1; \
    _Pragma("unroll") for (int c = 0; c < NC; ++c) { \
        w[c] = w[c] * (T)decay - (T)sc * g[c]; g[c] = 0; \
        if (thr > 0.0) w[c] = (T)soft((double)w[c], thr); \
    } \
    if (fit_intercept) b -= sc * gb; \
    gb = 0.0; \
    AVERAGE_STEP \
    t += 1; \
    in_batch = 0; \
}

extern "C" __global__ void __launch_bounds__(256, MINB) sgd_warps(
    const T* __restrict__ X, const double* __restrict__ y, const double* __restrict__ sw,
    long long n, int d, long long s0, long long sa, long long n_stripes, int n_workers, int shift,
    const double* __restrict__ w0, double b0, const double* __restrict__ wbar0, double bbar0, long long navg0,
    long long t0, int batch, int code, double eps, int classify, double cls, double pos_w, double neg_w,
    double l2, double l1, int fit_intercept, int schedule, double eta, double power_t, double sps, double warm,
    double eta_start, long long avg_start,
    double* __restrict__ W_out, double* __restrict__ B_out, double* __restrict__ Wbar_out,
    double* __restrict__ Bbar_out, long long* __restrict__ navg_out, double* __restrict__ loss_out,
    double* __restrict__ seen_out, long long* __restrict__ steps_out, double* __restrict__ eta_out)
{
    const int lane = threadIdx.x & 31;
    const long long worker = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (worker >= n_workers) return;  // a whole warp leaves together
    const long long slot = (worker + shift) % n_workers;
    T w[NC], g[NC];  // the model in the data's precision: float32 data keeps float32 registers
    T xc[NC], xn[NC];
#if AVG
    T wb[NC];
#endif
    #pragma unroll
    for (int c = 0; c < NC; ++c) {
        int j = lane + 32 * c;
        w[c] = j < d ? w0[j] : 0.0;
        g[c] = 0;
#if AVG
        wb[c] = j < d ? wbar0[j] : 0.0;
#endif
    }
    double b = b0, gb = 0.0, bb = bbar0;
    long long navg = navg0, t = t0;
    double loss = 0.0, seen = 0.0, e = 0.0;
    int in_batch = 0;
    // rows of this worker: the stripes s with s * n_workers + slot < n; its last step is after the last of them
    const long long mine = slot < n ? (n - slot + n_workers - 1) / n_workers : 0;
    long long done = 0;
    // rows two steps ahead are in flight while a row is worked on: the loads do not depend on the model
    T xm[NC];
    long long s = s0;
    long long row = n_stripes > 0 ? s * n_workers + slot : n;
    s = next_stripe(s, sa, n_stripes);
    long long nrow = n_stripes > 1 ? s * n_workers + slot : n;
    s = next_stripe(s, sa, n_stripes);
    #pragma unroll
    for (int c = 0; c < NC; ++c) {
        int j = lane + 32 * c;
        xc[c] = (row < n && j < d) ? X[row * d + j] : (T)0;
        xn[c] = (nrow < n && j < d) ? X[nrow * d + j] : (T)0;
    }
    // targets and weights travel with their rows through the same two-deep pipeline
    double yc_ = row < n ? y[row] : 0.0, yn_ = nrow < n ? y[nrow] : 0.0;
    double sc_ = row < n ? sw[row] : 0.0, sn_ = nrow < n ? sw[nrow] : 0.0;
    for (long long k = 0; k < n_stripes; ++k) {
        long long mrow = k + 2 < n_stripes ? s * n_workers + slot : n;
        s = next_stripe(s, sa, n_stripes);
        #pragma unroll
        for (int c = 0; c < NC; ++c) { int j = lane + 32 * c; xm[c] = (mrow < n && j < d) ? X[mrow * d + j] : (T)0; }
        double ym_ = mrow < n ? y[mrow] : 0.0, sm_ = mrow < n ? sw[mrow] : 0.0;
        if (row < n) {
            double yy, wt;
            target(classify, yc_, cls, pos_w, neg_w, &yy, &wt);
            double si = sc_ * wt;
            T part = 0;
            #pragma unroll
            for (int c = 0; c < NC; ++c) part += xc[c] * w[c];
            double p = (double)warp_sum(part) + b;
            double lv, gd;
#if AVG
            if (navg > 0) {  // progressive loss at the model the fit returns: the average once it has started
                T pa_ = 0;
                #pragma unroll
                for (int c = 0; c < NC; ++c) pa_ += xc[c] * wb[c];
                double pa = (double)warp_sum(pa_) + bb;
                loss_deriv(LOSS, pa, yy, eps, &lv, &gd);
                loss += si * lv;
                loss_deriv(LOSS, p, yy, eps, &lv, &gd);
            } else {
                loss_deriv(LOSS, p, yy, eps, &lv, &gd);
                loss += si * lv;
            }
#else
            loss_deriv(LOSS, p, yy, eps, &lv, &gd);
            loss += si * lv;
#endif
            double gi = si * gd;
            #pragma unroll
            for (int c = 0; c < NC; ++c) g[c] += (T)gi * xc[c];
            gb += gi;
            seen += 1.0;
            done += 1;
            if (++in_batch == batch) SGD_STEP(done == mine)
        }
        row = nrow;
        nrow = mrow;
        yc_ = yn_; yn_ = ym_;
        sc_ = sn_; sn_ = sm_;
        #pragma unroll
        for (int c = 0; c < NC; ++c) { xc[c] = xn[c]; xn[c] = xm[c]; }
    }
    if (in_batch > 0) SGD_STEP(true)  // the last, partial batch
    #pragma unroll
    for (int c = 0; c < NC; ++c) {
        int j = lane + 32 * c;
        if (j < d) {
            W_out[worker * d + j] = w[c];
#if AVG
            Wbar_out[worker * d + j] = wb[c];
#endif
        }
    }
    if (lane == 0) {
        B_out[worker] = b;
#if AVG
        Bbar_out[worker] = bb;
#endif
        navg_out[worker] = navg;
        loss_out[worker] = loss;
        seen_out[worker] = seen;
        steps_out[worker] = t - t0;
        eta_out[worker] = e;
    }
}
"""

# one warp per row; rows in stripe order as above, warps striding over them; W and B are read and written by all
SGD_WILD = r"""
#define CSR __CSR__

extern "C" __global__ void sgd_wild(
    const T* __restrict__ data, const int* __restrict__ indices, const int* __restrict__ indptr,
    const double* __restrict__ y, const double* __restrict__ sw,
    long long n, int d, const long long* __restrict__ rows, long long n_rows,
    double* W, double* B, const double* __restrict__ Wbar, double bbar, int use_avg,
    long long t0, int code, double eps, int classify, double cls, double pos_w, double neg_w,
    int fit_intercept, double e, double* __restrict__ loss_out, double* __restrict__ seen_out)
{
    const int lane = threadIdx.x & 31;
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const long long n_warps = ((long long)gridDim.x * blockDim.x) >> 5;
    double loss = 0.0, seen = 0.0;
    for (long long q = warp; q < n_rows; q += n_warps) {
        long long i = rows[q];
        long long a, z;
#if CSR
        a = indptr[i]; z = indptr[i + 1];
#else
        a = i * d; z = a + d;
#endif
        double part = 0.0, pa = 0.0;
        for (long long r = a + lane; r < z; r += 32) {
#if CSR
            int j = indices[r];
#else
            int j = (int)(r - a);
#endif
            double x = (double)data[r];
            part += x * __ldcg(W + j);  // .cg: read the L2 copy other warps write to, not a stale L1 line
            if (use_avg) pa += x * Wbar[j];
        }
        double p = warp_sum(part) + __ldcg(B);
        double yy, wt;
        target(classify, y[i], cls, pos_w, neg_w, &yy, &wt);
        double si = sw[i] * wt;
        double lv, gd;
        if (use_avg) {
            pa = warp_sum(pa) + bbar;
            loss_deriv(code, pa, yy, eps, &lv, &gd);
            loss += si * lv;
        }
        loss_deriv(code, p, yy, eps, &lv, &gd);
        if (!use_avg) loss += si * lv;
        seen += 1.0;
        double sc = e * si * gd;
        if (sc != 0.0) {
            for (long long r = a + lane; r < z; r += 32) {
#if CSR
                int j = indices[r];
#else
                int j = (int)(r - a);
#endif
                atomicAdd(W + j, -sc * (double)data[r]);
            }
            if (fit_intercept && lane == 0) atomicAdd(B, -sc);
        }
    }
    if (lane == 0) { loss_out[warp] = loss; seen_out[warp] = seen; }
}
"""

DCD_WILD = r"""
#define CSR __CSR__

// One pass of dual coordinate ascent over rows[0:n_rows] for output k, a warp per row.
// W0: the model the round started from (read only; the certificate is taken at it on the first epoch),
// Wl: the working w that the steps move (atomicAdd), A: this output's dual variables of the block's rows.
extern "C" __global__ void dcd_wild(
    const T* __restrict__ data, const int* __restrict__ indices, const int* __restrict__ indptr,
    const double* __restrict__ y, const double* __restrict__ sw, long long n, int d,
    const long long* __restrict__ rows, long long n_rows, const double* __restrict__ W0, double* Wl,
    double* __restrict__ A, double C, int loss, double cls, double pos_w, double neg_w, double bias, double sigma,
    double damp, int first, double* __restrict__ sums_out)
{
    const int lane = threadIdx.x & 31;
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const long long n_warps = ((long long)gridDim.x * blockDim.x) >> 5;
    double primal = 0.0, dual = 0.0;
    for (long long q = warp; q < n_rows; q += n_warps) {
        long long i = rows[q];
        double t = y[i] == cls ? 1.0 : -1.0;
        double Ci = C * sw[i] * (t > 0 ? pos_w : neg_w);
        if (Ci <= 0.0) continue;
        long long a, z;
#if CSR
        a = indptr[i]; z = indptr[i + 1];
#else
        a = i * d; z = a + d;
#endif
        double sq = 0.0, p = 0.0, p0 = 0.0;
        for (long long r = a + lane; r < z; r += 32) {
#if CSR
            int j = indices[r];
#else
            int j = (int)(r - a);
#endif
            double x = (double)data[r];
            sq += x * x;
            p += x * __ldcg(Wl + j);
            if (first) p0 += x * W0[j];
        }
        sq = warp_sum(sq) + bias * bias;
        p = warp_sum(p);
        if (bias != 0.0) p += bias * __ldcg(Wl + d);
        double D = loss == 0 ? 0.0 : 0.5 / Ci;
        double U = loss == 0 ? Ci : 1e300;
        double ai = A[i];
        if (first) {
            p0 = warp_sum(p0);
            if (bias != 0.0) p0 += bias * W0[d];
            double m = fmax(0.0, 1.0 - t * p0);
            primal += Ci * (loss == 0 ? m : m * m);
            dual += ai - 0.5 * D * ai * ai;
        }
        double G = t * p - 1.0 + D * ai;
        double Q = sigma * damp * sq + D;  // damp: the other rows in flight (see _dcd.py)
        if (Q <= 0.0) continue;
        double an = fmin(fmax(ai - G / Q, 0.0), U);
        double delta = an - ai;
        if (delta != 0.0) {
            if (lane == 0) A[i] = an;
            double step = sigma * delta * t;
            for (long long r = a + lane; r < z; r += 32) {
#if CSR
                int j = indices[r];
#else
                int j = (int)(r - a);
#endif
                atomicAdd(Wl + j, step * (double)data[r]);
            }
            if (bias != 0.0 && lane == 0) atomicAdd(Wl + d, step * bias);
        }
    }
    if (lane == 0) { sums_out[2 * warp] = primal; sums_out[2 * warp + 1] = dual; }
}
"""


DCD_WARPS = r"""
#define NC __NC__

// Dense rows: the same steps as dcd_wild, but each warp keeps a snapshot of w and its own pending steps in registers
// and adds them to the shared w (atomicAdd) every `flush` rows, re-reading w then: `flush` times fewer atomics on the
// d addresses every row touches. The warp's own steps are always in its view; other warps' arrive within a flush.
extern "C" __global__ void dcd_warps(
    const T* __restrict__ X, const double* __restrict__ y, const double* __restrict__ sw, long long n, int d,
    const long long* __restrict__ rows, long long n_rows, const double* __restrict__ W0, double* Wl,
    double* __restrict__ A, double C, int loss, double cls, double pos_w, double neg_w, double bias, double sigma,
    double damp, int first, int flush, double* __restrict__ sums_out)
{
    const int lane = threadIdx.x & 31;
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const long long n_warps = ((long long)gridDim.x * blockDim.x) >> 5;
    double wg[NC], dl[NC], w0[NC];
    #pragma unroll
    for (int c = 0; c < NC; ++c) {
        int j = lane + 32 * c;
        wg[c] = j < d ? __ldcg(Wl + j) : 0.0;
        w0[c] = (first && j < d) ? W0[j] : 0.0;
        dl[c] = 0.0;
    }
    double bg = bias != 0.0 ? __ldcg(Wl + d) : 0.0, db = 0.0, b0 = (first && bias != 0.0) ? W0[d] : 0.0;
    double primal = 0.0, dual = 0.0;
    int pending = 0;
    for (long long q = warp; q < n_rows; q += n_warps) {
        long long i = rows[q];
        double t = y[i] == cls ? 1.0 : -1.0;
        double Ci = C * sw[i] * (t > 0 ? pos_w : neg_w);
        if (Ci <= 0.0) continue;
        double x[NC];
        double sq = 0.0, p = 0.0, p0 = 0.0;
        #pragma unroll
        for (int c = 0; c < NC; ++c) {
            int j = lane + 32 * c;
            x[c] = j < d ? (double)X[i * d + j] : 0.0;
            sq += x[c] * x[c];
            p += x[c] * (wg[c] + dl[c]);
            p0 += x[c] * w0[c];
        }
        sq = warp_sum(sq) + bias * bias;
        p = warp_sum(p) + bias * (bg + db);
        double D = loss == 0 ? 0.0 : 0.5 / Ci;
        double U = loss == 0 ? Ci : 1e300;
        double ai = A[i];
        if (first) {
            p0 = warp_sum(p0) + bias * b0;
            double m = fmax(0.0, 1.0 - t * p0);
            primal += Ci * (loss == 0 ? m : m * m);
            dual += ai - 0.5 * D * ai * ai;
        }
        double G = t * p - 1.0 + D * ai;
        double Q = sigma * damp * sq + D;  // damp: the other rows in flight (see _dcd.py)
        if (Q <= 0.0) continue;
        double an = fmin(fmax(ai - G / Q, 0.0), U);
        double delta = an - ai;
        if (delta != 0.0) {
            if (lane == 0) A[i] = an;
            double step = sigma * delta * t;
            #pragma unroll
            for (int c = 0; c < NC; ++c) dl[c] += step * x[c];
            db += step * bias;
            if (++pending == flush) {
                #pragma unroll
                for (int c = 0; c < NC; ++c) {
                    int j = lane + 32 * c;
                    if (j < d) { atomicAdd(Wl + j, dl[c]); }
                    dl[c] = 0.0;
                }
                if (bias != 0.0 && lane == 0) atomicAdd(Wl + d, db);
                db = 0.0;
                pending = 0;
                __syncwarp();
                #pragma unroll
                for (int c = 0; c < NC; ++c) { int j = lane + 32 * c; wg[c] = j < d ? __ldcg(Wl + j) : 0.0; }
                bg = bias != 0.0 ? __ldcg(Wl + d) : 0.0;
            }
        }
    }
    #pragma unroll
    for (int c = 0; c < NC; ++c) { int j = lane + 32 * c; if (j < d && dl[c] != 0.0) atomicAdd(Wl + j, dl[c]); }
    if (bias != 0.0 && lane == 0 && db != 0.0) atomicAdd(Wl + d, db);
    if (lane == 0) { sums_out[2 * warp] = primal; sums_out[2 * warp + 1] = dual; }
}
"""


def source(kernel: str, dtype: str, **macros) -> str:
    """The full source of ``kernel`` ('sgd_warps', 'sgd_wild' or 'dcd_wild') for ``dtype`` ('float' or
    'double') with its macros (``NC``, ``AVG``, ``CSR``) filled in."""
    body = {"sgd_warps": SGD_WARPS, "sgd_wild": SGD_WILD, "dcd_wild": DCD_WILD, "dcd_warps": DCD_WARPS}[kernel]
    text = COMMON.replace("__TYPE__", dtype) + body
    for key, value in macros.items():
        text = text.replace(f"__{key}__", str(int(value)))
    return text
