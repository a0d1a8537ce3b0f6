"""The numba kernels against NumPy references: losses, one proximal step, dense versus CSR."""

import numpy as np
import pytest
import scipy.sparse as sp

from skpar._losses import CLASSIFICATION_LOSSES, CLASSIFIER_LOSSES, LOSSES, REGRESSION_LOSSES, make_loss
from skpar._penalties import Penalty
from skpar.backend._block import interleaved_shuffle
from skpar.kernels import _loss as kloss
from skpar.kernels import sgd_csr, sgd_dense


def _reference(name, p, y, eps):
    """The losses written out from their definitions (scikit-learn's SGD losses), independent of skpar's code."""
    r, z = p - y, p * y
    a = np.abs(r)
    return {
        "squared_error": 0.5 * r * r,
        "huber": np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps),
        "epsilon_insensitive": np.maximum(a - eps, 0.0),
        "squared_epsilon_insensitive": np.maximum(a - eps, 0.0) ** 2,
        "quantile": np.maximum(eps * -r, (eps - 1.0) * -r),  # pinball of the quantile eps
        "hinge": np.maximum(0.0, 1.0 - z),
        "squared_hinge": np.maximum(0.0, 1.0 - z) ** 2,
        "log_loss": np.logaddexp(0.0, -z),
        "modified_huber": np.where(z >= -1.0, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z),
        "perceptron": np.maximum(0.0, -z),
    }[name]


@pytest.mark.parametrize("name, classification", [(n, False) for n in REGRESSION_LOSSES]
                         + [(n, True) for n in CLASSIFICATION_LOSSES])
def test_each_loss_is_its_definition_and_its_derivative(name, classification):
    """One compiled definition per loss: its values are the textbook formula's, its derivative the formula's
    central difference (away from the kinks), and the scalar kernel, the NumPy methods and the kernels' weighted
    ``target_loss`` all read it. A classifier's regression loss (scikit-learn's ``SGDClassifier(loss='huber')``)
    is the regression formula at the target -1 or +1."""
    loss = make_loss(name, classification=classification, epsilon=0.3, quantile=0.3)
    assert (CLASSIFIER_LOSSES if classification else LOSSES)[name] is type(loss) and loss.margin == classification
    of_margin = classification and name not in REGRESSION_LOSSES  # a function of z = p y, kinks at 1, 0, -1
    rng = np.random.default_rng(0)
    p = rng.normal(size=400) * 3
    y = rng.choice([-1.0, 1.0], size=400) if loss.margin else rng.normal(size=400)
    p[:4] = [40.0, -40.0, 0.999, -0.999] if of_margin else [40.0, -40.0, y[2] + 0.299, y[3] - 0.301]
    np.testing.assert_allclose(loss.value(p, y), _reference(name, p, y, 0.3), rtol=1e-12, atol=1e-14)
    h = 1e-6
    kinks = np.array([1.0, 0.0, -1.0]) if of_margin else np.array([0.0, 0.3, -0.3])
    far = np.abs((p * y if of_margin else p - y)[:, None] - kinks).min(axis=1) > 10 * h
    fd = (_reference(name, p + h, y, 0.3) - _reference(name, p - h, y, 0.3)) / (2 * h)
    np.testing.assert_allclose(loss.derivative(p, y)[far], fd[far], rtol=1e-6, atol=1e-6)
    weights = np.array([2.0]), np.array([0.5])
    for a, b in zip(p[:50], y[:50], strict=True):
        target = (1.0 if b > 0 else 0.0) if loss.margin else b
        lv, g = kloss.target_loss(loss.kernel, loss.margin, a, target, 0, 1, loss.param, *weights)
        wt = (2.0 if b > 0 else 0.5) if loss.margin else 1.0
        assert lv == wt * loss.value(a, b) and g == wt * loss.derivative(a, b)


def test_a_loss_is_one_class_and_reaches_the_gpu_source():
    """What a new loss provides (its CUDA text, its dual box where it has one) lands in the GPU source; the
    estimators' choices come from the registry."""
    from skpar.kernels._cuda_source import source

    for cls in LOSSES.values():
        text = source("sgd_wild", "double", cls, CSR=0)
        assert cls.cuda in text and "__" not in text.replace("__device__", "").replace("__global__", "").replace(
            "__restrict__", "").replace("__forceinline__", "").replace("__shfl_xor_sync", "").replace(
            "__ldcg", "")
    dual = source("dcd_wild", "double", LOSSES["squared_hinge"], CSR=1)
    assert "0.5 > 0.0 ? 0.5 / Ci" in dual and "double U = 0 ? Ci" in dual
    softmax = source("sgd_wild_softmax", "float", None, CSR=1, K=7)  # the softmax's K outputs, fixed at compile time
    assert "#define K 7" in softmax and "#define CSR 1" in softmax and "sgd_wild_softmax(" in softmax
    assert "__" not in softmax.replace("__device__", "").replace("__global__", "").replace("__restrict__", "").replace(
        "__forceinline__", "").replace("__shfl_xor_sync", "").replace("__ldcg", "")
    assert set(REGRESSION_LOSSES) >= {"squared_error", "huber"} and "hinge" in CLASSIFICATION_LOSSES


