"""Local SGD's blocks combined by a line search (``combine='line_search'``, skpar.parallel._sgd_line): the share
chosen is the objective's lowest on its grid, it never goes uphill, and it keeps the epochs to a target from growing
with the blocks where averaging does not."""

import types

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

import skpar.parallel._sgd_line as line_module
from skpar import AveragedSGDClassifier, ParallelSGDRegressor
from skpar._losses import make_loss
from skpar._penalties import Penalty
from skpar.datasets import load_a9a
from skpar.kernels import line_losses
from skpar.parallel._sgd import SGDState
from skpar.parallel._sgd_line import LINE_ROWS, LineSearch, shares, take_best_share

from .conftest import InThreadRounds

ALPHA = 1e-4


def _blocks(X, y, K):
    """K hand-made blocks of the rows of X (dense or CSR) as the line task reads them."""
    out = []
    for rows in np.array_split(np.arange(X.shape[0]), K):
        Xk = X[rows]
        kernel_X = (Xk.data, Xk.indices, Xk.indptr) if sp.issparse(Xk) else np.ascontiguousarray(Xk)
        out.append(types.SimpleNamespace(kernel_X=kernel_X, y=y[rows].astype(np.float64),
                                         sample_weight=np.ones(rows.shape[0]),
                                         train_rows=np.arange(rows.shape[0], dtype=np.int64)))
    return out


def _objective(X, y, w, b, alpha):
    """The l2-penalised log loss of the labels y in {0, 1}, written out with NumPy."""
    z = (2.0 * y - 1.0) * (X @ w.ravel() + b[0])
    return float(np.logaddexp(0.0, -z).mean()) + 0.5 * alpha * float(w.ravel() @ w.ravel())


def _state(w, b):
    w = np.asarray(w, dtype=np.float64).reshape(1, -1)
    return SGDState(w, np.asarray(b, dtype=np.float64).reshape(1), w.copy(), np.asarray(b, float).reshape(1), 0, 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_share_is_the_lowest_objective_on_its_grid_and_never_uphill(sparse):
    rng = np.random.default_rng(0)
    n, d, K = 3 * 700, 8, 3  # blocks of at most LINE_ROWS rows: every row is in the sample
    assert n // K <= LINE_ROWS
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0).astype(float)
    Xs = sp.csr_matrix(X) if sparse else X
    rounds = InThreadRounds(_blocks(Xs, y, K))
    plan = types.SimpleNamespace(loss=make_loss("log_loss", classification=True), pos_weight=np.ones(1),
                                 neg_weight=np.ones(1))
    penalty = Penalty.from_params("l2", 1e-2, 0.0)
    w_opt = LogisticRegression(C=1.0 / (1e-2 * n), tol=1e-10, max_iter=1000).fit(X, y)
    w0, b0 = 0.1 * w_opt.coef_, np.array([0.0])
    thetas = shares(K)
    for toward in (0.3, -0.3):  # a step a third of the way to the optimum, and the same step away from it
        w1 = w0 + toward * (w_opt.coef_ - w0)
        new, share, gain = take_best_share(rounds, _state(w0, b0), _state(w1, b0), plan, penalty)
        values = [_objective(X, y, w0 + t * (w1 - w0), b0, 1e-2) for t in thetas]
        chosen = _objective(X, y, new.w, new.b, 1e-2)
        assert chosen == pytest.approx(min(values), rel=1e-12)
        assert share in thetas
        if toward < 0:  # uphill: the average is kept, bit for bit
            assert share == 1.0 and gain == 0.0
            np.testing.assert_array_equal(new.w, w1)
        else:
            assert share > 1.0 and gain == pytest.approx((values[0] - chosen) / values[0], rel=1e-9)


