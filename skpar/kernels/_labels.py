"""Integer-valued class labels read through a table: their distinct values and class indices in compiled passes.

``np.unique`` (a hash or a sort) and ``np.searchsorted`` (a binary search a label) are serial work on the fit's
driver thread, next to blocks' epochs that many cores share (docs/benchmarks.md has the cost). Labels that are
integers within a small span (class numbers, 0/1, -1/+1) need neither: one pass finds their span, one marks the
values present, one looks each label's index up in a table.
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def label_span(y):
    """``(low, high, integral)``: the smallest and largest of the labels ``y`` (at least one), and whether every
    label is a finite integer below 2^53 in magnitude (NaN fails: it equals nothing)."""
    low, high = y[0], y[0]
    integral = True
    for i in range(y.shape[0]):
        v = y[i]
        if v < low:
            low = v
        if v > high:
            high = v
        if not (v == np.floor(v) and abs(v) < 9007199254740992.0):
            integral = False
    return low, high, integral


@njit(nogil=True, cache=True)
def label_presence(y, low, size):
    """``present[v - low]`` for every label ``v`` (``size`` flags, every ``v - low`` below it)."""
    present = np.zeros(size, dtype=np.bool_)
    for i in range(y.shape[0]):
        present[np.int64(y[i] - low)] = True
    return present


@njit(nogil=True, cache=True)
def label_codes(y, low, table, out):
    """``out[i] = table[y[i] - low]`` (a class index, stored as float64). Returns the position of the first label
    that is not an integer, lies outside the table or is marked ``-1`` there (not a class), else ``-1``."""
    size = table.shape[0]
    for i in range(y.shape[0]):
        v = y[i] - low
        if not (v >= 0 and v < size and v == np.floor(v)):
            return i
        k = table[np.int64(v)]
        if k < 0:
            return i
        out[i] = k
    return -1
