"""Property-based: every public entry point answers a bad argument with a ParameterError that names it.

Each test spoils one argument of an otherwise valid, small call (tiny zone maps, few ports, few runs) with a
value drawn from wrong types, out-of-range numbers, NaN, inf, huge ints, numpy scalars and odd strings, and
requires that the call either succeeds or raises :class:`zonemodel.errors.ParameterError` whose message
names the argument (or a ``TypeError`` from the signature), within a time bound.  The seed is fixed
(``derandomize=True``); the budget is 25 examples per test, 425 in all (about half a minute).

The entry points are every callable of ``zonemodel.__all__`` that takes arguments (``warmup`` takes
only ``processes``, fuzzed where the value is refused: a valid one runs the whole warm-up) and the
methods a user calls with arguments: ``Kernel.replace``, ``System.fork_bomb``, ``System.close_burst``,
``System.kill`` and ``ForkBombResult.zone``; ``policies.policy`` resolves every ``policy=``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zonemodel as zm
from zonemodel.errors import ParameterError
from zonemodel.model.policies import ThreadPolicy

SMALL = zm.gnumach(2005, zone_map="1 MiB")
TIME_BOUND = 30.0  # seconds per call, compilation included (the kernels are compiled once, before)
FUZZ = settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

ODD_STRINGS = st.sampled_from(["", " ", "8 MiB", "-1", "nan", "inf", "1e9", "ünïcode", "\x00", "None", "True", "4 MB"])
HUGE_INTS = st.sampled_from([-(2**63), -1, 0, 2**31, 2**63 - 1, 2**63, 2**64, 10**30])
NUMPY_SCALARS = st.sampled_from(
    [np.int64(3), np.int8(-1), np.uint64(2**63), np.float64("nan"), np.float32(1.5), np.bool_(True), np.bool_(False)]
)
FLOATS = st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.5, 1e-300, 1e300])
CONTAINERS = st.sampled_from([None, [], (), {}, [1], ("tasks",), {"a": 1}, object(), b"bytes", 1j])
BAD = st.one_of(
    ODD_STRINGS,
    HUGE_INTS,
    NUMPY_SCALARS,
    FLOATS,
    CONTAINERS,
    st.booleans(),
    st.integers(-5, 5),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
)


def _big(value: object, above: int) -> bool:
    """Whether *value* is an integer count larger than *above* (a valid large count would only be slow)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value > above


def _answer(name: str, call: Any) -> None:
    """Run *call*: it succeeds, or raises a ParameterError naming *name*, within TIME_BOUND."""
    start = time.perf_counter()
    try:
        call()
    except ParameterError as error:
        assert name in str(error), f"the error does not name {name!r}: {error}"
    except TypeError as error:  # only from the signature (an unexpected keyword, a missing argument)
        assert "argument" in str(error), f"a TypeError that is not about the signature: {error}"
    assert time.perf_counter() - start < TIME_BOUND


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    """Compile the kernels the fuzzing reaches once, outside the time bound of any example."""
    zm.fork_bomb(SMALL, seed=0)
    zm.fork_bomb(SMALL, runs=2, seed=0)
    zm.close_burst(zm.gnumach(2005), processes=1, ports_each=5, seed=0)
    zm.close_burst(zm.gnumach(2005), processes=1, ports_each=5, runs=2, seed=0)
    zm.open_ports(zm.gnumach(2005), processes=1, ports_each=5)
    zm.replay(SMALL, [("tasks", 1)])
    zm.compile_job(zm.gnumach(2005), files=1, headers=20, headers_per_file=(1, 3), seed=0)


FORK_BOMB = {
    "start": "console",
    "chain": False,
    "user": "user",
    "interval": None,
    "policy": "upstream-1997",
    "other": 0,
    "runs": 2,
    "seed": 1,
    "progress": False,
}


