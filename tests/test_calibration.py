"""The shipped preset carries exactly what the calibration code fits; observed figures stay out of the model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import zonemodel
from zonemodel.model.kernel import FIELD_NAMES
from zonemodel.studies import calibration

PACKAGE = Path(zonemodel.__file__).parent
# Modules allowed to read the targets table: the table itself, the fit, and the figures (observed markers).
READERS = {"targets.py", "calibration.py", "figures.py"}


def test_rerunning_the_fit_reproduces_the_preset() -> None:
    """calibrate() from the 2005 preset returns the values the preset ships, and prefers 16 MiB."""
    result = calibration.calibrate()
    kernel = zonemodel.gnumach(2005)
    assert result.baseline == 16 * 2**20
    assert result.loss[16 * 2**20] < result.loss[12 * 2**20]
    assert result.values == {name: getattr(kernel, name) for name in result.values}


def test_fit_does_not_depend_on_the_starting_values() -> None:
    """Starting from other values gives the same ports (the fit scans fixed ranges)."""
    kernel = zonemodel.gnumach(2005, ports_console=0, ports_ssh=0, ports_screen=300)
    assert calibration.fit_ports(kernel, 16 * 2**20) == (43, 154, 147)


def test_every_fitted_parameter_is_declared_in_the_calibration() -> None:
    kernel = zonemodel.gnumach(2005)
    fitted = {n for n in FIELD_NAMES if kernel.provenance(n).kind == "fitted"}
    assert fitted == {
        "ports_console",
        "ports_ssh",
        "ports_screen",
        "system_tasks",
        "boot_ports",
        "process_resident",
    }
    assert len(fitted) <= 6


def test_observed_figures_are_not_read_by_model_code() -> None:
    """Only the targets table, the calibration and the figures import zonemodel.studies.targets."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.startswith("zonemodel.studies.targets") for n in names):
                assert path.name in READERS, f"{path.name} reads observed figures"


def test_compare_kernels_runs_each_kernel_with_the_same_targets_and_fitted_values() -> None:
    """A fast comparison (3 runs): per-observation errors side by side, counts as fork_bomb's medians."""
    kernels = {
        "upstream": zonemodel.gnumach(2005, zone_map="16 MiB"),
        "debian": zonemodel.gnumach(2005, distro="debian"),
    }
    result = calibration.compare_kernels(kernels, runs=3)
    assert result.kernels == ("upstream", "debian")
    assert result.values["upstream"] == result.values["debian"]
    errors = result.errors()
    assert set(errors["debian"]) == {"O7", "O9", "O10", "O12", "total"}
    assert errors["debian"]["total"] == pytest.approx(sum(v for o, v in errors["debian"].items() if o != "total"))
    runs = zonemodel.fork_bomb(kernels["debian"], runs=3, seed=calibration.FIT_SEED)
    assert isinstance(runs, zonemodel.ForkBombRuns)
    console = result.figure("debian", "O7", "console")
    assert (console.model, console.target, console.limit) == (runs.median, 1040, runs.limits[0][0])
    assert result.figure("upstream", "O7", "console").limit == "ipc spaces"
    assert "O12" in result.table() and "debian" in result.table().splitlines()[0]


def test_compare_kernels_refuses_kernels_with_different_fits() -> None:
    kernels = {"a": zonemodel.gnumach(2005), "b": zonemodel.gnumach(2005, system_tasks=40)}
    with pytest.raises(ValueError, match="different fitted parameters"):
        calibration.compare_kernels(kernels, runs=1)
