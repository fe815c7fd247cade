"""The platform's front door: the ingress gateway's certificate, Kubeflow's Gateway on it,
and the mesh-wide default-deny that every Kubeflow app's own AuthorizationPolicy opens.

Kubeflow's VirtualServices all bind ``kubeflow/kubeflow-gateway``; the distribution serves it
on plain HTTP (common/istio/kubeflow-istio-resources/base at 26.03). kubeforge serves the
same Gateway on HTTPS only, with a certificate from the platform's ClusterIssuer, and
redirects HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.access.cert_manager import CLUSTER_ISSUER
from components.access.istio import INGRESS_GATEWAY
from components.component import ClusterAccess, PlatformComponent
from components.helm import custom_resource
from components.labels import recommended_labels
from kubeforge.config.resolved import ResolvedStack

GATEWAY_NAME = "kubeflow-gateway"
"""The name every Kubeflow VirtualService binds (with the kubeflow namespace)."""
TLS_SECRET = "kubeflow-gateway-tls"
GATEWAY_SELECTOR = {"istio": "ingressgateway"}
GATEWAY_POD_LABELS = {"app": INGRESS_GATEWAY}


ISTIO_NETWORKING_RESOURCES = ("destinationrules", "envoyfilters", "gateways", "proxyconfigs", "serviceentries",
                              "sidecars", "virtualservices", "workloadentries", "workloadgroups")


@dataclass(frozen=True)
class IngressGatewayArgs:
    hostname: str
    """The platform's DNS name: the certificate's only name and the Gateway's only host."""
    mesh_namespace: str
    """Istio's namespace: the gateway runs there, so its TLS Secret lives there too."""
    gateway_namespace: str
    """Kubeflow's namespace, where Kubeflow's VirtualServices look for the Gateway."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def gateway_reference(stack: ResolvedStack) -> str:
    """``<namespace>/kubeflow-gateway``, as VirtualServices name it."""
    return f"{stack.components['kubeflowCommon'].namespace}/{GATEWAY_NAME}"


def certificate_spec(hostname: str) -> dict[str, Any]:
    """The gateway's certificate: one name, an ECDSA key replaced at each renewal."""
    return {
        "secretName": TLS_SECRET,
        "dnsNames": [hostname],
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": CLUSTER_ISSUER},
        # Ref: https://cert-manager.io/docs/usage/certificate/#configuring-private-key-rotation
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
    }


def gateway_spec(hostname: str) -> dict[str, Any]:
    """HTTPS on 443 with the certificate's Secret; HTTP on 80 only redirects.
    Ref: https://istio.io/latest/docs/reference/config/networking/gateway/"""
    return {
        "selector": dict(GATEWAY_SELECTOR),
        "servers": [
            {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [hostname],
             "tls": {"httpsRedirect": True}},
            {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": [hostname],
             "tls": {"mode": "SIMPLE", "credentialName": TLS_SECRET, "minProtocolVersion": "TLSV1_2"}},
        ],
    }


class IngressGateway(PlatformComponent):
    """TLS certificate, Kubeflow's Gateway, and the mesh's default-deny with the gateway let in."""

    key = "ingressGateway"
    type_token = "kubeforge:access:IngressGateway"
    depends_on = ("namespaces", "istio", "certManager")
    args_type = IngressGatewayArgs
    concern = "access"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, IngressGatewayArgs]:
        istio = stack.components.get("istio")
        if istio is None or stack.access is None:
            return {}
        # istio requires certManager and kubeflowCommon (catalog), checked at load.
        return {cls.default_name(): IngressGatewayArgs(
            hostname=stack.access.hostname, mesh_namespace=istio.namespace,
            gateway_namespace=stack.components["kubeflowCommon"].namespace, provider=cluster.provider,
        )}

    def __init__(self, name: str, args: IngressGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = recommended_labels(name="ingress-gateway", instance=name, component=self.concern)

        def custom(suffix: str, api_version: str, kind: str, object_name: str, namespace: str, spec: dict[str, Any],
                   depends: list[pulumi.Resource] | None = None) -> k8s.apiextensions.CustomResource:
            return custom_resource(f"{name}-{suffix}", api_version, kind, name=object_name, namespace=namespace,
                                   labels=labels, spec=spec,
                                   opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=depends)))

        self.certificate = custom("certificate", "cert-manager.io/v1", "Certificate", TLS_SECRET,
                                  args.mesh_namespace, certificate_spec(args.hostname))
        self.gateway = custom("gateway", "networking.istio.io/v1", "Gateway", GATEWAY_NAME, args.gateway_namespace,
                              gateway_spec(args.hostname), depends=[self.certificate])
        # Mesh-wide default deny (an ALLOW policy without rules, in the root namespace): a
        # workload in the mesh answers only what an AuthorizationPolicy of its own allows, as
        # every Kubeflow app ships one. The gateway itself takes any request; what reaches an
        # app behind it is decided by the login chain (components/access/login.py).
        # Ref: https://istio.io/latest/docs/reference/config/security/authorization-policy/ ;
        # common/istio/istio-install/base/{deny_all_authorizationpolicy,gateway_authorizationpolicy}.yaml (26.03)
        custom("deny-all", "security.istio.io/v1", "AuthorizationPolicy", "global-deny-all", args.mesh_namespace, {})
        custom("gateway-allow", "security.istio.io/v1", "AuthorizationPolicy", INGRESS_GATEWAY, args.mesh_namespace,
               {"selector": {"matchLabels": dict(GATEWAY_POD_LABELS)}, "action": "ALLOW", "rules": [{}]})
        # Tenants' editors and viewers may read the mesh objects in their namespace (the
        # distribution's kubeflow-istio-view, from the kustomization kubeforge replaces):
        # aggregated into kubeflow-view, and so into kubeflow-edit and kubeflow-admin.
        # Writes stay with the platform (upstream comments them out "for security reasons").
        # Ref: common/istio/kubeflow-istio-resources/base/cluster-roles.yaml (26.03)
        k8s.rbac.v1.ClusterRole(
            f"{name}-istio-view",
            metadata={"name": "kubeforge-kubeflow-istio-view", "labels": {
                **labels, "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-view": "true"}},
            rules=[
                # Named, not "*": the networking.istio.io kinds of Istio 1.28.0
                # (manifests/charts/base/files/crd-all.gen.yaml), so a new kind is not readable unseen.
                {"apiGroups": ["networking.istio.io"], "resources": list(ISTIO_NETWORKING_RESOURCES),
                 "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["security.istio.io"], "resources": ["authorizationpolicies"],
                 "verbs": ["get", "list", "watch"]},
            ],
            opts=child,
        )
        self.register_outputs({"url": f"https://{args.hostname}/"})
