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

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.gpu.cos_driver import NVIDIA_DIR
from kubeforge.catalog import ComponentPin
from kubeforge.config import StackConfig
from kubeforge.config.model import ComponentSpec
from kubeforge.gpu.compat import parse_mig_layout

MIG_CONFIG_MAP = "kubeforge-mig-parted-config"


def mig_parted_config(config: StackConfig) -> dict[str, Any]:
    """mig-parted configuration: one named layout per MIG pool, selected by node label.

    Ref: https://github.com/NVIDIA/mig-parted#the-config-file
    """
    configs: dict[str, Any] = {"all-disabled": [{"devices": "all", "mig-enabled": False}]}
    for name, pool in config.gpu_pools.items():
        if pool.spec.gpu.mig:
            configs[f"kubeforge-{name}"] = [{
                "devices": "all",
                "mig-enabled": True,
                "mig-devices": parse_mig_layout(pool.spec.gpu.mig.layout),
            }]
    return {"version": "v1", "mig-configs": configs}


def operator_values(config: StackConfig, monitoring: bool) -> dict[str, Any]:
    path = config.driver_install_path
    pools = list(config.gpu_pools.values())
    strategies = {p.spec.gpu.mig.strategy for p in pools if p.spec.gpu.mig}
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
    if managed:
        drivers = sorted({p.spec.driver for p in pools})
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
        values["cdi"] = {"enabled": True, "default": True}
        values["migManager"]["env"] = [{"name": "WITH_REBOOT", "value": "true"}]
    return values


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class GpuOperatorArgs:
    config: StackConfig
    pin: ComponentPin
    """The catalog's pin (chart repository, name, version) for the GPU Operator."""
    settings: ComponentSpec
    """The stack's component settings: version override and values."""
    monitoring: bool
    provider: k8s.Provider


class GpuOperator(pulumi.ComponentResource):
    """NVIDIA GPU Operator Helm release plus the MIG layouts its MIG manager applies."""

    def __init__(self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:gpu:GpuOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = args.pin.namespace
        mig = k8s.core.v1.ConfigMap(
            f"{name}-mig-config",
            metadata={"name": MIG_CONFIG_MAP, "namespace": namespace,
                      "labels": {"app.kubernetes.io/managed-by": "kubeforge"}},
            data={"config.yaml": yaml.safe_dump(mig_parted_config(args.config), sort_keys=True)},
            opts=child,
        )
        depends: list[pulumi.Resource] = [mig]
        if args.config.platform.target == "gcp":
            depends.append(self._gke_critical_pod_quota(name, namespace, child, args.config))
        (chart,) = args.pin.charts
        values = deep_merge(operator_values(args.config, args.monitoring), args.settings.values)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="gpu-operator",
            chart=chart.name,
            version=args.settings.version or chart.version,
            repository_opts={"repo": chart.repository},
            namespace=namespace,
            values=values,
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends),
        )
        self.register_outputs({"version": self.release.version})

    @staticmethod
    def _gke_critical_pod_quota(name: str, namespace: str, opts: pulumi.ResourceOptions,
                                config: StackConfig) -> k8s.core.v1.ResourceQuota:
        """GKE admits system-*-critical pods outside kube-system only where a quota scoped to
        those priority classes exists; the Operator's pods use system-node-critical.

        Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/google-gke.html
        """
        gpu_nodes = sum(pool.capacity_nodes for pool in config.gpu_pools.values())
        return k8s.core.v1.ResourceQuota(
            f"{name}-critical-pods",
            metadata={"name": "gpu-operator-critical-pods", "namespace": namespace,
                      "labels": {"app.kubernetes.io/managed-by": "kubeforge"}},
            spec={
                # About ten Operator pods per GPU node, plus the controller and NFD.
                "hard": {"pods": str(max(32, 16 * gpu_nodes))},
                "scopeSelector": {"matchExpressions": [{
                    "scopeName": "PriorityClass", "operator": "In",
                    "values": ["system-node-critical", "system-cluster-critical"],
                }]},
            },
            opts=opts,
        )
