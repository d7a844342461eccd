"""Builds under disk load (issue 14): the kernels against their plain-Python reference, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zonemodel
from tests.reference import builds as ref
from tests.test_servers import _policy, _scheduler
from zonemodel.errors import ParameterError
from zonemodel.seeds import replicate_states

CASES = 120
_STATUS = {"survived": "ok", "panic": "panic", "hang": "hang", "deadlock": "deadlock", "unfinished": "unfinished"}


def _disk_kernel(rng: np.random.Generator) -> zonemodel.Kernel:
    """A small random kernel with a fast random disk, small caches and little RAM, so every mechanism shows."""
    sched = _scheduler(rng)
    sched["null_stall_chance"] = 0.0
    resident = int(rng.integers(8, 24))
    return zonemodel.gnumach(
        int(rng.choice([2005, 2007])),
        zone_map=int(rng.integers(130, 600)) * 4096,
        ram=(resident + int(rng.integers(12, 40))) * 2**20,
        boot_resident=resident * 2**20,
        system_tasks=int(rng.integers(5, 30)),
        boot_ports=int(rng.integers(0, 500)),
        service_rpc=float(rng.uniform(1e-5, 1e-3)),
        service_fs_rpc=float(rng.uniform(1e-5, 5e-4)),
        service_pager=float(rng.uniform(1e-5, 3e-4)),
        close_interval_fast=float(rng.uniform(5e-6, 5e-5)),
        disk_read_time=float(rng.uniform(1e-4, 2e-2)),
        disk_write_time=float(rng.uniform(1e-4, 2e-2)),
        sync_interval=float(rng.uniform(0.05, 2.0)),
        data_write_max=int(rng.integers(1, 40)),
        object_cache_max=int(rng.integers(1, 60)),
        pageout_burst=int(rng.integers(1, 12)),
        pageout_wait=float(rng.uniform(1e-3, 2e-2)),
        pageout_wait_min=float(rng.uniform(1e-4, 1e-3)),
        io_window_pages=int(rng.integers(1, 10)),
        superblock_in_memory=bool(rng.integers(2)),
        **sched,
    )


def _case(case: int) -> tuple[zonemodel.Kernel, object, dict[str, object], int]:
    rng = np.random.default_rng(np.random.SeedSequence(1414).spawn(CASES)[case])
    kernel = _disk_kernel(rng)
    pol = _policy(rng)
    stage = str(rng.choice(["compile", "install"]))
    headers = int(rng.integers(1, 40))
    lo = int(rng.integers(0, headers + 1))
    args: dict[str, object] = {
        "jobs": int(rng.integers(1, 4)),
        "files": int(rng.integers(1, 8 if stage == "compile" else 600)),
        "stage": stage,
        "headers": headers,
        "headers_per_file": (lo, int(rng.integers(lo, headers + 1))),
        "pages": (1, int(rng.integers(1, 60))),
        "object_pages": (1, int(rng.integers(1, 30))),
        "compile_cpu": float(rng.uniform(1e-3, 0.3)),
        "job_memory": int(rng.integers(0, 256)) * 4096,
        "timeout": float(rng.choice([3600.0, 3600.0, 2.0])),
    }
    return kernel, pol, args, int(rng.integers(2**32))


@pytest.mark.parametrize("case", range(CASES))
def test_build_matches_reference(case: int) -> None:
    """Random small builds, kernels and policies: outcome, threads, syncs, data_returns and latencies agree."""
    kernel, pol, args, seed = _case(case)
    got = zonemodel.compile_job(kernel, policy=pol, seed=seed, **args)  # type: ignore[arg-type]
    assert isinstance(got, zonemodel.BuildResult)
    compiling = args["stage"] == "compile"
    p = ref.Params(
        jobs=args["jobs"], files=args["files"], compile=compiling, headers=args["headers"],  # type: ignore[arg-type]
        headers_per_file=args["headers_per_file"], pages=args["pages"],  # type: ignore[arg-type]
        object_pages=args["object_pages"], compile_cpu=args["compile_cpu"],  # type: ignore[arg-type]
        job_pages=-(-args["job_memory"] // 4096) if compiling else 0, timeout=args["timeout"],  # type: ignore[operator]
    )  # fmt: skip
    want = ref.run(kernel, pol, list(replicate_states(seed, 1)[0]), p, latency_cap=1 << 20)
    assert _STATUS[got.outcome] == want.status.replace("superblock ", "")
    assert ("superblock" in got.message) == (want.status == "superblock deadlock")
    if want.status == "panic":
        assert got.message == f"panic: zalloc: zone {want.zone} exhausted"
    assert got.files_done == want.files_done
    assert list(got.peak_threads.values()) == want.peak_threads
    assert got.peak_pager_backlog == want.peak_pager_backlog
    assert got.peak_dirty_pages == want.peak_dirty
    assert list(got.sync_bursts) == want.bursts
    assert (got.data_returns, got.trimmed, got.laundered) == (want.data_returns, want.trimmed, want.laundered)
    assert got.min_free == want.min_free * kernel.page_size
    assert got.events == want.events
    assert int(got.duration * 1e6) == want.end_us
    assert (got.latency_ms["p50"], got.latency_ms["p99"]) == (want.p50, want.p99)


def test_the_cases_cover_every_mechanism() -> None:
    """The random cases include panics, deadlocks, timeouts, trimming, the pageout daemon and big syncs."""
    seen: dict[str, int] = {}
    for case in range(CASES):
        kernel, pol, args, seed = _case(case)
        r = zonemodel.compile_job(kernel, policy=pol, seed=seed, **args)  # type: ignore[arg-type]
        assert isinstance(r, zonemodel.BuildResult)
        seen[r.outcome] = seen.get(r.outcome, 0) + 1
        seen["trimmed"] = seen.get("trimmed", 0) + (r.trimmed > 0)
        seen["laundered"] = seen.get("laundered", 0) + (r.laundered > 0)
        seen["runs of pages"] = seen.get("runs of pages", 0) + (r.largest_sync > 1)
    for key in ("survived", "panic", "trimmed", "laundered", "runs of pages"):
        assert seen.get(key, 0) > 0, (key, seen)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jobs": 0}, '"jobs" must be an integer between 1 and 256'),
        ({"jobs": -3}, '"jobs"'),
        ({"files": 0}, '"files" must be an integer between 1 and 1000000'),
        ({"stage": "link"}, '"stage"'),
        ({"headers": 0}, '"headers"'),
        ({"headers_per_file": (10, 5)}, '"headers_per_file" must be a pair (fewest, most) with fewest <= most'),
        ({"headers_per_file": (1, 500)}, '"headers_per_file[1]"'),
        ({"pages": (0, 5)}, '"pages[0]"'),
        ({"pages": 5}, '"pages" must be a pair'),
        ({"object_pages": (1, 2_000_000)}, '"object_pages[1]"'),
        ({"compile_cpu": 0.0}, '"compile_cpu" must be a number of seconds in (0, 3600]'),
        ({"compile_cpu": float("nan")}, '"compile_cpu"'),
        ({"timeout": -1.0}, '"timeout"'),
        ({"job_memory": "1 TiB"}, '"job_memory" must be a size from 0 to the machine'),
        ({"jobs": 64, "job_memory": "8 MiB"}, '"jobs" x ("job_memory" + the largest files)'),
        ({"runs": 0}, '"runs"'),
        ({"files": 100_000, "runs": 1000}, '"runs" must be an integer between 1 and 100 for builds of 100000 files'),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError) as err:
        zonemodel.compile_job(zonemodel.gnumach(2005), **kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("field", "value"), [("disk_write_time", 0.0), ("disk_read_time", 86401.0), ("sync_interval", 0.0)]
)
def test_a_disk_out_of_range_is_refused(field: str, value: float) -> None:
    with pytest.raises(ParameterError, match=field):
        zonemodel.gnumach(2005, **{field: value})


def test_the_slab_era_is_refused() -> None:
    with pytest.raises(zonemodel.errors.ConfigurationError, match="allocator"):
        zonemodel.compile_job(zonemodel.gnumach(2013), files=1)


def test_runs_agree_with_single_builds() -> None:
    """Replicate i of runs=N is the single build seeded by child i: same outcome, threads, syncs."""
    k = zonemodel.gnumach(2005, zone_map="2 MiB")
    many = zonemodel.compile_job(k, stage="install", files=300, runs=4, seed=7)
    assert isinstance(many, zonemodel.BuildRuns)
    seq = np.random.SeedSequence(7)
    for i in range(4):
        one = zonemodel.System._replicate(k, seq, i).compile_job(stage="install", files=300)
        assert one.outcome == many.run_outcomes[i]
        assert one.peak_threads["ext2fs pager"] == many.peak_pager_threads[i]
        assert one.largest_sync == many.largest_sync[i]
        assert one.latency_ms["p99"] == many.p99_latency_ms[i] or one.outcome != "survived"


def test_a_system_keeps_the_pager_pool_between_builds() -> None:
    """A second build on a System starts with the threads the first left in ext2fs's pager pool."""
    system = zonemodel.System(zonemodel.gnumach(2005), seed=3)
    first = system.compile_job(stage="install", files=400)
    second = system.compile_job(stage="install", files=10)
    assert first.outcome == second.outcome == "survived"
    assert second.peak_threads["ext2fs pager"] >= first.peak_threads["ext2fs pager"] > 1
    storm = system.close_burst(processes=1, ports_each=100)
    assert storm.outcome == "survived"
