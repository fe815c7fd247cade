"""Labels and taints every GPU node carries, whatever the target."""

from __future__ import annotations

from kubeforge.config.resolved import GpuPool

# GPU nodes repel pods that do not ask for GPUs; the GPU Operator and device plugin
# tolerate it. Ref: https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
# The same taint as the EKS and GKE node-pool APIs spell it (effects in upper snake case).
# Ref: https://docs.aws.amazon.com/eks/latest/APIReference/API_Taint.html ;
# https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/NodeConfig#NodeTaint
CLOUD_GPU_TAINT = {**GPU_TAINT, "effect": "NO_SCHEDULE"}


def gpu_toleration() -> dict[str, str]:
    """The pod toleration of :data:`GPU_TAINT` (a fresh dict each time)."""
    return {"key": GPU_TAINT["key"], "operator": "Equal", "value": GPU_TAINT["value"], "effect": GPU_TAINT["effect"]}

POOL_LABEL = "kubeforge.io/node-pool"
GPU_MODEL_LABEL = "kubeforge.io/gpu-model"
GPU_DRIVER_LABEL = "kubeforge.io/gpu-driver"
GPU_COUNT_LABEL = "kubeforge.io/gpus-per-node"


def gpu_node_labels(pool: GpuPool) -> dict[str, str]:
    """The pool's own labels, then kubeforge's on top: the pinned driver and MIG layout
    always win (the spec also refuses user labels under kubeforge's prefixes)."""
    labels = {
        **pool.labels,
        POOL_LABEL: pool.name,
        GPU_MODEL_LABEL: pool.model,
        GPU_DRIVER_LABEL: pool.driver,
        GPU_COUNT_LABEL: str(pool.gpus_per_node),
    }
    if pool.mig:
        # The GPU Operator's MIG manager applies the profile named by this label.
        # Ref: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html
        labels["nvidia.com/mig.config"] = f"kubeforge-{pool.name}"
    return labels
