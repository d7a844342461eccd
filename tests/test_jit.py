"""The kernel decorator: numba options in one place, inlining, and kernels without reference counting."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import numba
import numpy as np
import pytest

from zonemodel._kernels import jit as _jit


def _body(dispatcher: object) -> str:
    """The LLVM IR of the one compiled function itself (not its Python wrapper)."""
    ir = next(iter(dispatcher.inspect_llvm().values()))  # type: ignore[attr-defined]
    functions = re.split(r"\ndefine ", ir)[1:]  # [0] is the module header
    own = [f for f in functions if "cpython" not in f[:300] and "_add_twice" in f[:300]]
    assert own, "the compiled function was not found in its IR"
    return own[0]


def _make(refcount: bool) -> object:
    # A fresh function each time, compiled without the disk cache (inspection needs the compiled module).
    @_jit.kernel(inline=True)
    def _add(a: np.ndarray, b: np.ndarray, i: int) -> float:
        a[i] += b[i]
        if a[i] > 10:  # two exits: the shape that numba's refcount pruning leaves alone
            b[0] += 1
            return 1.0
        return a[i]

    def _add_twice(a: np.ndarray, b: np.ndarray, n: int) -> int:
        for i in range(n):
            _add(a, b, i)
            _add(a, b, i)
        return int(a[0])

    options = {**_jit._OPTIONS}
    if not refcount and _jit._HAS_NRT_OPTION:
        options["_nrt"] = False
    return numba.njit(cache=False, **options)(_add_twice)


@pytest.mark.skipif(not _jit._HAS_NRT_OPTION, reason="this numba has no _nrt option; kernels keep refcounting")
def test_refcount_false_compiles_without_nrt_calls() -> None:
    a, b = np.arange(8.0), np.ones(8)
    plain, bare = _make(refcount=True), _make(refcount=False)
    assert plain(a.copy(), b.copy(), 8) == bare(a.copy(), b.copy(), 8)  # type: ignore[operator]
    assert "@NRT_incref(" not in _body(bare)
    assert "@NRT_decref(" not in _body(bare)


def test_kernel_maps_its_options_to_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    def f() -> None:
        pass

    bare = _jit.kernel(refcount=False)(f)
    assert bare.targetoptions.get("_nrt") is (False if _jit._HAS_NRT_OPTION else None)  # type: ignore[attr-defined]
    monkeypatch.setattr(_jit, "_HAS_NRT_OPTION", False)
    plain = _jit.kernel(refcount=False)(f)
    assert "_nrt" not in plain.targetoptions  # type: ignore[attr-defined]  # a numba without the option
    inlined = _jit.kernel(inline=True)(f)
    assert inlined.targetoptions["forceinline"] is True  # type: ignore[attr-defined]
    assert "inline" not in inlined.targetoptions  # type: ignore[attr-defined]  # not numba's IR inlining
    assert bare.targetoptions["forceinline"] is False  # type: ignore[attr-defined]  # never inherited
    assert inlined.targetoptions["nogil"] is True  # type: ignore[attr-defined]
    assert isinstance(inlined, _jit._Dispatcher)


def _levels_while(call: object) -> set[int]:
    """The LLVM optimisation levels of the pass pipelines numba builds while *call* runs."""
    from numba.core import codegen

    seen: set[int] = set()
    build = codegen.JITCPUCodegen._pass_builder

    def spy(self: object, **kwargs: object) -> object:
        seen.add(int(kwargs.get("opt", numba.core.config.OPT)))  # type: ignore[call-overload]
        return build(self, **kwargs)  # type: ignore[arg-type]

    codegen.JITCPUCodegen._pass_builder = spy  # type: ignore[method-assign]
    try:
        call()  # type: ignore[operator]
    finally:
        codegen.JITCPUCodegen._pass_builder = build  # type: ignore[method-assign]
    return seen


def _kernel_and_plain(monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """A kernel and the same function under plain ``numba.njit``, neither cached (so each call compiles)."""

    def f(a: np.ndarray) -> float:
        return float(a[0] + a[1])

    monkeypatch.setattr(_jit, "CACHE", False)
    return _jit.kernel(entry=True)(f), numba.njit(cache=False)(f)


def test_kernels_compile_at_their_level_other_numba_code_at_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBA_OPT", raising=False)
    ours, plain = _kernel_and_plain(monkeypatch)
    before = numba.core.config.OPT
    a = np.arange(2.0)
    # The kernel's function and module pipelines at OPT_LEVEL; numba's cheap inlining pass is always at 0.
    assert _levels_while(lambda: ours(a)) == {_jit.OPT_LEVEL, 0}  # type: ignore[operator]
    assert numba.core.config.OPT is before
    assert _levels_while(lambda: plain(a)) == {int(before), 0}  # type: ignore[operator]
    assert int(before) != _jit.OPT_LEVEL  # numba's default (3) differs, so the check above can fail


def test_a_users_numba_opt_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_OPT", "2")
    ours, _ = _kernel_and_plain(monkeypatch)
    try:
        assert _levels_while(lambda: ours(np.arange(2.0))) == {2, 0}  # type: ignore[operator]
    finally:
        monkeypatch.delenv("NUMBA_OPT")
        numba.core.config.reload_config()  # back to numba's default for the tests that follow
    assert int(numba.core.config.OPT) == 3


def test_a_kernel_called_with_constants_compiles_one_signature() -> None:
    @_jit.kernel
    def _bump(a: np.ndarray, i: int) -> int:
        a[i] += 1
        return int(a[i])

    def _three(a: np.ndarray) -> int:
        return _bump(a, 0) + _bump(a, 1) + _bump(a, 2)  # three literal constants

    caller = _jit.kernel(entry=True)(_three)
    a = np.zeros(3, dtype=np.int64)
    assert caller(a) == 3  # type: ignore[operator]
    assert a.tolist() == [1, 1, 1]
    assert [str(sig) for sig in _bump.signatures] == ["(Array(int64, 1, 'C', False, aligned=True), int64)"]  # type: ignore[attr-defined]


def test_only_entry_kernels_have_a_python_wrapper() -> None:
    @_jit.kernel
    def _inner(a: np.ndarray) -> int:
        a[0] += 1
        return int(a[0])

    def _outer(a: np.ndarray) -> int:
        return _inner(a) + _inner(a)

    outer = _jit.kernel(entry=True)(_outer)
    a = np.zeros(2, dtype=np.int64)
    assert outer(a) == 3  # type: ignore[operator]
    assert len(_inner.signatures) == 1  # type: ignore[attr-defined]  # compiled, for its caller
    assert _inner.targetoptions["no_cpython_wrapper"] is True  # type: ignore[attr-defined]
    assert "no_cpython_wrapper" not in outer.targetoptions  # type: ignore[attr-defined]
    assert outer.targetoptions["no_cfunc_wrapper"] is True  # type: ignore[attr-defined]
    # Called from Python, although compiled: an error that says why, not a jump to address 0.
    with pytest.raises(TypeError, match=r"_inner is a kernel that only other kernels call.*entry=True"):
        _inner(a)  # type: ignore[operator]
    assert a.tolist() == [2, 0]


def _symbols(dispatcher: object, name: str) -> tuple[bool, bool]:
    """Whether the caller's compiled module defines (holds a copy of) and declares (calls by symbol) kernel *name*."""
    ir = "\n".join(dispatcher.inspect_llvm().values())  # type: ignore[attr-defined]
    defined = re.findall(r"^define [^@]*@(\S+?)\(", ir, flags=re.M)
    declared = re.findall(r"^declare [^@]*@(\S+?)\(", ir, flags=re.M)
    return any(name in sym for sym in defined), any(name in sym for sym in declared)


