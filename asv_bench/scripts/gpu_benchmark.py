"""GPU benchmark: kernel passes against the memory-bandwidth floor, and time to target against skpar's thread backend.

Part ``passes`` (float32 10,000,000 x 100 on the GPU): the measured time of ``X.T @ r`` (cuBLAS) sets the floor
(bytes of X / time); one SGD epoch of the warp-worker kernel (with and without the Polyak average), one Shotgun
step (``X.T @ r`` and ``X @ delta``: two passes) and one dual coordinate ascent epoch are reported as the fraction of
that bandwidth they reach (bytes they must read / time / floor bandwidth). Medians of 7 after a warm-up.

Part ``ttt``: the CPU benchmarks' targets on 10x their data, the same data and estimator on the GPU and on the
thread backend with every core of the machine, in one run: ParallelSGDRegressor (10,000,000 x 100, relative
suboptimality 1e-3 against the exact ridge solution), AveragedSGDClassifier (10,000,000 x 50, log loss, objective
within 1e-2 of the optimum found by L-BFGS), ShotgunLasso (500,000 x 2,000, relative duality gap 1e-6) and
DualCoordinateAscentSVM (5,000,000 x 100, relative duality gap 1e-3). For SGD the time is that of a fresh fit with
the fewest epochs that reach the target (doubling, then bisection), median of 3; for the certified solvers the time
of a fit at the target tolerance, median of 3 on the GPU and of 1 on the CPU.

Part ``defaults``: ``ParallelSGDRegressor()`` and ``AveragedSGDClassifier(loss='log_loss')`` with their defaults on
the GPU and on the host's cores (the normal equations and Newton's method, both sides). Part ``sgd_sweep``: the
register SGD kernel's launch geometry (``SWEEP_SGD`` lists ``workers-an-SM:ring:group[:team]``, team the warps of a
worker) against its epoch and its time to target. Part ``dcd_sweep``: dense dual coordinate ascent by warps at once.
Part ``sparse_dual``: the dual on sparse rows (500,000 x 500,000, 30 values a row), its epoch against cuSPARSE's
``X.T @ r`` and its time to a gap of 1e-3 on the GPU and on the host's cores.

Usage: python asv_bench/scripts/gpu_benchmark.py [--parts passes,ttt,defaults,sgd_sweep] [--scale 1.0] (the default
runs passes, ttt and defaults: every table the GPU's figures in docs/gpu.md come from, but the sweeps)
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, os.path.dirname(__file__))
from _timing import print_table, time_to_target, timed_fit  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def gpu_time(fn, repeats=7):
    import cupy as cp

    fn()
    cp.cuda.Device().synchronize()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        cp.cuda.Device().synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def passes(n, d):
    import cupy as cp

    from skpar import ParallelSGDRegressor
    from skpar._losses import make_loss
    from skpar.backend._gpu_block import make_gpu_block
    from skpar.kernels._cuda import _TEAM, sgd_warps_kernel
    from skpar.kernels._dcd_cuda import dcd_gpu, in_flight
    from skpar.kernels._sgd_cuda import sgd_epoch_gpu
    from skpar.parallel import DeviceLassoData
    from skpar.parallel._sgd import SGDState

    rs = cp.random.RandomState(0)
    X = rs.standard_normal((n, d), dtype=cp.float32)
    y = X @ rs.standard_normal(d, dtype=cp.float32) + rs.standard_normal(n, dtype=cp.float32)
    y = y.astype(cp.float64)
    nbytes = X.nbytes
    r = cp.asarray(y, dtype=cp.float32)
    t_floor = gpu_time(lambda: X.T @ r)
    bw = nbytes / t_floor
    rows = [("X.T @ r (cuBLAS, the floor)", t_floor * 1e3, bw / 1e9, 1.0)]
    t_xw = gpu_time(lambda: X @ r[:d])
    rows.append(("X @ w (cuBLAS)", t_xw * 1e3, nbytes / t_xw / 1e9, t_floor / t_xw))

    block = make_gpu_block(X, y, None, 0)
    minbs = [int(v) for v in os.environ.get("SWEEP_MINB", "").split(",") if v]
    # the default workers (a few warps an SM: see skpar.kernels._cuda.SGD_WARPS_PER_SM), and every resident warp a
    # worker in blocks of 8 warps (the kernel's throughput at full occupancy)
    shares = [None, 64]
    for average, minb, share in [(a, m, sh) for a in (False, True) for m in (minbs or [None]) for sh in shares]:
        if minb is not None:
            os.environ["SKPAR_SGD_MINB"] = str(minb)
        if share is not None:
            os.environ["SKPAR_SGD_WARPS_PER_SM"] = str(share)
            os.environ["SKPAR_SGD_THREADS"] = "256"
        est = ParallelSGDRegressor(solver="sgd", max_iter=1, tol=None, average=average, learning_rate="constant",
                                   random_state=0).fit(X[:200_000], y[:200_000])
        plan = est._sgd_plan
        state = SGDState.zeros(1, d).payload()
        t = gpu_time(lambda plan=plan, state=state: sgd_epoch_gpu(block, state, plan, 1, 0))
        fn = sgd_warps_kernel(X.dtype, d, average, plan.loss, plan.schedule, plan.batch_size)
        rows.append((f"SGD epoch, register workers{', averaged' if average else ''} ({block.n_workers(fn)} workers of "
                     f"{_TEAM.get(id(fn), 1)} warps, {fn.attributes['num_regs']} regs)", t * 1e3, nbytes / t / 1e9,
                     t_floor / t))
        os.environ.pop("SKPAR_SGD_MINB", None)
        os.environ.pop("SKPAR_SGD_WARPS_PER_SM", None)
        os.environ.pop("SKPAR_SGD_THREADS", None)
    data = DeviceLassoData.build(X, y, None, True)
    rr = data.residual(np.zeros(d))
    delta = cp.zeros(d)
    delta[:10] = 1e-3

    def step():
        data.device_gradient(rr)
        data.centred_matvec(delta)

    t = gpu_time(step)
    rows.append(("Shotgun step (X.T r and X delta)", t * 1e3, 2 * nbytes / t / 1e9, 2 * t_floor / t))
    labels = (y > float(cp.median(y))).astype(cp.float64)
    sblock = make_gpu_block(X, labels, None, 0)
    W = np.zeros((1, d + 1))
    Wl = W.copy()
    A = cp.zeros((1, n))
    C = 1.0 / (n * 1e-5)
    sqh = make_loss("squared_hinge")
    t = gpu_time(lambda: dcd_gpu(sblock, W, Wl, A, C, sqh, np.ones(1), np.ones(1), 1.0, 1.0, 1, 5), repeats=5)
    warps, damp = in_flight(sblock, 1.0)
    rows.append((f"dual CD epoch, TPA-SCD style ({warps} warps, damping {damp:.1f})", t * 1e3, nbytes / t / 1e9,
                 t_floor / t))
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"\npasses over {n:,} x {d} float32 ({nbytes / 1e9:.1f} GB) on {name}")
    print_table(rows, ["kernel", "ms", "GB/s", "fraction of floor"])


def ttt(scale, n_jobs, which=("reg", "clf", "lasso", "svm")):
    import cupy as cp

    rows = []

    def done(row):  # each row printed as it is measured: a run cut short keeps what it measured
        rows.append(row)
        print("  ".join(str(v) for v in row), flush=True)

    if "reg" in which:
        _ttt_regressor(scale, n_jobs, done)
    if "clf" in which:
        _ttt_classifier(scale, n_jobs, done)
    if "lasso" in which:
        _ttt_lasso(scale, n_jobs, done)
    if "svm" in which:
        _ttt_svm(scale, n_jobs, done)
    print(f"\ntime to target: GPU ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}) against skpar's "
          f"thread backend on {n_jobs} cores, same data")
    print_table(rows, ["estimator, data, target", "GPU s", "GPU epochs", "CPU s", "CPU epochs", "CPU / GPU"])


def _ttt_regressor(scale, n_jobs, done):
    from skpar import ParallelSGDRegressor

    n = int(10_000_000 * scale)
    alpha = 1e-4
    X, y, Xg, yg, subopt = _regression_problem(n, alpha)

    def reached_reg(est):
        return subopt(est) <= 1e-3

    def reg(**kw):
        return lambda k: ParallelSGDRegressor(solver="sgd", alpha=alpha, learning_rate="constant", average=True,
                                              max_iter=k,
                                              tol=None, random_state=0, **kw)

    ParallelSGDRegressor(max_iter=1).fit(Xg[:10_000], yg[:10_000])
    ParallelSGDRegressor(max_iter=1, n_jobs=n_jobs).fit(X[:10_000], y[:10_000])
    g = time_to_target(reg(), Xg, yg, reached_reg, 64)
    c_ = time_to_target(reg(n_jobs=n_jobs, client="threads"), X, y, reached_reg, 64)
    done((f"ParallelSGDRegressor {n:,}x100 f32, subopt 1e-3", *_pair(g, c_)))


def _ttt_classifier(scale, n_jobs, done):
    import cupy as cp
    from scipy.optimize import minimize
    from sklearn.datasets import make_classification

    from skpar import AveragedSGDClassifier

    alpha = 1e-4
    n = int(10_000_000 * scale)
    X, y = make_classification(n, 50, n_informative=20, random_state=0)
    X = X.astype(np.float32)
    Xg, yg = cp.asarray(X), cp.asarray(y)
    t = 2.0 * yg.astype(cp.float64) - 1.0
    Xl = Xg.astype(cp.float64)

    def f_log(theta, grad=True, Xl=Xl, t=t, n=n):
        th = cp.asarray(theta)
        z = t * (Xl @ th[:-1] + th[-1])
        f = float(cp.logaddexp(0, -z).mean()) + 0.5 * alpha * float(th[:-1] @ th[:-1])
        if not grad:
            return f
        s = -t / (1.0 + cp.exp(z)) / n
        g_ = cp.concatenate([Xl.T @ s + alpha * th[:-1], s.sum()[None]])
        return f, g_.get()

    opt = minimize(f_log, np.zeros(51), jac=True, method="L-BFGS-B", options={"maxiter": 500, "gtol": 1e-10})
    fl_star = opt.fun

    def reached_clf(est):
        theta = np.append(est.coef_.ravel(), est.intercept_[0]).astype(float)
        return (f_log(theta, False) - fl_star) / fl_star <= 1e-2

    def clf(**kw):
        return lambda k: AveragedSGDClassifier(loss="log_loss", solver="sgd", alpha=alpha, max_iter=k, tol=None,
                                               random_state=0, **kw)

    AveragedSGDClassifier(loss="log_loss", max_iter=1).fit(Xg[:10_000], yg[:10_000])
    g = time_to_target(clf(), Xg, yg, reached_clf, 64)
    c_ = time_to_target(clf(n_jobs=n_jobs, client="threads"), X, y, reached_clf, 64)
    done((f"AveragedSGDClassifier {n:,}x50 f32, obj 1e-2", *_pair(g, c_)))


def _ttt_lasso(scale, n_jobs, done):
    import cupy as cp

    from skpar import ShotgunLasso
    from skpar.linear_model import alpha_max

    n = int(500_000 * scale)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2000), dtype=np.float32)
    w = np.zeros(2000)
    w[rng.choice(2000, 100, replace=False)] = rng.standard_normal(100)
    y = X @ w + 0.5 * rng.standard_normal(n)
    a = 0.05 * alpha_max(X[:50_000], y[:50_000])
    Xg, yg = cp.asarray(X), cp.asarray(y)
    ShotgunLasso(alpha=a, max_iter=2).fit(Xg[:5000], yg[:5000])
    ShotgunLasso(alpha=a, max_iter=2, n_jobs=n_jobs).fit(X[:5000], y[:5000])
    make = lambda **kw: ShotgunLasso(**{"alpha": a, "tol": 5e-7, "max_iter": 10_000, "random_state": 0,  # noqa: E731
                                        **kw})
    gs, ge = timed_fit(make, Xg, yg, repeats=3)
    cs, ce = timed_fit(lambda: make(n_jobs=n_jobs, client="threads"), X, y, repeats=1)
    done((f"ShotgunLasso {n:,}x2000 f32, gap 1e-6", gs, ge.n_iter_, cs, ce.n_iter_, cs / gs))
    try:
        import dask.array as da
        from dask_cuda import LocalCUDACluster
        from distributed import Client, wait
    except ImportError:
        return
    # column blocks on a dask-cuda cluster's GPUs (one here): Hydra rounds, the residual through the driver
    n_gpus = cp.cuda.runtime.getDeviceCount()
    with LocalCUDACluster(dashboard_address=None) as cluster, Client(cluster) as client:
        rows = -(-n // n_gpus)
        Xd = da.from_array(Xg, chunks=(rows, 2000)).persist()
        yd = da.from_array(yg, chunks=rows).persist()
        wait([Xd, yd])  # the data on the workers before the clock starts
        make(client=client, max_iter=2).fit(Xd[:5000], yd[:5000])  # the workers compile the kernels once
        ds, de = timed_fit(lambda: make(client=client, max_iter=500), Xd, yd, repeats=2)
        setup = de.history_[0]["time"] if de.history_ else float("nan")
        done((f"  the same on a LocalCUDACluster of {n_gpus} GPU (column blocks, {de.n_iter_} rounds, gap "
              f"{de.dual_gap_:.1e}, {setup:.2f} s before the first round)", ds, de.n_iter_, cs, ce.n_iter_, cs / ds))


def _ttt_svm(scale, n_jobs, done):
    import cupy as cp
    from sklearn.datasets import make_classification

    from skpar import DualCoordinateAscentSVM

    n = int(5_000_000 * scale)
    X, y = make_classification(n, 100, n_informative=50, n_redundant=0, flip_y=0.01, random_state=0)
    X = X.astype(np.float32)
    lam = float(os.environ.get("SVM_LAMBDA", 1e-5))  # C = 1 / (n lambda)
    C = 1.0 / (n * lam)
    Xg, yg = cp.asarray(X), cp.asarray(y)
    DualCoordinateAscentSVM(max_iter=2).fit(Xg[:5000], yg[:5000])
    DualCoordinateAscentSVM(max_iter=2, n_jobs=n_jobs).fit(X[:5000], y[:5000])
    make = lambda **kw: DualCoordinateAscentSVM(**{  # noqa: E731
        "C": C, "fit_intercept": False, "tol": 1e-3, "max_iter": 1000, "random_state": 0, **kw})
    gs, ge = timed_fit(make, Xg, yg, repeats=3)
    # the host's two ways: its default (one block: PASSCoDe-style passes on one thread) and a block a core (CoCoA+)
    for label, kw in (("default blocks", {}), (f"{n_jobs} blocks", {"n_jobs": n_jobs})):
        cs, ce = timed_fit(lambda kw=kw: make(client="threads", **kw), X, y, repeats=1)
        done((f"DualCoordinateAscentSVM {n:,}x100 f32, lambda {lam:g}, gap 1e-3 (GPU {ge.solver_}, gap "
              f"{ge.duality_gap_:.1e}; CPU {ce.solver_}, {label}, gap {ce.duality_gap_:.1e})", gs, ge.n_iter_, cs,
              ce.n_iter_, cs / gs))
    # the dual on the GPU (TPA-SCD-style warps), for the dual coordinate ascent's own figure
    ds, de = timed_fit(lambda: make(solver="dual", max_iter=100), Xg, yg, repeats=1)
    done((f"  the same, GPU solver='dual' (gap {de.duality_gap_:.1e})", ds, de.n_iter_, None, None, None))


_PROBLEMS = {}


def _regression_problem(n, alpha=1e-4):
    """The ttt regressor's data (float32 n x 100, condition number 1e4) on host and GPU, and its relative
    suboptimality function against the exact ridge solution."""
    import cupy as cp

    from skpar.datasets import make_correlated_regression

    if (n, alpha) in _PROBLEMS:  # the parts of one run share the data (generating 10,000,000 rows takes seconds)
        return _PROBLEMS[n, alpha]
    X, y, _ = make_correlated_regression(n, 100, dtype=np.float32, random_state=0)
    Xg, yg = cp.asarray(X), cp.asarray(y)
    X64 = Xg.astype(cp.float64)
    xm, ym = X64.mean(axis=0), float(yg.mean())
    G = X64.T @ X64 / n - cp.outer(xm, xm)
    c = X64.T @ yg / n - xm * ym
    w_star = cp.linalg.solve(G + alpha * cp.eye(100), c)
    b_star = ym - float(xm @ w_star)
    del X64

    def f_reg(coef, b):
        r = yg - Xg @ cp.asarray(coef, dtype=cp.float32) - b
        return 0.5 * float(r @ r) / n + 0.5 * alpha * float(cp.asarray(coef) @ cp.asarray(coef))

    f_star = f_reg(w_star.get(), b_star)
    _PROBLEMS[n, alpha] = X, y, Xg, yg, lambda est: (f_reg(est.coef_, float(est.intercept_[0])) - f_star) / f_star
    return _PROBLEMS[n, alpha]


def sgd_sweep(n):
    """The register SGD kernel's launch geometry: warp workers an SM, ring of rows and group, against the epoch's
    fraction of the floor (plain and averaged) and the regressor's GPU time to a suboptimality of 1e-3."""
    import cupy as cp

    from skpar import ParallelSGDRegressor
    from skpar.backend._gpu_block import make_gpu_block
    from skpar.kernels._cuda import _TEAM, sgd_warps_kernel
    from skpar.kernels._sgd_cuda import sgd_epoch_gpu
    from skpar.parallel._sgd import SGDState

    _, _, Xg, yg, subopt = _regression_problem(n)
    d = Xg.shape[1]
    r = yg.astype(cp.float32)
    t_floor = gpu_time(lambda: Xg.T @ r)
    block = make_gpu_block(Xg, yg, None, 0)
    configs = [tuple(int(v) for v in (c + ":1").split(":")[:4]) for c in os.environ.get(
        "SWEEP_SGD", "3:8:4,3:16:4,3:16:8,3:32:8,4:16:8,6:16:8,8:16:8,6:32:8").split(",")]
    rows = []
    for per_sm, ring, group, team in configs:
        os.environ.update(SKPAR_SGD_WARPS_PER_SM=str(per_sm), SKPAR_SGD_RING=str(ring),
                          SKPAR_SGD_GROUP=str(group), SKPAR_SGD_RING_REGS=str(ring * 4), SKPAR_SGD_TEAM=str(team))
        cells = []
        for average in (False, True):
            est = ParallelSGDRegressor(solver="sgd", max_iter=1, tol=None, average=average,
                                       learning_rate="constant", random_state=0).fit(Xg[:200_000], yg[:200_000])
            plan = est._sgd_plan
            state = SGDState.zeros(1, d).payload()
            t = gpu_time(lambda plan=plan, state=state: sgd_epoch_gpu(block, state, plan, 1, 0))
            fn = sgd_warps_kernel(Xg.dtype, d, average, plan.loss, plan.schedule, plan.batch_size)
            cells += [t * 1e3, t_floor / t, int(fn.attributes["num_regs"])]
        workers = block.n_workers(sgd_warps_kernel(Xg.dtype, d, True, plan.loss, plan.schedule, plan.batch_size))
        found = time_to_target(lambda k: ParallelSGDRegressor(
            solver="sgd", alpha=1e-4, learning_rate="constant", average=True, max_iter=k, tol=None,
            random_state=0), Xg, yg, lambda est: subopt(est) <= 1e-3, 64)
        nw = _TEAM.get(id(sgd_warps_kernel(Xg.dtype, d, True, plan.loss, plan.schedule, plan.batch_size)), 1)
        rows.append((f"{per_sm} an SM ({workers} x {nw} warps), ring {ring}, group {group}, batch {plan.batch_size}",
                     *cells,
                     *(found[:2] if found else (None, ">64"))))
        print(*rows[-1], flush=True)
    for key in ("SKPAR_SGD_WARPS_PER_SM", "SKPAR_SGD_RING", "SKPAR_SGD_GROUP", "SKPAR_SGD_RING_REGS",
                "SKPAR_SGD_TEAM"):
        os.environ.pop(key, None)
    print(f"\nregister SGD kernel's geometry, {n:,} x {d} float32 (floor {t_floor * 1e3:.3f} ms): epoch ms, fraction "
          "of the floor and registers, plain then averaged; GPU time to a suboptimality of 1e-3")
    print_table(rows, ["workers an SM, ring, group", "ms", "floor", "regs", "avg ms", "avg floor", "avg regs",
                       "ttt s", "epochs"])


