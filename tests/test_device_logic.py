"""The GPU paths' task logic on the CPU: the device tasks of the normal equations, of the Newton methods and of the
Lasso's column blocks run with NumPy standing in for CuPy (the same calls: ``cupy_module()`` is patched), against
the host tasks they replace. What CuPy itself does is checked on a GPU (``tests/test_gpu.py``, marked ``gpu``); this
checks the chunking, the exact merges of chunks and the solver state the device modules keep, on every machine."""

import types

import numpy as np
import pytest
import scipy.sparse as sp

import skpar.parallel._hydra_device as hydra_device
import skpar.parallel._newton as newton
import skpar.parallel._newton_device as newton_device
import skpar.parallel._normal_equations as normal_equations
from skpar._solver_state import SolverState
from skpar.backend._block import make_block
from skpar.parallel._hydra import ColumnBlock, hydra_lasso
from skpar.parallel._logistic import logistic_newton
from skpar.parallel._newton import primal_newton

from .conftest import InThreadRounds

#: NumPy under CuPy's name, with the two calls CuPy adds
NUMPY_AS_CUPY = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("_")},
                                      asnumpy=np.asarray)


@pytest.fixture
def numpy_device(monkeypatch):
    for module in (hydra_device, newton, newton_device, normal_equations):
        monkeypatch.setattr(module, "cupy_module", lambda: NUMPY_AS_CUPY)


class _DeviceBlock(SolverState):
    """A GPU block's interface over host arrays."""

    on_gpu = True
    is_sparse = False

    def __init__(self, X, y, sample_weight):
        self.X, self.y, self.sample_weight = X, y, sample_weight

    @property
    def n_rows(self):
        return self.X.shape[0]


@pytest.mark.parametrize("where", ["device", "host-dense", "host-sparse"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [True, False])
def test_scatter_merges_chunks_exactly(numpy_device, monkeypatch, weighted, center, where):
    """A block's scatter, each chunk centred on its own mean and merged (a GPU block's, and a host block's of dense
    or densified sparse rows), is the block's scatter about its mean: float32 rows far from the origin, where
    centring matters, with unit or other weights."""
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((5000, 7)) + 50).astype(np.float32)
    y = rng.standard_normal(5000) + 3
    s = rng.uniform(0.5, 2, 5000) if weighted else np.ones(5000)
    monkeypatch.setattr(normal_equations, "DEVICE_SCATTER_VALUES", 7 * 600)  # 9 chunks
    monkeypatch.setattr(normal_equations, "SCATTER_VALUES", 7 * 600)
    if where == "device":
        block = _DeviceBlock(X, y, s)
    else:
        sparse = where == "host-sparse"
        block = types.SimpleNamespace(X=sp.csr_matrix(X) if sparse else X, y=y, sample_weight=s, n_rows=5000,
                                train_rows=np.arange(5000), is_sparse=sparse)
    got = normal_equations.scatter_task(block, center)
    X64, S = X.astype(np.float64), s.sum()
    mx = s @ X64 / S if center else np.zeros(7)
    my = s @ y / S if center else 0.0
    Z, r = X64 - mx, y - my
    want = (S, mx, my, (Z * s[:, None]).T @ Z, (Z * s[:, None]).T @ r, float(s @ r ** 2), 5000)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-8)


