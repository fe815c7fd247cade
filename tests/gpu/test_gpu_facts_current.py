"""The newest rows of gpu-drivers/data/: NVIDIA's releases and branches as of 2026-11-25."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubeforge.gpu.compat import check
from kubeforge.gpu.facts import DATA_DIR, FactsError, facts, load_facts
from kubeforge.gpu.versions import CudaVersion

TODAY = dt.date(2026, 11, 25)
ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE_620 = "https://docs.nvidia.com/datacenter/tesla/drivers/620/supported-drivers-and-cuda-toolkit-versions.html"


def rules(result) -> set[str]:
    return {f.rule for f in result.findings if f.severity == "error"}


# -- CUDA releases ----------------------------------------------------------------------------------


def test_the_newest_cuda_release_is_13_5_ga_with_its_driver_unverified_and_sourced():
    newest = facts().toolkits[-1]
    assert (newest.cuda, newest.ga.version, newest.ga.min_driver, newest.min_branch) == ("13.5", "13.5.0", None, 620)
    assert newest.source == "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html"
    assert newest.note.startswith("Not verified")


@pytest.mark.parametrize(("cuda", "label", "version"), [
    ("12.9", "Update 2", "12.9.2"),
    ("13.0", "Update 3", "13.0.3"),
    ("13.2", "Update 2", "13.2.2"),
])
def test_the_newest_update_releases_are_recorded_unverified_with_a_note(cuda, label, version):
    toolkit = facts().toolkit(CudaVersion.parse(cuda))
    assert (toolkit.latest.label, toolkit.latest.version, toolkit.latest.min_driver) == (label, version, None)
    assert f"{label} is not verified" in toolkit.note and toolkit.source.startswith("https://docs.nvidia.com/")


def test_an_unverified_update_needs_at_least_the_previous_updates_minimum_and_warns():
    at_floor = check("580.95.05", "13.0.3", today=TODAY)
    below = check("580.82.07", "13.0.3", today=TODAY)
    assert at_floor.ok and any("kubeforge requires driver >= 580.95.05 until it is" in w for w in at_floor.warnings)
    assert "cuda-min-driver" in rules(below) and "CUDA 13.0.3 needs driver >= 580.95.05" in below.errors[-1]


def test_cuda_13_5_needs_branch_r620_and_suggests_the_r620_ltsb():
    on_620 = check("620.70.06", "13.5", today=TODAY)
    on_615 = check("615.71.10", "13.5", today=TODAY)
    assert on_620.ok and any("kubeforge requires branch R620 or newer" in w for w in on_620.warnings)
    assert "cuda-min-driver" in rules(on_615)
    assert "CUDA 13.5 needs driver branch R620 or newer" in on_615.errors[-1]
    assert "pin R620 (LTSB, supported until 2029-09)" in on_615.errors[-1]


def test_recorded_minimum_drivers_never_decrease_within_a_cuda_release():
    for toolkit in facts().toolkits:
        minimums = [r.min_driver_version for r in toolkit.releases if r.min_driver_version is not None]
        assert minimums == sorted(minimums), toolkit.cuda


def test_an_unverified_ga_row_without_a_branch_is_rejected_when_the_facts_load(tmp_path):
    for path in DATA_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    data = yaml.safe_load((DATA_DIR / "cuda_toolkits.yaml").read_text())
    del data["toolkits"][-1]["min_branch"]
    (tmp_path / "cuda_toolkits.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(FactsError, match="a GA row without min_driver needs min_branch"):
        load_facts(tmp_path)


# -- driver branches --------------------------------------------------------------------------------


def test_r620_is_an_ltsb_supported_until_september_2029_per_nvidias_620_lifecycle_page():
    r620 = facts().branch(620)
    assert (r620.type, r620.eol, r620.retired, r620.source) == ("ltsb", "2029-09", False, LIFECYCLE_620)
    assert not r620.is_eol(TODAY) and r620.is_eol(dt.date(2029, 10, 1))


def test_r615_is_a_new_feature_branch_without_an_end_of_life_date():
    r615 = facts().branch(615)
    assert (r615.type, r615.eol, r615.retired) == ("new-feature", None, False)
    assert r615.source == LIFECYCLE_620 and "new feature" in r615.note


@pytest.mark.parametrize(("branch", "eol"), [(580, "2028-06"), (595, "2027-03")])
def test_the_branches_nvidias_620_page_lists_keep_its_end_of_life(branch, eol):
    row = facts().branch(branch)
    assert (row.eol, row.source) == (eol, LIFECYCLE_620)


def test_a_new_feature_r615_driver_passes_cuda_13_4_with_warnings():
    result = check("615.71.10", "13.4", today=TODAY)
    assert result.ok
    assert {f.rule for f in result.findings} == {"cuda-unverified", "branch-new-feature"}


def test_the_matrix_lists_r620_and_cuda_13_5():
    proc = subprocess.run([sys.executable, "-m", "kubeforge.gpu.cli", "gpu", "matrix", "--today", "2026-11-25"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert any(line.split()[:5] == ["R620", "LTSB", "2029-09", "supported", "13.5"] for line in lines)
    assert any(line.split()[:3] == ["13.5", "R620+", "(unverified)"] for line in lines)
    assert any(line.split()[:5] == ["13.2", "595.45.04", "Update", "2:", "595.58.03+"] for line in lines)
