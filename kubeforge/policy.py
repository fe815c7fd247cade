"""``kubeforge policy``: the project's policy pack (policies/) on a stack's offline graph.

The pack is the project's own code, like its components: it is loaded from the project
root, so the rules CI runs offline are the ones ``pulumi preview --policy-pack policies`` runs.
Reports come as text grouped by severity, JSON, or SARIF 2.1.0 (GitHub code scanning shows
SARIF results on the pull request).
Ref: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html ;
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

PACK_DIR = "policies"
MAX_CONFIG_BYTES = 1 << 20
SEVERITY_ORDER = ("critical", "high", "medium", "low")
# SARIF result levels, and GitHub's security-severity scores (0.1-10) for its severity labels.
# Ref: https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


class PolicyError(Exception):
    """A policy config or pack that cannot be used: one message, exit 2."""


def load_pack(root: Path) -> ModuleType:
    """``kubeforge_policies`` from ``<root>/policies``."""
    pack = root / PACK_DIR
    if not (pack / "kubeforge_policies" / "__init__.py").is_file():
        raise PolicyError(f"{PACK_DIR}/kubeforge_policies: the project has no policy pack")
    if str(pack) not in sys.path:
        sys.path.insert(0, str(pack))
    return importlib.import_module("kubeforge_policies")


def read_config(path: Path | None) -> dict[str, Any] | None:
    """A policy config in Pulumi's shape (the file ``--policy-pack-config`` takes)."""
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise PolicyError(f"{path.name}: a policy config is at most {MAX_CONFIG_BYTES} bytes")
        config = json.loads(path.read_bytes())
    except OSError:
        raise PolicyError(f"--config: cannot read {path.name}") from None
    except (ValueError, RecursionError):
        raise PolicyError(f"{path.name}: not JSON") from None
    if not isinstance(config, dict):
        raise PolicyError(f"{path.name}: expected an object of rule names")
    return config


def run(pack: ModuleType, graph: Any, config: Mapping[str, Any] | None) -> list[Any]:
    try:
        return pack.evaluate(graph, config)
    except pack.PolicyConfigError as exc:
        raise PolicyError(f"policy config: {exc}") from None


def rule_lines(pack: ModuleType) -> list[str]:
    return [f"{r.name}  [{r.severity}, {r.enforcement}]  {r.description}" for r in pack.RULES]


def text_report(stack: str, violations: list[Any], rules: int) -> str:
    mandatory = sum(v.mandatory for v in violations)
    lines = [f"Stack {stack}: {rules} rules, {len(violations)} violations ({mandatory} mandatory)"]
    for severity in SEVERITY_ORDER:
        found = [v for v in violations if v.severity == severity]
        if not found:
            continue
        lines += ["", f"{severity.upper()} ({len(found)})"]
        lines += [f"  [{v.enforcement}] {v.rule}: {v.message}" for v in sorted(found, key=lambda v: (v.rule, v.urn or ""))]
    return "\n".join(lines) + "\n"


def json_report(stack: str, violations: list[Any], rules: int) -> str:
    doc = {
        "stack": stack,
        "rules": rules,
        "mandatory": sum(v.mandatory for v in violations),
        "violations": [{"rule": v.rule, "severity": v.severity, "enforcement": v.enforcement, "urn": v.urn,
                        "resource": v.resource_name, "message": v.message} for v in violations],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def sarif_report(pack: ModuleType, stack_file: str, violations: list[Any]) -> str:
    """SARIF 2.1.0: one rule descriptor per rule of the pack, one result per violation,
    located in the stack file the resource comes from (its URN as the logical location)."""
    index = {rule.name: i for i, rule in enumerate(pack.RULES)}
    descriptors = [{
        "id": rule.name,
        "name": rule.name,
        "shortDescription": {"text": rule.description},
        "help": {"text": rule.remediation},
        **({"helpUri": rule.reference} if rule.reference else {}),
        "defaultConfiguration": {"level": SARIF_LEVEL.get(rule.enforcement, "note")},
        "properties": {"security-severity": SECURITY_SEVERITY[rule.severity], "tags": ["security", "kubeforge"]},
    } for rule in pack.RULES]
    results = [{
        "ruleId": v.rule,
        "ruleIndex": index[v.rule],
        "level": SARIF_LEVEL.get(v.enforcement, "note"),
        "message": {"text": v.message},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": stack_file}, "region": {"startLine": 1}},
            **({"logicalLocations": [{"fullyQualifiedName": v.urn, "name": v.resource_name or v.urn,
                                      "kind": "resource"}]} if v.urn else {}),
        }],
    } for v in violations]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "kubeforge-policy", "informationUri":
                                      "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                                      "rules": descriptors}},
                  "results": results}],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
