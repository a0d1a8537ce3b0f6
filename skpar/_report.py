"""What a fit says as it runs: a record per round on the ``skpar`` logger, a progress bar for long fits, the
user's per-round callback, which may stop the fit, and scikit-learn's callbacks (``set_callbacks``).

The drivers append one row a round to their ``history`` list (wall time, objective or duality gap, ...). An
estimator hands them a :class:`FitLog` instead of a plain list: its ``append`` keeps the row, logs it at INFO on
``logging.getLogger('skpar')`` (the row itself in the record, ``record.row``), moves the progress bar, and calls the
callback, whose true answer sets :attr:`FitLog.stop`; each driver ends after the round whose row asked it to
(:func:`stop_requested`). ``verbose`` sets the logger's level for the fit (:func:`fit_logging`); with none of the
application's own handlers, the records go to stdout, as scikit-learn's ``verbose`` lines do.

Where the installed scikit-learn has its callback protocol (``sklearn.callback``, 1.9 and later), the estimators
take its callbacks too (:class:`CallbackSupportMixin`'s ``set_callbacks``, e.g. ``ProgressBar``): the fit is the
root task and every round a subtask; a hook that returns True at a round's end stops the fit after that round, as
the ``callback`` parameter's does. The drivers hand the log each row with their model as it stands
(:func:`record`), and the estimator tells the log how to read it (:meth:`FitLog.report_model`): a hook that asks
for ``fitted_estimator`` gets a copy of the estimator with that round's ``coef_`` and ``intercept_`` and the rows so
far as ``history_``; ``X``, ``y`` and ``metadata`` (the fit's ``sample_weight``) are the fit's data, which
scikit-learn's ``ScoringMonitor`` scores each round's model on.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

try:  # scikit-learn's callback protocol, where the installed version has it
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - scikit-learn before 1.9

    class CallbackSupportMixin:
        """Stand-in where the installed scikit-learn has no callback protocol (no ``set_callbacks``)."""


#: the package's logger: one INFO record per round, the history row in ``record.row``
LOGGER = logging.getLogger("skpar")

#: a fit shows a progress bar (where a person watches: a terminal or a notebook) once it has run this many seconds
PROGRESS_AFTER = 2.0

#: the row's fields a record's message shows, in this order, where the row has them
_SHOWN = ("epoch", "objective", "primal", "dual", "gap", "relative_gap", "gradient", "P", "working_set", "eta")


def record(history, row, model=None):
    """Append ``row`` to ``history``; ``model`` (a zero-argument callable giving the driver's model as it stands
    after the row's round) goes with it where ``history`` is a :class:`FitLog`, for the scikit-learn callbacks that
    ask for a fitted estimator. Drivers call this rather than ``history.append``, since tests hand them plain lists."""
    if isinstance(history, FitLog):
        history.append(row, model=model)
    else:
        history.append(row)


def stop_requested(history) -> bool:
    """Whether the fit's callback asked to stop (a plain list, as tests pass to the drivers, never does)."""
    return bool(getattr(history, "stop", False))


def _interactive() -> bool:
    """A person is likely watching: stderr is a terminal, or the process is a Jupyter kernel."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        return True
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and get() is not None and "IPKernelApp" in getattr(get(), "config", {})


class FitLog(list):
    """A fit's ``history_`` while it runs (a list of dict rows): each appended row is reported (module docstring).

    Parameters
    ----------
    name : str
        The estimator's class name, which starts each record's message.
    callback : callable or None
        ``callback(row)`` after each round; a true return value stops the fit after that round.
    progress : bool
        Show a progress bar (tqdm) once the fit has run :data:`PROGRESS_AFTER` seconds.
    total : int or None
        The rounds the bar counts towards (``max_iter``): most fits stop before it.
    context : sklearn.callback.CallbackContext or None
        The fit's root task where scikit-learn callbacks are set: each row ends a subtask of it.
    estimator : estimator or None
        The estimator the scikit-learn callbacks' hooks are given.
    """

    def __init__(self, name, callback=None, progress=False, total=None, context=None, estimator=None):
        super().__init__()
        self.name, self.callback, self.progress, self.total = name, callback, progress, total
        self.context, self.estimator = context, estimator
        #: the fit's data and the estimator's reading of its solver's model (:meth:`report_model`)
        self.data, self.attributes = (None, None, None), None
        self.stop = False
        self._bar = None
        self._start = time.perf_counter()

    def report_model(self, attributes, X=None, y=None, sample_weight=None):
        """Set by the estimator before its solver runs: ``attributes(model)`` turns the solver's model (what its
        driver hands :func:`record`) into the fitted attributes (``coef_``, ``intercept_``) of an estimator as if
        the fit ended at that round; ``X``, ``y`` and ``sample_weight`` are the fit's data, which scikit-learn's
        callbacks (its ``ScoringMonitor``) score that estimator on."""
        self.attributes, self.data = attributes, (X, y, sample_weight)

    def append(self, row, model=None):
        super().append(row)
        if LOGGER.isEnabledFor(logging.INFO):
            shown = ", ".join(f"{k} {row[k]:.6g}" if isinstance(row[k], float) else f"{k} {row[k]}"
                              for k in _SHOWN if k in row)
            LOGGER.info("%s round %s: %s", self.name, row.get("round", len(self) - 1), shown, extra={"row": row})
        if self.progress:
            self._tick(row)
        if self.callback is not None and self.callback(row):
            self.stop = True
        if self.context is not None:
            # a round is a subtask of the fit: begun and ended here, where its row is known (its start is not
            # reported by the drivers)
            task = self.context.subcontext(task_name="round")
            task.call_on_fit_task_begin(estimator=self.estimator)
            attributes = None
            if model is not None and self.attributes is not None:
                # evaluated only if a callback asks for the fitted estimator, and at once (the driver's arrays move
                # on); its history_ holds the rows so far, the last one this round's
                attributes = lambda: {**self.attributes(model()), "history_": list(self)}  # noqa: E731
            X, y, sample_weight = self.data
            # metadata is what scikit-learn routes to scorers (its ScoringMonitor passes it on): the fit's weights
            metadata = {} if sample_weight is None else {"sample_weight": sample_weight}
            if task.call_on_fit_task_end(estimator=self.estimator, X=X, y=y, metadata=metadata,
                                         reconstruction_attributes=attributes):
                self.stop = True

    def _tick(self, row):
        if self._bar is None:
            if time.perf_counter() - self._start < PROGRESS_AFTER:
                return
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=self.name, unit="round", initial=len(self) - 1, leave=False)
        self._bar.update(1)
        key = next((k for k in ("relative_gap", "gap", "objective") if k in row), None)
        if key is not None and isinstance(row[key], float):
            self._bar.set_postfix({key: f"{row[key]:.3g}"}, refresh=False)

    def close(self):
        """Close the progress bar; the rows as a plain list (what the fitted estimator keeps: no callback, no bar,
        so that it pickles)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        return list(self)


