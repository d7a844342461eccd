"""Structural checks of the docs sources: anchors, revision table, doctest fences, toctrees.

These read the Markdown sources; only the API-reference check imports zonemodel.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
ARTICLE = DOCS / "kb" / "zalloc-panics.md"
OBSERVATIONS = range(1, 22)

REVISIONS = {
    "r1": "2005-07-17",
    "r2": "2007-04-12",
    "r3": "2012-04-17",
    "r4": "2026",
    "r4.1": "2026-11-26",
    "r4.2": "2026-12-01",
    "r5": "2026-12-01",
    "r5.1": "2026-12-01",
    "r5.2": "2026-12-02",
    "r6": "2026-12-02",
    "r7": "2026-12-02",
}

# Directives that Sybil cannot run (only Sphinx's doctest builder knows them).
SPHINX_ONLY = ("testsetup", "testcleanup", "testcode", "testoutput")

FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*?)\s*$")


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)


def _blocks(text: str) -> list[tuple[str, str, list[str]]]:
    """Return the fenced blocks of a Markdown text as (fence, info string, body lines).

    Nested fences (a longer outer fence around shorter inner ones) are returned
    as well, since MyST directives such as admonitions may contain others.
    """
    lines = text.splitlines()
    found: list[tuple[str, str, list[str]]] = []

    def scan(start: int, stop: int) -> None:
        i = start
        while i < stop:
            match = FENCE_OPEN.match(lines[i])
            if not match:
                i += 1
                continue
            fence, info = match["fence"], match["info"]
            close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            j = i + 1
            while j < stop and not close.match(lines[j]):
                j += 1
            found.append((fence, info, lines[i + 1 : j]))
            scan(i + 1, j)
            i = j + 1

    scan(0, len(lines))
    return found


def _directive(info: str) -> str | None:
    match = re.match(r"^\{(?P<name>[\w:-]+)\}", info)
    return match["name"] if match else None


# ---------------------------------------------------------------------------- the article


def test_article_has_each_observation_anchor_exactly_once() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    labels = re.findall(r"^\((o\d+)\)=\s*$", text, flags=re.MULTILINE)
    expected = [f"o{n}" for n in OBSERVATIONS]
    assert sorted(labels, key=lambda s: int(s[1:])) == expected
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("n", OBSERVATIONS)
def test_each_anchor_sits_on_its_observation_heading(n: int) -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    pattern = rf"^\(o{n}\)=\n### O{n} \u00b7 \S.*$"
    assert re.search(pattern, text, flags=re.MULTILINE), (
        f"expected '(o{n})=' directly above a heading '### O{n} \u00b7 <claim>'"
    )


@pytest.mark.parametrize("n", OBSERVATIONS)
def test_each_observation_has_evidence_or_says_it_has_none(n: int) -> None:
    """A section either runs the model or says plainly that it has not been checked yet."""
    text = ARTICLE.read_text(encoding="utf-8")
    start = text.index(f"(o{n})=")
    rest = text[start + 1 :]
    ends = [m.start() for m in re.finditer(r"^\(o\d+\)=$|^## ", rest, flags=re.MULTILINE)]
    section = rest[: min(ends)] if ends else rest
    has_doctest = any(_directive(info) == "doctest" for _, info, _ in _blocks(section))
    says_unchecked = "Not yet checked against the model" in section
    assert has_doctest or says_unchecked


def test_article_revision_history_lists_every_revision() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\|\s*(r\d+(?:\.\d+)?)\s*\|\s*([0-9-]+)\s*\|", text, flags=re.MULTILINE))
    assert rows == REVISIONS


def test_article_states_its_revision() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    latest = list(REVISIONS)[-1]
    assert f"article_revision: {latest}\n" in text  # front matter
    assert f"Article revision {latest}**" in text  # visible on the page


# ---------------------------------------------------------------------------- all pages


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_doctests_use_backtick_fences(page: Path) -> None:
    """Sybil only sees backtick-fenced ```{doctest}; a colon fence would silently go untested."""
    for fence, info, _ in _blocks(page.read_text(encoding="utf-8")):
        if _directive(info) == "doctest":
            assert fence.startswith("`"), f"{page.name}: {fence}{info} must be a backtick fence"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_no_sphinx_only_doctest_directives(page: Path) -> None:
    """testsetup/testcode/testoutput run in Sphinx but not in pytest, so the two would disagree."""
    for _, info, _ in _blocks(page.read_text(encoding="utf-8")):
        assert _directive(info) not in SPHINX_ONLY, f"{page.name}: {info}"


def _toctree_entries(page: Path) -> list[Path]:
    entries = []
    for _, info, body in _blocks(page.read_text(encoding="utf-8")):
        if _directive(info) != "toctree":
            continue
        for line in body:
            line = line.strip()
            if not line or line.startswith(":"):
                continue
            explicit = re.match(r"^.*<(?P<target>[^<>]+)>$", line)
            target = explicit["target"] if explicit else line
            if "://" in target or target == "self":
                continue
            base = DOCS if target.startswith("/") else page.parent
            entries.append((base / (target.lstrip("/") + ".md")).resolve())
    return entries


def test_every_page_is_reachable_from_a_toctree() -> None:
    index = (DOCS / "index.md").resolve()
    seen = {index}
    todo = [index]
    while todo:
        page = todo.pop()
        for entry in _toctree_entries(page):
            assert entry.exists(), f"{page.relative_to(DOCS)}: toctree entry {entry} is missing"
            if entry not in seen:
                seen.add(entry)
                todo.append(entry)
    unreachable = [str(p.relative_to(DOCS)) for p in _pages() if p.resolve() not in seen]
    assert unreachable == []


def test_every_public_name_is_in_the_api_reference() -> None:
    """Each name of zonemodel.__all__ has an autodoc entry in the API reference (docs/reference/api*)."""
    import zonemodel

    pages = [DOCS / "reference" / "api.md", *sorted((DOCS / "reference" / "api").glob("*.md"))]
    assert len(pages) > 1, pages
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    entries = r"^\s*\.\. (?:auto|py:)\w+:: (zonemodel(?:\.\w+)*)"
    documented = set(re.findall(entries, text, re.MULTILINE))

    def entry(name: str) -> str:  # a public module (zonemodel.policies) is documented under its own path
        value = getattr(zonemodel, name)
        return value.__name__ if isinstance(value, types.ModuleType) else f"zonemodel.{name}"

    missing = [name for name in zonemodel.__all__ if name != "__version__" and entry(name) not in documented]
    assert missing == [], f"add these to a page of docs/reference/api/: {missing}"
