"""The GPU path: CUDA kernels (compiled by CuPy), GPU blocks, validation and statistics on the device.

CuPy is optional (the ``gpu`` extra): nothing here imports it until data on a GPU arrives. See ``docs/gpu.md``.
"""

from ._block import GPUBlock, make_gpu_block
from ._namespace import array_module, cupy_module, on_gpu

__all__ = ["GPUBlock", "array_module", "cupy_module", "make_gpu_block", "on_gpu"]
