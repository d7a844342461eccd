"""Start-up: importing compiles nothing, warmup() compiles everything, read-only installs still run.

Each check runs in a fresh Python process, since a kernel compiled by another
test in this process would hide what import or warmup did.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import zonemodel as zm

ROOT = Path(zm.__file__).resolve().parent.parent

# Kernels that no public experiment calls (warmup cannot reach them): none.
UNREACHED: set[str] = set()


def run_python(code: str, *, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Run *code* in a new interpreter; it prints one JSON document, returned decoded."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def environment(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_import_compiles_nothing() -> None:
    found = run_python(
        """
        import json, sys
        import zonemodel
        from zonemodel.studies.warmup import dispatchers
        kernels = dispatchers()
        print(json.dumps({
            "kernels": len(kernels),
            "compiled": [name for name, d in kernels.items() if d.signatures],
            "optional": sorted(m for m in ("distributed", "dask", "pandas", "tqdm") if m in sys.modules),
        }))
        """
    )
    assert found["kernels"] >= 10  # the kernel modules are imported, and found
    assert found["compiled"] == []
    assert found["optional"] == []  # optional dependencies load only when used


WARMUP_TWICE = """
    import json
    import zonemodel
    first = zonemodel.warmup()
    second = zonemodel.warmup()
    print(json.dumps({
        "first": [first.seconds, first.compiled, first.loaded, first.cached, list(first.kernels)],
        "second": [second.seconds, second.compiled, second.loaded, second.cached],
        "steps": [name for name, _ in first.steps],
        "repr": repr(first),
    }))
"""


def test_warmup_loads_every_kernel_from_a_warm_cache() -> None:
    """With the suite's cache (NUMBA_CACHE_DIR), a second process compiles nothing."""
    run_python(WARMUP_TWICE)  # fills the cache if this suite has not yet compiled everything
    found = run_python(WARMUP_TWICE)
    _, compiled, loaded, cached, kernels = found["first"]
    if not cached:
        pytest.skip("numba has no writable cache location here")
    assert compiled == 0
    assert loaded > 0
    assert "zonemodel._kernels.forkbomb._bomb_chunk" in kernels
    assert found["repr"].startswith(f"WarmupReport({len(kernels)} kernels ready in ")
    assert "fork_bomb" in found["steps"]
    # in memory now: the second call compiles and loads nothing
    assert found["second"][1:] == [0, 0, True]


def _without_dac_override() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE, so that root too obeys permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, cap_dac_override = 24, 1
    if libc.prctl(pr_capbset_drop, cap_dac_override, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)")


@pytest.fixture
def read_only_copy() -> Iterator[Path]:
    """A copy of the zonemodel package in a read-only directory (made writable again afterwards)."""
    top = Path(tempfile.mkdtemp(prefix="zonemodel-ro-"))
    shutil.copytree(ROOT / "zonemodel", top / "zonemodel", ignore=shutil.ignore_patterns("__pycache__"))
    paths = [top, *top.rglob("*")]
    try:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        yield top
    finally:
        for path in paths:
            path.chmod(stat.S_IRWXU)
        shutil.rmtree(top)


