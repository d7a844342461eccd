"""Sphinx configuration for the zonemodel site (MyST Markdown, pydata-sphinx-theme).

Build with ``python3 -m nox -s docs`` (HTML, nitpicky, warnings are errors) or
``python3 -m nox -s doctest`` (runs every ``{doctest}`` block).  No network is
needed: intersphinx and linkcheck are deliberately not used.
"""

from __future__ import annotations

import doctest
import importlib.metadata
import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from packaging.version import Version

HERE = Path(__file__).resolve().parent
# _doctest_setup.py lives here; local extensions live in _ext/.
sys.path[:0] = [str(HERE), str(HERE / "_ext")]

# sphinx-autodoc-typehints 3.6 calls a Sphinx API deprecated for Sphinx 10; the
# Python warning is noise in every build log (it is not a Sphinx warning, -W ignores it).
warnings.filterwarnings("ignore", message=r".*_RstSnippetParser\.set_application.*", module="sphinx_autodoc_typehints")

# -- Project ------------------------------------------------------------------
project = "zonemodel"
author = "the zonemodel contributors"
copyright = "2026, the zonemodel contributors"
release = importlib.metadata.version("zonemodel")
version = ".".join(release.split(".")[:2])

# The repository, its issue tracker and its "edit this page" links are read from
# pyproject.toml's [project.urls] (one place; README.md names the same).
_urls = dict(
    re.findall(
        r'^"?([A-Za-z ()]+?)"?\s*=\s*"(https://[^"]+)"',
        (HERE.parent / "pyproject.toml").read_text(encoding="utf-8").partition("[project.urls]")[2].partition("\n[")[0],
        flags=re.MULTILINE,
    )
)
REPOSITORY = _urls["Source"]
ISSUES = _urls["Issues"]
_owner, _repo = REPOSITORY.removeprefix("https://github.com/").split("/")[:2]

# -- General ------------------------------------------------------------------
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # after napoleon, so that it sees the converted docstrings
    "sphinx_autodoc_typehints",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
    # [source] links next to every documented object
    "sphinx.ext.viewcode",
    # a copy button on every code block (input lines only: see copybutton_* below)
    "sphinx_copybutton",
    # local, in _ext/
    "zonemodel_tables",
    "claims",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
# _templates/page-sections.html: the section navigation of the article and the tutorial.
templates_path = ["_templates"]

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]

# docs/_ext/claims.py: the pages whose observations must each have a {claim}.
claims_expected = {"kb/zalloc-panics": [f"O{n}" for n in range(1, 22)]}
# How each claim's history reads in its box: the article's revisions, not software versions.
claims_history_labels = {
    "added": "In the page since {rev}",
    "changed": "Changed in {rev}",
    "dropped": "No longer applies on GNU Mach 1.4 ({rev})",
}

# Cross-references must resolve: a broken one fails the build (-n -W).
nitpicky = True
nitpick_ignore_regex = [
    # No intersphinx (the build runs offline), so types documented elsewhere
    # (NumPy, numba, the standard library) cannot resolve; they render unlinked.
    ("py:class", r"(numpy|np|numba|matplotlib)\..*"),
    ("py:class", r"(collections\.abc|types)\..*"),
    ("py:class", r"mappingproxy"),  # how a MappingProxyType value is named
    ("py:(class|data)", r"typing\..*"),  # e.g. typing.Literal
    ("py:(func|class)", r"dataclasses\..*"),  # e.g. dataclasses.replace
    ("py:data", r"Ellipsis"),  # the "..." of tuple[int, ...]
]

# -- autodoc / napoleon / typehints ---------------------------------------------
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
always_document_param_types = True
typehints_document_rtype = True
typehints_defaults = "comma"
# Defaults as written in the source: a policy default reads UPSTREAM_1997, not its repr.
autodoc_preserve_defaults = True

