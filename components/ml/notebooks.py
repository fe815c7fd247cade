"""Kubeflow notebooks: controllers and web apps from the distribution, with kubeforge's spawner.

The Jupyter web app reads its form's defaults from ``/etc/config/spawner_ui_config.yaml``,
the ConfigMap mounted as volume ``config-volume`` of ``jupyter-web-app-deployment``. The
distribution generates that ConfigMap with a content hash in its name
(applications/jupyter/jupyter-web-app/upstream/base/kustomization.yaml at 26.03), so
kubeforge cannot write into it: it creates its own ConfigMap from
:func:`components.ml.spawner.spawner_config` and points the volume at it with a
server-side-apply patch, applied after the manifests. The app re-reads the file, so a new
spawner configuration needs no restart.

The patch carries the notebooks version, so an upgrade (which re-applies upstream's
Deployment) re-applies the patch after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.component import ClusterAccess, PlatformComponent
from components.helm import manifest_set
from components.labels import recommended_labels
from components.ml.spawner import spawner_config
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack

SPAWNER_CONFIG_MAP = "kubeforge-jupyter-spawner"
JUPYTER_DEPLOYMENT = "jupyter-web-app-deployment"
CONFIG_VOLUME = "config-volume"
SPAWNER_FILE = "spawner_ui_config.yaml"


@dataclass(frozen=True)
class NotebooksArgs:
    component: ResolvedComponent
    """The pinned notebook controller, web apps, TensorBoard and PVC viewer manifests."""
    spawner: dict[str, Any]
    """The spawner configuration document (components/ml/spawner.py)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class Notebooks(PlatformComponent):
    """Notebook controller, Jupyter/volumes/TensorBoards web apps, PVC viewer; kubeforge's spawner."""

    key = "notebooks"
    type_token = "kubeforge:ml:Notebooks"
    section = "components.notebooks"
    # VirtualServices and AuthorizationPolicies (Istio), the PVC viewer's Issuer and
    # Certificate (cert-manager).
    depends_on = ("namespaces", "istio", "certManager")
    args_type = NotebooksArgs
    concern = "ml"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, NotebooksArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): NotebooksArgs(component=component, spawner=spawner_config(stack),
                                                  provider=cluster.provider)}

    def __init__(self, name: str, args: NotebooksArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        namespace = args.component.namespace
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = recommended_labels(name="jupyter-web-app", instance=name, component=self.concern)
        self.manifests = manifest_set(f"{name}-manifests", args.component, provider=args.provider,
                                      opts=pulumi.ResourceOptions(parent=self))
        self.spawner = k8s.core.v1.ConfigMap(
            f"{name}-spawner",
            metadata={"name": SPAWNER_CONFIG_MAP, "namespace": namespace, "labels": labels},
            data={SPAWNER_FILE: yaml.safe_dump(args.spawner, sort_keys=False)},
            opts=child,
        )
        k8s.apps.v1.DeploymentPatch(
            f"{name}-spawner-volume",
            metadata={"name": JUPYTER_DEPLOYMENT, "namespace": namespace, "annotations": {
                # Take the field from the manifests' field manager (server-side apply).
                # Ref: https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
                "pulumi.com/patchForce": "true",
                "kubeforge.io/notebooks-version": args.component.version,
            }},
            spec={"template": {"spec": {"volumes": [
                {"name": CONFIG_VOLUME, "configMap": {"name": SPAWNER_CONFIG_MAP}},
            ]}}},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[*self.manifests, self.spawner])),
        )
        self.register_outputs({"version": args.component.version, "spawnerConfigMap": SPAWNER_CONFIG_MAP})
