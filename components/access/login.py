"""Login: Dex federating the organisation's directory, oauth2-proxy in front of every app.

The chain, as the Kubeflow community distribution wires it at 26.03 (common/oauth2-proxy,
common/dex), with kubeforge's own secrets instead of the distribution's fixed ones:

1. a request without an ``Authorization`` header reaches the ingress gateway, whose CUSTOM
   AuthorizationPolicy asks oauth2-proxy (the mesh's ext_authz provider, components/access/istio.py);
2. without a session, oauth2-proxy sends the browser to Dex (``/dex/auth``), which logs the
   user in through the configured connector and returns to ``/oauth2/callback``;
3. with a session, oauth2-proxy hands back ``Authorization: Bearer <Dex ID token>``;
4. the gateway's RequestAuthentication verifies that token against Dex's keys and writes
   the ``email`` claim into ``kubeflow-userid``, the header every Kubeflow app reads;
5. a DENY policy refuses any request without a verified token.

Dex's issuer is its in-cluster URL (as upstream), so oauth2-proxy and istiod reach it without
leaving the cluster; browsers reach it through the gateway's ``/dex/`` route. The client
secret Dex and oauth2-proxy share, the cookie secret and the demo user's password are
generated (pulumi_random) and held in Secrets; Helm values carry no secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.access.gateway import GATEWAY_POD_LABELS, gateway_reference
from components.access.istio import OAUTH2_PROXY_PROVIDER, OAUTH2_PROXY_RELEASE
from components.component import ClusterAccess, PlatformComponent
from components.helm import custom_resource, helm_release, image_tag
from components.labels import recommended_labels
from kubeforge.config.resolved import AccessSpec, ResolvedComponent, ResolvedStack

DEX_RELEASE = "dex"
DEX_PORT = 5556
CLIENT_ID = "kubeflow-oidc-authservice"
"""oauth2-proxy's client id at Dex (the distribution's, so its docs still apply)."""
USERID_HEADER = "kubeflow-userid"
"""The header Kubeflow's apps, KFAM and the profile controller read the user from
(USERID_HEADER at 26.03; prefix empty)."""
GROUPS_HEADER = "kubeflow-groups"
DEMO_USER = "user@example.com"
DEX_SECRET = "dex-kubeforge"
OAUTH2_PROXY_SECRET = "oauth2-proxy-kubeforge"
# Paths the login itself serves: never behind the login.
LOGIN_PATHS = ["/dex/*", "/dex/**", "/oauth2/*"]


@dataclass(frozen=True)
class LoginArgs:
    dex: ResolvedComponent
    """The pinned Dex chart."""
    oauth2_proxy: ResolvedComponent
    """The pinned oauth2-proxy chart."""
    access: AccessSpec
    """Hostname and identity connector."""
    mesh_namespace: str
    """Istio's namespace, where the gateway's policies live."""
    gateway: str
    """``<namespace>/<name>`` of the Gateway the login's routes bind."""
    identity_secret: pulumi.Output[str] | None
    """The connector's secret (``kubeforge:identitySecret``); None with the demo user."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def dex_issuer(dex_namespace: str) -> str:
    return f"http://{DEX_RELEASE}.{dex_namespace}.svc.cluster.local:{DEX_PORT}/dex"


def dex_connector(access: AccessSpec) -> dict[str, Any] | None:
    """Dex's connector for the organisation's directory; its secret is ``$CONNECTOR_SECRET``,
    which Dex expands from its environment in connector configs only (cmd/dex/config.go at
    v2.45.0, expandEnvInMap). Ref: https://dexidp.io/docs/connectors/oidc/ ; https://dexidp.io/docs/connectors/ldap/"""
    identity = access.identity
    callback = f"https://{access.hostname}/dex/callback"
    if identity.oidc is not None:
        oidc = identity.oidc
        return {"type": "oidc", "id": "oidc", "name": oidc.display_name, "config": {
            "issuer": oidc.issuer,
            "clientID": oidc.client_id,
            "clientSecret": "$CONNECTOR_SECRET",
            "redirectURI": callback,
            "scopes": ["openid", "profile", "email"],
        }}
    if identity.ldap is not None:
        ldap = identity.ldap
        return {"type": "ldap", "id": "ldap", "name": ldap.display_name, "config": {
            "host": ldap.host,
            "startTLS": ldap.start_tls,
            "bindDN": ldap.bind_dn,
            "bindPW": "$CONNECTOR_SECRET",
            "usernamePrompt": "User name",
            "userSearch": {
                "baseDN": ldap.user_base_dn,
                "filter": ldap.user_filter,
                "username": ldap.username_attribute,
                "idAttr": "DN",
                "emailAttr": ldap.email_attribute,
                "nameAttr": ldap.username_attribute,
            },
        }}
    return None


