"""Results you can take away: plain dicts, pandas frames, and an equality that treats NaN as equal.

Every result type of zonemodel (:class:`~zonemodel.ForkBombResult`,
:class:`~zonemodel.ForkBombRuns`, :class:`~zonemodel.BootReport`, ...) mixes in
:class:`Record`:

* ``to_dict()``: the result as plain Python values (nested rows, such as the
  zones, as dicts; tuples as lists; the kernel as its repr; the seed as its
  entropy and spawn key), ready for ``json.dumps``;
* ``to_frame()``: a ``pandas.DataFrame`` of the result's rows (one per run for
  the ``*Runs`` distributions, one per zone for single results), its scalar
  fields in ``frame.attrs``; pandas is optional (``pip install 'zonemodel[pandas]'``);
* ``equals(other)``: field by field, NaN equal to NaN, ignoring the recorded
  kernel and seed (``==`` is the dataclass equality, for which NaN != NaN).

>>> import zonemodel
>>> report = zonemodel.boot(zonemodel.gnumach(2005))
>>> report.to_dict()["booted"], report.equals(zonemodel.boot(zonemodel.gnumach(2005)))
(True, True)
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Mapping
from typing import Any, Final, cast

import numpy as np

__all__ = ["PANDAS_HINT", "Record", "plain", "require_pandas", "same"]

PANDAS_HINT: Final = "pip install 'zonemodel[pandas]'"
"""How to install the optional pandas dependency."""


def require_pandas(what: str) -> Any:
    """The pandas module, or an ImportError saying that *what* needs it and how to install it."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ImportError(f"{what} needs pandas, which is not installed; install it with: {PANDAS_HINT}") from None


def plain(value: Any) -> Any:
    """*value* as plain Python values: records and mappings as dicts, sequences as lists, numpy scalars unwrapped."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.random.SeedSequence):
        return {"entropy": plain(value.entropy), "spawn_key": [int(k) for k in value.spawn_key]}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, Record):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return repr(value)  # e.g. a Kernel: its repr names it
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return repr(value)


def same(a: Any, b: Any) -> bool:
    """Whether *a* and *b* are equal, NaN equal to NaN, recursively through records, mappings and sequences."""
    if isinstance(a, Record) or isinstance(b, Record):
        return type(a) is type(b) and a.equals(b)
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        return bool(a == b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _same_arrays(np.asarray(a), np.asarray(b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _same_arrays(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.names:
        return all(_same_arrays(a[name], b[name]) for name in a.dtype.names)
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


class Record:
    """The take-away methods of a result dataclass: ``to_dict()``, ``to_frame()``, ``equals()``."""

    def _fields(self) -> tuple[dataclasses.Field[Any], ...]:
        return dataclasses.fields(cast("Any", self))

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (nested rows as dicts), e.g. for ``json.dumps``."""
        return {f.name: plain(getattr(self, f.name)) for f in self._fields()}

    def equals(self, other: object) -> bool:
        """True if *other* has the same type and equal fields, NaN equal to NaN (kernel and seed not compared)."""
        if type(other) is not type(self):
            return False
        return all(same(getattr(self, f.name), getattr(other, f.name)) for f in self._fields() if f.compare)

    def _frame_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`to_frame` (the zones, where the result has them)."""
        zones = getattr(self, "zones", ())
        return [plain(z) for z in zones]

    def to_frame(self) -> Any:
        """A ``pandas.DataFrame`` of the result's rows; its scalar fields are in ``frame.attrs``.

        Needs pandas (``pip install 'zonemodel[pandas]'``).
        """
        pandas = require_pandas(f"{type(self).__name__}.to_frame()")
        frame = pandas.DataFrame(self._frame_rows())
        frame.attrs.update({k: v for k, v in self.to_dict().items() if not isinstance(v, (list, dict))})
        return frame
