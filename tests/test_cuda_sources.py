"""Every CUDA source the GPU kernels are built from compiles, without a GPU: NVRTC alone (the ``nvidia-cuda-nvrtc``
wheel of the ``test`` extra, or a CUDA toolkit's library) turns each into PTX for an H100's architecture.

The kernels are otherwise compiled only on a device, on first use: a syntax or type error in a kernel's text (or in
a loss's CUDA body) would surface only there. The variants compiled are the ones the code asks for: the register SGD
kernel's macros come from :func:`skpar.kernels._cuda.sgd_warps_kernel` itself (its ``kernel`` call recorded instead
of run), for every loss, both precisions, with and without the average, for batches that give one-warp workers and
teams of 2 and 4.
"""

import ctypes
import ctypes.util
import glob
import itertools
import os

import pytest

import skpar.kernels._cuda as cuda
from skpar._losses import CLASSIFIER_LOSSES, LOSSES, SoftmaxLogLoss, make_loss
from skpar.kernels._cuda_source import source


def _nvrtc():
    """The NVRTC library, or None: the wheel's copy first, then the system's."""
    paths = []
    try:
        import nvidia.cuda_nvrtc as wheel

        for root in wheel.__path__:
            paths += sorted(glob.glob(os.path.join(root, "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    found = ctypes.util.find_library("nvrtc")
    if found:
        paths.append(found)
    for path in paths:
        if "builtins" in os.path.basename(path) or ".alt." in os.path.basename(path):
            continue
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


NVRTC = _nvrtc()
pytestmark = pytest.mark.skipif(NVRTC is None, reason="NVRTC is not installed (the test extra's nvidia-cuda-nvrtc)")


def compile_ptx(text, name):
    """``(status, log)`` of NVRTC compiling ``text`` for compute capability 9.0, with the options CuPy is given."""
    prog = ctypes.c_void_p()
    assert NVRTC.nvrtcCreateProgram(ctypes.byref(prog), text.encode(), f"{name}.cu".encode(), 0, None, None) == 0
    opts = [b"--gpu-architecture=compute_90", b"-std=c++17"]
    status = NVRTC.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    size = ctypes.c_size_t()
    NVRTC.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    NVRTC.nvrtcGetProgramLog(prog, log)
    NVRTC.nvrtcDestroyProgram(ctypes.byref(prog))
    return status, log.value.decode(errors="replace")


def _register_variants(monkeypatch):
    """The ``(name, dtype, loss, macros)`` that :func:`sgd_warps_kernel` asks :func:`kernel` for."""
    asked = []

    class _Recorded:
        attributes = {"num_regs": 64}

    def record(name, dtype, loss=None, **macros):
        asked.append((name, dtype, loss, macros))
        return _Recorded()

    monkeypatch.setattr(cuda, "kernel", record)
    margin = [n for n in CLASSIFIER_LOSSES if CLASSIFIER_LOSSES[n] is not SoftmaxLogLoss]
    losses = [make_loss(n) for n in LOSSES] + [make_loss(n, classification=True) for n in margin]
    # the layouts with one loss, then every loss's body in the default layout (a loss only fills loss_deriv)
    for dtype, average, schedule, batch in itertools.product(("float32", "float64"), (False, True), (0, 1),
                                                             (1, 8, 16)):
        cuda.sgd_warps_kernel(dtype, 100, average, losses[0], schedule, batch)
    for loss in losses[1:]:
        cuda.sgd_warps_kernel("float32", 100, True, loss, 0, 16)
    unique = {(n, dt, loss, tuple(sorted(m.items()))) for n, dt, loss, m in asked}
    return [(n, dt, loss, dict(m)) for n, dt, loss, m in unique]


def test_register_sgd_kernel_variants_compile(monkeypatch):
    asked = _register_variants(monkeypatch)
    teams = {macros["NW"] for _, _, _, macros in asked}
    assert teams == {1, 2, 4}  # batches of 1, 8 and 16 rows: one-warp workers, teams of 2 and of 4
    failed = []
    for name, dtype, loss, macros in asked:
        status, log = compile_ptx(source(name, dtype, loss, **macros), name)
        if status != 0:
            failed.append(f"{name} {dtype} {loss.__name__} {macros}:\n{log[:2000]}")
    assert not failed, "\n".join(failed[:3])


@pytest.mark.parametrize("dtype", ["float", "double"])
def test_hogwild_and_dual_kernels_compile(dtype):
    sq_hinge, hinge = type(make_loss("squared_hinge")), type(make_loss("hinge"))
    cases = [("sgd_wild", type(make_loss(n)), {"CSR": csr}) for n in LOSSES for csr in (0, 1)]
    cases += [("sgd_wild_softmax", None, {"CSR": csr, "K": k}) for csr in (0, 1) for k in (3, 20)]
    cases += [("dcd_wild", loss, {"CSR": csr}) for loss in (sq_hinge, hinge) for csr in (0, 1)]
    cases += [("dcd_warps", loss, {"NC": nc}) for loss in (sq_hinge, hinge) for nc in (1, 4, 32)]
    for name, loss, macros in cases:
        status, log = compile_ptx(source(name, dtype, loss, **macros), name)
        assert status == 0, f"{name} {dtype} {macros}:\n{log[:2000]}"
