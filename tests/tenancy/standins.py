"""Registered stand-ins for components the next issue builds (Profiles + KFAM, PodDefaults):
each installs one marker object where the real component will install its kinds, so tests
can see what tenants get once those kinds exist."""

from __future__ import annotations

import dataclasses

import pulumi
import pulumi_kubernetes as k8s

from components.component import PlatformComponent


@dataclasses.dataclass(frozen=True)
class StandInArgs:
    provider: object
    """The cluster's Kubernetes provider."""


def stand_in(key: str) -> type[PlatformComponent]:
    """A registered component for catalog key ``key``, present where the stack enables it."""
    def instances(cls, stack, cluster):
        return {cls.default_name(): StandInArgs(cluster.provider)} if key in stack.components else {}

    def init(self, name, args, opts=None):
        PlatformComponent.__init__(self, name, args, opts)
        k8s.core.v1.ConfigMap(f"{name}-marker", metadata={"name": name, "namespace": "kubeflow"},
                              opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({})

    return type(key, (PlatformComponent,), {"key": key, "type_token": "kubeforge:test:StandIn",
                                            "args_type": StandInArgs, "concern": "ml",
                                            "instances": classmethod(instances), "__init__": init})
