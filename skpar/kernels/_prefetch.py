"""Prefetches for numba kernels: ask the core for a cache line it is about to read or store to.

Hogwild! threads store into one shared weight vector; a line the other core wrote since this one last held it must
come back before the store retires. Asking for the next row's lines while the current row is worked on overlaps
those transfers with work instead of waiting for them one by one. The same holds for the rows themselves: a shuffled
order makes every row's first lines a miss, and a kernel that knows its order can ask for the rows ahead
(:func:`prefetch_row`).
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _prefetch_intrinsic(rw, doc):
    @intrinsic
    def prefetch(typingctx, arr, index):
        if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(index, types.Integer)):
            return None
        sig = types.void(arr, index)

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
            # rw (0 read, 1 write), locality = 3 (keep in all levels), cache type = 1 (data)
            builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, rw), ir.Constant(i32, 3),
                              ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return sig, codegen

    prefetch.__doc__ = doc
    return prefetch


prefetch_write = _prefetch_intrinsic(1, """Prefetch ``arr[index]`` (a 1-d array) for writing (``llvm.prefetch``,
    rw=1, high locality); a hint with no effect on results, and no bounds check: callers pass indices of the array.""")
prefetch_read = _prefetch_intrinsic(0, """Prefetch ``arr[index]`` (a 1-d array) for reading; a hint like
    :func:`prefetch_write`.""")

#: rows ahead of the current one that the CSR kernels prefetch (measured on ijcnn1's 13 non-zeros a row: 4 to 16
#: all gave about the same, 8 is the middle)
ROWS_AHEAD = 8
#: the CSR kernels prefetch rows ahead only where rows hold at most this many values on average. A dual coordinate
#: ascent pass prefetching every row's lines against none (asv_bench/scripts/dcd_prefetch.py, docs/benchmarks.md):
#: ijcnn1 (13 a row) and a9a (14) 3-16% and 1-5% faster with; Reuters (44) and dorothea (922) 13-20% faster
#: without; 20 Newsgroups (130) about 5% faster with in 4 runs of 5. A long row's own stream keeps the core's
#: prefetcher busy, and the asked-for lines add instructions and evict
SHORT_ROW_VALUES = 24


@njit(inline="always", nogil=True, cache=True)
def short_rows(indptr):
    """Whether the CSR kernels prefetch rows ahead: the rows hold at most :data:`SHORT_ROW_VALUES` values on
    average."""
    n = indptr.shape[0] - 1
    return n > 0 and indptr[n] - indptr[0] <= SHORT_ROW_VALUES * n


@njit(inline="always", nogil=True, cache=True)
def prefetch_distance(indptr):
    """How far ahead a CSR kernel prefetches rows: :data:`ROWS_AHEAD` where the rows are short on average (see
    :data:`SHORT_ROW_VALUES`), else past the last row (no prefetch)."""
    return ROWS_AHEAD if short_rows(indptr) else indptr.shape[0]


@njit(inline="always", nogil=True, cache=True)
def prefetch_row(data, indices, indptr, i):
    """Ask for the cache lines of CSR row ``i``'s values and column indices (a hint: no effect on results). A
    shuffled order makes every row's first lines a miss; asked for ahead, they arrive while earlier rows are worked
    on (docs/benchmarks.md, "Measurements behind the code's choices")."""
    a, z = indptr[i], indptr[i + 1]
    if z <= a:
        return
    for r in range(a, z, 8):  # 8 float64 values a 64-byte line
        prefetch_read(data, r)
    prefetch_read(data, z - 1)
    for r in range(a, z, 16):  # 16 int32 indices a line
        prefetch_read(indices, r)
    prefetch_read(indices, z - 1)

