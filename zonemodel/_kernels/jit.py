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

import hashlib
import importlib
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any, NamedTuple, TypeVar, overload

import numba
import numba.core.config
import numba.core.options
from numba.core import sigutils, types
from numba.core.caching import FunctionCache
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import CPUDispatcher

try:  # POSIX: processes that share a cache compile each kernel once
    import fcntl
except ImportError:  # pragma: no cover - Windows: each process compiles for itself
    fcntl = None  # type: ignore[assignment]
_FLOCK: bool = fcntl is not None
"""Whether this system has ``flock`` (POSIX): processes can take the cache's lock files."""

__all__ = [
    "CACHE",
    "COLD_SECONDS",
    "CacheWarning",
    "cache_dir_problem",
    "in_chunks",
    "kernel",
    "one_thread",
    "will_compile",
]

F = TypeVar("F", bound=Callable[..., Any])

CACHE: bool = os.environ.get("ZONEMODEL_NUMBA_CACHE", "1") != "0"
"""Whether kernels ask numba to cache compiled code on disk."""

_OPTIONS: dict[str, Any] = {
    "nogil": True,
    "error_model": "numpy",
    "boundscheck": False,
    "no_cfunc_wrapper": True,
}
_warned = False
_warned_dir = False

COLD_SECONDS: int = 45
"""About how long compiling every kernel in one process takes on two cores.

Compiling every kernel on an empty cache (``nox -s bench``, section (c), one process) took 39.1 to 43.8 s
on one 2-core machine on 2 December 2026, 25.7 s on a faster one on 3 December, and 45.6 s on
4 December, since the event loop is compiled once for a build and once outside one.
"""

# numba's own switch for compiling without its runtime (see ``refcount`` below).
_HAS_NRT_OPTION: bool = hasattr(numba.core.options.DefaultOptions, "_nrt")


class _Dispatcher(CPUDispatcher):
    """numba's CPU dispatcher, compiling one signature for every constant argument.

    A kernel called from another kernel with a constant (a zone number, a
    slot, ``0``) is typed by numba with that constant's literal type and
    compiled once per constant: ``_zalloc`` once per zone.  This dispatcher
    types such calls with the constant's ordinary type (``int64``) instead,
    so each kernel compiles one signature; LLVM still sees the constant once
    it inlines the call.
    """

    def compile(self, sig: Any) -> Any:
        """Compile (or load) *sig*, holding this signature's lock file in the cache directory.

        Processes started together on one cold cache (the workers of a pool,
        a dask cluster) would each compile every kernel.  With the lock, the
        first compiles and saves to the cache; the others wait for it and
        then load the saved code.  The lock is taken only when the signature
        is not yet compiled in this process, and after numba's own compiler
        lock, so threads cannot deadlock on it; a kernel takes its callees'
        locks while it holds its own, and kernels call one another without
        cycles, so processes cannot either.  The lock is the signature's, not
        the kernel's: two processes compile two signatures of one kernel (the
        event loop in a build and outside one) at the same time.  Without a
        usable cache directory (read-only, no ``flock``) the kernel is
        compiled as usual.
        """
        index = getattr(getattr(getattr(self, "_cache", None), "_cache_file", None), "_index_path", None)
        args, _ = sigutils.normalize_signature(sig)
        if tuple(args) in self.overloads:
            return super().compile(sig)
        lock = _file_lock(_signature_lock(index, tuple(args))) if _FLOCK and index is not None else nullcontext()
        with global_compiler_lock, _optimised(), lock:
            return super().compile(sig)

    def add_overload(self, cres: Any) -> None:
        """Keep a compiled signature; only an entry kernel's goes to numba's Python-side dispatch table.

        A kernel without a CPython wrapper has no Python entry point: were its
        signature in the table, a call from Python would jump to address 0.
        Kept out of it, such a call reaches :meth:`_compile_for_args`, which raises.

        A large kernel is called by its symbol (see :func:`_by_symbol`).

        A signature loaded from the cache gets back, on its code library, the
        loads of the large kernels its code calls: numba keeps them only with
        the compile result, so a kernel compiled here that copies this one's
        code in would otherwise not know to load them, and a later process
        loading that kernel from the cache would find their symbols missing.
        """
        cres.library._reload_init.update(cres.reload_init or ())
        if not self.targetoptions.get("forceinline") and _code_bytes(cres.library) >= SHARED_BYTES:
            selector = self.targetctx._defns[cres.entry_point]
            load = _Load(self.py_func.__module__, self.py_func.__qualname__, tuple(cres.signature.args))
            selector.versions[:] = [(sig, _by_symbol(impl, load)) for sig, impl in selector.versions]
            selector._cache.clear()
        if self.targetoptions.get("no_cpython_wrapper"):
            self.overloads[tuple(cres.signature.args)] = cres
            return
        super().add_overload(cres)

    def _compile_for_args(self, *args: Any, **kws: Any) -> Any:
        if self.targetoptions.get("no_cpython_wrapper"):
            name = f"{self.py_func.__module__}.{self.py_func.__qualname__}"
            raise TypeError(
                f"{name} is a kernel that only other kernels call: it has no Python wrapper "
                "(decorate it with @kernel(entry=True) to call it from Python)"
            )
        return super()._compile_for_args(*args, **kws)  # type: ignore[misc, unused-ignore]  # numba has no stubs

    def get_call_template(self, args: Any, kws: Any) -> Any:
        plain = tuple(types.unliteral(a) for a in args)
        named = {name: types.unliteral(a) for name, a in dict(kws).items()}
        return super().get_call_template(plain, named)