@pytest.mark.slow
def test_read_only_install_without_cache_dir_still_runs(read_only_copy: Path) -> None:
    """No writable cache location at all: zonemodel imports, warns once, and computes the same numbers.

    Nothing can come from a cache there, so this is also where warmup() is
    seen to compile every kernel.
    """
    top = str(read_only_copy)
    env = environment(
        NUMBA_CACHE_DIR=None,
        ZONEMODEL_NUMBA_CACHE=None,
        HOME=top,
        XDG_CACHE_HOME=top,
        PYTHONPATH=top,
        PYTHONDONTWRITEBYTECODE="1",
    )
    preexec: Callable[[], None] | None = _without_dac_override if os.geteuid() == 0 else None
    try:
        found = run_python(
            f"""
            import json, os, warnings
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                import zonemodel
                kernel = zonemodel.gnumach(2005, zone_map="4 MiB")
                one = zonemodel.fork_bomb(kernel, seed=1)
                many = zonemodel.fork_bomb(kernel, runs=3, seed=1)
                report = zonemodel.warmup()
                again = zonemodel.warmup()
            from zonemodel.studies.warmup import dispatchers
            print(json.dumps({{
                "report": [report.compiled, report.loaded, report.cached, again.compiled, again.loaded],
                "idle": [name for name, d in dispatchers().items() if not d.signatures],
                "writable": os.access({top!r}, os.W_OK) or os.access({top!r} + "/zonemodel", os.W_OK),
                "file": zonemodel.__file__,
                "warnings": [[w.category.__name__, str(w.message)] for w in caught],
                "one": [one.processes, one.limit],
                "many": list(many.values),
            }}))
            """,
            env=env,
            cwd=top,
            preexec_fn=preexec,
        )
    except (
        OSError,
        subprocess.SubprocessError,
    ) as exc:  # prctl refused (no CAP_SETPCAP): cannot make the copy read-only for root
        pytest.skip(f"cannot drop CAP_DAC_OVERRIDE here: {exc}")
    if found["writable"]:
        pytest.skip("the copy is writable for this user (root keeping CAP_DAC_OVERRIDE?)")
    assert found["file"] == str(read_only_copy / "zonemodel" / "__init__.py")
    assert [category for category, _ in found["warnings"]] == ["CacheWarning"]
    assert "no writable numba cache location" in found["warnings"][0][1]
    assert "NUMBA_CACHE_DIR" in found["warnings"][0][1]
    kernel = zm.gnumach(2005, zone_map="4 MiB")
    one = zm.fork_bomb(kernel, seed=1)
    many = zm.fork_bomb(kernel, runs=3, seed=1)
    assert isinstance(one, zm.ForkBombResult)
    assert isinstance(many, zm.ForkBombRuns)
    assert found["one"] == [one.processes, one.limit]
    assert found["many"] == list(many.values)
    assert not any(p.name == "__pycache__" for p in read_only_copy.rglob("*"))
    compiled, loaded, cached, compiled_again, loaded_again = found["report"]
    assert compiled > 0  # what the fork bombs above did not need yet
    assert loaded == 0
    assert cached is False
    assert (compiled_again, loaded_again) == (0, 0)
    assert set(found["idle"]) <= UNREACHED  # every kernel a public experiment reaches is compiled


# A kernel whose compile takes a while, so that two processes started together overlap.
SLOW_KERNEL = """
from zonemodel._kernels.jit import kernel

@kernel(entry=True)
def slow(a, n):
    total = 0.0
    for i in range(n):
{body}
    return total
"""


def _slow_kernel_together(tmp_path: Path, dtypes: tuple[str, ...]) -> list[list[int]]:
    """Start one process per dtype on one cold cache, each calling ``slow`` on an array of it the same moment.

    Each returns [signatures compiled, signatures loaded from the cache].
    """
    lines = "\n".join(f"        total += a[i % a.shape[0]] * {k} - (total % {k + 1})" for k in range(1, 150))
    (tmp_path / "slowmod.py").write_text(SLOW_KERNEL.format(body=lines))
    go = tmp_path / "go"
    code = f"""
        import json, os, sys, time
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import slowmod
        open(os.path.join({str(tmp_path)!r}, "ready-" + str(os.getpid())), "w").close()
        while not os.path.exists({str(go)!r}):
            time.sleep(0.005)
        slowmod.slow(np.ones(4, dtype=sys.argv[1]), 10)
        stats = slowmod.slow.stats
        print(json.dumps([sum(stats.cache_misses.values()), sum(stats.cache_hits.values())]))
    """
    env = environment(NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), dtype], env=env, stdout=subprocess.PIPE, text=True
        )
        for dtype in dtypes
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < len(dtypes) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.write_text("")
    return [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]


@pytest.mark.skipif(sys.platform == "win32", reason="no flock: each process compiles for itself")
def test_processes_on_one_cold_cache_compile_each_kernel_once(tmp_path: Path) -> None:
    results = _slow_kernel_together(tmp_path, ("float64", "float64"))
    compiled = sorted(r[0] for r in results)
    loaded = sorted(r[1] for r in results)
    assert (compiled, loaded) == ([0, 1], [0, 1]), results  # one compiled, the other waited and loaded it


