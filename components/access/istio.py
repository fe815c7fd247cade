"""Istio from its Helm charts: CRDs (base), the CNI node agent, istiod and the ingress gateway.

Installed as the Kubeflow community distribution runs it at 26.03 (common/istio/README.md):
sidecars with istio-cni, so no pod needs the privileged istio-init container, and one
extension provider, oauth2-proxy, that the ingress gateway asks before letting a request in
(components/access/login.py wires the rest of that chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.component import ClusterAccess, PlatformComponent
from components.helm import helm_release
from kubeforge.config.resolved import AccessSpec, ResolvedComponent, ResolvedStack

INGRESS_GATEWAY = "istio-ingressgateway"
"""The gateway's release name. The gateway chart labels its pods ``app: <name>`` and
``istio: <name less "istio-">``, the selector Kubeflow's Gateway and policies use."""
INGRESS_SERVICE_ACCOUNT = "istio-ingressgateway-service-account"
"""The principal Kubeflow's web apps and KFAM allow (profiles-config
ISTIO_INGRESS_GATEWAY_PRINCIPAL at 26.03), so the gateway keeps the distribution's name."""
INGRESS_PRINCIPAL = f"cluster.local/ns/istio-system/sa/{INGRESS_SERVICE_ACCOUNT}"
OAUTH2_PROXY_PROVIDER = "oauth2-proxy"
"""The mesh's ext_authz provider name, as the gateway's CUSTOM AuthorizationPolicy names it."""


@dataclass(frozen=True)
class IstioArgs:
    component: ResolvedComponent
    """The pinned Istio charts: base, cni, istiod, gateway."""
    cni: bool
    """Run the Istio CNI node agent instead of privileged init containers."""
    access: AccessSpec
    """How the ingress gateway is exposed."""
    login_service: str | None
    """oauth2-proxy's Service (FQDN) when it is installed: the mesh's ext_authz provider."""
    target: str
    """aws, gcp or onprem: how an internal load balancer is asked for, and where CNI binaries
    live (GKE: /home/kubernetes/bin)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


OAUTH2_PROXY_RELEASE = "oauth2-proxy"
"""oauth2-proxy's release name; its chart names the Service after it."""


def login_service(stack: ResolvedStack) -> str | None:
    """oauth2-proxy's in-cluster Service name, when the stack installs it."""
    login = stack.components.get("oauth2Proxy")
    return f"{OAUTH2_PROXY_RELEASE}.{login.namespace}.svc.cluster.local" if login else None


def oauth2_proxy_extension_provider(service: str) -> dict[str, Any]:
    """The mesh's ext_authz provider for oauth2-proxy, with the headers the distribution passes:
    the ID token (``authorization``) goes upstream, where RequestAuthentication checks it.
    Ref: common/oauth2-proxy/components/istio-external-auth-patches/patches/cm.enable-oauth2-proxy.yaml (26.03)"""
    return {"name": OAUTH2_PROXY_PROVIDER, "envoyExtAuthzHttp": {
        "service": service,
        "port": 80,
        "headersToUpstreamOnAllow": ["authorization", "path", "x-auth-request-email", "x-auth-request-groups",
                                     "x-auth-request-user"],
        "headersToDownstreamOnDeny": ["content-type", "set-cookie"],
        "includeRequestHeadersInCheck": ["authorization", "cookie"],
    }}


def istiod_values(*, cni: bool, oauth2_proxy_service: str | None) -> dict[str, Any]:
    """istiod's values (the chart reads them at the top level; ``_internal_defaults_do_not_set``
    holds its defaults). Ref: ../shared/reference/charts/istiod/1.28.0/values.yaml"""
    values: dict[str, Any] = {
        # Ref: https://istio.io/latest/docs/setup/additional-setup/cni/#installing-with-helm
        "cni": {"enabled": cni},
        "meshConfig": {"accessLogFile": "/dev/stdout"},
        # Dex rotates its signing keys; the distribution refreshes JWKS every minute
        # (common/oauth2-proxy/components/istio-external-auth-patches/patches/deployment.jwt-refresh-interval.yaml).
        "env": {"PILOT_JWT_PUB_KEY_REFRESH_INTERVAL": "1m"},
    }
    if oauth2_proxy_service is not None:
        values["meshConfig"]["extensionProviders"] = [oauth2_proxy_extension_provider(oauth2_proxy_service)]
    return values


