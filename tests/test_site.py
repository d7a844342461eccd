"""The docs site: the claims extension (docs/_ext/claims.py) and the built site in a real browser.

Two kinds of tests live here:

- unit tests of the ``{claim}``/``{claims-table}`` extension, each building a
  tiny synthetic MyST project in ``tmp_path`` (run by ``nox -s tests``);
- browser tests, marked ``site`` and deselected by default (``-m "not site"``
  in pyproject.toml), run by ``nox -s site``: the built site is served by
  ``python -m http.server`` on 127.0.0.1 and driven with headless Debian
  Chromium through Playwright.  Locally, a missing browser skips them; in CI
  (``CI=true``) it fails them.  The site is read from ``$ZONEMODEL_SITE_HTML``
  (the ``site`` session builds it first) or built into a temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXT = DOCS / "_ext"
SCREENSHOTS = DOCS / "_build" / "screenshots"
ARTICLE = "kb/zalloc-panics.html"
OBSERVATIONS = [f"O{n}" for n in range(1, 22)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _claims() -> Any:
    if str(EXT) not in sys.path:
        sys.path.insert(0, str(EXT))
    import claims

    return claims


# ============================================================================ the claims extension
# ---------------------------------------------------------------------------- pure helpers


def test_numbers_are_read_as_written() -> None:
    claims = _claims()
    figure = "console 1040, ssh 960, screen 989 (observed 1,040, 940, 990); O7 r2 x86 0.30 and .5 at 16MiB"
    assert claims.numbers(figure) == ["1040", "960", "989", "1,040", "940", "990", "0.30", ".5", "16"]


@pytest.mark.parametrize(
    ("figure", "output", "missing"),
    [
        ("console 1040, ssh 960 (observed 1040, 940)", "(1040, 960)\n'observed 1040, 940'", []),
        ("console 1040, ssh 960 (observed 1040, 940)", "(1040, 960)", ["940"]),
        ("ratio 0.5 (page 2)", "0.50 2.0", []),
        ("about 1,040", "1040", []),
        ("1000 of 1000 seeds", "1000", []),
        ("spread 4", "14 40 4.1", ["4"]),
    ],
)
def test_missing_numbers_compares_values(figure: str, output: str, missing: list[str]) -> None:
    assert _claims().missing_numbers(figure, output) == missing


def test_doctest_output_is_the_expected_lines_only() -> None:
    block = ">>> x = 960\n>>> print(x,\n...       1040)\n960 1040\n>>> f(16)\n'17'\n"
    assert _claims().doctest_output(block) == "960 1040\n'17'\n"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("confirmed", True),
        ("Explained  differently", True),
        ("partly confirmed", True),
        ("not reproduced", True),
        ("predicted", True),
        ("pending", True),
        ("obsolete since r3", True),
        ("obsolete", False),
        ("true", False),
        ("", False),
    ],
)
def test_verdicts(value: str, ok: bool) -> None:
    claims = _claims()
    if ok:
        assert claims.verdict_option(value) == " ".join(value.split()).lower()
    else:
        with pytest.raises(ValueError, match="unknown verdict"):
            claims.verdict_option(value)


def test_ids_sort_by_number() -> None:
    assert sorted(["O10", "O2", "O1", "O21"], key=_claims().id_key) == ["O1", "O2", "O10", "O21"]


# ---------------------------------------------------------------------------- tiny Sphinx projects

CONF = """\
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_parser", "sphinx.ext.doctest", "claims"]
source_suffix = {{".md": "markdown"}}
exclude_patterns = ["_build"]
claims_expected = {expected!r}
"""


def _claim(claim_id: str, verdict: str = "confirmed", figure: str | None = None, text: str = "A claim.") -> str:
    lines = [f"```{{claim}} {claim_id}", f":verdict: {verdict}", ":revision: r2"]
    if figure is not None:
        lines.append(f":figure: {figure}")
    return "\n".join([*lines, text, "```", ""])


def _doctest(source: str, output: str) -> str:
    return f"```{{doctest}}\n>>> {source}\n{output}\n```\n"


def _section(claim_id: str, body: str) -> str:
    return f"({claim_id.lower()})=\n## {claim_id} · heading\n\n{body}\n"


def _page(title: str, *sections: str, table: bool = True) -> str:
    head = f"# {title}\n\n" + ("```{claims-table}\n```\n\n" if table else "")
    return head + "\n".join(sections)


def _write(src: Path, pages: dict[str, str], expected: dict[str, list[str]] | None = None) -> None:
    src.mkdir(parents=True, exist_ok=True)
    (src / "conf.py").write_text(CONF.format(ext=str(EXT), expected=expected or {}), encoding="utf-8")
    for name, text in pages.items():
        (src / f"{name}.md").write_text(text, encoding="utf-8")


def _build(
    tmp_path: Path,
    pages: dict[str, str] | None = None,
    expected: dict[str, list[str]] | None = None,
    *,
    fresh: bool = True,
) -> tuple[Any, str]:
    """Build (or rebuild) the project in tmp_path/src in-process; return the app and its warnings."""
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    if pages is not None:
        _write(src, pages, expected)
    warnings = io.StringIO()
    app = Sphinx(
        srcdir=src,
        confdir=src,
        outdir=src / "_build" / "html",
        doctreedir=src / "_build" / "doctrees",
        buildername="html",
        status=io.StringIO(),
        warning=warnings,
        freshenv=fresh,
    )
    app.build()
    return app, warnings.getvalue()


def _rows(app: Any, docname: str) -> list[list[str]]:
    """The claims table of a page, from its resolved doctree: one list of cell texts per row."""
    from docutils import nodes

    doctree = app.env.get_and_resolve_doctree(docname, app.builder, tags=app.tags)
    tables = [t for t in doctree.findall(nodes.table) if "claims-table" in t["classes"]]
    assert len(tables) == 1
    body = next(iter(tables[0].findall(nodes.tbody)))
    return [[entry.astext() for entry in row.findall(nodes.entry)] for row in body.findall(nodes.row)]


def _claim_warnings(text: str) -> list[str]:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return [line for line in text.splitlines() if "[claims." in line]


def test_claims_render_and_the_table_lists_them_sorted(tmp_path: Path) -> None:
    page = _page(
        "Article",
        _section("O10", _claim("O10", "confirmed", "ratio 2.0 (page 2)", "Halving halves.") + _doctest("r", "2.0")),
        _section("O2", _claim("O2", "pending", text="Storms hit `ipc_task_init`.")),
        _section("O7", _claim("O7", "obsolete since r3", "960", "By start.") + _doctest("f()", "(960, 'x')")),
    )
    app, warnings = _build(tmp_path, {"index": page})
    assert _claim_warnings(warnings) == []
    assert _rows(app, "index") == [
        ["O2", "Storms hit ipc_task_init.", "r2", "pending", ""],
        ["O7", "By start.", "r2", "obsolete since r3", "960"],
        ["O10", "Halving halves.", "r2", "confirmed", "ratio 2.0 (page 2)"],
    ]
    html = (tmp_path / "src" / "_build" / "html" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<table class="[^"]*claims-table', html)
    assert 'href="#o10"' in html
    assert 'id="o10"' in html
    assert 'class="claim claim-confirmed' in html
    badge = '<span class="claim-badge claim-badge-{}">{}</span>'
    assert f"Verdict:</strong> {badge.format('confirmed', 'confirmed')} \u2014 ratio 2.0 (page 2)" in html
    assert f"Verdict:</strong> {badge.format('pending', 'pending')} \u2014 not yet checked against the model" in html
    assert "In the page since r2." in html and "versionmodified" not in html
    # The badge ends each observation's heading, and fills the table's verdict column.
    assert re.search(r"<h2>O10[^<]*<span class=\"claim-badge claim-badge-confirmed\">confirmed</span>", html)
    assert html.count('class="claim-badge claim-badge-obsolete"') == 3
    assert (tmp_path / "src" / "_build" / "html" / "_static" / "claims.css").is_file()


def test_a_figure_number_missing_from_the_doctest_output_warns(tmp_path: Path) -> None:
    page = _page(
        "Article",
        _section(
            "O7",
            _claim("O7", figure="console 1040, ssh 960 (observed 1040, 940)")
            # 940 is in the code, not in the output; 960 is in another section.
            + _doctest("compare(940)", "(1040, 'console')"),
        ),
        _section("O8", _claim("O8", figure="960") + _doctest("g()", "960")),
    )
    _, warnings = _build(tmp_path, {"index": page})
    found = _claim_warnings(warnings)
    assert len(found) == 1, found
    assert "claim O7: the figure's numbers 960, 940 are not in the doctest output of its section" in found[0]
    assert "[claims.figure]" in found[0]
    assert "index.md:" in found[0]


def test_the_section_ends_at_the_next_label_even_without_a_heading(tmp_path: Path) -> None:
    body = "(o1)=\nFirst.\n\n" + _claim("O1", figure="5") + "(o2)=\nSecond.\n\n" + _doctest("f()", "5")
    _, warnings = _build(tmp_path, {"index": "# Article\n\n" + body})
    found = _claim_warnings(warnings)
    assert len(found) == 1, found
    assert "claim O1: its section has no {doctest} block" in found[0]


def test_a_subsection_belongs_to_its_observation(tmp_path: Path) -> None:
    body = _claim("O1", figure="5 and 6") + _doctest("f()", "5") + "\n### Details\n\n" + _doctest("g()", "6")
    page = _page("Article", _section("O1", body), "## After\n\n" + _doctest("h()", "7"))
    _, warnings = _build(tmp_path, {"index": page})
    assert _claim_warnings(warnings) == []
    # ... but a later section without a label does not.
    page = _page("Article", _section("O1", _claim("O1", figure="7") + _doctest("f()", "5")), "## After\n\n")
    page += _doctest("h()", "7")
    _, warnings = _build(tmp_path, {"index": page})
    assert "claim O1: the figure's number 7 is not" in warnings


def test_a_hidden_doctest_counts(tmp_path: Path) -> None:
    block = "```{doctest}\n:hide:\n\n>>> f()\n1040\n```\n"
    _, warnings = _build(tmp_path, {"index": _page("A", _section("O1", _claim("O1", figure="1040") + block))})
    assert _claim_warnings(warnings) == []


def test_missing_claims_doctests_and_labels_warn(tmp_path: Path) -> None:
    page = _page(
        "Article",
        _section("O1", _claim("O1", "confirmed", figure="1")),  # no doctest
        _section("O2", _claim("O2", "pending")),  # pending: fine without one
        _section("O3", "No claim here.\n"),
        _section("O4", _claim("O4", "predicted", figure="3") + _doctest("f()", "3") + _claim("O4")),
        _section("O5", _claim("O6", figure="2") + _doctest("f()", "2")),  # in the wrong section
    )
    _, warnings = _build(tmp_path, {"index": page}, {"index": ["O1", "O2", "O3", "O4", "O5", "O6"]})
    found = _claim_warnings(warnings)
    assert any("claim O1: its section has no {doctest} block" in w for w in found)
    assert any("claim O3: no {claim} directive for this observation" in w and "index.md:" in w for w in found)
    assert any("claim O4: a second {claim} with this ID" in w for w in found)
    assert any("claim O5: no {claim} directive" in w for w in found)
    assert any("claim O6: no label (o6)= on this page" in w for w in found)
    assert not any("O2" in w for w in found)
    assert len(found) == 5, found


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ("```{claim} O1\n:verdict: maybe\n:revision: r2\nText.\n```\n", "unknown verdict"),
        ("```{claim} O1\n:revision: r2\nText.\n```\n", "the option :verdict: is required"),
        ("```{claim} O1\n:verdict: confirmed\nText.\n```\n", "the option :revision: is required"),
        ("```{claim} O1\n:verdict: confirmed\n:revision: 2007\nText.\n```\n", "revision must look like"),
        ("```{claim} X1\n:verdict: confirmed\n:revision: r2\nText.\n```\n", "must be an ID matching"),
        ("```{claim} O1\n:verdict: confirmed\n:revision: r2\n```\n", "state the claim in one line"),
    ],
)
def test_malformed_claims_are_errors(tmp_path: Path, directive: str, message: str) -> None:
    _, warnings = _build(tmp_path, {"index": _page("A", _section("O1", directive))})
    assert message in warnings


def test_incremental_rebuild_updates_the_table(tmp_path: Path) -> None:
    pages = {
        "index": _page("A", _section("O1", _claim("O1", "pending")), "```{toctree}\nb\n```\n"),
        "b": _page("B", _section("O3", _claim("O3", "pending"))),
    }
    app, warnings = _build(tmp_path, pages)
    assert _claim_warnings(warnings) == []
    assert [r[0] for r in _rows(app, "index")] == ["O1"]

    src = tmp_path / "src"
    time.sleep(0.01)
    text = (src / "index.md").read_text(encoding="utf-8")
    (src / "index.md").write_text(text + _section("O2", _claim("O2", "pending")), encoding="utf-8")
    app, warnings = _build(tmp_path, fresh=False)
    assert _claim_warnings(warnings) == []
    assert [r[0] for r in _rows(app, "index")] == ["O1", "O2"]
    # The page that was not re-read keeps its claims (from the pickled environment).
    assert [r[0] for r in _rows(app, "b")] == ["O3"]


def test_an_unchanged_page_still_warns_on_every_build(tmp_path: Path) -> None:
    """A drifted figure fails every -W build, not only the one that re-reads its page."""
    page = _page("A", _section("O1", _claim("O1", figure="5") + _doctest("f()", "6")))
    app, warnings = _build(tmp_path, {"index": page})
    assert len(_claim_warnings(warnings)) == 1
    app, warnings = _build(tmp_path, fresh=False)
    assert "no targets are out of date" in app._status.getvalue()
    found = _claim_warnings(warnings)
    assert len(found) == 1 and "claim O1: the figure's number 5 is not" in found[0], found
    assert app.statuscode == 0  # -W is not set here; with -W, the warning fails the build


def test_parallel_build_merges_the_claims(tmp_path: Path) -> None:
    """sphinx-build -j 2 reads in worker processes (more than 5 pages) and merges their environments."""
    names = [f"p{i}" for i in range(8)]
    pages = {name: _page(name, *(_section(f"O{i}", _claim(f"O{i}", "pending")) for i in (1, 2, 3))) for name in names}
    pages["index"] = "# Index\n\n```{toctree}\n" + "\n".join(names) + "\n```\n"
    expected = {name: ["O1", "O2", "O3"] for name in names}
    expected["p7"] = ["O1", "O2", "O3", "O4"]
    src = tmp_path / "src"
    _write(src, pages, expected)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-j", "2", "-q", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = _claim_warnings(result.stderr)
    assert len(found) == 1 and "p7.md" in found[0] and "claim O4: no {claim} directive" in found[0], found
    for name in names:
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        table = html[html.index("claims-table") :]
        assert [f'href="#o{i}"' in table for i in (1, 2, 3)] == [True] * 3


def test_sybil_ignores_claims(tmp_path: Path) -> None:
    """The docs' pytest runner (Sybil, docs/conftest.py) sees the doctests only, not the claims."""
    from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

    from sybil import Sybil
    from sybil.parsers.myst import DocTestDirectiveParser

    page = _page("A", _section("O1", _claim("O1", figure="2", text="Two is 1 + 1.") + _doctest("1 + 1", "2")))
    path = tmp_path / "page.md"
    path.write_text(page, encoding="utf-8")
    document = Sybil(parsers=[DocTestDirectiveParser(optionflags=ELLIPSIS | NORMALIZE_WHITESPACE)]).parse(path)
    examples = list(document)
    assert len(examples) == 1
    examples[0].evaluate()