def test_line_losses_are_the_losses_along_the_line():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 2, 50).astype(float)
    loss = make_loss("log_loss", classification=True)
    W0, DW = rng.normal(size=(2, 1, 4)), rng.normal(size=(2, 1, 4))
    B0, DB = rng.normal(size=(2, 1)), rng.normal(size=(2, 1))
    thetas = np.array([1.0, 2.0, 3.5])
    got = line_losses(X, y, np.ones(50), np.arange(50, dtype=np.int64), W0, B0, DW, DB, thetas, loss.kernel,
                      int(loss.margin), loss.param, np.ones(1), np.ones(1))
    for m in range(2):
        for g, t in enumerate(thetas):
            z = (2 * y - 1) * (X @ (W0[m, 0] + t * DW[m, 0]) + B0[m, 0] + t * DB[m, 0])
            # (the kernel takes log(1 + e^-z) as -z below z = -18: 1.5e-8 apart at most a row)
            assert got[m, g] == pytest.approx(np.logaddexp(0, -z).sum(), rel=1e-9)


@pytest.mark.parametrize("case", ["hinge", "ovr", "softmax", "squared_error"])
def test_line_losses_are_eval_rows_at_each_share(case):
    """Every loss and layout: the loss sums along the line are :func:`eval_rows`' at each point (one-vs-rest over
    three outputs with class weights, the softmax's three outputs, a regression loss), on CSR rows."""
    from skpar._losses import SoftmaxLogLoss
    from skpar.kernels import eval_rows

    rng = np.random.default_rng(3)
    X = sp.random(60, 5, density=0.6, format="csr", random_state=3)
    K = 1 if case in ("hinge", "squared_error") else 3
    y = rng.normal(size=60) if case == "squared_error" else rng.integers(0, K if K > 1 else 2, 60).astype(float)
    loss = {"hinge": make_loss("hinge", classification=True), "ovr": make_loss("log_loss", classification=True),
            "softmax": SoftmaxLogLoss(), "squared_error": make_loss("squared_error")}[case]
    pos, neg = rng.uniform(0.5, 2.0, K), rng.uniform(0.5, 2.0, K)
    W0, DW = rng.normal(size=(1, K, 5)), rng.normal(size=(1, K, 5))
    B0, DB = rng.normal(size=(1, K)), rng.normal(size=(1, K))
    sw, rows, thetas = rng.uniform(0.5, 1.5, 60), np.arange(60, dtype=np.int64), shares(8)
    Xk = (X.data, X.indices, X.indptr)
    args = (loss.kernel, int(loss.margin), loss.param, pos, neg)
    got = line_losses(Xk, y, sw, rows, W0, B0, DW, DB, thetas, *args)
    for g, t in enumerate(thetas):
        want = eval_rows(Xk, y, sw, rows, W0[0] + t * DW[0], B0[0] + t * DB[0], *args)[0]
        assert got[0, g] == pytest.approx(want, rel=1e-12)


def test_schedule_backs_off_where_the_line_does_not_pay(monkeypatch):
    """Round 0 averaged; a line round that gains little is followed by 2, then 4 averaged rounds; one that pays by
    another line round."""
    gains = iter([0.0, 0.0, 0.5, 0.0])
    calls = []
    monkeypatch.setattr(line_module, "take_best_share",
                        lambda rounds, old, new, plan, penalty: (calls.append(rounds), (new, 1.0, next(gains)))[1])
    line = LineSearch()
    for r in range(12):
        line(r, None, None, None, None)
    # line rounds: 1 (no gain: wait 2), 4 (no gain: wait 4), 9 (pays), 10 (no gain: wait 2)
    assert calls == [1, 4, 9, 10]


def test_blocks_epochs_to_target_do_not_grow_as_the_blocks():
    """a9a's log loss on 16 blocks: averaging is 2e-2 above the optimum after 8 epochs (each of the 16 blocks'
    averaged epochs moves about as far as one block's sixteenth of an epoch); the line search is within 1e-2, where
    2 blocks are after 2 epochs (docs/benchmarks.md, issue 22)."""
    X, y, _, _ = load_a9a()
    n = X.shape[0]
    t = (y > 0).astype(float)
    ref = LogisticRegression(C=1.0 / (ALPHA * n), tol=1e-10, max_iter=10_000).fit(X, t)
    best = _objective(X, t, ref.coef_, ref.intercept_, ALPHA)
    gap = {}
    for combine in ("line_search", "average"):
        est = AveragedSGDClassifier(loss="log_loss", solver="sgd", n_blocks=16, tol=None, max_iter=8,
                                    random_state=0, combine=combine).fit(X, y)
        gap[combine] = (_objective(X, t, est.coef_, est.intercept_, ALPHA) - best) / best
    assert gap["line_search"] <= 1e-2 < gap["average"] / 1.5