# -- doctest ------------------------------------------------------------------
# The same setup module and flags are used by Sybil (docs/conftest.py), so that
# `nox -s doctest` and `nox -s tests` judge every example alike.
doctest_global_setup = "from _doctest_setup import *"
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Docstring examples are run by pytest --doctest-modules, with their module's globals.
doctest_test_doctest_blocks = ""

# -- copy buttons ---------------------------------------------------------------
# Copy what a reader would type: the lines after ">>> " and "... " (or "$ "),
# without the prompts and without the output; a block without prompts is
# copied whole.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True
copybutton_exclude = ".linenos, .gp, .go"

# -- plots --------------------------------------------------------------------
# In MyST, use the plot directive inside {eval-rst} with a path relative to docs/.
plot_basedir = str(HERE)
plot_html_show_formats = False
plot_html_show_source_link = False
# SVG, sharp at any size; its text stays text (zonemodel.studies.figures.STYLE
# sizes it for a phone), and this build writes it so.
plot_formats = ["svg"]
plot_rcparams = {"svg.fonttype": "none"}

# -- HTML ---------------------------------------------------------------------
# The switcher marks this build "dev" (the development build) unless it is the
# build of a release: a version that CHANGELOG.md records under its own heading
# ("## [0.1.0]"), not only under [Unreleased].  No release exists yet.  On Read
# the Docs the "latest" build (the default branch) is "dev" as well, and so is
# the GitHub Pages build of the default branch (.github/workflows/pages.yml).
_changelog = (HERE.parent / "CHANGELOG.md").read_text(encoding="utf-8")
_released = f"## [{release}]" in _changelog and not Version(release).is_prerelease
_is_dev = (
    not _released
    or os.environ.get("READTHEDOCS_VERSION", "") == "latest"
    or os.environ.get("ZONEMODEL_DOCS_VERSION", "") == "dev"
)
# A hosted build knows its address (Read the Docs, or ZONEMODEL_SITE_URL from
# .github/workflows/pages.yml): the switcher's entry then points there.  A local
# build's entry points at the root of the server it is read from ("/").
_site_url = os.environ.get("READTHEDOCS_CANONICAL_URL") or os.environ.get("ZONEMODEL_SITE_URL", "")
if _site_url:
    html_baseurl = _site_url.rstrip("/") + "/"
html_theme = "pydata_sphinx_theme"
# The version is the switcher's to show ("dev (development build)"), and the
# header must fit a phone.
html_title = "zonemodel"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_js_files = ["zonemodel.js"]
html_theme_options = {
    "navbar_start": ["navbar-logo", "version-switcher"],
    # The search icon (Ctrl+K works too) instead of the search field, so that
    # the navbar keeps to one row at 1366 px and fits 390 px.
    "navbar_persistent": ["search-button"],
    "switcher": {
        # The theme resolves a relative json_url against the page's URL less
        # the page's path, which fails at a directory address (".../tutorial/"
        # would fetch tutorial/_static/switcher.json): _switcher_from_root()
        # below makes every page read it relative to the site root instead.
        "json_url": "_static/switcher.json",
        "version_match": "dev" if _is_dev else version,
    },
    # The build runs offline: do not try to read the switcher at build time.
    "check_switcher": False,
    "show_version_warning_banner": False,
    "navigation_with_keys": False,
    # The repository and its issue tracker, in the header (in the menu on a phone).
    "icon_links": [
        {"name": "Source repository", "url": REPOSITORY, "icon": "fa-brands fa-github", "type": "fontawesome"},
        {"name": "Issue tracker", "url": ISSUES, "icon": "fa-solid fa-bug", "type": "fontawesome"},
    ],
    "use_edit_page_button": True,
    "secondary_sidebar_items": {
        "**": ["page-toc", "edit-this-page", "sourcelink"],
        # Wide generated tables: give them the whole width.
        "reference/parameters": [],
    },
}
html_context = {
    "default_mode": "auto",
    # "Edit this page" opens the page's source in the repository's main branch.
    "github_user": _owner,
    "github_repo": _repo,
    "github_version": "main",
    "doc_path": "docs",
}
# The left column: the section's pages, as the theme does by default; the
# article and the tutorial have no sub-pages, so there it lists their sections.
html_sidebars = {
    "kb/zalloc-panics": ["page-sections"],
    "tutorial/index": ["page-sections"],
}
html_show_sourcelink = True


