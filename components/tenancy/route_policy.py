"""Tenants publish their models through the platform's gateway, under their own path only.

KServe in raw deployment mode creates no route through the gateway (components/ml/serving.py),
so a tenant's editors may write Istio VirtualServices in their namespace (a ClusterRole
aggregated into kubeflow-edit). Upstream keeps those writes from tenants "for security
reasons" (common/istio/kubeflow-istio-resources at 26.03): a VirtualService on the shared
gateway could take over another app's path. A ValidatingAdmissionPolicy makes them safe: in
a tenant namespace, a VirtualService binds only the platform's Gateway (or the mesh), every
HTTP route on the Gateway matches a path under ``/serving/<namespace>/``, it carries no TCP
or TLS route, and it sends traffic only to Services of its own namespace.

Requests still pass the gateway's login (components/access/login.py) and then the tenant
namespace's AuthorizationPolicies: only the tenant's owner and contributors reach its models.
Ref: https://istio.io/latest/docs/reference/config/networking/virtual-service/ ;
https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.access.gateway import gateway_reference
from components.component import ClusterAccess, PlatformComponent
from components.labels import recommended_labels
from components.tenancy.admission import tenant_admission_policy
from kubeforge.config.resolved import ResolvedStack

POLICY_NAME = "kubeforge-tenant-routes"
SERVING_PREFIX = "/serving/"


def variables(gateway: str) -> list[dict[str, str]]:
    return [
        {"name": "prefix", "expression": f"'{SERVING_PREFIX}' + namespaceObject.metadata.name + '/'"},
        {"name": "gateways", "expression": "has(object.spec.gateways) ? object.spec.gateways : []"},
        {"name": "onGateway", "expression": f"variables.gateways.exists(g, g == '{gateway}')"},
        {"name": "http", "expression": "has(object.spec.http) ? object.spec.http : []"},
    ]


def _local(host: str) -> str:
    """CEL: ``host`` is a Service of the object's own namespace (a short name resolves there)."""
    return (f"(!{host}.contains('.') || "
            f"{host}.endsWith('.' + namespaceObject.metadata.name + '.svc.cluster.local'))")


def validations(gateway: str) -> list[dict[str, str]]:
    # CEL evaluated by the API server on every CREATE and UPDATE; tests evaluate the same strings.
    return [
        {"expression": f"variables.gateways.all(g, g == 'mesh' || g == '{gateway}')",
         "messageExpression": f"'VirtualServices in ' + namespaceObject.metadata.name + ' bind only {gateway} or "
                              "the mesh'", "reason": "Forbidden"},
        {"expression": "!variables.onGateway || (variables.http.size() > 0 && variables.http.all(r, "
                       "has(r.match) && r.match.size() > 0 && r.match.all(m, has(m.uri) && has(m.uri.prefix) && "
                       "m.uri.prefix.startsWith(variables.prefix))))",
         "messageExpression": "'routes on the platform gateway match only paths under ' + variables.prefix",
         "reason": "Forbidden"},
        {"expression": "!variables.onGateway || (!has(object.spec.tcp) && !has(object.spec.tls))",
         "messageExpression": "'only HTTP routes on the platform gateway'", "reason": "Forbidden"},
        {"expression": "variables.http.all(r, !has(r.delegate) && "
                       f"(!has(r.route) || r.route.all(d, {_local('d.destination.host')})) && "
                       f"(!has(r.mirror) || {_local('r.mirror.host')}))",
         "messageExpression": "'routes send traffic only to Services in ' + namespaceObject.metadata.name",
         "reason": "Forbidden"},
    ]


@dataclass(frozen=True)
class TenantRoutePolicyArgs:
    gateway: str
    """``<namespace>/<name>`` of the platform's Gateway."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class TenantRoutePolicy(PlatformComponent):
    """Tenants' editors may route their models through the gateway, under their own path."""

    key = "tenantRoutePolicy"
    type_token = "kubeforge:tenancy:TenantRoutePolicy"
    args_type = TenantRoutePolicyArgs
    concern = "tenancy"
    depends_on = ("istio",)

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TenantRoutePolicyArgs]:
        if "kserve" not in stack.components or "istio" not in stack.components or stack.access is None:
            return {}
        return {cls.default_name(): TenantRoutePolicyArgs(gateway=gateway_reference(stack), provider=cluster.provider)}

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return None  # cluster-scoped

    def __init__(self, name: str, args: TenantRoutePolicyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        labels = recommended_labels(name=POLICY_NAME, instance=name, component=self.concern)
        binding = tenant_admission_policy(
            name, policy_name=POLICY_NAME, labels=labels, provider=args.provider, parent=self,
            resource_rules=[{"apiGroups": ["networking.istio.io"], "apiVersions": ["*"],
                             "resources": ["virtualservices"], "operations": ["CREATE", "UPDATE"]}],
            variables=variables(args.gateway), validations=validations(args.gateway),
        )
        # Only once the policy holds: editors may write VirtualServices (aggregated into
        # kubeflow-edit, and so kubeflow-admin).
        k8s.rbac.v1.ClusterRole(
            f"{name}-editors",
            metadata={"name": "kubeforge-kubeflow-serving-routes", "labels": {
                **labels, "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit": "true"}},
            rules=[{"apiGroups": ["networking.istio.io"], "resources": ["virtualservices"],
                    "verbs": ["create", "update", "patch", "delete"]}],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[binding]),
        )
        self.register_outputs({"policy": POLICY_NAME})
