"""Remedies: resource limits a Hurd system could have had, as values.

The page (O21) and the 2012 discussion both end on the same point: what
GNU Mach and the Hurd lack is a way to make the offender pay.  A
:class:`Limits` bundles the remedies zonemodel can attach to an experiment:

* ``nproc``: a per-user process limit (``RLIMIT_NPROC``), checked before the
  kernel allocates anything: the fork fails with ``EAGAIN``;
* ``ports_per_task``: a per-task limit on names, checked before an open:
  open() fails with ``EMFILE``;
* ``threads_per_task``: a per-task thread limit: a server cannot create more;
* ``kmem_quota``: per-user accounting of kernel memory, including what servers
  allocate on the user's behalf (the threads that serve its requests);
  over quota, the user's forks and opens fail and no thread is created for it;
* ``oom_killer``: when a kernel resource is about to run out, kill the newest
  process of the user holding the most (for a fork bomb), or the server
  holding the most threads (for a port storm; it is restarted on demand).

>>> Limits(nproc=100)
Limits(nproc=100)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields
from typing import Final

import numpy as np

from zonemodel.errors import ParameterError
from zonemodel.units import format_size, parse_size

__all__ = ["MAX_COUNT_LIMIT", "MAX_KMEM_QUOTA", "Limits"]

MAX_COUNT_LIMIT: Final = 1_000_000_000
"""Largest ``nproc``, ``ports_per_task`` and ``threads_per_task``."""
MAX_KMEM_QUOTA: Final = 1 << 40
"""Largest ``kmem_quota`` (1 TiB, far beyond any kernel's memory; the kernels count bytes in int64)."""


@dataclass(frozen=True, repr=False)
class Limits:
    """Resource limits attached to an experiment (``None``: no such limit).

    Examples
    --------
    >>> Limits(nproc=100, oom_killer=True)
    Limits(nproc=100, oom_killer=True)
    """

    nproc: int | None = None
    """Processes per user."""
    ports_per_task: int | None = None
    """Ports (names) a task may hold."""
    threads_per_task: int | None = None
    """Threads a task (a server) may have."""
    kmem_quota: int | str | None = None
    """Kernel memory per user, in bytes or with a unit (``"2 MiB"``)."""
    oom_killer: bool = False
    """Kill when a kernel resource is within ``oom_margin`` of running out."""
    oom_margin: float = 0.05
    """Fraction of each resource the OOM killer keeps free."""

    def __post_init__(self) -> None:
        for name in ("nproc", "ports_per_task", "threads_per_task"):
            value = getattr(self, name)
            if value is None:
                continue
            if (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, np.integer))
                or not 1 <= value <= MAX_COUNT_LIMIT
            ):
                raise ParameterError(
                    f'"{name}" must be None or an integer between 1 and {MAX_COUNT_LIMIT:_}, got {value!r}'
                )
            object.__setattr__(self, name, int(value))
        if self.kmem_quota is not None:
            quota = parse_size(self.kmem_quota, name="kmem_quota")
            if not 1 <= quota <= MAX_KMEM_QUOTA:
                raise ParameterError(
                    f'"kmem_quota" must be between 1 byte and {format_size(MAX_KMEM_QUOTA)}, got {self.kmem_quota!r}'
                )
            object.__setattr__(self, "kmem_quota", quota)
        if not isinstance(self.oom_killer, (bool, np.bool_)):
            raise ParameterError(f'"oom_killer" must be True or False, got {self.oom_killer!r}')
        object.__setattr__(self, "oom_killer", bool(self.oom_killer))
        margin: object = self.oom_margin
        if isinstance(margin, (bool, np.bool_)) or not isinstance(margin, numbers.Real):
            raise ParameterError(f'"oom_margin" must be a fraction in (0, 0.5], got {margin!r}')
        if not 0.0 < float(margin) <= 0.5:
            raise ParameterError(f'"oom_margin" must be a fraction in (0, 0.5], got {margin!r}')
        object.__setattr__(self, "oom_margin", float(margin))

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) not in (None, False) and f.name != "oom_margin"
        ]
        if self.oom_killer and self.oom_margin != 0.05:
            shown.append(f"oom_margin={self.oom_margin!r}")
        return f"Limits({', '.join(shown)})"
