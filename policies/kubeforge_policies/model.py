"""The one view of a resource that every rule reads, whichever engine recorded it.

Two sources fill it:
- kubeforge's offline engine (:class:`kubeforge.engine.graph.RecordedResource`: the whole
  registration request, options included), via :func:`from_recorded`;
- the Pulumi engine under ``pulumi preview --policy-pack policies`` (pulumi_policy's
  ``ResourceValidationArgs`` and ``StackValidationArgs`` resources), via
  :mod:`kubeforge_policies.crossguard`.

What the second cannot see: ``retainOnDelete`` (pulumi's analyzer protocol carries protect,
ignoreChanges, deleteBeforeReplace, aliases, customTimeouts and additionalSecretOutputs
only; Ref: https://github.com/pulumi/pulumi/blob/master/proto/pulumi/analyzer.proto
``AnalyzerResourceOptions``), so it is None there and rules that need it do not apply.
A resource's dependencies are known only to stack rules (``StackValidationArgs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "[unknown]"
"""A value not known before deployment: how the offline engine records one
(kubeforge/engine/runtime.py ``_plain``), and what the CrossGuard adapter turns pulumi_policy's
unknown sentinels into."""
SECRET = "[secret]"
"""A secret value, masked (kubeforge/engine/graph.py ``SECRET``)."""

# Labels kubeforge puts on what it creates; tests/policies checks they match components/.
TENANT_LABEL = "kubeforge.io/tenant"  # components/labels.py
POOL_LABEL = "kubeforge.io/node-pool"  # components/cluster/gpu_nodes.py
GPU_MODEL_LABEL = "kubeforge.io/gpu-model"
GPU_DRIVER_LABEL = "kubeforge.io/gpu-driver"
GPU_COUNT_LABEL = "kubeforge.io/gpus-per-node"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
# Volcano's admission puts a namespace's pods into the queue this annotation names.
# Ref: https://volcano.sh/en/docs/queue/ (scheduling.volcano.sh/queue-name)
QUEUE_ANNOTATION = "scheduling.volcano.sh/queue-name"


class UnknownValue(Exception):
    """A rule read a value that is not known yet (a preview before the resource exists)."""

    def __init__(self, path: Sequence[Any]):
        self.path = tuple(path)
        super().__init__(f"value at {'.'.join(map(str, self.path))} is not known before deployment")


class Props(dict):
    """A resource's inputs whose lookups raise :class:`UnknownValue` on a value not known yet,
    so ``props.get("x") != "required"`` cannot pass or fail on a value nobody knows."""

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if isinstance(value, str) and value == UNKNOWN:
            raise UnknownValue([key])
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = dict.get(self, key, default)
        if isinstance(value, str) and value == UNKNOWN:
            raise UnknownValue([key])
        return value


def strict(value: Any) -> Any:
    """``value`` with every mapping in it a :class:`Props`."""
    if isinstance(value, Mapping):
        return Props({k: strict(v) for k, v in value.items()})
    if isinstance(value, list):
        return [strict(v) for v in value]
    return value


@dataclass(frozen=True)
class PolicyResource:
    """A resource as the rules see it: its type token, name, URN, inputs and options.

    ``options`` uses the engine's names: ``protect``, ``retainOnDelete`` (None where the
    engine does not say), ``ignoreChanges``, ``deleteBeforeReplace``, ``aliases``.
    """

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    provider: str | None = None

    @property
    def label(self) -> str:
        """How a message names the resource: its type and Pulumi name."""
        return f'{self.type} "{self.name}"'

    def __post_init__(self) -> None:
        if not isinstance(self.props, Props):
            object.__setattr__(self, "props", strict(self.props))

    def get(self, *path: Any, default: Any = None) -> Any:
        return dig(self.props, *path, default=default)

    def known(self, *path: Any, default: Any = None) -> Any:
        """Like :meth:`get`, with None for a value not known yet."""
        try:
            return dig(self.props, *path, default=default)
        except UnknownValue:
            return None

    # --- Kubernetes objects ------------------------------------------------------------

    @property
    def is_kubernetes(self) -> bool:
        return self.type.startswith("kubernetes:")

    @property
    def kind(self) -> str:
        """The Kubernetes kind, from the type token (kubernetes:apps/v1:Deployment -> Deployment)."""
        return self.type.rsplit(":", 1)[-1]

    @property
    def k8s_name(self) -> str | None:
        return self.get("metadata", "name")

    @property
    def namespace(self) -> str | None:
        return self.get("metadata", "namespace")

    @property
    def labels(self) -> Mapping[str, Any]:
        return as_dict(self.get("metadata", "labels"))

    @property
    def annotations(self) -> Mapping[str, Any]:
        return as_dict(self.get("metadata", "annotations"))

    @property
    def protect(self) -> bool:
        return bool(self.options.get("protect"))

    @property
    def retain_on_delete(self) -> bool | None:
        value = self.options.get("retainOnDelete")
        return None if value is None else bool(value)


def dig(value: Any, *path: Any, default: Any = None) -> Any:
    """``value[path[0]][path[1]]...``, or ``default`` where a step is missing.

    Raises :class:`UnknownValue` where a step (or the result) is not known yet, so a rule
    never mistakes "not known during preview" for "not set".
    """
    walked: list[Any] = []
    for key in path:
        if value == UNKNOWN:
            raise UnknownValue(walked)
        walked.append(key)
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, Sequence) and not isinstance(value, str) and isinstance(key, int):
            value = value[key] if -len(value) <= key < len(value) else None
        else:
            return default
        if value is None:
            return default
    if value == UNKNOWN:
        raise UnknownValue(walked)
    return value


def as_dict(value: Any) -> Mapping[str, Any]:
    if value == UNKNOWN:
        raise UnknownValue([])
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    if value == UNKNOWN:
        raise UnknownValue([])
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def is_true(value: Any) -> bool:
    """True, or the string "true" (pulumi-aws types some flags, e.g. a launch template's
    ``ebs.encrypted``, as strings)."""
    if value == UNKNOWN:
        raise UnknownValue([])
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    if value == UNKNOWN:
        raise UnknownValue([])
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def from_recorded(recorded: Any) -> PolicyResource:
    """The view of a :class:`kubeforge.engine.graph.RecordedResource`."""
    return PolicyResource(
        type=recorded.type,
        name=recorded.name,
        urn=recorded.urn,
        props=recorded.inputs,
        options=dict(recorded.options),
        parent=recorded.parent,
        dependencies=tuple(recorded.dependencies),
        provider=recorded.provider,
    )


def as_policy_resources(source: Any) -> list[PolicyResource]:
    """A list of views from a ResourceGraph, its ``resources`` mapping, or an iterable of
    RecordedResource or PolicyResource."""
    if hasattr(source, "resources") and isinstance(source.resources, Mapping):
        source = source.resources
    if isinstance(source, Mapping):
        source = source.values()
    out = []
    for item in source:
        out.append(item if isinstance(item, PolicyResource) else from_recorded(item))
    return sorted(out, key=lambda r: r.urn)


# --- tenants, as the graph shows them ---------------------------------------------------


def tenant_namespaces(resources: Iterable[PolicyResource]) -> list[PolicyResource]:
    """Namespaces kubeforge created for a tenant: they carry the tenant label."""
    return [r for r in resources if r.type == "kubernetes:core/v1:Namespace" and r.labels.get(TENANT_LABEL)]


def tenant_of(resource: PolicyResource) -> str | None:
    """The tenant a resource belongs to: the tenant label, or the tags / GCP labels
    kubeforge puts on cloud resources (``kubeforge.io/tenant``, ``kubeforge-tenant``)."""
    value = resource.labels.get(TENANT_LABEL) if resource.is_kubernetes else None
    if not value:
        value = as_dict(resource.get("tags")).get(TENANT_LABEL)
    if not value:
        value = as_dict(resource.get("labels")).get("kubeforge-tenant")
    return value if isinstance(value, str) and value else None


def index_by_urn(resources: Iterable[PolicyResource]) -> dict[str, PolicyResource]:
    return {r.urn: r for r in resources}


# --- indexes over one stack's resources ------------------------------------------------------

class StackIndex:
    """Lookups stack rules repeat for every tenant or bucket, built once per resource list so a
    rule stays linear in the stack (a scan per tenant was quadratic: minutes at 1000 tenants)."""

    def __init__(self, resources: Sequence[PolicyResource]):
        self.by_type: dict[str, list[PolicyResource]] = {}
        self.by_kind_namespace: dict[tuple[str, str | None], list[PolicyResource]] = {}
        self.dependents: dict[str, list[PolicyResource]] = {}
        for r in resources:
            self.by_type.setdefault(r.type, []).append(r)
            if r.is_kubernetes:
                self.by_kind_namespace.setdefault((r.kind, r.namespace), []).append(r)
            for urn in r.dependencies:
                self.dependents.setdefault(urn, []).append(r)
        self._by_bucket: dict[tuple[str, ...], dict[Any, list[PolicyResource]]] = {}

    def naming_bucket(self, types: tuple[str, ...], name: str) -> list[PolicyResource]:
        """Resources of ``types`` whose ``bucket`` input is ``name``."""
        if types not in self._by_bucket:
            table: dict[Any, list[PolicyResource]] = {}
            for type_ in types:
                for r in self.by_type.get(type_, []):
                    named = r.known("bucket")
                    if isinstance(named, str):
                        table.setdefault(named, []).append(r)
            self._by_bucket[types] = table
        return self._by_bucket[types].get(name, [])


_INDEX: list[tuple[Sequence[PolicyResource], StackIndex]] = []


def stack_index(resources: Sequence[PolicyResource]) -> StackIndex:
    """The index of ``resources``, reused while the rules run over the same list."""
    if _INDEX and _INDEX[0][0] is resources:
        return _INDEX[0][1]
    index = StackIndex(resources)
    _INDEX[:] = [(resources, index)]
    return index