@FUZZ
@given(name=st.sampled_from([*FORK_BOMB, "kernel", "limits"]), value=BAD)
def test_fork_bomb(name, value):
    keywords = dict(FORK_BOMB)
    kernel: Any = SMALL
    if name == "kernel":
        kernel = value
    else:
        keywords[name] = value
    if name in ("runs", "other") and _big(value, 5):
        keywords[name] = 10**6 + int(value)  # past the bound
    _answer(name, lambda: zm.fork_bomb(kernel, **keywords))


CLOSE_BURST = {
    "processes": 1,
    "ports_each": 5,
    "close": "fast",
    "policy": "upstream-1997",
    "other": 0,
    "nofile": 1024,
    "runs": 1,
    "progress": False,
}


@FUZZ
@given(name=st.sampled_from([*CLOSE_BURST, "limits", "seed"]), value=BAD)
def test_close_burst(name, value):
    keywords = {**CLOSE_BURST, name: value}
    for count in ("processes", "ports_each", "other", "runs"):
        if _big(keywords[count], 5):
            keywords[count] = 10**7 + int(keywords[count])  # past the bound, not a slow valid storm
    _answer(name, lambda: zm.close_burst(zm.gnumach(2005), **keywords))


COMPILE_JOB = {
    "jobs": 1,
    "files": 2,
    "stage": "compile",
    "policy": "upstream-1997",
    "headers": 20,
    "headers_per_file": (1, 3),
    "pages": (1, 4),
    "object_pages": (1, 2),
    "compile_cpu": 0.01,
    "job_memory": "1 MiB",
    "timeout": 60.0,
    "runs": 1,
    "progress": False,
}


@FUZZ
@given(name=st.sampled_from([*COMPILE_JOB, "seed"]), value=BAD)
def test_compile_job(name, value):
    keywords = {**COMPILE_JOB, name: value}
    if name in ("jobs", "files", "headers", "runs") and _big(value, 5):
        keywords[name] = 10**7 + int(value)  # past the bound, not a slow valid build
    if name == "timeout" and isinstance(value, (int, float)) and value > 60:
        keywords["timeout"] = 10**9  # past the bound
    _answer(name, lambda: zm.compile_job(zm.gnumach(2005), **keywords))


@FUZZ
@given(name=st.sampled_from(["processes", "ports_each", "path", "nofile", "policy"]), value=BAD)
def test_open_ports(name, value):
    keywords: dict[str, Any] = {"processes": 1, "ports_each": 5, name: value}
    if name not in ("path", "policy") and _big(value, 5):
        keywords[name] = 10**7 + int(value)
    _answer(name, lambda: zm.open_ports(zm.gnumach(2005), **keywords))


@FUZZ
@given(
    ops=st.one_of(
        BAD,
        st.lists(st.tuples(st.sampled_from(["tasks", "ipc ports", "nope", ""]), BAD), max_size=3),
        st.lists(BAD, max_size=3),
    )
)
def test_replay(ops):
    _answer("ops", lambda: zm.replay(SMALL, ops))


@FUZZ
@given(value=BAD)
def test_boot_and_max_bootable_zone_map(value):
    _answer("kernel", lambda: zm.boot(value))
    _answer("kernel", lambda: zm.max_bootable_zone_map(value))


@FUZZ
@given(name=st.sampled_from(["zone_map", "ram", "kalloc_map", "system_tasks", "mach_ipc_compat"]), value=BAD)
def test_gnumach(name, value):
    _answer(name, lambda: zm.gnumach(2005, **{name: value}))
    _answer("year", lambda: zm.gnumach(value))


@FUZZ
@given(
    name=st.sampled_from(["nproc", "ports_per_task", "threads_per_task", "kmem_quota", "oom_killer", "oom_margin"]),
    value=BAD,
)
def test_limits(name, value):
    _answer(name, lambda: zm.Limits(**{name: value}))


@FUZZ
@given(
    name=st.sampled_from(["kind", "cap", "delay_from", "delay", "pool", "free_threads", "reserve", "backoff"]),
    value=BAD,
)
def test_thread_policy(name, value):
    keywords = {"key": "k", "name": "n", "kind": "throttle", "source": "s", name: value}
    _answer(name, lambda: ThreadPolicy(**keywords))


