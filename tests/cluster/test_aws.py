"""aws-prod: the EKS cluster and its A100 pools, asserted on the recorded graph."""

from __future__ import annotations

import json

import pytest

from kubeforge.catalog import load_release
from kubeforge.config.loader import load_stack
from kubeforge.errors import ConfigError
from tests.conftest import variant

AMI = load_release("2026.11").eks_nvidia_ami["1.34"]


def _one(graph, type_):
    (resource,) = graph.of_type(type_)
    return resource


def _private_subnets(graph):
    return [r for r in graph.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]


def test_vpc_has_private_subnets_in_at_least_two_azs_with_nat_egress(aws_graph):
    private = _private_subnets(aws_graph)
    assert len({s.inputs["availabilityZone"] for s in private}) >= 2
    nats = aws_graph.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == len(private)
    for table in [t for t in aws_graph.of_type("aws:ec2/routeTable:RouteTable") if "-private-" in t.name]:
        assert [r["cidrBlock"] for r in table.inputs["routes"]] == ["0.0.0.0/0"]
        assert table.inputs["routes"][0]["natGatewayId"].startswith("nat-")
    for subnet in private:
        assert subnet.inputs.get("mapPublicIpOnLaunch") in (None, False)


def test_cluster_and_nodes_sit_in_private_subnets(aws_graph, aws_graph_ids):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    private_ids = aws_graph_ids["private_subnets"]
    assert set(cluster.inputs["vpcConfig"]["subnetIds"]) == private_ids
    for group in aws_graph.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert set(group.inputs["subnetIds"]) <= private_ids


@pytest.fixture(scope="module")
def aws_graph_ids(aws_graph):
    from kubeforge.engine.outputs import resource_id

    return {
        "private_subnets": {resource_id(s.type, s.name, s.inputs, f"{s.type}::{s.name}") for s in _private_subnets(aws_graph)},
    }


