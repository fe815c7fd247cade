"""The one shape every kubeforge platform component has.

A platform component is a :class:`PlatformComponent` subclass that declares, as class
attributes, everything :class:`~components.platform.Platform` needs to place it:

- ``key``: its registry key; for an upstream component, its catalog key;
- ``section``: the config section it reads (``components.gpuOperator``), or None when it
  is derived from the stack as a whole (tenants, namespaces);
- ``depends_on``: registry keys of the components it needs first;
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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s

from kubeforge.config.resolved import ResolvedStack


@dataclass(frozen=True)
class ClusterAccess:
    """What every in-cluster component needs from the cluster component."""

    provider: k8s.Provider
    """The one explicit Kubernetes provider of the stack's cluster."""


class PlatformComponent(pulumi.ComponentResource):
    """Base of every registered platform component (see the module docstring)."""

    key: ClassVar[str]
    type_token: ClassVar[str]
    section: ClassVar[str | None] = None
    depends_on: ClassVar[tuple[str, ...]] = ()
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

    @classmethod
    def default_name(cls) -> str:
        """The instance name of a single-instance component: its key in kebab case."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", cls.key).lower()
