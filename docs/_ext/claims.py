"""Local Sphinx extension: a registry of the article's claims, checked against its doctests.

How to use it (for article authors)
-----------------------------------
Put one ``{claim}`` directive in each observation section, after the heading
and its ``(oN)=`` label, with a backtick fence (like ``{doctest}``)::

    (o7)=
    ### O7 · The count depends on how the bomb is started: console, ssh or screen

    ```{claim} O7
    :verdict: confirmed
    :revision: r2
    :figure: console 1040, ssh 960, screen 989 (observed 1040, 940, 990)
    The count depends on how the bomb is started.
    ```

- The argument is the observation's ID (``O7``); its section is the one under
  the label ``(o7)=``.  Each ID may have one claim only.
- ``:verdict:`` is one of ``confirmed``, ``explained differently``,
  ``partly confirmed``, ``not reproduced``, ``predicted`` (a model prediction
  with no observation), ``pending`` (not yet checked) or ``obsolete since rN``.
- ``:revision:`` is the revision of the source page that reported it (``r2``;
  ``r2, r3`` for several).
- ``:changed:`` and ``:dropped:`` (optional), each ``rN: what happened``:
  a later revision of the article changed the claim, or found that it no
  longer applies.  They render as quiet lines of the box's history, after the
  "In the page since rN" line every claim gets from its first ``:revision:``;
  ``claims_history_labels`` in conf.py phrases them (``{"added": ...,
  "changed": ..., "dropped": ...}``, each with ``{rev}``).
- ``:figure:`` (optional) states the model's figures and the observed ones in a
  few words.  **Every number in it must appear in the expected output of a
  ``{doctest}`` block of the same section** (from the ``(o7)=`` label to the
  end of that section, or to the next ``(oN)=`` label), or the build warns
  (and ``-W`` fails it).  So print the observed figure in the doctest too, as
  the article's doctests do.  Numbers are compared by value (``0.5`` matches
  ``0.50``); ``1,040`` is read as 1040, and ``1040, 940`` as two numbers.
- The content (one line) is the claim in short; it is shown in the box and in
  the claims table.
- A section whose verdict is not ``pending`` must contain a ``{doctest}``.

The claim renders as a small box: "Verdict: confirmed — <figure>", the
verdict as a badge (a word, an icon and a colour per kind, from
``claims_static/claims.css``); the same badge ends the section's heading and
fills the table's verdict column.  Put::

    ```{claims-table}
    ```

where the table of all claims of the page should appear (one row per claim,
sorted by ID number: ID linked to its section, claim, revision, verdict and
figure).  ``claims_expected`` in conf.py (``{docname: [IDs]}``) lists the IDs
each page must have a claim for; a missing one is a warning.  Until a section
is checked, give it ``:verdict: pending`` (no doctest needed, no figure).
``claims_id_pattern`` (a regular expression, default: ``O`` and digits) is the
form of an ID; section labels are the lower-case IDs.

Warnings are of type ``claims`` (``claims.figure``, ``claims.doctest``,
``claims.missing``, ``claims.label``, ``claims.duplicate``, ``claims.table``).

Sybil (the pytest runner of the docs' doctests) ignores ``{claim}`` fences.
"""

from __future__ import annotations

import doctest
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

VERDICTS = (
    "confirmed",
    "explained differently",
    "partly confirmed",
    "not reproduced",
    "predicted",
    "pending",
)
OBSOLETE = re.compile(r"^obsolete since (r\d+)$")
CLAIM_ID = re.compile(r"^([A-Za-z]+)(\d+)$")
REVISION = re.compile(r"^r\d+(?:\s*,\s*r\d+)*$")
# A number: 1,040 (thousands separators), 12, 0.30, .5; not the 7 of "O7" or "r2".
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+(?:\.\d+)?|\.\d+)")
WARNING_TYPE = "claims"
STATIC = Path(__file__).resolve().parent / "claims_static"


# ---------------------------------------------------------------------------- parsing helpers


