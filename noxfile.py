# /// script
# requires-python = ">=3.10"
# dependencies = ["nox>=2025.2.9"]
# ///
"""Task runner for zonemodel: ``python3 -m nox -l`` lists the sessions.

Bare ``nox`` runs tests, lint, doctest and docs; CI also runs ``site`` (a browser).  Pass ``-R`` to
reuse the virtualenvs of an earlier run and skip the installs.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "doctest", "docs"]

ROOT = Path(__file__).resolve().parent
PROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


# One numba cache for every session, outside the source tree: compiled kernels
# are shared between pytest and sphinx-build, and __pycache__ stays free of
# *.nbi/*.nbc files.  An absolute path, since sphinx-build changes directory.
# numba keys a cached kernel on its own file only, so a kernel that inlines a
# function from another module would survive an edit of that module: the
# directory is keyed on a hash of every kernel module, so any edit starts afresh.
def _kernel_sources_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "zonemodel" / "_kernels").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


NUMBA_ENV = {"NUMBA_CACHE_DIR": str(ROOT / ".nox" / "_numba_cache" / _kernel_sources_hash())}

DOCS = "docs"
BUILD = Path("docs", "_build")


def _install(session: nox.Session, *groups: str, package: bool = True) -> None:
    """Install the given dependency groups and, unless told not to, the package (editable)."""
    deps = [dep for group in groups for dep in nox.project.dependency_groups(PROJECT, group)]
    session.install(*(["-e."] if package else []), *deps)


def _sphinx(session: nox.Session, builder: str, *extra: str) -> None:
    """Run one sphinx-build with warnings as errors."""
    session.run(
        "sphinx-build",
        "-b",
        builder,
        "-W",
        "--keep-going",
        *extra,
        DOCS,
        str(BUILD / builder),
        env=NUMBA_ENV,
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Run unit tests, docstring examples and every docs example (Sybil) with pytest."""
    _install(session, "test")
    session.run("pytest", *session.posargs, env=NUMBA_ENV)


@nox.session
def doctest(session: nox.Session) -> None:
    """Run every {doctest} block of the docs through Sphinx's doctest builder."""
    _install(session, "docs")
    _sphinx(session, "doctest")


@nox.session
def docs(session: nox.Session) -> None:
    """Check every {doctest}, then build the site into docs/_build/html (-- --serve: live)."""
    parser = argparse.ArgumentParser(prog="nox -s docs --")
    parser.add_argument("--serve", action="store_true", help="serve with sphinx-autobuild")
    args, sphinx_args = parser.parse_known_args(session.posargs)

    _install(session, "docs")
    if args.serve:
        # Live editing: no doctest pass, so that a broken example does not stop the server.
        session.install("sphinx-autobuild")
        session.run(
            "sphinx-autobuild",
            "-n",
            *sphinx_args,
            DOCS,
            str(BUILD / "html"),
            env=NUMBA_ENV,
        )
        return
    _sphinx(session, "doctest")
    _sphinx(session, "html", "-n", *sphinx_args)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting (ruff) and types (mypy)."""
    # mypy reads the sources; the package itself (and numba) need not be installed.
    _install(session, "lint", package=False)
    session.run("ruff", "check", ".", env=NUMBA_ENV)
    session.run("ruff", "format", "--check", ".", env=NUMBA_ENV)
    session.run("mypy", "zonemodel", env=NUMBA_ENV)


@nox.session(default=False)
def site(session: nox.Session) -> None:
    """Build the HTML site and test it in headless Chromium (tests/test_site.py -m site).

    Needs Debian's chromium (/usr/bin/chromium; .ci/run installs it): Playwright
    drives it, since it cannot download a browser of its own here.  axe-core,
    for the contrast check, comes inside the axe-playwright-python wheel (the
    "site" group).  Screenshots go to docs/_build/screenshots/.
    """
    _install(session, "docs", "site")
    _sphinx(session, "html", "-n")
    session.run(
        "pytest",
        "tests/test_site.py",
        "-m",
        "site",
        *session.posargs,
        env={**NUMBA_ENV, "ZONEMODEL_SITE_HTML": str(ROOT / BUILD / "html")},
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run the benchmarks (tests/benchmarks/run.py); not part of CI."""
    _install(session, "bench")
    session.run("python", "tests/benchmarks/run.py", *session.posargs, env=NUMBA_ENV)
