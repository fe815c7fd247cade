"""The edge where raw stack YAML becomes one validated :class:`StackConfig`.

Both entry points use this module: the Pulumi program (config from ``pulumi.Config``)
and the CLI / offline engine (config read from ``stacks/Pulumi.<stack>.yaml``). Every
problem becomes a :class:`~kubeforge.errors.Problem` naming file, key path, bad value
and what is accepted; nothing downstream ever sees unvalidated data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from kubeforge import catalog, machines
from kubeforge.config.gpu_rules import check_gpu_pools
from kubeforge.config.model import NodePoolSpec, PlatformSpec, TenantSpec
from kubeforge.errors import ConfigError, Problem

NAMESPACE = "kubeforge"
PLATFORM_KEY = f"{NAMESPACE}:platform"
# Other keys kubeforge reads from its config namespace. Anything else is a typo.
KNOWN_KEYS = {PLATFORM_KEY, f"{NAMESPACE}:kubeconfig"}


def project_root() -> Path:
    """The kubeforge project directory (holds Pulumi.yaml and stacks/)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class GpuPool:
    """A GPU node pool with its machine type resolved from the machine-type table."""

    name: str
    spec: NodePoolSpec
    machine: machines.GpuMachineType | None  # None on-prem
    capacity_nodes: int

    @property
    def gpus(self) -> int:
        return self.capacity_nodes * self.spec.gpu.per_node


@dataclass(frozen=True)
class StackConfig:
    """Everything one stack deploys: the platform, its tenants and the catalog release."""

    stack: str
    platform: PlatformSpec
    tenants: dict[str, TenantSpec]
    release: catalog.Release
    gpu_pools: dict[str, GpuPool] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    """Deployable but worth a look (e.g. a new-feature driver branch)."""

    @property
    def node_pools(self):
        return self.platform.node_pools

    @property
    def driver_install_path(self) -> Literal["ami", "cos-installer", "operator", "host"]:
        """Who puts the pinned NVIDIA driver on GPU nodes: the EKS AMI release (aws), Google's
        COS installer (gcp), or on-prem the host scripts or the GPU Operator."""
        target = self.platform.target
        if target == "aws":
            return "ami"
        if target == "gcp":
            return "cos-installer"
        return self.platform.onprem.driver_install if self.platform.onprem else "host"

    @property
    def gpu_capacity(self) -> int:
        return sum(p.gpus for p in self.gpu_pools.values())


# --- YAML reading ------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen[key] = True
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, display: str) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError([Problem(display, "", "file not found", has_value=False)]) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{display}:{mark.line + 1}:{mark.column + 1}" if mark else display
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(where, "", f"malformed YAML: {problem}", has_value=False)]) from None


def stack_file(root: Path, stack: str) -> Path:
    return root / "stacks" / f"Pulumi.{stack}.yaml"


def available_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (root / "stacks").glob("Pulumi.*.yaml"))


