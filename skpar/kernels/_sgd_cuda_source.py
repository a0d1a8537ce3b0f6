"""CUDA C source of the SGD kernels (``sgd_warps``, ``sgd_wild``, ``sgd_wild_softmax``); see
:mod:`skpar.kernels._cuda_source` for what they do and how a source is assembled."""

SGD_WARPS = r"""
#define NC __NC__
#define AVG __AVG__
#define SCHED __SCHED__
#define MINB __MINB__
#define LBT __LBT__
#define R __R__
#define G __G__
#define NW __NW__

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
    double decay = fmax(0.0, 1.0 - e * l2), sc = e / in_batch, thr = (last) ? 0.0 : e * l1; \
    _Pragma("unroll") for (int c = 0; c < NC; ++c) { \
        w[c] = w[c] * (T)decay - (T)sc * g[c]; g[c] = 0; \
        if (thr > 0.0) w[c] = (T)soft((double)w[c], thr); \
    } \
    b -= sc * gb * fit_intercept; /* the intercept's step factor: 0 without one */ \
    gb = 0.0; \
    AVERAGE_STEP \
    t += 1; \
    in_batch = 0; \
}

extern "C" __global__ void __launch_bounds__(LBT, MINB) sgd_warps(
    const T* __restrict__ X, const double* __restrict__ y, const double* __restrict__ sw,
    long long n, int d, long long s0, long long sa, long long n_stripes, int n_workers, int shift,
    const double* __restrict__ w0, double b0, const double* __restrict__ wbar0, double bbar0, long long navg0,
    long long t0, int batch, double eps, int classify, double cls, double pos_w, double neg_w,
    double l2, double l1, double fit_intercept, int schedule, double eta, double power_t, double sps, double warm,
    double eta_start, long long avg_start,
    double* __restrict__ W_out, double* __restrict__ B_out, double* __restrict__ Wbar_out,
    double* __restrict__ Bbar_out, long long* __restrict__ navg_out, double* __restrict__ loss_out,
    double* __restrict__ seen_out, long long* __restrict__ steps_out, double* __restrict__ eta_out)
{
    const int lane = threadIdx.x & 31;
#if NW > 1
    // a team of NW warps (a thread block) is one worker: each warp takes its share of every batch, and the
    // warps' gradient sums are added in shared memory before the step, which every warp takes alike
    const int wid = threadIdx.x >> 5;
    const long long worker = blockIdx.x;
    if (worker >= n_workers) return;  // a whole block leaves together
#else
    const int wid = 0;
    const long long worker = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (worker >= n_workers) return;  // a whole warp leaves together
#endif
    const long long slot = (worker + shift) % n_workers;
    T w[NC], g[NC];  // the model in the data's precision: float32 data keeps float32 registers
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
    // rows of this worker: one in each full stripe and one in the partial stripe if slot < its length
    const long long mine = slot < n ? (n - slot + n_workers - 1) / n_workers : 0;
    // A ring of R rows in registers: a group of G rows is worked on while the next R - G are in flight. The loops
    // over the ring are unrolled, so a slot is always the same registers and refilling it is a load into them, not
    // a copy between registers. G divides the batch, so the rows of a group share one model: their dot products and
    // warp reductions are independent and go through the pipeline together, instead of one row's chain of shuffles
    // at a time (the latency that bounded a worker's rows; the epochs of each layout are in docs/benchmarks.md).
    T xq[R][NC];
    double yq[R], sq[R], vq[R];  // targets, weights and whether the slot holds a row travel with the rows
    // the worker's batches are PB rows a warp: the warp's i-th row is row q(i) of the worker's pass
    const long long PB = batch / NW;
    const long long total = (mine + batch - 1) / batch * PB;  // rows a warp steps through, the last batch padded
    long long jw = 0, in_batch_rows = 0;  // jw: the warp's rows stepped through
#if NW > 1
    // the warp's next row is q = (i / PB) batch + wid PB + i % PB of the worker's pass (its i-th), in the stripe
    // (s0 + q sa) mod S: both kept by additions, since a 64-bit division or remainder is a software routine on the
    // GPU, and the four a row took stood in the chain of instructions between a worker's steps
    long long q_next = wid * PB, in_share = 0;
    long long pos = n_stripes > 0 ? (s0 + (q_next % n_stripes) * sa) % n_stripes : 0;
    const long long pos_step = n_stripes > 0 ? sa % n_stripes : 0;
    const long long pos_jump = n_stripes > 0 ? ((batch - PB + 1) % n_stripes) * sa % n_stripes : 0;
#define ROW_OF_SLOT(r_) \
        long long r_ = q_next >= mine ? n : (q_next < n_stripes ? pos * n_workers + slot \
                                                                : n_stripes * n_workers + slot); \
        if (++in_share == PB) { in_share = 0; q_next += batch - PB + 1; pos += pos_jump; } \
        else { q_next += 1; pos += pos_step; } \
        if (pos >= n_stripes) pos -= n_stripes;
#else
    long long s = s0, issued = 0;  // the next stripe, and the rows issued: a one-warp worker's place in its pass
#define ROW_OF_SLOT(r_) \
        long long r_ = issued < n_stripes ? s * n_workers + slot \
                                          : (issued == n_stripes ? n_stripes * n_workers + slot : n); \
        s = next_stripe(s, sa, n_stripes); \
        issued += 1;
#endif
#define LOAD_SLOT(u) { \
        ROW_OF_SLOT(r_) \
        _Pragma("unroll") for (int c = 0; c < NC; ++c) { \
            int j = lane + 32 * c; \
            xq[u][c] = (r_ < n && j < d) ? X[r_ * d + j] : (T)0; \
        } \
        yq[u] = r_ < n ? y[r_] : 0.0; \
        sq[u] = r_ < n ? sw[r_] : 0.0; \
        vq[u] = r_ < n ? 1.0 : 0.0; \
    }
#if NW > 1
    __shared__ T gsh[NW][NC * 32];
    __shared__ double gbsh[NW], lsh[NW], ssh[NW];
    __shared__ int nsh[NW];
    // the team's batch: the warps' gradient sums and counts added in shared memory, in warp order (every warp the
    // same sums, so the same step)
#define TEAM_SUM { \
        _Pragma("unroll") for (int c = 0; c < NC; ++c) gsh[wid][lane + 32 * c] = g[c]; \
        if (lane == 0) { gbsh[wid] = gb; nsh[wid] = in_batch; } \
        __syncthreads(); \
        _Pragma("unroll") for (int c = 0; c < NC; ++c) { \
            T acc = 0; \
            for (int u_ = 0; u_ < NW; ++u_) acc += gsh[u_][lane + 32 * c]; \
            g[c] = acc; \
        } \
        double gbt = 0.0; \
        int nt = 0; \
        for (int u_ = 0; u_ < NW; ++u_) { gbt += gbsh[u_]; nt += nsh[u_]; } \
        gb = gbt; \
        in_batch = nt; \
        __syncthreads(); \
    }
#else
#define TEAM_SUM
#endif
    #pragma unroll
    for (int u = 0; u < R; ++u) LOAD_SLOT(u)
    // the full stripes come first, in random order, then the partial one (rows n_stripes * n_workers ... n - 1),
    // which has a row for the first workers only: the worker's rows are the first `mine` of its pass
    for (long long k = 0; k < total; k += R) {
        #pragma unroll
        for (int u0 = 0; u0 < R; u0 += G) {
            T part[G];
#if AVG
            T pav[G];
#endif
            #pragma unroll
            for (int v = 0; v < G; ++v) {
                part[v] = 0;
#if AVG
                pav[v] = 0;
#endif
                #pragma unroll
                for (int c = 0; c < NC; ++c) {
                    part[v] += xq[u0 + v][c] * w[c];
#if AVG
                    pav[v] += xq[u0 + v][c] * wb[c];
#endif
                }
            }
            #pragma unroll
            for (int o = 16; o > 0; o >>= 1) {
                #pragma unroll
                for (int v = 0; v < G; ++v) {
                    part[v] += __shfl_xor_sync(FULL, part[v], o);
#if AVG
                    pav[v] += __shfl_xor_sync(FULL, pav[v], o);
#endif
                }
            }
            #pragma unroll
            for (int v = 0; v < G; ++v) {
                // a slot past the worker's rows holds zeros and adds nothing; it is not counted either
                const double valid = vq[u0 + v];
                double yy, wt;
                target(classify, yq[u0 + v], cls, pos_w, neg_w, &yy, &wt);
                double si = sq[u0 + v] * wt;
                double p = (double)part[v] + b;
                double lv, gd;
#if AVG
                if (navg > 0) {  // progressive loss at the model the fit returns: the average once it has started
                    loss_deriv((double)pav[v] + bb, yy, eps, &lv, &gd);
                    loss += si * lv;
                    loss_deriv(p, yy, eps, &lv, &gd);
                } else {
                    loss_deriv(p, yy, eps, &lv, &gd);
                    loss += si * lv;
                }
#else
                loss_deriv(p, yy, eps, &lv, &gd);
                loss += si * lv;
#endif
                double gi = si * gd;
                #pragma unroll
                for (int c = 0; c < NC; ++c) g[c] += (T)gi * xq[u0 + v][c];
                gb += gi;
                seen += valid;
            }
            int here = 0;
            #pragma unroll
            for (int v = 0; v < G; ++v) here += (int)vq[u0 + v];
            in_batch += here;
            jw += G;
            in_batch_rows += G;  // jw % PB, by additions (G divides PB)
            const bool batch_end = in_batch_rows == PB;
            if (batch_end) in_batch_rows = 0;
            if (jw <= total && batch_end) {  // the end of a batch (the same groups in every warp of a team)
                TEAM_SUM
                if (in_batch > 0) SGD_STEP(jw == total)
            }
            #pragma unroll
            for (int v = 0; v < G; ++v) LOAD_SLOT(u0 + v)  // the rows R after these (past the last stripe: none)
        }
    }
#undef LOAD_SLOT
#undef ROW_OF_SLOT
#if NW > 1
    if (lane == 0) { lsh[wid] = loss; ssh[wid] = seen; }
    __syncthreads();
    if (wid != 0) return;  // the team's model is every warp's: the first writes it
    loss = 0.0;
    seen = 0.0;
    for (int u_ = 0; u_ < NW; ++u_) { loss += lsh[u_]; seen += ssh[u_]; }
#endif
    #pragma unroll
    for (int c = 0; c < NC; ++c) {
        int jj = lane + 32 * c;
        if (jj < d) {
            W_out[worker * d + jj] = w[c];
#if AVG
            Wbar_out[worker * d + jj] = wb[c];
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
    long long t0, double eps, int classify, double cls, double pos_w, double neg_w,
    double fit_intercept, double e, double* __restrict__ loss_out, double* __restrict__ seen_out)
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
            loss_deriv(pa, yy, eps, &lv, &gd);
            loss += si * lv;
        }
        loss_deriv(p, yy, eps, &lv, &gd);
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
            if (fit_intercept != 0.0 && lane == 0) atomicAdd(B, -sc * fit_intercept);
        }
    }
    if (lane == 0) { loss_out[warp] = loss; seen_out[warp] = seen; }
}
"""


