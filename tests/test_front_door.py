"""The front door (issue 16): bad inputs get a ParameterError that names the parameter and the allowed range.

One test per case, each pinning the answer a user now gets.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

import zonemodel as zm
from zonemodel.errors import ParameterError
from zonemodel.model.policies import ThreadPolicy

K4 = zm.gnumach(2005, zone_map="4 MiB")
TINY = {"processes": 1, "ports_each": 10}


# ---------------------------------------------------------------------------- runs: a bound, and how to run more


def test_fork_bomb_runs_past_the_bound_fails_at_once():
    """fork_bomb(runs=10**8) raises at once, naming "runs", the range 1..1_000_000 and how to run more."""
    start = time.perf_counter()
    with pytest.raises(
        ParameterError, match=r'"runs" must be an integer between 1 and 1_000_000.*batches.*zonemodel\.sweep'
    ):
        zm.fork_bomb(K4, runs=10**8)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("runs", [2**63, 10**9, 1_000_001])
def test_fork_bomb_huge_runs(runs):
    """Every runs above the bound, up to past int64, gets the same error (no MemoryError, no ValueError)."""
    with pytest.raises(ParameterError, match=r'"runs".*1_000_000.*batches'):
        zm.fork_bomb(K4, runs=runs)


def test_fork_bomb_runs_zero_and_bool():
    """runs=0 and runs=True are refused with the range."""
    for runs in (0, True, 2.0):
        with pytest.raises(ParameterError, match=r'"runs" must be an integer between 1 and 1_000_000'):
            zm.fork_bomb(K4, runs=runs)


def test_close_burst_runs_bound_scales_with_the_storm():
    """close_burst bounds runs x ports (10**9 ports in all), not the memory of its latencies (batches)."""
    with pytest.raises(ParameterError, match=r'"runs" must be an integer between 1 and 20_000 for storms of 50000'):
        zm.close_burst(zm.gnumach(2005), processes=50, ports_each=1000, runs=20_001)
    with pytest.raises(ParameterError, match=r'"runs" must be an integer between 1 and 1_000_000'):
        zm.close_burst(zm.gnumach(2005), **TINY, runs=10**8)


def test_sweep_runs_past_the_bound_fails_at_once():
    """sweep(..., runs=2**40) raises at once, naming "runs" and the range, instead of hanging."""
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=r'"runs" must be an integer between 1 and 1_000_000 per parameter set'):
        zm.sweep(zm.fork_bomb, {"year": [2005]}, runs=2**40, seed=1, progress=False)
    assert time.perf_counter() - start < 5


# ---------------------------------------------------------------------------- typing


def test_package_ships_py_typed():
    """zonemodel/py.typed exists (PEP 561) and the wheel takes the whole package directory."""
    package = Path(zm.__file__).parent
    assert (package / "py.typed").is_file()
    pyproject = (package.parent / "pyproject.toml").read_text()
    assert 'packages = ["zonemodel"]' in pyproject


def test_no_assert_isinstance_on_results_in_the_package():
    """The package narrows result types with typed helpers, not with assert isinstance."""
    package = Path(zm.__file__).parent
    offenders = [str(p) for p in package.rglob("*.py") if "assert isinstance" in p.read_text()]
    assert offenders == []


def test_fork_bomb_runs_helper_always_returns_runs():
    """fork_bomb_runs(runs=1) is a ForkBombRuns whose only value is the single run's count."""
    from zonemodel.experiments.forkbomb import fork_bomb_runs

    runs = fork_bomb_runs(K4, runs=1, seed=1)
    assert isinstance(runs, zm.ForkBombRuns) and runs.values == (zm.fork_bomb(K4, seed=1).processes,)


# ---------------------------------------------------------------------------- format_size


@pytest.mark.parametrize("value", [math.nan, math.inf, 1.5])
def test_format_size_refuses_floats(value):
    """format_size(nan | inf | 1.5) names "nbytes" (it used to print 'nan B', 'inf TiB', '1.5 B')."""
    with pytest.raises(ParameterError, match=r'"nbytes" must be a whole number of bytes'):
        zm.format_size(value)


def test_format_size_refuses_bool():
    """format_size(True) names "nbytes" (it used to print 'True B')."""
    with pytest.raises(ParameterError, match=r'"nbytes" must be a whole number of bytes.*True'):
        zm.format_size(True)