def defaults(n, n_jobs):
    """``ParallelSGDRegressor()`` with no arguments on the GPU and on the host's cores, same data: both solve the
    normal equations (exact); also the SGD default's time to the GPU's answer quality is in the ttt part."""
    import cupy as cp

    from skpar import ParallelSGDRegressor

    X, y, Xg, yg, subopt = _regression_problem(n)
    ParallelSGDRegressor().fit(Xg[:10_000], yg[:10_000])
    ParallelSGDRegressor().fit(X[:10_000], y[:10_000])
    gs, ge = timed_fit(lambda: ParallelSGDRegressor(), Xg, yg, repeats=5)
    cp.cuda.Device().synchronize()
    cs, ce = timed_fit(lambda: ParallelSGDRegressor(n_jobs=n_jobs, client="threads"), X, y, repeats=3)
    rows = [(f"ParallelSGDRegressor() {n:,}x100 f32", ge.solver_, gs, subopt(ge), ce.solver_, cs, subopt(ce),
             cs / gs)]
    del X, y, Xg, yg
    _PROBLEMS.clear()
    # the log loss's default (Newton's method on both sides): the classifier benchmark's data, half the rows
    from sklearn.datasets import make_classification

    from skpar import AveragedSGDClassifier

    m = n // 2
    Xc, yc = make_classification(m, 50, n_informative=20, random_state=0)
    Xc = Xc.astype(np.float32)
    Xcg, ycg = cp.asarray(Xc), cp.asarray(yc)
    make = lambda **kw: AveragedSGDClassifier(loss="log_loss", **kw)  # noqa: E731
    make().fit(Xcg[:10_000], ycg[:10_000])
    make().fit(Xc[:10_000], yc[:10_000])
    gs, ge = timed_fit(make, Xcg, ycg, repeats=5)
    cs, ce = timed_fit(lambda: make(n_jobs=n_jobs, client="threads"), Xc, yc, repeats=3)
    apart = float(np.abs(ge.coef_ - ce.coef_).max() / np.abs(ce.coef_).max())
    rows.append((f"AveragedSGDClassifier(loss='log_loss') {m:,}x50 f32 (coefficients apart, relative: {apart:.1e})",
                 ge.solver_, gs, None, ce.solver_, cs, None, cs / gs))
    print(f"\ndefaults: GPU against the thread backend on {n_jobs} cores (median of 5 and 3 fits)")
    print_table(rows, ["estimator, data", "GPU solver", "GPU s", "GPU subopt", "CPU solver", "CPU s", "CPU subopt",
                       "CPU / GPU"])