def dex_config(access: AccessSpec, dex_namespace: str) -> dict[str, Any]:
    """Dex's configuration (the chart renders it into its config Secret); secrets come from
    the environment: the client's ``secretEnv``, the connector's ``$CONNECTOR_SECRET``, the
    demo user's ``hashFromEnv``. Ref: https://dexidp.io/docs/configuration/"""
    config: dict[str, Any] = {
        "issuer": dex_issuer(dex_namespace),
        "storage": {"type": "kubernetes", "config": {"inCluster": True}},
        "web": {"http": f"0.0.0.0:{DEX_PORT}"},
        "oauth2": {"skipApprovalScreen": True},
        "staticClients": [{
            "id": CLIENT_ID,
            "name": "Kubeflow",
            "redirectURIs": [f"https://{access.hostname}/oauth2/callback"],
            "secretEnv": "OAUTH2_PROXY_CLIENT_SECRET",
        }],
        "enablePasswordDB": access.identity.demo_user,
    }
    connector = dex_connector(access)
    if connector is not None:
        config["connectors"] = [connector]
    if access.identity.demo_user:
        config["staticPasswords"] = [{
            "email": DEMO_USER, "username": "user", "userID": "kubeforge-demo-user", "hashFromEnv": "DEMO_USER_HASH",
        }]
    return config


def oauth2_proxy_config(access: AccessSpec, dex_namespace: str) -> str:
    """oauth2-proxy's configuration file: the distribution's (common/oauth2-proxy/base/
    oauth2_proxy.cfg at 26.03) with an absolute redirect on the platform's HTTPS name and
    secure cookies. Every value is a constant or the validated hostname.
    Ref: https://oauth2-proxy.github.io/oauth2-proxy/configuration/overview"""
    issuer = dex_issuer(dex_namespace)
    lines = {
        "provider": '"oidc"',
        "oidc_issuer_url": f'"{issuer}"',
        "skip_oidc_discovery": "true",
        "login_url": '"/dex/auth"',
        "redeem_url": f'"{issuer}/token"',
        "oidc_jwks_url": f'"{issuer}/keys"',
        "scope": '"profile email groups openid"',
        "email_domains": '[ "*" ]',
        "upstreams": '[ "static://200" ]',
        "skip_auth_routes": '[ "^/dex/" ]',
        "api_routes": '[ "/api/", "/apis/", "^/ml_metadata" ]',
        "redirect_url": f'"https://{access.hostname}/oauth2/callback"',
        "cookie_name": '"oauth2_proxy_kubeflow"',
        "cookie_secure": "true",
        "cookie_expire": '"24h"',
        "code_challenge_method": '"S256"',
        "set_authorization_header": "true",
        "set_xauthrequest": "true",
        "skip_provider_button": "true",
    }
    return "".join(f"{key} = {value}\n" for key, value in lines.items())


def dex_values(args: LoginArgs) -> dict[str, Any]:
    return {
        **image_tag(args.dex, "dex"),
        "config": dex_config(args.access, args.dex.namespace),
        "envFrom": [{"secretRef": {"name": DEX_SECRET}}],
        "replicaCount": 2,
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }


def oauth2_proxy_values(args: LoginArgs) -> dict[str, Any]:
    return {
        **image_tag(args.oauth2_proxy, "oauth2-proxy"),
        # client-id, client-secret, cookie-secret: kubeforge's Secret (templates/_helpers.tpl secretName).
        "config": {"existingSecret": OAUTH2_PROXY_SECRET, "configFile": oauth2_proxy_config(
            args.access, args.dex.namespace)},
        "proxyVarsAsSecrets": True,
        "replicaCount": 2,
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    }


def ext_authz_policy() -> dict[str, Any]:
    """Requests without a token go through oauth2-proxy (the mesh's ext_authz provider)."""
    return {
        "selector": {"matchLabels": dict(GATEWAY_POD_LABELS)},
        "action": "CUSTOM",
        "provider": {"name": OAUTH2_PROXY_PROVIDER},
        "rules": [{"to": [{"operation": {"notPaths": LOGIN_PATHS}}],
                   "when": [{"key": "request.headers[authorization]", "notValues": ["*"]}]}],
    }


def require_token_policy() -> dict[str, Any]:
    """Nothing but the login itself is served without a verified token."""
    return {
        "selector": {"matchLabels": dict(GATEWAY_POD_LABELS)},
        "action": "DENY",
        "rules": [{"from": [{"source": {"notRequestPrincipals": ["*"]}}],
                   "to": [{"operation": {"notPaths": LOGIN_PATHS}}]}],
    }


def token_check(dex_namespace: str) -> dict[str, Any]:
    """The gateway verifies Dex's ID token and passes the user's e-mail as ``kubeflow-userid``."""
    issuer = dex_issuer(dex_namespace)
    return {
        "selector": {"matchLabels": dict(GATEWAY_POD_LABELS)},
        "jwtRules": [{
            "issuer": issuer,
            "jwksUri": f"{issuer}/keys",
            "forwardOriginalToken": True,
            "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}],
            "outputClaimToHeaders": [{"header": USERID_HEADER, "claim": "email"},
                                     {"header": GROUPS_HEADER, "claim": "groups"}],
        }],
    }


