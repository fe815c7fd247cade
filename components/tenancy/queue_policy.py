"""Each tenant submits only to its own Volcano queue.

Volcano queues have no access control of their own: any namespace may name any queue.
A ValidatingAdmissionPolicy (built into Kubernetes, GA in 1.30) rejects, in every tenant
namespace, a PodGroup whose queue is not the tenant's, and a Volcano Job that names
another tenant's queue. A Job left on "default" is allowed: its PodGroup is moved to the
namespace's queue by Volcano's podgroup webhook (the namespace's queue annotation) and
then checked by the same policy, so a PodGroup can never land in "default" from a tenant
namespace. The tenant is read from the namespace's ``kubeforge.io/tenant`` label, which
only the platform can set: a tenant's admin RoleBinding grants nothing on Namespace
objects. Ref: https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from components.labels import TENANT_LABEL
from components.tenancy.admission import tenant_admission_policy
from kubeforge.config.resolved import ResolvedStack

POLICY_NAME = "kubeforge-tenant-queue"

# CEL, evaluated by the API server for every matching request; tests evaluate the same
# strings (tests/tenancy/test_queue_policy.py).
VARIABLES = [
    {"name": "tenant", "expression": f"namespaceObject.metadata.labels['{TENANT_LABEL}']"},
    {"name": "queue", "expression": "has(object.spec.queue) ? object.spec.queue : ''"},
]
VALIDATIONS = [
    {
        "expression": "request.resource.resource != 'podgroups' || variables.queue == variables.tenant",
        "messageExpression": "'PodGroups in namespace ' + namespaceObject.metadata.name + ' run in queue ' + "
                             "variables.tenant + ', not ' + (variables.queue == '' ? 'no queue' : variables.queue)",
        "reason": "Forbidden",
    },
    {
        "expression": "request.resource.resource != 'jobs' || "
                      "variables.queue in ['', 'default', variables.tenant]",
        "messageExpression": "'Volcano Jobs in namespace ' + namespaceObject.metadata.name + ' run in queue ' + "
                             "variables.tenant + ', not ' + variables.queue",
        "reason": "Forbidden",
    },
]


@dataclass(frozen=True)
class TenantQueuePolicyArgs:
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class TenantQueuePolicy(PlatformComponent):
    """The admission policy binding every tenant namespace to its own queue."""

    key = "tenantQueuePolicy"
    type_token = "kubeforge:tenancy:TenantQueuePolicy"
    args_type = TenantQueuePolicyArgs
    concern = "tenancy"
    depends_on = ("volcano",)

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TenantQueuePolicyArgs]:
        if "volcano" not in stack.components:
            return {}
        return {cls.default_name(): TenantQueuePolicyArgs(provider=cluster.provider)}

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return None  # cluster-scoped

    def __init__(self, name: str, args: TenantQueuePolicyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        labels = recommended_labels(name=POLICY_NAME, instance=name, component=self.concern)
        tenant_admission_policy(
            name, policy_name=POLICY_NAME, labels=labels, provider=args.provider, parent=self,
            resource_rules=[
                {"apiGroups": ["scheduling.volcano.sh"], "apiVersions": ["*"], "resources": ["podgroups"],
                 "operations": ["CREATE", "UPDATE"]},
                {"apiGroups": ["batch.volcano.sh"], "apiVersions": ["*"], "resources": ["jobs"],
                 "operations": ["CREATE", "UPDATE"]},
            ],
            variables=VARIABLES, validations=VALIDATIONS,
        )
        self.register_outputs({"policy": POLICY_NAME})