OPT_LEVEL = 1
"""LLVM's optimisation level for the kernels: numba's ``NUMBA_OPT`` while a kernel compiles (numba's default is 3).

Our code is scalar and branchy: what level 3 adds (loop vectorisation,
more inlining and loop passes) costs compile time and buys nothing here.
Paired against level 3 on an empty cache (4 December 2026, 2 cores), a
first close burst compiles in 0.95 times the time and the README's first
fork bomb in 0.97 times (whole processes); warm, 1000 fork bombs take 0.92
times as long and the other experiments the same (issue 17; the CHANGELOG
has the figures).  Machine code is still generated at numba's own level,
which is set once per process.  The setting holds only while numba
compiles a zonemodel kernel (and the numba functions that kernel needs
first), under numba's compiler lock, so other numba code in the process
keeps its own level.  A ``NUMBA_OPT`` in the environment wins: it is the
user's choice for every numba function.
"""


@contextmanager
def _optimised() -> Iterator[None]:
    """Compile at :data:`OPT_LEVEL` inside (caller holds numba's compiler lock); leave a user's ``NUMBA_OPT`` alone."""
    config = numba.core.config
    if "NUMBA_OPT" in os.environ:
        yield
        return
    saved = config.OPT
    ours = type(saved)(OPT_LEVEL)
    config.OPT = ours
    try:
        yield
    finally:
        if config.OPT is ours:  # numba re-reads its environment when it changes: keep what it read then
            config.OPT = saved


SHARED_BYTES = 12_000
"""A kernel whose code is at least this large (LLVM bitcode, about 250 instructions) is called by its symbol.

Smaller kernels are copied into their callers, as numba does by default,
where LLVM inlines them when that pays: the build's handlers and the
allocator's primitives run faster so (issue 17).  Kernels marked
``inline=True`` are always copied.  At 20 000 bytes, ``_zalloc_n`` (called
at six places in ``_spawn_objects``) and ``_background_step`` were copied
and optimised again in every caller: at 12 000 the README's first fork bomb
compiles in about 0.9 times the time, with no warm slowdown that the
machine's noise let us see (3 December 2026, paired runs; see the CHANGELOG).
Lower thresholds were measured and not taken (4 December 2026, one process
each on an empty cache, then warm, best of seven): at 4 000 or 0 bytes the
first ``close_burst`` compiles in 0.92 or 0.91 times the time, but warm, at
4 000, a build runs about 1.3 times and a close burst about 1.5 times as long.
"""


def _code_bytes(library: Any) -> int:
    """The size of the code a caller would copy from *library* (its bitcode, with what it copied in turn)."""
    return len(library._get_module_for_linking().as_bitcode())