def route(gateway: str, prefix: str, host: str, port: int) -> dict[str, Any]:
    return {"gateways": [gateway], "hosts": ["*"], "http": [{
        "match": [{"uri": {"prefix": prefix}}],
        "route": [{"destination": {"host": host, "port": {"number": port}}}],
    }]}


class Login(PlatformComponent):
    """Dex and oauth2-proxy (two catalog components that share a client), and the gateway's
    policies that put every app behind them."""

    key = "login"
    type_token = "kubeforge:access:Login"
    depends_on = ("namespaces", "istio")
    args_type = LoginArgs
    concern = "access"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, LoginArgs]:
        dex, oauth2_proxy = stack.components.get("dex"), stack.components.get("oauth2Proxy")
        if dex is None or oauth2_proxy is None or stack.access is None:
            return {}
        return {cls.default_name(): LoginArgs(
            dex=dex, oauth2_proxy=oauth2_proxy, access=stack.access,
            mesh_namespace=stack.components["istio"].namespace, gateway=gateway_reference(stack),
            identity_secret=cluster.identity_secret, provider=cluster.provider,
        )}

    def __init__(self, name: str, args: LoginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = recommended_labels(name="login", instance=name, component=self.concern)
        dex_ns, proxy_ns = args.dex.namespace, args.oauth2_proxy.namespace

        client_secret = random.RandomPassword(f"{name}-client-secret", length=40, special=False,
                                              opts=pulumi.ResourceOptions(parent=self))
        # oauth2-proxy takes a cookie secret of 16, 24 or 32 bytes.
        cookie_secret = random.RandomPassword(f"{name}-cookie-secret", length=32, special=False,
                                              opts=pulumi.ResourceOptions(parent=self))
        dex_env: dict[str, Any] = {"OAUTH2_PROXY_CLIENT_SECRET": client_secret.result}
        self.demo_password: pulumi.Output[str] | None = None
        if args.access.identity.demo_user:
            demo = random.RandomPassword(f"{name}-demo-user", length=20, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
            dex_env["DEMO_USER_HASH"] = demo.bcrypt_hash
            self.demo_password = pulumi.Output.secret(demo.result)
        elif args.identity_secret is not None:
            dex_env["CONNECTOR_SECRET"] = args.identity_secret

        dex_secret = k8s.core.v1.Secret(
            f"{name}-dex-secret", metadata={"name": DEX_SECRET, "namespace": dex_ns, "labels": labels},
            string_data=dex_env, opts=child)
        proxy_secret = k8s.core.v1.Secret(
            f"{name}-oauth2-proxy-secret",
            metadata={"name": OAUTH2_PROXY_SECRET, "namespace": proxy_ns, "labels": labels},
            string_data={"client-id": CLIENT_ID, "client-secret": client_secret.result,
                         "cookie-secret": cookie_secret.result},
            opts=child)
        self.dex = helm_release(f"{name}-dex", args.dex, release_name=DEX_RELEASE, values=dex_values(args),
                                provider=args.provider,
                                opts=pulumi.ResourceOptions(parent=self, depends_on=[dex_secret]))
        self.oauth2_proxy = helm_release(f"{name}-oauth2-proxy", args.oauth2_proxy, release_name=OAUTH2_PROXY_RELEASE,
                                         values=oauth2_proxy_values(args), provider=args.provider,
                                         opts=pulumi.ResourceOptions(parent=self, depends_on=[proxy_secret]))

        def custom(suffix: str, api_version: str, kind: str, object_name: str, namespace: str,
                   spec: dict[str, Any]) -> k8s.apiextensions.CustomResource:
            return custom_resource(f"{name}-{suffix}", api_version, kind, name=object_name, namespace=namespace,
                                   labels=labels, spec=spec, opts=child)

        custom("dex-route", "networking.istio.io/v1", "VirtualService", "dex", dex_ns,
               route(args.gateway, "/dex/", f"{DEX_RELEASE}.{dex_ns}.svc.cluster.local", DEX_PORT))
        custom("oauth2-proxy-route", "networking.istio.io/v1", "VirtualService", "oauth2-proxy", proxy_ns,
               route(args.gateway, "/oauth2/", f"{OAUTH2_PROXY_RELEASE}.{proxy_ns}.svc.cluster.local", 80))
        mesh = args.mesh_namespace
        custom("token-check", "security.istio.io/v1", "RequestAuthentication", "dex-jwt", mesh, token_check(dex_ns))
        custom("ext-authz", "security.istio.io/v1", "AuthorizationPolicy", "istio-ingressgateway-oauth2-proxy", mesh,
               ext_authz_policy())
        custom("require-token", "security.istio.io/v1", "AuthorizationPolicy", "istio-ingressgateway-require-jwt",
               mesh, require_token_policy())
        self.register_outputs({"issuer": dex_issuer(dex_ns)})

    def stack_outputs(self) -> dict[str, pulumi.Output]:
        return {"demoUserPassword": self.demo_password} if self.demo_password is not None else {}
