"""onprem: SeaweedFS, the in-cluster S3-compatible object store (``storage.object.store: seaweedfs``).

Why SeaweedFS: it is the Kubeflow community distribution's default artifact store since 1.11
(README of tag 26.03: "The default artifact store is now seaweedfs"), and it is maintained;
MinIO's community edition stopped publishing images in October 2025 and was archived in
2026 (https://github.com/minio/minio), leaving chart 5.4.0 on a 2024 server image.

The chart at the catalog's version runs masters, volume servers, one filer and the S3
gateway, every piece on a PersistentVolume (the chart's default is hostPath). Its S3 gateway
requires a signature for every request (``enableAuth``) and knows one identity per tenant,
allowed Read, Write, List and Tagging on that tenant's bucket only; the identities, with the
tenants' keys from ``kubeforge:objectStoreCredentials``, are a Secret kubeforge writes. The
chart's post-install hook creates the buckets, versioned.
Value keys: https://github.com/seaweedfs/seaweedfs/blob/4.44/k8s/charts/seaweedfs/values.yaml ;
bucket-scoped actions: https://github.com/seaweedfs/seaweedfs/blob/4.44/weed/s3api/auth_credentials.go
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.helm import helm_release
from components.labels import recommended_labels
from components.storage.common import KEEP_DATA, credential
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack

PIN = "seaweedfs"
RELEASE = "seaweedfs"
CONFIG_SECRET = "seaweedfs-s3-config"
# The file name the S3 gateway reads from the Secret (templates/s3/s3-deployment.yaml).
CONFIG_KEY = "seaweedfs_s3_config"
S3_PORT = 8333
TENANT_ACTIONS = ("Read", "Write", "List", "Tagging")
MASTER_DATA = "10Gi"  # Raft log and topology
FILER_DATA = "50Gi"  # object metadata (the filer's embedded leveldb2 store)


def s3_endpoint(namespace: str) -> str:
    """The chart's S3 Service, ``<release>-s3`` (templates/s3/s3-service.yaml), in-cluster."""
    return f"http://{RELEASE}-s3.{namespace}.svc:{S3_PORT}"


def s3_identities(credentials: Any, buckets: Mapping[str, str]) -> dict[str, Any]:
    """The gateway's identities: one per tenant, its actions scoped to its own bucket."""
    return {"identities": [
        {
            "name": tenant,
            "credentials": [{"accessKey": credential(credentials, tenant, "accessKeyId"),
                             "secretKey": credential(credentials, tenant, "secretAccessKey")}],
            "actions": [f"{action}:{bucket}" for action in TENANT_ACTIONS],
        }
        for tenant, bucket in sorted(buckets.items())
    ]}


def store_values(masters: int, volume_servers: int, volume_size: str, storage_class: str | None,
                 buckets: Mapping[str, str]) -> dict[str, Any]:
    claim = {"type": "persistentVolumeClaim", "storageClass": storage_class or ""}
    return {
        "global": {"seaweedfs": {
            # Two copies of every object, on two volume servers, when there are two.
            "enableReplication": volume_servers >= 2,
            "replicationPlacement": "001",
        }},
        "master": {"replicas": masters, "data": {**claim, "size": MASTER_DATA}, "logs": {"type": "emptyDir"}},
        "volume": {"replicas": volume_servers, "dataDirs": [
            {"name": "data1", **claim, "size": volume_size, "maxVolumes": 0},
        ]},
        "filer": {"replicas": 1, "data": {**claim, "size": FILER_DATA}, "logs": {"type": "emptyDir"}},
        "s3": {
            "enabled": True,
            "replicas": min(volume_servers, 2),
            "enableAuth": True,
            "existingConfigSecret": CONFIG_SECRET,
            "logs": {"type": "emptyDir"},
            "createBuckets": [{"name": bucket, "anonymousRead": False, "versioning": "Enabled"}
                              for bucket in sorted(buckets.values())],
        },
    }


@dataclass(frozen=True)
class SeaweedFsStoreArgs:
    store: ResolvedComponent
    """The catalog pin of the seaweedfs chart and the namespace it runs in."""
    masters: int
    """Master servers (1 or 3)."""
    volume_servers: int
    """Volume servers, one PersistentVolume each."""
    volume_size: str
    """Size of each volume server's PersistentVolume."""
    storage_class: str | None
    """StorageClass of the store's PersistentVolumes; None: the cluster's default."""
    buckets: Mapping[str, str]
    """Tenant -> its bucket, for every tenant with storage.bucket."""
    credentials: pulumi.Output[Any]
    """The secret kubeforge:objectStoreCredentials value (each bucket tenant's keys)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class SeaweedFsStore(PlatformComponent):
    """SeaweedFS in its own namespace, with per-tenant identities and buckets."""

    key = "seaweedfs"
    type_token = "kubeforge:storage:SeaweedFsStore"
    args_type = SeaweedFsStoreArgs
    concern = "storage"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, SeaweedFsStoreArgs]:
        obj = stack.storage.object
        if stack.target != "onprem" or not obj.enabled or obj.store != "seaweedfs":
            return {}
        settings = obj.seaweedfs
        # Required at load whenever a tenant has a bucket (kubeforge.config.credentials).
        credentials = cluster.object_store_credentials or pulumi.Output.secret({})
        return {cls.default_name(): SeaweedFsStoreArgs(
            store=stack.storage_components[PIN],
            masters=settings.masters,
            volume_servers=settings.volume_servers,
            volume_size=str(settings.volume_size),
            storage_class=settings.storage_class,
            buckets={name: obj.bucket_name(stack.stack, name) for name, t in stack.tenants.items() if t.storage.bucket},
            credentials=credentials,
            provider=cluster.provider,
        )}

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return stack.release.storage[PIN].namespace

    def __init__(self, name: str, args: SeaweedFsStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        namespace = args.store.namespace
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = recommended_labels(name="seaweedfs", instance=name, component=self.concern,
                                    version=args.store.version)
        # The store's volumes live in this namespace: deleting it would delete them.
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": namespace, "labels": {**labels, "pod-security.kubernetes.io/enforce": "baseline"}},
            opts=pulumi.ResourceOptions.merge(child, KEEP_DATA),
        )
        buckets = dict(args.buckets)
        config = k8s.core.v1.Secret(
            f"{name}-s3-config",
            metadata={"name": CONFIG_SECRET, "namespace": namespace, "labels": labels},
            type="Opaque",
            string_data={CONFIG_KEY: pulumi.Output.secret(args.credentials).apply(
                lambda creds: json.dumps(s3_identities(creds, buckets), sort_keys=True))},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns])),
        )
        self.release = helm_release(
            f"{name}-release",
            args.store,
            release_name=RELEASE,
            values=store_values(args.masters, args.volume_servers, args.volume_size, args.storage_class, buckets),
            provider=args.provider,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, config]),
        )
        self.register_outputs({"version": self.release.version, "endpoint": s3_endpoint(namespace)})