def dcd_sweep(n, d):
    """Rounds and time to a relative gap of 1e-3 for dense dual coordinate ascent, by warps at once and flush."""
    import cupy as cp

    from skpar import DualCoordinateAscentSVM
    from skpar._device import resident_warps

    rs = cp.random.RandomState(0)
    X = rs.standard_normal((n, d), dtype=cp.float32)
    w = rs.standard_normal(d, dtype=cp.float32)
    y = ((X @ w + 2.0 * rs.standard_normal(n, dtype=cp.float32)) > 0).astype(cp.int64)
    C = 1.0 / (n * 1e-5)
    rows = []
    for warps, flush in [(None, None), (32, 1), (128, 1), (64, 8), (256, 8), (1024, 8), (resident_warps(), 8),
                         (1024, 32)]:
        for key, v in (("SKPAR_DCD_WARPS", warps), ("SKPAR_DCD_FLUSH", flush)):
            if v is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(v)
        t = time.perf_counter()
        est = DualCoordinateAscentSVM(C=C, fit_intercept=False, tol=1e-3, max_iter=150, random_state=0).fit(X, y)
        rows.append((warps or "auto", flush or "auto", time.perf_counter() - t, est.n_iter_, est.duality_gap_))
    for key in ("SKPAR_DCD_WARPS", "SKPAR_DCD_FLUSH"):
        os.environ.pop(key, None)
    print(f"\ndual coordinate ascent, dense {n:,} x {d} float32, C = {C:.3g}, squared hinge: warps at once and flush")
    print_table(rows, ["warps", "flush rows", "seconds", "rounds", "relative gap"])