def test_a_large_kernel_is_called_by_its_symbol_a_small_one_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    def _small_sum(a: np.ndarray) -> int:
        return int(a[0] + a[1])

    def _large_sum(a: np.ndarray) -> int:
        return int(a[0] - a[1])

    def _both(a: np.ndarray) -> int:
        return small(a) * 10 + large(a)

    monkeypatch.setattr(_jit, "CACHE", False)  # inspection needs the compiled modules, not cached code
    small = _jit.kernel(refcount=False)(_small_sum)
    large = _jit.kernel(refcount=False)(_large_sum)
    caller = _jit.kernel(entry=True)(_both)
    monkeypatch.setattr(_jit, "SHARED_BYTES", 0)  # large is compiled while every kernel counts as large
    large.compile((numba.int64[::1],))  # type: ignore[attr-defined]
    monkeypatch.undo()
    assert caller(np.array([5, 2])) == 73  # type: ignore[operator]
    assert not _symbols(caller, "_small_sum")[1]  # copied (and likely inlined by LLVM), not called by symbol
    assert _symbols(caller, "_large_sum") == (False, True)  # only declared: the JIT resolves the call


_PAIR = """
from zonemodel._kernels import jit
from zonemodel._kernels.jit import kernel

jit.SHARED_BYTES = 0  # both kernels are called by their symbol


@kernel(refcount=False)
def _inner(a):
    a[0] += 1
    return a[0]


@kernel(entry=True)
def _outer(a):
    return _inner(a) + _inner(a)
"""


