"""The one place where numba options are set.

Kernels are decorated with :func:`kernel`, which compiles lazily (nothing is
compiled at import) with ``cache=True`` and ``nogil=True``.  If numba finds
no writable cache location (a read-only install without ``NUMBA_CACHE_DIR``
and without a writable home), the kernel is built without caching and a
single :class:`CacheWarning` says so.  A ``NUMBA_CACHE_DIR`` that cannot be
written (read-only, or not a directory) gets a warning of its own, naming
it and saying where the kernels go instead (numba falls back to a
``__pycache__`` beside the package) or that they are compiled in every
process.  Set ``ZONEMODEL_NUMBA_CACHE=0`` to turn caching off on purpose.

:func:`will_compile` tells, before a kernel is first called, whether that
call compiles it or loads it (from memory or from numba's cache).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

import numba
import numba.core.options

__all__ = ["CACHE", "COLD_SECONDS", "CacheWarning", "cache_dir_problem", "kernel", "one_thread", "will_compile"]

F = TypeVar("F", bound=Callable[..., Any])

CACHE: bool = os.environ.get("ZONEMODEL_NUMBA_CACHE", "1") != "0"
"""Whether kernels ask numba to cache compiled code on disk."""

_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "boundscheck": False}
_warned = False
_warned_dir = False

COLD_SECONDS: int = 60
"""About how long compiling every kernel takes on two cores (``zonemodel.warmup()`` with an empty cache)."""

# numba's own switch for compiling without its runtime (see ``refcount`` below).
_HAS_NRT_OPTION: bool = hasattr(numba.core.options.DefaultOptions, "_nrt")


class CacheWarning(UserWarning):
    """numba could not cache zonemodel's kernels; they are compiled in every process."""


def cache_dir_problem() -> str:
    """Why ``NUMBA_CACHE_DIR`` cannot be written (e.g. ``"Read-only file system"``), or ``""``: it can, or is unset."""
    path = os.environ.get("NUMBA_CACHE_DIR", "")
    if not path:
        return ""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return ""


def _unwritable_dir(instead: str) -> bool:
    """Warn once if NUMBA_CACHE_DIR is set and cannot be written; *instead* says what happens then."""
    global _warned_dir
    problem = cache_dir_problem()
    if not problem or _warned_dir:
        return bool(problem)
    _warned_dir = True
    warnings.warn(
        f"zonemodel: NUMBA_CACHE_DIR={os.environ['NUMBA_CACHE_DIR']!r} is read-only or cannot be written "
        f"({problem}), so numba cannot cache the kernels there: {instead}. "
        "Point NUMBA_CACHE_DIR at a writable directory.",
        CacheWarning,
        stacklevel=4,
    )
    return True


def _no_cache(exc: Exception) -> None:
    global _warned
    every = f"the kernels will be compiled again in every process (about {COLD_SECONDS} s each time)"
    if _unwritable_dir(f"no other location is writable either, so {every}"):
        _warned = True
    if not _warned:
        _warned = True
        warnings.warn(
            f"zonemodel: no writable numba cache location ({exc}); {every}. "
            "Set NUMBA_CACHE_DIR to a writable directory to cache them.",
            CacheWarning,
            stacklevel=3,
        )


def _check_location(dispatcher: Any) -> None:
    """Warn once if numba cached elsewhere than the NUMBA_CACHE_DIR it was given (it could not write there)."""
    wanted = os.environ.get("NUMBA_CACHE_DIR", "")
    where = getattr(getattr(dispatcher, "_cache", None), "_cache_path", None)
    if wanted and where and not os.path.abspath(where).startswith(os.path.abspath(wanted)):
        _unwritable_dir(f"numba caches them in {where} instead")


def will_compile(dispatcher: Any) -> bool:
    """Whether the next call of *dispatcher* compiles it: nothing in memory and nothing usable in numba's cache.

    A cache index that holds an entry for this machine and this source (its
    stamp, its bytecode) means the call loads the kernel instead.
    """
    if dispatcher.overloads:
        return False
    cache: Any = getattr(dispatcher, "_cache", None)
    index_file = getattr(cache, "_cache_file", None)
    if index_file is None:  # caching off: every process compiles
        return True
    try:
        index = index_file._load_index()
        codegen = dispatcher.targetctx.codegen()
        _, magic, code = cache._index_key(None, codegen)
    except Exception:  # an unreadable or foreign index: numba will compile afresh
        return True
    return not any(key[1] == magic and key[2] == code for key in index)


@overload
def kernel(func: F, /) -> F: ...


@overload
def kernel(*, parallel: bool = ..., inline: bool = ..., refcount: bool = ...) -> Callable[[F], F]: ...


def kernel(
    func: F | None = None, /, *, parallel: bool = False, inline: bool = False, refcount: bool = True
) -> F | Callable[[F], F]:
    """Decorate *func* as a zonemodel kernel (``@njit`` with the project's options).

    ``inline=True`` inlines the kernel into its callers at numba's IR level:
    for small functions on a hot path, which would otherwise pay a call with
    many array arguments (and their reference counting) every time.

    ``refcount=False`` compiles the kernel without numba's runtime (NRT), so
    the kernel and everything inlined into it do no reference counting: for
    the event loops and every allocation-free kernel of the fork bomb (the
    allocator, processes, the background), where the atomic increments and
    decrements of the arrays in a bundle, at every call and every field
    taken from it, cost more than the work itself.  Such a kernel must not
    create or return arrays; its caller owns every array it is given.  numba
    uses the same option for its own hot paths.  If this numba lacks it, the
    kernel is compiled with the runtime (same results, slower).
    """

    def decorate(f: F) -> F:
        options = {**_OPTIONS, "parallel": parallel}
        if inline:
            options["inline"] = "always"
        if not refcount and _HAS_NRT_OPTION:
            options["_nrt"] = False
        if CACHE:
            try:
                dispatcher = numba.njit(cache=True, **options)(f)
            except RuntimeError as exc:  # no cache locator for a read-only install
                if "cannot cache" not in str(exc):
                    raise
                _no_cache(exc)
            else:
                _check_location(dispatcher)
                return dispatcher
        return numba.njit(cache=False, **options)(f)

    return decorate if func is None else decorate(func)


@contextmanager
def one_thread(enabled: bool = True) -> Iterator[None]:
    """Run the kernels called inside on a single numba thread (the setting is local to the calling thread).

    For the workers of an executor, which already use the cores: their
    kernels' prange loops would otherwise oversubscribe them.
    """
    if not enabled:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