def verdict_option(argument: str | None) -> str:
    """Validate a ``:verdict:`` value (normalising spaces and case)."""
    value = " ".join((argument or "").split()).lower()
    if value in VERDICTS or OBSOLETE.match(value):
        return value
    allowed = ", ".join(repr(v) for v in VERDICTS) + ", 'obsolete since <rev>'"
    raise ValueError(f"unknown verdict {argument!r}; use one of {allowed}")


def revision_option(argument: str | None) -> str:
    """Validate a ``:revision:`` value: ``r2`` or ``r2, r3``."""
    value = " ".join((argument or "").split())
    if not REVISION.match(value):
        raise ValueError(f"revision must look like 'r2' or 'r2, r3', not {argument!r}")
    return value


def verdict_slug(verdict: str) -> str:
    """A verdict's CSS name: ``partly confirmed`` -> ``partly-confirmed``, ``obsolete since r3`` -> ``obsolete``."""
    return "obsolete" if verdict.startswith("obsolete") else verdict.replace(" ", "-")


def badge(verdict: str) -> nodes.inline:
    """A verdict's badge: its word, with a colour and an icon per kind (from claims.css)."""
    return nodes.inline(text=verdict, classes=["claim-badge", f"claim-badge-{verdict_slug(verdict)}"])


def id_key(claim_id: str) -> tuple[str, int]:
    """Sort key of an ID: ``O2`` before ``O10``."""
    match = CLAIM_ID.match(claim_id)
    return (match[1].upper(), int(match[2])) if match else (claim_id, 0)


def anchor_of(claim_id: str) -> str:
    """The label of an ID's section: ``O7`` -> ``o7``."""
    return claim_id.lower()


def numbers(text: str) -> list[str]:
    """The numbers in a text, as written (``1,040`` stays one number)."""
    return NUMBER.findall(text)