def test_switcher_json_lists_only_versions_that_exist() -> None:
    """The development build is "dev"; a release has an entry only once CHANGELOG.md records it."""
    entries = json.loads((DOCS / "_static" / "switcher.json").read_text(encoding="utf-8"))
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+)\.\d+\]", changelog, flags=re.MULTILINE)
    versions = [entry["version"] for entry in entries]
    assert versions[0] == "dev"
    assert "development" in entries[0]["name"]
    assert sorted(versions[1:]) == sorted(set(released)), "a switcher entry for a version never released"
    assert sum(bool(entry.get("preferred")) for entry in entries) == 1
    # No absolute link to a host nobody checked: the local entry is the site root; hosted
    # builds (Read the Docs, .github/workflows/pages.yml) write their own address.
    assert all(entry["url"] == "/" for entry in entries if entry["version"] == "dev")


# ---------------------------------------------------------------------------- the page's figures


def _observed_figures() -> dict[str, dict[str, Any]]:
    from zonemodel.studies.targets import OBSERVATIONS

    return {claim_id: dict(OBSERVATIONS[claim_id].figures) for claim_id in OBSERVATIONS}


def _shows_figure(value: Any, output: str) -> bool:
    """Whether a line of ``output`` that speaks of the page ("page") shows the observed ``value``.

    A text figure must appear as written; a number by value (``2.0`` matches ``2``),
    a size also as :func:`zonemodel.format_size` writes it (``16 MiB``).
    """
    from decimal import Decimal

    import zonemodel as zm

    claims = _claims()
    for line in output.splitlines():
        if "page" not in line:
            continue
        if isinstance(value, str):
            if value in line:
                return True
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            present = {Decimal(n.replace(",", "")) for n in claims.numbers(line)}
            if Decimal(str(value)) in present:
                return True
            if isinstance(value, int) and value >= 1024 and zm.format_size(value) in line:
                return True
    return False


