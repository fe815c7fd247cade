"""The resource graph the offline engine records, and its stable JSON form."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SECRET = "[secret]"
"""What a secret value looks like anywhere the graph is written or printed."""


@dataclass(frozen=True)
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    dependencies: tuple[str, ...]
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "dependencies": list(self.dependencies),
            "provider": self.provider,
            "custom": self.custom,
            "inputs": self.inputs,
            "options": self.options,
        }


@dataclass
class ResourceGraph:
    stack: str
    project: str
    resources: dict[str, RecordedResource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    # --- queries -------------------------------------------------------------------------

    def ordered(self) -> list[RecordedResource]:
        return [self.resources[u] for u in sorted(self.resources)]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.ordered() if r.type == type_]

    def named(self, name: str) -> RecordedResource:
        matches = [r for r in self.resources.values() if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.ordered() if r.parent == urn]

    def component_of(self, resource: RecordedResource) -> RecordedResource | None:
        """The nearest kubeforge component that (transitively) parents ``resource``."""
        parent = resource.parent
        while parent and parent in self.resources:
            node = self.resources[parent]
            if node.type.startswith("kubeforge:"):
                return node
            parent = node.parent
        return None

    # --- summaries and serialisation ------------------------------------------------------

    def counts_by_type(self) -> Counter[str]:
        return Counter(r.type for r in self.resources.values() if r.type != "pulumi:pulumi:Stack")

    def counts_by_component(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for r in self.resources.values():
            if not r.custom or r.type.startswith("pulumi:providers:"):
                continue
            component = self.component_of(r)
            counts[f"{component.type} {component.name}" if component else "(stack)"] += 1
        return counts

    def to_json(self) -> str:
        doc = {
            "stack": self.stack,
            "project": self.project,
            "resources": [r.as_json() for r in self.ordered()],
            "outputs": self.outputs,
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
