"""The one shape every kubeforge platform component has.

A platform component is a :class:`PlatformComponent` subclass that declares, as class
attributes, everything :class:`~components.platform.Platform` needs to place it:

- ``key``: its registry key; for an upstream component, its catalog key;
- ``section``: the config section it reads (``components.gpuOperator``), or None when it
  is derived from the stack as a whole (tenants, namespaces);
- ``depends_on``: registry keys of the components it needs first (``after``: the same, for
  components that may not be registered);
- ``args_type``: a frozen dataclass of exactly what it reads, every field typed and
  documented (tests/components/test_component_shape.py enforces both);
- ``instances(stack, cluster)``: the instances a stack needs, by name, with their args
  (none when disabled or not needed: that decision lives here, not in Platform);
- ``namespace(stack)``: where it installs (None for cluster-scoped only).

Children are created with ``parent=self`` and named from the instance name; the
constructor ends with ``register_outputs``. Adding a component is one module and one
line in :mod:`components.registry`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from kubeforge.config.resolved import ResolvedStack


@dataclass(frozen=True)
class AwsClusterRefs:
    """What components that create AWS resources next to an EKS cluster need from it."""

    provider: pulumi.ProviderResource
    """The cluster's explicit regional AWS provider: every AWS resource uses it."""
    region: str
    """The cluster's region."""
    cluster_name: pulumi.Output[str]
    """The EKS cluster's name (an output, so add-ons wait for the cluster)."""
    vpc_id: pulumi.Output[str]
    """The cluster's VPC."""
    private_subnet_ids: Sequence[pulumi.Output[str]]
    """One private subnet per availability zone; the nodes run in them."""
    node_security_group_id: pulumi.Output[str]
    """The EKS cluster security group, which every managed node carries.
    Ref: https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html"""
    oidc_provider_arn: pulumi.Output[str]
    """The cluster's IAM OIDC provider, for IRSA trust policies."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>)."""
    data_key_arn: pulumi.Output[str] | None
    """The customer-managed KMS key for platform data (EFS, S3); None when storage is off."""
    nodes: Sequence[pulumi.Resource]
    """The node groups: what an add-on's pods wait for."""
    tags: Mapping[str, str]
    """Tags every AWS resource of the cluster carries."""


@dataclass(frozen=True)
class GcpClusterRefs:
    """What components that create GCP resources next to a GKE cluster need from it."""

    provider: pulumi.ProviderResource
    """The cluster's explicit GCP provider (project and region from kubeforge's config)."""
    project: str
    """The GCP project id."""
    region: str
    """The cluster's region."""
    network_name: pulumi.Output[str]
    """The cluster's VPC network name (Filestore instances join it)."""
    workload_pool: str
    """The Workload Identity pool, ``<project>.svc.id.goog``."""
    data_key_id: pulumi.Output[str] | None
    """The Cloud KMS key for platform data (bucket CMEK), usable by Cloud Storage once this
    output resolves; None when no bucket uses it."""
    labels: Mapping[str, str]
    """Labels every GCP resource of the cluster carries."""


@dataclass(frozen=True)
class ClusterAccess:
    """What every in-cluster component needs from the cluster component."""

    provider: k8s.Provider
    """The one explicit Kubernetes provider of the stack's cluster."""
    aws: AwsClusterRefs | None = None
    """EKS only: the cluster's network, identity and key references."""
    gcp: GcpClusterRefs | None = None
    """GKE only: the cluster's project, network and key references."""
    object_store_credentials: pulumi.Output[Any] | None = None
    """On-prem: the secret ``kubeforge:objectStoreCredentials`` value, added by ``Platform``
    from ``PlatformArgs`` (tenants' object-store access keys)."""
    identity_secret: pulumi.Output[str] | None = None
    """The secret ``kubeforge:identitySecret`` value (OIDC client secret or LDAP bind
    password), added by ``Platform`` from ``PlatformArgs``."""


class PlatformComponent(pulumi.ComponentResource):
    """Base of every registered platform component (see the module docstring)."""

    key: ClassVar[str]
    type_token: ClassVar[str]
    section: ClassVar[str | None] = None
    depends_on: ClassVar[tuple[str, ...]] = ()
    after: ClassVar[tuple[str, ...]] = ()
    """Registry keys this component also waits for where they are registered (their CRDs or
    webhooks serve some of its objects), e.g. tenants after the Profiles controller."""
    args_type: ClassVar[type]
    concern: ClassVar[str]
    """The architecture concern it belongs to (app.kubernetes.io/component): cluster, gpu,
    storage, scheduling, tenancy, ml, platform."""
    previous_names: ClassVar[Mapping[str, str]] = {}
    """Instance name -> the name it had before, recorded as a Pulumi alias so a rename
    replaces nothing. Ref: https://www.pulumi.com/docs/iac/concepts/options/aliases/"""

    def __init__(self, name: str, args: Any, opts: pulumi.ResourceOptions | None = None):
        if not isinstance(args, self.args_type):
            raise TypeError(f"{type(self).__name__} takes {self.args_type.__name__}, not {type(args).__name__}")
        super().__init__(self.type_token, name, None, opts)
        self.instance = name

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        component = stack.components.get(cls.key)
        return component.namespace if component else None

    def ready(self) -> Sequence[pulumi.Resource]:
        """What a dependent component waits for: the whole component by default; a component
        whose dependents need only part of it (CRDs, a webhook) says which part, so the rest
        installs beside them."""
        return [self]

    @classmethod
    def tenant_of(cls, instance: str) -> str | None:
        """The tenant an instance belongs to, for components with one instance per tenant: a
        tenant's instance waits only for the same tenant's instances of what it depends on,
        so tenants install side by side and one tenant's change waits for no other."""
        return None

    def stack_outputs(self) -> Mapping[str, pulumi.Output]:
        """Values this component publishes as stack outputs (none by default)."""
        return {}

    @classmethod
    def default_name(cls) -> str:
        """The instance name of a single-instance component: its key in kebab case."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", cls.key).lower()
