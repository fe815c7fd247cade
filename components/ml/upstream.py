"""Kubeflow's own pieces, applied from the community distribution's kustomizations at the pin.

Each is one catalog component (its manifest URLs and ref come from the catalog) and waits
only for what its manifests need when they are applied: the namespace, and the CRDs or
webhooks of the objects they hold (Istio's VirtualServices and AuthorizationPolicies,
cert-manager's Issuers and Certificates). What a piece needs only at run time (the
dashboard needs Profiles) is the catalog's ``requires``, checked at load; Pulumi creates
the rest in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.helm import manifest_set
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack


@dataclass(frozen=True)
class KubeflowAppArgs:
    component: ResolvedComponent
    """The pinned manifests (kustomize directories of the distribution at its tag)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class KubeflowApp(PlatformComponent):
    """Base of the Kubeflow pieces installed from the distribution's manifests as published."""

    args_type = KubeflowAppArgs
    concern = "ml"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, KubeflowAppArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): KubeflowAppArgs(component=component, provider=cluster.provider)}

    def __init__(self, name: str, args: KubeflowAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.manifests = manifest_set(f"{name}-manifests", args.component, provider=args.provider,
                                      opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"version": args.component.version})


class KubeflowRoles(KubeflowApp):
    """kubeflow-admin, -edit and -view: the aggregated roles Profiles and KFAM bind."""

    key = "kubeflowCommon"
    type_token = "kubeforge:ml:KubeflowRoles"
    section = "components.kubeflowCommon"
    depends_on = ("namespaces",)


class CentralDashboard(KubeflowApp):
    """The central dashboard behind oauth2-proxy (its VirtualService binds the gateway)."""

    key = "dashboard"
    type_token = "kubeforge:ml:CentralDashboard"
    section = "components.dashboard"
    depends_on = ("namespaces", "istio")


class Profiles(KubeflowApp):
    """The Profiles controller and KFAM (a VirtualService and AuthorizationPolicy with them)."""

    key = "profiles"
    type_token = "kubeforge:ml:Profiles"
    section = "components.profiles"
    depends_on = ("namespaces", "istio")


class PodDefaultsWebhook(KubeflowApp):
    """The PodDefaults admission webhook, its serving certificate from cert-manager."""

    key = "podDefaults"
    type_token = "kubeforge:ml:PodDefaultsWebhook"
    section = "components.podDefaults"
    depends_on = ("namespaces", "certManager")


class Katib(KubeflowApp):
    """Katib: experiments whose trials may be TrainJobs (katib-config trialResources at v0.19.0
    lists TrainJob.v1alpha1.trainer.kubeflow.org)."""

    key = "katib"
    type_token = "kubeforge:ml:Katib"
    section = "components.katib"
    depends_on = ("namespaces", "istio", "certManager")
    # Katib's controller watches only the trial kinds whose CRDs exist when it starts.
    after = ("training", "trainingOperator")
