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

from zonemodel._kernels import process as P
from zonemodel.errors import ParameterError, ZonemodelError
from zonemodel.experiments.common import State, check_kernel
from zonemodel.experiments.forkbomb import ForkBombResult, _check_common, child_row, run_on_state
from zonemodel.model.kernel import Kernel
from zonemodel.seeds import SeedLike, as_seed_sequence, replicate_states

__all__ = ["System", "SystemDown"]


class SystemDown(ZonemodelError):
    """The system panicked or hung in an earlier experiment; boot a new one.

    Examples
    --------
    >>> import zonemodel
    >>> dead = zonemodel.System(zonemodel.gnumach(2005, zone_map="32 MiB"))
    >>> try:
    ...     dead.fork_bomb()
    ... except zonemodel.SystemDown as exc:
    ...     print(str(exc).split(":")[0])
    this system is down (the kernel does not boot
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
        self._state = State.booted(kernel)
        self.history: list[ForkBombResult] = []
        """Results of the experiments run so far, in order."""
        self._down = ""
        if not self._state.boot.booted:
            self._down = f"the kernel does not boot: {self._state.boot.reason}"
        elif self._state.boot_status != P.OK:
            self._down = "the system's own tasks do not fit at boot"

    @property
    def alive(self) -> bool:
        """False once an experiment ended in a panic or a hang (or the kernel never booted)."""
        return not self._down

    @property
    def zone_map_used(self) -> int:
        """Bytes of the zone map taken so far (a high-water mark: never returned)."""
        return self._state.zone_map_used

    def _next_stream(self) -> np.ndarray:
        state = replicate_states(self._seed, 1, start=self._experiments)[0].copy()
        self._experiments += 1
        return state

    def fork_bomb(
        self,
        *,
        start: str = "console",
        chain: bool = False,
        user: str = "user",
        interval: float | None = None,
        stop_at: int | None = None,
    ) -> ForkBombResult:
        """Run a fork bomb on this system, then kill its children (if the system survived).

        Parameters are those of :func:`zonemodel.fork_bomb`; *stop_at* stops
        the bomb after that many children (``outcome == "child limit"``), as
        a user pressing Control-C would.
        """
        if self._down:
            raise SystemDown(f"this system is down ({self._down}); create a new System")
        start_s, user_s = _check_common(start, user, interval, chain)
        state = self._state
        limit = ceiling = int(state.gp[P.G_MAX_CHILDREN])
        if stop_at is not None:
            if isinstance(stop_at, bool) or not isinstance(stop_at, int) or not 0 <= stop_at <= ceiling:
                raise ParameterError(f'"stop_at" must be an integer between 0 and {ceiling}, got {stop_at!r}')
            limit = stop_at
        state.gp[P.G_MAX_CHILDREN] = limit
        try:
            result, tables = run_on_state(state, start=start_s, chain=chain, user=user_s, rng_state=self._next_stream())
        finally:
            state.gp[P.G_MAX_CHILDREN] = ceiling
        self.history.append(result)
        if result.outcome in ("panic", "hang"):
            self._down = result.message
        else:  # the system survived: its user kills the bomb's children
            q = child_row(self.kernel, start_s, user_s)
            for i, (tidx, addr) in enumerate(tables):
                generation = i + 1 if chain else 1
                P._exit(state.zones, state.res, state.gp, state.its, q, generation, int(tidx), int(addr))
        return result

    def __repr__(self) -> str:
        status = "alive" if self.alive else f"down ({self._down})"
        return f"System({self.kernel!r}, experiments={self._experiments}, {status})"