def test_format_size_refuses_strings_and_points_to_parse_size():
    """format_size("8 MiB") names "nbytes" and points to parse_size."""
    with pytest.raises(ParameterError, match=r'"nbytes".*parse_size'):
        zm.format_size("8 MiB")


def test_format_size_takes_numpy_integers():
    """format_size(np.int64(...)) works like the int."""
    assert zm.format_size(np.int64(12 * 2**20)) == "12 MiB"
    assert zm.format_size(np.uint32(100)) == "100 B"


# ---------------------------------------------------------------------------- model values


def test_max_bootable_zone_map_of_none():
    """max_bootable_zone_map(None) names "kernel" (it used to raise AttributeError)."""
    with pytest.raises(ParameterError, match=r'"kernel" must be a zonemodel\.Kernel'):
        zm.max_bootable_zone_map(None)


def test_policy_as_a_list():
    """policy=["debian-throttle"] names "policy" and the keys (it used to raise TypeError: unhashable)."""
    with pytest.raises(ParameterError, match=r'"policy" must be a ThreadPolicy or one of .*debian-throttle'):
        zm.close_burst(zm.gnumach(2005), **TINY, policy=["debian-throttle"])
    with pytest.raises(ParameterError, match=r'"policy"'):
        zm.fork_bomb(K4, interval=1e-3, policy=["debian-throttle"])


def test_thread_policy_delay_as_a_string():
    """ThreadPolicy(delay="2") names "delay" (it used to raise "'<=' not supported")."""
    with pytest.raises(ParameterError, match=r'"delay" must be a number'):
        ThreadPolicy("k", "n", "throttle", "s", delay="2")


def test_thread_policy_cap_past_int64():
    """ThreadPolicy(cap=2**63) names "cap" and the range."""
    with pytest.raises(ParameterError, match=r'"cap" must be an integer between 0 and 1_000_000'):
        ThreadPolicy("k", "n", "throttle", "s", cap=2**63)


def test_limits_nproc_past_int64():
    """Limits(nproc=2**63) names "nproc" and the range (it used to fail later with OverflowError)."""
    with pytest.raises(ParameterError, match=r'"nproc" must be None or an integer between 1 and 1_000_000_000'):
        zm.Limits(nproc=2**63)


def test_limits_kmem_quota_past_int64():
    """Limits(kmem_quota=10**30) names "kmem_quota" and the range (up to 1 TiB)."""
    with pytest.raises(ParameterError, match=r'"kmem_quota" must be between 1 byte and 1 TiB'):
        zm.Limits(kmem_quota=10**30)


def test_boot_failure_repr_gives_the_reason():
    """boot(gnumach(2005, ram="64 GiB")) no longer prints message='': the repr gives the reason."""
    report = zm.boot(zm.gnumach(2005, ram="64 GiB"))
    assert not report.booted and report.message == ""
    assert repr(report).startswith('BootReport(failed, reason="physical memory (64 GiB) plus kernel_map')
    assert repr(zm.boot(zm.gnumach(2005, zone_map="32 MiB"))) == "BootReport(failed, message='panic: kmem_suballoc')"


# ---------------------------------------------------------------------------- replay


def test_replay_ops_not_iterable():
    """replay(k, 5) names "ops" (it used to raise "'int' object is not iterable")."""
    with pytest.raises(ParameterError, match=r'"ops" must be an iterable of \(zone name, count\) pairs'):
        zm.replay(zm.gnumach(2005), 5)


def test_replay_ops_as_a_string():
    """replay(k, "tasks") names "ops" instead of reading it letter by letter."""
    with pytest.raises(ParameterError, match=r'"ops" must be an iterable .* not a string'):
        zm.replay(zm.gnumach(2005), "tasks")


def test_replay_count_past_int64():
    """replay(k, [("ipc ports", 10**30)]) names "ops[0]" and the range of a count."""
    with pytest.raises(ParameterError, match=r'"ops\[0\]": count must be between -1_099_511_627_776 and'):
        zm.replay(zm.gnumach(2005), [("ipc ports", 10**30)])


# ---------------------------------------------------------------------------- numpy scalars


def test_numpy_integers_are_accepted_for_sizes():
    """Sizes take numpy integers: gnumach(zone_map=np.int64), Limits(kmem_quota=np.int64), parse_size."""
    assert zm.gnumach(2005, zone_map=np.int64(4 << 20)).zone_map == 4 << 20
    assert zm.Limits(kmem_quota=np.int64(1 << 20)).kmem_quota == 1 << 20
    assert zm.parse_size(np.uint16(4096)) == 4096