@pytest.mark.skipif(sys.platform == "win32", reason="no flock: each process compiles for itself")
def test_two_signatures_of_one_kernel_compile_at_once_and_both_are_cached(tmp_path: Path) -> None:
    """Two processes compiling two signatures of one kernel together: each compiles its own, both are saved.

    The lock is a signature's (the event loop compiles in a build and outside
    one at the same time), and saving holds the kernel's, so neither entry of
    the kernel's cache index is lost: a third process loads both.
    """
    results = _slow_kernel_together(tmp_path, ("float64", "int64"))
    assert results == [[1, 0], [1, 0]], results
    third = f"""
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import slowmod
        for dtype in ("float64", "int64"):
            slowmod.slow(np.ones(4, dtype=dtype), 10)
        stats = slowmod.slow.stats
        print(json.dumps([sum(stats.cache_misses.values()), sum(stats.cache_hits.values())]))
    """
    env = environment(NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    assert run_python(third, env=env) == [0, 2]  # both signatures are in the cache


def test_a_storm_compiles_none_of_the_paging_kernels() -> None:
    """Outside a build the event loop has no build branch: none of :mod:`.paging`'s handlers is compiled for it."""
    found = run_python(
        """
        import json
        import zonemodel as zm
        from zonemodel.studies.warmup import dispatchers
        def paging():
            return sorted(name.rsplit(".", 1)[1] for name, d in dispatchers().items()
                          if ".paging." in name and d.signatures)
        def loops():
            from zonemodel._kernels.engine import _serve
            return [str(sig[-1]) for sig in _serve.signatures]
        zm.close_burst(zm.gnumach(2005), processes=2, ports_each=10, seed=0)
        storm = [paging(), loops()]
        zm.compile_job(zm.gnumach(2005), files=1, headers_per_file=(1, 2), seed=0)
        print(json.dumps({"storm": storm, "build": [len(paging()), loops()]}))
        """
    )
    # A data_return's kmsg is freed on any path (_took_return, small, copied into its callers when loaded from
    # the cache); the large handlers, called by their symbol, would be compiled or loaded on their own.
    assert set(found["storm"][0]) <= {"_took_return"} and found["storm"][1] == ["none"], found
    paged, loops = found["build"]
    assert paged > 20, found  # a build compiles (or loads) them
    assert len(loops) == 2 and loops[0] == "none" and loops[1].startswith("Paging("), found


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="no flock: helpers could not share the compiling")
def test_warmup_with_a_helper_compiles_each_signature_once(tmp_path: Path) -> None:
    """On a cold cache, warmup(processes=2) splits the compiling with a helper; none is done twice."""
    cache = tmp_path / "cache"
    found = run_python(
        """
        import contextlib, io, json
        import zonemodel
        with contextlib.redirect_stderr(io.StringIO()) as said:
            report = zonemodel.warmup(processes=2)
        print(json.dumps({
            "said": said.getvalue(),
            "counts": [report.processes, report.compiled, report.helpers_compiled, report.loaded],
            "kernels": len(report.kernels),
            "steps": [name for name, _ in report.steps],
            "repr": repr(report),
        }))
        """,
        env=environment(NUMBA_CACHE_DIR=str(cache), ZONEMODEL_NUMBA_CACHE=None),
    )
    processes, compiled, helpers_compiled, loaded = found["counts"]
    assert processes == 2
    assert compiled > 0 and helpers_compiled > 0  # both processes compiled a share
    assert loaded > 0  # this process loaded what the helper saved
    saved = len(list(cache.rglob("*.nbc")))
    assert compiled + helpers_compiled == saved, (found, saved)  # each signature compiled by one process only
    assert f"{compiled} compiled here, {helpers_compiled} by 1 helper, {loaded} loaded from cache" in found["repr"]
    assert found["steps"][0] == "compile_job" and "fork_bomb(interval=0.01)" in found["steps"]
    # one first-use line, warmup's own (not the first experiment's)
    assert found["said"].count("zonemodel: ") == 1, found["said"]
    assert found["said"].startswith("zonemodel: warmup in 2 processes: compiling zonemodel kernels for first use")
    again = run_python(WARMUP_TWICE, env=environment(NUMBA_CACHE_DIR=str(cache), ZONEMODEL_NUMBA_CACHE=None))
    assert again["first"][1] == 0  # a later process loads what the two compiled, and compiles nothing


