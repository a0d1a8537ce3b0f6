"""CUDA C source of the dual coordinate ascent kernels (``dcd_wild``, ``dcd_warps``); see
:mod:`skpar.kernels._cuda_source` for what they do and how a source is assembled."""

DCD_STEP = r"""
// The dual coordinate step of row i shared by both kernels (skpar.kernels._dcd._coordinate on the CPU): p is
// x~_i . w as the warp sees it, p0 the same at the round's W0 (used on the first epoch only, for the certificate
// terms added to primal and dual), sq = ||x~_i||^2. Lane 0 writes the new alpha_i; returns the step
// sigma * delta * t to add along x~_i, or 0 when alpha_i stays.
__device__ __forceinline__ double dual_step(long long i, double t, double Ci, double p, double p0, double sq,
                                            double* __restrict__ A, double sigma, double damp, int first,
                                            int lane, double* primal, double* dual)
{
    // the loss's dual box and quadratic term (skpar._losses, Loss.dual)
    double D = __DUAL_DC__ > 0.0 ? __DUAL_DC__ / Ci : 0.0;
    double U = __DUAL_BOUNDED__ ? Ci : 1e300;
    double ai = A[i];
    if (first) {
        double lv, gd;
        loss_deriv(p0, t, 0.0, &lv, &gd);
        *primal += Ci * lv;
        *dual += ai - 0.5 * D * ai * ai;
    }
    double G = t * p - 1.0 + D * ai;
    double Q = sigma * damp * sq + D;  // damp: the other rows in flight (see _dcd.py)
    if (Q <= 0.0) return 0.0;
    double an = fmin(fmax(ai - G / Q, 0.0), U);
    double delta = an - ai;
    if (delta == 0.0) return 0.0;
    if (lane == 0) A[i] = an;
    return sigma * delta * t;
}
"""

DCD_WILD = DCD_STEP + r"""
#define CSR __CSR__

// One pass of dual coordinate ascent over rows[0:n_rows] for output k, a warp per row.
// W0: the model the round started from (read only; the certificate is taken at it on the first epoch),
// Wl: the working w that the steps move (atomicAdd), A: this output's dual variables of the block's rows.
extern "C" __global__ void dcd_wild(
    const T* __restrict__ data, const int* __restrict__ indices, const int* __restrict__ indptr,
    const double* __restrict__ y, const double* __restrict__ sw, long long n, int d,
    const long long* __restrict__ rows, long long n_rows, const double* __restrict__ W0, double* Wl,
    double* __restrict__ A, double C, double cls, double pos_w, double neg_w, double bias, double sigma,
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
        if (first) p0 = warp_sum(p0) + (bias != 0.0 ? bias * W0[d] : 0.0);
        double step = dual_step(i, t, Ci, p, p0, sq, A, sigma, damp, first, lane, &primal, &dual);
        if (step != 0.0) {
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


DCD_WARPS = DCD_STEP + r"""
#define NC __NC__

// Dense rows: the same steps as dcd_wild, but each warp keeps a snapshot of w and its own pending steps in registers
// and adds them to the shared w (atomicAdd) every `flush` rows, re-reading w then: `flush` times fewer atomics on the
// d addresses every row touches. The warp's own steps are always in its view; other warps' arrive within a flush.
extern "C" __global__ void dcd_warps(
    const T* __restrict__ X, const double* __restrict__ y, const double* __restrict__ sw, long long n, int d,
    const long long* __restrict__ rows, long long n_rows, const double* __restrict__ W0, double* Wl,
    double* __restrict__ A, double C, double cls, double pos_w, double neg_w, double bias, double sigma,
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
        if (first) p0 = warp_sum(p0) + bias * b0;
        double step = dual_step(i, t, Ci, p, p0, sq, A, sigma, damp, first, lane, &primal, &dual);
        if (step != 0.0) {
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
