"""The README's example runs as written (the top level holds no conftest.py, so Sybil runs it from here)."""

from __future__ import annotations

from doctest import ELLIPSIS, NORMALIZE_WHITESPACE
from pathlib import Path

from sybil import Document
from sybil.parsers.markdown import PythonCodeBlockParser

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples_run() -> None:
    document = Document.parse(str(README), PythonCodeBlockParser(doctest_optionflags=ELLIPSIS | NORMALIZE_WHITESPACE))
    examples = list(document)
    assert examples, "README.md lost its example"
    for example in examples:
        example.evaluate()
