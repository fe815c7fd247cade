"""``kubeforge diff``: what a change to a stack does, resource by resource, read from two graphs.

The stack's current graph (the program in the offline engine) is compared with a saved one
(``kubeforge preview --json``, e.g. from the main branch). Resources are matched by URN, or by
an alias the new graph records (a renamed resource is changed, not removed and added). A
changed property forces replacement where upstream says so: the Terraform ``ForceNew`` flags
the bridged Pulumi providers inherit, and pulumi-kubernetes' rules, kept as data with a
source per row (``kubeforge/data/replacement.yaml``). Replacing or deleting a stateful
resource (a cluster, node group, bucket, file system, KMS key, database, volume claim,
tenant namespace) is marked dangerous: that is what a reviewer must not miss.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from kubeforge.engine.graph import RecordedResource, ResourceGraph

Action = Literal["add", "remove", "update", "replace"]
KUBERNETES_PREFIX = "kubernetes:"


@dataclass(frozen=True)
class ReplacementRule:
    stateful: bool
    why: str
    force_new: tuple[str, ...]
    source: str
    force_new_if: tuple[tuple[str, str], ...] = ()
    """(path, when): replacement only under a condition the provider checks (CustomizeDiff)."""
    immutable: tuple[str, ...] = ()
    """Immutable in Kubernetes yet updated in place by the provider: the API server refuses it."""


@dataclass(frozen=True)
class ReplacementRules:
    types: dict[str, ReplacementRule]
    kubernetes_identity: tuple[str, ...]
    """metadata.name / metadata.namespace: a Kubernetes object is replaced when they change."""

    def forces_replacement(self, type_: str, path: str, block_changed: Callable[[str], bool]) -> bool:
        """A listed property forces replacement when it changes; a listed block (a prefix of
        ``path``) only when the block itself is added or removed (Terraform applies a block's
        ForceNew to its element count; each nested field has its own flag)."""
        properties = list(self.types[type_].force_new) if type_ in self.types else []
        if type_.startswith(KUBERNETES_PREFIX):
            properties += self.kubernetes_identity
        plain = _without_indices(path)
        return any(plain == p or (plain.startswith(p + ".") and block_changed(p)) for p in properties)

    def note(self, type_: str, path: str) -> str | None:
        rule = self.types.get(type_)
        if rule is None:
            return None
        plain = _without_indices(path)
        for prefix, when in rule.force_new_if:
            if plain == prefix or plain.startswith(prefix + "."):
                return f"may force replacement: {when}"
        if any(plain == p or plain.startswith(p + ".") for p in rule.immutable):
            return "immutable in Kubernetes: the provider updates it in place and the API server refuses"
        return None

    def stateful(self, type_: str) -> bool:
        rule = self.types.get(type_)
        return bool(rule and rule.stateful)


@cache
def replacement_rules() -> ReplacementRules:
    doc = yaml.safe_load(resources.files("kubeforge").joinpath("data/replacement.yaml").read_text())
    types = {
        type_: ReplacementRule(stateful=bool(row.get("stateful")), why=str(row.get("why", "")),
                               force_new=tuple(row.get("forceNew") or ()), source=str(row["source"]),
                               force_new_if=tuple((str(c["path"]), str(c["when"])) for c in row.get("forceNewIf") or ()),
                               immutable=tuple(row.get("immutableNotReplaced") or ()))
        for type_, row in doc["types"].items()
    }
    return ReplacementRules(types=types, kubernetes_identity=tuple(doc["kubernetesNameOrNamespace"]["properties"]))


def _without_indices(path: str) -> str:
    out, depth = [], 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaves (``a.b[0].c``); empty containers are leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any
    new: Any
    forces_replacement: bool
    note: str | None = None


@dataclass(frozen=True)
class ResourceChange:
    action: Action
    urn: str
    type: str
    name: str
    changes: tuple[PropertyChange, ...] = ()
    stateful: bool = False
    previous_urn: str | None = None
    """The URN in the saved graph, where the resource was matched by an alias."""

    @property
    def dangerous(self) -> bool:
        return self.stateful and self.action in ("remove", "replace")


@dataclass
class GraphDiff:
    stack: str
    changes: list[ResourceChange] = field(default_factory=list)

    def of(self, action: Action) -> list[ResourceChange]:
        return [c for c in self.changes if c.action == action]

    @property
    def dangerous(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.dangerous]


def _present(flat: dict[str, Any], block: str) -> bool:
    return any(_without_indices(path) == block or _without_indices(path).startswith(block + ".") for path in flat)


def _property_changes(old: RecordedResource, new: RecordedResource, rules: ReplacementRules) -> list[PropertyChange]:
    before, after = flatten(old.inputs), flatten(new.inputs)

    def block_changed(block: str) -> bool:
        return _present(before, block) != _present(after, block)

    out = []
    for path in sorted(set(before) | set(after)):
        if before.get(path, _MISSING) != after.get(path, _MISSING):
            out.append(PropertyChange(path, before.get(path), after.get(path),
                                      rules.forces_replacement(new.type, path, block_changed),
                                      rules.note(new.type, path)))
    return out


_MISSING = object()


def diff(saved: ResourceGraph, current: ResourceGraph, rules: ReplacementRules | None = None) -> GraphDiff:
    rules = rules or replacement_rules()
    result = GraphDiff(stack=current.stack)
    matched: set[str] = set()
    for urn, new in sorted(current.resources.items()):
        if new.type == "pulumi:pulumi:Stack":
            continue
        old_urn = urn if urn in saved.resources else next(
            (a for a in new.options.get("aliases", []) if a in saved.resources), None)
        if old_urn is None:
            result.changes.append(ResourceChange("add", urn, new.type, new.name, stateful=rules.stateful(new.type)))
            continue
        matched.add(old_urn)
        old = saved.resources[old_urn]
        if old.type != new.type:
            result.changes.append(ResourceChange("replace", urn, new.type, new.name, stateful=rules.stateful(old.type)
                                                 or rules.stateful(new.type), previous_urn=old_urn))
            continue
        changes = _property_changes(old, new, rules)
        if changes:
            action: Action = "replace" if any(c.forces_replacement for c in changes) else "update"
            result.changes.append(ResourceChange(action, urn, new.type, new.name, tuple(changes),
                                                 rules.stateful(new.type), old_urn if old_urn != urn else None))
    for urn, old in sorted(saved.resources.items()):
        if urn not in matched and urn not in current.resources and old.type != "pulumi:pulumi:Stack":
            result.changes.append(ResourceChange("remove", urn, old.type, old.name, stateful=rules.stateful(old.type)))
    return result


# --- reports ---------------------------------------------------------------------------------

def _show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True) if value is not None else "(none)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _why(change: ResourceChange, rules: ReplacementRules) -> str:
    rule = rules.types.get(change.type)
    what = rule.why if rule else "its data"
    forcing = sorted({_without_indices(c.path) for c in change.changes if c.forces_replacement})
    cause = f"{', '.join(forcing)} force{'s' if len(forcing) == 1 else ''} replacement" if forcing else \
        ("removed from the stack" if change.action == "remove" else "its type changed")
    return f"{cause}; this destroys {what}" + (f" (source: {rule.source})" if rule and forcing else "")


def text_report(result: GraphDiff, rules: ReplacementRules | None = None) -> str:
    rules = rules or replacement_rules()
    counts = {a: len(result.of(a)) for a in ("add", "update", "replace", "remove")}
    lines = [f"Stack {result.stack}: {counts['add']} to add, {counts['update']} to update, {counts['replace']} to "
             f"replace, {counts['remove']} to remove; {len(result.dangerous)} dangerous"]
    symbol = {"add": "+", "update": "~", "replace": "+-", "remove": "-"}
    for change in result.changes:
        flag = "  DANGEROUS" if change.dangerous else ""
        lines.append(f"{symbol[change.action]:>2} {change.type} {change.name}{flag}")
        if change.dangerous:
            lines.append(f"     {_why(change, rules)}")
        for prop in change.changes:
            mark = " (forces replacement)" if prop.forces_replacement else (f" ({prop.note})" if prop.note else "")
            lines.append(f"     {prop.path}: {_show(prop.old)} -> {_show(prop.new)}{mark}")
    return "\n".join(lines) + "\n"


def markdown_report(result: GraphDiff, rules: ReplacementRules | None = None) -> str:
    """A pull-request comment: the counts, the dangerous changes first, then every change."""
    rules = rules or replacement_rules()
    counts = {a: len(result.of(a)) for a in ("add", "update", "replace", "remove")}
    out = [f"### kubeforge diff: stack `{result.stack}`", "",
           "| add | update | replace | remove | dangerous |", "|---:|---:|---:|---:|---:|",
           f"| {counts['add']} | {counts['update']} | {counts['replace']} | {counts['remove']} | "
           f"{len(result.dangerous)} |", ""]
    if result.dangerous:
        out += [":warning: **Dangerous: stateful resources replaced or deleted**", ""]
        out += [f"- `{c.name}` ({c.type}), {c.action}: {_why(c, rules)}" for c in result.dangerous]
        out.append("")
    if result.changes:
        out += ["<details><summary>Every change</summary>", "", "| | resource | type | changed properties |",
                "|---|---|---|---|"]
        for c in result.changes:
            props = "<br>".join(f"`{p.path}`" + (" (forces replacement)" if p.forces_replacement
                                                else f" ({p.note})" if p.note else "") for p in c.changes[:20])
            more = f"<br>... {len(c.changes) - 20} more" if len(c.changes) > 20 else ""
            out.append(f"| {c.action} | `{c.name}` | `{c.type}` | {props}{more} |")
        out += ["", "</details>"]
    else:
        out.append("No changes.")
    return "\n".join(out) + "\n"


def json_report(result: GraphDiff) -> str:
    return json.dumps({
        "stack": result.stack,
        "dangerous": len(result.dangerous),
        "changes": [{"action": c.action, "urn": c.urn, "previousUrn": c.previous_urn, "type": c.type, "name": c.name,
                     "stateful": c.stateful, "dangerous": c.dangerous,
                     "properties": [{"path": p.path, "old": p.old, "new": p.new,
                                     "forcesReplacement": p.forces_replacement, "note": p.note} for p in c.changes]}
                    for c in result.changes],
    }, indent=2, sort_keys=True) + "\n"
