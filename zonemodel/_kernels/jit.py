"""The one place where numba options are set.

Kernels are decorated with :func:`kernel`, which compiles lazily (nothing is
compiled at import) with ``cache=True`` and ``nogil=True``.  If numba finds
no writable cache location (a read-only install without ``NUMBA_CACHE_DIR``
and without a writable home), the kernel is built without caching and a
single :class:`CacheWarning` says so.  Set ``ZONEMODEL_NUMBA_CACHE=0`` to turn
caching off on purpose.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

import numba
import numba.core.options

__all__ = ["CACHE", "CacheWarning", "kernel", "one_thread"]

F = TypeVar("F", bound=Callable[..., Any])

CACHE: bool = os.environ.get("ZONEMODEL_NUMBA_CACHE", "1") != "0"
"""Whether kernels ask numba to cache compiled code on disk."""

_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "boundscheck": False}
_warned = False

# numba's own switch for compiling without its runtime (see ``refcount`` below).
_HAS_NRT_OPTION: bool = hasattr(numba.core.options.DefaultOptions, "_nrt")


class CacheWarning(UserWarning):
    """numba could not cache zonemodel's kernels; they are compiled in every process."""


def _no_cache(exc: Exception) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"zonemodel: no writable numba cache location ({exc}); kernels will be compiled "
            "in every process. Set NUMBA_CACHE_DIR to a writable directory to cache them.",
            CacheWarning,
            stacklevel=3,
        )


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
                return numba.njit(cache=True, **options)(f)
            except RuntimeError as exc:  # no cache locator for a read-only install
                if "cannot cache" not in str(exc):
                    raise
                _no_cache(exc)
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
