"""Nothing deletes user data by accident: stateful resources are protected and kept if removed
from the stack; the NAS class retains volumes; tenants cannot purge object versions."""

from __future__ import annotations

import pytest

from tests.conftest import variant
from tests.storage.helpers import PVC, nas_class

STATEFUL = {
    "aws_graph": ["aws:s3/bucket:Bucket", "aws:efs/fileSystem:FileSystem", PVC],
    "gcp_graph": ["gcp:storage/bucket:Bucket", PVC],
    "local_graph": [PVC],
}
DATA_KEYS = {"aws_graph": "aws:kms/key:Key", "gcp_graph": "gcp:kms/cryptoKey:CryptoKey"}


@pytest.mark.parametrize("graph_name", sorted(STATEFUL))
def test_buckets_file_systems_and_tenant_volumes_are_protected_and_retained(request, graph_name):
    graph = request.getfixturevalue(graph_name)
    for type_ in STATEFUL[graph_name]:
        resources = graph.of_type(type_)
        assert resources, type_
        for resource in resources:
            assert resource.options["protect"] is True, resource.urn
            assert resource.options["retainOnDelete"] is True, resource.urn


@pytest.mark.parametrize("graph_name", sorted(DATA_KEYS))
def test_the_data_key_is_protected_and_retained(request, graph_name):
    graph = request.getfixturevalue(graph_name)
    (key,) = [k for k in graph.of_type(DATA_KEYS[graph_name]) if k.name == "cluster-data"]
    assert key.options["protect"] is True
    assert key.options["retainOnDelete"] is True


@pytest.mark.parametrize("graph_name", ["local_graph", "aws_graph", "gcp_graph"])
def test_every_tenant_has_a_rwx_nas_claim_of_its_size_on_kubeforge_nas(request, graph_name):
    graph = request.getfixturevalue(graph_name)
    sizes = {"speech-ai": "500Gi", "vision": "2Ti", "forecasting": "200Gi"}
    claims = {c.inputs["metadata"]["namespace"]: c for c in graph.of_type(PVC)}
    assert set(claims) == set(sizes)
    for tenant, claim in claims.items():
        assert claim.inputs["metadata"]["name"] == f"{tenant}-nas"
        assert claim.inputs["spec"] == {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": nas_class(graph).inputs["metadata"]["name"],
            "resources": {"requests": {"storage": sizes[tenant]}},
        }
        # Its component (the claim's parent) is created after the namespace and the class.
        component = graph.named(f"storage-{tenant}")
        assert claim.parent == component.urn
        assert {graph.named(f"tenant-{tenant}-namespace").urn, nas_class(graph).urn} <= set(component.dependencies)


def test_a_tenant_without_nas_gets_no_claim(project, onprem_platform, tenant_spec):
    tenant_spec["storage"] = {"nas": None}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert graph.of_type(PVC) == []


def test_retain_on_delete_false_lets_pulumi_delete_buckets_but_they_stay_protected(project, tenant_spec):
    graph = variant(project, tenant_spec, "aws-prod",
                    lambda p: p.setdefault("storage", {}).update(object={"retainOnDelete": False})).preview()
    (bucket,) = graph.of_type("aws:s3/bucket:Bucket")
    assert bucket.options["protect"] is True
    assert bucket.options["retainOnDelete"] is False
    assert bucket.inputs["forceDestroy"] is False  # a bucket with objects is never deleted
    (claim,) = graph.of_type(PVC)
    assert claim.options["retainOnDelete"] is True