def _missing_figures(outputs: dict[str, str]) -> dict[str, list[str]]:
    """Per observation, the keys of its figures (zonemodel.studies.targets) its doctests do not print."""
    figures = _observed_figures()
    missing: dict[str, list[str]] = {}
    for claim_id in OBSERVATIONS:
        output = outputs.get(claim_id, "")
        keys = [key for key, value in figures.get(claim_id, {}).items() if not _shows_figure(value, output)]
        if not figures.get(claim_id):
            keys = ["(no figure in zonemodel.studies.targets)"]
        if keys:
            missing[claim_id] = keys
    return missing


def _section_outputs_from_source() -> dict[str, str]:
    """The expected output of every {doctest} block of each observation section of the article's source."""
    text = (DOCS / "kb" / "zalloc-panics.md").read_text(encoding="utf-8")
    outputs: dict[str, str] = {}
    # A section runs from its "(oN)=" label to the next label or heading of level 2.
    for match in re.finditer(r"^\(o(\d+)\)=\n(.*?)(?=^\(o\d+\)=|^## |\Z)", text, flags=re.MULTILINE | re.DOTALL):
        blocks = re.findall(r"^```\{doctest\}\n(.*?)^```", match[2], flags=re.MULTILINE | re.DOTALL)
        outputs[f"O{match[1]}"] = "".join(_claims().doctest_output(block) for block in blocks)
    return outputs


