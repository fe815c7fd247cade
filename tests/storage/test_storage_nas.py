"""The NAS on every target: one ReadWriteMany class kubeforge-nas (Retain), and what backs it."""

from __future__ import annotations

import pytest

from kubeforge.catalog import load_release
from kubeforge.engine.outputs import resource_id
from tests.conftest import variant
from tests.storage.helpers import HELM, STORAGE_CLASS, assert_irsa_trust_only, nas_class, named

RELEASE = load_release("2026.11")
EFS_ROLE = "aws:iam/role:Role"


@pytest.mark.parametrize("graph_name", ["local_graph", "aws_graph", "gcp_graph"])
def test_one_nas_class_per_target_named_kubeforge_nas_that_retains_volumes(request, graph_name):
    storage_class = nas_class(request.getfixturevalue(graph_name))
    assert storage_class.inputs["metadata"]["name"] == "kubeforge-nas"
    assert storage_class.inputs["reclaimPolicy"] == "Retain"
    assert storage_class.inputs["volumeBindingMode"] == "Immediate"


# --- aws: EFS ---------------------------------------------------------------------------------


def _file_system(graph):
    (fs,) = graph.of_type("aws:efs/fileSystem:FileSystem")
    return fs


def _data_key(graph):
    (key,) = [k for k in graph.of_type("aws:kms/key:Key") if k.name == "cluster-data"]
    return key


def test_efs_class_provisions_an_access_point_per_claim_on_the_file_system(aws_graph):
    storage_class = nas_class(aws_graph)
    assert storage_class.inputs["provisioner"] == "efs.csi.aws.com"
    fs_id = storage_class.inputs["parameters"]["fileSystemId"]
    assert fs_id.startswith("fs-")
    assert _file_system(aws_graph).urn in storage_class.dependencies
    assert storage_class.inputs["parameters"] == {
        "provisioningMode": "efs-ap",
        "fileSystemId": fs_id,
        "directoryPerms": "700",
        "basePath": "/kubeforge",
        "subPathPattern": "${.PVC.namespace}/${.PVC.name}",
        "ensureUniqueDirectory": "true",
    }


def test_efs_is_encrypted_with_the_rotating_customer_data_key(aws_graph):
    fs = _file_system(aws_graph)
    key = _data_key(aws_graph)
    assert fs.inputs["encrypted"] is True
    assert fs.inputs["kmsKeyId"].startswith("arn:aws:kms:us-west-2:123456789012:key/")
    assert key.urn in fs.dependencies
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30


def test_efs_throughput_mode_follows_storage_file_throughput(aws_graph, project, tenant_spec):
    assert _file_system(aws_graph).inputs["throughputMode"] == "elastic"
    graph = variant(project, tenant_spec, "aws-prod",
                    lambda p: p.setdefault("storage", {}).setdefault("file", {}).update(throughput="bursting")).preview()
    assert _file_system(graph).inputs["throughputMode"] == "bursting"


def test_efs_has_a_mount_target_in_each_private_subnet_behind_its_own_security_group(aws_graph):
    private = {s.urn for s in aws_graph.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name}
    mounts = aws_graph.of_type("aws:efs/mountTarget:MountTarget")
    assert len(mounts) == len(private) == 3
    group = named(aws_graph, "efs-nas-mount-targets", "aws:ec2/securityGroup:SecurityGroup")
    group_id = resource_id(group.type, group.name, group.inputs, f"{group.type}::{group.name}")
    for mount in mounts:
        subnets = {d for d in mount.dependencies if d in private}
        assert len(subnets) == 1
        assert mount.inputs["securityGroups"] == [group_id]
    assert len({next(d for d in m.dependencies if d in private) for m in mounts}) == 3


def test_efs_admits_nfs_from_the_node_security_group_only(aws_graph):
    group = named(aws_graph, "efs-nas-mount-targets", "aws:ec2/securityGroup:SecurityGroup")
    # The cluster security group, which the GPU nodes' EFA interfaces list after their own.
    gpu_template = next(t for t in aws_graph.of_type("aws:ec2/launchTemplate:LaunchTemplate")
                        if t.name.endswith("-a100"))
    node_sg = gpu_template.inputs["networkInterfaces"][0]["securityGroups"][1]
    assert group.inputs["ingress"] == [{
        "protocol": "tcp", "fromPort": 2049, "toPort": 2049, "securityGroups": [node_sg],
        "description": "NFS from EKS nodes",
    }]
    assert "cidrBlocks" not in group.inputs["ingress"][0]
    assert group.inputs["egress"] == []


def test_efs_backups_are_on(aws_graph):
    (policy,) = aws_graph.of_type("aws:efs/backupPolicy:BackupPolicy")
    assert policy.inputs["backupPolicy"] == {"status": "ENABLED"}


def test_efs_csi_driver_is_the_eks_add_on_at_the_catalog_version_with_its_irsa_role(aws_graph):
    (addon,) = [r for r in aws_graph.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "aws-efs-csi-driver"]
    assert addon.inputs["addonName"] == "aws-efs-csi-driver"
    assert addon.inputs["addonVersion"] == RELEASE.eks_addons["aws-efs-csi-driver"].version
    assert addon.inputs["clusterName"] == "kubeforge-aws-prod"
    role = named(aws_graph, "efs-nas-csi-controller", EFS_ROLE)
    assert role.urn in addon.dependencies
    assert addon.inputs["serviceAccountRoleArn"].startswith("arn:aws:iam::123456789012:role/efs-nas-csi-controller")
    # Its pods need nodes: the add-on waits for the node groups.
    assert {g.urn for g in aws_graph.of_type("aws:eks/nodeGroup:NodeGroup")} <= set(addon.dependencies)


