"""onprem: the NAS on the existing NFS export, through the NFS CSI driver (csi-driver-nfs).

The driver's Helm chart at the catalog's version, in kube-system as upstream installs it;
the StorageClass makes a directory per claim under the export
(``<share>/<namespace>/<claim>``). Retain on the class, and ``onDelete: retain`` in the driver
as a second guard: even a volume deleted by hand keeps its directory.
Ref: https://github.com/kubernetes-csi/csi-driver-nfs/blob/v4.13.4/docs/driver-parameters.md
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.helm import helm_release
from components.labels import recommended_labels
from components.storage.common import nas_storage_class
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack

PIN = "csiDriverNfs"
PROVISIONER = "nfs.csi.k8s.io"


def driver_values() -> dict[str, Any]:
    """Value keys: https://github.com/kubernetes-csi/csi-driver-nfs/blob/v4.13.4/charts/v4.13.4/csi-driver-nfs/values.yaml"""
    return {
        # kubeforge creates the class itself (labelled, Retain); the chart's stays off.
        "storageClass": {"create": False},
        "controller": {"defaultOnDeletePolicy": "retain"},
        # No VolumeSnapshot CRDs or controller: not every cluster wants them from this chart.
        "externalSnapshotter": {"enabled": False},
    }


def storage_class_parameters(server: str, share: str) -> dict[str, str]:
    return {
        "server": server,
        "share": share,
        "subDir": "${pvc.metadata.namespace}/${pvc.metadata.name}",
        "onDelete": "retain",
    }


@dataclass(frozen=True)
class NfsNasArgs:
    driver: ResolvedComponent
    """The catalog pin of the csi-driver-nfs chart (namespace kube-system)."""
    server: str
    """NFS server (storage.file.nfs.server), validated at load."""
    share: str
    """Exported path (storage.file.nfs.path), validated at load."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class NfsNas(PlatformComponent):
    """The NFS CSI driver and the kubeforge-nas class over the existing export."""

    key = "nfsNas"
    type_token = "kubeforge:storage:NfsNas"
    args_type = NfsNasArgs
    concern = "storage"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, NfsNasArgs]:
        nfs = stack.storage.file.nfs
        if stack.target != "onprem" or not stack.storage.file.enabled or nfs is None:
            return {}
        return {cls.default_name(): NfsNasArgs(driver=stack.storage_components[PIN], server=nfs.server, share=nfs.path,
                                               provider=cluster.provider)}

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return stack.release.storage[PIN].namespace

    def __init__(self, name: str, args: NfsNasArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        release = helm_release(
            f"{name}-driver",
            args.driver,
            release_name="csi-driver-nfs",
            values=driver_values(),
            provider=args.provider,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.storage_class = nas_storage_class(
            f"{name}-storage-class",
            provisioner=PROVISIONER,
            parameters=storage_class_parameters(args.server, args.share),
            labels=recommended_labels(name="csi-driver-nfs", instance=name, component=self.concern,
                                      version=args.driver.version),
            expandable=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[release]),
        )
        self.register_outputs({"version": release.version, "storageClass": self.storage_class.metadata.name})