SGD_WILD_SOFTMAX = r"""
#define CSR __CSR__
#define K __K__

// Hogwild! SGD on the softmax cross-entropy of K outputs (multi_class='multinomial'), a warp per row: the row's K
// scores, their softmax and the K gradient coefficients, then atomic adds of the K steps along the row into W
// (K x d, an output's weights in a row) and B. The loss is taken at the average (Wbar, Bbar) once averaging, as the
// CPU kernels take it (skpar.kernels._sgd_csr._softmax_row); the class weights cw[y] multiply the sample weights.
extern "C" __global__ void sgd_wild_softmax(
    const T* __restrict__ data, const int* __restrict__ indices, const int* __restrict__ indptr,
    const double* __restrict__ y, const double* __restrict__ sw,
    long long n, int d, const long long* __restrict__ rows, long long n_rows,
    double* W, double* B, const double* __restrict__ Wbar, const double* __restrict__ Bbar, int use_avg,
    const double* __restrict__ cw, double fit_intercept, double e, double* __restrict__ loss_out,
    double* __restrict__ seen_out)
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
        double P[K], Q[K];
        #pragma unroll
        for (int k = 0; k < K; ++k) { P[k] = 0.0; Q[k] = 0.0; }
        for (long long r = a + lane; r < z; r += 32) {
#if CSR
            int j = indices[r];
#else
            int j = (int)(r - a);
#endif
            double x = (double)data[r];
            #pragma unroll
            for (int k = 0; k < K; ++k) {
                P[k] += x * __ldcg(W + (long long)k * d + j);  // .cg: the L2 copy the other warps add to
                if (use_avg) Q[k] += x * Wbar[(long long)k * d + j];
            }
        }
        #pragma unroll
        for (int k = 0; k < K; ++k) {
            P[k] = warp_sum(P[k]) + __ldcg(B + k);
            Q[k] = use_avg ? warp_sum(Q[k]) + Bbar[k] : P[k];
        }
        int c = (int)y[i];
        double si = sw[i] * cw[c];
        // the loss at Q (the average's scores once averaging): log sum_k e^{Q_k} - Q_c, shifted by the largest
        double top = Q[0];
        #pragma unroll
        for (int k = 1; k < K; ++k) top = fmax(top, Q[k]);
        double total = 0.0;
        #pragma unroll
        for (int k = 0; k < K; ++k) total += exp(Q[k] - top);
        loss += si * (top + log(total) - Q[c]);
        seen += 1.0;
        // the gradient in the scores at P: si (softmax_k(P) - [k = c]), into P
        top = P[0];
        #pragma unroll
        for (int k = 1; k < K; ++k) top = fmax(top, P[k]);
        total = 0.0;
        #pragma unroll
        for (int k = 0; k < K; ++k) { P[k] = exp(P[k] - top); total += P[k]; }
        #pragma unroll
        for (int k = 0; k < K; ++k) P[k] = e * si * (P[k] / total - (k == c ? 1.0 : 0.0));
        for (long long r = a + lane; r < z; r += 32) {
#if CSR
            int j = indices[r];
#else
            int j = (int)(r - a);
#endif
            double x = (double)data[r];
            #pragma unroll
            for (int k = 0; k < K; ++k) if (P[k] != 0.0) atomicAdd(W + (long long)k * d + j, -P[k] * x);
        }
        if (fit_intercept != 0.0 && lane == 0) {
            #pragma unroll
            for (int k = 0; k < K; ++k) atomicAdd(B + k, -P[k] * fit_intercept);
        }
    }
    if (lane == 0) { loss_out[warp] = loss; seen_out[warp] = seen; }
}
"""