# -- Local setup --------------------------------------------------------------
def _napoleon_except_attributes(app: Any) -> None:
    """Keep napoleon away from attribute, property and data docstrings.

    napoleon reads the first line of such a docstring as ``type: description``,
    so ``"TASK_MAX: soft maximum of the tasks zone"`` would render with the type
    ``TASK_MAX`` (and fail -n as a broken reference).  Here those docstrings are
    one-line prose and their types come from the annotations, so napoleon is
    only needed for functions, classes and modules.
    """
    from sphinx.ext.napoleon import _process_docstring

    for listener in list(app.events.listeners["autodoc-process-docstring"]):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)

    def process(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
        if what not in {"attribute", "property", "data"}:
            _process_docstring(app, what, name, obj, options, lines)

    # Before sphinx_autodoc_typehints (priority 500), as napoleon itself would be.
    app.connect("autodoc-process-docstring", process, priority=499)


def _switcher_from_root(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Point the version switcher at _static/switcher.json from the site root, on every page.

    Sphinx writes each page's way back to the root into ``<html data-content_root>``
    ("../" on tutorial/index.html); resolved against the page's own address it
    finds the site root at any address of the page, including a directory one.
    This runs after the theme's own page-context handler, whose value it replaces.
    """
    if "theme_switcher" in context:
        app.add_js_file(
            None,
            body=(
                "DOCUMENTATION_OPTIONS.theme_switcher_json_url = new URL("
                "document.documentElement.dataset.content_root + '_static/switcher.json', location.href).href;"
            ),
            priority=900,
        )


def _switcher_at_site_url(app: Any, exception: Exception | None) -> None:
    """In a hosted build, point the switcher's entry at the address the site is published at."""
    if exception is not None or not _site_url or app.builder.format != "html":
        return
    path = Path(app.outdir, "_static", "switcher.json")
    entries = json.loads(path.read_text(encoding="utf-8"))
    for entry in entries:
        if entry["url"] == "/":
            entry["url"] = _site_url.rstrip("/") + "/"
    path.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def _is_record(obj: Any) -> bool:
    """A dataclass whose fields are documented as its attributes (every public class of zonemodel but System)."""
    import dataclasses

    return isinstance(obj, type) and dataclasses.is_dataclass(obj)


def _no_parameter_list_for_records(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Drop the Parameters list of a dataclass: its fields are documented once, as attributes.

    sphinx_autodoc_typehints (always_document_param_types) would list every
    field of the constructor again (Kernel's ~75, the private ``_recorded`` too).
    """
    if what == "class" and _is_record(obj):
        lines[:] = [line for line in lines if not line.startswith((":param ", ":type "))]


def _concise_record_signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None, return_annotation: str | None
) -> tuple[str | None, str | None] | None:
    """Sign a dataclass of many fields ``(**fields)``: its attributes, listed below, are its arguments."""
    import dataclasses

    if what == "class" and _is_record(obj):
        public = [f for f in dataclasses.fields(obj) if f.init and not f.name.startswith("_")]
        if len(public) > 10 or len(public) < len([f for f in dataclasses.fields(obj) if f.init]):
            return "(**fields)", return_annotation
    return None


def setup(app: Any) -> None:
    _napoleon_except_attributes(app)
    app.connect("html-page-context", _switcher_from_root, priority=900)
    app.connect("build-finished", _switcher_at_site_url)
    # After sphinx_autodoc_typehints (priority 500), which adds the list.
    app.connect("autodoc-process-docstring", _no_parameter_list_for_records, priority=600)
    # Before sphinx_autodoc_typehints, whose (first non-None) signature would win.
    app.connect("autodoc-process-signature", _concise_record_signature, priority=400)
