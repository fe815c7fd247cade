"""A ValidatingAdmissionPolicy over tenant namespaces, and its binding (fails closed, denies).

The tenant is read from the namespace's ``kubeforge.io/tenant`` label, which only the platform
can set: a tenant's admin RoleBinding grants nothing on Namespace objects.
Ref: https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.labels import TENANT_LABEL

TENANT_NAMESPACES = {"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]}


def tenant_admission_policy(
    name: str, *, policy_name: str, labels: Mapping[str, str], resource_rules: Sequence[Mapping[str, Any]],
    variables: Sequence[Mapping[str, str]], validations: Sequence[Mapping[str, str]],
    provider: k8s.Provider, parent: pulumi.Resource,
) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding:
    """The policy, evaluated for every matching request in a tenant namespace, and the binding
    that makes its failures denials; returns the binding (the policy is in force once it exists)."""
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        f"{name}-policy",
        metadata={"name": policy_name, "labels": dict(labels)},
        spec={
            # Fail closed: if the policy cannot be evaluated, the request is refused.
            "failurePolicy": "Fail",
            "matchConstraints": {"namespaceSelector": TENANT_NAMESPACES, "resourceRules": list(resource_rules)},
            "variables": list(variables),
            "validations": list(validations),
        },
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        f"{name}-binding",
        metadata={"name": policy_name, "labels": dict(labels)},
        spec={"policyName": policy_name, "validationActions": ["Deny"],
              "matchResources": {"namespaceSelector": TENANT_NAMESPACES}},
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[policy]),
    )