def test_a_loss_is_the_same_compiled_function_in_every_process():
    """The kernels are compiled per loss and cached on disk under the loss function's identity: a loss's function
    pickled in one process must unpickle as the live one in another, or every fresh process (every Dask worker,
    every CI run) recompiles every kernel."""
    import pickle
    import subprocess
    import sys

    blobs = {name: pickle.dumps(cls._kernel).hex() for name, cls in LOSSES.items()}
    code = (
        "import pickle, sys\n"
        "from skpar._losses import LOSSES\n"
        f"blobs = {blobs!r}\n"
        "bad = [n for n, b in blobs.items() if pickle.loads(bytes.fromhex(b)) is not LOSSES[n]._kernel]\n"
        "sys.exit(len(bad))\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def _loss(name):
    # the margin an int and the intercept's factor a float (below), as the tasks pass them (parallel/_tasks.py):
    # numba compiles a kernel again for a bool in their place
    loss = make_loss(name)
    return loss.kernel, int(loss.margin)


def _args(n_steps, batch, l2, l1, avg_start=1 << 62, loss="squared_error", n_out=1):
    # t0, batch, n_steps, loss, margin, eps, pos_w, neg_w, l2, l1, intercept, schedule, eta, power_t, sps, warmup,
    # eta_start, avg_start, blowup
    w = np.ones(n_out)
    return (0, batch, n_steps, *_loss(loss), 0.1, w, w, l2, l1, 1.0, 0, 0.05, 0.25, float(batch), 0.0, 0.05, avg_start,
            1e10)


def _model(w, b=0.0):
    w = np.atleast_2d(w)
    return (w, np.full(w.shape[0], b), np.zeros_like(w), np.zeros(w.shape[0]), 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_steps_are_proximal_minibatch_steps(dtype):
    rng = np.random.default_rng(1)
    n, d, bs = 64, 7, 8
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.normal(size=n)
    sw = rng.uniform(0.5, 2, size=n)
    rows = rng.permutation(n).astype(np.int64)
    l2, l1, eta = 0.1, 0.02, 0.05
    w, b = rng.normal(size=d), 0.3
    out = sgd_dense(X, y, sw, rows, *_model(w, b), *_args(3, bs, l2, l1), False)
    # reference: three proximal steps in NumPy, the last one's l1 prox left to the caller
    wr, br = w.copy(), b
    for s in range(3):
        idx = rows[s * bs:(s + 1) * bs]
        g = sw[idx] * (X[idx] @ wr + br - y[idx])
        wr = (1 - eta * l2) * wr - eta * (X[idx].T.astype(float) @ g) / bs
        br -= eta * g.sum() / bs
        if s < 2:
            wr = Penalty(1.0, 1.0).prox_l1(wr, eta * l1)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out[0][0], wr, rtol=rtol, atol=1e-7 if dtype == np.float32 else 1e-14)
    assert out[1][0] == pytest.approx(br, rel=rtol)
    assert out[6] == 3 * bs and out[7] == 3 and not out[8] and out[9] == eta


@pytest.mark.parametrize("penalty", [(0.0, 0.0), (1e-2, 0.0), (0.0, 5e-3), (1e-2, 1e-3)])
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_csr_kernel_matches_dense(penalty, batch, task):
    rng = np.random.default_rng(2)
    n, d = 300, 40
    X = sp.random(n, d, density=0.2, format="csr", random_state=3)
    loss, n_out, y = {
        "regression": ("squared_error", 1, rng.normal(size=n)),
        "binary": ("log_loss", 1, rng.integers(0, 2, size=n).astype(float)),
        "multiclass": ("hinge", 3, rng.integers(0, 3, size=n).astype(float)),
    }[task]
    sw = np.ones(n)
    rows = rng.permutation(n).astype(np.int64)
    w0 = rng.normal(size=(n_out, d)) * 0.1
    args = (rows, *_model(w0), *_args(40, batch, *penalty, avg_start=10, loss=loss, n_out=n_out))
    dense = sgd_dense(X.toarray(), y, sw, *args, False)
    csr = sgd_csr(X.data, X.indices, X.indptr, y, sw, *args)
    # lazy l1 thresholds commute with the l2 scale only to first order in eta * l2
    tol = 1e-12 if penalty[1] == 0 or penalty[0] == 0 else 1e-5
    for a, b in zip(dense[:5], csr[:5], strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert dense[6:] == csr[6:]


@pytest.mark.parametrize("l2", [1e-2, 0.3], ids=["no-fold", "fold"])
def test_lazy_csr_average_is_the_dense_average(l2):
    """On CSR data without l1 the Polyak average is kept lazily (a sum ``A V + S``); over two calls (the second
    resumes an average of n_avg > 0 iterates) and through the rescaling of ``V`` (``l2 = 0.3``: the scale falls
    below 1e-6 within the call) it equals the dense kernel's running mean."""
    rng = np.random.default_rng(5)
    n, d = 400, 60
    X = sp.random(n, d, density=0.1, format="csr", random_state=6)
    y = rng.normal(size=n)
    sw = rng.uniform(0.5, 2, size=n)
    rows = rng.permutation(n).astype(np.int64)
    args = list(_args(400, 1, l2, 0.0, avg_start=7))
    args[12] = args[16] = 0.2  # with l2 = 0.3 the shrink 1 - eta l2 = 0.94 rescales V after 224 of the 400 steps
    w0 = rng.normal(size=d) * 0.1
    outs = {}
    for name, kernel, data, extra in [("dense", sgd_dense, (X.toarray(),), (False,)),
                                      ("csr", sgd_csr, (X.data, X.indices, X.indptr), ())]:
        first = kernel(*data, y, sw, rows, *_model(w0), *args, *extra)
        resume = list(args)
        resume[0] = first[7]  # the global step count goes on
        outs[name] = kernel(*data, y, sw, rows[::-1].copy(), *first[:5], *resume, *extra)
    for a, b in zip(outs["dense"][:5], outs["csr"][:5], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert outs["dense"][4] == outs["csr"][4] == 2 * 400 - 7
    assert outs["csr"][5] == pytest.approx(outs["dense"][5], rel=1e-10)


def test_divergence_is_reported_not_returned():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 5)) * 100
    y = rng.normal(size=500)
    args = list(_args(500, 1, 0.0, 0.0))
    args[12] = 10.0  # a step size far too large
    args[-1] = 1e4  # blow-up threshold per sample
    out = sgd_dense(X, y, np.ones(500), np.arange(500), *_model(np.zeros(5)), *args, False)
    assert out[8]
    assert out[7] < 500


@pytest.mark.parametrize("n", [0, 1, 31, 32, 33, 1000, 1025])
def test_interleaved_shuffle_is_a_permutation(n):
    p = interleaved_shuffle(n, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(p), np.arange(n))
    if n > 100:
        assert not np.array_equal(p, np.arange(n))


@pytest.mark.parametrize("n", [0, 1, 31, 33, 1025, 5000])
def test_interleaved_order_reads_streams_of_chunks(n):
    """The compiled order is the one its definition gives: chunks of 32 rows in a permutation drawn from the seed,
    read 32 chunks at a time, row 0 of each, then row 1 of each, ...; and it gathers the block's rows."""
    from skpar.backend._block import interleaved_take

    chunk, streams = 32, 32
    perm = np.random.default_rng(3).permutation(-(-n // chunk))
    expected = []
    for g in range(0, len(perm), streams):
        starts = perm[g:g + streams] * chunk
        for off in range(chunk):
            expected += [s + off for s in starts if s + off < n]
    np.testing.assert_array_equal(interleaved_shuffle(n, np.random.default_rng(3)), expected)
    rows = np.arange(n, dtype=np.int64) * 7 + 5
    np.testing.assert_array_equal(interleaved_take(rows, np.random.default_rng(3)), rows[expected])


def test_row_slice_shares_memory():
    from skpar.backend import row_slice

    X = sp.random(100, 30, density=0.2, format="csr", random_state=0)
    S = row_slice(X, 20, 55)
    np.testing.assert_array_equal(S.toarray(), X[20:55].toarray())
    assert np.shares_memory(S.data, X.data) and np.shares_memory(S.indices, X.indices)
    D = np.arange(12.0).reshape(6, 2)
    assert np.shares_memory(row_slice(D, 1, 4), D)


def test_row_groups_deal_rows_stored_class_by_class():
    """Contiguous ranges (views) for rows in no particular order; rows dealt in turn (copies, each block the same
    mix) for a file stored class by class, and for targets sorted by value; every row in exactly one block."""
    from skpar.backend import row_groups, take_rows

    rng = np.random.default_rng(0)
    shuffled = rng.integers(0, 5, size=1000).astype(float)
    assert all(g.step is None for g in row_groups(shuffled, 3))
    for y in (np.sort(shuffled), np.sort(rng.normal(size=1000))):
        groups = row_groups(y, 3)
        assert [(g.start, g.step) for g in groups] == [(0, 3), (1, 3), (2, 3)]
        assert np.array_equal(np.sort(np.concatenate([np.arange(1000)[g] for g in groups])), np.arange(1000))
    X = sp.random(10, 4, density=0.5, format="csr", random_state=0)
    np.testing.assert_array_equal(take_rows(X, slice(1, None, 3)).toarray(), X.toarray()[1::3])
    D = np.arange(20.0).reshape(10, 2)
    part = take_rows(D, slice(1, None, 3))
    assert part.flags.c_contiguous and np.array_equal(part, D[1::3])


def test_row_groups_deal_a_rare_class_sorted_to_the_end():
    """9% of the rows positive (ijcnn1: 9.7%), the file sorted by label: the first half holds no positive, a total
    variation of 0.09 from the whole mix, which the total-variation rule alone (0.1) let stand. The class's share (none
    against a tenth, far beyond a binomial spread) now deals the rows; a shuffled file with the same rare class, and
    blocks whose share of it is off by chance only, keep contiguous ranges."""
    from skpar.backend import row_groups

    rng = np.random.default_rng(0)
    y = np.zeros(50_000)
    y[rng.choice(50_000, size=4_500, replace=False)] = 1.0
    assert all(g.step is None for g in row_groups(y, 2))
    assert all(g.step is None for g in row_groups(y, 16))
    assert [(g.start, g.step) for g in row_groups(np.sort(y), 2)] == [(0, 2), (1, 2)]
    rare = np.zeros(2_000)
    rare[rng.choice(2_000, size=10, replace=False)] = 1.0  # five a block expected: a block with two is chance
    assert all(g.step is None for g in row_groups(rare, 2))


def test_row_groups_draw_rows_stored_in_an_order_of_their_columns():
    """Rows stored in an order of their columns (a drift along the file, as ijcnn1's engine signals; the targets
    in no order): each block takes a random K-th of the rows, the same on every call, every row in one block; the
    same rows in no particular order keep contiguous ranges; without X the columns are not read."""
    from skpar.backend import contiguous, row_groups, take_rows

    rng = np.random.default_rng(0)
    n, d = 20_000, 6
    X = rng.normal(size=(n, d))
    X[:, 0] += np.linspace(0.0, 3.0, n)  # the first column drifts along the file
    y = rng.integers(0, 2, size=n).astype(float)
    for data in (X, sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))):
        groups = row_groups(y, 4, data)
        assert not any(contiguous(g) for g in groups)
        assert np.array_equal(np.sort(np.concatenate(groups)), np.arange(n))
        assert all(np.array_equal(a, b) for a, b in zip(groups, row_groups(y, 4, data), strict=True))
        assert all(contiguous(g) for g in row_groups(y, 4, data[rng.permutation(n)]))
        part = take_rows(data, groups[1])
        dense = part.toarray() if sp.issparse(part) else part
        np.testing.assert_array_equal(dense, (data.toarray() if sp.issparse(data) else data)[groups[1]])
    assert all(contiguous(g) for g in row_groups(y, 4))


def test_blocks_of_rows_stored_in_an_order_reach_the_optimum():
    """Rows stored in two regimes (the first half's labels clean, the second's 40% flipped; the second half's last
    column, which the labels ignore, shifted by 2), with the same mix of labels in both: local SGD on 4 random
    blocks reaches the log loss's optimum (9e-4 above it after 16 epochs); on contiguous blocks (the commit before)
    it stayed 0.39 above, each block drifting to its own regime's optimum every epoch (ijcnn1: 2.2e-2 on 2 blocks,
    docs/benchmarks.md)."""
    from sklearn.linear_model import LogisticRegression

    from skpar import AveragedSGDClassifier

    rng = np.random.default_rng(1)
    n, d, alpha = 40_000, 10, 1e-4
    X = rng.normal(size=(n, d))
    X[n // 2:, -1] += 2.0
    w = rng.normal(size=d)
    w[-1] = 0.0
    flip = np.zeros(n, dtype=bool)
    flip[n // 2:] = rng.random(n - n // 2) < 0.4
    y = np.where(flip, X @ w <= 0, X @ w > 0).astype(float)
    ref = LogisticRegression(C=1.0 / (alpha * n), tol=1e-10, max_iter=1000).fit(X, y)

    def objective(coef, b):
        z = (2 * y - 1) * (X @ coef.ravel() + b[0])
        return float(np.logaddexp(0, -z).mean()) + 0.5 * alpha * float(coef.ravel() @ coef.ravel())

    best = objective(ref.coef_, ref.intercept_)
    est = AveragedSGDClassifier(loss="log_loss", solver="sgd", n_blocks=4, tol=None, max_iter=16,
                                random_state=0).fit(X, y)
    assert (objective(est.coef_, est.intercept_) - best) / best < 5e-3


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_hogwild_one_row_path_is_the_batch_path(penalty, n_out):
    """One thread, batch size 1 (weighted rows, invscaling with a warm-up): the direct one-row Hogwild! steps, an
    output at a time, equal the buffered mini-batch path's, for regression and for one-vs-rest (three outputs,
    log loss)."""
    from skpar.kernels import hogwild_csr

    rng = np.random.default_rng(2)
    X = sp.random(400, 60, density=0.15, random_state=2, format="csr")
    if n_out == 1:
        y, loss = np.asarray(X @ rng.normal(size=60)).ravel() + 0.1 * rng.normal(size=400), "squared_error"
    else:
        y, loss = rng.integers(0, 3, size=400).astype(float), "log_loss"
    sw = rng.uniform(0.5, 2.0, size=400)
    inv_q = 1.0 / np.clip(np.asarray((X != 0).mean(axis=0)).ravel(), 1e-3, 1.0)
    l1 = 1e-3 if penalty == "elasticnet" else 0.0
    ones = np.ones(n_out)
    rows = np.random.default_rng(3).permutation(400)
    out = []
    for distinct in (False, True):
        W, B = np.full((n_out, 60), 0.01), np.zeros(n_out)
        res = hogwild_csr(X.data, X.indices, X.indptr, y, sw, rows, W, B, inv_q, 3, 1, 1 << 62, *_loss(loss), 0.1,
                          ones, ones, 1e-3, l1, 1.0, 1, 0.05 if n_out == 1 else 0.5, 0.25, 1.0, 50.0, 0.01, 1e12,
                          distinct)
        out.append((W, B, res))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12)
    assert out[0][2][1:4] == out[1][2][1:4] and np.isclose(out[0][2][0], out[1][2][0], rtol=1e-12)
    assert np.abs(out[1][0] - 0.01).max() > 0.05  # the steps did move every output's weights


@pytest.mark.parametrize("n_out", [1, 3])
def test_hogwild_write_prefetch_changes_no_step(n_out):
    """Prefetching the next row's weights for writing (done when threads share the model) is a hint: the one-row
    Hogwild! steps are the same to the bit with it and without it."""
    from skpar.kernels._hogwild import _hogwild_csr_rows

    rng = np.random.default_rng(5)
    X = sp.random(300, 50, density=0.2, random_state=5, format="csr")
    y = rng.integers(0, 3, size=300).astype(float) if n_out == 3 else np.asarray(X @ rng.normal(size=50)).ravel()
    inv_q = 1.0 / np.clip(np.asarray((X != 0).mean(axis=0)).ravel(), 1e-3, 1.0)
    ones = np.ones(n_out)
    rows = np.random.default_rng(6).permutation(300)
    loss = "log_loss" if n_out == 3 else "squared_error"
    out = []
    for prefetch in (False, True):
        W, B = np.zeros((n_out, 50)), np.zeros(n_out)
        res = _hogwild_csr_rows(X.data, X.indices, X.indptr, y, np.ones(300), rows, W, B, inv_q, 0, 1 << 62,
                                *_loss(loss), 0.1, ones, ones, 1e-3, 1e-4, 1.0, 0, 0.05, 0.25, 1.0, 0.0, 0.05, 1e12,
                                prefetch)
        out.append((W, B, res))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2] and np.abs(out[1][0]).max() > 0.05


def test_replica_folds_keep_every_step():
    """A fold adds the replica's progress since its last fold to the shared weights and restarts the replica and
    its snapshot from the sum: folds of several replicas, in any order, keep every replica's steps once."""
    from skpar.kernels._replica import fold_replica

    G = np.zeros((2, 4))
    W = [np.full((2, 4), 1.0), np.full((2, 4), 2.0), np.full((2, 4), 4.0)]  # progress 1, 2 and 4 from G = 0
    S = [np.zeros((2, 4)) for _ in W]
    fold_replica(W[0], S[0], G)
    assert (G == 1).all() and (W[0] == 1).all() and (S[0] == 1).all()
    W[0] += 8.0  # replica 0 steps on
    fold_replica(W[1], S[1], G)
    assert (G == 3).all() and (W[1] == 3).all()
    fold_replica(W[0], S[0], G)  # its 8 more since its fold, not 9
    assert (G == 11).all() and (W[0] == 11).all() and (S[0] == 11).all()
    fold_replica(W[2], S[2], G)
    assert (G == 15).all()
    fold_replica(W[1], S[1], G)  # nothing new: a fold without progress changes nothing
    assert (G == 15).all() and (W[1] == 15).all()


@pytest.mark.parametrize("n_out", [1, 3])
def test_hogwild_replica_alone_is_hogwild(n_out):
    """One replica folding into untouched shared weights after every period and at the end gives the Hogwild!
    kernel's model on the same rows (to rounding: the folds add W - S back onto G, and the intercepts' changes
    onto the shared ones on their shorter period)."""
    from skpar.kernels import hogwild_csr
    from skpar.kernels._replica import hogwild_csr_replica

    rng = np.random.default_rng(7)
    X = sp.random(400, 60, density=0.2, random_state=7, format="csr")
    y = rng.integers(0, 3, size=400).astype(float) if n_out == 3 else np.asarray(X @ rng.normal(size=60)).ravel()
    inv_q = 1.0 / np.clip(np.asarray((X != 0).mean(axis=0)).ravel(), 1e-3, 1.0)
    ones = np.ones(n_out)
    rows = rng.permutation(400)
    loss = "log_loss" if n_out == 3 else "squared_error"
    common = (*_loss(loss), 0.1, ones, ones, 1e-3, 1e-4, 1.0, 1, 0.05, 0.25, 1.0, 20.0, 0.01, 1e12, True)
    W, B = np.zeros((n_out, 60)), np.zeros(n_out)
    ref = hogwild_csr(X.data, X.indices, X.indptr, y, np.ones(400), rows, W, B, inv_q, 0, 1, 1 << 62, *common)
    G, GB = np.zeros((n_out, 60)), np.zeros(n_out)
    Wr, S = G.copy(), G.copy()
    out = hogwild_csr_replica(X.data, X.indices, X.indptr, y, np.ones(400), rows, Wr, S, G, GB, 37, 11, inv_q, 0,
                              1, *common)
    assert out[1:4] == ref[1:4] and np.isclose(out[0], ref[0], rtol=1e-10) and out[4] == ref[4]
    np.testing.assert_allclose(G, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(GB, B, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(Wr, G)  # the last fold restarted the replica from the shared weights
    assert np.abs(W).max() > 0.05


def test_replica_fold_period_is_bounded_by_the_curvature():
    """R threads each adding a period of stale progress on a coordinate of curvature h overshoot near
    R * period * eta * h = 1: the period is capped well below that, and never below one step."""
    from skpar.kernels._replica import STABLE_DELAY, stable_period

    assert stable_period(500, 2, 1e-3, 1e-3) == 500  # rare columns: the asked period stands
    p = stable_period(500, 16, 1e-3, 1.0)  # a column in every row, 16 threads
    assert 1 <= p < 500 and 16 * p * 1e-3 * 1.0 <= STABLE_DELAY
    assert stable_period(500, 16, 10.0, 1.0) == 1


def test_column_sq_sums_are_bincount():
    from skpar.kernels import column_sq_sums_csr

    X = sp.random(500, 300, density=0.05, format="csr", random_state=1, dtype=np.float32)
    np.testing.assert_allclose(column_sq_sums_csr(X.data, X.indices, 300),
                               np.bincount(X.indices, weights=X.data.astype(float) ** 2, minlength=300), rtol=1e-12)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_column_counts_are_bincount(index_dtype):
    """The Hogwild! set-up's column counts are numpy's bincount of the CSR column indices, empty columns included."""
    from skpar.kernels import column_counts_csr

    X = sp.random(500, 300, density=0.05, format="csr", random_state=0)
    X[:, 7] = 0  # an empty column
    X.eliminate_zeros()
    indices = X.indices.astype(index_dtype)
    counts = column_counts_csr(indices, 300)
    np.testing.assert_array_equal(counts, np.bincount(indices, minlength=300))
    assert counts[7] == 0 and counts.sum() == X.nnz


@pytest.mark.parametrize("nc", [1, 2, 4, 8, 16, 32])
@pytest.mark.parametrize("batch", [1, 2, 3, 4, 6, 8, 12, 16, 17, 64])
def test_sgd_ring_groups_divide_the_batch(nc, batch):
    """The register kernel's groups share one model only if they divide the batch; the ring holds two groups at
    least and about 64 registers of rows. Host logic: no GPU needed."""
    from skpar.kernels._cuda import SGD_GROUP, SGD_RING, sgd_ring

    ring, g = sgd_ring(nc, batch)
    assert batch % g == 0 and ring % g == 0 and ring >= 2 * g
    assert 1 <= g <= SGD_GROUP and ring <= max(SGD_RING, 2)
    assert ring * nc <= 64 or ring == 2


def test_sparse_arrays_view_int32_indices_as_unsigned_and_leave_others():
    from skpar.kernels import sparse_arrays

    X = sp.random(50, 40, density=0.2, format="csr", random_state=0)
    X.indices = X.indices.astype(np.int32)
    data, indices, indptr = sparse_arrays(X)
    assert indices.dtype == np.uint32 and np.shares_memory(indices, X.indices) and data is X.data
    np.testing.assert_array_equal(indices, X.indices)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    assert sparse_arrays(X64)[1] is X64.indices


@pytest.mark.parametrize("make", ["svm", "lasso"])  # (the SGD kernels' int64 compile alone took 11 s)
def test_estimators_fit_int64_and_int32_indices_alike(make):
    """The unsigned view is taken for int32 indices only: int64 ones (a matrix past 2**31 values) go to the
    kernels signed, and both give the same model."""
    from sklearn.datasets import make_classification

    from skpar import DualCoordinateAscentSVM, ShotgunLasso

    X, y = make_classification(n_samples=300, n_features=400, n_informative=10, random_state=0)
    X = sp.csr_matrix(np.where(np.abs(X) < 1.0, 0.0, X))
    X64 = X.copy()
    X64.indices, X64.indptr = X64.indices.astype(np.int64), X64.indptr.astype(np.int64)
    est = {"svm": lambda: DualCoordinateAscentSVM(random_state=0, tol=1e-8),
           "lasso": lambda: ShotgunLasso(alpha=0.01, random_state=0, n_jobs=1)}[make]
    a = est().fit(X, y)
    b = est().fit(X64, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("bias", [0.0, 1.5])
def test_newton_passes_are_products_with_the_rows(n_out, bias):
    """The margins (feature-major for several outputs) and the loss term's gradient X^T D of the Newton and L-BFGS
    rounds, and the Lasso's working-set correlations, against scipy's products."""
    from skpar.kernels import sparse_arrays
    from skpar.kernels._cd import column_dots_csc
    from skpar.kernels._newton import margins_csr, transposed_product_csr, transposed_product_dense

    rng = np.random.default_rng(n_out)
    X = sp.random(60, 25, density=0.2, format="csr", random_state=n_out)
    W = rng.normal(size=(n_out, 26 if bias else 25))
    out = np.empty((n_out, 60))
    margins_csr(*sparse_arrays(X), W, bias, out)
    expect = (X @ W[:, :25].T).T + (bias * W[:, 25:] if bias else 0.0)
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)
    D = rng.normal(size=(n_out, 60))
    D[:, ::7] = 0.0  # rows without a derivative are skipped on one output
    G = np.ones((n_out, 25))
    transposed_product_csr(*sparse_arrays(X), D, G)
    np.testing.assert_allclose(G, 1.0 + (X.T @ D.T).T, rtol=1e-12, atol=1e-12)
    Xc, v, cols = X.tocsc(), rng.normal(size=60), np.array([3, 0, 24, 7], dtype=np.int64)
    np.testing.assert_allclose(column_dots_csc(*sparse_arrays(Xc), cols, v), Xc[:, cols].T @ v, rtol=1e-12)
    for dtype in (np.float64, np.float32):  # dense rows: float32 read as they are, into a strided output
        Xd = X.toarray().astype(dtype)
        G = np.ones((n_out, 26))
        transposed_product_dense(Xd, D, G[:, :25])
        np.testing.assert_allclose(G[:, :25], 1.0 + D @ Xd.astype(np.float64), rtol=1e-12, atol=1e-12)
        assert (G[:, 25] == 1.0).all()


@pytest.mark.parametrize("loss_name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_certificate_kernel_is_the_duality_gaps_sums(loss_name, sparse):
    """The read-only certificate kernel gives the primal losses and dual terms written out in NumPy, at any pair
    ``(W, A)`` (with the bias column, weights by class and sample, and a sample of weight 0 left out)."""
    from skpar.kernels import (
        certificate_csr,
        certificate_csr_outputs,
        certificate_dense,
        certificate_dense_outputs,
        sparse_arrays,
    )

    rng = np.random.default_rng(3)
    n, d, K, C, bias = 120, 9, 3, 0.7, 1.5
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.4)
    y = rng.integers(0, K, size=n).astype(np.float64)
    sw = rng.random(n) + 0.5
    sw[5] = 0.0
    W = rng.normal(size=(K, d + 1))
    A = rng.random((K, n))
    pos, neg = rng.random(K) + 0.5, rng.random(K) + 0.5
    loss = make_loss(loss_name)
    args = (y, sw, W, A, C, loss.kernel, loss.dual, pos, neg, bias)
    Xs = sp.csr_matrix(X)
    got = certificate_csr(*sparse_arrays(Xs), *args) if sparse else certificate_dense(X, *args)
    # the rows read once for every output (W in Fortran order) give the same sums
    rows_args = (y, sw, np.asfortranarray(W), *args[3:])
    rows_once = (certificate_csr_outputs(*sparse_arrays(Xs), *rows_args) if sparse
                 else certificate_dense_outputs(X, *rows_args))
    np.testing.assert_allclose(rows_once, got, rtol=1e-12)
    T = np.where(y[None, :] == np.arange(K)[:, None], 1.0, -1.0)
    Ci = C * sw[None, :] * np.where(T > 0, pos[:, None], neg[:, None])
    z = T * (W[:, :d] @ X.T + bias * W[:, d:])
    hinge = np.maximum(0.0, 1.0 - z)
    primal = (Ci * (hinge if loss_name == "hinge" else hinge ** 2)).sum()
    D = np.where(Ci > 0, 0.0 if loss_name == "hinge" else 0.5 / np.where(Ci > 0, Ci, 1.0), 0.0)
    dual = np.where(Ci > 0, A - 0.5 * D * A * A, 0.0).sum()
    np.testing.assert_allclose(got, (primal, dual), rtol=1e-12)


@pytest.mark.parametrize("loss_name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("bias", [0.0, 1.5])
def test_outputs_kernel_is_each_outputs_own_passes(loss_name, sparse, bias):
    """A pass of several one-vs-rest outputs with the rows outermost (each row read once for all of them) takes for
    every output the steps of that output's own pass in the same order: the same dual variables, weights,
    shrinking flags and thresholds, and certificate sums, over six passes with shrinking (weights by class and
    sample, a sample of weight 0 left out). Only the margins' order of summation differs."""
    from skpar.kernels import dcd_csr, dcd_csr_outputs, dcd_dense, dcd_dense_outputs, sparse_arrays

    rng = np.random.default_rng(5)
    n, d, K, C, sigma = 150, 12, 4, 0.05, 1.3
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.5)
    y = rng.integers(0, K, size=n).astype(np.float64)
    sw = rng.random(n) + 0.5
    sw[7] = 0.0
    pos, neg = rng.random(K) + 0.5, rng.random(K) + 0.5
    loss = make_loss(loss_name)
    sqn = (X * X).sum(axis=1)
    Xs = sp.csr_matrix(X)
    dw = d + (1 if bias else 0)
    W0 = rng.normal(size=(K, dw)) * 0.1
    Wl_all, A_all = np.array(W0, order="F"), np.zeros((K, n))
    act_all, th_all = np.ones((K, n), dtype=np.bool_), np.tile([np.inf, -np.inf, np.inf, -np.inf], (K, 1))
    one = [(W0[k:k + 1].copy(), np.zeros((1, n)), np.ones((1, n), dtype=np.bool_),
            np.array([np.inf, -np.inf, np.inf, -np.inf])) for k in range(K)]
    for p in range(6):
        order = rng.permutation(n)
        certify = p == 0
        common = (C, loss.kernel, loss.dual)
        tail = (bias, sigma, certify)
        if sparse:
            got = dcd_csr_outputs(*sparse_arrays(Xs), sqn, y, sw, order, np.asfortranarray(W0), Wl_all, A_all,
                                  *common, pos, neg, *tail, act_all, th_all)
        else:
            got = dcd_dense_outputs(X, sqn, y, sw, order, np.asfortranarray(W0), Wl_all, A_all, *common, pos, neg,
                                    *tail, act_all, th_all)
        want = np.zeros(2)
        for k, (Wl, A, act, th) in enumerate(one):
            yk = (y == k).astype(np.float64)  # the one output's targets: 1 for its class
            args = (sqn, yk, sw, order, W0[k:k + 1], Wl, A, *common, pos[k:k + 1], neg[k:k + 1], *tail, act, th)
            want += dcd_csr(*sparse_arrays(Xs), *args) if sparse else dcd_dense(X, *args)
        np.testing.assert_allclose(got, want, rtol=1e-10)
        for k, (Wl, A, act, th) in enumerate(one):
            np.testing.assert_allclose(A_all[k], A[0], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(Wl_all[k], Wl[0], rtol=1e-9, atol=1e-12)
            np.testing.assert_array_equal(act_all[k], act[0])
            np.testing.assert_allclose(th_all[k], th, rtol=1e-9, atol=1e-12)
    assert (A_all > 0).any() and (loss_name == "squared_hinge" or not act_all.all())  # steps; the hinge shrank


def test_shrinking_visits_every_variable_again_once_the_shrunk_problem_is_solved():
    """liblinear's rule, kept across PASSCoDe's rounds: the first pass sets the target (a tenth of its spread of
    violations); a pass whose spread falls to it brings every shrunk variable back and lowers the target tenfold."""
    from skpar.parallel._dcd_tasks import Shrinking

    state = Shrinking()
    active, (th,) = state.arrays((1, 6))
    th[2:4] = 2.0, -2.0  # the first pass: spread 4
    state.after_pass(active, th)
    assert th[4] == pytest.approx(0.4)
    active[0, :3] = False
    th[0:4] = 0.5, -0.5, 0.5, -0.5  # spread 1: not solved yet, the shrunk variables stay out
    state.after_pass(active, th)
    assert not active[0, :3].any() and th[4] == pytest.approx(0.4)
    th[2:4] = 0.1, -0.1  # spread 0.2 <= 0.4: every variable again, no shrinking in the next pass
    state.after_pass(active, th)
    assert active.all() and th[4] == pytest.approx(0.04) and (th[0], th[1]) == (np.inf, -np.inf)
    assert state.arrays((1, 6))[0] is active  # the state carries over to the next call


@pytest.mark.parametrize("loss_name", ["hinge", "squared_hinge"])
def test_certificate_at_the_start_needs_no_pass_and_is_the_kernels(loss_name):
    """At W = 0 and alpha = 0 the certificate task sums the rows' costs alone: the same sums as the kernel's pass."""
    from types import SimpleNamespace

    from skpar.kernels import certificate_dense
    from skpar.parallel._dcd_tasks import certificate_task

    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 4))
    y = rng.integers(0, 3, size=50).astype(np.float64)
    sw = rng.random(50)
    pos, neg = rng.random(3) + 0.5, rng.random(3) + 0.5
    loss = make_loss(loss_name)
    block = SimpleNamespace(X=X, y=y, sample_weight=sw, n_rows=50, is_sparse=False, alpha=np.zeros((3, 50)),
                            persist=lambda *names: None)
    W = np.zeros((3, 5))
    got = certificate_task(block, W, 0.3, loss, pos, neg, 1.0)
    want = certificate_dense(X, y, sw, W, np.zeros((3, 50)), 0.3, loss.kernel, loss.dual, pos, neg, 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_compiled_shuffle_is_a_uniform_permutation():
    """Every row once, and over many seeds each row lands in each position about equally often."""
    from skpar.backend._block import shuffled

    rows = np.arange(5, dtype=np.int64) + 10
    counts = np.zeros((5, 5))
    for seed in range(4000):
        out = shuffled(rows, seed)
        assert sorted(out) == list(rows)
        counts[out - 10, np.arange(5)] += 1
    assert np.abs(counts / 4000 - 0.2).max() < 0.035  # 4 standard errors of a share of 4,000 draws
    assert not np.array_equal(shuffled(rows, 1), shuffled(rows, 2)) and np.array_equal(rows, np.arange(5) + 10)


def test_csr_row_norms_in_partial_sums_are_the_rows_norms():
    """The CSR row norm sums its squares in four partial sums (``kernels/_rows.py``): rows of every length modulo 4,
    empty rows among them, give the squared norms scipy computes, to rounding, and float32 values are squared in
    float64."""
    from skpar.kernels import row_sq_norms, sparse_arrays

    rng = np.random.default_rng(11)
    lengths = np.arange(40) % 11  # 0 to 10 values a row
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    data = rng.normal(size=indptr[-1]) * 1e10
    indices = np.concatenate([rng.choice(50, size=k, replace=False) for k in lengths]).astype(np.int32)
    X = sp.csr_matrix((data, indices, indptr), shape=(40, 50))
    expected = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    got = row_sq_norms(sparse_arrays(X), np.arange(40))
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert got[lengths == 0].tolist() == [0.0] * int((lengths == 0).sum())
    X32 = sp.csr_matrix((np.full(indptr[-1], 3e30, dtype=np.float32), indices, indptr), shape=(40, 50))
    np.testing.assert_allclose(row_sq_norms(sparse_arrays(X32), np.arange(40)), lengths * 9e60, rtol=1e-6)


@pytest.mark.parametrize("schedule,warmup", [(0, 0.0), (1, 10.0)], ids=["constant", "invscaling-warmup"])
def test_l2_decay_is_the_shrink_of_a_weight_no_row_holds(schedule, warmup):
    """A block's weight on a feature its rows never hold only shrinks, by the product of the steps' l2 factors:
    ``l2_decay`` of the same steps, which the driver gives the feature-by-feature average (held_feature_decay)."""
    from skpar.kernels import l2_decay

    rng = np.random.default_rng(4)
    n, d = 300, 40
    X = sp.random(n, d, density=0.2, format="csr", random_state=5)
    X = sp.csr_matrix(X.multiply(np.arange(d) < 30))  # the last 10 features are in no row
    X.eliminate_zeros()
    y = rng.normal(size=n)
    w0 = rng.normal(size=(1, d))
    args = list(_args(40, 5, 1e-2, 0.0))
    args[0], args[11], args[15] = 7, schedule, warmup  # t0, the schedule, the warm-up
    out = sgd_csr(X.data, X.indices, X.indptr, y, np.ones(n), rng.permutation(n).astype(np.int64), *_model(w0),
                  *args)
    steps = out[7]
    eta, power_t, sps, eta_start = args[12], args[13], args[14], args[16]
    a = l2_decay(7, steps, 1e-2, schedule, eta, power_t, sps, warmup, eta_start)
    assert 0.0 < a < 1.0
    np.testing.assert_allclose(out[0][:, 30:], a * w0[:, 30:], rtol=1e-12)
