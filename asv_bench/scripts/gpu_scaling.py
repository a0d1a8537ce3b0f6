"""Multi-GPU scaling on a dask-cuda LocalCUDACluster: time to target with 1, 2, 4, ... GPUs, one block per GPU.

Strong scaling: fixed data (``--rows``, default 200,000,000 x 100 float32) split over the GPUs; weak scaling:
``--rows-per-gpu`` rows on each GPU. The data is generated on the workers (each GPU makes its own rows, from the
same linear model with condition number 1e2 and noise 1), so nothing but models crosses the cluster. The estimator is
ParallelSGDRegressor in synchronous rounds (local epochs on each GPU, one average per epoch); the target is a relative
suboptimality of 1e-3 against the exact ridge solution (normal equations reduced on the GPUs); with
``--estimators clf`` also AveragedSGDClassifier with one-shot averaging (one round: each GPU fits alone, then one
average) on the labels ``y > mean(y)``, to a log loss within 1e-2 of the optimum (L-BFGS on the GPUs). Reported per
GPU count: epochs to target (fewest of 1, 2, 4, 8, ...), median time of 3 fits, rounds, bytes communicated, speed-up
and efficiency against one GPU (weak: t1 / tk; strong: t1 / (k tk)).

Usage: python asv_bench/scripts/gpu_scaling.py [--gpus 1,2] [--mode strong|weak|both] [--rows N] [--rows-per-gpu N]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

warnings.simplefilter("ignore", ConvergenceWarning)
D = 100
ALPHA = 1e-4
#: targets: the regressor's relative suboptimality (its CPU benchmark's), the classifier's relative objective gap
TARGETS = {"reg": 1e-3, "clf": 1e-2}


def _chunk(seed, rows):
    """Rows of X (float32) and y on this worker's GPU: x = z diag(sqrt(eig)), y = x w* + 1 + noise."""
    import cupy as cp

    rs = cp.random.RandomState(seed)
    scale = cp.sqrt(cp.logspace(0, -2, D)).astype(cp.float32)
    X = rs.standard_normal((rows, D), dtype=cp.float32)
    X *= scale  # in place: X may fill most of the GPU
    w = cp.random.RandomState(0).standard_normal(D).astype(cp.float32)
    y = X @ w + 1.0 + rs.standard_normal(rows, dtype=cp.float32)
    return X, y.astype(cp.float64)


def _part(pair, i):
    return pair[i]


