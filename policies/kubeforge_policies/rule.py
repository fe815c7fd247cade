"""A rule: a named, described check with a severity, a default enforcement level and
parameters, over one resource or over the whole stack."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kubeforge_policies.model import PolicyResource

Severity = Literal["critical", "high", "medium", "low"]
Enforcement = Literal["mandatory", "advisory", "disabled"]
Scope = Literal["resource", "stack"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
ENFORCEMENTS: tuple[Enforcement, ...] = ("mandatory", "advisory", "disabled")
KEBAB_CASE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Issue:
    """One thing wrong: what, and what to do about it. Stack rules name the resource."""

    problem: str
    fix: str
    resource: PolicyResource | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: Severity
    enforcement: Enforcement
    urn: str | None
    resource_name: str | None
    message: str

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


ResourceCheck = Callable[[PolicyResource, Mapping[str, Any]], Iterable[Issue]]
StackCheck = Callable[[Sequence[PolicyResource], Mapping[str, Any]], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    """``check`` takes one resource of ``resource_types`` (scope "resource") or every
    resource of the stack (scope "stack"), and the rule's parameters; it yields Issues.

    ``params`` are JSON-schema properties, each with a ``default`` and a ``description``:
    under CrossGuard they are the policy's ``config_schema``; offline, a stack's policy
    config overrides them (see :func:`kubeforge_policies.registry.resolve`).
    """

    name: str
    description: str
    severity: Severity
    check: ResourceCheck | StackCheck
    remediation: str
    """The general fix, shown with the policy; each message carries its own."""
    resource_types: tuple[str, ...] = ()
    """The type tokens a resource rule applies to; ``kubernetes:*:Kind`` matches the kind
    in any API group and version."""
    scope: Scope = "resource"
    enforcement: Enforcement = "mandatory"
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    reference: str | None = None
    """Where the requirement comes from (a doc URL)."""

    def applies_to(self, resource: PolicyResource) -> bool:
        if self.scope != "resource":
            return False
        for pattern in self.resource_types:
            if pattern.startswith("kubernetes:*:"):
                if resource.is_kubernetes and resource.kind == pattern.rsplit(":", 1)[-1]:
                    return True
            elif resource.type == pattern:
                return True
        return False

    def defaults(self) -> dict[str, Any]:
        return {k: v.get("default") for k, v in self.params.items()}

    def message(self, issue: Issue, resource: PolicyResource | None) -> str:
        who = resource.label if resource is not None else "the stack"
        return f"{who}: {issue.problem}. Fix: {issue.fix}"
