"""pytest configuration for tests/: the benchmark script is not a test module."""

collect_ignore = ["benchmarks"]
