"""The servers' event loop on SimPy's scheduler: the same model as zonemodel._kernels.engine, a third implementation.

The handlers are those of :class:`tests.reference.Servers`; only the
scheduling of what happens next differs.  Messages from outside and sleeps
that end are SimPy events of urgent priority, so that at equal times they
come before the CPU's; the end of the running thread's work and the clock
tick are one SimPy event, re-armed after every step (an event armed before
the running thread changed is void).  SimPy orders events by (time,
priority, insertion order), the order of the reference.  Used by the
agreement tests and by the benchmark (numba against SimPy on the same model).
"""

from __future__ import annotations

from typing import Any

import simpy
from simpy.core import NORMAL, URGENT

from tests import reference


class SimPyServers(reference.Servers):
    """reference.Servers with SimPy as the event scheduler."""

    def __init__(self, machine: reference.Machine, policy: object, rng: reference.Xoshiro, **options: Any) -> None:
        super().__init__(machine, policy, rng, **options)
        self.env = simpy.Environment()
        self.token = 0  # the CPU event armed last; older ones are void

    def _schedule(self, t: float, priority: int, value: object, callback: Any) -> None:
        # SimPy keeps now + delay, which can differ from t in the last bit; the exact t travels
        # with the event and the handler uses it, so only the (rare) order of near-equal times could differ.
        event = self.env.event()
        event._ok = True
        event._value = value
        event.callbacks.append(callback)
        self.env.schedule(event, priority, max(0.0, t - self.env.now))

    def push(self, t: float, kind: int, server: object, mtype: int, arrival: float) -> None:
        self._schedule(t, URGENT, (t, kind, server, mtype, arrival), self._fire)

    def _fire(self, event: Any) -> None:
        t, kind, target, tagged, arrival = event.value
        self.now = t
        self.event(t, kind, target, tagged, arrival)
        self.run_cpu(t)
        self._arm()

    def _arm(self) -> None:
        self.token += 1
        if self.current is not None:
            self._schedule(min(self.cpu_end, self.phase + self.next_tick * self.tick), NORMAL, self.token, self._cpu)

    def _cpu(self, event: Any) -> None:
        if event.value != self.token or self.current is None:
            return
        t_tick = self.phase + self.next_tick * self.tick
        if self.cpu_end <= t_tick:
            t = self.now = self.cpu_end
            self.complete(t)
        else:
            t = self.now = t_tick
            self.clock_tick(t)
        self.run_cpu(t)
        self._arm()

    def run(self, until: float = float("inf")) -> None:
        self.run_cpu(self.now)
        self._arm()
        self.env.run()


def close_burst(kernel: Any, processes: int, ports_each: int, close: str, policy: object, state: object) -> dict:
    """As reference.close_burst, with SimPy scheduling the closing phase."""
    return reference.close_burst(kernel, processes, ports_each, close, policy, state, servers_class=SimPyServers)
