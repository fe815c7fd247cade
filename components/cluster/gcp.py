"""A private, VPC-native GKE cluster with A100 node pools whose driver cannot drift.

Versioning: the cluster is *not* enrolled in a release channel; the control plane is
pinned to the stack's Kubernetes minor and node pools run exactly the control plane's
version with node auto-upgrade off, so the node image (and the kernel the NVIDIA driver
is built for) changes only when the stack changes. Release-channel clusters cannot turn
node auto-upgrade off. GKE still upgrades a static-version cluster when its minor
reaches end of support: upgrade the stack before then.
Ref: https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels

Driver: GKE's own driver installation is disabled on every GPU node pool
(``INSTALLATION_DISABLED``); GPU nodes run Container-Optimized OS with secure boot, and
kubeforge's COS installer DaemonSets (components/gpu/cos_driver.py) load each pool's
pinned, Google-signed driver. GKE's default device plugin is switched off so the GPU
Operator's runs.
Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/google-gke.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import CLOUD_GPU_TAINT, POOL_LABEL, gpu_node_labels
from components.cluster.kubeconfig import kubeconfig_yaml
from components.component import ClusterAccess, GcpClusterRefs
from kubeforge.config.resolved import CpuPool, GkeCluster as GkeClusterSpec, GpuPool, ResolvedStack
# Least-privilege node identity. Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#use_least_privilege_sa
NODE_ROLES = ["roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader"]


@dataclass(frozen=True)
class GkeClusterArgs:
    cluster: GkeClusterSpec
    """Name, Kubernetes version and GCP settings."""
    system_pools: Mapping[str, CpuPool]
    """CPU pools for platform services, machine types resolved."""
    gpu_pools: Mapping[str, GpuPool]
    """GPU pools, machine types resolved from the machine-type table."""
    filestore_csi: bool = False
    """Enable GKE's Filestore CSI driver add-on: file storage is on."""
    data_key: bool = False
    """Create the Cloud KMS key for platform data: buckets use customer-managed encryption."""

    @classmethod
    def from_stack(cls, stack: ResolvedStack, kubeconfig: pulumi.Output[str] | None) -> "GkeClusterArgs":
        assert isinstance(stack.cluster, GkeClusterSpec) and kubeconfig is None
        storage = stack.storage
        return cls(cluster=stack.cluster, system_pools=stack.cpu_pools, gpu_pools=stack.gpu_pools,
                   filestore_csi=storage.file.enabled, data_key=storage.object.enabled and storage.object.cmek)



