"""Every Helm value kubeforge sets for csi-driver-nfs and SeaweedFS is a value of that chart at
the pinned version: Helm ignores an unknown key without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.storage.nfs import driver_values
from components.storage.seaweedfs import store_values
from kubeforge.catalog import load_release
from tests.conftest import REFERENCE
from tests.helm_values import assert_values_exist, unknown_value_paths

RELEASE = load_release("2026.11")
# SeaweedFS's chart is not (yet) among ../shared/reference/charts; upstream files are never
# copied into the project, so these checks run where the reference holds it and skip,
# saying so, where it does not.
UPSTREAM = REFERENCE / "charts"
# Keys the SeaweedFS chart reads (templates/shared/post-install-bucket-hook.yaml) but documents
# only as a commented example in its values.yaml.
COMMENTED_IN_UPSTREAM = {"s3.createBuckets": "  # createBuckets:\n  #   - name: bucket-a"}


def _chart_values(directory: Path) -> dict:
    return yaml.safe_load((directory / "values.yaml").read_text())


def _seaweedfs() -> Path:
    pin = RELEASE.storage["seaweedfs"].charts[0]
    directory = UPSTREAM / pin.name / pin.version
    if not (directory / "values.yaml").is_file():
        pytest.skip(f"{directory} is absent: ../shared/reference/charts holds no SeaweedFS chart {pin.version}")
    return directory


def test_csi_driver_nfs_values_exist_in_the_pinned_chart():
    pin = RELEASE.storage["csiDriverNfs"].charts[0]
    assert_values_exist(driver_values(), REFERENCE / "charts" / pin.name / pin.version / "values.yaml")


def test_csi_driver_nfs_reference_is_the_pinned_version():
    pin = RELEASE.storage["csiDriverNfs"].charts[0]
    chart = REFERENCE / "charts" / pin.name / pin.version / "Chart.yaml"
    if not chart.is_file():
        pytest.skip(f"upstream reference files not available: {chart}")
    assert yaml.safe_load(chart.read_text())["version"] == pin.version


@pytest.mark.parametrize("masters,servers", [(3, 3), (1, 1)])
def test_seaweedfs_values_exist_in_the_pinned_chart(masters, servers):
    pin = RELEASE.storage["seaweedfs"].charts[0]
    directory = _seaweedfs()
    assert yaml.safe_load((directory / "Chart.yaml").read_text())["version"] == pin.version
    values = store_values(masters, servers, "1Ti", "local-ssd", {"team-a": "kf-team-a"})
    assert sorted(unknown_value_paths(values, _chart_values(directory))) == sorted(COMMENTED_IN_UPSTREAM)


def test_seaweedfs_keys_documented_only_in_comments_are_documented_there():
    text = (_seaweedfs() / "values.yaml").read_text()
    top_level_s3 = text[text.index("\ns3:\n"):]
    for example in COMMENTED_IN_UPSTREAM.values():
        assert example in top_level_s3


def test_the_values_check_finds_a_key_the_chart_lacks():
    pin = RELEASE.storage["csiDriverNfs"].charts[0]
    directory = REFERENCE / "charts" / pin.name / pin.version
    if not directory.is_dir():
        pytest.skip(f"{directory} is absent")
    chart = _chart_values(directory)
    assert unknown_value_paths({"controller": {"replicaz": 2}, "driver": {"name": "x"}}, chart) == ["controller.replicaz"]
