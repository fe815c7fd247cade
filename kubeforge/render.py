"""Render a recorded graph as files: every Kubernetes object, every Helm release and manifest set.

Layout (stable paths, so a render can be diffed and reviewed):
- ``<namespace or _cluster>/<Kind>-<name>.yaml``: a Kubernetes object as it will be applied;
- ``<namespace or _cluster>/<Kind>-<name>.patch.yaml``: a server-side-apply patch of an
  object kubeforge does not own (e.g. labels and taints on existing nodes);
- ``<namespace>/HelmRelease-<name>.yaml``: chart repository, chart, exact version, values;
- ``_cluster/Manifests-<name>.yaml``: upstream manifest URLs and their version.
Secrets appear as ``[secret]``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from kubeforge.engine.graph import RecordedResource, ResourceGraph

MARKER = ".kubeforge-render"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
MANIFEST_TYPES = ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile", "kubernetes:kustomize/v2:Directory")


class RenderError(Exception):
    pass


def _doc(resource: RecordedResource) -> tuple[str, str, dict[str, Any]] | None:
    """(directory, file name, document) for one resource, or None if it is not rendered."""
    t = resource.type
    inputs = resource.inputs
    if t == HELM_RELEASE:
        chart = inputs.get("chart")
        repo = (inputs.get("repositoryOpts") or {}).get("repo")
        doc = {
            "kind": "HelmRelease",
            "name": inputs.get("name"),
            "namespace": inputs.get("namespace"),
            "source": {"repository": repo, "chart": chart},
            "version": inputs.get("version"),
            "values": inputs.get("values", {}),
        }
        return inputs.get("namespace") or "_cluster", f"HelmRelease-{inputs.get('name')}.yaml", doc
    if t in MANIFEST_TYPES:
        files = inputs.get("files") or [inputs[k] for k in ("file", "directory") if k in inputs]
        doc = {"kind": "Manifests", "name": resource.name, "source": {"urls": files}}
        if inputs.get("namespace"):
            doc["namespace"] = inputs["namespace"]
        return "_cluster", f"Manifests-{resource.name}.yaml", doc
    if not t.startswith("kubernetes:") or t.startswith("kubernetes:helm") or t.startswith("kubernetes:yaml"):
        return None
    if "kind" not in inputs or "apiVersion" not in inputs:
        return None
    meta = inputs.get("metadata") or {}
    directory = meta.get("namespace") or "_cluster"
    suffix = ".patch.yaml" if t.endswith("Patch") else ".yaml"
    return directory, f"{inputs['kind']}-{meta.get('name')}{suffix}", inputs


def render(graph: ResourceGraph, out: Path) -> list[Path]:
    """Write the graph's Kubernetes objects under ``out``; returns the files written."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise RenderError(f"{out} is not empty and is not a kubeforge render; choose an empty directory")
    docs: dict[Path, dict[str, Any]] = {}
    for resource in graph.ordered():
        rendered = _doc(resource)
        if rendered is None:
            continue
        directory, name, doc = rendered
        path = Path(directory) / name
        if path in docs:
            raise RenderError(f"two resources render to {path}: {resource.urn} and an earlier one")
        docs[path] = doc
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text(f"stack: {graph.stack}\n")
    for path, doc in sorted(docs.items()):
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(doc, sort_keys=True, default_flow_style=False))
    return [out / p for p in sorted(docs)]