@contextlib.contextmanager
def fit_logging(verbose):
    """The ``skpar`` logger for one fit: ``verbose`` 0 leaves it as the application configured it; 1 or more sets
    it to INFO (records of every round), and where neither it nor the root logger has a handler, adds one that
    writes the messages to stdout for the fit's duration."""
    if not verbose:
        yield
        return
    level = LOGGER.level
    LOGGER.setLevel(logging.INFO)
    handler = None
    if not LOGGER.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("-- %(message)s"))
        LOGGER.addHandler(handler)
    try:
        yield
    finally:
        LOGGER.setLevel(level)
        if handler is not None:
            LOGGER.removeHandler(handler)


@contextlib.contextmanager
def reporting(estimator, total):
    """Around one fit of ``estimator``: its :class:`FitLog` as ``estimator._log`` (its ``callback``; a progress bar
    where a person is likely watching and ``verbose`` prints no lines; ``total`` rounds at most), inside
    :func:`fit_logging`. The fit makes the log its ``history_`` once its rounds begin; on the way out ``history_``
    becomes the plain list of rows. A fit that fails before its rounds leaves ``history_`` as it was, so that a fit
    refused for bad input does not look fitted."""
    context = None
    if getattr(estimator, "_skl_callbacks", None):
        # scikit-learn's callbacks: the fit is the root task (their teardown comes from _fit_context)
        context = estimator._init_callback_context(max_subtasks=None)
        context.call_on_fit_task_begin(estimator=estimator)
    log = FitLog(type(estimator).__name__, callback=getattr(estimator, "callback", None),
                 progress=not estimator.verbose and _interactive(), total=total, context=context,
                 estimator=estimator)
    estimator._log = log
    try:
        with fit_logging(estimator.verbose):
            yield log
        if context is not None:
            context.call_on_fit_task_end(estimator=estimator)
    finally:
        rows = log.close()
        log.context = log.estimator = log.attributes = None
        log.data = (None, None, None)
        if estimator.__dict__.get("history_") is log:
            estimator.history_ = rows
        del estimator._log
