"""GPU pools: tainted so only GPU work lands there, driver pinned, the driver runs the CUDA
of the images the stack offers, and the GPU Operator's MIG layouts fit the cards.

The facts (driver branches, CUDA minimum drivers, MIG profiles) are kubeforge's own, read
with :mod:`kubeforge.gpu` from kubeforge/gpu/data: the same checks ``kubeforge preview``
runs on the config, here run on what the graph actually carries (the pools' labels, the
GPU Operator's values and MIG ConfigMap, the images' CUDA tags).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from kubeforge_policies.model import (
    GPU_COUNT_LABEL,
    GPU_DRIVER_LABEL,
    GPU_MODEL_LABEL,
    MIG_CONFIG_LABEL,
    POOL_LABEL,
    PolicyResource,
    as_dict,
    as_list,
)
from kubeforge_policies.rule import Issue, Rule

EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
NODE_PATCH = "kubernetes:core/v1:NodePatch"
NODE = "kubernetes:core/v1:Node"
POOL_TYPES = (EKS_NODE_GROUP, GKE_NODE_POOL, NODE_PATCH, NODE)
GPU_TAINT_KEY = "nvidia.com/gpu"
# EC2 accelerated-computing families with NVIDIA GPUs.
# Ref: https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
_EC2_GPU = re.compile(r"^(p\d+[a-z]*|g\d+[a-z]*)\.")
# A CUDA version in an image reference: "...:2.9.1-cuda12.8-cudnn9-runtime", "nvidia/cuda:12.8.0-base".
_IMAGE_CUDA = re.compile(r"(?:cuda[-_]?|nvidia/cuda:)(\d+)\.(\d+)")
_IMAGE_REF = re.compile(r"^[a-z0-9.-]+(?::\d+)?/[\w./-]+[:@][\w.-]+$|^[\w.-]+/[\w./-]+:[\w.-]+$")


@dataclass(frozen=True)
class GpuPool:
    resource: PolicyResource
    name: str
    labels: Mapping[str, Any]
    taints: list[Mapping[str, Any]]
    gpus_per_node: int
    max_nodes: int

    @property
    def model(self) -> str | None:
        return self.labels.get(GPU_MODEL_LABEL)

    @property
    def driver(self) -> str | None:
        return self.labels.get(GPU_DRIVER_LABEL)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def gpu_pool(r: PolicyResource) -> GpuPool | None:
    """The GPU pool ``r`` declares, or None when it has no GPUs."""
    if r.type == EKS_NODE_GROUP:
        labels = as_dict(r.get("labels"))
        has_gpu = bool(labels.get(GPU_MODEL_LABEL)) or "NVIDIA" in str(r.get("amiType") or "") or any(
            _EC2_GPU.match(str(t)) for t in as_list(r.get("instanceTypes")))
        taints = [as_dict(t) for t in as_list(r.get("taints"))]
        max_nodes = _int(r.get("scalingConfig", "maxSize"))
        per_node = _int(labels.get(GPU_COUNT_LABEL))
    elif r.type == GKE_NODE_POOL:
        config = as_dict(r.get("nodeConfig"))
        labels = as_dict(config.get("labels"))
        accelerators = [as_dict(a) for a in as_list(config.get("guestAccelerators"))]
        has_gpu = bool(labels.get(GPU_MODEL_LABEL)) or bool(accelerators)
        taints = [as_dict(t) for t in as_list(config.get("taints"))]
        zones = max(1, len(as_list(r.get("nodeLocations"))))
        autoscaling = as_dict(r.get("autoscaling"))
        # maxNodeCount is per zone, totalMaxNodeCount for the pool.
        # Ref: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools#NodePoolAutoscaling
        max_nodes = (_int(autoscaling.get("totalMaxNodeCount")) or _int(autoscaling.get("maxNodeCount")) * zones
                     or _int(r.get("nodeCount")) * zones)
        per_node = _int(labels.get(GPU_COUNT_LABEL)) or sum(_int(a.get("count")) for a in accelerators)
    elif r.type in (NODE_PATCH, NODE):
        labels = as_dict(r.get("metadata", "labels"))
        has_gpu = bool(labels.get(GPU_MODEL_LABEL))
        taints = [as_dict(t) for t in as_list(r.get("spec", "taints"))]
        max_nodes = 1
        per_node = _int(labels.get(GPU_COUNT_LABEL))
    else:
        return None
    if not has_gpu:
        return None
    return GpuPool(r, str(labels.get(POOL_LABEL) or r.name), labels, taints, per_node, max_nodes)


def gpu_pools(resources: Sequence[PolicyResource]) -> list[GpuPool]:
    return [p for r in resources if r.type in POOL_TYPES and (p := gpu_pool(r)) is not None]


def pool_tainted(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    pool = gpu_pool(r)
    if pool is None:
        return
    if not any(t.get("key") == GPU_TAINT_KEY and t.get("effect") in ("NoSchedule", "NO_SCHEDULE") for t in pool.taints):
        effect = "NO_SCHEDULE" if r.type in (EKS_NODE_GROUP, GKE_NODE_POOL) else "NoSchedule"
        yield Issue(f"GPU pool {pool.name} is not tainted {GPU_TAINT_KEY}:NoSchedule, so pods that need no GPU "
                    "take its CPU and memory", f'add the taint {{key: "{GPU_TAINT_KEY}", value: "present", '
                    f'effect: "{effect}"}}')


def driver_pinned(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    pool = gpu_pool(r)
    if pool is None:
        return
    if not pool.driver or not pool.model:
        yield Issue(f"GPU pool {pool.name} does not say which GPU and driver it runs ({GPU_MODEL_LABEL}, "
                    f"{GPU_DRIVER_LABEL})", "declare the pool through kubeforge's nodePools with gpu.model and driver")
    if r.type == GKE_NODE_POOL:
        for a in map(as_dict, as_list(r.get("nodeConfig", "guestAccelerators"))):
            version = as_dict(a.get("gpuDriverInstallationConfig")).get("gpuDriverVersion")
            if version != "INSTALLATION_DISABLED":
                yield Issue(f"GKE installs its {version or 'default'} driver on pool {pool.name}, not "
                            f"{'the pinned ' + pool.driver if pool.driver else 'a pinned one'}",
                            "set guestAccelerators[*].gpuDriverInstallationConfig.gpuDriverVersion "
                            "to INSTALLATION_DISABLED; kubeforge's COS installer loads the pinned driver")


def image_cuda_versions(resources: Sequence[PolicyResource]) -> list[str]:
    """The CUDA versions image references anywhere in the graph name in their tags."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and len(value) < 300:
            for token in re.split(r"[\s'\"]+", value):
                if _IMAGE_REF.match(token):
                    found.update(f"{m.group(1)}.{m.group(2)}" for m in _IMAGE_CUDA.finditer(token))

    for r in resources:
        walk(r.props)
    return sorted(found, key=lambda v: tuple(map(int, v.split("."))))


