"""Pausing Python's cyclic garbage collector while a command builds many objects that all stay
alive (reading thousands of declarations), where each collection would walk them all again."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused(*, keep: bool = True) -> Iterator[None]:
    """No cyclic collection inside (reference counting still frees everything else); the
    collector is on again after, unless it was off before. At 5,000 campaigns, collections
    walking the declarations already read took half of ``validate``. ``keep=False`` for a short
    pause (one file read) where freezing at every end costs more than it saves."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if keep and keep_for_the_process:
                gc.freeze()
            gc.enable()


def keep(value: object) -> None:
    """Keep ``value`` alive to the end of a process that ends with its command: freeing what
    ``validate`` read of 5,000 campaigns, object by object, takes a tenth of reading it, and the
    process ends next (``ctflow.cli.main`` then leaves without freeing anything). Nothing is kept
    for a caller that lives on."""
    if keep_for_the_process:
        kept.append(value)


kept: list[object] = []
"""What commands kept with :func:`keep`."""

keep_for_the_process = False
"""Set by ``ctflow.cli.main`` (a process that ends with its one command): what is alive when a
pause ends (the declarations the command goes on using) moves to the permanent generation
(``gc.freeze``) instead of being walked by the next collection, a third of validating 5,000
campaigns. Left off for a caller that lives on (tests, a library user): no garbage is kept."""
