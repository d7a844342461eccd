"""The kernel decorator: numba options in one place, inlining, and kernels without reference counting."""

from __future__ import annotations

import re

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
    import numba

    return numba.njit(cache=False, **options)(_add_twice)


@pytest.mark.skipif(not _jit._HAS_NRT_OPTION, reason="this numba has no _nrt option; kernels keep refcounting")
def test_refcount_false_compiles_without_nrt_calls() -> None:
    a, b = np.arange(8.0), np.ones(8)
    plain, bare = _make(refcount=True), _make(refcount=False)
    assert plain(a.copy(), b.copy(), 8) == bare(a.copy(), b.copy(), 8)  # type: ignore[operator]
    assert "@NRT_incref(" not in _body(bare)
    assert "@NRT_decref(" not in _body(bare)


def test_kernel_maps_refcount_false_to_numba_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []

    def fake_njit(**options: object) -> object:
        seen.append(options)
        return lambda f: f

    monkeypatch.setattr(_jit.numba, "njit", fake_njit)
    _jit.kernel(refcount=False)(lambda: None)
    assert seen[-1].get("_nrt") is (False if _jit._HAS_NRT_OPTION else None)
    monkeypatch.setattr(_jit, "_HAS_NRT_OPTION", False)
    _jit.kernel(refcount=False)(lambda: None)
    assert "_nrt" not in seen[-1]  # a numba without the option: the ordinary build, same results
    _jit.kernel(inline=True)(lambda: None)
    assert seen[-1]["inline"] == "always" and seen[-1]["nogil"] is True