def test_one_block_and_short_rounds_are_averaged():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2000, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=2000)
    kw = dict(solver="sgd", tol=None, max_iter=3, random_state=0)
    for more in (dict(n_blocks=1), dict(n_blocks=4, local_steps=5)):
        a = ParallelSGDRegressor(combine="line_search", **kw, **more).fit(X, y)
        b = ParallelSGDRegressor(combine="average", **kw, **more).fit(X, y)
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert all(h.get("share", 1.0) == 1.0 for h in a.history_)


def test_bad_combine_is_refused():
    X, y = np.ones((10, 2)), np.arange(10.0)
    with pytest.raises(ValueError, match="combine"):
        ParallelSGDRegressor(combine="sum").fit(X, y)


def _cbs(lower, mean_sq, max_sq):
    from skpar.diagnostics import CriticalBatchSize

    return CriticalBatchSize(lower=lower, upper=lower * max_sq / mean_sq, lambda_max=mean_sq / lower, lambda_min=0.0,
                             mean_sq_norm=mean_sq, max_sq_norm=max_sq, n_samples=1000)


def test_auto_batch_follows_the_critical_batch_on_many_line_searched_blocks():
    from skpar.linear_model._sgd_plan import block_batch

    est = types.SimpleNamespace(batch_size="auto", local_steps="epoch", combine="line_search")
    light = _cbs(2.04, 13.0, 14.0)  # a9a: 0/1 rows of 13-14 non-zeros, critical batch about 2
    assert [block_batch(est, light, K) for K in (1, 2, 4, 8, 16, 64)] == [16, 16, 16, 8, 4, 3]
    heavy = _cbs(3.4, 12.0, 1700.0)  # cpusmall: a row of 140 times the mean squared norm
    assert [block_batch(est, heavy, K) for K in (16, 64)] == [16, 16]
    assert block_batch(est, _cbs(12.4, 50.0, 120.0), 16) == 13  # a critical batch near 16 keeps about 16
    # mug05_12_12: near-orthogonal rows of about one norm, critical batch 73: every batch up to 16 is under it,
    # and the blocks' batches add up to about 4 critical batches
    wide = _cbs(72.8, 72.9, 107.0)
    assert [block_batch(est, wide, K) for K in (4, 8, 16, 32, 64)] == [16, 16, 16, 10, 5]
    # dorothea: as large a critical batch, but rows of up to 6.6 times the mean squared norm keep 16
    assert [block_batch(est, _cbs(37.2, 923.0, 6062.0), K) for K in (16, 64)] == [16, 16]
    for other in (dict(local_steps=10), dict(batch_size=16)):
        assert block_batch(types.SimpleNamespace(**{**vars(est), **other}), light, 64) == 16
    assert block_batch(est, light, 64, line=False) == 16  # rounds no line search combines (combine='average', ...)


def test_auto_batch_of_a_fit_on_sixteen_blocks():
    X, y, _, _ = load_a9a()
    kw = dict(loss="log_loss", solver="sgd", n_blocks=16, tol=None, max_iter=1, random_state=0)
    assert AveragedSGDClassifier(**kw).fit(X, y)._sgd_plan.batch_size == 4
    assert AveragedSGDClassifier(combine="average", **kw).fit(X, y)._sgd_plan.batch_size == 16
    assert AveragedSGDClassifier(batch_size=16, **kw).fit(X, y)._sgd_plan.batch_size == 16
    # rounds that no line search combines keep 16: asynchronous blocks, one-shot averaging
    for other in (dict(mode="async"), dict(averaging="oneshot")):
        assert AveragedSGDClassifier(**kw, **other).fit(X, y)._sgd_plan.batch_size == 16