def test_shows_figure_reads_text_numbers_and_sizes() -> None:
    assert _shows_figure(940, "ssh      model   960  page 940  limit: zone map")
    assert not _shows_figure(940, "ssh      model   940  limit: zone map")  # not said to be the page's
    assert _shows_figure(2.0, "console  837 / 420 = 1.993  (page: 2)")
    assert _shows_figure(16 << 20, "model: 23.83 MiB boots; page: more than 16 MiB does not")
    assert _shows_figure("fixes it", "panicked in 0% of 200 runs  (page: fixes it)")
    assert not _shows_figure("fixes it", "page: fixed")


def test_every_observation_prints_the_pages_figure_from_the_targets() -> None:
    """21/21: each observation section's doctest output shows each of its figures from zonemodel.studies.targets."""
    outputs = _section_outputs_from_source()
    assert sorted(outputs, key=_claims().id_key) == OBSERVATIONS
    assert sorted(_observed_figures(), key=_claims().id_key) == OBSERVATIONS
    assert _missing_figures(outputs) == {}


# ============================================================================ the site in a browser


def _fail_or_skip(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run; .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def site_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: $ZONEMODEL_SITE_HTML (nox -s site builds it) or a fresh build."""
    given = os.environ.get("ZONEMODEL_SITE_HTML")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"ZONEMODEL_SITE_HTML={given} holds no built site"
        return path
    out = tmp_path_factory.mktemp("site") / "html"
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W", "--keep-going", "-q", str(DOCS), str(out)],
        check=True,
        timeout=600,
    )
    return out


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(site_html: Path) -> Iterator[str]:
    """Serve the site with python -m http.server on 127.0.0.1; yield its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site_html)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(base, timeout=2) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("python -m http.server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, driven by Playwright (which cannot download a browser here)."""
    executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if not executable:
        _fail_or_skip("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _fail_or_skip("playwright is not installed (nox -s site installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Page:
    """A browser page that records console errors, failed requests and requests leaving the machine."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.external: list[str] = []
        # The site must work offline; nothing may leave 127.0.0.1.
        self.context.route(re.compile(r"^(?!" + re.escape(base) + r")[a-z]+://.*"), self._block)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", lambda req: self.errors.append(f"request failed: {req.url} {req.failure}"))
        self.page.on("response", self._response)

    def _block(self, route: Any) -> None:
        if route.request.url.startswith(("data:", "blob:")):
            route.continue_()
            return
        self.external.append(route.request.url)
        route.abort()

    # The site has no favicon, and Chromium probes /favicon.ico once per browser
    # (after the first page's load event): a 404 that the site never asked for.
    @staticmethod
    def _probe(url: str) -> bool:
        return url.split("?")[0].endswith("/favicon.ico")

    def _console(self, message: Any) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not self._probe(url):
            self.errors.append(f"console error: {message.text} ({url})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not self._probe(response.url):
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Page]:
    wrapper = Page(browser, server)
    try:
        yield wrapper
    finally:
        wrapper.close()


@pytest.mark.site
def test_article_renders_with_every_image_loaded(page: Page) -> None:
    tab = page.goto(ARTICLE)
    assert tab.locator("h1").first.inner_text().startswith("Zalloc panics on the GNU Hurd")
    images = tab.evaluate(
        """async () => {
            const images = Array.from(document.images);
            for (const img of images) { img.loading = "eager"; }
            await Promise.all(images.map((img) => img.decode().catch(() => null)));
            return images.map((img) => ({src: img.currentSrc || img.src, width: img.naturalWidth}));
        }"""
    )
    broken = [image["src"] for image in images if image["width"] <= 0]
    assert broken == [], f"images that did not load: {broken}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / "article.png"), full_page=True)
    assert page.errors == []


@pytest.mark.site
def test_claims_table_has_a_row_with_a_verdict_per_observation(page: Page) -> None:
    tab = page.goto(ARTICLE)
    rows = tab.evaluate(
        """() => Array.from(document.querySelectorAll("table.claims-table tbody tr")).map((tr) => {
            const cells = Array.from(tr.querySelectorAll("td")).map((td) => td.innerText.trim());
            const link = tr.querySelector("td a");
            const target = link ? link.getAttribute("href") : "";
            return {cells, target, exists: !!(target && document.getElementById(target.replace(/^#/, "")))};
        })"""
    )
    ids = [row["cells"][0] if row["cells"] else "" for row in rows]
    assert len(rows) == 21, f"expected 21 rows (one per observation), found {len(rows)}: {ids}"
    assert ids == OBSERVATIONS
    no_verdict = [row["cells"][0] for row in rows if len(row["cells"]) < 4 or not row["cells"][3]]
    assert no_verdict == [], f"rows without a verdict: {no_verdict}"
    assert [row["target"] for row in rows] == [f"#{i.lower()}" for i in OBSERVATIONS]
    assert all(row["exists"] for row in rows), "a claims-table link points at a missing anchor"


@pytest.mark.site
def test_search_finds_the_article(page: Page) -> None:
    tab = page.goto("search.html?q=ipc_task_init")
    tab.wait_for_selector("#search-results ul.search li a", timeout=20_000)
    hrefs = tab.eval_on_selector_all("#search-results ul.search li a", "links => links.map((a) => a.href)")
    assert any(f"/{ARTICLE}" in href for href in hrefs), hrefs
    assert page.errors == []


@pytest.mark.site
def test_internal_links_resolve(browser: Any, server: str, site_html: Path) -> None:
    """A crawl of every page of the site: each internal link reaches a page, and each #anchor an element on it."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        tab = context.new_page()
        pages = _site_pages(site_html)
        ids: dict[str, set[str]] = {}
        links: dict[str, set[str]] = {}
        for path in pages:
            tab.goto(server + path, wait_until="load")
            found = tab.evaluate(
                """() => ({
                    ids: Array.from(document.querySelectorAll("[id], a[name]")).map((el) => el.id || el.name),
                    links: Array.from(document.querySelectorAll("a[href]")).map((a) => a.href),
                })"""
            )
            ids[path] = set(found["ids"])
            links[path] = {href for href in found["links"] if href.startswith(server)}
        assert sum(len(found) for found in links.values()) > 1000, "suspiciously few internal links"
        bad = []
        checked = 0
        for path, hrefs in links.items():
            for href in sorted(hrefs):
                url, _, anchor = href.partition("#")
                target = url[len(server) :].split("?")[0]
                if target == "" or target.endswith("/"):
                    target += "index.html"
                if not target.endswith(".html"):  # _static/, _images/, _sources/: must exist as files
                    if not (site_html / target).is_file():
                        bad.append(f"{path}: {href} (no such file)")
                    continue
                if target not in ids:
                    bad.append(f"{path}: {href} (no such page)")
                elif anchor and urllib.parse.unquote(anchor) not in ids[target]:
                    bad.append(f"{path}: {href} (no such anchor)")
                checked += 1
        assert bad == [], f"broken internal links: {bad}"
        assert checked > 1000
    finally:
        context.close()


@pytest.mark.site
@pytest.mark.parametrize("path", ["", "index.html", ARTICLE, "search.html?q=zone", "reference/parameters.html"])
def test_no_console_errors_and_the_version_switcher_loads(page: Page, path: str) -> None:
    with page.page.expect_response(lambda r: r.url.endswith("_static/switcher.json")) as switcher:
        tab = page.goto(path)
    assert switcher.value.status == 200, switcher.value.url
    assert switcher.value.url == page.base + "_static/switcher.json"
    entries = json.loads((DOCS / "_static" / "switcher.json").read_text(encoding="utf-8"))
    tab.wait_for_function(
        "n => document.querySelectorAll('.version-switcher__menu a').length >= n", arg=len(entries), timeout=10_000
    )
    assert page.errors == [], page.errors
    assert page.external == [], f"the page requested resources off this machine: {page.external}"


# ---------------------------------------------------------------------------- issue 15: what readers see

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _site_pages(site_html: Path) -> list[str]:
    """Every HTML page of the built site, as paths relative to its root (the [source] pages too)."""
    return sorted(
        str(path.relative_to(site_html))
        for path in site_html.rglob("*.html")
        if not any(part in {"_static", "_sources", "_images"} for part in path.relative_to(site_html).parts)
    )


def _wide_elements(tab: Any) -> dict[str, Any]:
    return tab.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            return {width, scrollWidth: document.documentElement.scrollWidth};
        }"""
    )


@pytest.mark.site
def test_no_page_scrolls_sideways_on_a_phone(browser: Any, server: str, site_html: Path) -> None:
    """At 390x844 the page never lays out wider than the screen; wide blocks scroll inside themselves."""
    context = browser.new_context(viewport=PHONE)
    try:
        tab = context.new_page()
        wide = []
        pages = _site_pages(site_html)
        assert len(pages) > 20, pages
        for path in pages:
            tab.goto(server + path, wait_until="load")
            size = _wide_elements(tab)
            if size["scrollWidth"] > size["width"]:
                wide.append(f"{path}: {size['scrollWidth']} px wide")
        assert wide == [], f"pages wider than a 390 px phone: {wide}"
        # The header keeps what a phone reader needs on screen: search and "on this page".
        tab.goto(server + ARTICLE, wait_until="load")
        for selector in ("button.search-button", "button.secondary-toggle"):
            box = tab.locator(f".bd-header {selector}:visible").first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    finally:
        context.close()


@pytest.mark.site
def test_long_doctest_lines_scroll_inside_their_block(browser: Any, server: str) -> None:
    """O17 and O20 print lines wider than the column: their blocks scroll, the page does not."""
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport)
        try:
            tab = context.new_page()
            tab.goto(server + ARTICLE, wait_until="load")
            blocks = tab.evaluate(
                """() => Array.from(document.querySelectorAll("div.highlight pre")).map((pre) => ({
                    overflow: getComputedStyle(pre).overflowX,
                    wider: pre.scrollWidth > pre.clientWidth,
                    right: pre.getBoundingClientRect().right,
                }))"""
            )
            width = viewport["width"]
            assert any(block["wider"] for block in blocks), "no block is wider than its column: test is moot"
            assert all(block["overflow"] == "auto" for block in blocks if block["wider"]), blocks
            assert all(block["right"] <= width for block in blocks), f"a code block leaves the {width} px page"
            assert _wide_elements(tab)["scrollWidth"] <= width
        finally:
            context.close()


@pytest.mark.site
def test_observation_headings_clear_the_navbar_after_a_jump(browser: Any, server: str) -> None:
    """At 1366x900, jumping to each of the 21 observations (by address, or by a link) shows its whole heading."""
    context = browser.new_context(viewport=DESKTOP)
    measure = """(id) => {
        const heading = document.getElementById(id).querySelector("h1, h2, h3, h4");
        const box = heading.getBoundingClientRect();
        const header = document.querySelector(".bd-header").getBoundingClientRect();
        return {top: box.top, bottom: box.bottom, header: header.bottom, height: window.innerHeight};
    }"""
    visible = "(id) => { const m = (" + measure + ")(id); return m.top >= m.header && m.bottom <= m.height; }"
    try:
        tab = context.new_page()
        hidden = []
        for claim_id in OBSERVATIONS:
            anchor = claim_id.lower()
            tab.goto(f"{server}{ARTICLE}#{anchor}", wait_until="load")
            try:
                tab.wait_for_function(visible, arg=anchor, timeout=3_000)
            except Exception:
                hidden.append(f"{claim_id} by address: {tab.evaluate(measure, anchor)}")
        # A jump by a link of the claims table, on a page already scrolled elsewhere.
        for claim_id in OBSERVATIONS:
            anchor = claim_id.lower()
            tab.evaluate("window.scrollTo(0, 0)")
            tab.locator(f'table.claims-table a[href="#{anchor}"]').click()
            try:
                tab.wait_for_function(visible, arg=anchor, timeout=3_000)
            except Exception:
                hidden.append(f"{claim_id} by link: {tab.evaluate(measure, anchor)}")
        assert hidden == [], f"headings hidden under the navbar after a jump: {hidden}"
    finally:
        context.close()


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+(?:\.\d+)?", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.site
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_verdict_kind_has_its_own_badge(browser: Any, server: str, scheme: str) -> None:
    """A badge per observation heading, per verdict box and per table row; a colour, a word, an icon per kind."""
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
    try:
        tab = context.new_page()
        tab.goto(server + ARTICLE, wait_until="load")
        tab.wait_for_function(f"document.documentElement.dataset.theme === '{scheme}'")
        found = tab.evaluate(
            """() => {
                const describe = (el) => {
                    const style = getComputedStyle(el);
                    const icon = getComputedStyle(el, "::before").content;
                    const kind = Array.from(el.classList).find((c) => c.startsWith("claim-badge-"));
                    return {kind, word: el.innerText.trim(), color: style.color, background: style.backgroundColor,
                            icon};
                };
                const ids = Array.from({length: 21}, (_, i) => `o${i + 1}`);
                return {
                    headings: ids.map((id) => {
                        const h = document.getElementById(id).querySelector("h2, h3, h4");
                        const badge = h && h.querySelector("span.claim-badge");
                        return badge ? describe(badge) : null;
                    }),
                    boxes: Array.from(document.querySelectorAll("div.claim span.claim-badge")).map(describe),
                    table: Array.from(document.querySelectorAll("table.claims-table tbody span.claim-badge"))
                        .map(describe),
                    versionBoxes: document.querySelectorAll("div.claim .versionmodified").length,
                    history: Array.from(document.querySelectorAll("div.claim p.claim-history"))
                        .map((p) => p.innerText),
                };
            }"""
        )
        assert None not in found["headings"], "an observation heading without a verdict badge"
        assert len(found["boxes"]) == 21 and len(found["table"]) == 21
        kinds: dict[str, tuple[str, str, str]] = {}
        for badge in found["headings"] + found["boxes"] + found["table"]:
            # The word is the verdict, the icon is not empty, and the text reads on its background.
            assert badge["kind"] == "claim-badge-" + badge["word"].replace(" ", "-"), badge
            assert badge["icon"] not in ("none", "normal", '""', ""), badge
            assert _contrast(badge["color"], badge["background"]) >= 4.5, badge
            style = (badge["color"], badge["background"], badge["icon"])
            assert kinds.setdefault(badge["kind"], style) == style, f"{badge['kind']} is styled two ways"
        assert len(kinds) >= 3, kinds  # the article has confirmed, explained differently, partly, not reproduced
        for attribute in range(3):
            values = [style[attribute] for style in kinds.values()]
            assert len(set(values)) == len(values), (
                f"two verdict kinds share a {['colour', 'background', 'icon'][attribute]}"
            )
        # The claim's history reads as the article's revisions, not as Sphinx's version boxes.
        assert found["versionBoxes"] == 0
        assert sum(line.startswith("In the page since r") for line in found["history"]) == 21
        assert any(line.startswith("No longer applies on GNU Mach 1.4 (r3)") for line in found["history"])
        assert any(line.startswith("Changed in r4") for line in found["history"])
    finally:
        context.close()


@pytest.mark.site
@pytest.mark.parametrize("path", ["tutorial/", "howto/", "reference/"])
def test_switcher_finds_its_json_from_a_directory_address(page: Page, path: str) -> None:
    """At a directory address the switcher still reads the site root's JSON, and names the development build."""
    with page.page.expect_response(lambda r: r.url.endswith("_static/switcher.json")) as switcher:
        tab = page.goto(path)
    assert switcher.value.status == 200 and switcher.value.url == page.base + "_static/switcher.json"
    tab.wait_for_function("document.querySelectorAll('.version-switcher__menu a').length >= 1", timeout=10_000)
    label = tab.locator(".version-switcher__button").first.inner_text()
    assert label == "dev (development build)", label
    assert "stable" not in tab.locator(".version-switcher__menu").first.inner_text()
    assert page.errors == [] and page.external == []


@pytest.mark.site
def test_copy_buttons_copy_only_the_input_lines(browser: Any, server: str, site_html: Path) -> None:
    """Every code block of every page has a copy button; an article example copies without prompts or output."""
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    try:
        tab = context.new_page()
        blocks = 0
        for path in _site_pages(site_html):
            tab.goto(server + path, wait_until="networkidle")
            counts = tab.evaluate(
                """() => Array.from(document.querySelectorAll("div.highlight"))
                    .map((block) => block.querySelectorAll("button.copybtn").length)"""
            )
            assert all(count == 1 for count in counts), f"{path}: copy buttons per block {counts}"
            blocks += len(counts)
        assert blocks > 100, f"only {blocks} code blocks on the whole site"
        tab.goto(server + ARTICLE, wait_until="networkidle")
        block = tab.locator("#o7 div.highlight").first
        text = block.locator("pre").inner_text()
        expected = [line[4:] for line in text.splitlines() if line.startswith((">>> ", "... "))]
        assert expected and len(expected) < len(text.splitlines()), "the example has no output: test is moot"
        block.hover()
        block.locator("button.copybtn").click()
        copied = tab.evaluate("navigator.clipboard.readText()")
        assert copied.rstrip("\n").splitlines() == expected
    finally:
        context.close()


@pytest.mark.site
def test_api_reference_pages_are_short_and_concise(browser: Any, server: str, site_html: Path) -> None:
    """The API reference is split by topic, no page over 15,000 px at 1366 px; Kernel signs (**fields)."""
    pages = [
        "reference/api.html",
        *sorted(f"reference/api/{p.name}" for p in (site_html / "reference" / "api").glob("*.html")),
    ]
    assert len(pages) >= 6, pages
    context = browser.new_context(viewport=DESKTOP)
    try:
        tab = context.new_page()
        heights = {}
        for path in pages:
            tab.goto(server + path, wait_until="load")
            heights[path] = tab.evaluate("document.documentElement.scrollHeight")
        assert {path: h for path, h in heights.items() if h > 15_000} == {}, heights
        tab.goto(server + "reference/api/kernels.html", wait_until="load")
        signature = tab.locator('[id="zonemodel.Kernel"]').inner_text()
        assert "(**fields)" in signature and "_recorded" not in signature, signature
        tab.goto(server + "reference/api/experiments.html", wait_until="load")
        signature = tab.locator('[id="zonemodel.fork_bomb"]').inner_text()
        assert "policy=UPSTREAM_1997" in signature and "ThreadPolicy(" not in signature, signature
        assert "[source]" in signature
    finally:
        context.close()


@pytest.mark.site
def test_every_observation_shows_the_pages_figure_in_the_browser(page: Page) -> None:
    """21/21, read from the rendered article: each section's doctest output shows its figures from the targets."""
    tab = page.goto(ARTICLE)
    texts = tab.evaluate(
        """(ids) => Object.fromEntries(ids.map((id) => [id.toUpperCase(),
            Array.from(document.querySelectorAll(`section#${id} div.highlight pre`)).map((pre) => pre.innerText)]))""",
        [claim_id.lower() for claim_id in OBSERVATIONS],
    )
    outputs = {
        claim_id: "".join(_claims().doctest_output(block if block.endswith("\n") else block + "\n") for block in blocks)
        for claim_id, blocks in texts.items()
    }
    assert all(outputs[claim_id] for claim_id in OBSERVATIONS), [c for c in OBSERVATIONS if not outputs[c]]
    assert _missing_figures(outputs) == {}


# ---------------------------------------------------------------------------- the parameters page's links


def test_parameters_link_to_the_api_and_commits_to_their_repository() -> None:
    if str(EXT) not in sys.path:
        sys.path.insert(0, str(EXT))
    import zonemodel_tables as tables

    assert tables.parameter_link("zone_map")["reftarget"] == "zonemodel.Kernel.zone_map"
    reference = "IPC compat removed, commit 96c01087 (2006-12-03) @ GNU Mach bc85b863 (2007-04-30)"
    links = [n for n in tables.linked_text(reference, tables.repository(reference)) if n.tagname == "reference"]
    assert [n["refuri"] for n in links] == [
        "https://git.savannah.gnu.org/cgit/hurd/gnumach.git/commit/?id=96c01087",
        "https://git.savannah.gnu.org/cgit/hurd/gnumach.git/commit/?id=bc85b863",
    ]
    debian = "Debian gnumach packaging 9219473 (2005-05-14)"
    assert [n["refuri"] for n in tables.linked_text(debian, tables.repository(debian)) if n.tagname == "reference"] == [
        "https://salsa.debian.org/hurd-team/gnumach/-/commit/9219473"
    ]
    # Dates, versions and releases are not commits.
    for text in ("shipped from 1:20050501-2 to 2:1.3.99.dfsg.cvs20080708-1", "@ GNU Mach 1.4 (v1.4, 2013-09-27)"):
        assert [n for n in tables.linked_text(text, "GNU Mach") if n.tagname == "reference"] == []


@pytest.mark.site
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_contrast_violation_on_the_article(browser: Any, server: str, scheme: str) -> None:
    """axe-core (from the axe-playwright-python wheel) reports no colour-contrast violation on the article."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        _fail_or_skip("axe-playwright-python is not installed (nox -s site installs it)")
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
    try:
        tab = context.new_page()
        tab.goto(server + ARTICLE, wait_until="load")
        tab.wait_for_function(f"document.documentElement.dataset.theme === '{scheme}'")
        results = Axe().run(tab, options={"runOnly": ["color-contrast"], "resultTypes": ["violations"]})
        violations = [
            f"{node['target']}: {node.get('failureSummary', '')}"
            for violation in results.response["violations"]
            for node in violation["nodes"]
        ]
        ran = [rule["id"] for kind in ("passes", "violations", "incomplete") for rule in results.response[kind]]
        assert "color-contrast" in ran, f"axe did not run its contrast rule: {ran}"
        assert violations == [], f"{len(violations)} contrast violations ({scheme}): {violations[:10]}"
    finally:
        context.close()


def _project_urls() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8").partition("[project.urls]")[2].partition("\n[")[0]
    return dict(re.findall(r'^"?([A-Za-z ()]+?)"?\s*=\s*"(https://[^"]+)"', text, flags=re.MULTILINE))


def test_the_repository_is_named_once_and_alike_everywhere() -> None:
    """pyproject.toml names the repository and its tracker; the README says the same and where releases go."""
    urls = _project_urls()
    assert urls["Issues"] == urls["Source"] + "/issues"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert urls["Source"] in readme and urls["Issues"] in readme
    assert "Releases would be published" in readme


@pytest.mark.site
def test_header_links_to_the_repository_and_each_page_to_its_source(page: Page) -> None:
    urls = _project_urls()
    tab = page.goto(ARTICLE)
    header = tab.eval_on_selector_all(".bd-header a[href]", "links => links.map((a) => a.href)")
    assert urls["Source"] in header and urls["Issues"] in header, header
    edit = tab.eval_on_selector_all("a[href*='/edit/']", "links => links.map((a) => a.href)")
    assert edit == [f"{urls['Source']}/edit/main/docs/kb/zalloc-panics.md"], edit


@pytest.mark.site
@pytest.mark.parametrize(("path", "expected"), [(ARTICLE, [f"#{i.lower()}" for i in OBSERVATIONS]), ("tutorial/", [])])
def test_the_left_column_lists_the_pages_sections(browser: Any, server: str, path: str, expected: list[str]) -> None:
    """The article and the tutorial have no sub-pages: their left column lists their own sections, every level."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        tab = context.new_page()
        tab.goto(server + path, wait_until="load")
        nav = tab.locator(".bd-sidebar-primary nav.zm-page-sections")
        assert nav.is_visible()
        links = nav.locator("a:visible").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
        assert len(links) >= 5, links
        assert all(link.startswith("#") and link != "#" for link in links), links
        missing = [anchor for anchor in expected if anchor not in links]
        assert missing == [], f"sections missing from the left column: {missing}"
    finally:
        context.close()


@pytest.mark.site
def test_figures_are_svg_and_their_text_is_readable_on_a_phone(browser: Any, server: str, site_html: Path) -> None:
    """Every figure of the article is an SVG; at 390 px its smallest text is at least 9 px high."""
    context = browser.new_context(viewport=PHONE)
    try:
        tab = context.new_page()
        tab.goto(server + ARTICLE, wait_until="load")
        shown = tab.evaluate(
            """() => Array.from(document.querySelectorAll("article img")).map((img) => ({
                src: img.getAttribute("src"), width: img.getBoundingClientRect().width}))"""
        )
        assert len(shown) >= 5, shown
        small = []
        for image in shown:
            assert image["src"].endswith(".svg"), image
            svg = (site_html / "kb" / image["src"]).resolve().read_text(encoding="utf-8")
            view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg)[1])
            sizes = [float(size) for size in re.findall(r"font-size: ([\d.]+)px", svg)]
            assert sizes, f"{image['src']}: no text kept as text"
            smallest = min(sizes) * image["width"] / view_width
            if smallest < 9:
                small.append(f"{image['src']}: {smallest:.1f} px at {image['width']:.0f} px wide")
        assert small == [], small
    finally:
        context.close()
