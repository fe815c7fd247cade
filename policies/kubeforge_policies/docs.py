"""The rule list in policies/README.md, generated from the registry (tests/policies checks
the README holds it): ``python -c 'from kubeforge_policies.docs import rule_table; print(rule_table())'``."""

from __future__ import annotations

from kubeforge_policies.registry import CONCERNS


def rule_table() -> str:
    lines = ["| concern | rule | severity | default | what it requires |", "| --- | --- | --- | --- | --- |"]
    for concern, rules in CONCERNS.items():
        for r in rules:
            lines.append(f"| {concern} | `{r.name}` | {r.severity} | {r.enforcement} | {r.description} |")
    return "\n".join(lines) + "\n"