@FUZZ
@given(value=BAD)
def test_format_size_and_parse_size(value):
    _answer("nbytes", lambda: zm.format_size(value))
    _answer("size", lambda: zm.parse_size(value))


@FUZZ
@given(name=st.sampled_from(["runs", "seed", "batch_size", "progress", "grid"]), value=BAD)
def test_sweep(name, value):
    keywords: dict[str, Any] = {"grid": {"year": [2005], "zone_map": ["1 MiB"]}, "runs": 2, "seed": 1}
    keywords["progress"] = False
    keywords[name] = value
    if name in ("runs", "batch_size") and _big(value, 2):
        keywords[name] = 10**7 + int(value)
    _answer(name, lambda: zm.sweep(zm.fork_bomb, **keywords))


@FUZZ
@given(name=st.sampled_from(["start", "chain", "user", "interval", "stop_at", "seed", "kernel"]), value=BAD)
def test_system(name, value):
    if name in ("seed", "kernel"):
        _answer(name, lambda: zm.System(**{"kernel": SMALL, "seed": 1, name: value}))
        return
    if name == "stop_at" and _big(value, 5):
        value = 10**7 + int(value)  # past the bound
    _answer(name, lambda: zm.System(SMALL, seed=1).fork_bomb(**{name: value}))


@FUZZ
@given(name=st.sampled_from([name for name in CLOSE_BURST if name not in ("runs", "progress")]), value=BAD)
def test_system_close_burst(name, value):
    keywords = {name: value for name, value in CLOSE_BURST.items() if name not in ("runs", "progress")}
    keywords[name] = value
    for count in ("processes", "ports_each", "other"):
        if _big(keywords[count], 5):
            keywords[count] = 10**7 + int(keywords[count])
    _answer(name, lambda: zm.System(zm.gnumach(2005), seed=1).close_burst(**keywords))


@FUZZ
@given(value=BAD)
def test_system_kill(value):
    system = zm.System(zm.gnumach(2005), seed=1)
    system.open_ports(processes=1, ports_each=3)
    before = (repr(system), system.servers(), system.zones())
    _answer("server", lambda: system.kill(value))
    assert (repr(system), system.servers(), system.zones()) == before


@FUZZ
@given(name=st.sampled_from(["zone_map", "ram", "year", "distro", "allocator", "task_max", "nope"]), value=BAD)
def test_kernel_replace(name, value):
    _answer(name, lambda: SMALL.replace(**{name: value}))


@FUZZ
@given(value=BAD)
def test_policy_and_zone_names(value):
    _answer("policy", lambda: zm.policies.policy(value))
    result = zm.fork_bomb(SMALL, seed=1)
    _answer("name", lambda: result.zone(value))
    _answer("kernel", lambda: zm.provenance_table(value))


@FUZZ
@given(value=BAD)
def test_warmup(value):
    valid = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 1 <= value <= (os.cpu_count() or 1)
    if valid:  # a real warm-up, outside the time bound (tests/test_startup.py runs it)
        return
    _answer("processes", lambda: zm.warmup(processes=value))


def test_every_public_callable_is_fuzzed():
    """Each public callable taking arguments has a test here (a new entry point needs one)."""
    fuzzed = {"fork_bomb", "close_burst", "open_ports", "compile_job", "replay", "boot", "max_bootable_zone_map"}
    fuzzed |= {"gnumach"}
    fuzzed |= {"Limits", "format_size", "parse_size", "sweep", "System", "provenance_table", "warmup"}
    no_arguments: set[str] = set()
    results = {name for name in zm.__all__ if name.endswith(("Result", "Runs", "Report", "Usage"))}
    others = {"Kernel", "SystemDown", "ServerTable", "errors", "policies", "YEARS", "__version__"}  # replace, policy
    assert set(zm.__all__) == fuzzed | no_arguments | results | others