def test_efs_add_on_version_ships_the_driver_of_the_reference_chart():
    """The add-on's driver is the appVersion of chart aws-efs-csi-driver 4.4.1."""
    import yaml

    from tests.conftest import REFERENCE

    chart = REFERENCE / "charts" / "aws-efs-csi-driver" / "4.4.1" / "Chart.yaml"
    if not chart.is_file():
        pytest.skip(f"upstream reference files not available: {chart}")
    app_version = yaml.safe_load(chart.read_text())["appVersion"]
    assert RELEASE.eks_addons["aws-efs-csi-driver"].version.startswith(f"v{app_version}-eksbuild.")


def test_efs_controller_role_trusts_only_its_service_account_through_the_clusters_oidc_provider(aws_graph):
    role = named(aws_graph, "efs-nas-csi-controller", EFS_ROLE)
    assert_irsa_trust_only(aws_graph, role, "system:serviceaccount:kube-system:efs-csi-controller-sa")


def test_efs_controller_role_has_the_managed_efs_csi_policy_and_nothing_else(aws_graph):
    role = named(aws_graph, "efs-nas-csi-controller", EFS_ROLE)
    attached = [a.inputs["policyArn"] for a in aws_graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if role.urn in a.dependencies]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"]
    assert not [p for p in aws_graph.of_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies]


def test_no_efs_without_file_storage(project, tenant_spec):
    graph = variant(project, tenant_spec, "aws-prod",
                    lambda p: p.setdefault("storage", {}).update(file={"enabled": False}))
    graph = graph.preview()
    assert graph.of_type("aws:efs/fileSystem:FileSystem") == []
    assert [r for r in graph.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "aws-efs-csi-driver"] == []
    assert graph.of_type(STORAGE_CLASS) == []


# --- gcp: Filestore ----------------------------------------------------------------------------


def test_gke_enables_the_filestore_csi_driver_add_on(gcp_graph):
    cluster = gcp_graph.named("cluster-gke")
    assert cluster.inputs["addonsConfig"] == {"gcpFilestoreCsiDriverConfig": {"enabled": True}}


def test_filestore_class_uses_the_regional_tier_in_the_clusters_network(gcp_graph):
    storage_class = nas_class(gcp_graph)
    network = gcp_graph.named("cluster-vpc")
    assert storage_class.inputs["provisioner"] == "filestore.csi.storage.gke.io"
    assert storage_class.inputs["parameters"] == {"tier": "regional", "network": network.inputs["name"]}
    assert storage_class.inputs["allowVolumeExpansion"] is True


@pytest.mark.parametrize("tier,parameters", [
    ("enterprise-multishare", {"tier": "enterprise", "multishare": "true"}),
    ("basic-hdd", {"tier": "standard"}),
])
def test_filestore_tier_follows_storage_file_filestore_tier(project, tenant_spec, tier, parameters):
    graph = variant(project, tenant_spec, "gcp-prod",
                    lambda p: p.setdefault("storage", {}).update(file={"filestoreTier": tier})).preview()
    assert nas_class(graph).inputs["parameters"] == {**parameters, "network": "kubeforge-test"}


def test_no_filestore_add_on_or_class_without_file_storage(project, tenant_spec):
    graph = variant(project, tenant_spec, "gcp-prod",
                    lambda p: p.setdefault("storage", {}).update(file={"enabled": False})).preview()
    assert "addonsConfig" not in graph.named("cluster-gke").inputs
    assert graph.of_type(STORAGE_CLASS) == []


# --- onprem: NFS CSI ---------------------------------------------------------------------------


def test_nfs_csi_driver_is_installed_from_the_catalog_pin_in_kube_system(local_graph):
    (release,) = [r for r in local_graph.of_type(HELM) if r.name == "nfs-nas-driver"]
    pin = RELEASE.storage["csiDriverNfs"].charts[0]
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"]["repo"]) == (
        "csi-driver-nfs", "4.13.4", "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts")
    assert (pin.name, pin.version) == ("csi-driver-nfs", "4.13.4")
    assert release.inputs["namespace"] == "kube-system"
    assert release.inputs["values"]["controller"]["defaultOnDeletePolicy"] == "retain"
    assert release.inputs["values"]["storageClass"] == {"create": False}


def test_nfs_class_provisions_a_directory_per_claim_on_the_configured_export(local_graph):
    storage_class = nas_class(local_graph)
    release = next(r for r in local_graph.of_type(HELM) if r.name == "nfs-nas-driver")
    assert storage_class.inputs["provisioner"] == "nfs.csi.k8s.io"
    assert storage_class.inputs["parameters"] == {
        "server": "nas.lab.internal",
        "share": "/export/kubeforge",
        "subDir": "${pvc.metadata.namespace}/${pvc.metadata.name}",
        "onDelete": "retain",
    }
    assert release.urn in storage_class.dependencies


def test_nfs_class_follows_storage_file_nfs(project, onprem_platform, tenant_spec):
    onprem_platform["storage"]["file"]["nfs"] = {"server": "10.0.0.5", "path": "/srv/ml/"}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    assert nas_class(graph).inputs["parameters"]["server"] == "10.0.0.5"
    assert nas_class(graph).inputs["parameters"]["share"] == "/srv/ml/"
