"""State a solver keeps on a block (dual variables), declared by the solver so that blocks need not know it."""

from __future__ import annotations


class SolverState:
    """Mixin of the block classes: :meth:`persist` names the attributes that travel with the block.

    A solver that keeps state on a block (dual coordinate ascent keeps each row's dual variable there) declares
    those attributes; when Dask moves or spills the block they go with it (:func:`persisted_state` in the block's
    ``__reduce__``). Everything else on a block (its memos: row orders, row norms) is rebuilt where it lands.
    """

    _persist: tuple = ()

    def persist(self, *names):
        """Keep the attributes ``names`` with the block wherever it goes."""
        self._persist = tuple(dict.fromkeys((*self._persist, *names)))


def persisted_state(block) -> dict:
    """The attributes ``block`` was told to keep, as its ``__reduce__`` state."""
    names = block._persist
    return {"_persist": names, **{k: block.__dict__[k] for k in names if k in block.__dict__}}
