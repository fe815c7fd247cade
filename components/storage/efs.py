"""aws: the NAS on Amazon EFS, through the EFS CSI driver EKS add-on.

One encrypted file system (the cluster's customer-managed data key), a mount target in each
private subnet, reachable on NFS (TCP 2049) from the cluster's nodes only, and automatic
AWS Backup. The driver runs as the EKS add-on at the catalog's version; its controller
assumes an IAM role (IRSA) trusted for its own ServiceAccount only.

Tenants' volumes are provisioned dynamically: the StorageClass (``provisioningMode: efs-ap``)
makes the controller create one EFS access point per PersistentVolumeClaim, rooted at its own
directory (``/kubeforge/<namespace>/<claim>-<uid>``) with its own POSIX identity, so a tenant's
volume never reaches another's files. kubeforge does not create access points itself: a static
PersistentVolume per tenant would hard-code the access point id in an immutable object and
duplicate what the driver does; the driver's managed policy lets it create and delete only
access points tagged for it. Deleting an access point never deletes its directory (the
controller's ``delete-access-point-root-dir`` is off), and the class's Retain policy keeps the
access point itself.
Ref: https://github.com/kubernetes-sigs/aws-efs-csi-driver/blob/v3.4.1/docs/parameters.md
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.component import AwsClusterRefs, ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from components.storage.common import KEEP_DATA, irsa_trust_policy, nas_storage_class
from kubeforge.config.resolved import ResolvedStack

ADDON = "aws-efs-csi-driver"
# The add-on's controller ServiceAccount. Ref: https://docs.aws.amazon.com/eks/latest/userguide/efs-csi.html
CONTROLLER_SERVICE_ACCOUNT = ("kube-system", "efs-csi-controller-sa")
# Ref: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEFSCSIDriverPolicy.html
DRIVER_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
NFS_PORT = 2049
BASE_PATH = "/kubeforge"


def storage_class_parameters(file_system_id: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """Dynamic provisioning: an access point per claim, under /kubeforge/<namespace>/<claim>,
    with a unique suffix so a re-created claim never reuses an old directory; 700 on each
    root, whose owner is the access point's own uid/gid (allocated by the driver)."""
    return {
        "provisioningMode": "efs-ap",
        "fileSystemId": file_system_id,
        "directoryPerms": "700",
        "basePath": BASE_PATH,
        "subPathPattern": "${.PVC.namespace}/${.PVC.name}",
        "ensureUniqueDirectory": "true",
    }


@dataclass(frozen=True)
class EfsNasArgs:
    throughput: Literal["bursting", "elastic"]
    """EFS throughput mode (storage.file.throughput)."""
    addon_version: str
    """The catalog's exact version of the aws-efs-csi-driver EKS add-on."""
    aws: AwsClusterRefs
    """The cluster's AWS provider, network, OIDC provider, data key and nodes."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class EfsNas(PlatformComponent):
    """EFS file system, mount targets, the EFS CSI add-on with IRSA, and the kubeforge-nas class."""

    key = "efsNas"
    type_token = "kubeforge:storage:EfsNas"
    args_type = EfsNasArgs
    concern = "storage"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, EfsNasArgs]:
        if stack.target != "aws" or not stack.storage.file.enabled or cluster.aws is None:
            return {}
        return {cls.default_name(): EfsNasArgs(
            throughput=stack.storage.file.throughput,
            addon_version=stack.release.eks_addons[ADDON].version,
            aws=cluster.aws,
            provider=cluster.provider,
        )}

    def __init__(self, name: str, args: EfsNasArgs, opts: pulumi.ResourceOptions | None = None):
        import pulumi_aws as aws  # only on aws: the provider SDK is slow to import

        super().__init__(name, args, opts)
        refs = args.aws
        child = pulumi.ResourceOptions(parent=self, provider=refs.provider)
        tags = {**refs.tags, "Name": refs.cluster_name.apply(lambda cluster: f"{cluster}-nas")}

        file_system = aws.efs.FileSystem(
            f"{name}-file-system",
            encrypted=True,
            kms_key_id=refs.data_key_arn,
            throughput_mode=args.throughput,
            performance_mode="generalPurpose",
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, KEEP_DATA),
        )
        # Ref: https://docs.aws.amazon.com/efs/latest/ug/automatic-backups.html
        aws.efs.BackupPolicy(f"{name}-backup", file_system_id=file_system.id,
                             backup_policy={"status": "ENABLED"}, opts=child)
        # Ref: https://docs.aws.amazon.com/efs/latest/ug/network-access.html
        mounts_sg = aws.ec2.SecurityGroup(
            f"{name}-mount-targets",
            description="NFS to the EFS mount targets from the cluster's nodes only",
            vpc_id=refs.vpc_id,
            ingress=[{"protocol": "tcp", "from_port": NFS_PORT, "to_port": NFS_PORT,
                      "security_groups": [refs.node_security_group_id], "description": "NFS from EKS nodes"}],
            egress=[],
            tags=tags,
            opts=child,
        )
        mounts = [
            aws.efs.MountTarget(f"{name}-mount-{i}", file_system_id=file_system.id, subnet_id=subnet,
                                security_groups=[mounts_sg.id], opts=child)
            for i, subnet in enumerate(refs.private_subnet_ids)
        ]

        namespace, service_account = CONTROLLER_SERVICE_ACCOUNT
        role = aws.iam.Role(
            f"{name}-csi-controller",
            assume_role_policy=pulumi.Output.all(refs.oidc_provider_arn, refs.oidc_issuer).apply(
                lambda a: json.dumps(irsa_trust_policy(a[0], a[1], namespace, service_account))),
            tags=refs.tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(f"{name}-csi-controller-policy", role=role.name,
                                                  policy_arn=DRIVER_POLICY, opts=child)
        addon = aws.eks.Addon(
            f"{name}-csi-driver",
            cluster_name=refs.cluster_name,
            addon_name=ADDON,
            addon_version=args.addon_version,
            service_account_role_arn=role.arn,
            # The add-on's configuration is kubeforge's: adopt objects of an earlier install and
            # keep no drift. Ref: https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=refs.tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[attachment, *refs.nodes])),
        )
        labels = recommended_labels(name="efs-csi", instance=name, component=self.concern,
                                    version=args.addon_version)
        self.storage_class = nas_storage_class(
            f"{name}-storage-class",
            provisioner="efs.csi.aws.com",
            parameters=storage_class_parameters(file_system.id),
            labels=labels,
            # EFS is elastic: a claim's size is not enforced, and there is nothing to expand.
            expandable=False,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[addon, *mounts]),
        )
        self.register_outputs({"fileSystemId": file_system.id, "storageClass": self.storage_class.metadata.name})
