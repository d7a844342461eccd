"""The servers' event loop on SimPy's scheduler: the same queue as zonemodel._kernels.engine, a third implementation.

SimPy orders events by (time, priority, insertion order), which is the
(time, sequence) order of the numba heap when every event is scheduled in
the same order.  The handlers are those of :class:`tests.reference.Servers`;
only the scheduler differs, so results must be identical.  Used by the
agreement tests and by the benchmark (numba against SimPy on the same queue).
"""

from __future__ import annotations

from typing import Any

import simpy

from tests import reference


class SimPyServers(reference.Servers):
    """reference.Servers with SimPy as the event scheduler."""

    def __init__(self, machine: reference.Machine, policy: object, rng: reference.Xoshiro, **options: Any) -> None:
        super().__init__(machine, policy, rng, **options)
        self.env = simpy.Environment()
        self.pending = 0

    def push(self, t: float, kind: int, server: int, mtype: int, arrival: float) -> None:
        # SimPy keeps now + delay, which can differ from t in the last bit; the exact t travels
        # with the event and the handler uses it, so only the (rare) order of near-equal times could differ.
        event = self.env.timeout(max(0.0, t - self.env.now), value=(t, kind, server, mtype, arrival))
        event.callbacks.append(self._fire)
        self.pending += 1

    def _fire(self, event: Any) -> None:
        self.pending -= 1
        t, kind, server, mtype, arrival = event.value
        # Reuse the reference's handler: put the event where step() expects it.
        self.events = [(t, 0, kind, server, mtype, arrival)]
        self.step()

    def run(self) -> None:
        self.env.run()


def close_burst(kernel: Any, processes: int, ports_each: int, close: str, policy: object, state: object) -> dict:
    """As reference.close_burst, with SimPy scheduling the closing phase."""
    return reference.close_burst(kernel, processes, ports_each, close, policy, state, servers_class=SimPyServers)