def driver_runs_cuda(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    from kubeforge.gpu.compat import check_pool  # kubeforge's GPU facts; __main__ puts the repo on sys.path

    cudas = list(params.get("cudaVersions") or []) or image_cuda_versions(resources)
    seen = set()
    for pool in gpu_pools(resources):
        if not pool.driver or not cudas or (pool.name, pool.driver, pool.model) in seen:
            continue
        seen.add((pool.name, pool.driver, pool.model))
        try:
            result = check_pool(pool.driver, cudas, gpu=pool.model, pool=pool.name)
        except ValueError as exc:
            yield Issue(f"GPU pool {pool.name}: {exc}", "pin a driver version kubeforge's GPU facts know", pool.resource)
            continue
        for finding in result.findings:
            if finding.severity == "error":
                # kubeforge's message already says what to pin; the fix names where.
                yield Issue(f"{finding.message} [CUDA offered: {', '.join(cudas)}]",
                            f"change nodePools.{pool.name}.driver as the message says", pool.resource)


def _operator_values(resources: Sequence[PolicyResource]) -> Mapping[str, Any] | None:
    for r in resources:
        if r.type in ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart") and r.get("chart") == "gpu-operator":
            return as_dict(r.get("values"))
    return None


def mig_config_valid(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    from kubeforge.gpu.mig import check_mig_layout

    values = _operator_values(resources)
    if values is None:
        return
    manager = as_dict(values.get("migManager"))
    strategy = as_dict(values.get("mig")).get("strategy", "single")
    config_name = as_dict(manager.get("config")).get("name")
    config_maps = [r for r in resources if r.is_kubernetes and r.kind == "ConfigMap" and r.k8s_name == config_name]
    pools = [p for p in gpu_pools(resources) if p.labels.get(MIG_CONFIG_LABEL)]
    if not config_maps:
        for pool in pools:
            yield Issue(f"GPU pool {pool.name} asks for MIG layout {pool.labels[MIG_CONFIG_LABEL]} but the stack "
                        f"defines no MIG ConfigMap {config_name or '(migManager.config.name unset)'}",
                        "create the mig-parted ConfigMap the GPU Operator's migManager.config.name names",
                        pool.resource)
        return
    config_map = config_maps[0]
    try:
        document = yaml.safe_load(str(config_map.get("data", "config.yaml") or "")) or {}
    except yaml.YAMLError as exc:
        yield Issue(f"config.yaml is not YAML ({exc})", "write mig-parted's config format", config_map)
        return
    layouts = as_dict(as_dict(document).get("mig-configs"))
    default = as_dict(manager.get("config")).get("default")
    if default and default not in layouts:
        yield Issue(f"the MIG manager's default layout {default} is not in the ConfigMap",
                    f"add {default} to mig-configs or change migManager.config.default", config_map)
    for pool in pools:
        name = pool.labels[MIG_CONFIG_LABEL]
        if name not in layouts:
            yield Issue(f"GPU pool {pool.name} asks for MIG layout {name}, which {config_name} does not define",
                        f"add {name} to mig-configs in {config_name}", pool.resource)
            continue
        for entry in map(as_dict, as_list(layouts[name])):
            if entry.get("mig-enabled") is not True:
                continue
            if strategy not in ("single", "mixed"):
                yield Issue(f"GPU pool {pool.name} uses MIG but the GPU Operator's mig.strategy is {strategy}, so "
                            "the device plugin advertises no MIG devices", "set mig.strategy to single or mixed",
                            pool.resource)
                break
            layout = {str(k): _int(v) for k, v in as_dict(entry.get("mig-devices")).items()}
            for message in check_mig_layout(pool.model or "", layout, strategy=strategy):
                yield Issue(f"GPU pool {pool.name}, MIG layout {name}: {message}",
                            f"change nodePools.{pool.name}.gpu.mig to a layout that fits {pool.model}", pool.resource)


RULES = (
    Rule("gpu-pool-tainted", "GPU pools are tainted nvidia.com/gpu:NoSchedule.", "high", pool_tainted,
         "taint nvidia.com/gpu=present:NoSchedule", resource_types=POOL_TYPES,
         reference="https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html"),
    Rule("gpu-driver-pinned", "GPU pools declare their GPU and pinned driver, and GKE does not install its own.",
         "high", driver_pinned, "gpu-model and gpu-driver labels; GKE driver installation disabled",
         resource_types=POOL_TYPES,
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/gpus#installing_drivers"),
    Rule("gpu-driver-runs-cuda", "Every GPU pool's driver runs the CUDA of the images the stack offers, on a "
         "supported branch, for its GPU.", "high", driver_runs_cuda, "pin a driver kubeforge's GPU facts accept",
         scope="stack",
         params={"cudaVersions": {"type": "array", "items": {"type": "string"}, "default": [],
                                  "description": "CUDA versions to check; empty: those image tags in the graph name."}},
         reference="https://docs.nvidia.com/deploy/cuda-compatibility/"),
    Rule("gpu-mig-config-valid", "The GPU Operator's MIG layouts exist, fit each pool's GPU and suit the MIG "
         "strategy.", "high", mig_config_valid, "a mig-parted layout valid for the card", scope="stack",
         reference="https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html"),
)
