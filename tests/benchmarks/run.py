"""Benchmarks for zonemodel (``python3 -m nox -s bench``).

Placeholder: the lead fills this in later.  For now it only prints the header
of the table the benchmarks will produce and exits 0.  Results meant to be
kept go to benchmarks/results/*.json, which git ignores.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Print the (empty) benchmark table."""
    del argv  # no options yet
    print(f"{'benchmark':<32} {'median (s)':>12} {'runs':>6}")
    print(f"{'-' * 32} {'-' * 12} {'-' * 6}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