def test_numpy_integers_are_accepted_for_counts():
    """Limits, ThreadPolicy and replay take numpy integers, stored as Python ints (reprs unchanged)."""
    assert repr(zm.Limits(nproc=np.int64(100))) == "Limits(nproc=100)"
    pol = ThreadPolicy("k", "n", "throttle", "s", cap=np.int32(10), delay=np.float32(0.5))
    assert type(pol.cap) is int and pol.delay == 0.5
    assert zm.replay(zm.gnumach(2005), [("tasks", np.int64(10))]).zones[0].in_use == 10


def test_numpy_bools_are_accepted_for_bools():
    """numpy bools are accepted where a bool is: Limits(oom_killer=), Kernel bool fields, chain=."""
    assert zm.Limits(oom_killer=np.bool_(True)).oom_killer is True
    k = zm.gnumach(2005, mach_ipc_compat=np.bool_(False))
    assert k.mach_ipc_compat is False
    assert zm.fork_bomb(K4, chain=np.bool_(False), seed=1).processes == zm.fork_bomb(K4, seed=1).processes


def test_numpy_bools_and_integers_are_accepted_by_sweep():
    """sweep takes numpy scalars for runs, seed, batch_size and progress."""
    grid = {"year": [2005], "zone_map": ["4 MiB"]}
    want = zm.sweep(zm.fork_bomb, grid, runs=3, seed=1, progress=False)
    got = zm.sweep(
        zm.fork_bomb, grid, runs=np.int64(3), seed=np.int64(1), batch_size=np.int32(2), progress=np.bool_(False)
    )
    assert got.equals(want)


# ---------------------------------------------------------------------------- settings accepted and then ignored


def test_policy_without_interval_is_refused():
    """fork_bomb(k, policy="debian-throttle") without interval names "policy" and "interval" (it was ignored)."""
    with pytest.raises(ParameterError, match=r'"policy" \(\'debian-throttle\'\) .* pass interval='):
        zm.fork_bomb(K4, policy="debian-throttle", seed=1)
    # the default policy, named or not, is fine without an interval; any policy is fine with one
    assert zm.fork_bomb(K4, policy="upstream-1997", seed=1).equals(zm.fork_bomb(K4, seed=1))
    assert zm.fork_bomb(K4, policy="debian-throttle", interval=1e-3, seed=1).processes > 0


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("zone_map", -4096, r'"zone_map" must be >= 0 bytes, got -4096'),
        ("zone_map", 5000, r'"zone_map" must be a whole number of 4096-byte pages, got 5000'),
        ("task_max", -1, r'"task_max" must be between 1 and'),
    ],
)
def test_dataclasses_replace_is_validated(field, value, match):
    """dataclasses.replace(k, zone_map=-4096 | 5000, task_max=-1) raises, naming the field and the range."""
    with pytest.raises(ParameterError, match=match):
        dataclasses.replace(K4, **{field: value})


def test_dataclasses_replace_with_a_size_string_runs():
    """fork_bomb(dataclasses.replace(k, zone_map="8 MiB")) works like gnumach(2005, zone_map="8 MiB")."""
    k = dataclasses.replace(K4, zone_map="8 MiB")
    assert k.zone_map == 8 << 20
    assert zm.fork_bomb(k, seed=1).equals(zm.fork_bomb(zm.gnumach(2005, zone_map="8 MiB"), seed=1))


# ---------------------------------------------------------------------------- a kernel that does not boot

NO_BOOT = {
    "panic": (zm.gnumach(2005, zone_map="32 MiB"), r"does not boot: panic: kmem_suballoc: kalloc_map \(8 MiB\)"),
    "zero RAM": (
        zm.gnumach(2005, kernel_map_base="4 GiB", kernel_va="4 GiB", zone_map="3 GiB", ram="64 GiB"),
        r"does not boot: physical memory \(64 GiB\) plus kernel_map \(4 GiB\) exceed",
    ),
}
CALLS = {
    "fork_bomb": lambda k: zm.fork_bomb(k, seed=1),
    "fork_bomb(runs=3)": lambda k: zm.fork_bomb(k, runs=3, seed=1),
    "fork_bomb(interval=)": lambda k: zm.fork_bomb(k, interval=1e-3, runs=2, seed=1),
    "close_burst": lambda k: zm.close_burst(k, **TINY, seed=1),
    "close_burst(runs=3)": lambda k: zm.close_burst(k, **TINY, runs=3, seed=1),
    "open_ports": lambda k: zm.open_ports(k, processes=1, ports_each=5),
    "System": lambda k: zm.System(k, seed=1),
}


