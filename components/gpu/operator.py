"""The NVIDIA GPU Operator, pinned by the catalog, configured to match the driver install path.

Who installs the driver (and the container toolkit) depends on the target:
- aws: the EKS AL2023 NVIDIA AMI ships both, pinned by the AMI release; the Operator's
  driver and toolkit are off. Ref: https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html
- gcp: GKE's installer is disabled on the pools; kubeforge's COS installer DaemonSets
  (``cos_driver``) load each pool's pinned, Google-signed driver; the Operator uses it
  from GKE's install directory. Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/google-gke.html
- onprem: ``onprem.driverInstall: host`` (gpu-drivers/install scripts) or ``operator``.
In every case the Operator runs the device plugin, the MIG manager and the DCGM exporter.
Value keys: https://github.com/NVIDIA/gpu-operator/blob/v26.7.0/deployments/gpu-operator/values.yaml
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.component import ClusterAccess, PlatformComponent
from components.gpu.cos_driver import NVIDIA_DIR
from components.helm import helm_release
from components.labels import recommended_labels
from components.monitoring.dcgm import CONFIG_KEY as DCGM_CONFIG_KEY
from components.monitoring.dcgm import CONFIG_MAP as DCGM_CONFIG_MAP
from components.monitoring.dcgm import metrics_csv
from kubeforge.config.resolved import DriverInstallPath, GpuPool, ResolvedComponent, ResolvedStack

MIG_CONFIG_MAP = "kubeforge-mig-parted-config"


def mig_parted_config(pools: Mapping[str, GpuPool]) -> dict[str, Any]:
    """mig-parted configuration: one named layout per MIG pool, selected by node label.

    Ref: https://github.com/NVIDIA/mig-parted#the-config-file
    """
    configs: dict[str, Any] = {"all-disabled": [{"devices": "all", "mig-enabled": False}]}
    for name, pool in pools.items():
        if pool.mig:
            configs[f"kubeforge-{name}"] = [{
                "devices": "all",
                "mig-enabled": True,
                "mig-devices": dict(pool.mig.profiles),
            }]
    return {"version": "v1", "mig-configs": configs}


def operator_values(pools: Mapping[str, GpuPool], path: DriverInstallPath, monitoring: bool) -> dict[str, Any]:
    strategies = {p.mig.strategy for p in pools.values() if p.mig}
    managed = path == "operator"
    values: dict[str, Any] = {
        "driver": {"enabled": managed},
        "toolkit": {"enabled": path in ("operator", "cos-installer")},
        "devicePlugin": {"enabled": True},
        "mig": {"strategy": strategies.pop() if strategies else "none"},
        "migManager": {"enabled": True, "config": {"name": MIG_CONFIG_MAP, "default": "all-disabled"}},
        # DCGM exporter metrics are scraped through a ServiceMonitor, which needs the
        # Prometheus Operator's CRD: only with the monitoring component.
        "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": monitoring}},
    }
    if monitoring:
        values["dcgmExporter"].update(
            # kubeforge's metrics file: the default set plus ECC and throttling (components/monitoring/dcgm.py).
            config={"name": DCGM_CONFIG_MAP},
            serviceMonitor={
                "enabled": True,
                # Keep the exporter's namespace/pod/container labels (the workload holding the
                # GPU) instead of the exporter pod's, and name the node as every other series does.
                "honorLabels": True,
                "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node",
                                 "action": "replace"}],
            },
        )
    if managed:
        drivers = sorted({p.driver for p in pools.values()})
        values["driver"].update(
            version=drivers[0],
            # The pinned driver stays pinned: no automatic driver upgrades.
            upgradePolicy={"autoUpgrade": False},
        )
    if path == "cos-installer":
        # The driver lives in GKE's install directory; the toolkit goes there too, CDI
        # on. GKE 1.33+: the toolkit reads the containerd config from file. MIG changes
        # need a node reboot on GKE.
        # Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/google-gke.html
        values["hostPaths"] = {"driverInstallDir": NVIDIA_DIR}
        values["toolkit"].update(installDir=NVIDIA_DIR,
                                 env=[{"name": "RUNTIME_CONFIG_SOURCE", "value": "file"}])
        # CDI on; the chart at v26.7.0 has no cdi.default any more (CDI is the default mode
        # there), so setting it would be a silent no-op.
        # Ref: https://github.com/NVIDIA/gpu-operator/blob/v26.7.0/deployments/gpu-operator/values.yaml
        values["cdi"] = {"enabled": True}
        values["migManager"]["env"] = [{"name": "WITH_REBOOT", "value": "true"}]
    return values


@dataclass(frozen=True)
class GpuOperatorArgs:
    component: ResolvedComponent
    """The catalog pin (chart repository, name, exact version) and the stack's valuesOverrides."""
    gpu_pools: Mapping[str, GpuPool]
    """The GPU pools: their drivers, MIG strategy and layouts shape the Operator's values."""
    driver_install_path: DriverInstallPath
    """Who installs the driver and toolkit; the Operator manages what no one else does."""
    gke_critical_pods: int | None
    """GKE only: pods to admit at system-node-critical priority in the Operator's namespace."""
    monitoring: bool
    """The monitoring component is on: the DCGM exporter gets a ServiceMonitor."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class GpuOperator(PlatformComponent):
    """NVIDIA GPU Operator Helm release plus the MIG layouts its MIG manager applies."""

    key = "gpuOperator"
    type_token = "kubeforge:gpu:GpuOperator"
    section = "components.gpuOperator"
    depends_on = ("namespaces",)
    # The Operator creates the DCGM exporter's ServiceMonitor only if the Prometheus
    # Operator's CRD exists when it reconciles, and stops reconciling once the node states
    # are ready (controllers/object_controls.go at v26.7.0): the monitoring stack first.
    after = ("monitoring",)
    args_type = GpuOperatorArgs
    concern = "gpu"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, GpuOperatorArgs]:
        component = stack.components.get(cls.key)
        if component is None or not stack.gpu_pools:
            return {}
        # About ten Operator pods per GPU node, plus the controller and NFD.
        gpu_nodes = sum(pool.capacity_nodes for pool in stack.gpu_pools.values())
        return {cls.default_name(): GpuOperatorArgs(
            component=component,
            gpu_pools=stack.gpu_pools,
            driver_install_path=stack.driver_install_path,
            gke_critical_pods=max(32, 16 * gpu_nodes) if stack.target == "gcp" else None,
            monitoring="monitoring" in stack.components,
            provider=cluster.provider,
        )}

    def __init__(self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = args.component.namespace
        labels = recommended_labels(name="gpu-operator", instance=name, component=self.concern,
                                    version=args.component.version)
        mig = k8s.core.v1.ConfigMap(
            f"{name}-mig-config",
            metadata={"name": MIG_CONFIG_MAP, "namespace": namespace, "labels": labels},
            data={"config.yaml": yaml.safe_dump(mig_parted_config(args.gpu_pools), sort_keys=True)},
            opts=child,
        )
        depends: list[pulumi.Resource] = [mig]
        if args.monitoring:
            depends.append(k8s.core.v1.ConfigMap(
                f"{name}-dcgm-metrics",
                metadata={"name": DCGM_CONFIG_MAP, "namespace": namespace, "labels": labels},
                data={DCGM_CONFIG_KEY: metrics_csv()},
                opts=child,
            ))
        if args.gke_critical_pods is not None:
            depends.append(self._gke_critical_pod_quota(name, namespace, labels, args.gke_critical_pods, child))
        self.release = helm_release(
            f"{name}-release",
            args.component,
            release_name="gpu-operator",
            values=operator_values(args.gpu_pools, args.driver_install_path, args.monitoring),
            provider=args.provider,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.register_outputs({"version": self.release.version})

    @staticmethod
    def _gke_critical_pod_quota(name: str, namespace: str, labels: dict[str, str], pods: int,
                                opts: pulumi.ResourceOptions) -> k8s.core.v1.ResourceQuota:
        """GKE admits system-*-critical pods outside kube-system only where a quota scoped to
        those priority classes exists; the Operator's pods use system-node-critical.

        Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/google-gke.html
        """
        return k8s.core.v1.ResourceQuota(
            f"{name}-critical-pods",
            metadata={"name": "gpu-operator-critical-pods", "namespace": namespace, "labels": labels},
            spec={
                "hard": {"pods": str(pods)},
                "scopeSelector": {"matchExpressions": [{
                    "scopeName": "PriorityClass", "operator": "In",
                    "values": ["system-node-critical", "system-cluster-critical"],
                }]},
            },
            opts=opts,
        )
