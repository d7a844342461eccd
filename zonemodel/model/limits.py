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

from dataclasses import dataclass, fields

from zonemodel.errors import ParameterError
from zonemodel.units import parse_size

__all__ = ["Limits"]


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
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ParameterError(f'"{name}" must be None or an integer >= 1, got {value!r}')
        if self.kmem_quota is not None:
            quota = parse_size(self.kmem_quota, name="kmem_quota")
            if quota < 1:
                raise ParameterError(f'"kmem_quota" must be at least 1 byte, got {self.kmem_quota!r}')
            object.__setattr__(self, "kmem_quota", quota)
        if not isinstance(self.oom_killer, bool):
            raise ParameterError(f'"oom_killer" must be True or False, got {self.oom_killer!r}')
        if isinstance(self.oom_margin, bool) or not isinstance(self.oom_margin, (int, float)):
            raise ParameterError(f'"oom_margin" must be a fraction in (0, 0.5], got {self.oom_margin!r}')
        if not 0.0 < self.oom_margin <= 0.5:
            raise ParameterError(f'"oom_margin" must be a fraction in (0, 0.5], got {self.oom_margin!r}')

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) not in (None, False) and f.name != "oom_margin"
        ]
        if self.oom_killer and self.oom_margin != 0.05:
            shown.append(f"oom_margin={self.oom_margin!r}")
        return f"Limits({', '.join(shown)})"
