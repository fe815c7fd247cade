"""The resource graph the offline engine records, and its stable JSON form."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SECRET = "[secret]"
"""What a secret value looks like anywhere the graph is written or printed."""
# Components the Kubernetes provider implements (kustomize directories, YAML sets): each
# applies objects, like a custom resource, though the engine records it as a component.
REMOTE_COMPONENT_PREFIXES = ("kubernetes:kustomize/", "kubernetes:yaml/")


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

    @property
    def applies(self) -> bool:
        """It creates something (a cloud or Kubernetes object, a set of manifests); providers
        and kubeforge's own components only group and configure."""
        if self.type.startswith("pulumi:"):
            return False
        return self.custom or self.type.startswith(REMOTE_COMPONENT_PREFIXES)

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


class GraphFileError(ValueError):
    """A saved graph that is not one kubeforge wrote; the message says where."""


def _text(value: Any, source: str, where: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 4096:
        raise GraphFileError(f"{source}: {where}: expected a string of at most 4096 characters")
    return value


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
            if not r.applies:
                continue
            component = self.component_of(r)
            counts[f"{component.type} {component.name}" if component else "(stack)"] += 1
        return counts

    def critical_path(self) -> list[RecordedResource]:
        """The longest chain of resources that create something, each waiting for the one
        before: what bounds how long ``pulumi up`` takes when everything else runs in parallel.

        A resource waits for its dependencies, its provider and its parent (the SDK registers
        a child only once its parent component is registered, which waits for the component's
        own dependencies), so those are the edges; providers and components add no length.
        """
        memo: dict[str, tuple[int, tuple[str, ...]]] = {}

        def waits_for(r: RecordedResource) -> set[str]:
            edges = set(r.dependencies)
            if r.parent:
                edges.add(r.parent)
            if r.provider:
                edges.add(r.provider)
            return {e for e in edges if e in self.resources}

        def longest(urn: str) -> tuple[int, tuple[str, ...]]:
            if urn in memo:
                return memo[urn]
            memo[urn] = (0, ())  # a cycle (there is none in a valid graph) ends here
            r = self.resources[urn]
            best: tuple[int, tuple[str, ...]] = (0, ())
            for before in sorted(waits_for(r)):
                candidate = longest(before)
                if candidate[0] > best[0]:
                    best = candidate
            result = (best[0] + 1, (*best[1], urn)) if r.applies else best
            memo[urn] = result
            return result

        chains = [longest(urn) for urn in sorted(self.resources)]
        length, path = max(chains, default=(0, ()), key=lambda c: c[0])
        return [self.resources[u] for u in path]

    @classmethod
    def from_json(cls, text: str, *, source: str = "the graph file") -> "ResourceGraph":
        """A graph ``kubeforge preview --json`` wrote. The file is input like any config: its
        shape is checked and a bad one is one message (:class:`GraphFileError`)."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise GraphFileError(f"{source}: not JSON ({str(exc)[:80]})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
            raise GraphFileError(f"{source}: not a resource graph (expected the output of kubeforge preview --json)")
        graph = cls(stack=_text(doc.get("stack"), source, "stack"), project=_text(doc.get("project"), source, "project"))
        for i, item in enumerate(doc["resources"]):
            where = f"resources[{i}]"
            if not isinstance(item, dict):
                raise GraphFileError(f"{source}: {where}: expected an object")
            inputs, options = item.get("inputs", {}), item.get("options", {})
            dependencies = item.get("dependencies", [])
            if not isinstance(inputs, dict) or not isinstance(options, dict) or not isinstance(dependencies, list):
                raise GraphFileError(f"{source}: {where}: inputs and options are objects, dependencies a list")
            urn = _text(item.get("urn"), source, f"{where}.urn")
            graph.resources[urn] = RecordedResource(
                urn=urn,
                type=_text(item.get("type"), source, f"{where}.type"),
                name=_text(item.get("name"), source, f"{where}.name"),
                parent=_text(item.get("parent"), source, f"{where}.parent", optional=True),
                dependencies=tuple(_text(d, source, f"{where}.dependencies") for d in dependencies),
                provider=_text(item.get("provider"), source, f"{where}.provider", optional=True),
                custom=bool(item.get("custom")),
                inputs=inputs,
                options=options,
            )
        outputs = doc.get("outputs", {})
        graph.outputs = outputs if isinstance(outputs, dict) else {}
        return graph

    def to_json(self) -> str:
        doc = {
            "stack": self.stack,
            "project": self.project,
            "resources": [r.as_json() for r in self.ordered()],
            "outputs": self.outputs,
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
