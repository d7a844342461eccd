"""Names every docs example can use, shared by Sphinx and Sybil.

Sphinx runs ``from _doctest_setup import *`` as ``doctest_global_setup``
(docs/conf.py); Sybil copies the same names into each page's namespace and
applies :data:`PRINT_OPTIONS` around each page (docs/conftest.py).  Keep this
small: an example should show its own imports unless they are these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import zonemodel as zm

PRINT_OPTIONS: dict[str, Any] = {"precision": 4, "suppress": True}
"""NumPy print options for short, stable float output in examples."""

np.set_printoptions(**PRINT_OPTIONS)

__all__ = ["np", "zm"]
