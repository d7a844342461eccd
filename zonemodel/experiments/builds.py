"""Builds under heavy disk load: ``make -j`` jobs compiling or installing files (the page's first trigger).

:func:`compile_job` boots a fresh system and runs a build on it: *jobs*
jobs take the build's files one after another.  A compiled file is gcc
exec'ing cc1 (which looks up and reads its headers, computes and writes a
.s file) and as (which reads the .s and writes the .o); the .s is
unlinked.  An installed file (``stage="install"``, the packaging stage
that copies a package's files into ``debian/tmp``) is a lookup, the file's
pages written and a close.

ext2fs serves the jobs' RPCs in one pool and the kernel's pager messages
in another; its pager writes pages to one disk, a synchronous request
per page.  Pages reach the pager as data_returns: from the sync every
5 s, from the object cache when it holds too many objects, and from the
pageout daemon when memory runs short.  Each pager message that waits for
the disk holds a thread, and the pool's thread policy decides whether it
gets a new one.  See :mod:`zonemodel._kernels.paging` for the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, overload

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.builds import _build, _build_chunk, _build_many, _build_row, _new_paging
from zonemodel.errors import ParameterError
from zonemodel.experiments.common import (
    BOOT_KERNELS,
    MAX_RUNS,
    SERVER_NAMES,
    Booted,
    check_choice,
    check_count,
    check_runs,
    check_zalloc,
    compile_notice,
    describe,
    in_batches,
    most_common,
    server_model,
    up_or_raise,
    words_of_rows,
)
from zonemodel.experiments.progress import check_progress
from zonemodel.experiments.results import BuildResult, BuildRuns, zone_usage
from zonemodel.model.kernel import Kernel
from zonemodel.model.policies import UPSTREAM_1997, PolicyKey, ThreadPolicy
from zonemodel.model.policies import policy as get_policy
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.seeds import SeedLike, as_seed_sequence, replicate_states
from zonemodel.units import parse_size

__all__ = ["BUILD_STAGES", "POOL_NAMES", "BuildResult", "BuildRuns", "compile_job"]

Stage = Literal["compile", "install"]
"""What each file of a build is: compiled (gcc -c) or installed (copied into place)."""
BUILD_STAGES: Final[tuple[str, ...]] = ("compile", "install")
POOL_NAMES: Final = (*SERVER_NAMES, "ext2fs pager")
"""The thread pools of a build, in the kernels' order: the storms' servers, then ext2fs's pager pool."""
MAX_JOBS: Final = 256
MAX_FILES: Final = 1_000_000
MAX_PAGES: Final = 1_000_000
MAX_HEADERS: Final = 100_000
MAX_BUILD_FILES: Final = 10_000_000
"""The most files one ``compile_job(runs=N)`` call builds in all: N x files."""
TRACE_SECONDS: Final = 0.25
"""Seconds between two rows of a build's trace (at most :data:`TRACE_ROWS` rows)."""
TRACE_ROWS: Final = 4800
LATENCY_CAP: Final = 1 << 20
"""Latencies one build keeps (the first ones served)."""
RUNS_LATENCY_CAP: Final = 1 << 17


@dataclass(frozen=True)
class _Build:
    """A validated build."""

    kernel: Kernel
    jobs: int
    files: int
    stage: Stage
    policy: ThreadPolicy
    headers: int
    headers_per_file: tuple[int, int]
    pages: tuple[int, int]
    object_pages: tuple[int, int]
    compile_cpu: float
    job_memory: int
    timeout: float


def _check_range(name: str, value: object, low: int, high: int) -> tuple[int, int]:
    """A ``(fewest, most)`` pair of integers with ``low <= fewest <= most <= high``."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ParameterError(
            f'"{name}" must be a pair (fewest, most) of integers from {low} to {high:_}, got {value!r}'
        )
    lo = check_count(f"{name}[0]", value[0], low, high)
    hi = check_count(f"{name}[1]", value[1], low, high)
    if lo > hi:
        raise ParameterError(f'"{name}" must be a pair (fewest, most) with fewest <= most, got {value!r}')
    return lo, hi


def _check_real(name: str, value: object, low: float, high: float) -> float:
    """A real number in (*low*, *high*]."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(f'"{name}" must be a number of seconds in ({low:g}, {high:g}], got {value!r}')
    x = float(value)
    if not (low < x <= high) or math.isnan(x):
        raise ParameterError(f'"{name}" must be a number of seconds in ({low:g}, {high:g}], got {value!r}')
    return x