def _value(number: str) -> Decimal | None:
    try:
        return Decimal(number.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - NUMBER only matches decimals
        return None


def doctest_output(source: str) -> str:
    """The expected-output lines of a doctest block (not the code after ``>>>``)."""
    try:
        examples = doctest.DocTestParser().get_examples(source)
    except ValueError:  # malformed block: Sphinx's doctest builder reports it
        return ""
    return "".join(example.want for example in examples)


def missing_numbers(figure: str, output: str) -> list[str]:
    """The numbers of ``figure`` whose value appears nowhere in ``output``."""
    present = {_value(n) for n in numbers(output)}
    missing: list[str] = []
    for number in numbers(figure):
        if _value(number) not in present and number not in missing:
            missing.append(number)
    return missing


# ---------------------------------------------------------------------------- nodes


class claims_table(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder replaced by the claims table once all claims are known."""


def _skip(self: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


# ---------------------------------------------------------------------------- directives


class ClaimDirective(SphinxDirective):
    """One claim of the article: its verdict, revision and figure, as a small box."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "verdict": verdict_option,
        "revision": revision_option,
        "figure": directives.unchanged,
        "changed": directives.unchanged,
        "dropped": directives.unchanged,
        "class": directives.class_option,
    }

    def run(self) -> list[nodes.Node]:
        claim_id = self.arguments[0].strip()
        pattern = self.config.claims_id_pattern
        if not CLAIM_ID.match(claim_id) or not re.fullmatch(pattern, claim_id):
            raise self.error(
                f"claim: the argument must be an ID matching {pattern!r} (claims_id_pattern), not {claim_id!r}"
            )
        if "verdict" not in self.options:
            raise self.error(f"claim {claim_id}: the option :verdict: is required")
        if "revision" not in self.options:
            raise self.error(f"claim {claim_id}: the option :revision: is required")
        verdict = self.options["verdict"]
        revision = self.options["revision"]
        figure = " ".join(self.options.get("figure", "").split())
        text = " ".join(" ".join(self.content).split())
        if not text:
            raise self.error(f"claim {claim_id}: state the claim in one line as the directive's content")

        slug = verdict_slug(verdict)
        box = nodes.container(
            classes=["claim", f"claim-{slug}", *self.options.get("class", [])],
            ids=[f"claim-{anchor_of(claim_id)}"],
        )
        box["claim_id"] = claim_id
        box["verdict"] = verdict
        box["revision"] = revision
        box["figure"] = figure

        head = nodes.paragraph(classes=["claim-verdict"])
        head += nodes.strong(text="Verdict:")
        head += nodes.Text(" ")
        head += badge(verdict)
        if figure:
            head += nodes.Text(f" \u2014 {figure}")
        elif verdict == "pending":
            head += nodes.Text(" \u2014 not yet checked against the model")
        box += head

        body = nodes.paragraph(classes=["claim-text"])
        body += nodes.emphasis(text=f"{claim_id} ({revision}): ")
        inline, messages = self.parse_inline(text, lineno=self.content_offset + 1)
        body += inline
        # The table shows the claim as plain text (markup rendered, links dropped).
        box["claim_text"] = "".join(node.astext() for node in inline)
        box += body
        # The claim's history, quietly: when the page made it, and (with ``:changed: rN: text`` or
        # ``:dropped: rN: text``) when a later revision changed it or found it no longer applies.
        labels = self.config.claims_history_labels
        first = revision.split(",")[0].strip()
        box += _history_node("added", labels["added"].format(rev=first), "")
        for option in ("changed", "dropped"):
            if option in self.options:
                rev, sep, note = self.options[option].partition(":")
                if not sep or not re.fullmatch(r"r\d+", rev.strip()):
                    raise self.error(
                        f"claim {claim_id}: :{option}: must read 'rN: what changed', not {self.options[option]!r}"
                    )
                box += _history_node(option, labels[option].format(rev=rev.strip()), " ".join(note.split()))
        box.line = self.lineno
        box.source, _ = self.get_source_info()
        return [box, *messages]


def _history_node(kind: str, label: str, text: str) -> nodes.paragraph:
    """One quiet line of a claim's history: "In the page since r2.", "Changed in r4: ..."."""
    node = nodes.paragraph(classes=["claim-history", f"claim-history-{kind}"])
    node += nodes.inline("", f"{label}: " if text else f"{label}.", classes=["claim-history-label"])
    if text:
        node += nodes.Text(text)
    return node


class ClaimsTableDirective(SphinxDirective):
    """Where the table of every claim of this page goes."""

    required_arguments = 0
    optional_arguments = 0
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        node = claims_table(classes=self.options.get("class", []))
        node.source, node.line = self.get_source_info()
        return [node]


# ---------------------------------------------------------------------------- collecting


def _is_doctest(node: nodes.Node) -> bool:
    return isinstance(node, (nodes.literal_block, nodes.comment)) and node.get("testnodetype") == "doctest"


def _label_ids(node: nodes.Node, label: re.Pattern[str]) -> list[str]:
    if not isinstance(node, nodes.Element):
        return []
    return [i for i in node.get("ids", []) if label.fullmatch(i)]


def _regions(doctree: nodes.document, label: re.Pattern[str]) -> dict[str, list[nodes.Node]]:
    """Map each ``(oN)=`` label of the page to the nodes of its region, in document order.

    A label's region runs from the label to the next label, and no further than
    the end of the section the label names (when it names one).
    """
    regions: dict[str, list[nodes.Node]] = {}
    current: str | None = None
    current_section: nodes.Element | None = None
    for node in doctree.findall(include_self=False):
        labels = _label_ids(node, label)
        if labels:
            current = labels[0]
            current_section = node if isinstance(node, nodes.section) else None
            for name in labels:
                regions.setdefault(name, [])
            continue
        if current is None:
            continue
        if current_section is not None and not _within(node, current_section):
            current, current_section = None, None
            continue
        regions[current].append(node)
    return regions


def _within(node: nodes.Node, ancestor: nodes.Element) -> bool:
    parent: nodes.Node | None = node
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


class ClaimsCollector(EnvironmentCollector):
    """Keep what each page says about its claims in the environment (parallel-safe).

    ``env.zonemodel_claims[docname]`` holds the page's claims, the lines of its
    section labels and the problems found while reading it.  The problems are
    reported by :func:`report` at the end of every build, not only of the
    builds that re-read the page, so that an unchanged page with a drifted
    figure still fails ``-W`` on an incremental build.
    """

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        _store(env).pop(docname, None)

    def merge_other(self, app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
        mine, theirs = _store(env), _store(other)
        for docname in docnames:
            if docname in theirs:
                mine[docname] = theirs[docname]

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        label = re.compile(app.config.claims_id_pattern, re.IGNORECASE)
        # Where each section label is, to point the "missing claim" warnings at it.
        labels = {
            name: node.line or _first_line(node)
            for node in doctree.findall(nodes.Element)
            for name in _label_ids(node, label)
        }
        boxes = [n for n in doctree.findall(nodes.container) if "claim_id" in n]
        if not boxes and not labels:
            return
        regions = _regions(doctree, label)
        claims: dict[str, dict[str, Any]] = {}
        problems: list[tuple[str, int | None, str]] = []
        for box in boxes:
            claim_id = box["claim_id"]
            anchor = anchor_of(claim_id)

            def problem(subtype: str, message: str, box: nodes.Element = box, claim_id: str = claim_id) -> None:
                problems.append((subtype, box.line, f"claim {claim_id}: {message}"))

            if claim_id in claims:
                problem("duplicate", "a second {claim} with this ID (one per observation)")
                continue
            region = regions.get(anchor)
            if region is None:
                problem("label", f"no label ({anchor})= on this page to name its section")
                region = []
            elif not any(n is box for n in region):
                problem("label", f"the {{claim}} is not in the section labelled ({anchor})=")
            tests = [n for n in region if _is_doctest(n)]
            verdict = box["verdict"]
            if not tests and verdict != "pending" and anchor in regions:
                problem("doctest", f"its section has no {{doctest}} block (verdict {verdict!r}; 'pending' needs none)")
            output = "".join(doctest_output(n.astext()) for n in tests)
            missing = missing_numbers(box["figure"], output) if tests else []
            if missing:
                several = len(missing) > 1
                problem(
                    "figure",
                    f"the figure's {'numbers' if several else 'number'} {', '.join(missing)} "
                    f"{'are' if several else 'is'} not in the doctest output of its section",
                )
            claims[claim_id] = {
                "id": claim_id,
                "verdict": verdict,
                "revision": box["revision"],
                "figure": box["figure"],
                "text": box["claim_text"],
                "anchor": anchor if region else box["ids"][0],
                "line": box.line,
                "doctests": len(tests),
            }
        _store(app.env)[app.env.docname] = {"claims": claims, "labels": labels, "problems": problems}


def _store(env: BuildEnvironment) -> dict[str, dict[str, Any]]:
    if not hasattr(env, "zonemodel_claims"):
        env.zonemodel_claims = {}  # type: ignore[attr-defined]
    return env.zonemodel_claims  # type: ignore[attr-defined, no-any-return]


def claims_of(env: BuildEnvironment, docname: str) -> dict[str, dict[str, Any]]:
    """The claims of a page, by ID."""
    return _store(env).get(docname, {}).get("claims", {})  # type: ignore[no-any-return]


def _first_line(node: nodes.Element) -> int | None:
    for child in node.findall(nodes.Element):
        if child.line:
            return child.line
    return None


def _warn(docname: str, line: int | None, subtype: str, message: str) -> None:
    logger.warning(message, location=(docname, line), type=WARNING_TYPE, subtype=subtype)


def report(app: Sphinx, exception: Exception | None) -> None:
    """At the end of every build, warn about each problem of every page, and each missing claim."""
    if exception is not None:
        return
    env = app.env
    store = _store(env)
    for docname in sorted(store):
        for subtype, line, message in store[docname]["problems"]:
            _warn(docname, line, subtype, message)
    for docname, ids in sorted(app.config.claims_expected.items()):
        if docname not in env.found_docs:
            _warn(docname, None, "page", f"claims_expected names the page {docname!r}, which does not exist")
            continue
        found = claims_of(env, docname)
        lines = store.get(docname, {}).get("labels", {})
        for claim_id in sorted(ids, key=id_key):
            if claim_id not in found:
                _warn(
                    docname,
                    lines.get(anchor_of(claim_id)),
                    "missing",
                    f"claim {claim_id}: no {{claim}} directive for this observation",
                )


# ---------------------------------------------------------------------------- the table

COLUMNS = ("ID", "Claim", "Revision", "Verdict", "Figure")
WIDTHS = (6, 40, 9, 14, 31)


def _row(cells: list[nodes.Node], classes: list[str] | None = None) -> nodes.row:
    row = nodes.row(classes=classes or [])
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", cell)
        row += entry
    return row


def build_table(claims: dict[str, dict[str, Any]], classes: list[str]) -> nodes.table:
    """The claims table: one row per claim, sorted by ID number."""
    table = nodes.table(classes=["claims-table", *classes])
    tgroup = nodes.tgroup(cols=len(COLUMNS))
    table += tgroup
    for width in WIDTHS:
        tgroup += nodes.colspec(colwidth=width)
    thead = nodes.thead()
    tgroup += thead
    thead += _row([nodes.Text(name) for name in COLUMNS])
    tbody = nodes.tbody()
    tgroup += tbody
    for claim_id in sorted(claims, key=id_key):
        claim = claims[claim_id]
        link = nodes.reference("", "", nodes.Text(claim_id), internal=True, refid=claim["anchor"])
        verdict = claim["verdict"]
        slug = verdict_slug(verdict)
        tbody += _row(
            [
                link,
                nodes.Text(claim["text"]),
                nodes.Text(claim["revision"]),
                badge(verdict),
                nodes.Text(claim["figure"]),
            ],
            classes=[f"claim-row-{slug}"],
        )
    return table


def badge_headings(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put each claim's verdict badge at the end of its section's heading.

    This runs on the resolved doctree, after the table of contents was
    collected, so the page's contents and the navigation keep the plain titles.
    """
    for box in list(doctree.findall(nodes.container)):
        if "claim_id" not in box:
            continue
        section = box.parent
        while section is not None and not isinstance(section, nodes.section):
            section = section.parent
        if section is None or not section.children or not isinstance(section[0], nodes.title):
            continue
        section[0] += nodes.Text(" ")
        section[0] += badge(box["verdict"])


def resolve_tables(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each ``{claims-table}`` placeholder with the table of the page's claims."""
    for node in list(doctree.findall(claims_table)):
        claims = claims_of(app.env, docname)
        if not claims:
            logger.warning(
                "claims-table: this page has no {claim} directive",
                location=node,
                type=WARNING_TYPE,
                subtype="table",
            )
            node.parent.remove(node)
            continue
        node.replace_self(build_table(claims, node.get("classes", [])))


# ---------------------------------------------------------------------------- setup


def _add_static(app: Sphinx) -> None:
    if app.builder.format == "html" and str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directives, the collector, the checks and the style sheet."""
    app.add_config_value("claims_expected", {}, "env", types=frozenset({dict}))
    # The IDs a {claim} may take; their sections are labelled with the lower-case ID.
    app.add_config_value("claims_id_pattern", r"O\d+", "env", types=frozenset({str}))
    # How a claim's history reads in its box ({rev} is the revision); a page may phrase them its own way.
    app.add_config_value(
        "claims_history_labels",
        {"added": "In the page since {rev}", "changed": "Changed in {rev}", "dropped": "Dropped in {rev}"},
        "env",
        types=frozenset({dict}),
    )
    app.add_node(
        claims_table,
        html=(_skip, None),
        latex=(_skip, None),
        text=(_skip, None),
        man=(_skip, None),
        texinfo=(_skip, None),
    )
    app.add_directive("claim", ClaimDirective)
    app.add_directive("claims-table", ClaimsTableDirective)
    app.add_env_collector(ClaimsCollector)
    app.connect("build-finished", report)
    app.connect("doctree-resolved", resolve_tables)
    app.connect("doctree-resolved", badge_headings)
    app.connect("builder-inited", _add_static)
    app.add_css_file("claims.css")
    return {"version": "1", "env_version": 3, "parallel_read_safe": True, "parallel_write_safe": True}