def sparse_dual(n, d, per_row, n_jobs):
    """The SVM on sparse rows, where TPA-SCD is meant to run: ``n`` x ``d`` float32 CSR rows of ``per_row`` values
    (one in each of ``per_row`` equal ranges of the features: no duplicates; unit norm, as tf-idf rows), labels from
    a random linear model with 10% of them flipped. Prints the dual epoch against the floor (cuSPARSE's ``X.T @ r``
    over the same CSR arrays), with and without the intercept's column (with it the rows in flight share a
    direction: ``kernels._dcd_cuda.in_flight``), and the time to a relative duality gap of 1e-3 of
    ``DualCoordinateAscentSVM(C=1, tol=1e-3)`` on the GPU and on the host's cores: with the intercept (the default
    there: Newton's method on the GPU, the dual on the CPU, whose 'auto' takes the dual where rows are not more
    than features) and without it (the dual on both sides)."""
    import cupy as cp
    import cupyx.scipy.sparse as cpsp
    import scipy.sparse as sp

    from skpar import DualCoordinateAscentSVM
    from skpar._losses import make_loss
    from skpar.backend._gpu_block import make_gpu_block
    from skpar.kernels._dcd_cuda import dcd_gpu, dcd_pass, in_flight

    rs = cp.random.RandomState(0)
    width = d // per_row
    indices = (cp.arange(per_row, dtype=cp.int32)[None, :] * width
               + rs.randint(0, width, size=(n, per_row)).astype(cp.int32)).ravel()
    data = rs.uniform(0.1, 1.0, size=(n, per_row)).astype(cp.float32)
    data /= cp.sqrt((data * data).sum(axis=1, keepdims=True))
    indptr = cp.arange(0, n * per_row + 1, per_row, dtype=cp.int32)
    X = cpsp.csr_matrix((data.ravel(), indices, indptr), shape=(n, d))
    w = rs.standard_normal(d, dtype=cp.float32)
    y = (X @ w > 0).astype(cp.int64)
    flip = rs.uniform(size=n) < 0.1
    y = cp.where(flip, 1 - y, y)
    nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    r = cp.ones(n, dtype=cp.float32)
    t_floor = gpu_time(lambda: X.T @ r)
    rows = [("X.T @ r (cuSPARSE, the floor)", t_floor * 1e3, nbytes / t_floor / 1e9, 1.0)]
    labels = y.astype(cp.float64)
    loss = make_loss("squared_hinge")
    for bias in (0.0, 1.0):
        block = make_gpu_block(X, labels, None, 0)
        W = np.zeros((1, d + 1))
        A = cp.zeros((1, n))

        def one_round(block=block, W=W, A=A, bias=bias):
            dcd_gpu(block, W, W.copy(), A, 1.0, loss, np.ones(1), np.ones(1), bias, 1.0, 1, 5)

        t_round = gpu_time(one_round, repeats=5)
        warps, damp = in_flight(block, bias)
        w0, wl = cp.zeros(d + 1), cp.zeros(d + 1)
        t = gpu_time(lambda block=block, w0=w0, wl=wl, A=A, bias=bias, warps=warps, damp=damp: dcd_pass(
            block, w0, wl, A[0], 1.0, loss, 1.0, 1.0, 1.0, bias, 1.0, warps, damp, 5, False), repeats=5)
        what = f"{'an' if bias else 'no'} intercept ({warps} warps, damping {damp:.1f})"
        rows.append((f"dual CD epoch, TPA-SCD style, {what}", t * 1e3, nbytes / t / 1e9, t_floor / t))
        rows.append((f"a round of one epoch, {what}: the model to the device and back", t_round * 1e3,
                     nbytes / t_round / 1e9, t_floor / t_round))
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"\nsparse dual passes over {n:,} x {d:,} float32 CSR, {per_row} values a row ({nbytes / 1e9:.2f} GB) "
          f"on {name}")
    print_table(rows, ["kernel", "ms", "GB/s", "fraction of floor"])
    Xh = sp.csr_matrix((X.data.get(), X.indices.get(), X.indptr.get()), shape=(n, d))
    yh = y.get()
    make = lambda **kw: DualCoordinateAscentSVM(**{"C": 1.0, "tol": 1e-3, "max_iter": 300,  # noqa: E731
                                                   "random_state": 0, **kw})
    out = []
    for intercept in (True, False):
        make(max_iter=2, fit_intercept=intercept).fit(X[:5000], y[:5000])
        make(max_iter=2, fit_intercept=intercept).fit(Xh[:5000], yh[:5000])
        fits = [("GPU", X, y, {}), ("CPU, its default blocks", Xh, yh, {"client": "threads"}),
                (f"CPU, {n_jobs} blocks", Xh, yh, {"client": "threads", "n_jobs": n_jobs})]
        for label, Xf, yf, kw in fits:
            secs, est = timed_fit(lambda kw=kw, fi=intercept: make(fit_intercept=fi, **kw), Xf, yf)
            out.append((f"{label}, fit_intercept={intercept}", est.solver_, secs, est.n_iter_, est.n_blocks_,
                        est.duality_gap_))
            print(out[-1], flush=True)
    print("\nDualCoordinateAscentSVM(C=1, tol=1e-3) on the same sparse rows (one fit each, after a warm-up)")
    print_table(out, ["where", "solver", "seconds", "passes or iterations", "blocks", "relative gap"])


def _pair(g, c):
    gs, ge = (g[0], g[1]) if g else (None, ">64")
    cs, ce = (c[0], c[1]) if c else (None, ">64")
    return gs, ge, cs, ce, (cs / gs if gs and cs else None)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="passes,ttt,defaults")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--n-jobs", type=int, default=os.cpu_count())
    p.add_argument("--estimators", default="reg,clf,lasso,svm")
    args = p.parse_args()
    parts = args.parts.split(",")
    if "passes" in parts:
        passes(args.rows, 100)
    if "sgd_sweep" in parts:
        sgd_sweep(args.rows)
    if "defaults" in parts:
        defaults(args.rows, args.n_jobs)
    if "dcd_sweep" in parts:
        dcd_sweep(args.rows // 5, 100)
    if "ttt" in parts:
        ttt(args.scale, args.n_jobs, args.estimators.split(","))
    if "sparse_dual" in parts:
        sparse_dual(args.rows // 20, 500_000, 30, args.n_jobs)


if __name__ == "__main__":
    main()