def cni_values(target: str) -> dict[str, Any]:
    """The CNI node agent, chained onto the cluster's CNI (the VPC CNI on EKS, GKE's own).

    On GKE the CNI binary directory is /home/kubernetes/bin, and system-node-critical pods
    run outside kube-system only under a quota the gke profile creates.
    Ref: https://istio.io/latest/docs/ambient/install/platform-prerequisites/#google-kubernetes-engine-gke
    """
    values: dict[str, Any] = {"chained": True}
    if target == "gcp":
        # What the chart's gke platform profile sets, spelt out: the profile's own bin-dir
        # detection reads the server version, which a rendered chart does not have
        # (manifests/charts/istio-cni/templates/daemonset.yaml at 1.28.0).
        values.update({"cniBinDir": "/home/kubernetes/bin", "resourceQuotas": {"enabled": True}})
    return values


def gateway_values(access: AccessSpec, target: str) -> dict[str, Any]:
    # The gateway chart labels its pods app: <release> and istio: <release less "istio-">.
    """The ingress gateway: the platform's only way in, on 80 (redirected) and 443."""
    annotations: dict[str, str] = {}
    if access.gateway_service == "LoadBalancer" and access.internal:
        # Ref: https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/#lb-scheme ;
        # https://cloud.google.com/kubernetes-engine/docs/how-to/internal-load-balancing
        annotations = {
            "aws": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
                    "service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
            "gcp": {"networking.gke.io/load-balancer-type": "Internal"},
        }.get(target, {})
    return {
        "serviceAccount": {"name": INGRESS_SERVICE_ACCOUNT},
        "service": {"type": access.gateway_service, "annotations": annotations},
        # Two gateways at least, so a node drain never closes the platform's front door.
        "autoscaling": {"minReplicas": 2},
        "podDisruptionBudget": {"minAvailable": 1},
    }


class Istio(PlatformComponent):
    """The mesh: CRDs, CNI node agent, istiod, and the ingress gateway's Deployment."""

    key = "istio"
    type_token = "kubeforge:access:Istio"
    section = "components.istio"
    depends_on = ("namespaces",)
    args_type = IstioArgs
    concern = "access"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, IstioArgs]:
        component = stack.components.get(cls.key)
        if component is None or stack.access is None:
            return {}
        return {cls.default_name(): IstioArgs(
            component=component,
            cni=getattr(component.settings, "cni", True),
            access=stack.access,
            login_service=login_service(stack),
            target=stack.target,
            provider=cluster.provider,
        )}

    def __init__(self, name: str, args: IstioArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        component = args.component
        child = pulumi.ResourceOptions(parent=self)
        self.base = helm_release(f"{name}-base", component, chart="base", release_name="istio-base",
                                 values={}, overrides=False, provider=args.provider, opts=child)
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[self.base])
        ready: list[pulumi.Resource] = [self.base]
        if args.cni:
            ready.append(helm_release(f"{name}-cni", component, chart="cni", release_name="istio-cni",
                                      values=cni_values(args.target), overrides=False, provider=args.provider,
                                      opts=after_crds))
        self.istiod = helm_release(
            f"{name}-istiod", component, chart="istiod", release_name="istiod",
            values=istiod_values(cni=args.cni, oauth2_proxy_service=args.login_service),
            provider=args.provider,
            # With CNI, pods are only let through once the node agent runs (istio-validation).
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        # The gateway's pods are injected by istiod's webhook (template "gateway"): after it.
        self.gateway = helm_release(
            f"{name}-gateway", component, chart="gateway", release_name=INGRESS_GATEWAY,
            values=gateway_values(args.access, args.target), overrides=False,
            provider=args.provider, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.istiod]),
        )
        self.register_outputs({"version": self.istiod.version})

    def ready(self) -> list[pulumi.Resource]:
        # Dependents need the CRDs and istiod's validation and injection webhooks, not the
        # ingress gateway, whose load balancer can take minutes to be provisioned.
        return [self.base, self.istiod]
