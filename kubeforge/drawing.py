"""``kubeforge graph``: the platform's components and what each waits for, as Mermaid or DOT,
with the install's critical path marked (the longest chain of resources that wait for one
another, :meth:`ResourceGraph.critical_path`).

A component is a kubeforge component resource (``kubeforge:<concern>:<Name>``); it waits for
another where one of its resources depends on (or is configured by a provider of) one of the
other's. Arrows point in install order: from what is created first to what waits for it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from kubeforge.engine.graph import RecordedResource, ResourceGraph

CRITICAL = "#dd3333"  # 6-digit hex: Graphviz reads no shorthand


@dataclass(frozen=True)
class ComponentGraph:
    nodes: dict[str, str]
    """Component instance name -> its type token."""
    edges: list[tuple[str, str]]
    """(first, then): ``then`` waits for ``first``."""
    critical_nodes: set[str]
    critical_edges: set[tuple[str, str]]


def _is_component(resource: RecordedResource) -> bool:
    return resource.type.startswith("kubeforge:") and not resource.custom


def component_graph(graph: ResourceGraph) -> ComponentGraph:
    owner: dict[str, str] = {}
    nodes: dict[str, str] = {}
    for resource in graph.ordered():
        component = resource if _is_component(resource) else graph.component_of(resource)
        if component is None:
            continue
        owner[resource.urn] = component.name
        if resource is component or resource.applies:
            nodes.setdefault(component.name, component.type)
    edges: set[tuple[str, str]] = set()
    for resource in graph.ordered():
        then = owner.get(resource.urn)
        if then is None or not (resource.applies or _is_component(resource)):
            continue
        for before in (*resource.dependencies, *([resource.provider] if resource.provider else [])):
            first = owner.get(before)
            if first is not None and first != then:
                edges.add((first, then))
    path = [owner[r.urn] for r in graph.critical_path() if r.urn in owner]
    critical_edges = {(a, b) for a, b in zip(path, path[1:]) if a != b}
    edges = _reduced(edges) | critical_edges
    used = {n for edge in edges for n in edge} | set(path)
    nodes = {name: type_ for name, type_ in nodes.items() if name in used or not edges}
    return ComponentGraph(nodes=dict(sorted(nodes.items())), edges=sorted(edges), critical_nodes=set(path),
                          critical_edges=critical_edges)


def _reduced(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The transitive reduction: an arrow a -> c is left out where a -> ... -> c already says it
    (every component waits for the cluster; the picture shows it once, through namespaces)."""
    after: dict[str, set[str]] = {}
    for first, then in edges:
        after.setdefault(first, set()).add(then)

    def reachable(start: str) -> set[str]:
        seen, stack = set(), list(after.get(start, ()))
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(after.get(node, ()))
        return seen

    kept = set()
    for first, then in edges:
        others = after[first] - {then}
        if not any(then in reachable(o) or then == o for o in others):
            kept.add((first, then))
    return kept


def _id(name: str) -> str:
    return "c_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _label(name: str, type_: str) -> str:
    return f"{name}<br/><small>{type_.split(':')[-1]}</small>"


def mermaid(drawn: ComponentGraph) -> str:
    lines = ["flowchart LR"]
    lines += [f'  {_id(n)}["{_label(n, t)}"]' for n, t in drawn.nodes.items()]
    critical_links = []
    for i, (first, then) in enumerate(drawn.edges):
        lines.append(f"  {_id(first)} --> {_id(then)}")
        if (first, then) in drawn.critical_edges:
            critical_links.append(str(i))
    lines.append(f"  classDef critical stroke:{CRITICAL},stroke-width:3px")
    if drawn.critical_nodes:
        lines.append(f"  class {','.join(_id(n) for n in sorted(drawn.critical_nodes))} critical")
    if critical_links:
        lines.append(f"  linkStyle {','.join(critical_links)} stroke:{CRITICAL},stroke-width:3px")
    return "\n".join(lines) + "\n"


def dot(drawn: ComponentGraph) -> str:
    lines = ["digraph kubeforge {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];']
    for name, type_ in drawn.nodes.items():
        style = f', color="{CRITICAL}", penwidth=3' if name in drawn.critical_nodes else ""
        lines.append(f'  {_id(name)} [label="{name}\\n{type_.split(":")[-1]}"{style}];')
    for first, then in drawn.edges:
        style = f' [color="{CRITICAL}", penwidth=3]' if (first, then) in drawn.critical_edges else ""
        lines.append(f"  {_id(first)} -> {_id(then)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


class GraphvizMissing(Exception):
    """SVG was asked for where Graphviz's ``dot`` is not installed."""


def svg(drawn: ComponentGraph) -> str:
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissing("--format svg needs Graphviz's dot (e.g. apt install graphviz); "
                              "--format dot or mermaid need nothing")
    try:
        done = subprocess.run([binary, "-Tsvg"], input=dot(drawn), capture_output=True, text=True, timeout=120,
                              check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise GraphvizMissing(f"Graphviz's dot could not draw the graph ({type(exc).__name__}); "
                              "--format dot writes its input") from None
    return done.stdout
