"""gcp-prod: the private GKE cluster and its A100 pools, asserted on the recorded graph."""

from __future__ import annotations

import pytest

from kubeforge.config.loader import load_stack
from kubeforge.errors import ConfigError
from tests.conftest import variant


def _cluster(graph):
    (cluster,) = graph.of_type("gcp:container/cluster:Cluster")
    return cluster


def _pool(graph, name):
    return next(p for p in graph.of_type("gcp:container/nodePool:NodePool") if p.inputs["name"] == name)


def test_cluster_is_private_and_vpc_native(gcp_graph):
    c = _cluster(gcp_graph).inputs
    assert c["networkingMode"] == "VPC_NATIVE"
    assert c["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}
    assert c["privateClusterConfig"]["enablePrivateNodes"] is True
    assert c["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert [b["cidrBlock"] for b in c["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == ["10.0.0.0/8"]


def test_cluster_hardening(gcp_graph):
    c = _cluster(gcp_graph)
    assert c.inputs["workloadIdentityConfig"] == {"workloadPool": "acme-ml-prod.svc.id.goog"}
    assert c.inputs["enableShieldedNodes"] is True
    assert c.inputs["enableLegacyAbac"] is False
    assert c.inputs["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert c.inputs["datapathProvider"] == "ADVANCED_DATAPATH"  # Dataplane V2 enforces NetworkPolicy
    assert c.inputs["deletionProtection"] is True
    assert c.options["protect"] is True


def test_secrets_are_encrypted_with_a_rotating_cloud_kms_key(gcp_graph):
    key = gcp_graph.named("cluster-secrets")
    assert key.inputs["rotationPeriod"] == "7776000s"
    encryption = _cluster(gcp_graph).inputs["databaseEncryption"]
    assert encryption["state"] == "ENCRYPTED"
    assert encryption["keyName"].endswith("/cryptoKeys/gke-secrets")
    grant = gcp_graph.named("cluster-secrets-gke")
    assert grant.inputs["member"].endswith("@container-engine-robot.iam.gserviceaccount.com")


def test_version_is_pinned_without_a_release_channel(gcp_graph):
    c = _cluster(gcp_graph).inputs
    assert c["releaseChannel"] == {"channel": "UNSPECIFIED"}
    assert c["minMasterVersion"] == "1.34"
    for pool in gcp_graph.of_type("gcp:container/nodePool:NodePool"):
        assert pool.inputs["management"]["autoUpgrade"] is False
        assert pool.inputs["version"].startswith("1.34.")


@pytest.mark.parametrize("pool,machine,accelerator,count", [
    ("a100-40", "a2-highgpu-4g", "nvidia-tesla-a100", 4),
    ("a100-80", "a2-ultragpu-8g", "nvidia-a100-80gb", 8),
])
def test_gpu_pools_get_the_a2_machine_for_their_gpus(gcp_graph, pool, machine, accelerator, count):
    node = _pool(gcp_graph, pool).inputs["nodeConfig"]
    assert node["machineType"] == machine
    (acc,) = node["guestAccelerators"]
    assert (acc["type"], acc["count"]) == (accelerator, count)


def test_gke_driver_installation_is_disabled_so_the_pinned_driver_cannot_drift(gcp_graph):
    node = _pool(gcp_graph, "a100-80").inputs["nodeConfig"]
    assert node["guestAccelerators"][0]["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "INSTALLATION_DISABLED"}
    # COS: Google's signed driver builds load under secure boot (Ubuntu + an unsigned
    # Operator-built driver would not).
    assert node["imageType"] == "COS_CONTAINERD"
    assert node["labels"]["gke-no-default-nvidia-gpu-device-plugin"] == "true"
    assert node["labels"]["kubeforge.io/gpu-driver"] == "580.173.02"


def test_nodes_are_shielded_with_secure_boot_and_use_the_gke_metadata_server(gcp_graph):
    for pool in gcp_graph.of_type("gcp:container/nodePool:NodePool"):
        node = pool.inputs["nodeConfig"]
        assert node["shieldedInstanceConfig"]["enableSecureBoot"] is True
        assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_gpu_pools_are_compact_tainted_and_scale_from_zero(gcp_graph):
    pool = _pool(gcp_graph, "a100-80").inputs
    assert pool["placementPolicy"] == {"type": "COMPACT"}
    assert pool["nodeLocations"] == ["us-central1-a"]
    assert pool["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 2}
    assert pool["nodeConfig"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]


def test_one_explicit_kubernetes_provider_with_a_secret_kubeconfig(gcp_graph):
    (provider,) = gcp_graph.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert {r.provider for r in gcp_graph.ordered() if r.type.startswith("kubernetes:")} == {provider.urn}
    (gcp,) = gcp_graph.of_type("pulumi:providers:gcp")
    assert {r.provider for r in gcp_graph.ordered() if r.type.startswith("gcp:")} == {gcp.urn}



def test_sixteen_a100_80gb_per_node_is_impossible_on_gcp(project, tenant_spec):
    variant(project, tenant_spec, "gcp-prod", lambda p: p["nodePools"]["a100-80"]["gpu"].update(perNode=16))
    with pytest.raises(ConfigError) as info:
        load_stack("test", project.path)
    assert "nodePools.a100-80.gpu.perNode: gcp has no a100-80gb machine with that many GPUs; accepted: 1, 2, 4, 8" in str(
        info.value
    )


def test_sixteen_a100_40gb_per_node_is_a2_megagpu(project, tenant_spec):
    graph = variant(project, tenant_spec, "gcp-prod", lambda p: p["nodePools"]["a100-40"]["gpu"].update(perNode=16)).preview()
    assert _pool(graph, "a100-40").inputs["nodeConfig"]["machineType"] == "a2-megagpu-16g"


def test_gcp_needs_at_least_one_zone(project, tenant_spec):
    variant(project, tenant_spec, "gcp-prod", lambda p: p["gcp"].update(zones=[]))
    with pytest.raises(ConfigError, match="kubeforge:platform.gcp.zones"):
        load_stack("test", project.path)
