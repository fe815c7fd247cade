"""Every check that spans more than one field, each a small function with its own tests.

Field-level rules (types, ranges, patterns) live on the spec models; what needs two
fields, the catalog, the machine table or the GPU facts lives here. Two kinds:

- spec checks (:data:`SPEC_CHECKS`) take a :class:`SpecContext` and run before
  resolving, so resolution may rely on what they guarantee (e.g. a machine exists for
  every GPU pool);
- stack checks (:data:`STACK_CHECKS`) take the :class:`ResolvedStack` and run after.

A check returns problems (``warning=True`` for deployable-but-worth-a-look findings).
The loader runs all of one kind and reports every problem at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kubeforge import catalog, machines
from kubeforge.config.resolved import ResolvedStack
from kubeforge.config.spec import TOP_LEVEL_COMPONENTS, PlatformSpec, TenantSpec, quantity_value
from kubeforge.errors import Problem
from kubeforge.gpu.compat import check_pool

PLATFORM_KEY = "kubeforge:platform"
KUBECONFIG_KEY = "kubeforge:kubeconfig"


@dataclass(frozen=True)
class SpecContext:
    """What spec checks read: the validated spec, its tenants and its catalog release."""

    spec: PlatformSpec
    tenants: Mapping[str, TenantSpec]
    release: catalog.Release
    source: str
    """The stack file as messages name it, e.g. stacks/Pulumi.local.yaml."""
    kubeconfig_configured: bool = False
    stack: str = ""
    """The stack's name, e.g. local."""

    def problem(self, path: str, message: str, **value) -> Problem:
        return Problem(self.source, f"{PLATFORM_KEY}.{path}" if path else PLATFORM_KEY, message, **value)


def tenant_source(name: str) -> str:
    return f"stacks/tenants/{name}.yaml"