def run(n_gpus, rows_per_gpu, repeats, estimators=("reg",)):
    import cupy as cp
    import dask
    import dask.array as da
    from dask_cuda import LocalCUDACluster
    from distributed import Client

    from skpar import ParallelSGDRegressor

    # device_memory_limit=0: no spilling to host (a block is most of a GPU, and it must stay there)
    with LocalCUDACluster(CUDA_VISIBLE_DEVICES=list(range(n_gpus)), device_memory_limit=0,
                          dashboard_address=None) as cluster, \
            Client(cluster) as client:
        workers = sorted(client.scheduler_info()["workers"])
        pairs = [client.submit(_chunk, 1 + k, rows_per_gpu, workers=[workers[k]], pure=False) for k in range(n_gpus)]
        xs = [client.submit(_part, p, 0, workers=[w]) for p, w in zip(pairs, workers, strict=True)]
        ys = [client.submit(_part, p, 1, workers=[w]) for p, w in zip(pairs, workers, strict=True)]
        X = da.concatenate([da.from_delayed(dask.delayed(x), (rows_per_gpu, D), dtype=np.float32,
                                            meta=cp.empty((0, D), dtype=cp.float32)) for x in xs])
        y = da.concatenate([da.from_delayed(dask.delayed(v), (rows_per_gpu,), dtype=np.float64,
                                            meta=cp.empty((0,))) for v in ys])
        X, y = client.persist([X, y])
        n = n_gpus * rows_per_gpu
        # the exact optimum, from moments reduced on the GPUs
        # float32 products: X.T @ y with float64 y would make a float64 copy of X
        G, c, xm, ym = client.compute([(X.T @ X) / n, (X.T @ y.astype(np.float32)) / n, X.mean(axis=0), y.mean()],
                                      sync=True)
        G, c, xm, ym = (np.asarray(cp.asnumpy(v), dtype=np.float64) for v in (G, c, xm, ym))
        A = G - np.outer(xm, xm) + ALPHA * np.eye(D)
        w_star = np.linalg.solve(A, c - xm * ym)
        b_star = float(ym - xm @ w_star)

        def objective(w, b):
            r = y - X @ cp.asarray(w, dtype=cp.float32) - b
            return float(client.compute((r * r).sum(), sync=True)) * 0.5 / n + 0.5 * ALPHA * float(w @ w)

        f_star = objective(w_star, b_star)

        def ttt(make, reached, name):
            def fit(k):
                est = make(k)
                t = time.perf_counter()
                est.fit(X, labels if name == "clf" else y)
                return time.perf_counter() - t, est

            fit(1)  # compile the kernels on every GPU outside the timings
            k = 1
            while True:
                _, est = fit(k)
                sub = reached(est)
                if sub <= TARGETS[name] or k >= 64:
                    break
                k *= 2
            times = [fit(k)[0] for _ in range(repeats)]
            _, est = fit(k)
            h = est.history_
            # the fixed part of a fit: the first round's end, less one round's length
            setup = h[0]["time"] - (h[1]["time"] - h[0]["time"]) if len(h) > 1 else float("nan")
            return {"estimator": name, "gpus": n_gpus, "rows": n, "epochs": k, "seconds": statistics.median(times),
                    "subopt": sub, "rounds": len(h), "bytes": sum(r.get("bytes_sent", 0) for r in h),
                    "setup": setup}

        out = []
        labels = None
        if "reg" in estimators:
            out.append(ttt(lambda k: ParallelSGDRegressor(solver="sgd", alpha=ALPHA, learning_rate="constant",
                                                          average=True,
                                                          max_iter=k, tol=None, random_state=0, client=client),
                           lambda est: (objective(est.coef_.astype(float), float(est.intercept_[0])) - f_star)
                           / f_star, "reg"))
        if "clf" in estimators:
            from scipy.optimize import minimize

            from skpar import AveragedSGDClassifier

            labels = client.persist((y > float(client.compute(y.mean(), sync=True))).astype(np.int64))
            t = 2.0 * labels.astype(np.float32) - 1.0

            def f_log(theta, grad=True):
                w = cp.asarray(theta[:-1], dtype=cp.float32)
                z = t * (X @ w + np.float32(theta[-1]))
                f = da.logaddexp(0, -z).mean()
                if not grad:
                    return float(client.compute(f, sync=True)) + 0.5 * ALPHA * float(theta[:-1] @ theta[:-1])
                sc = -t / (1.0 + da.exp(z)) / n
                fv, gx, gb = client.compute([f, X.T @ sc.astype(np.float32), sc.sum()], sync=True)
                g = np.append(np.asarray(cp.asnumpy(gx), dtype=float) + ALPHA * theta[:-1], float(gb))
                return float(fv) + 0.5 * ALPHA * float(theta[:-1] @ theta[:-1]), g

            fl_star = minimize(f_log, np.zeros(D + 1), jac=True, method="L-BFGS-B",
                               options={"maxiter": 100, "gtol": 1e-7}).fun
            out.append(ttt(lambda k: AveragedSGDClassifier(loss="log_loss", alpha=ALPHA, averaging="oneshot",
                                                           max_iter=k, tol=None, random_state=0, client=client),
                           lambda est: (f_log(np.append(est.coef_.ravel(), est.intercept_[0]).astype(float), False)
                                        - fl_star) / fl_star, "clf"))
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpus", default="1,2")
    p.add_argument("--mode", default="both", choices=["strong", "weak", "both"])
    p.add_argument("--rows", type=int, default=200_000_000)
    p.add_argument("--rows-per-gpu", type=int, default=50_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--estimators", default="reg,clf")
    args = p.parse_args()
    gpus = [int(g) for g in args.gpus.split(",")]
    names = {"reg": "ParallelSGDRegressor (sync rounds), relative suboptimality 1e-3",
             "clf": "AveragedSGDClassifier (one-shot averaging), log loss within 1e-2 of the optimum"}
    for mode in (["strong", "weak"] if args.mode == "both" else [args.mode]):
        results = []
        for g in gpus:
            rows = args.rows // g if mode == "strong" else args.rows_per_gpu
            for r in run(g, rows, args.repeats, args.estimators.split(",")):
                results.append(r)
                print(r, flush=True)
        for est in args.estimators.split(","):
            res = [r for r in results if r["estimator"] == est]
            if not res:
                continue
            base = res[0]
            print(f"\n{mode} scaling, {names[est]}, float32 x {D}")
            print(f"{'GPUs':>4} {'rows':>13} {'epochs':>6} {'seconds':>8} {'set-up s':>8} {'rounds':>6} "
                  f"{'MB sent':>8} {'speed-up':>8} {'efficiency':>10}")
            for r in res:
                speedup = base["seconds"] / r["seconds"]
                eff = speedup * base["gpus"] / r["gpus"] if mode == "strong" else speedup
                print(f"{r['gpus']:>4} {r['rows']:>13,} {r['epochs']:>6} {r['seconds']:>8.3f} {r['setup']:>8.3f} "
                      f"{r['rounds']:>6} {r['bytes'] / 1e6:>8.2f} {speedup:>8.2f} {eff:>10.2f}")


if __name__ == "__main__":
    main()