class GkeCluster(pulumi.ComponentResource):
    """A private GKE cluster with a system pool and A100 pools."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:cluster:GkeCluster", name, None, opts)
        s = args.cluster.settings
        self._gcp = gcp.Provider(f"{name}-gcp", project=s.project, region=s.region,
                                 opts=pulumi.ResourceOptions(parent=self))
        self._args = args
        labels = {"kubeforge-cluster": args.cluster.name, "managed-by": "kubeforge"}
        self._labels = labels

        network = gcp.compute.Network(
            f"{name}-vpc", name=args.cluster.name, project=s.project, auto_create_subnetworks=False,
            routing_mode="REGIONAL", opts=self._opts(),
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-nodes", name=f"{args.cluster.name}-nodes", project=s.project, region=s.region, network=network.id,
            ip_cidr_range=s.subnet_cidr, private_ip_google_access=True,
            secondary_ip_ranges=[
                {"range_name": "pods", "ip_cidr_range": s.pods_cidr},
                {"range_name": "services", "ip_cidr_range": s.services_cidr},
            ],
            opts=self._opts(),
        )
        router = gcp.compute.Router(f"{name}-router", name=f"{args.cluster.name}-router", project=s.project,
                                    region=s.region, network=network.id, opts=self._opts())
        # Private nodes reach registries and APIs through Cloud NAT only.
        gcp.compute.RouterNat(
            f"{name}-nat", name=f"{args.cluster.name}-nat", project=s.project, region=s.region, router=router.name,
            nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            opts=self._opts(),
        )

        ring = gcp.kms.KeyRing(f"{name}-keys", name=f"{args.cluster.name}-keys", project=s.project, location=s.region,
                               opts=self._opts(protect=True))
        key = gcp.kms.CryptoKey(
            f"{name}-secrets", name="gke-secrets", key_ring=ring.id, rotation_period="7776000s",  # 90 days
            opts=self._opts(protect=True),
        )
        project = gcp.organizations.get_project_output(project_id=s.project, opts=pulumi.InvokeOptions(provider=self._gcp))
        # Application-layer secrets encryption: GKE's service agent must use the key.
        # Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets
        key_grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets-gke", crypto_key_id=key.id, role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=project.number.apply(lambda n: f"serviceAccount:service-{n}@container-engine-robot.iam.gserviceaccount.com"),
            opts=self._opts(),
        )

        data_key = self._data_key(name, ring, project) if args.data_key else None

        node_sa = gcp.serviceaccount.Account(
            f"{name}-nodes", account_id=f"{args.cluster.name}-nodes"[:30], project=s.project,
            display_name=f"GKE nodes of {args.cluster.name}", opts=self._opts(),
        )
        for role in NODE_ROLES:
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1]}", project=s.project, role=role,
                member=node_sa.email.apply(lambda e: f"serviceAccount:{e}"), opts=self._opts(),
            )
        self._node_sa = node_sa

        self.cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=args.cluster.name,
            project=s.project,
            location=s.region,
            network=network.id,
            subnetwork=subnet.id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": True,
                "master_ipv4_cidr_block": s.master_cidr,
            },
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": c, "display_name": f"authorized-{i}"}
                                for i, c in enumerate(s.master_authorized_cidrs)],
            },
            release_channel={"channel": "UNSPECIFIED"},
            min_master_version=args.cluster.kubernetes_version,
            remove_default_node_pool=True,
            initial_node_count=1,
            workload_identity_config={"workload_pool": f"{s.project}.svc.id.goog"},
            database_encryption={"state": "ENCRYPTED", "key_name": key.id},
            # Dataplane V2 enforces NetworkPolicy natively.
            # Ref: https://cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2
            datapath_provider="ADVANCED_DATAPATH",
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            deletion_protection=True,
            resource_labels=labels,
            opts=self._opts(protect=True, depends_on=[key_grant], ignore_changes=["nodeConfig", "initialNodeCount"]),
            **self._addons(args),
        )
        self.node_pools = {}
        for pool_name, pool in args.system_pools.items():
            self.node_pools[pool_name] = self._pool(name, pool_name, pool, None)
        for pool in args.gpu_pools.values():
            self.node_pools[pool.name] = self._pool(name, pool.name, pool, pool)

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.endpoint, self.cluster.master_auth.cluster_ca_certificate).apply(
                lambda a: kubeconfig_yaml(
                    name=args.cluster.name, server=f"https://{a[0]}", ca_data=a[1],
                    # Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl
                    exec_command="gke-gcloud-auth-plugin", exec_args=[],
                )
            )
        )
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.node_pools.values())),
        )
        self.access = ClusterAccess(provider=self.provider, gcp=GcpClusterRefs(
            provider=self._gcp,
            project=s.project,
            region=s.region,
            network_name=network.name,
            workload_pool=f"{s.project}.svc.id.goog",
            data_key_id=data_key,
            labels=labels,
        ))
        self.register_outputs({"clusterName": self.cluster.name, "endpoint": self.cluster.endpoint,
                               "kubeconfig": self.kubeconfig})

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._gcp, **kwargs)

    @staticmethod
    def _addons(args: GkeClusterArgs) -> dict:
        """GKE add-ons kubeforge turns on. Enabling one later updates the cluster in place.
        Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/filestore-csi-driver#enable-existing"""
        if not args.filestore_csi:
            return {}
        return {"addons_config": {"gcp_filestore_csi_driver_config": {"enabled": True}}}

    def _data_key(self, name: str, ring: gcp.kms.KeyRing, project) -> pulumi.Output[str]:
        """The key of platform data (tenants' buckets), which Cloud Storage's service agent may
        use; the id returned resolves once that grant exists, so buckets wait for it. A Cloud
        KMS key cannot be deleted, only its versions destroyed (and the data with them): kept
        if ever removed from the stack.
        Ref: https://cloud.google.com/storage/docs/encryption/using-customer-managed-keys#service-agent-access"""
        key = gcp.kms.CryptoKey(
            f"{name}-data", name="platform-data", key_ring=ring.id, rotation_period="7776000s",  # 90 days
            opts=self._opts(protect=True, retain_on_delete=True),
        )
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-data-gcs", crypto_key_id=key.id, role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=project.number.apply(lambda n: f"serviceAccount:service-{n}@gs-project-accounts.iam.gserviceaccount.com"),
            opts=self._opts(),
        )
        return pulumi.Output.all(key.id, grant.id).apply(lambda ids: ids[0])

    def _pool(self, name: str, pool_name: str, pool: CpuPool | GpuPool, gpu: GpuPool | None) -> gcp.container.NodePool:
        s = self._args.cluster.settings
        node_config: dict = {
            "machine_type": pool.machine.machine_type if gpu else pool.machine_type,
            "disk_size_gb": pool.disk_gb,
            "disk_type": "pd-balanced",
            "service_account": self._node_sa.email,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            # GKE metadata server: pods see their Workload Identity, never the node's.
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "metadata": {"disable-legacy-endpoints": "true"},
            "labels": {POOL_LABEL: pool_name, **pool.labels},
            "resource_labels": self._labels,
        }
        extra: dict = {}
        if gpu is not None:
            machine = gpu.machine
            node_config.update(
                machine_type=machine.machine_type,
                # COS: Google's signed driver builds load under secure boot.
                image_type="COS_CONTAINERD",
                guest_accelerators=[{
                    "type": machine.accelerator,
                    "count": machine.gpus,
                    "gpu_driver_installation_config": {"gpu_driver_version": "INSTALLATION_DISABLED"},
                }],
                labels={**gpu_node_labels(gpu), "gke-no-default-nvidia-gpu-device-plugin": "true"},
                taints=[CLOUD_GPU_TAINT],
            )
            # Multi-node training: nodes close together in one zone.
            # Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/compact-placement
            extra["placement_policy"] = {"type": "COMPACT"}
            extra["node_locations"] = [s.zones[0]]
        return gcp.container.NodePool(
            f"{name}-{pool_name}",
            name=pool_name,
            project=s.project,
            location=s.region,
            cluster=self.cluster.name,
            version=self.cluster.master_version,
            initial_node_count=pool.min,
            autoscaling={"min_node_count": pool.min, "max_node_count": pool.max},
            management={"auto_upgrade": False, "auto_repair": True},
            node_config=node_config,
            opts=self._opts(ignore_changes=["initialNodeCount"]),
            **extra,
        )
