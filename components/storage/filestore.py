"""gcp: the NAS on Filestore, through GKE's Filestore CSI driver add-on.

GKE runs and upgrades the driver with the cluster (the cluster component enables the add-on),
so there is nothing to pin. The StorageClass makes the driver create a Filestore instance
per claim in the cluster's VPC at the configured tier, or, for ``enterprise-multishare``, a
share of an enterprise instance it packs up to ten shares onto; the spec checks that every
tenant's volume fits the tier (kubeforge.config.checks.FILESTORE_SIZES).
Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/filestore-csi-driver ;
https://cloud.google.com/kubernetes-engine/docs/concepts/multishares

The default, ``regional``, takes volumes from 100Gi (the tenant default is 500Gi), replicates
them across the region's zones, and supports customer-managed keys; ``zonal`` and
``basic-ssd`` start at 1Ti and 2.5Ti, and a multishare share ends at 1Ti. Regional needs
GKE 1.33.4-gke.1172000 or later and basic-hdd from 100Gi GKE 1.33: the release's GKE versions
are 1.34 and later. The project needs the Filestore API enabled.
Ref: https://cloud.google.com/filestore/docs/service-tiers ;
https://cloud.google.com/filestore/docs/csi-driver#requirements
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, GcpClusterRefs, PlatformComponent
from components.labels import recommended_labels
from components.storage.common import nas_storage_class
from kubeforge.config.resolved import ResolvedStack

# The driver's tier names, as GKE's own StorageClasses spell them (the driver compares them
# in lower case). Ref: https://github.com/kubernetes-sigs/gcp-filestore-csi-driver/blob/v1.13.1/pkg/csi_driver/controller.go
TIERS: dict[str, dict[str, str]] = {
    "basic-hdd": {"tier": "standard"},
    "basic-ssd": {"tier": "premium"},
    "zonal": {"tier": "zonal"},
    "regional": {"tier": "regional"},
    "enterprise-multishare": {"tier": "enterprise", "multishare": "true"},
}


def storage_class_parameters(tier: str, network: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """The tier's driver parameters and the cluster's VPC network (instances join it by VPC
    peering, the driver's default connect mode)."""
    return {**TIERS[tier], "network": network}


@dataclass(frozen=True)
class FilestoreNasArgs:
    tier: str
    """Filestore tier (storage.file.filestoreTier), a key of ``TIERS``."""
    gcp: GcpClusterRefs
    """The cluster's VPC network."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class FilestoreNas(PlatformComponent):
    """The kubeforge-nas class over GKE's Filestore CSI driver."""

    key = "filestoreNas"
    type_token = "kubeforge:storage:FilestoreNas"
    args_type = FilestoreNasArgs
    concern = "storage"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, FilestoreNasArgs]:
        if stack.target != "gcp" or not stack.storage.file.enabled or cluster.gcp is None:
            return {}
        return {cls.default_name(): FilestoreNasArgs(tier=stack.storage.file.filestore_tier, gcp=cluster.gcp,
                                                     provider=cluster.provider)}

    def __init__(self, name: str, args: FilestoreNasArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.storage_class = nas_storage_class(
            f"{name}-storage-class",
            provisioner="filestore.csi.storage.gke.io",
            parameters=storage_class_parameters(args.tier, args.gcp.network_name),
            labels=recommended_labels(name="filestore-csi", instance=name, component=self.concern),
            expandable=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.register_outputs({"storageClass": self.storage_class.metadata.name})
