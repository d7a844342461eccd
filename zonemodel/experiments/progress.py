"""Progress bars for long computations, drawn by tqdm when it is installed.

tqdm is optional (``pip install 'zonemodel[progress]'``): without it every
bar silently stays off.  A bar is shown when the caller asks for one
(``progress=True``) or, by default (``progress=None``), when standard error
is a terminal and the call has already run for :data:`DELAY` seconds, so
that quick calls, logs, pipes, doctests and CI output stay clean.

>>> with Progress(10, enabled=False, desc="fork_bomb") as bar:
...     bar.update(4)
...     bar.update(6)
>>> bar.done, bar.shown
(10, False)
"""

from __future__ import annotations

import importlib
import sys
from types import TracebackType
from typing import Any, Final

import numpy as np

from zonemodel.errors import ParameterError

__all__ = ["DELAY", "Progress", "check_progress", "wanted"]

DELAY: Final = 2.0
"""Seconds a call runs before its default bar (``progress=None``, in a terminal) appears."""


def check_progress(value: object) -> bool | None:
    """``progress``: True, False or None (numpy bools too), as a Python bool or None."""
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f'"progress" must be True, False or None, got {value!r}')
    return None if value is None else bool(value)


def wanted(enabled: bool | None) -> bool:
    """Whether a bar is asked for: *enabled* itself, or for None whether stderr is a terminal.

    >>> wanted(True), wanted(False)
    (True, False)
    """
    if enabled is not None:
        return bool(enabled)
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


class Progress:
    """A progress bar over *total* units of work, or nothing at all.

    Parameters
    ----------
    total
        Units of work (e.g. replicates) to be done.
    enabled
        True to draw a bar, False for none, None to draw one only when
        standard error is a terminal (see :func:`wanted`).  Without tqdm no
        bar is ever drawn.
    desc
        Label in front of the bar.
    unit
        Name of one unit of work.
    delay
        Seconds before the bar appears (a call finished by then shows none); by
        default :data:`DELAY` when *enabled* is None, else 0.
    """

    def __init__(
        self,
        total: int,
        *,
        enabled: bool | None = None,
        desc: str = "",
        unit: str = "run",
        delay: float | None = None,
    ) -> None:
        self.total = total
        """Units of work expected."""
        self.done = 0
        """Units of work reported done so far."""
        self._bar: Any = None
        if wanted(enabled):
            try:
                tqdm = importlib.import_module("tqdm")
            except ImportError:  # optional dependency: no bar
                tqdm = None
            if tqdm is not None:
                wait = (DELAY if enabled is None else 0.0) if delay is None else delay
                self._bar = tqdm.tqdm(
                    total=total, desc=desc or None, unit=unit, file=sys.stderr, dynamic_ncols=True, delay=wait
                )

    @property
    def shown(self) -> bool:
        """Whether a bar is being drawn."""
        return self._bar is not None

    def update(self, n: int) -> None:
        """Report *n* more units of work done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Finish the bar (it stays on screen)."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
