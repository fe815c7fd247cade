"""The priority tiers a tenant's jobs run at: one PriorityClass per tier.

A tenant file's ``queue.priority`` (low, normal, high) names its tier; the tier's
PriorityClass is what the tenant's pods and PodGroups carry. Volcano's priority plugin
orders jobs and picks preemption victims by it, and the kubelet weighs it when it evicts
under node pressure.
Ref: https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/plugins/priority/priority.go
Ref: https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/#pod-selection-for-kubelet-eviction

The classes exist whether or not Volcano is on: a pod naming a PriorityClass that does not
exist is refused at admission, and kube-scheduler honours the same classes.
Ref: https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#priority
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from kubeforge.config.resolved import ResolvedStack

PriorityTier = Literal["low", "normal", "high"]
"""The tiers a tenant file may name (``queue.priority``)."""


@dataclass(frozen=True)
class PriorityTierClass:
    """The PriorityClass of one tier."""

    name: str
    """PriorityClass name."""
    value: int
    """Priority value: higher is scheduled first and evicted last."""
    description: str
    """What the tier is for, shown by ``kubectl get priorityclass``."""


# Values are user-range priorities: Kubernetes reserves values above 1,000,000,000 for its
# own classes (system-cluster-critical is 2,000,000,000, system-node-critical 2,000,001,000).
# Ref: https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/#priorityclass
# The tiers stay far below that so platform services can be given a class above every tenant.
PRIORITY_CLASSES: Mapping[PriorityTier, PriorityTierClass] = MappingProxyType({
    "low": PriorityTierClass("kubeforge-low", 1_000,
                             "kubeforge tenant tier low: runs on idle capacity, preempted first."),
    "normal": PriorityTierClass("kubeforge-normal", 10_000,
                                "kubeforge tenant tier normal: the default for tenants' jobs."),
    "high": PriorityTierClass("kubeforge-high", 100_000,
                              "kubeforge tenant tier high: scheduled first, preempted last."),
})


def priority_class_name(tier: PriorityTier) -> str:
    """The PriorityClass a tenant's pods and PodGroups carry for its tier."""
    return PRIORITY_CLASSES[tier].name


def priority_class_fields(tier: PriorityTier) -> dict[str, object]:
    """The tier's PriorityClass fields (without metadata).

    Every tier may preempt (``PreemptLowerPriority``), ``low`` included: Volcano's reclaim
    action skips any task whose pod says ``preemptionPolicy: Never``, so a Never class would
    leave a low-tier tenant unable to take back its own deserved share from queues that
    borrowed it.
    Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/actions/reclaim/reclaim.go#L144
    Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/actions/preempt/preempt.go#L433
    No tier is the cluster's globalDefault: that would apply to every pod that names no
    class, platform services included; a tenant's workloads name their tier's class
    (:func:`priority_class_name`).
    """
    tier_class = PRIORITY_CLASSES[tier]
    return {
        "value": tier_class.value,
        "global_default": False,
        "preemption_policy": "PreemptLowerPriority",
        "description": tier_class.description,
    }


@dataclass(frozen=True)
class TenantPriorityClassesArgs:
    tiers: tuple[PriorityTier, ...]
    """The tiers to create a PriorityClass for: all of them."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class TenantPriorityClasses(PlatformComponent):
    """One cluster-scoped PriorityClass per tenant priority tier."""

    key = "priorityClasses"
    type_token = "kubeforge:scheduling:TenantPriorityClasses"
    args_type = TenantPriorityClassesArgs
    concern = "scheduling"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TenantPriorityClassesArgs]:
        return {cls.default_name(): TenantPriorityClassesArgs(tiers=get_args(PriorityTier), provider=cluster.provider)}

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return None

    def __init__(self, name: str, args: TenantPriorityClassesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.classes = {
            tier: k8s.scheduling.v1.PriorityClass(
                f"{name}-{tier}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=priority_class_name(tier),
                    labels=recommended_labels(name="priority-class", instance=name, component=self.concern),
                ),
                **priority_class_fields(tier),
                opts=child,
            )
            for tier in args.tiers
        }
        self.register_outputs({"names": sorted(priority_class_name(t) for t in args.tiers)})
