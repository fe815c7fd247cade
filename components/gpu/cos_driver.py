"""The pinned NVIDIA driver on GKE Container-Optimized OS GPU nodes, via Google's COS installer.

Why COS and not the GPU Operator's driver on Ubuntu: GKE GPU nodes run with secure boot,
which refuses unsigned third-party kernel modules (CIS GKE Benchmark 5.5.7); the driver
the Operator compiles on the node is unsigned, while the COS installer loads Google's
signed, precompiled builds. GKE's own installation is disabled on the pools
(INSTALLATION_DISABLED) so that kubeforge, not GKE, chooses the exact version.
Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/google-gke.html
Ref: https://cloud.google.com/container-optimized-os/docs/how-to/run-gpus
Ref: https://pkg.go.dev/cos.googlesource.com/cos/tools.git/src/cmd/cos_gpu_installer

One DaemonSet per pinned driver version selects the nodes labelled with that version
(``kubeforge.io/gpu-driver``), so pools may pin different drivers. A node whose loaded
driver differs from its pin fails the installer and shows up as a failing pod instead of
silently running another version.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import GPU_DRIVER_LABEL
from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from kubeforge.config.resolved import ResolvedStack

# GKE keeps the NVIDIA installation here; it is writable and survives reboots.
NVIDIA_DIR = "/home/kubernetes/bin/nvidia"

_INSTALL = """\
set -eu
want="{version}"
if [ -r /sys/module/nvidia/version ]; then
  have="$(cat /sys/module/nvidia/version)"
  if [ "$have" = "$want" ]; then
    echo "NVIDIA driver $want already loaded"
    exit 0
  fi
  echo "NVIDIA driver $have is loaded but this node's pool pins $want; drain and recreate the node" >&2
  exit 1
fi
exec /cos-gpu-installer install --version="$want"
"""


@dataclass(frozen=True)
class CosDriverInstallerArgs:
    drivers: tuple[str, ...]
    """The distinct driver versions GPU pools pin, sorted."""
    installer_image: str
    """Google's COS GPU installer image (catalog platformImages.cosGpuInstaller)."""
    pause_image: str
    """The pause image that keeps each installer pod resident (catalog platformImages.pause)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class CosDriverInstaller(PlatformComponent):
    """Installs each pinned driver on the GKE COS nodes labelled with it."""

    key = "gpuDriver"
    type_token = "kubeforge:gpu:CosDriverInstaller"
    args_type = CosDriverInstallerArgs
    concern = "gpu"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, CosDriverInstallerArgs]:
        if stack.driver_install_path != "cos-installer" or not stack.gpu_pools:
            return {}
        return {cls.default_name(): CosDriverInstallerArgs(
            drivers=tuple(sorted({pool.driver for pool in stack.gpu_pools.values()})),
            installer_image=stack.platform_image("cosGpuInstaller"),
            pause_image=stack.platform_image("pause"),
            provider=cluster.provider,
        )}

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return "kube-system"  # where GKE runs its own node-critical GPU pods

    def __init__(self, name: str, args: CosDriverInstallerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        for version in args.drivers:
            app = f"nvidia-driver-{version.replace('.', '-')}"
            labels = recommended_labels(name=app, instance=name, component=self.concern, version=version)
            selector = {"app.kubernetes.io/name": app}
            host = lambda vol, path: {"name": vol, "hostPath": {"path": path}}  # noqa: E731
            k8s.apps.v1.DaemonSet(
                f"{name}-{version}",
                metadata={"name": app, "namespace": "kube-system", "labels": labels},
                spec={
                    # Selectors are immutable: the name label alone, as before recommended labels.
                    "selector": {"matchLabels": selector},
                    "updateStrategy": {"type": "RollingUpdate"},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "priorityClassName": "system-node-critical",
                            "nodeSelector": {GPU_DRIVER_LABEL: version},
                            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [{"matchExpressions": [
                                    {"key": "cloud.google.com/gke-accelerator", "operator": "Exists"},
                                    # Present only where GKE itself installs a driver.
                                    {"key": "cloud.google.com/gke-gpu-driver-version", "operator": "DoesNotExist"},
                                ]}],
                            }}},
                            "tolerations": [{"operator": "Exists"}],
                            "hostNetwork": True,
                            "hostPID": True,
                            "volumes": [
                                host("dev", "/dev"),
                                host("root", "/"),
                                host("nvidia", NVIDIA_DIR),
                                host("cos-tools", "/var/lib/cos-tools"),
                            ],
                            "initContainers": [{
                                "name": "install",
                                "image": args.installer_image,
                                # GKE preloads the installer image on GPU nodes.
                                "imagePullPolicy": "Never",
                                "command": ["bash", "-c", _INSTALL.format(version=version)],
                                # Loading a kernel module needs the host's privileges.
                                "securityContext": {"privileged": True},
                                # Google's manifest requests 150m and sets no limit; the limit is
                                # kubeforge's, well above what unpacking the driver takes.
                                "resources": {"requests": {"cpu": "150m", "memory": "256Mi"},
                                              "limits": {"cpu": "2", "memory": "2Gi"}},
                                "env": [
                                    {"name": "NVIDIA_INSTALL_DIR_HOST", "value": NVIDIA_DIR},
                                    {"name": "NVIDIA_INSTALL_DIR_CONTAINER", "value": "/usr/local/nvidia"},
                                    {"name": "ROOT_MOUNT_DIR", "value": "/root"},
                                    {"name": "COS_TOOLS_DIR_HOST", "value": "/var/lib/cos-tools"},
                                    {"name": "COS_TOOLS_DIR_CONTAINER", "value": "/build/cos-tools"},
                                ],
                                "volumeMounts": [
                                    {"name": "dev", "mountPath": "/dev"},
                                    {"name": "root", "mountPath": "/root"},
                                    {"name": "nvidia", "mountPath": "/usr/local/nvidia"},
                                    {"name": "cos-tools", "mountPath": "/build/cos-tools"},
                                ],
                            }],
                            "containers": [{
                                "name": "pause",
                                "image": args.pause_image,
                                "resources": {"requests": {"cpu": "1m", "memory": "8Mi"}, "limits": {"cpu": "10m", "memory": "16Mi"}},
                                "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                                    "runAsUser": 65532, "capabilities": {"drop": ["ALL"]}},
                            }],
                        },
                    },
                },
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
        self.register_outputs({"drivers": list(args.drivers)})
