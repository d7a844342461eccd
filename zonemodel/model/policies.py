"""Thread policies of multithreaded Hurd servers, as values.

libports receives a message, lowers its count of threads that are not busy,
and when that count reaches zero decides whether to create another thread.
The policies below are the decisions GNU Hurd and Debian shipped over the
years, plus one of ours; pass any of them as ``policy=`` to
:func:`zonemodel.close_burst`.

>>> DEBIAN_THROTTLE.cap, DEBIAN_THROTTLE.delay
(250, 2.0)
>>> policy("upstream-1997") is UPSTREAM_1997
True
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

import numpy as np

from zonemodel.errors import ParameterError

__all__ = [
    "DEBIAN_THROTTLE",
    "HEADROOM",
    "LIBPAGER_2014",
    "POLICIES",
    "UPSTREAM_1997",
    "UPSTREAM_2012",
    "PolicyKey",
    "PolicyKind",
    "ThreadPolicy",
    "policy",
]

PolicyKey: TypeAlias = Literal["upstream-1997", "debian-throttle", "upstream-2012", "libpager-2014", "headroom"]
"""The key of a shipped policy (see :data:`POLICIES`)."""
PolicyKind: TypeAlias = Literal["unbounded", "throttle", "depress", "fixed", "headroom"]
"""How a policy decides."""

_KINDS: Final = ("unbounded", "throttle", "depress", "fixed", "headroom")
MAX_THREADS: Final = 1_000_000
"""Largest ``cap``, ``delay_from``, ``pool`` and ``free_threads`` of a policy (threads of one server)."""


@dataclass(frozen=True)
class ThreadPolicy:
    """When a libports server creates a worker thread."""

    key: str
    """Short name, used by :func:`policy`."""
    name: str
    """What it is, in a few words."""
    kind: PolicyKind
    """``"unbounded"``, ``"throttle"``, ``"depress"``, ``"fixed"`` or ``"headroom"``."""
    source: str
    """Where the rule comes from."""
    cap: int = 0
    """throttle: no new thread once a server has more than this many."""
    delay_from: int = 0
    """throttle: a thread created when the server has this many or more first sleeps."""
    delay: float = 0.0
    """throttle: the sleep, in seconds."""
    pool: int = 1
    """Threads each server has at the start (the whole pool for ``"fixed"``)."""
    free_threads: int = 16
    """headroom: threads created without backoff."""
    reserve: float = 0.25
    """headroom: fraction of the zone map no new thread may eat into."""
    backoff: float = 0.002
    """headroom: delay before a new thread serves, in seconds per ``free_threads`` threads."""

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in _KINDS:
            raise ParameterError(f'"kind" must be one of {", ".join(map(repr, _KINDS))}, got {self.kind!r}')
        for name in ("cap", "delay_from", "pool", "free_threads"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise ParameterError(f'"{name}" must be an integer between 0 and {MAX_THREADS:_}, got {value!r}')
            if not 0 <= value <= MAX_THREADS:
                raise ParameterError(f'"{name}" must be an integer between 0 and {MAX_THREADS:_}, got {value!r}')
            object.__setattr__(self, name, int(value))
        for name in ("delay", "backoff", "reserve"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ParameterError(f'"{name}" must be a number, got {value!r}')
            object.__setattr__(self, name, float(value))
        if self.pool < 1:
            raise ParameterError(f'"pool" must be >= 1 (a server needs a thread to receive), got {self.pool}')
        if self.kind == "headroom" and self.free_threads < 1:
            raise ParameterError(f'"free_threads" must be >= 1 for a headroom policy, got {self.free_threads}')
        for name in ("delay", "backoff"):
            if not 0.0 <= getattr(self, name) <= 3600.0:
                raise ParameterError(f'"{name}" must be between 0 and 3600 seconds, got {getattr(self, name)!r}')
        if not 0.0 <= self.reserve < 1.0:
            raise ParameterError(f'"reserve" must be in [0, 1), got {self.reserve!r}')


UPSTREAM_1997: Final = ThreadPolicy(
    "upstream-1997",
    "upstream libports 1997-2008: a new thread whenever none is free, never exiting",
    "unbounded",
    "libports/manage-multithread.c @ Hurd 73098d54 (1997-08-20); timeouts forced to 0 until 85e3a075 (2008-12-29)",
)
DEBIAN_THROTTLE: Final = ThreadPolicy(
    "debian-throttle",
    "Debian thread-throttle 2005-2009: at most 250 threads, a 2 s sleep for each from the 64th",
    "throttle",
    "debian/patches/thread-throttle.patch @ Debian hurd 0f822f3de (2005-09-24), removed 189015ac3 (2009-04-18)",
    cap=250,
    delay_from=64,
    delay=2.0,
)
UPSTREAM_2012: Final = ThreadPolicy(
    "upstream-2012",
    "upstream 2012: each new thread first depresses its priority for 10 + ((n-1)//100 + 1) * 10 ms",
    "depress",
    "libports/manage-multithread.c @ Hurd 27f7e15e (2012-09-23)",
)
LIBPAGER_2014: Final = ThreadPolicy(
    "libpager-2014",
    "a fixed pool with a queue, as libpager since 2014 (one worker; ten since 2022)",
    "fixed",
    "libpager @ Hurd 94807926 (2014-04-17); 10 workers since c8344d90 (2022-03-01)",
    pool=1,
)
HEADROOM: Final = ThreadPolicy(
    "headroom",
    "ours: spawn while a quarter of the zone map stays free, backing off as the pool grows",
    "headroom",
    "zonemodel's proposal for the page's 'more elegant solution'",
)

POLICIES: Final = {p.key: p for p in (UPSTREAM_1997, DEBIAN_THROTTLE, UPSTREAM_2012, LIBPAGER_2014, HEADROOM)}
"""Every shipped policy by key."""


def policy(value: PolicyKey | ThreadPolicy) -> ThreadPolicy:
    """A policy given by key or as a :class:`ThreadPolicy`."""
    if isinstance(value, ThreadPolicy):
        return value
    if not isinstance(value, str) or value not in POLICIES:
        raise ParameterError(
            f'"policy" must be a ThreadPolicy or one of {", ".join(map(repr, POLICIES))}, got {value!r}'
        )
    return POLICIES[value]
