"""Storage config: bounded at the edge, checked against the target, pinned in the catalog."""

from __future__ import annotations

import copy
import re

import pytest
from pydantic import ValidationError

from kubeforge.catalog import load_release
from kubeforge.config import checks
from kubeforge.config.spec import ObjectStorageSpec, PlatformSpec, StorageSpec, TenantSpec
from tests.conftest import ONPREM_PLATFORM, TENANT, stack_file

RELEASE = load_release("2026.11")
BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def _problems(platform: dict, nas: dict[str, str | None]) -> list:
    tenants = {name: {**TENANT, "storage": {"nas": size}} for name, size in nas.items()}
    ctx = checks.SpecContext(
        spec=PlatformSpec.model_validate(platform),
        tenants={n: TenantSpec.model_validate(t) for n, t in tenants.items()},
        release=RELEASE, source="stacks/Pulumi.test.yaml",
    )
    return checks.storage_matches_target(ctx)


def _gcp(tier: str | None = None) -> dict:
    platform = stack_file("gcp-prod")
    if tier:
        platform["storage"] = {"file": {"filestoreTier": tier}}
    return platform


@pytest.mark.parametrize("tier,fits,too_small_or_large", [
    ("regional", ["100Gi", "500Gi", "9984Gi", "10Ti", "100Ti"], ["99Gi", "9985Gi", "101Ti"]),
    ("zonal", ["1Ti", "9984Gi", "10Ti"], ["500Gi", "9985Gi"]),
    ("basic-hdd", ["100Gi", "63Ti"], ["50Gi", "64Ti"]),
    ("basic-ssd", ["2560Gi", "10Ti"], ["2Ti"]),
    ("enterprise-multishare", ["100Gi", "1Ti"], ["2Ti", "50Gi"]),
])
def test_every_tenants_nas_fits_the_filestore_tier(tier, fits, too_small_or_large):
    assert _problems(_gcp(tier), {f"t{i}": size for i, size in enumerate(fits)}) == []
    problems = _problems(_gcp(tier), {f"t{i}": size for i, size in enumerate(too_small_or_large)})
    assert [p.source for p in problems] == [f"stacks/tenants/t{i}.yaml" for i in range(len(too_small_or_large))]
    assert all(p.path == "storage.nas" and f"Filestore tier {tier}" in p.message for p in problems)


def test_the_default_tier_takes_the_default_tenant_volume():
    assert StorageSpec().file.filestore_tier == "regional"
    assert TenantSpec.model_validate(TENANT).storage.nas == "500Gi"
    assert _problems(_gcp(), {"team-a": "500Gi"}) == []


def test_the_tier_message_says_what_it_provisions():
    (problem,) = _problems(_gcp("zonal"), {"team-a": "500Gi"})
    assert "provisions 1Ti to 9984Gi or 10Ti to 100Ti" in problem.message


def test_a_nas_volume_of_zero_is_refused_and_null_means_none():
    (problem,) = _problems(copy.deepcopy(ONPREM_PLATFORM), {"team-a": "0"})
    assert problem.path == "storage.nas" and "null for no NAS volume" in problem.message
    assert _problems(copy.deepcopy(ONPREM_PLATFORM), {"team-a": None}) == []


def test_a_nas_volume_without_file_storage_is_a_warning():
    platform = copy.deepcopy(ONPREM_PLATFORM)
    platform["storage"]["file"] = {"enabled": False}
    (problem,) = _problems(platform, {"team-a": "500Gi"})
    assert problem.warning and "gets no NAS volume" in problem.message


def test_the_object_store_choice_is_on_prem_only():
    aws = stack_file("aws-prod")
    aws["storage"] = {"object": {"store": "seaweedfs"}}
    (problem,) = _problems(aws, {})
    assert problem.path == "kubeforge:platform.storage.object.store"
    onprem = copy.deepcopy(ONPREM_PLATFORM)
    onprem["storage"]["object"] = {"store": "seaweedfs"}
    assert _problems(onprem, {}) == []


def test_an_in_cluster_store_volume_is_at_least_1gi():
    onprem = copy.deepcopy(ONPREM_PLATFORM)
    onprem["storage"]["object"] = {"store": "seaweedfs", "seaweedfs": {"volumeSize": "500Mi"}}
    (problem,) = _problems(onprem, {})
    assert problem.path == "kubeforge:platform.storage.object.seaweedfs.volumeSize"


@pytest.mark.parametrize("days,ok", [(1, True), (3650, True), (0, False), (3651, False)])
def test_noncurrent_version_days_are_bounded(days, ok):
    if ok:
        assert ObjectStorageSpec.model_validate({"noncurrentVersionDays": days}).noncurrent_version_days == days
    else:
        with pytest.raises(ValidationError):
            ObjectStorageSpec.model_validate({"noncurrentVersionDays": days})


@pytest.mark.parametrize("prefix", ["xn--ml", "sthree-ml", "goog-ml", "my-google-ml", "ACME", "acme_ml", "a", "-acme"])
def test_reserved_or_malformed_bucket_prefixes_are_refused(prefix):
    with pytest.raises(ValidationError):
        ObjectStorageSpec.model_validate({"bucketPrefix": prefix})


@pytest.mark.parametrize("key,value", [
    ("seaweedfs", {"masters": 2}),
    ("seaweedfs", {"volumeServers": 0}),
    ("seaweedfs", {"volumeSize": "1Ti; rm -rf /"}),
    ("seaweedfs", {"storageClass": "Fast_SSD"}),
    ("store", "minio"),
])
def test_in_cluster_store_settings_are_bounded(key, value):
    with pytest.raises(ValidationError):
        ObjectStorageSpec.model_validate({key: value})


@pytest.mark.parametrize("stack,tenant", [
    ("aws-prod", "vision"),
    ("My_Stack.v2", "team-a"),
    ("aws-prod", "a" * 63),
    ("aws-prod", "x-s3alias"),
    ("aws-prod", "google-research"),
    ("google", "t"),
])
def test_bucket_names_are_valid_s3_and_gcs_names(stack, tenant):
    name = ObjectStorageSpec().bucket_name(stack, tenant)
    assert BUCKET.fullmatch(name), name
    assert "google" not in name and not name.endswith(("-s3alias", "--ol-s3", "--x-s3", "--table-s3"))
    assert not name.startswith(("xn--", "sthree-", "goog"))
    assert name == ObjectStorageSpec().bucket_name(stack, tenant)


def test_long_tenant_names_keep_distinct_buckets():
    spec = ObjectStorageSpec()
    names = {spec.bucket_name("aws-prod", "a" * 62 + c) for c in "bc"}
    assert len(names) == 2


def test_storage_pins_are_exact_and_cite_their_source():
    for key, pin in RELEASE.storage.items():
        assert pin.source.startswith("https://"), key
        assert re.fullmatch(r"\d+\.\d+\.\d+", pin.version), key
        assert all(c.repository.startswith("https://") for c in pin.charts), key
    for name, addon in RELEASE.eks_addons.items():
        assert re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", addon.version), name
        assert all(s.strip().startswith("https://") for s in addon.source.split(";")), name