class _Load(NamedTuple):
    """Compile (or load from the cache) one kernel's signature: run before a kernel that calls it is loaded."""

    module: str
    qualname: str
    args: tuple[Any, ...]

    def __call__(self) -> None:
        getattr(importlib.import_module(self.module), self.qualname).compile(self.args)


def _by_symbol(impl: Any, load: _Load) -> Any:
    """Lower a call to a compiled kernel without copying the kernel's code into the caller.

    numba links a copy of every kernel a kernel calls (and of everything
    that one calls) into the caller's code, where LLVM optimises it and
    generates machine code for it again: the event loop was compiled once
    for itself and again for every kernel above it.  For a kernel of
    :data:`SHARED_BYTES` or more, the caller only declares it; its machine
    code is already in numba's JIT (a callee is compiled when its caller is
    typed), and the JIT resolves the call.  Each large kernel is thus
    optimised and turned into machine code once.

    A caller loaded from the cache needs such callees loaded first: *load*,
    kept with the caller's cached code (numba's ``reload_init``), does that
    before numba loads the caller's code.
    """

    def call(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        context.active_code_library._reload_init.add(load)
        return impl(context, builder, sig, args)

    call.signature = impl.signature  # type: ignore[attr-defined]
    call.libs = ()  # type: ignore[attr-defined]
    return call


def _signature_lock(index: str, args: tuple[Any, ...]) -> str:
    """The lock file of one signature of the kernel whose cache index is *index* (numba's type names are stable)."""
    return f"{index}.{hashlib.sha1(repr(args).encode()).hexdigest()[:16]}.lock"


class _Cache(FunctionCache):
    """numba's cache of a kernel, saving under the kernel's lock file.

    numba saves a signature by reading the kernel's index, adding an entry
    and a data file name, and writing the index back.  Two processes saving
    two signatures of one kernel at once could otherwise lose an entry or
    write the same data file.  Saving holds no other lock, so it cannot
    deadlock.
    """

    def save_overload(self, sig: Any, data: Any) -> None:
        with _file_lock(self._cache_file._index_path + ".lock") if _FLOCK else nullcontext():
            super().save_overload(sig, data)


LOCK_TIMEOUT = 1800.0
"""Seconds a process waits for another's compile of a kernel before compiling it itself."""


@contextmanager
def _file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on *path*; without one (read-only directory, NFS without locks, timeout), go on.

    Closing the file releases the lock.
    """
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - closed below, which releases the lock
    except OSError:
        yield
        return
    with handle:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break  # another process holds it too long: compile anyway
                time.sleep(0.02)
            except OSError:
                break  # no locks on this file system
        yield


def _njit(f: Callable[..., Any], cache: bool, options: dict[str, Any]) -> Any:
    """``numba.njit(cache=cache, **options)(f)``, built on :class:`_Dispatcher`."""
    targetoptions = {"nopython": True, **options}
    dispatcher = _Dispatcher(py_func=f, locals={}, targetoptions=targetoptions)
    if cache:
        dispatcher._cache = _Cache(dispatcher.py_func)  # numba's enable_caching(), with the lock above
        index = dispatcher._cache._cache_file
        index._source_stamp = (index._source_stamp, _KERNELS_STAMP)
    return dispatcher


def _sources_stamp() -> tuple[tuple[str, float, int], ...]:
    """The name, time and size of every module of this package: a kernel's cache is valid only for these.

    numba keeps a kernel's cached code while the kernel's own file is
    unchanged.  A kernel calls kernels of other modules, which it loads by
    their signature (see :func:`_by_symbol`), so an edit of any module must
    drop every cached kernel.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    stamps = []
    for name in sorted(os.listdir(here)):
        if name.endswith(".py"):
            st = os.stat(os.path.join(here, name))
            stamps.append((name, st.st_mtime, st.st_size))
    return tuple(stamps)


_KERNELS_STAMP = _sources_stamp()


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
def kernel(*, inline: bool = ..., refcount: bool = ..., entry: bool = ...) -> Callable[[F], F]: ...


def kernel(
    func: F | None = None, /, *, inline: bool = False, refcount: bool = True, entry: bool = False
) -> F | Callable[[F], F]:
    """Decorate *func* as a zonemodel kernel (``@njit`` with the project's options).

    ``inline=True`` has LLVM inline the kernel into every caller
    (numba's ``forceinline``: the function is marked ``alwaysinline``): for
    the primitives and handlers on a hot path, which would otherwise pay a
    call with many array arguments every time.  Such a kernel is typed and
    lowered once, like any other; LLVM copies its code where it is called.
    It is compiled without reference counting (as ``refcount=False``), like
    the kernels it is inlined into.  numba's own IR-level inlining
    (``inline="always"``), used before, ran no faster warm, but typed the
    kernel again at every call site and copied its IR each time: the event
    loop took about twice as long to compile (issue 17).

    ``refcount=False`` compiles the kernel without numba's runtime (NRT), so
    the kernel and everything inlined into it do no reference counting: for
    the event loops and every allocation-free kernel of the fork bomb (the
    allocator, processes, the background), where the atomic increments and
    decrements of the arrays in a bundle, at every call and every field
    taken from it, cost more than the work itself.  Such a kernel must not
    create or return arrays; its caller owns every array it is given.  numba
    uses the same option for its own hot paths.  If this numba lacks it, the
    kernel is compiled with the runtime (same results, slower).

    ``entry=True`` marks a kernel that Python calls (the experiments, the
    tests, the bench).  Only those get numba's CPython wrapper, the code
    that unboxes every array of every bundle from Python objects: for a
    kernel that takes three bundles it costs as much to compile as the
    kernel itself.  Calling another kernel from Python raises a
    ``TypeError`` that says so (see ``_Dispatcher.add_overload``).
    No kernel gets a C wrapper (``no_cfunc_wrapper``): nothing takes a
    kernel's address.
    """

    def decorate(f: F) -> F:
        # forceinline is always given: numba would otherwise let a kernel inherit
        # it from the kernel whose compile compiles it first.
        options = {**_OPTIONS, "forceinline": inline}
        if (inline or not refcount) and _HAS_NRT_OPTION:
            options["_nrt"] = False
        if not entry:
            options["no_cpython_wrapper"] = True
        if CACHE:
            try:
                dispatcher = _njit(f, True, options)
            except RuntimeError as exc:  # no cache locator for a read-only install
                if "cannot cache" not in str(exc):
                    raise
                _no_cache(exc)
            else:
                _check_location(dispatcher)
                return dispatcher
        return _njit(f, False, options)

    return decorate if func is None else decorate(func)


@contextmanager
def one_thread(enabled: bool = True) -> Iterator[None]:
    """Run the kernels called inside on a single numba thread (the setting is local to the calling thread).

    For the workers of an executor, which already use the cores: the
    replicate loops of :func:`in_chunks` would otherwise oversubscribe them.
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


CHUNKS_PER_THREAD = 4
"""Chunks each thread of :func:`in_chunks` gets on average (replicates differ in length)."""


def in_chunks(chunk: Callable[[int, int], None], n: int) -> None:
    """Call ``chunk(lo, hi)`` on consecutive ranges that cover ``range(n)``, on numba's threads.

    The replicate loops of the ``*_many`` functions run here instead of in a
    numba ``prange``: a ``prange`` kernel costs seconds more to compile than
    the same loop over a range, and the kernels release the GIL
    (``nogil=True``), so Python threads run them in parallel just as well.
    The number of threads is numba's setting for the calling thread
    (``numba.get_num_threads()``; :func:`one_thread` makes it 1).  Each
    replicate owns its state and its output row, so the result does not
    depend on how the ranges are cut or scheduled.
    """
    threads = min(numba.get_num_threads(), n)
    if threads <= 1:
        if n > 0:
            chunk(0, n)
        return
    parts = min(n, threads * CHUNKS_PER_THREAD)
    bounds = [n * i // parts for i in range(parts + 1)]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zonemodel") as pool:
        for _ in pool.map(lambda i: chunk(bounds[i], bounds[i + 1]), range(parts)):
            pass