@pytest.mark.slow
def test_kernels_compiled_over_several_processes_load_in_another(tmp_path: Path) -> None:
    """Experiments first run in different processes on one cache, then loaded together in a third.

    A kernel compiled in the second process copies in code that the first
    compiled (loaded from the cache), and that code calls large kernels by
    their symbol.  The third process must load those large kernels before
    that kernel: before the fix, it stopped with "LLVM ERROR: Symbol not found".
    """
    env = environment(NUMBA_CACHE_DIR=str(tmp_path / "cache"), ZONEMODEL_NUMBA_CACHE=None)
    first = ("open_ports", "compile_job", "compile_job(runs=2)", "fork_bomb", "fork_bomb(limits=...)", "replay")
    second = ("fork_bomb(interval=0.01)", "close_burst", "System.kill")
    for names in (first, second):
        run_python(
            f"""
            import json
            from zonemodel.studies.warmup import _steps
            print(json.dumps([step() is None for name, step in _steps() if name in {names!r}]))
            """,
            env=env,
        )
    found = run_python(WARMUP_TWICE, env=env)
    _, compiled, loaded, cached, _ = found["first"]
    assert cached and loaded > 0
    assert compiled < loaded, found["first"]  # what the two processes did not run is compiled now


def test_warmup_starts_no_helper_when_everything_is_cached() -> None:
    """With the suite's warm cache, asking for helpers starts none: there is nothing to compile."""
    run_python(WARMUP_TWICE)  # fills the cache if this suite has not yet compiled everything
    found = run_python(
        """
        import json
        import zonemodel
        report = zonemodel.warmup(processes=2)
        print(json.dumps([report.processes, report.compiled, report.helpers_compiled, report.cached]))
        """
    )
    if not found[3]:
        pytest.skip("numba has no writable cache location here")
    assert found[:3] == [1, 0, 0]


@pytest.mark.parametrize("value", [0, -1, True, 2.0, "2", 10**6])
def test_warmup_refuses_a_bad_processes(value: object) -> None:
    with pytest.raises(zm.errors.ParameterError, match='"processes" must be an integer'):
        zm.warmup(processes=value)  # type: ignore[arg-type]


def test_warmup_without_a_cache_compiles_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caching off: helpers would have no cache to save to; asked for, that is a warning, not silence."""
    from zonemodel.studies import warmup as module

    monkeypatch.setattr(module, "CACHE", False)
    with pytest.warns(UserWarning, match=r"warmup\(processes=2\): the kernels have no on-disk cache to share"):
        assert module._processes(2, 2, compiling=True) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert module._processes(None, 2, compiling=True) == 1  # the default: no warning
    monkeypatch.setattr(module, "CACHE", True)
    assert module._processes(None, 4, compiling=False) == 1  # nothing to compile: no helper
    assert module._processes(3, 4, compiling=True) in (1, 3)  # 1 only where numba has no cache location


def test_warmup_shares_every_step_once() -> None:
    """However many processes, each step is one process's share, and this process has the event loop's."""
    from zonemodel.studies import warmup as module

    steps = len(module._steps())
    for parts in range(1, 6):
        shares = [list(module._share(steps, part, parts)) for part in range(parts)]
        assert sorted(i for share in shares for i in share) == list(range(steps)), parts
        if parts > 1:
            assert shares[0] == list(range(module.LOOP_STEPS))


def test_warmup_goes_on_when_a_helper_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """No interpreter to start: a warning, and this process compiles (or loads) everything itself."""
    from zonemodel.studies import warmup as module

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no such interpreter")

    monkeypatch.setattr(module.subprocess, "Popen", refuse)
    monkeypatch.setattr(module, "_will_compile", lambda: True)
    monkeypatch.setattr(module, "_processes", lambda asked, cores, compiling: 2)
    with pytest.warns(RuntimeWarning, match=r"cannot start a helper process \(no such interpreter\)"):
        report = module.warmup()
    assert (report.processes, report.helpers_compiled) == (1, 0)
    assert "zonemodel._kernels.forkbomb._bomb_chunk" in report.kernels
    assert [name for name, _ in report.steps] == [name for name, _ in module._steps()]