def check_build(
    kernel: object, *, jobs: object, files: object, stage: object, policy: object, headers: object,
    headers_per_file: object, pages: object, object_pages: object, compile_cpu: object, job_memory: object,
    timeout: object,
) -> _Build:  # fmt: skip
    """Validate a build's arguments (each error names the parameter and its range).

    ``pages=None`` is the stage's default: 25-250 pages per .s file, 1-8 per installed file.
    """
    k = check_zalloc(kernel)
    st: Stage = check_choice("stage", stage, BUILD_STAGES)  # type: ignore[assignment]
    if pages is None:
        pages = (25, 250) if st == "compile" else (1, 8)
    n_jobs = check_count("jobs", jobs, 1, MAX_JOBS)
    n_files = check_count("files", files, 1, MAX_FILES)
    pol = policy if isinstance(policy, ThreadPolicy) else get_policy(policy)  # type: ignore[arg-type]
    n_headers = check_count("headers", headers, 1, MAX_HEADERS)
    per_file = _check_range("headers_per_file", headers_per_file, 0, n_headers)
    page_range = _check_range("pages", pages, 1, MAX_PAGES)
    o_range = _check_range("object_pages", object_pages, 1, MAX_PAGES)
    cpu = _check_real("compile_cpu", compile_cpu, 0.0, 3600.0)
    if isinstance(job_memory, bool):
        raise ParameterError(f'"job_memory" must be a size such as "16 MiB" or a number of bytes, got {job_memory!r}')
    memory = parse_size(job_memory, name="job_memory") if isinstance(job_memory, str) else job_memory
    if not isinstance(memory, int | np.integer) or memory < 0 or memory > k.ram:
        raise ParameterError(
            f'"job_memory" must be a size from 0 to the machine\'s RAM ({k.ram:_} bytes), got {job_memory!r}'
        )
    limit = _check_real("timeout", timeout, 0.0, 30 * 86400.0)
    build = _Build(
        k, n_jobs, n_files, st, pol, n_headers, per_file, page_range, o_range, cpu, int(memory), limit
    )  # fmt: skip
    _check_fits(build)
    return build


