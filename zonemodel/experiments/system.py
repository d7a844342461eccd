"""One booted system on which experiments run one after another.

The module-level experiments (:func:`zonemodel.fork_bomb`) boot a fresh
system every time.  A :class:`System` boots once and keeps everything that
persists on a real machine between experiments: zones never give pages back
to the zone map, so a second fork bomb finds the first one's elements on the
free lists; a panic or a hang ends the system for good.

>>> import zonemodel
>>> system = zonemodel.System(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
>>> first = system.fork_bomb(stop_at=300)
>>> first.outcome, first.processes
('child limit', 300)
>>> second = system.fork_bomb()
>>> second.outcome
'panic'
>>> system.alive
False
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.forkbomb import _bomb
from zonemodel._kernels.process import _exit
from zonemodel.errors import ParameterError, ZonemodelError
from zonemodel.experiments.common import (
    BOOT_KERNELS,
    Start,
    User,
    check_count,
    check_kernel,
    child_row,
    compile_notice,
    up_or_raise,
)
from zonemodel.experiments.forkbomb import ForkBombResult, check_bomb, run_once
from zonemodel.model.kernel import Kernel
from zonemodel.seeds import SeedLike, as_seed_sequence, replicate_states

__all__ = ["System", "SystemDown"]


class SystemDown(ZonemodelError):
    """The system panicked or hung in an earlier experiment; boot a new one.

    (A kernel that does not boot at all raises :class:`zonemodel.errors.BootError`
    when the :class:`System` is created, as every experiment does.)

    Examples
    --------
    >>> import zonemodel
    >>> system = zonemodel.System(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
    >>> system.fork_bomb().outcome
    'panic'
    >>> try:
    ...     system.fork_bomb()
    ... except zonemodel.SystemDown as exc:
    ...     print(exc)
    this system is down (panic: zalloc: zone ipc ports exhausted); create a new System
    """


class System:
    """A booted simulated system.

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset.
    seed
        Seed of the system's random stream; experiment *k* on this system
        uses child *k* of the seed's :class:`numpy.random.SeedSequence`.

    Raises
    ------
    zonemodel.errors.BootError
        If *kernel* does not boot (see :func:`zonemodel.boot`).

    Examples
    --------
    >>> import zonemodel
    >>> system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    >>> system.alive
    True
    """

    def __init__(self, kernel: Kernel, *, seed: SeedLike = None) -> None:
        self.kernel = check_kernel(kernel)
        self._seed = as_seed_sequence(seed)
        self._experiments = 0
        compile_notice(*BOOT_KERNELS, _bomb, _exit)
        self._booted = up_or_raise(self.kernel)
        self.history: list[ForkBombResult] = []
        """Results of the experiments run so far, in order."""
        self._down = ""

    @property
    def alive(self) -> bool:
        """False once an experiment ended in a panic or a hang."""
        return not self._down

    @property
    def zone_map_used(self) -> int:
        """Bytes of the zone map taken so far (a high-water mark: never returned)."""
        return self._booted.zone_map_used

    def _next_stream(self) -> np.ndarray:
        state: np.ndarray = replicate_states(self._seed, 1, start=self._experiments)[0].copy()
        self._experiments += 1
        return state

    def fork_bomb(
        self,
        *,
        start: Start = "console",
        chain: bool = False,
        user: User = "user",
        interval: float | None = None,
        stop_at: int | None = None,
    ) -> ForkBombResult:
        """Run a fork bomb on this system, then kill its children (if the system survived).

        Parameters are those of :func:`zonemodel.fork_bomb`; *stop_at* stops
        the bomb after that many children (``outcome == "child limit"``), as
        a user pressing Control-C would.  A system runs slow bombs only:
        ``interval`` must be None (a timed bomb runs on a fresh system with
        :func:`zonemodel.fork_bomb`).
        """
        if self._down:
            raise SystemDown(f"this system is down ({self._down}); create a new System")
        if interval is not None:
            raise ParameterError(
                f'"interval": System.fork_bomb forks slowly only (interval=None), got {interval!r}; '
                "run a timed bomb with zonemodel.fork_bomb(kernel, interval=...)"
            )
        spec = check_bomb(self.kernel, start=start, chain=chain, user=user)
        gp = self._booted.machine.gp
        ceiling = int(gp[L.G_MAX_CHILDREN])
        limit = ceiling if stop_at is None else check_count("stop_at", stop_at, 0, ceiling)
        gp[L.G_MAX_CHILDREN] = limit
        try:
            result, children = run_once(spec, self._next_stream(), self._booted)
        finally:
            gp[L.G_MAX_CHILDREN] = ceiling
        self.history.append(result)
        if result.outcome in ("panic", "hang"):
            self._down = result.message
        else:  # the system survived: its user kills the bomb's children
            q = child_row(self.kernel, spec.start, spec.user)
            for i, child in enumerate(children):
                generation = i + 1 if spec.chain else 1
                _exit(self._booted.machine, q, generation, int(child[L.P_TIDX]), int(child[L.P_ADDR]))
        return result

    def __repr__(self) -> str:
        status = "alive" if self.alive else f"down ({self._down})"
        return f"System({self.kernel!r}, experiments={self._experiments}, {status})"