@pytest.mark.parametrize("case", list(NO_BOOT))
@pytest.mark.parametrize("call", list(CALLS))
def test_a_kernel_that_does_not_boot_raises_boot_error_everywhere(case, call):
    """Every experiment, runs=1 or N, raises the same BootError: it names "kernel", the failure, zonemodel.boot()."""
    kernel, match = NO_BOOT[case]
    with pytest.raises(zm.errors.BootError, match=r'^"kernel": Kernel\(gnumach 2005.*' + match) as caught:
        CALLS[call](kernel)
    assert isinstance(caught.value, ParameterError)  # a bad "kernel", as far as an experiment goes
    assert "see zonemodel.boot(kernel)" in str(caught.value)
    assert caught.value.report.equals(zm.boot(kernel)) and not caught.value.report.booted


def test_sweep_reports_a_kernel_that_does_not_boot_in_its_row_with_the_console_line():
    """sweep does not raise: the row says "no boot", and its message is the console line (not a placeholder)."""
    table = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["32 MiB"]}, runs=3, seed=1, progress=False).table
    assert (table["outcome"][0], table["message"][0]) == ("no boot", "panic: kmem_suballoc")


# ---------------------------------------------------------------------------- unclear errors


def test_replace_year_says_year_selects_the_preset():
    """k.replace(year=2007) says that "year" selects the preset and names gnumach(year, ...) (not "unknown field")."""
    with pytest.raises(ParameterError, match=r'"year" selects the preset .* zonemodel\.gnumach\(year, \*\*overrides\)'):
        K4.replace(year=2007)
    with pytest.raises(ParameterError, match=r'"year" selects the preset'):
        dataclasses.replace(K4, year=2007)  # it used to make a "gnumach 2007" with 2005's values
    with pytest.raises(ParameterError, match=r'"distro" is chosen with the preset.*gnumach\(year, distro='):
        K4.replace(distro="debian")
    with pytest.raises(zm.errors.UnknownPresetError, match=r"unknown Kernel field 'zonemap'"):
        K4.replace(zonemap="8 MiB")


def test_open_ports_takes_ports_each_like_close_burst():
    """open_ports names its count "ports_each", as close_burst does; the old name is refused by the signature."""
    with pytest.raises(ParameterError, match=r'"ports_each" must be an integer between 1 and 1000000, got 0'):
        zm.open_ports(zm.gnumach(2005), processes=1, ports_each=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'ports'"):
        zm.open_ports(zm.gnumach(2005), processes=1, ports=5)  # type: ignore[call-arg]


def test_sweep_takes_limits_for_fork_bombs():
    """sweep(fork_bomb, {"limits": [...]}) runs (it used to answer "did you mean 'ram_limit'?")."""
    grid = {"kernel": [K4], "limits": [zm.Limits(nproc=100)]}
    result = zm.sweep(zm.fork_bomb, grid, runs=3, seed=1, progress=False)
    assert result.distributions[0].equals(
        zm.fork_bomb(K4, limits=zm.Limits(nproc=100), runs=3, seed=np.random.SeedSequence(1).spawn(1)[0])
    )
    assert (result.table["outcome"][0], result.table["limit"][0]) == ("stopped by a limit", "nproc on the bomber")


def test_numpy_integers_for_stop_at():
    """System.fork_bomb(stop_at=np.int64(10)) works like stop_at=10."""
    assert zm.System(K4, seed=1).fork_bomb(stop_at=np.int64(10)).processes == 10


def test_dataclasses_asdict_of_a_kernel():
    """dataclasses.asdict(kernel) works (it failed: "cannot pickle 'mappingproxy'"), and so does to_dict()."""
    d = dataclasses.asdict(K4)
    assert d["zone_map"] == 4 << 20 and d["year"] == 2005
    assert K4.to_dict() == {k: v for k, v in d.items() if not k.startswith("_")}
    assert json.loads(json.dumps(K4.to_dict()))["ram"] == K4.ram