def test_a_caller_loaded_from_the_cache_loads_its_callees_first(tmp_path: Path) -> None:
    # Each run is a new process: the second loads _outer from the cache, and
    # _outer's code calls _inner, which nothing else loads.  Without the loader
    # kept with _outer, LLVM could not resolve the call and would abort the process.
    (tmp_path / "pair.py").write_text(_PAIR)
    code = """
        import numpy as np
        import pair
        a = np.zeros(1, dtype=np.int64)
        print(pair._outer(a), sum(pair._outer.stats.cache_hits.values()), sum(pair._inner.stats.cache_hits.values()))
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}
    command = [sys.executable, "-c", textwrap.dedent(code)]
    runs = [subprocess.run(command, env=env, capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    assert [run.stdout.split() for run in runs] == [["3", "0", "0"], ["3", "1", "1"]]


def test_every_kernel_cache_depends_on_every_kernel_module() -> None:
    from zonemodel._kernels.engine import _serve

    assert _jit._sources_stamp() == _jit._KERNELS_STAMP
    names = [name for name, _, _ in _jit._KERNELS_STAMP]
    assert set(names) >= {"engine.py", "jit.py", "zalloc.py"}
    index = _serve._cache._cache_file  # type: ignore[attr-defined]
    assert index._source_stamp[1] is _jit._KERNELS_STAMP


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 100])
def test_in_chunks_covers_every_replicate_once(threads: int, n: int) -> None:
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def chunk(lo: int, hi: int) -> None:
        with lock:
            seen.append((lo, hi))

    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        _jit.in_chunks(chunk, n)
    finally:
        numba.set_num_threads(previous)
    covered = sorted(i for lo, hi in seen for i in range(lo, hi))
    assert covered == list(range(n))
    assert all(lo < hi for lo, hi in seen)


def test_in_chunks_raises_what_a_chunk_raises() -> None:
    def chunk(lo: int, hi: int) -> None:
        if lo <= 3 < hi:
            raise ValueError("replicate 3")

    with pytest.raises(ValueError, match="replicate 3"):
        _jit.in_chunks(chunk, 10)


_TWO_TYPES = """
from zonemodel._kernels.jit import kernel

@kernel(entry=True)
def double(a):
    return 2 * a[0]
"""


@pytest.mark.skipif(_jit.fcntl is None, reason="no flock: no lock files")
def test_compiling_holds_the_signatures_lock_and_saving_the_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each signature compiles under a lock file of its own; each save holds the kernel's."""
    held: list[str] = []
    real = _jit._file_lock

    @contextlib.contextmanager
    def spy(path: str) -> Iterator[None]:
        held.append(os.path.basename(path))
        with real(path):
            yield

    monkeypatch.setattr(_jit, "_file_lock", spy)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "twotypes.py").write_text(_TWO_TYPES)
    monkeypatch.syspath_prepend(str(tmp_path))
    import twotypes  # type: ignore[import-not-found]

    index = os.path.basename(twotypes.double._cache._cache_file._index_path)
    assert twotypes.double(np.ones(2)) == 2.0
    assert twotypes.double(np.ones(2, dtype=np.int64)) == 2
    twotypes.double(np.ones(2))  # compiled: no lock
    assert len(held) == 4, held
    compiles, saves = held[0::2], held[1::2]
    assert saves == [index + ".lock"] * 2
    assert all(name.startswith(index + ".") and name.endswith(".lock") for name in compiles)
    assert len(set(compiles)) == 2 and not set(compiles) & set(saves), held