def test_cluster_runs_the_pinned_version_with_a_private_endpoint(aws_graph):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    assert cluster.inputs["version"] == "1.34"
    vpc = cluster.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_secrets_are_envelope_encrypted_with_a_rotating_customer_key(aws_graph):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    (key,) = [k for k in aws_graph.of_type("aws:kms/key:Key") if k.name == "cluster-secrets"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.options["protect"] is True
    encryption = cluster.inputs["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"].startswith("arn:aws:kms:us-west-2:")
    assert key.urn in cluster.dependencies


def test_all_five_control_plane_log_types_are_on(aws_graph):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    assert sorted(cluster.inputs["enabledClusterLogTypes"]) == sorted(
        ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )


def test_access_entries_only_no_implicit_admin_for_the_creator(aws_graph):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    assert cluster.inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    association = _one(aws_graph, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert association.inputs["principalArn"] == "arn:aws:iam::123456789012:role/platform-admins"
    assert association.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")


def test_cluster_is_deletion_protected_and_protected(aws_graph):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    assert cluster.inputs["deletionProtection"] is True
    assert cluster.options["protect"] is True


def test_oidc_provider_trusts_the_clusters_issuer_for_irsa(aws_graph):
    cluster = _one(aws_graph, "aws:eks/cluster:Cluster")
    oidc = _one(aws_graph, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.us-west-2.amazonaws.com/id/")
    assert cluster.urn in oidc.dependencies


def _gpu_group(graph):
    return next(g for g in graph.of_type("aws:eks/nodeGroup:NodeGroup") if g.inputs["nodeGroupName"] == "a100")


def test_gpu_pool_uses_the_pinned_accelerated_ami_release(aws_graph):
    group = _gpu_group(aws_graph)
    assert group.inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group.inputs["releaseVersion"] == AMI.release_version
    assert group.inputs["labels"]["kubeforge.io/gpu-driver"] == AMI.nvidia_driver


def test_gpu_pool_is_a100_80gb_on_p4de_scaling_from_zero(aws_graph):
    group = _gpu_group(aws_graph)
    assert group.inputs["instanceTypes"] == ["p4de.24xlarge"]
    assert group.inputs["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 0}
    assert group.inputs["labels"]["kubeforge.io/gpu-model"] == "a100-80gb"
    assert group.options["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_gpu_pool_is_tainted_for_gpu_workloads_only(aws_graph):
    assert _gpu_group(aws_graph).inputs["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
    ]


def test_every_launch_template_requires_imdsv2_hop_1_and_encrypts_the_root_volume(aws_graph):
    templates = aws_graph.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert len(templates) == 2
    for lt in templates:
        assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
        assert lt.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
        (disk,) = lt.inputs["blockDeviceMappings"]
        assert disk["ebs"]["encrypted"] == "true"


def test_gpu_pool_gets_efa_interfaces_and_a_cluster_placement_group(aws_graph):
    lt = next(t for t in aws_graph.of_type("aws:ec2/launchTemplate:LaunchTemplate") if t.name.endswith("-a100"))
    interfaces = lt.inputs["networkInterfaces"]
    assert [i["interfaceType"] for i in interfaces] == ["efa"] * 4
    assert [i["networkCardIndex"] for i in interfaces] == [0, 1, 2, 3]
    group = _one(aws_graph, "aws:ec2/placementGroup:PlacementGroup")
    assert group.inputs["strategy"] == "cluster"
    assert lt.inputs["placement"]["groupName"] == group.inputs.get("name", lt.inputs["placement"]["groupName"])
    assert len(_gpu_group(aws_graph).inputs["subnetIds"]) == 1  # a placement group lives in one AZ


def test_one_explicit_kubernetes_provider_for_every_kubernetes_resource(aws_graph):
    (provider,) = aws_graph.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert {r.provider for r in aws_graph.ordered() if r.type.startswith("kubernetes:")} == {provider.urn}
    assert aws_graph.outputs["kubeconfig"] == "[secret]"


def test_aws_resources_use_the_explicit_regional_provider(aws_graph):
    (provider,) = aws_graph.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-west-2"
    assert {r.provider for r in aws_graph.ordered() if r.type.startswith("aws:")} == {provider.urn}



def test_public_endpoint_is_limited_to_listed_cidrs(project, tenant_spec):
    def change(p):
        p["aws"].update(publicEndpoint=True, publicAccessCidrs=["203.0.113.0/24"])

    graph = variant(project, tenant_spec, "aws-prod", change).preview()
    vpc = _one(graph, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


@pytest.mark.parametrize("cidrs,message", [
    ([], "publicEndpoint is on: list the CIDRs allowed in publicAccessCidrs"),
    (["0.0.0.0/0"], "aws.publicAccessCidrs: must not contain 0.0.0.0/0"),
])
def test_public_endpoint_open_to_the_world_is_rejected(project, tenant_spec, cidrs, message):
    variant(project, tenant_spec, "aws-prod", lambda p: p["aws"].update(publicEndpoint=True, publicAccessCidrs=cidrs))
    with pytest.raises(ConfigError, match=message):
        load_stack("test", project.path)


def test_a100_40gb_picks_p4d(project, tenant_spec):
    graph = variant(project, tenant_spec, "aws-prod", lambda p: p["nodePools"]["a100"]["gpu"].update(model="a100-40gb")).preview()
    assert _gpu_group(graph).inputs["instanceTypes"] == ["p4d.24xlarge"]


def test_three_a100s_per_node_is_impossible_on_aws(project, tenant_spec):
    variant(project, tenant_spec, "aws-prod", lambda p: p["nodePools"]["a100"]["gpu"].update(perNode=3))
    with pytest.raises(ConfigError) as info:
        load_stack("test", project.path)
    assert "nodePools.a100.gpu.perNode: aws has no a100-80gb machine with that many GPUs; accepted: 8 (got 3)" in str(
        info.value
    )


def test_driver_must_be_the_one_the_pinned_ami_ships(project, tenant_spec):
    variant(project, tenant_spec, "aws-prod", lambda p: p["nodePools"]["a100"].update(driver="570.195.03"))
    with pytest.raises(ConfigError) as info:
        load_stack("test", project.path)
    assert f"ships driver {AMI.nvidia_driver}; pin {AMI.nvidia_driver} (got '570.195.03')" in str(info.value)


def test_aws_pools_cannot_name_existing_nodes(project, tenant_spec):
    variant(project, tenant_spec, "aws-prod", lambda p: p["nodePools"]["a100"].update(nodes=["n1"]))
    with pytest.raises(ConfigError, match="nodePools.a100.nodes: only accepted on-prem"):
        load_stack("test", project.path)


def test_network_policies_are_enforced_by_the_vpc_cni_add_on(aws_graph):
    (addon,) = [r for r in aws_graph.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni"]
    assert json.loads(addon.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert addon.inputs["addonVersion"] == load_release("2026.11").eks_addons["vpc-cni"].version
