"""Volcano, pinned by the catalog, with its scheduler configuration generated from ``scheduler:``.

The chart's ``custom.scheduler_config_override`` replaces the whole default configuration
(the chart writes it as volcano-scheduler.conf instead of config/volcano-scheduler.conf).
Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/templates/scheduler.yaml#L17-L23
The configuration keeps everything Volcano's default at that version has and changes only
what a ``scheduler:`` setting asks for; each difference is explained where it is made.
Default: https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/config/volcano-scheduler.conf
Actions and plugins: https://github.com/volcano-sh/volcano/blob/v1.15.1/docs/user-guide/how_to_configure_scheduler.md
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.component import ClusterAccess, PlatformComponent
from components.helm import helm_release
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack, SchedulerSpec

SCHEDULER_NAME = "volcano"
"""``spec.schedulerName`` of the pods Volcano schedules (also Volcano's own default).
Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/cmd/scheduler/app/options/options.go#L35"""
GPU = "nvidia.com/gpu"
DEFAULT_QUEUE = "default"

# Volcano's default: admit jobs whose minimum fits (enqueue), place them, then BestEffort pods.
BASE_ACTIONS = ("enqueue", "allocate", "backfill")
# Evictions come after everything free has been handed out: reclaim first (a queue takes
# back its deserved share from queues that borrowed it), then preempt (a higher-priority
# job evicts a lower one within its queue). The order of Volcano's own CI configuration.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/config/volcano-scheduler-ci.conf
# The capacity plugin returns lent capacity only through reclaim: with ``preemption: false``
# nothing is evicted, and what a queue lent comes back only as the borrowers' pods finish.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/docs/user-guide/how_to_use_capacity_plugin.md
EVICTING_ACTIONS = ("reclaim", "preempt")

# One queue plugin, never both: "capacity and proportion plugin are in conflict".
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/docs/user-guide/how_to_use_capacity_plugin.md
QUEUE_PLUGINS: Mapping[str, str] = MappingProxyType({"capacity": "capacity", "proportion": "proportion"})

# binpack scores a node by how full it would be after placing the task, per resource,
# weighted: binpack.weight scales the plugin against the others, binpack.resources lists
# extended resources with binpack.resources.<name> as each one's weight (cpu and memory
# keep their weight of 1). A GPU weight ten times cpu's and memory's makes a GPU pod's score
# mostly about GPUs: GPU jobs fill the node with the fewest free GPUs first, and each pod of
# a distributed job prefers the node its earlier pods filled, so the job stays on one node
# where it fits. binpack.weight 10 is the value of the plugin's own documented example.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/plugins/binpack/binpack.go#L36-L158
# Weights must be YAML integers: Volcano ignores a weight it cannot read as an int.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/framework/arguments.go#L38-L54
BINPACK_ARGUMENTS: Mapping[str, Any] = MappingProxyType({
    "binpack.weight": 10,
    "binpack.resources": GPU,
    f"binpack.resources.{GPU}": 10,
})

# nodeorder's leastrequested scorer (default weight 1) prefers the emptiest node by cpu
# and memory: the opposite of bin-packing. binpack: off (weight 0 skips the scorer);
# spread: weighted as binpack would have been, so it decides. It scores cpu and memory
# only (GPU pods spread through the cpu and memory they request with their GPUs).
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/plugins/nodeorder/nodeorder.go#L139-L228
NODEORDER_ARGUMENTS: Mapping[str, Mapping[str, int]] = MappingProxyType({
    "binpack": MappingProxyType({"leastrequested.weight": 0}),
    "spread": MappingProxyType({"leastrequested.weight": 10}),
})

# The scheduler creates the "default" queue at start-up (weight 1, reclaimable, no
# capability: unlimited), and any PodGroup that names no queue lands in it. The chart at
# 1.15.1 neither creates it nor lets it be switched off.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/cache/cache.go#L465-L520
# It cannot be deleted (the queue webhook refuses), so kubeforge caps it at nothing
# meaningful. A capability of 0 cpu or memory means *unlimited* to the capacity and
# proportion plugins, so those get the smallest positive quantity; a GPU capability of 0
# is a cap of 0 GPUs.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/plugins/capacity/capacity.go#L1068-L1088
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/plugins/proportion/proportion.go#L120-L139
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/webhooks/admission/queues/validate/validate_queue.go#L295-L298
DEFAULT_QUEUE_CAPABILITY: Mapping[str, str] = MappingProxyType({"cpu": "1m", "memory": "1", GPU: "0"})


def scheduler_conf(scheduler: SchedulerSpec) -> dict[str, Any]:
    """volcano-scheduler.conf for the stack's ``scheduler:`` settings, as data.

    Every value comes from a table keyed by a Literal setting or from a bool: nothing a user
    wrote is copied into the configuration.

    Kept from Volcano's default: both tiers and their plugins in order, ``overcommit``, and
    ``enablePreemptable: false`` on gang and drf (the preempt action then ignores their
    victim filters).
    Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/scheduler/framework/session_plugins.go#L274-L290
    Different, by setting:
    - ``preemption``: adds the reclaim and preempt actions (:data:`EVICTING_ACTIONS`);
    - ``gang: false``: no gang plugin, so a job's pods are placed one by one, not all or none;
    - ``queuePlugin``: its plugin in proportion's place (:data:`QUEUE_PLUGINS`);
    - ``policy``: nodeorder's arguments (:data:`NODEORDER_ARGUMENTS`); binpack, with
      GPU-weighted arguments (:data:`BINPACK_ARGUMENTS`), only under ``binpack``.
    """
    actions = BASE_ACTIONS + (EVICTING_ACTIONS if scheduler.preemption else ())
    first: list[dict[str, Any]] = [{"name": "priority"}]
    if scheduler.gang:
        first.append({"name": "gang", "enablePreemptable": False})
    first.append({"name": "conformance"})
    second: list[dict[str, Any]] = [
        {"name": "overcommit"},
        {"name": "drf", "enablePreemptable": False},
        {"name": "predicates"},
        {"name": QUEUE_PLUGINS[scheduler.queue_plugin]},
        {"name": "nodeorder", "arguments": dict(NODEORDER_ARGUMENTS[scheduler.policy])},
    ]
    if scheduler.policy == "binpack":
        second.append({"name": "binpack", "arguments": dict(BINPACK_ARGUMENTS)})
    return {"actions": ", ".join(actions), "tiers": [{"plugins": first}, {"plugins": second}]}


def scheduler_conf_yaml(scheduler: SchedulerSpec) -> str:
    """:func:`scheduler_conf` as the YAML document the chart writes to the scheduler's ConfigMap."""
    return yaml.safe_dump(scheduler_conf(scheduler), sort_keys=False, default_flow_style=False)


# The chart's default webhooks plus /podgroups/mutate, which moves a PodGroup that names the
# "default" queue into the queue its namespace's scheduling.volcano.sh/queue-name annotation
# names: how a tenant's plain pods land in the tenant's queue (components/tenancy). The
# chart leaves it out; the webhook manager's own default includes it.
# Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/values.yaml#L58 ;
# https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/templates/webhooks.yaml#L99 ;
# https://github.com/volcano-sh/volcano/blob/v1.15.1/cmd/webhook-manager/app/options/options.go#L33
ENABLED_ADMISSIONS = ("/jobs/mutate,/jobs/validate,/podgroups/mutate,/podgroups/validate,/queues/mutate,"
                      "/queues/validate,/hypernodes/validate,/cronjobs/validate")


def volcano_values(scheduler: SchedulerSpec) -> dict[str, Any]:
    """kubeforge's Helm values for the Volcano chart (both are ``pinned_values`` of the spec).

    ``custom.scheduler_name`` is passed to the scheduler, controllers and admission as
    ``--scheduler-name``; naming it pins the name tenants' pods use.
    Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/installer/helm/chart/volcano/templates/scheduler.yaml#L206-L207
    """
    return {"custom": {
        "scheduler_name": SCHEDULER_NAME,
        "scheduler_config_override": scheduler_conf_yaml(scheduler),
        "enabled_admissions": ENABLED_ADMISSIONS,
    }}


@dataclass(frozen=True)
class VolcanoSchedulerArgs:
    component: ResolvedComponent
    """The catalog pin (chart repository, name, exact version) and the stack's valuesOverrides."""
    scheduler: SchedulerSpec
    """The validated ``scheduler:`` settings the scheduler configuration is generated from."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class VolcanoScheduler(PlatformComponent):
    """Volcano's Helm release with a generated scheduler configuration, and its default queue capped."""

    key = "volcano"
    type_token = "kubeforge:scheduling:VolcanoScheduler"
    section = "scheduler"
    depends_on = ("namespaces",)
    args_type = VolcanoSchedulerArgs
    concern = "scheduling"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, VolcanoSchedulerArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): VolcanoSchedulerArgs(
            component=component, scheduler=stack.scheduler, provider=cluster.provider,
        )}

    def __init__(self, name: str, args: VolcanoSchedulerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.release = helm_release(
            f"{name}-release",
            args.component,
            release_name="volcano",
            values=volcano_values(args.scheduler),
            provider=args.provider,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # A server-side-apply patch: kubeforge owns only the default queue's capability
        # (the scheduler owns the rest). Applied after the release; should it run before
        # the scheduler has created the queue, the apply creates it, Volcano's queue webhook
        # fills in weight and reclaimable, and the scheduler then finds it and leaves it.
        # Ref: https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
        # Ref: https://github.com/volcano-sh/volcano/blob/v1.15.1/pkg/webhooks/admission/queues/mutate/mutate_queue.go
        self.default_queue = k8s.apiextensions.CustomResourcePatch(
            f"{name}-default-queue",
            api_version="scheduling.volcano.sh/v1beta1",
            kind="Queue",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=DEFAULT_QUEUE),
            spec={"capability": dict(DEFAULT_QUEUE_CAPABILITY)},
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.release]),
        )
        self.register_outputs({"version": self.release.version, "schedulerName": SCHEDULER_NAME})
