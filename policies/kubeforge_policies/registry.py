"""Every rule of the pack, and :func:`evaluate`: the rules over a recorded graph, offline.

Policy config has Pulumi's shape (``pulumi preview --policy-pack policies
--policy-pack-config <file>``): ``{"<rule>": "advisory" | {"enforcementLevel": ..., "<param>":
...}, "all": "<level>"}``. Ref: https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeforge_policies import data_protection, eks, gke, gpu, iam, kubernetes, stack, storage, supply_chain
from kubeforge_policies.model import UnknownValue, as_policy_resources
from kubeforge_policies.rule import ENFORCEMENTS, Enforcement, Rule, Violation

RULES: tuple[Rule, ...] = (
    *eks.RULES,
    *gke.RULES,
    *iam.RULES,
    *storage.RULES,
    *kubernetes.RULES,
    *gpu.RULES,
    *data_protection.RULES,
    *supply_chain.RULES,
    *stack.RULES,
)
CONCERNS: dict[str, tuple[Rule, ...]] = {
    "eks": eks.RULES, "gke": gke.RULES, "iam": iam.RULES, "storage": storage.RULES, "kubernetes": kubernetes.RULES,
    "gpu": gpu.RULES, "data protection": data_protection.RULES, "supply chain": supply_chain.RULES,
    "stack": stack.RULES,
}
BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


class PolicyConfigError(ValueError):
    """Policy config that names an unknown rule, level or parameter; the message says which."""


def _level(value: Any, where: str) -> Enforcement:
    if value not in ENFORCEMENTS:
        raise PolicyConfigError(f"{where}: enforcement level {value!r} is not one of {', '.join(ENFORCEMENTS)}")
    return value


def resolve(rule: Rule, config: Mapping[str, Any] | None) -> tuple[Enforcement, dict[str, Any]]:
    """The rule's enforcement level and parameters under ``config``."""
    config = config or {}
    level: Enforcement = rule.enforcement
    if "all" in config:
        level = _level(config["all"], "all")
    params = rule.defaults()
    entry = config.get(rule.name)
    if isinstance(entry, str):
        level = _level(entry, rule.name)
    elif isinstance(entry, Mapping):
        for key, value in entry.items():
            if key == "enforcementLevel":
                level = _level(value, f"{rule.name}.enforcementLevel")
            elif key in params:
                params[key] = value
            else:
                accepted = ", ".join(["enforcementLevel", *params]) or "enforcementLevel"
                raise PolicyConfigError(f"{rule.name}.{key}: no such parameter; {rule.name} accepts {accepted}")
    elif entry is not None:
        raise PolicyConfigError(f"{rule.name}: expected an enforcement level or a mapping, got {entry!r}")
    return level, params


def check_config(config: Mapping[str, Any] | None) -> None:
    unknown = sorted(k for k in (config or {}) if k != "all" and k not in BY_NAME)
    if unknown:
        raise PolicyConfigError(f"policy config names no rule of the kubeforge pack: {', '.join(unknown)}")


def evaluate(source: Any, config: Mapping[str, Any] | None = None,
             rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    """Every violation of ``rules`` in ``source`` (a ResourceGraph, its resources, or
    PolicyResources), under ``config``. Disabled rules do not run. A rule that reads a value
    not known before deployment skips that resource, as CrossGuard does during preview."""
    check_config(config)
    resources = as_policy_resources(source)
    out: list[Violation] = []
    for rule in rules:
        level, params = resolve(rule, config)
        if level == "disabled":
            continue
        if rule.scope == "stack":
            try:
                issues = [(i.resource, i) for i in rule.check(resources, params)]
            except UnknownValue:
                continue
        else:
            issues = []
            for resource in resources:
                if not rule.applies_to(resource):
                    continue
                try:
                    issues += [(resource, i) for i in rule.check(resource, params)]
                except UnknownValue:
                    continue
        for resource, issue in issues:
            out.append(Violation(rule.name, rule.severity, level, resource.urn if resource else None,
                                 resource.name if resource else None, rule.message(issue, resource)))
    return out


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.mandatory]
