"""What the SGD tasks return, by name: the drivers read fields, not positions (the same fields on CPU and GPU)."""

from __future__ import annotations

from typing import Any, NamedTuple


class StepsResult(NamedTuple):
    """A block's local SGD steps (:func:`~skpar.parallel._tasks.sgd_task`, the kernels' tuple)."""

    W: Any  #: the new weights, (K, d)
    B: Any  #: the new intercepts, (K,)
    Wbar: Any  #: the Polyak average of the weights
    Bbar: Any  #: the Polyak average of the intercepts
    n_avg: int  #: iterates in the average
    loss_sum: float  #: the weighted loss of the samples seen (progressive: each at the model the fit returns)
    n_seen: int  #: samples seen
    steps: int  #: steps taken
    diverged: bool  #: the loss blew up (non-finite, or past the plan's ``blowup``)
    last_eta: float  #: the last step's size, whose l1 proximal step is the caller's


class OneshotResult(NamedTuple):
    """A block fitted on its own (:func:`~skpar.parallel._tasks.oneshot_task`): its last epoch's
    :class:`StepsResult` fields (``steps`` over every epoch), the epochs run and whether its stopping rule fired."""

    W: Any
    B: Any
    Wbar: Any
    Bbar: Any
    n_avg: int
    loss_sum: float
    n_seen: int
    steps: int
    diverged: bool
    last_eta: float
    epochs: int
    converged: bool


class HogwildResult(NamedTuple):
    """A Hogwild! epoch over a block (:func:`~skpar.parallel._tasks.hogwild_task`). ``W`` and ``B`` are the block's
    own model where it worked on a copy (Dask workers), else None (the shared model was written in place)."""

    loss_sum: float
    n_seen: int
    steps: int
    diverged: bool
    last_eta: float
    W: Any = None
    B: Any = None
    n_threads: int = 1


class Survey(NamedTuple):
    """What a fit's set-up round learns of a block (``linear_model._sgd_base._survey``)."""

    n_train: int  #: training rows
    zero_loss: float  #: the loss of the zero model over them
    workers: int  #: SGD workers the block runs (GPU warp workers; 1 on the CPU)