def read_stack_config(root: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` map of a stack file, as the Pulumi CLI would hand it to the program."""
    path = stack_file(root, stack)
    display = f"stacks/{path.name}"
    if not path.exists():
        stacks = ", ".join(available_stacks(root)) or "none"
        raise ConfigError([Problem(display, "", f"no such stack; stacks here: {stacks}", value=stack)])
    doc = read_yaml(path, display) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise ConfigError([Problem(display, "config", "must be a mapping of config keys", value=doc)])
    config = doc.get("config") or {}
    return {_qualify(k): v for k, v in config.items()}


def _qualify(key: str) -> str:
    # Pulumi treats an unqualified key as belonging to the project's namespace.
    return key if ":" in key else f"{NAMESPACE}:{key}"


# --- validation ---------------------------------------------------------------------------


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    out = prefix
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _problems(exc: ValidationError, source: str, prefix: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # Errors raised by a model validator carry a synthetic tail; drop it.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        msg = err["msg"]
        value, has_value = err.get("input"), True
        if kind == "unknown_key":
            key = err["ctx"]["key"]
            loc = loc + (key,)
            value = key
            has_value = False
            msg = msg.replace(f"unknown key '{key}'", "unknown key")
        elif kind == "missing":
            msg, has_value = "required key is missing", False
        elif isinstance(value, (dict, BaseModel)) or kind in (
            "guarantee_over_quota", "duplicate_contributor", "owner_is_contributor", "min_max",
        ):
            has_value = False
        if "[key]" in err["loc"]:
            value, has_value = err["loc"][err["loc"].index("[key]") - 1], True
        msg = msg.replace("Input should be", "must be").replace("Value error, ", "")
        problems.append(Problem(source, _path(prefix, loc), msg, value=value, has_value=has_value))
    return problems


def _validate(model: type[BaseModel], data: Any, source: str, prefix: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([Problem(source, prefix, "must be a mapping", value=data)])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, source, prefix)) from None


def load_stack(stack: str, root: Path | None = None) -> StackConfig:
    """Read and validate ``stacks/Pulumi.<stack>.yaml`` and its tenants."""
    root = root or project_root()
    config = read_stack_config(root, stack)
    source = f"stacks/Pulumi.{stack}.yaml"
    unknown = sorted(k for k in config if k.startswith(f"{NAMESPACE}:") and k not in KNOWN_KEYS)
    if unknown:
        raise ConfigError([
            Problem(source, k, f"unknown config key; accepted: {', '.join(sorted(KNOWN_KEYS))}", has_value=False)
            for k in unknown
        ])
    return load_platform(
        config.get(PLATFORM_KEY),
        stack=stack,
        root=root,
        kubeconfig_configured=f"{NAMESPACE}:kubeconfig" in config,
    )


def load_platform(
    raw: Any,
    *,
    stack: str,
    root: Path | None = None,
    kubeconfig_configured: bool = False,
) -> StackConfig:
    """Validate a ``kubeforge:platform`` value (already parsed) and load its tenants."""
    root = root or project_root()
    source = f"stacks/Pulumi.{stack}.yaml"
    if raw is None:
        raise ConfigError([Problem(source, PLATFORM_KEY, "required config value is missing", has_value=False)])
    platform: PlatformSpec = _validate(PlatformSpec, raw, source, PLATFORM_KEY)

    releases = catalog.available_releases()
    if platform.release not in releases:
        raise ConfigError([Problem(
            source, f"{PLATFORM_KEY}.release", f"unknown catalog release; accepted: {', '.join(releases)}",
            value=platform.release,
        )])
    release = catalog.load_release(platform.release)

    problems: list[Problem] = []
    supported = getattr(release.kubernetes, platform.target)
    if platform.kubernetes_version not in supported:
        problems.append(Problem(
            source, f"{PLATFORM_KEY}.kubernetesVersion",
            f"not supported on {platform.target} by release {release.release}; accepted: {', '.join(supported)}",
            value=platform.kubernetes_version,
        ))
    gpu_pools, pool_problems = _resolve_pools(platform, source)
    problems += pool_problems
    problems += _check_aws_ami_driver(platform, release, gpu_pools, source)
    problems += _check_storage(platform, source)
    if kubeconfig_configured and platform.target != "onprem":
        problems.append(Problem(
            source, f"{NAMESPACE}:kubeconfig",
            f"only used with target onprem; a {platform.target} cluster's kubeconfig is created with it and "
            "exported as the secret stack output 'kubeconfig'", has_value=False,
        ))

    tenants: dict[str, TenantSpec] = {}
    for name in platform.tenants:
        path = root / "stacks" / "tenants" / f"{name}.yaml"
        display = f"stacks/tenants/{name}.yaml"
        if not path.exists():
            problems.append(Problem(
                source, f"{PLATFORM_KEY}.tenants", f"tenant file {display} does not exist", value=name,
            ))
            continue
        try:
            tenants[name] = _validate(TenantSpec, read_yaml(path, display), display, "")
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)

    resolved = StackConfig(
        stack=stack,
        platform=platform,
        tenants=tenants,
        release=release,
        gpu_pools=gpu_pools,
    )
    problems += _check_capacity(resolved)
    gpu_problems, warnings = check_gpu_pools(resolved, source, PLATFORM_KEY)
    problems += gpu_problems
    if problems:
        raise ConfigError(problems)
    return dataclasses.replace(resolved, warnings=tuple(warnings))


def _resolve_pools(platform: PlatformSpec, source: str) -> tuple[dict[str, GpuPool], list[Problem]]:
    target = platform.target
    problems: list[Problem] = []
    pools: dict[str, GpuPool] = {}
    if target != "onprem" and not any(p.gpu is None for p in platform.node_pools.values()):
        problems.append(Problem(
            source, f"{PLATFORM_KEY}.nodePools", "add a CPU pool (a pool without 'gpu') for platform services",
            has_value=False,
        ))
    for name, pool in platform.node_pools.items():
        path = f"{PLATFORM_KEY}.nodePools.{name}"
        if target == "onprem":
            if pool.machine_type:
                problems.append(Problem(source, f"{path}.machineType", "not used on-prem (existing nodes)",
                                        value=pool.machine_type))
            if pool.gpu and not (pool.nodes or pool.node_selector):
                problems.append(Problem(source, f"{path}.nodes", "on-prem GPU pools must name their existing nodes "
                                        "('nodes') or select them by label ('nodeSelector')", has_value=False))
        elif pool.nodes or pool.node_selector:
            key = "nodes" if pool.nodes else "nodeSelector"
            problems.append(Problem(source, f"{path}.{key}", f"only accepted on-prem; {target} pools create their "
                                    "own nodes", value=pool.nodes or pool.node_selector))
        if pool.gpu is None:
            continue
        accepted = machines.accepted_gpus_per_node(target, pool.gpu.model)
        if not accepted:
            problems.append(Problem(source, f"{path}.gpu.model", f"{target} offers no machine with this GPU",
                                    value=pool.gpu.model))
            continue
        if pool.gpu.per_node not in accepted:
            problems.append(Problem(
                source, f"{path}.gpu.perNode",
                f"{target} has no {pool.gpu.model} machine with that many GPUs; accepted: "
                f"{', '.join(map(str, accepted))}",
                value=pool.gpu.per_node,
            ))
            continue
        machine = None if target == "onprem" else machines.pick_machine_type(target, pool.gpu.model,
                                                                             pool.gpu.per_node)
        if pool.machine_type and machine and pool.machine_type != machine.machine_type:
            problems.append(Problem(
                source, f"{path}.machineType",
                f"GPU pools take their machine type from the GPU model and perNode ({machine.machine_type}); "
                "remove machineType", value=pool.machine_type,
            ))
        nodes = len(pool.nodes) if (target == "onprem" and pool.nodes) else pool.max
        pools[name] = GpuPool(name=name, spec=pool, machine=machine, capacity_nodes=nodes)
    return pools, problems


def _check_aws_ami_driver(
    platform: PlatformSpec, release: catalog.Release, pools: dict[str, GpuPool], source: str
) -> list[Problem]:
    """On EKS the AL2023 NVIDIA AMI ships the driver: a pool's pin must be what the AMI ships."""
    if platform.target != "aws" or not pools:
        return []
    ami = release.eks_nvidia_ami.get(platform.kubernetes_version)
    if ami is None:
        return []  # the unsupported Kubernetes version is reported already
    return [
        Problem(
            source, f"{PLATFORM_KEY}.nodePools.{name}.driver",
            f"the EKS AL2023 NVIDIA AMI release {ami.release_version} that release {release.release} pins for "
            f"Kubernetes {platform.kubernetes_version} ships driver {ami.nvidia_driver}; pin {ami.nvidia_driver}",
            value=pool.spec.driver,
        )
        for name, pool in pools.items()
        if pool.spec.driver != ami.nvidia_driver
    ]


def _check_storage(platform: PlatformSpec, source: str) -> list[Problem]:
    problems = []
    storage = platform.storage
    path = f"{PLATFORM_KEY}.storage"
    if platform.target == "onprem":
        if storage.file.enabled and storage.file.nfs is None:
            problems.append(Problem(source, f"{path}.file.nfs", "on-prem NAS needs the NFS export "
                                    "({server, path}) that backs it, or file.enabled: false", has_value=False))
        if storage.object.enabled and not storage.object.endpoint:
            problems.append(Problem(source, f"{path}.object.endpoint", "on-prem object storage needs the URL "
                                    "of an S3-compatible service, or object.enabled: false", has_value=False))
    else:
        if storage.file.nfs is not None:
            problems.append(Problem(source, f"{path}.file.nfs", f"only accepted on-prem; {platform.target} "
                                    "creates its own file system", has_value=False))
        if storage.object.endpoint:
            problems.append(Problem(source, f"{path}.object.endpoint", f"only accepted on-prem; "
                                    f"{platform.target} creates its own buckets", value=storage.object.endpoint))
    return problems


def _check_capacity(config: StackConfig) -> list[Problem]:
    """Tenant GPU quotas and guarantees must fit the GPUs the pools can provide."""
    problems = []
    capacity = config.gpu_capacity
    guaranteed = 0
    for name, tenant in config.tenants.items():
        source = f"stacks/tenants/{name}.yaml"
        if tenant.quota.gpu > capacity:
            problems.append(Problem(
                source, "quota.gpu",
                f"exceeds the cluster's GPU capacity of {capacity} (sum of max nodes x GPUs per node)",
                value=tenant.quota.gpu,
            ))
        guaranteed += tenant.queue.guaranteed_gpus
    if guaranteed > capacity:
        problems.append(Problem(
            f"stacks/Pulumi.{config.stack}.yaml", f"{PLATFORM_KEY}.tenants",
            f"tenants' queue.guaranteedGpus add up to {guaranteed}, more than the {capacity} GPUs the pools provide",
            has_value=False,
        ))
    return problems
