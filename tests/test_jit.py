"""The kernel decorator: numba options in one place, inlining, and kernels without reference counting."""

from __future__ import annotations

import re
import threading

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