def _classification(K, dtype, n=3000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    if K == 1:
        y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(np.float64)
    else:
        y = rng.integers(0, K, n).astype(np.float64)
    return X, y, rng.uniform(0.5, 2, n)


@pytest.mark.parametrize("K,dtype", [(1, np.float32), (3, np.float64)])
@pytest.mark.parametrize("bias", [0.0, 1.0])
@pytest.mark.parametrize("method", ["squared_hinge", "log_loss", "log_loss_cg", "lbfgs"])
def test_device_newton_rounds_take_the_host_iterates(numpy_device, monkeypatch, K, dtype, bias, method):
    X, y, sw = _classification(K, dtype)
    monkeypatch.setattr(newton_device, "ROW_VALUES", 500)  # chunks of 41 rows
    d = X.shape[1]
    out = []
    for block in (make_block(X, y, sw, 0, 0, 0.0), _DeviceBlock(X, y, sw)):
        W0 = np.zeros((K, d + (bias != 0)))
        common = dict(pos_weight=np.ones(K), neg_weight=np.full(K, 1.5), bias=bias, history=[])
        if method == "squared_hinge":
            W, _, n_iter, converged = primal_newton(InThreadRounds([block]), W0, C=0.1, tol=1e-10, max_iter=30,
                                                    gram=True, **common)
        else:
            gram = {"log_loss": True, "log_loss_cg": False, "lbfgs": "lbfgs"}[method]
            # L-BFGS at the bound the estimator gives it with alpha = 1e-3 and its default tol: 0.1 tol / alpha
            W, n_iter, converged = logistic_newton(InThreadRounds([block]), W0, C=1.0 / (1e-3 * len(y)), max_iter=100,
                                                   gram=gram, gtol=0.1 if gram == "lbfgs" else None, **common)
        assert converged
        out.append(W)
    # the same iterates to rounding (conjugate gradients' stops may move an iteration: their answers agree to
    # the stop's accuracy)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6, atol=1e-6 if method == "log_loss_cg" else 1e-9)


@pytest.mark.parametrize("selection", ["cyclic", "random"])
@pytest.mark.parametrize("K", [1, 3])
def test_device_column_blocks_solve_the_host_blocks_problem(numpy_device, monkeypatch, selection, K):
    monkeypatch.setattr(hydra_device, "CHUNK_COLUMNS", 7)  # blocks of 10 or 30 columns in chunks of 7
    rng = np.random.default_rng(0)
    n, d = 400, 30
    X = rng.standard_normal((n, d)) + 2 * rng.standard_normal(d)
    X[:, 5] = X[:, 4] + 0.1 * rng.standard_normal(n)  # correlated columns in one chunk
    y = X[:, :5] @ rng.standard_normal(5) + rng.standard_normal(n)
    sw = rng.uniform(0.5, 2, n)
    s = sw * n / sw.sum()
    yc = y - s @ y / n
    splits = np.array_split(np.arange(d), K)
    fits, histories = [], ([], [])
    for make, history in zip((lambda c: ColumnBlock(X[:, c], s, c, True),
                              lambda c: hydra_device.DeviceColumnBlock.from_pieces([X[:200, c], X[200:, c]], s, c,
                                                                                   True)), histories,
                                 strict=True):
        fits.append(hydra_lasso(InThreadRounds([make(c) for c in splits]), splits, yc, s, np.zeros(d), 0.05, 0.01,
                                max_rounds=5000, tol=1e-12, selection=selection, seeds=np.arange(100),
                                history=history))
    (w_host, _, rounds_host, ok_host), (w_dev, gap_dev, rounds_dev, ok_dev) = fits
    assert ok_host and ok_dev and gap_dev <= 1e-12
    np.testing.assert_allclose(w_dev, w_host, atol=1e-6)
    if selection == "cyclic":
        # the same coordinate order: the same rounds, to rounding, while the gaps are far above it (the shares
        # and sigma' that the rounds measure near the optimum move with the sums' order: the stop's round may)
        early = [[row["gap"] for row in h[:100]] for h in histories]
        np.testing.assert_allclose(early[1], early[0], rtol=1e-6)


# ---- the host-side choices of the GPU kernels: launch geometry, row orders, steps in flight, input checks ---------

#: an H200's attributes, as CuPy reports the ones the launch arithmetic reads
H200 = {"MultiProcessorCount": 132, "MaxThreadsPerMultiProcessor": 2048, "MaxRegistersPerMultiprocessor": 65536,
        "MaxBlocksPerMultiprocessor": 32, "MaxRegistersPerBlock": 65536}


class _Rows:
    """A block's interface as the launch arithmetic reads it: X's shape (and nnz for sparse rows)."""

    def __init__(self, n, d, nnz_per_row=None):
        self.is_sparse = nnz_per_row is not None
        self.X = types.SimpleNamespace(shape=(n, d), nnz=(nnz_per_row or d) * n)
        self.n_rows = n


@pytest.mark.parametrize("n, n_workers", [(10, 3), (1000, 7), (4096, 64), (5, 8), (97, 1)])
def test_stripe_order_visits_every_row_once(n, n_workers):
    """The register SGD kernel's epoch: full stripes of ``n_workers`` rows in a random affine order (``a`` coprime
    to the stripe count), a worker's row in each, then the partial stripe. Every row is some worker's, once."""
    from skpar.backend._gpu_block import GPUBlock

    block = GPUBlock.__new__(GPUBlock)
    block.X = types.SimpleNamespace(shape=(n, 4))
    for seed in range(5):
        s0, a, S, shift = block.stripe_order(seed, n_workers)
        assert S == n // n_workers and 0 <= shift < n_workers
        stripes = [(s0 + q * a) % S for q in range(S)] if S else []
        assert sorted(stripes) == list(range(S))  # a permutation of the stripes
        rows = [s * n_workers + slot for slot in range(n_workers) for s in stripes]
        rows += [S * n_workers + slot for slot in range(n % n_workers)]
        assert sorted(rows) == list(range(n))
    assert block.stripe_order(1, n_workers) == block.stripe_order(1, n_workers)  # the seed fixes the epoch


@pytest.mark.parametrize("regs, threads, expected_blocks_per_sm", [
    (64, 256, 4),   # 64 registers x 256 threads = 16,384 a block: 4 fit in 65,536
    (158, 32, 12),  # 158 -> 5,120 a warp (whole units of 256): 12 one-warp blocks an SM
    (40, 32, 32),   # registers allow 51 one-warp blocks; the SM's cap on blocks is 32
    (16, 256, 8),   # registers allow 16 blocks of 256 threads; 2,048 threads an SM allow 8
])
def test_resident_warps_follow_registers_threads_and_block_caps(monkeypatch, regs, threads, expected_blocks_per_sm):
    import skpar.kernels._cuda as cuda

    monkeypatch.setattr(cuda, "device_attributes", lambda: H200)
    fn = types.SimpleNamespace(attributes={"num_regs": regs})
    assert cuda.resident_warps_of(fn, threads) == expected_blocks_per_sm * (threads // 32) * 132


def test_sgd_workers_are_capped_by_rows_residency_and_team(monkeypatch):
    import skpar.kernels._cuda as cuda

    monkeypatch.setattr(cuda, "device_attributes", lambda: H200)
    monkeypatch.delenv("SKPAR_SGD_WARPS_PER_SM", raising=False)
    fn = types.SimpleNamespace(attributes={"num_regs": 64})
    wanted = cuda.SGD_WARPS_PER_SM * 132
    assert cuda.sgd_workers(fn, 10_000_000, 1024) == wanted
    assert cuda.sgd_workers(fn, 50 * 1024 + 5, 1024) == 50  # at least min_rows rows a worker
    assert cuda.sgd_workers(fn, 10, 1024) == 1
    monkeypatch.setitem(cuda._TEAM, id(fn), 4)  # a team of 4 warps a worker: a quarter of the resident warps
    resident = cuda.resident_warps_of(fn, 128) // 4
    assert cuda.sgd_workers(fn, 10_000_000, 1024) == min(wanted, resident)
    assert cuda.sgd_launch(fn, 10) == ((10 * 4 * 32 // 128,), (128,))
    big = types.SimpleNamespace(attributes={"num_regs": 160})
    monkeypatch.setitem(cuda._TEAM, id(big), 16)  # 512 threads x 160 registers: past a block's 65,536
    with pytest.raises(ValueError, match="a team of 16 warps .* needs 81920 registers .* at most 12"):
        cuda.sgd_launch(big, 10)


@pytest.mark.parametrize("batch, group, team", [(1, 1, 4), (8, 1, 4), (8, 2, 4), (6, 1, 4), (12, 4, 4), (5, 5, 4)])
def test_sgd_team_divides_the_batch_groups(monkeypatch, batch, group, team):
    """Each warp of a worker takes an equal share of every batch's groups: the team divides their count."""
    from skpar.kernels._cuda import sgd_team

    monkeypatch.delenv("SKPAR_SGD_TEAM", raising=False)
    nw = sgd_team(batch, group)
    assert 1 <= nw <= team and (batch // group) % nw == 0


@pytest.mark.parametrize("n_warps", [1, 3, 7, 8, 9, 64, 1000])
def test_launch_starts_exactly_the_warps_asked_under_a_block(n_warps):
    from skpar.kernels._cuda import THREADS, launch

    (g,), (t,) = launch(n_warps)
    assert g * t // 32 >= n_warps and t % 32 == 0
    if n_warps * 32 < THREADS:
        assert (g, t) == (1, n_warps * 32)  # the grid-stride kernels count their warps from the launch
    else:
        assert t == THREADS and (g - 1) * t // 32 < n_warps


@pytest.mark.parametrize("n, d, nnz", [(100_000, 20, None), (100_000, 500, None), (500_000, 47_000, 75),
                                       (10_000, 1_000, 500), (50, 10_000, 3)])
def test_hogwild_steps_in_flight_add_up_to_about_one(monkeypatch, n, d, nnz):
    """Hogwild! on the GPU: ``tau`` rows in flight, each touching a fraction ``rho`` of the weights, each step damped
    by ``1 / (1 + (tau - 1) rho)``, so that the other rows' overlapping steps on a weight add up to less than one
    step; rows that rarely overlap take the whole GPU at full step."""
    import skpar.kernels._sgd_cuda as sgd_cuda

    monkeypatch.setattr(sgd_cuda, "resident_warps", lambda: 132 * 64)
    tau, factor = sgd_cuda.wild_concurrency(_Rows(n, d, nnz))
    rho = (nnz or d) / d
    assert 1 <= tau <= min(132 * 64, n)
    assert (tau - 1) * rho * factor < 1.0
    if nnz is None:  # dense rows: 32 warps, a 32nd of a step each
        assert tau == 32 and factor == pytest.approx(1 / 32)
    if rho * tau < 0.05:
        assert factor > 0.95


def test_dual_warps_and_their_damping(monkeypatch):
    """The dual CD kernels: 32 warps on dense rows; on sparse rows 4 a column, at least 32, at most what stays
    resident. The damping doubles after a round in which the block's dual share fell."""
    import skpar.kernels._dcd_cuda as dcd

    monkeypatch.setattr(dcd, "resident_warps", lambda: 132 * 64)
    monkeypatch.delenv("SKPAR_DCD_WARPS", raising=False)
    assert dcd.concurrency(_Rows(1000, 100)) == dcd.DENSE_WARPS
    assert dcd.concurrency(_Rows(1000, 5, 2)) == 32
    assert dcd.concurrency(_Rows(1000, 1000, 2)) == 4 * 1000
    assert dcd.concurrency(_Rows(1000, 10 ** 6, 2)) == 132 * 64
    monkeypatch.setenv("SKPAR_DCD_WARPS", "7")
    assert dcd.concurrency(_Rows(1000, 100)) == 7
    block = _Rows(1000, 100)
    assert dcd._damping(block, 1) == 1.0
    dcd._after_round(block, 2.25, -10.0)
    assert block.gpu_damp == 2.25 and dcd._damping(block, 25) == 2.25  # kept for the next round
    dcd._after_round(block, 2.25, -9.0)  # the dual share rose: safe steps
    assert block.gpu_damp == 2.25
    dcd._after_round(block, 2.25, -9.5)  # it fell: the steps in flight were too bold
    assert block.gpu_damp == 4.5 and block.gpu_dual == -9.5


@pytest.mark.parametrize("sparse", [False, True])
def test_batch_spread_is_the_largest_eigenvalue_of_rows_in_flight(sparse):
    """The damping of ``b`` dual steps at once is the largest eigenvalue of the normalised Gram matrix of ``b``
    rows: 1 for orthogonal rows; ``(1 + b) / 2`` once each carries an intercept of its own norm (the Gram matrix
    is ``(I + 1 1^T) / 2``); about ``(1 + sqrt(b / d))^2`` for Gaussian rows."""
    import scipy.sparse as sp

    from skpar.kernels._dcd_cuda import batch_spread

    eye = sp.identity(1000, format="csr") if sparse else np.eye(1000)
    b = 40  # drawn with replacement from 1000 rows, then deduplicated: b is at most 40
    assert batch_spread(eye, b, 0.0) == pytest.approx(1.0)
    assert 0.5 * (1 + 35) <= batch_spread(eye, b, 1.0) <= 0.5 * (1 + b) + 1e-9
    G = np.random.RandomState(0).standard_normal((5000, 400))
    G = sp.csr_matrix(G) if sparse else G
    assert batch_spread(G, 100, 0.0) == pytest.approx((1 + 0.5) ** 2, rel=0.15)
    assert batch_spread(G, 1, 1.0) == 1.0


def test_rows_sharing_a_direction_go_fewer_in_flight(monkeypatch):
    """Sparse rows that rarely overlap but share the intercept's column: the whole GPU in flight would need a
    damping near half its warps; the launch takes a quarter of the warps at a time until the damping is at most
    ``MAX_SPREAD`` or 32 warps are left, and keeps its choice on the block. Without the intercept all go."""
    import scipy.sparse as sp

    import skpar.kernels._dcd_cuda as dcd

    monkeypatch.setattr(dcd, "resident_warps", lambda: 132 * 64)
    monkeypatch.delenv("SKPAR_DCD_WARPS", raising=False)
    n = 20_000
    X = sp.identity(n, format="csr")
    block = types.SimpleNamespace(X=X, is_sparse=True, n_rows=n)
    warps, damp = dcd.in_flight(block, 0.0)
    assert warps == 132 * 64 and damp == pytest.approx(1.0)
    block = types.SimpleNamespace(X=X, is_sparse=True, n_rows=n)
    warps, damp = dcd.in_flight(block, 1.0)
    assert warps == 32 and damp == pytest.approx(0.5 * (1 + 32), rel=0.05)  # 8448 / 4^4 = 33, then the floor
    assert dcd.in_flight(block, 1.0) == (warps, damp) and block.gpu_in_flight == warps


@pytest.fixture
def numpy_gpu_input(monkeypatch):
    import skpar.backend._device_input as device_input

    monkeypatch.setattr(device_input, "cupy_module", lambda: NUMPY_AS_CUPY)
    return device_input


def test_gpu_input_checks_name_the_problem(numpy_gpu_input):
    """The device-side input checks (``check_gpu_fit_data``, ``check_gpu_predict_data``) with NumPy standing in
    for CuPy: the messages scikit-learn gives for host data."""
    from skpar import AveragedSGDClassifier, ParallelSGDRegressor

    check_fit, check_predict = numpy_gpu_input.check_gpu_fit_data, numpy_gpu_input.check_gpu_predict_data
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    reg = ParallelSGDRegressor()
    Xc, yc, sw = check_fit(reg, X.astype(np.int64), y, None, reset=True)
    assert Xc.dtype == np.float64 and Xc.flags.c_contiguous and reg.n_features_in_ == 3 and sw is None
    assert check_fit(reg, np.asfortranarray(X.astype(np.float32)), y, None, reset=True)[0].flags.c_contiguous
    bad = X.copy()
    bad[3, 1] = np.nan
    cases = [
        (dict(X=bad), ValueError, "Input X contains NaN or infinity"),
        (dict(X=X[:0]), ValueError, "0 sample"),
        (dict(X=X[:, :0]), ValueError, "0 feature"),
        (dict(X=X[:, 0]), ValueError, "Expected a 2D array"),
        (dict(X=X.astype(np.complex128)), ValueError, "Complex data not supported"),
        (dict(X=X.astype(object)), TypeError, "must be numeric"),
        (dict(y=None), ValueError, "requires y"),
        (dict(y=y[:5]), ValueError, "inconsistent numbers of samples"),
        (dict(y=np.where(np.arange(20) == 4, np.inf, y)), ValueError, "Input y contains NaN or infinity"),
        (dict(sample_weight=-np.ones(20)), ValueError, "Negative values in data passed to `sample_weight`"),
        (dict(sample_weight=np.ones(19)), ValueError, r"sample_weight.shape == \(19,\), expected \(20,\)"),
    ]
    for change, err, match in cases:
        args = dict(X=X, y=y, sample_weight=None) | change
        with pytest.raises(err, match=match):
            check_fit(ParallelSGDRegressor(), args["X"], args["y"], args["sample_weight"], reset=True)
    clf = AveragedSGDClassifier()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        check_fit(clf, X, y, None, reset=True, y_numeric=False)
    with pytest.raises(ValueError, match="Unknown label type"):
        check_fit(clf, X, np.array(["a", "b"] * 10, dtype=object), None, reset=True, y_numeric=False)
    labels = check_fit(clf, X, (y > 0).astype(float), None, reset=True, y_numeric=False)[1]
    assert set(np.unique(labels)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="X has 2 features, but ParallelSGDRegressor is expecting 3"):
        check_fit(reg, X[:, :2], y, None, reset=False)
    fitted = ParallelSGDRegressor().fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but ParallelSGDRegressor is expecting 3"):
        check_predict(fitted, rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
        check_predict(fitted, bad)
    assert check_predict(fitted, X[:5]).shape == (5, 3)
    # fit's X_val, checked as predict's data before the estimator is fitted, named as X_val
    unfitted = ParallelSGDRegressor()
    unfitted.n_features_in_ = 3
    with pytest.raises(ValueError, match="X_val has 4 features, but ParallelSGDRegressor is expecting 3"):
        check_predict(unfitted, rng.normal(size=(5, 4)), "X_val")
    with pytest.raises(ValueError, match="Input X_val contains NaN or infinity"):
        check_predict(unfitted, bad, "X_val")


class _HostArray(np.ndarray):
    """A NumPy array with CuPy's ``get()``."""

    def get(self):
        return np.asarray(self)


def _softmax_warp(args):
    """``sgd_wild_softmax`` on the host, one warp: its arguments in the kernel's order, its steps row by row."""
    (data, _, _, y, sw, _, d, rows, _, W, B, Wbar, Bbar, use_avg, cw, fit_intercept, e, loss_out, seen_out) = args
    K = B.shape[0]
    W2, Wb = W.reshape(K, int(d)), np.asarray(Wbar).reshape(K, int(d))
    loss = 0.0
    for i in rows:
        P = W2 @ data[i] + B
        Q = Wb @ data[i] + Bbar if use_avg else P.copy()
        c, s = int(y[i]), sw[i] * cw[int(y[i])]
        loss += s * (np.logaddexp.reduce(Q) - Q[c])
        G = e * s * (np.exp(P - np.logaddexp.reduce(P)) - np.eye(K)[c])
        W2 -= np.outer(G, data[i])
        B -= G * fit_intercept
    loss_out[:], seen_out[:] = 0.0, 0.0
    loss_out[0], seen_out[0] = loss, len(rows)


def test_gpu_softmax_epochs_take_the_softmax_kernel(monkeypatch):
    """``multi_class='multinomial'`` with SGD on a GPU block: every epoch runs the softmax's Hogwild! kernel (dense
    rows too, where one-output losses take the register kernel), whose arguments, l2 shrinkage and Polyak average
    the launcher passes and keeps as the kernel's order says; the kernel here is its host twin on one warp, so the
    epoch's loss falls from log K and the model moves off zero."""
    from sklearn.datasets import make_classification

    import skpar.kernels._sgd_cuda as sgd_cuda
    import skpar.parallel._sgd as sgd_driver
    from skpar import AveragedSGDClassifier

    wrap = lambda f: lambda *a, **k: np.asarray(f(*a, **k)).view(_HostArray)  # noqa: E731
    fake = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("_")})
    for name in ("asarray", "empty", "zeros", "full", "array"):
        setattr(fake, name, wrap(getattr(np, name)))
    launched = []

    def fake_kernel(name, dtype, loss, **macros):
        launched.append((name, macros))
        return lambda grid, block, args: _softmax_warp(args)

    captured = {}
    task = sgd_driver.sgd_task

    def capture(block, state, plan, *args):
        captured.setdefault("call", (block, state, plan))
        return task(block, state, plan, *args)

    monkeypatch.setattr(sgd_driver, "sgd_task", capture)
    X, y = make_classification(n_samples=600, n_features=12, n_informative=6, n_classes=4, random_state=2)
    AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", solver="sgd", max_iter=1, tol=None,
                          random_state=0).fit(X, y)
    block, state, plan = captured["call"]
    monkeypatch.setattr(sgd_cuda, "cupy_module", lambda: fake)
    monkeypatch.setattr(sgd_cuda, "kernel", fake_kernel)
    monkeypatch.setattr(sgd_cuda, "wild_concurrency", lambda b: (32, 1.0))
    gpu_block = types.SimpleNamespace(X=block.X, is_sparse=False, registers=True, n_rows=block.X.shape[0],
                                      y=block.y, sample_weight=block.sample_weight,
                                      row_order=lambda seed: np.random.default_rng(seed).permutation(
                                          block.X.shape[0]))
    zero = tuple(np.zeros_like(a) if isinstance(a, np.ndarray) else 0 for a in state)
    W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, steps, diverged, _ = sgd_cuda.sgd_epoch_gpu(gpu_block, zero, plan, 3, 0)
    assert {name for name, _ in launched} == {"sgd_wild_softmax"} and launched[0][1] == {"CSR": 0, "K": 4}
    assert not diverged and n_seen == block.X.shape[0] and steps > 0
    assert loss_sum / n_seen < np.log(4) and np.abs(W).max() > 0 and W.shape == (4, 12)
    assert np.isfinite(Wbar).all() and np.isfinite(Bbar).all()


def test_canonical_rows_finds_unsorted_and_repeated_columns():
    """The GPU block's check of a CSR matrix's canonical format (made on the device there, on NumPy arrays here):
    rows in increasing column order pass, empty rows included; a row out of order or with a repeated column does
    not; the boundary between two rows is not compared."""
    import scipy.sparse as sp

    from skpar.backend._gpu_block import canonical_rows

    X = sp.random(50, 40, density=0.2, format="csr", random_state=0)
    assert canonical_rows(X.indices, X.indptr, np)
    assert canonical_rows(np.array([3, 1]), np.array([0, 1, 2]), np)  # two rows: 3, then 1
    assert canonical_rows(np.array([], dtype=np.int32), np.array([0, 0, 0]), np)
    assert not canonical_rows(np.array([1, 3, 2]), np.array([0, 3]), np)
    assert not canonical_rows(np.array([1, 1]), np.array([0, 2]), np)
    assert canonical_rows(np.array([0, 5, 2]), np.array([0, 0, 2, 2, 3]), np)  # empty rows around
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, d = rng.integers(1, 8), rng.integers(1, 6)
        lengths = rng.integers(0, 4, size=n)
        indices = rng.integers(0, d, size=lengths.sum())
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        rows = [indices[indptr[i]:indptr[i + 1]] for i in range(n)]
        expected = all(np.all(np.diff(r) > 0) for r in rows)
        assert canonical_rows(indices, indptr, np) == expected