def stack_source(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


# --- spec checks ----------------------------------------------------------------------------


def target_settings_match(ctx: SpecContext) -> list[Problem]:
    """The settings block of the target is given (aws, gcp), and no other target's."""
    spec = ctx.spec
    given = [t for t in ("aws", "gcp", "onprem") if getattr(spec, t) is not None]
    problems = []
    if spec.target in ("aws", "gcp") and spec.target not in given:
        problems.append(ctx.problem(spec.target, f"target is {spec.target}: add the '{spec.target}' settings block",
                                    has_value=False))
    for other in (t for t in given if t != spec.target):
        problems.append(ctx.problem(other, f"target is {spec.target}, but settings for {other} are given; remove "
                                    "them", has_value=False))
    return problems


def aws_public_endpoint_is_allowlisted(ctx: SpecContext) -> list[Problem]:
    """A public EKS endpoint only for listed CIDRs, never 0.0.0.0/0 (EKS opens an empty list
    to the world). Ref: https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html"""
    aws = ctx.spec.aws
    if aws is None:
        return []
    if aws.public_endpoint and not aws.public_access_cidrs:
        return [ctx.problem("aws.publicAccessCidrs", "publicEndpoint is on: list the CIDRs allowed in "
                            "publicAccessCidrs", has_value=False)]
    if "0.0.0.0/0" in aws.public_access_cidrs:
        return [ctx.problem("aws.publicAccessCidrs", "must not contain 0.0.0.0/0; list your own networks",
                            value="0.0.0.0/0")]
    return []


def node_pool_is_consistent(ctx: SpecContext) -> list[Problem]:
    """min <= max; a GPU pool pins a driver and only a GPU pool does; nodes or a selector."""
    problems = []
    for name, pool in ctx.spec.node_pools.items():
        path = f"nodePools.{name}"
        if pool.max < pool.min:
            problems.append(ctx.problem(f"{path}.max", f"must be >= min ({pool.min})", value=pool.max))
        if pool.gpu is not None and pool.driver is None:
            problems.append(ctx.problem(f"{path}.driver", "a GPU pool must pin its NVIDIA driver in 'driver'",
                                        has_value=False))
        if pool.gpu is None and pool.driver is not None:
            problems.append(ctx.problem(f"{path}.driver", "'driver' is only accepted on GPU pools (add 'gpu')",
                                        value=pool.driver))
        if pool.nodes and pool.node_selector:
            problems.append(ctx.problem(f"{path}.nodeSelector", "give either 'nodes' or 'nodeSelector', not both",
                                        has_value=False))
    return problems


def _person(user: str) -> str:
    """An address as the RoleBinding names derived from it see it: lower case, every run of
    other characters one '-' (components/tenancy/tenant.py: _slug, kfam_binding_name), so two
    addresses that would name the same binding count as one person."""
    return re.sub(r"[^a-z0-9]+", "-", user.lower()).strip("-")


def tenant_is_consistent(ctx: SpecContext) -> list[Problem]:
    """A tenant's guarantee fits its quota; each person appears once; the owner is not also a
    contributor (the owner already has admin)."""
    problems = []
    for name, tenant in ctx.tenants.items():
        source = tenant_source(name)
        if tenant.queue.guaranteed_gpus > tenant.quota.gpu:
            problems.append(Problem(
                source, "queue.guaranteedGpus",
                f"exceeds quota.gpu ({tenant.quota.gpu}); lower the guarantee or raise the quota",
                value=tenant.queue.guaranteed_gpus,
            ))
        users = Counter(_person(c.user) for c in tenant.contributors)
        for index, contributor in enumerate(tenant.contributors):
            if users[_person(contributor.user)] > 1:
                problems.append(Problem(source, f"contributors[{index}].user", "listed more than once (addresses "
                                        "are compared ignoring case and punctuation, as the RoleBinding names "
                                        "built from them are)", value=contributor.user))
            elif _person(contributor.user) == _person(tenant.owner):
                problems.append(Problem(source, f"contributors[{index}].user", "is the owner, who already has "
                                        "admin; remove the contributor entry", value=contributor.user))
    return problems



# Namespaces Kubernetes itself uses, and Volcano's own queues (a tenant's queue is named
# after it). Ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces ;
# https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/controllers/queue/queue_controller_action.go ("root")
RESERVED_TENANT_NAMES = frozenset({"default", "root", "kubeforge-system"})


def tenant_names_not_reserved(ctx: SpecContext) -> list[Problem]:
    """A tenant's name becomes a namespace, a Queue and a Profile: it may not be a system or
    platform namespace, nor one of Volcano's queues."""
    # Every release's: a tenant keeps its name across release upgrades.
    platform = {pin.namespace for release in catalog.available_releases()
                for pin in catalog.load_release(release).components.values()}
    problems = []
    for index, name in enumerate(ctx.spec.tenants):
        if name in RESERVED_TENANT_NAMES or name in platform or name.startswith("kube-"):
            reserved = ", ".join(sorted(RESERVED_TENANT_NAMES | platform))
            problems.append(ctx.problem(
                f"tenants[{index}]", f"collides with a system or platform namespace or queue (kube-*, {reserved}); "
                "choose another tenant name", value=name,
            ))
    return problems


def kubernetes_version_supported(ctx: SpecContext) -> list[Problem]:
    spec = ctx.spec
    supported = getattr(ctx.release.kubernetes, spec.target)
    if spec.kubernetes_version in supported:
        return []
    return [ctx.problem(
        "kubernetesVersion",
        f"not supported on {spec.target} by release {ctx.release.release}; accepted: {', '.join(supported)}",
        value=spec.kubernetes_version,
    )]


def cpu_pool_on_cloud(ctx: SpecContext) -> list[Problem]:
    spec = ctx.spec
    if spec.target == "onprem" or any(p.gpu is None for p in spec.node_pools.values()):
        return []
    return [ctx.problem("nodePools", "add a CPU pool (a pool without 'gpu') for platform services", has_value=False)]


def pool_nodes_match_target(ctx: SpecContext) -> list[Problem]:
    """On-prem pools are existing nodes (named or selected); cloud pools create their own."""
    spec = ctx.spec
    problems = []
    for name, pool in spec.node_pools.items():
        path = f"nodePools.{name}"
        if spec.target == "onprem":
            if pool.machine_type:
                problems.append(ctx.problem(f"{path}.machineType", "not used on-prem (existing nodes)",
                                            value=pool.machine_type))
            if pool.gpu and not (pool.nodes or pool.node_selector):
                problems.append(ctx.problem(f"{path}.nodes", "on-prem GPU pools must name their existing nodes "
                                            "('nodes') or select them by label ('nodeSelector')", has_value=False))
        elif pool.nodes or pool.node_selector:
            key = "nodes" if pool.nodes else "nodeSelector"
            problems.append(ctx.problem(f"{path}.{key}", f"only accepted on-prem; {spec.target} pools create "
                                        "their own nodes", value=pool.nodes or pool.node_selector))
    return problems


def gpu_machine_exists(ctx: SpecContext) -> list[Problem]:
    """Every GPU pool maps to exactly one machine of the target (the machine-type table)."""
    target = ctx.spec.target
    problems = []
    for name, pool in ctx.spec.node_pools.items():
        if pool.gpu is None:
            continue
        path = f"nodePools.{name}"
        accepted = machines.accepted_gpus_per_node(target, pool.gpu.model)
        if not accepted:
            problems.append(ctx.problem(f"{path}.gpu.model", f"{target} offers no machine with this GPU",
                                        value=pool.gpu.model))
            continue
        if pool.gpu.per_node not in accepted:
            problems.append(ctx.problem(
                f"{path}.gpu.perNode",
                f"{target} has no {pool.gpu.model} machine with that many GPUs; accepted: "
                f"{', '.join(map(str, accepted))}",
                value=pool.gpu.per_node,
            ))
            continue
        machine = machines.pick_machine_type(target, pool.gpu.model, pool.gpu.per_node)
        if pool.machine_type and machine and pool.machine_type != machine.machine_type:
            problems.append(ctx.problem(
                f"{path}.machineType",
                f"GPU pools take their machine type from the GPU model and perNode ({machine.machine_type}); "
                "remove machineType", value=pool.machine_type,
            ))
    return problems


# Per-volume sizes the GKE Filestore CSI driver provisions for each tier (binary units): one
# or two bands. Ref: https://github.com/kubernetes-sigs/gcp-filestore-csi-driver/blob/v1.13.1/pkg/csi_driver/controller.go
# (tier bounds) and pkg/util/multishare_defs.go (share bounds); https://cloud.google.com/filestore/docs/service-tiers
# basic-hdd from 100Gi and regional need GKE 1.33 or later (every GKE version of the 2026.11
# release). Ref: https://cloud.google.com/filestore/docs/csi-driver#requirements
FILESTORE_SIZES: dict[str, tuple[tuple[str, str], ...]] = {
    "basic-hdd": (("100Gi", "63.9Ti"),),
    "basic-ssd": (("2.5Ti", "63.9Ti"),),
    "zonal": (("1Ti", "9984Gi"), ("10Ti", "100Ti")),
    "regional": (("100Gi", "9984Gi"), ("10Ti", "100Ti")),
    "enterprise-multishare": (("100Gi", "1Ti"),),
}


def storage_matches_target(ctx: SpecContext) -> list[Problem]:
    """Each target's storage settings are given where needed and only there; tenants' NAS
    volumes fit the file storage (a Filestore tier's sizes on gcp)."""
    spec = ctx.spec
    storage = spec.storage
    obj = storage.object
    problems = []
    if spec.target == "onprem":
        if storage.file.enabled and storage.file.nfs is None:
            problems.append(ctx.problem("storage.file.nfs", "on-prem NAS needs the NFS export ({server, path}) "
                                        "that backs it, or file.enabled: false", has_value=False))
        if obj.enabled and obj.store == "external" and not obj.endpoint:
            problems.append(ctx.problem("storage.object.endpoint", "on-prem object storage needs the URL of an "
                                        "S3-compatible service, store: seaweedfs, or object.enabled: false",
                                        has_value=False))
        if obj.store == "seaweedfs" and obj.endpoint:
            problems.append(ctx.problem("storage.object.endpoint", "store seaweedfs runs in the cluster; remove "
                                        "endpoint, or set store: external", value=obj.endpoint))
        if obj.store == "seaweedfs" and quantity_value(str(obj.seaweedfs.volume_size)) < 2**30:
            problems.append(ctx.problem("storage.object.seaweedfs.volumeSize", "must be at least 1Gi",
                                        value=obj.seaweedfs.volume_size))
    else:
        if storage.file.nfs is not None:
            problems.append(ctx.problem("storage.file.nfs", f"only accepted on-prem; {spec.target} creates its "
                                        "own file system", has_value=False))
        if obj.endpoint:
            problems.append(ctx.problem("storage.object.endpoint", f"only accepted on-prem; {spec.target} "
                                        "creates its own buckets", value=obj.endpoint))
        if "store" in obj.model_fields_set:
            problems.append(ctx.problem("storage.object.store", f"only accepted on-prem; {spec.target} stores "
                                        "objects in its own buckets", value=obj.store))
    for name, tenant in ctx.tenants.items():
        nas = tenant.storage.nas
        if nas is None:
            continue
        size = quantity_value(nas)
        if size <= 0:
            problems.append(Problem(tenant_source(name), "storage.nas", "must be more than 0; null for no NAS "
                                    "volume", value=nas))
        elif not storage.file.enabled:
            problems.append(Problem(tenant_source(name), "storage.nas", "storage.file is off on this stack: the "
                                    "tenant gets no NAS volume", value=nas, warning=True))
        elif spec.target == "gcp":
            tier = storage.file.filestore_tier
            bands = FILESTORE_SIZES[tier]
            if not any(quantity_value(low) <= size <= quantity_value(high) for low, high in bands):
                accepted = " or ".join(f"{low} to {high}" for low, high in bands)
                problems.append(Problem(tenant_source(name), "storage.nas", f"Filestore tier {tier} "
                                        f"(storage.file.filestoreTier) provisions {accepted}", value=nas))
    return problems


def kubeconfig_only_onprem(ctx: SpecContext) -> list[Problem]:
    if not ctx.kubeconfig_configured or ctx.spec.target == "onprem":
        return []
    return [Problem(
        ctx.source, KUBECONFIG_KEY,
        f"only used with target onprem; a {ctx.spec.target} cluster's kubeconfig is created with it and "
        "exported as the secret stack output 'kubeconfig'", has_value=False,
    )]


def component_settings(ctx: SpecContext) -> list[Problem]:
    """Each configured component is in the release, at a version the catalog lists, and
    takes valuesOverrides only where it is installed from a Helm chart."""
    problems = []
    for section, key, settings in configured_components(ctx.spec):
        path = section
        pin = ctx.release.components.get(key)
        if pin is None:
            if settings.enabled and settings.model_fields_set:
                problems.append(ctx.problem(path, f"release {ctx.release.release} does not offer this component; "
                                            "remove the block or choose a release that pins it", has_value=False))
            continue
        if settings.version is not None:
            versions = catalog.component_versions(key)
            if settings.version not in versions:
                problems.append(ctx.problem(
                    f"{path}.version", f"not a version the catalog lists for {key}; accepted: {', '.join(versions)}",
                    value=settings.version,
                ))
        if settings.values_overrides:
            if not pin.charts:
                problems.append(ctx.problem(
                    f"{path}.valuesOverrides", f"{key} is installed from upstream manifests, not a Helm chart; "
                    "it takes no Helm values", has_value=False,
                ))
            for pinned in type(settings).pinned_values:
                if _has_path(settings.values_overrides, pinned):
                    problems.append(ctx.problem(
                        f"{path}.valuesOverrides.{pinned}",
                        "kubeforge derives this value from the stack's config; change the config instead",
                        has_value=False,
                    ))
    return problems


def _enabled_pins(ctx: SpecContext) -> dict[str, tuple[str, catalog.ComponentPin]]:
    """Enabled components of the release: key -> (config section, the pin it installs)."""
    out = {}
    for section, key, settings in configured_components(ctx.spec):
        pin = ctx.release.components.get(key)
        if pin is None or not settings.enabled:
            continue
        if settings.version is not None:
            pin = catalog.component_versions(key).get(settings.version, pin)
        out[key] = (section, pin)
    return out


def components_support_the_kubernetes_version(ctx: SpecContext) -> list[Problem]:
    """Every enabled component supports the stack's Kubernetes minor (its catalog range)."""
    minor = ctx.spec.kubernetes_version
    problems = []
    for key, (section, pin) in _enabled_pins(ctx).items():
        if pin.kubernetes is not None and not pin.kubernetes.admits(minor):
            problems.append(ctx.problem(
                "kubernetesVersion", f"{key} {pin.version} supports Kubernetes {pin.kubernetes.text()} "
                f"({pin.kubernetes.source}); choose a supported minor, another {key} version the catalog lists, "
                f"or {section}.enabled: false", value=minor,
            ))
    return problems


def components_have_what_they_need(ctx: SpecContext) -> list[Problem]:
    """An enabled component's requirements are enabled too (notebooks need profiles, ...)."""
    enabled = _enabled_pins(ctx)
    sections = {key: section for section, key, _ in configured_components(ctx.spec)}
    problems = []
    for key, (section, pin) in enabled.items():
        missing = [need for need in pin.requires if need not in enabled]
        if missing:
            turn_on = ", ".join(f"{sections.get(m, 'components.' + m)}.enabled: true" for m in missing)
            problems.append(ctx.problem(
                f"{section}.enabled", f"{key} needs {', '.join(missing)}; set {turn_on}, or turn {key} off",
                has_value=False,
            ))
    return problems


# The ingress gateway and the login need the front door's settings.
FRONT_DOOR = "istio"
DEMO_STACK = "local"


def access_is_configured(ctx: SpecContext) -> list[Problem]:
    """``access`` is given exactly when the ingress gateway (istio) is installed."""
    enabled = _enabled_pins(ctx)
    if FRONT_DOOR in enabled and ctx.spec.access is None:
        return [ctx.problem("access", "istio's ingress gateway needs the platform's hostname, certificate issuer "
                            "and login (access.hostname, access.tls, access.identity); add the block or set "
                            f"{enabled[FRONT_DOOR][0]}.enabled: false", has_value=False)]
    if FRONT_DOOR not in enabled and ctx.spec.access is not None:
        return [ctx.problem("access", "only used with istio (the ingress gateway); enable istio or remove the block",
                            has_value=False)]
    return []


def dns01_solver_matches_target(ctx: SpecContext) -> list[Problem]:
    """ACME's DNS-01 solver is the target's own DNS: Route 53 on aws, Cloud DNS on gcp."""
    access = ctx.spec.access
    if access is None or access.tls.acme is None:
        return []
    solver = access.tls.acme.dns01
    wanted = {"aws": "route53", "gcp": "cloudDns"}.get(ctx.spec.target)
    given = "route53" if solver.route53 is not None else "cloudDns"
    if wanted is None:
        return [ctx.problem("access.tls.acme", "ACME with a cloud DNS solver is for target aws or gcp; on-prem, "
                            "use access.tls.organisationCa", has_value=False)]
    if given != wanted:
        return [ctx.problem(f"access.tls.acme.dns01.{given}", f"target {ctx.spec.target} solves DNS-01 with "
                            f"{wanted}; accepted: {wanted}", has_value=False)]
    return []


TRAINING_ALTERNATIVES = ("training", "trainingOperator")


def one_training_operator(ctx: SpecContext) -> list[Problem]:
    """Trainer v2 or the Training Operator v1, not both: one way to run training jobs per stack."""
    enabled = _enabled_pins(ctx)
    if all(key in enabled for key in TRAINING_ALTERNATIVES):
        return [ctx.problem("components.trainingOperator.enabled", "Trainer (components.training) and the "
                            "Training Operator v1 both run training jobs; enable one: set "
                            "components.training.enabled: false to use the Training Operator", value=True)]
    return []


def serverless_serving_has_knative(ctx: SpecContext) -> list[Problem]:
    """KServe's serverless mode runs on Knative, and Knative serves nothing else here."""
    enabled = _enabled_pins(ctx)
    if "kserve" not in enabled:
        return []
    serverless = getattr(ctx.spec.components, "kserve").deployment_mode == "Serverless"
    if serverless and "knative" not in enabled:
        return [ctx.problem("components.kserve.deploymentMode", "serverless serving runs on Knative: set "
                            "components.knative.enabled: true (catalog release 2026.12 or later), or use Standard",
                            value="Serverless")]
    if not serverless and "knative" in enabled:
        return [ctx.problem("components.knative.enabled", "only KServe's serverless mode uses Knative: set "
                            "components.kserve.deploymentMode: Serverless, or leave Knative off", value=True)]
    return []


def managed_database_on_aws(ctx: SpecContext) -> list[Problem]:
    """A managed Pipelines database is RDS, so aws only; gcp and on-prem run the in-cluster one."""
    pipelines = getattr(ctx.spec.components, "pipelines", None)
    database = getattr(pipelines, "database", None)
    if database is None or not pipelines.enabled or database.kind != "managed" or ctx.spec.target == "aws":
        return []
    # Cloud SQL is not offered yet: MLMD needs mysql_native_password, which MySQL 8.4 turns off
    # by default, and no Cloud SQL flag to turn it on was confirmed (docs/UPGRADE.md, known limits).
    return [ctx.problem("components.pipelines.database.kind", f"a managed database (Amazon RDS) needs "
                        f"target aws, not {ctx.spec.target}; use inCluster", value="managed")]


# RDS for MySQL on gp3: 20 to 65,536 GiB.
# Ref: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage
RDS_STORAGE_GIB = (20, 65_536)


def database_storage_fits(ctx: SpecContext) -> list[Problem]:
    """The Pipelines database's disk: at least 1Gi in-cluster, RDS's gp3 range when managed."""
    pipelines = getattr(ctx.spec.components, "pipelines", None)
    database = getattr(pipelines, "database", None)
    if database is None:
        return []
    gib = quantity_value(str(database.storage)) / 2**30
    low, high = RDS_STORAGE_GIB if database.kind == "managed" else (1, RDS_STORAGE_GIB[1])
    if low <= gib <= high:
        return []
    return [ctx.problem("components.pipelines.database.storage", f"the {database.kind} database takes "
                        f"{low}Gi to {high}Gi", value=str(database.storage))]


def demo_user_only_on_local(ctx: SpecContext) -> list[Problem]:
    """The static demo user exists only on the stack named local; others federate a directory."""
    access = ctx.spec.access
    if access is None or not access.identity.demo_user or ctx.stack == DEMO_STACK:
        return []
    return [ctx.problem("access.identity.demoUser", f"a static demo user is only allowed on the stack named "
                        f"'{DEMO_STACK}'; configure access.identity.oidc or access.identity.ldap", value=True)]


SPEC_CHECKS: tuple[Callable[[SpecContext], list[Problem]], ...] = (
    target_settings_match,
    aws_public_endpoint_is_allowlisted,
    node_pool_is_consistent,
    tenant_is_consistent,
    tenant_names_not_reserved,
    kubernetes_version_supported,
    cpu_pool_on_cloud,
    pool_nodes_match_target,
    gpu_machine_exists,
    storage_matches_target,
    kubeconfig_only_onprem,
    component_settings,
    components_support_the_kubernetes_version,
    components_have_what_they_need,
    access_is_configured,
    dns01_solver_matches_target,
    demo_user_only_on_local,
    one_training_operator,
    managed_database_on_aws,
    database_storage_fits,
    serverless_serving_has_knative,
)


def configured_components(spec: PlatformSpec):
    """(config section, catalog key, settings) for every component block of the spec."""
    for section, key in TOP_LEVEL_COMPONENTS.items():
        yield section, key, getattr(spec, section)
    for name, field in type(spec.components).model_fields.items():
        yield f"components.{field.alias}", field.alias, getattr(spec.components, name)


def _has_path(values: Mapping, dotted: str) -> bool:
    node = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


# --- stack checks -------------------------------------------------------------------------


def aws_driver_is_the_amis(stack: ResolvedStack) -> list[Problem]:
    """On EKS the AL2023 NVIDIA AMI ships the driver: a pool's pin must be what the AMI ships."""
    if stack.target != "aws":
        return []
    ami = stack.cluster.ami  # type: ignore[union-attr]
    return [
        Problem(
            stack_source(stack.stack), f"{PLATFORM_KEY}.nodePools.{name}.driver",
            f"the EKS AL2023 NVIDIA AMI release {ami.release_version} that release {stack.release.release} pins for "
            f"Kubernetes {stack.kubernetes_version} ships driver {ami.nvidia_driver}; pin {ami.nvidia_driver}",
            value=pool.driver,
        )
        for name, pool in stack.gpu_pools.items()
        if pool.driver != ami.nvidia_driver
    ]


def gpu_drivers_run_the_images(stack: ResolvedStack) -> list[Problem]:
    """Every pool's driver runs the CUDA of every image the release offers; its branch is
    supported; its MIG layout fits the card under the pool's MIG strategy."""
    source = stack_source(stack.stack)
    cudas = sorted({image.cuda for image in stack.release.images.values() if image.cuda})
    problems = []
    for name, pool in stack.gpu_pools.items():
        path = f"{PLATFORM_KEY}.nodePools.{name}"
        mig = pool.mig.layout if pool.mig else None
        try:
            result = check_pool(
                pool.driver, cudas, gpu=pool.model, mig=mig, allow_eol=pool.allow_eol_driver, pool=name,
                **({"mig_strategy": pool.mig.strategy} if pool.mig else {}),
            )
        except ValueError as exc:
            key = "gpu.mig.layout" if mig and "MIG" in str(exc) else "driver"
            problems.append(Problem(source, f"{path}.{key}", str(exc), value=mig if key != "driver" else pool.driver))
            continue
        for finding in result.findings:
            key = "gpu.mig.layout" if finding.rule == "mig-layout" else "driver"
            problems.append(Problem(source, f"{path}.{key}", finding.message, has_value=False,
                                    warning=finding.severity != "error"))
    return problems


def one_gpu_operator_setting(stack: ResolvedStack) -> list[Problem]:
    """The GPU Operator has one driver version and one MIG strategy for the whole cluster."""
    source = stack_source(stack.stack)
    pools = stack.gpu_pools.values()
    problems = []
    drivers = sorted({p.driver for p in pools})
    if stack.driver_install_path == "operator" and len(drivers) > 1:
        problems.append(Problem(
            source, f"{PLATFORM_KEY}.nodePools",
            f"the GPU Operator installs one driver for the whole cluster, but pools pin {', '.join(drivers)}; "
            "pin the same driver on every GPU pool", has_value=False,
        ))
    strategies = sorted({p.mig.strategy for p in pools if p.mig})
    if len(strategies) > 1:
        problems.append(Problem(
            source, f"{PLATFORM_KEY}.nodePools",
            "the GPU Operator has one MIG strategy for the whole cluster, but pools ask for "
            f"{' and '.join(strategies)}; use one", has_value=False,
        ))
    return problems


def tenant_gpus_within_capacity(stack: ResolvedStack) -> list[Problem]:
    """Guarantees must fit the GPUs the pools provide; caps (quota.gpu) may add up to at most
    scheduler.gpuCapOvercommit times that, and no single cap may exceed it."""
    capacity = stack.gpu_capacity
    pools = ", ".join(f"{n} {p.gpus}" for n, p in sorted(stack.gpu_pools.items())) or "no GPU pools"
    source = stack_source(stack.stack)
    problems = []
    for name, tenant in stack.tenants.items():
        if tenant.quota.gpu > capacity:
            problems.append(Problem(
                tenant_source(name), "quota.gpu",
                f"exceeds the cluster's GPU capacity of {capacity} (max nodes x GPUs per node: {pools})",
                value=tenant.quota.gpu,
            ))
    guaranteed = {n: t.queue.guaranteed_gpus for n, t in sorted(stack.tenants.items()) if t.queue.guaranteed_gpus}
    if sum(guaranteed.values()) > capacity:
        who = ", ".join(f"{n} {g}" for n, g in guaranteed.items())
        problems.append(Problem(
            source, f"{PLATFORM_KEY}.tenants",
            f"tenants' queue.guaranteedGpus add up to {sum(guaranteed.values())} ({who}), more than the {capacity} "
            f"GPUs the pools provide ({pools}); guarantees cannot be over-committed",
            has_value=False,
        ))
    ratio = stack.scheduler.gpu_cap_overcommit
    limit = int(capacity * ratio)
    caps = {n: t.quota.gpu for n, t in sorted(stack.tenants.items()) if t.quota.gpu}
    if sum(caps.values()) > limit:
        who = ", ".join(f"{n} {g}" for n, g in caps.items())
        problems.append(Problem(
            source, f"{PLATFORM_KEY}.tenants",
            f"tenants' quota.gpu add up to {sum(caps.values())} ({who}), more than scheduler.gpuCapOvercommit "
            f"{ratio:g} x the {capacity} GPUs the pools provide ({pools}) = {limit}; lower the quotas or raise "
            "the ratio", has_value=False,
        ))
    return problems


STACK_CHECKS: tuple[Callable[[ResolvedStack], list[Problem]], ...] = (
    tenant_gpus_within_capacity,
    aws_driver_is_the_amis,
    gpu_drivers_run_the_images,
    one_gpu_operator_setting,
)
