"""Docstring text the SGD estimators share word for word, written once."""

from __future__ import annotations

import textwrap

#: the parameters of how the SGD estimators' blocks are combined, the same for both: written once, and put into each
#: class docstring where it says ``%(execution_parameters)s`` (:func:`shared_parameters`)
EXECUTION_PARAMETERS = """\
mode : {'sync', 'async', 'hogwild'}, default='sync'
    How the blocks' work is combined. ``'sync'``: synchronous rounds, reproducible bit for bit for a given
    ``random_state`` and block count, on threads and on Dask alike. ``'async'``: a parameter server on futures
    (Downpour): every finished task's update is applied at once, scaled by ``1 / max(M, 1 + staleness)``
    with ``M`` tasks in flight, and its block gets its next task with the newest model; nobody waits for a
    straggler (on the thread backend each block's tasks run on the block's own thread). ``'hogwild'``: the threads
    run their blocks' epochs against one shared model, written without locks (Hogwild!); on Dask, each worker
    runs its block over its threads on its own copy of the model, and the copies are averaged every epoch. It
    pays on sparse data, where updates rarely touch the same coordinates. The asynchronous modes
    are **not reproducible** run to run (results depend on timing).
max_staleness : int, default=1
    ``mode='async'``: tasks in flight per block. With 2, a block's next task runs while the driver combines its
    last one (communication overlaps computation), at a price: both tasks start from nearly the same model and
    each counts for 1 / (tasks in flight), so half the work is redundant; worth it where a round trip costs
    more than a task.
replica_steps : int or None, default=None
    ``mode='hogwild'`` only. ``None``: every step of every thread writes the shared model (Hogwild!). An int:
    each thread steps on a replica of the weights of its own and, every ``replica_steps`` steps, adds its
    progress since its last fold to the shared model and starts again from it, without a lock (as in
    Hogwild!, a fold racing another may lose a change, never double it). The cores then trade the model's cache
    lines once a fold instead of at every step, at the price of updates up to a fold period stale. A fold costs
    O(n_features): pick a period whose non-zeros are about 10 n_features or more (4,000 rows of 75 non-zeros
    for 47,000 features). The intercepts are added on a shorter period, and both periods are capped where the
    threads' summed stale steps would overshoot (``n_jobs * period * step * h <= 1/4``, ``h`` a coordinate's
    mean squared value); see ``docs/modes.md`` for measurements. Meant for sparse data: on dense rows every
    weight is in every row, so the periods are capped short (the larger the step, the shorter) and their loop
    runs in Python, which can cost more than the folds save.
"""


#: where the SGD estimators' rows go and what runs them: put where a class docstring says ``%(block_parameters)s``
BLOCK_PARAMETERS = """\
n_blocks : int or 'auto', default='auto'
    How many blocks the rows are cut into (a dask array's row chunks are its blocks: a count rechunks its rows
    into that many, cut where local data is cut). The blocks, not the threads or workers, decide the model: for a
    given ``random_state`` and ``n_blocks``, ``mode='sync'`` gives the same coefficients to the bit on any number
    of threads and on a Dask cluster of any size. ``'auto'``: a dask array's chunks; ``n_jobs`` blocks where
    ``n_jobs`` is a positive count (a block a thread); else a count from the data alone, never from the machine,
    so that a default fit is the same everywhere: a power of two, at most 16, at most one block per 200,000
    non-zeros and, except with ``mode='hogwild'``, per 20 rows per feature (blocks whose models are averaged need
    many rows per feature to pay: on 20 Newsgroups, 0.2 rows per feature, two blocks lost 2.5 points of
    accuracy). CuPy data in this process is one block. ``mode='hogwild'`` on a Dask cluster takes a block per
    worker process, whose threads share it.
n_jobs : int or None, default=None
    Threads of the thread backend, never more than there are blocks (a thread runs one block at a time); ``None``
    or -1: every core. On a Dask cluster the workers' threads run the blocks, and ``n_jobs`` only counts blocks
    (``n_blocks='auto'``).
"""


#: the per-round callback of every estimator: put where a class docstring says ``%(callback_parameter)s``
CALLBACK_PARAMETER = """\
callback : callable or None, default=None
    ``callback(row)`` after every round (epoch, pass or iteration) with the round's ``history_`` row, a dict; a
    true return value stops the fit after that round, with the model that round left and no ConvergenceWarning.
    Rows that a diverged epoch's restart takes back were reported all the same.
"""


def _entries(text):
    return textwrap.indent(text.rstrip("\n"), "    ").lstrip()


def shared_parameters(cls):
    """Class decorator: the docstring's ``%(execution_parameters)s``, ``%(block_parameters)s`` and
    ``%(callback_parameter)s`` lines become EXECUTION_PARAMETERS, BLOCK_PARAMETERS and CALLBACK_PARAMETER."""
    cls.__doc__ = cls.__doc__ % {"execution_parameters": _entries(EXECUTION_PARAMETERS),
                                 "block_parameters": _entries(BLOCK_PARAMETERS),
                                 "callback_parameter": _entries(CALLBACK_PARAMETER)}
    return cls