def _check_fits(build: _Build) -> None:
    """Refuse a build whose jobs' own memory and largest files cannot fit the machine's free RAM."""
    booted = up_or_raise(build.kernel)
    page = build.kernel.page_size
    compiling = build.stage == "compile"
    per_job = (-(-build.job_memory // page) + build.object_pages[1] if compiling else 0) + build.pages[1]
    free = booted.ram_free // page
    if build.jobs * per_job >= free:
        raise ParameterError(
            f'"jobs" x ("job_memory" + the largest files): {build.jobs} jobs of {per_job:_} pages each need '
            f"{build.jobs * per_job:_} pages, and the machine has {free:_} pages free after boot; "
            "run fewer jobs, smaller ones or smaller files"
        )


def _arrays(build: _Build, booted: Booted, threads_now: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The build's parameters (``PG_*`` and ``PP_*``) and array sizes (``CAP_*``)."""
    k = build.kernel
    compile_stage = build.stage == "compile"
    pc = np.zeros(L.PG_SIZE, dtype=np.int64)
    pc[L.PG_HEADERS] = build.headers if compile_stage else 0
    pc[L.PG_FILES] = build.files
    pc[L.PG_STAGE] = L.STAGE_COMPILE if compile_stage else L.STAGE_INSTALL
    pc[L.PG_H_LO], pc[L.PG_H_HI] = build.headers_per_file
    pc[L.PG_S_LO], pc[L.PG_S_HI] = build.pages
    pc[L.PG_O_LO], pc[L.PG_O_HI] = build.object_pages
    pc[L.PG_JOB_PAGES] = -(-build.job_memory // k.page_size) if compile_stage else 0
    pc[L.PG_CACHE_MAX] = k.object_cache_max
    pc[L.PG_WRITE_MAX] = k.data_write_max
    pc[L.PG_WINDOW] = k.io_window_pages
    pc[L.PG_BURST] = k.pageout_burst
    pc[L.PG_SB_KEEP] = int(k.superblock_in_memory)
    pp = np.zeros(L.PP_SIZE, dtype=np.float64)
    pp[L.PP_READ] = k.disk_read_time
    pp[L.PP_WRITE] = k.disk_write_time
    pp[L.PP_SYNC] = k.sync_interval
    pp[L.PP_WAIT] = k.pageout_wait
    pp[L.PP_WAIT_MIN] = k.pageout_wait_min
    pp[L.PP_COMPILE] = build.compile_cpu
    h_hi = build.headers_per_file[1] if compile_stage else 0
    ops = 3 * h_hi + L.OPS_CAP_FIXED
    gp = booted.machine.gp
    zone_bytes = int(gp[L.G_ZONE_MAP])
    most_threads = threads_now + build.jobs + zone_bytes // int(gp[L.G_THREAD_BYTES]) + 64
    pages_per_file = 2 * build.pages[1] + (build.object_pages[1] if compile_stage else 0)
    messages = build.files * (4 * ops + 4 * pages_per_file + 8) + 64
    caps = np.zeros(L.CAP_SIZE, dtype=np.int64)
    caps[L.CAP_OPS] = ops
    caps[L.CAP_LRU] = build.files * (h_hi + 4) + 16
    caps[L.CAP_THREADS] = most_threads
    caps[L.CAP_SYNCS] = min(1 << 20, int(build.timeout / k.sync_interval) + 2)
    caps[L.CAP_QUEUE] = min(messages, zone_bytes // 64 + 64)
    return pc, pp, caps


def build_servers(build: _Build, booted: Booted, sv: np.ndarray | None = None) -> L.ServerModel:
    """The pools of a build: the storms' servers' bundle with a row for ext2fs's pager and its service times."""
    k = build.kernel
    srv = server_model(k, build.policy)
    svc = np.full((L.N_POOLS, L.N_MSG_KINDS), k.service_rpc, dtype=np.float64)
    svc[: L.N_SERVERS] = srv.svc
    svc[L.EXT2FS, L.MSG_CALL] = k.service_fs_rpc
    svc[L.PAGER, :] = k.service_pager
    rows = np.zeros((L.N_POOLS, L.S_COLS), dtype=np.int64) if sv is None else sv
    return srv._replace(sv=rows, svc=svc)


def _trace_rows(trace: np.ndarray, taken: int) -> tuple[tuple[float, int, int, int, int], ...]:
    """A build's trace rows as (seconds, ext2fs threads, pager threads, zone-map bytes, dirty pages).

    *taken* is added to each row's zone-map bytes: the pages the zone map keeps
    for its own page table, which :attr:`Booted.zone_map_used` counts too.
    """
    return tuple(
        (
            float(r[L.TR_TIME]),
            int(r[L.TR_EXT2FS_THREADS]),
            int(r[L.TR_PAGER_THREADS]),
            int(r[L.TR_ZONE_MAP_USED]) + taken,
            int(r[L.TR_DIRTY]),
        )
        for r in trace
    )


def _words(row: np.void) -> tuple[str, str, str]:
    status = int(row["status"])
    if status == L.NO_MEMORY:  # in a build, it is the sync's copies that find no page
        return "hang", "physical memory", "[no message: the sync waits for a free page for ever]"
    outcome, limit, message = describe(status, int(row["panic_zone"]))
    return outcome, limit, message


def build_on(
    build: _Build, stream: np.ndarray, booted: Booted, srv: L.ServerModel, start: np.ndarray, threads_now: int = 0
) -> BuildResult:
    """Run *build* on *booted* (changed in place) with the pools of *srv*; its result, trace and zones.

    ``start[s]`` is 1 for each pool that starts with this build (its first threads).
    """
    pc, pp, caps = _arrays(build, booted, threads_now)
    m = booted.machine
    pg = _new_paging(m, pc, pp, build.jobs, caps)
    lat = np.empty(LATENCY_CAP, dtype=np.float64)
    trace = np.zeros((TRACE_ROWS, L.TR_BUILD_SIZE), dtype=np.float64)
    status, end, events, eng = _build(
        m, srv, stream, pg, build.jobs, int(caps[L.CAP_QUEUE]), start, lat, trace, TRACE_SECONDS, build.timeout
    )
    rows = np.zeros(1, dtype=L.BUILD_ROW_DTYPE)
    _build_row(m, srv, eng, status, end, events, rows, 0)
    row = rows[0]
    outcome, limit, message = _words(row)
    sv = srv.sv
    n_rows = int(eng.pg.pc[L.PG_ROWS])
    syncs = min(int(eng.pg.pc[L.PG_SYNCS]), eng.pg.bursts.shape[0])
    return BuildResult(
        outcome=outcome,  # type: ignore[arg-type]
        message=message,
        limit=limit,
        stage=build.stage,
        jobs=build.jobs,
        files=build.files,
        files_done=int(row["files_done"]),
        policy=build.policy.key,
        duration=float(end),
        peak_threads={name: int(sv[s, L.S_PEAK_THREADS]) for s, name in enumerate(POOL_NAMES)},
        peak_pager_backlog=int(row["peak_pager_backlog"]),
        peak_dirty_pages=int(row["peak_dirty"]),
        sync_bursts=tuple(int(x) for x in eng.pg.bursts[:syncs]),
        data_returns=int(row["data_returns"]),
        trimmed=int(row["trimmed"]),
        laundered=int(row["laundered"]),
        min_free=int(row["min_free_pages"]) * build.kernel.page_size,
        latency_ms={"p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"])},
        zone_map_used=booted.zone_map_used,
        zone_map_size=build.kernel.zone_map,
        zones=zone_usage(ZONE_NAMES, m.zones),
        trace=_trace_rows(trace[:n_rows], booted.zone_map_used - int(m.ms[L.M_MAP_USED]) * build.kernel.page_size),
        events=int(events),
        kernel=build.kernel,
    )


@overload
def compile_job(
    kernel: Kernel, *, jobs: int = ..., files: int = ..., stage: Stage = ..., policy: PolicyKey | ThreadPolicy = ...,
    headers: int = ..., headers_per_file: tuple[int, int] = ..., pages: tuple[int, int] | None = ...,
    object_pages: tuple[int, int] = ..., compile_cpu: float = ..., job_memory: int | str = ...,
    timeout: float = ..., runs: Literal[1] = ..., seed: SeedLike = ..., progress: bool | None = ...,
) -> BuildResult: ...  # fmt: skip


@overload
def compile_job(
    kernel: Kernel, *, jobs: int = ..., files: int = ..., stage: Stage = ..., policy: PolicyKey | ThreadPolicy = ...,
    headers: int = ..., headers_per_file: tuple[int, int] = ..., pages: tuple[int, int] | None = ...,
    object_pages: tuple[int, int] = ..., compile_cpu: float = ..., job_memory: int | str = ...,
    timeout: float = ..., runs: int, seed: SeedLike = ..., progress: bool | None = ...,
) -> BuildResult | BuildRuns: ...  # fmt: skip


def compile_job(
    kernel: Kernel,
    *,
    jobs: int = 1,
    files: int = 100,
    stage: Stage = "compile",
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    headers: int = 400,
    headers_per_file: tuple[int, int] = (100, 250),
    pages: tuple[int, int] | None = None,
    object_pages: tuple[int, int] = (5, 75),
    compile_cpu: float = 1.0,
    job_memory: int | str = "16 MiB",
    timeout: float = 3600.0,
    runs: int = 1,
    seed: SeedLike = None,
    progress: bool | None = None,
) -> BuildResult | BuildRuns:
    """Run a build: *jobs* jobs (``make -j``) compile or install *files* files, on a freshly booted system.

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset; its disk, sync, object cache, pageout and
        superblock fields (see the parameters page) shape the build.
    jobs
        Jobs running at once, 1 to 256 (``make -j``).
    files
        Files of the build, 1 to 1 000 000; each job takes the next one.
    stage
        ``"compile"``: each file is a ``gcc -c`` (three execs, headers, a .s
        and a .o); ``"install"``: each file is copied into place, the
        packaging stage that writes many files within one sync interval.
    policy
        The servers' thread policy, for every pool (ext2fs's two included).
    headers, headers_per_file
        Distinct headers the build's files include (1 to 100 000), and how
        many each compiled file reads, fewest and most (``disk-load-2005.md``
        §5: 100-250).
    pages
        Pages of each .s file (compile, default 25-250) or of each installed
        file (install, default 1-8), fewest and most.
    object_pages
        Pages of each .o file, fewest and most (default 5-75).
    compile_cpu
        Mean CPU seconds cc1 computes per file (an estimate: a typical C file
        at -O2 -g on a 2005 PC).
    job_memory
        cc1's own memory while it runs (default 16 MiB).
    timeout
        Simulated seconds after which an unfinished build stops (outcome
        ``"unfinished"``), at most 30 days.
    runs, seed, progress
        As for :func:`zonemodel.fork_bomb`; ``runs x files`` is at most
        10 000 000.

    Returns
    -------
    BuildResult or BuildRuns
        The build's result with ``runs=1``, else the distribution of the runs.

    Raises
    ------
    zonemodel.errors.ParameterError
        For any argument out of its range, and for a build whose jobs and
        largest files do not fit the machine's free RAM.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.compile_job(zonemodel.gnumach(2005), files=2, seed=1)
    >>> r.outcome, r.files_done
    ('survived', 2)
    """
    build = check_build(
        kernel,
        jobs=jobs,
        files=files,
        stage=stage,
        policy=policy,
        headers=headers,
        headers_per_file=headers_per_file,
        pages=pages,
        object_pages=object_pages,
        compile_cpu=compile_cpu,
        job_memory=job_memory,
        timeout=timeout,
    )
    n = check_runs(runs, min(MAX_RUNS, MAX_BUILD_FILES // build.files), f" for builds of {build.files} files")
    ss = as_seed_sequence(seed)
    shown = check_progress(progress)
    compile_notice(*BOOT_KERNELS, *((_build, _build_row, _new_paging) if n == 1 else (_build_chunk,)))
    if n == 1:  # a fresh System, one experiment
        from zonemodel.experiments.system import System

        return System(build.kernel, seed=ss)._run_build(build)
    booted = up_or_raise(build.kernel)
    rows_all: list[np.ndarray] = []
    in_batches(
        lambda first, count: _run(build, ss, first, count, booted),
        n,
        rows_all.append,
        most=max(1, min(1_000, 50_000 // build.files)),
        progress=shown,
        desc="compile_job",
    )
    return summarise(np.concatenate(rows_all), build, ss)


def _run(build: _Build, seed: SeedLike, first: int, count: int, booted: Booted) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of a build, each on a copy of *booted*."""
    rows = np.zeros(count, dtype=L.BUILD_ROW_DTYPE)
    pc, pp, caps = _arrays(build, booted, 0)
    states = replicate_states(seed, count, start=first)
    _build_many(
        booted.machine, build_servers(build, booted), states, pc, pp, build.jobs, caps, RUNS_LATENCY_CAP, build.timeout,
        rows,
    )  # fmt: skip
    return rows


def summarise(rows: np.ndarray, build: _Build, seed: np.random.SeedSequence | None) -> BuildRuns:
    """The :class:`BuildRuns` of replicate *rows* (BUILD_ROW_DTYPE)."""
    outcomes, limits, messages = words_of_rows(rows, _words, ("status", "panic_zone"))
    return BuildRuns(
        outcomes=most_common(outcomes),
        messages=most_common(messages),
        limits=most_common(limits),
        run_outcomes=tuple(outcomes),
        run_messages=tuple(messages),
        run_limits=tuple(limits),
        stage=build.stage,
        policy=build.policy.key,
        files_done=tuple(rows["files_done"].tolist()),
        duration=tuple((rows["end_us"] / 1e6).tolist()),
        peak_ext2fs_threads=tuple(rows["peak_ext2fs_threads"].tolist()),
        peak_pager_threads=tuple(rows["peak_pager_threads"].tolist()),
        peak_pager_backlog=tuple(rows["peak_pager_backlog"].tolist()),
        peak_dirty_pages=tuple(rows["peak_dirty"].tolist()),
        largest_sync=tuple(rows["largest_sync"].tolist()),
        data_returns=tuple(rows["data_returns"].tolist()),
        p50_latency_ms=tuple(rows["p50_latency_ms"].tolist()),
        p99_latency_ms=tuple(rows["p99_latency_ms"].tolist()),
        zone_map_used=tuple((rows["zone_map_pages"] * build.kernel.page_size).tolist()),
        kernel=build.kernel,
        seed=seed,
    )
