"""The front door: cert-manager's issuer, the TLS gateway, and the login chain, as wired."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.access.cert_manager import CLUSTER_ISSUER, route53_policy
from components.access.gateway import GATEWAY_NAME, TLS_SECRET
from components.access.istio import INGRESS_PRINCIPAL, INGRESS_SERVICE_ACCOUNT
from components.access.login import CLIENT_ID, USERID_HEADER
from tests.conftest import ACCESS, IDENTITY_SECRET, kubeflow_platform

CUSTOM = "kubernetes:{}"


def _objects(graph, kind: str) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in graph.ordered()
            if r.custom and r.inputs.get("kind") == kind}


def _release(graph, name: str) -> dict:
    (release,) = [r.inputs for r in graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == name]
    return release


# --- TLS -----------------------------------------------------------------------------------


def test_the_gateway_serves_https_only_with_the_certificate_from_the_platform_issuer(local_graph):
    certificate = _objects(local_graph, "Certificate")[TLS_SECRET]
    gateway = _objects(local_graph, "Gateway")[GATEWAY_NAME]
    assert certificate["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer",
                                                "name": CLUSTER_ISSUER}
    assert certificate["spec"]["dnsNames"] == ["kubeflow.lab.internal"]
    # The gateway reads the Secret from its own namespace.
    assert certificate["metadata"]["namespace"] == "istio-system"
    https, http = sorted(gateway["spec"]["servers"], key=lambda s: s["port"]["protocol"], reverse=True)
    assert https["port"]["number"] == 443 and https["tls"]["credentialName"] == certificate["spec"]["secretName"]
    assert https["tls"]["mode"] == "SIMPLE" and https["hosts"] == ["kubeflow.lab.internal"]
    assert http["tls"] == {"httpsRedirect": True}
    # Kubeflow's VirtualServices bind kubeflow/kubeflow-gateway.
    assert gateway["metadata"]["namespace"] == "kubeflow"


def test_on_prem_the_organisations_ca_signs(local_graph):
    issuer = _objects(local_graph, "ClusterIssuer")[CLUSTER_ISSUER]
    assert issuer["spec"] == {"ca": {"secretName": "lab-root-ca"}}


def test_on_aws_acme_solves_dns01_on_route53_with_an_irsa_role_limited_to_the_zone(aws_graph):
    issuer = _objects(aws_graph, "ClusterIssuer")[CLUSTER_ISSUER]
    acme = issuer["spec"]["acme"]
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (solver,) = acme["solvers"]
    assert solver["dns01"] == {"route53": {"region": "us-west-2", "hostedZoneID": "Z0123456789EXAMPLE"}}
    assert solver["selector"] == {"dnsNames": ["ml.example.com"]}
    values = _release(aws_graph, "cert-manager")["values"]
    assert "eks.amazonaws.com/role-arn" in values["serviceAccount"]["annotations"]
    (policy,) = [r for r in aws_graph.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "cert-manager-dns01"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    writes = next(s for s in statements if "route53:ChangeResourceRecordSets" in s["Action"])
    assert writes["Resource"] == "arn:aws:route53:::hostedzone/Z0123456789EXAMPLE"
    assert writes["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"] == ["TXT"]
    (role,) = [r for r in aws_graph.of_type("aws:iam/role:Role") if r.name == "cert-manager-dns01"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:cert-manager:cert-manager" in trust.values()


def test_route53_policy_allows_only_the_challenge_record():
    (_, writes, _) = route53_policy("Z1", "ml.example.com")["Statement"]
    names = writes["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert names == ["_acme-challenge.ml.example.com"]


def test_on_gcp_acme_solves_dns01_on_cloud_dns_through_workload_identity(gcp_graph):
    (solver,) = _objects(gcp_graph, "ClusterIssuer")[CLUSTER_ISSUER]["spec"]["acme"]["solvers"]
    assert solver["dns01"] == {"cloudDNS": {"project": "acme-ml-prod"}}
    values = _release(gcp_graph, "cert-manager")["values"]
    assert "iam.gke.io/gcp-service-account" in values["serviceAccount"]["annotations"]
    (binding,) = [r for r in gcp_graph.of_type("gcp:serviceaccount/iAMMember:IAMMember")
                  if r.name == "cert-manager-dns01-workload-identity"]
    assert binding.inputs["member"] == "serviceAccount:acme-ml-prod.svc.id.goog[cert-manager/cert-manager]"
    (admin,) = [r for r in gcp_graph.of_type("gcp:projects/iAMMember:IAMMember") if r.name == "cert-manager-dns01-admin"]
    assert admin.inputs["role"] == "roles/dns.admin"


# --- the login chain ------------------------------------------------------------------------


def test_the_gateway_asks_oauth2_proxy_the_provider_istiod_registers(local_graph):
    istiod = _release(local_graph, "istiod")["values"]
    (provider,) = istiod["meshConfig"]["extensionProviders"]
    policies = _objects(local_graph, "AuthorizationPolicy")
    custom = policies["istio-ingressgateway-oauth2-proxy"]["spec"]
    assert custom["action"] == "CUSTOM" and custom["provider"]["name"] == provider["name"]
    proxy = _release(local_graph, "oauth2-proxy")
    assert provider["envoyExtAuthzHttp"]["service"] == f"oauth2-proxy.{proxy['namespace']}.svc.cluster.local"
    # The login's own paths are never behind it, everything else is.
    assert custom["rules"][0]["to"][0]["operation"]["notPaths"] == ["/dex/*", "/dex/**", "/oauth2/*"]
    deny = policies["istio-ingressgateway-require-jwt"]["spec"]
    assert deny["action"] == "DENY" and deny["rules"][0]["from"] == [{"source": {"notRequestPrincipals": ["*"]}}]


def test_the_token_checked_at_the_gateway_is_deXs_and_becomes_the_kubeflow_userid(local_graph):
    dex = _release(local_graph, "dex")["values"]["config"]
    (rule,) = _objects(local_graph, "RequestAuthentication")["dex-jwt"]["spec"]["jwtRules"]
    assert rule["issuer"] == dex["issuer"] and rule["jwksUri"] == dex["issuer"] + "/keys"
    assert {"header": USERID_HEADER, "claim": "email"} in rule["outputClaimToHeaders"]
    cfg = _release(local_graph, "oauth2-proxy")["values"]["config"]["configFile"]
    assert f'oidc_issuer_url = "{dex["issuer"]}"' in cfg
    assert 'redirect_url = "https://kubeflow.lab.internal/oauth2/callback"' in cfg
    assert "cookie_secure = true" in cfg


def test_dex_and_oauth2_proxy_share_a_generated_client_secret(local_graph):
    (client,) = _release(local_graph, "dex")["values"]["config"]["staticClients"]
    assert client["id"] == CLIENT_ID and "secret" not in client
    assert client["redirectURIs"] == ["https://kubeflow.lab.internal/oauth2/callback"]
    secrets = {r.name: r for r in local_graph.of_type("kubernetes:core/v1:Secret")}
    dex_secret, proxy_secret = secrets["login-dex-secret"], secrets["login-oauth2-proxy-secret"]
    assert client["secretEnv"] in dex_secret.inputs["stringData"]
    assert set(proxy_secret.inputs["stringData"]) == {"client-id", "client-secret", "cookie-secret"}
    # Both values come from the one generated password (a dependency of both Secrets).
    (password,) = [r for r in local_graph.of_type("random:index/randomPassword:RandomPassword")
                   if r.name == "login-client-secret"]
    assert password.urn in dex_secret.dependencies and password.urn in proxy_secret.dependencies
    assert _release(local_graph, "oauth2-proxy")["values"]["config"]["existingSecret"] == \
        proxy_secret.inputs["metadata"]["name"]


def test_no_helm_value_of_the_login_carries_a_secret(local_graph, aws_graph, gcp_graph):
    for graph in (local_graph, aws_graph, gcp_graph):
        for name in ("dex", "oauth2-proxy"):
            text = json.dumps(_release(graph, name)["values"])
            assert "[secret]" not in text and "12341234" not in text and "$2y$" not in text


def test_the_demo_user_on_local_has_a_generated_password_published_as_a_secret(local_graph):
    dex = _release(local_graph, "dex")["values"]["config"]
    assert dex["enablePasswordDB"] is True
    (user,) = dex["staticPasswords"]
    assert user["email"] == "user@example.com" and set(user) >= {"hashFromEnv"} and "hash" not in user
    (demo,) = [r for r in local_graph.of_type("random:index/randomPassword:RandomPassword")
               if r.name == "login-demo-user"]
    assert demo.inputs["length"] >= 16
    assert local_graph.outputs["demoUserPassword"] == "[secret]"


@pytest.mark.parametrize("graph_name,connector", [("aws_graph", "oidc"), ("gcp_graph", "ldap")])
def test_cloud_stacks_federate_the_directory_with_the_secret_from_config(request, graph_name, connector):
    graph = request.getfixturevalue(graph_name)
    dex = _release(graph, "dex")["values"]["config"]
    assert dex["enablePasswordDB"] is False and "staticPasswords" not in dex
    (conn,) = dex["connectors"]
    assert conn["type"] == connector
    secret_field = "clientSecret" if connector == "oidc" else "bindPW"
    assert conn["config"][secret_field] == "$CONNECTOR_SECRET"
    dex_secret = next(r for r in graph.of_type("kubernetes:core/v1:Secret") if r.name == "login-dex-secret")
    assert dex_secret.inputs["stringData"]["CONNECTOR_SECRET"] == "[secret]"
    if connector == "oidc":
        assert conn["config"]["redirectURI"] == "https://ml.example.com/dex/callback"


def test_the_ingress_gateway_keeps_the_principal_kubeflow_apps_allow(local_graph):
    values = _release(local_graph, "istio-ingressgateway")["values"]
    assert values["serviceAccount"]["name"] == INGRESS_SERVICE_ACCOUNT
    assert INGRESS_PRINCIPAL.endswith(f"/sa/{INGRESS_SERVICE_ACCOUNT}")


def test_cloud_gateways_ask_for_an_internal_load_balancer(aws_graph, gcp_graph):
    aws = _release(aws_graph, "istio-ingressgateway")["values"]["service"]["annotations"]
    gcp = _release(gcp_graph, "istio-ingressgateway")["values"]["service"]["annotations"]
    assert aws["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert gcp == {"networking.gke.io/load-balancer-type": "Internal"}


def test_istio_runs_with_cni_and_gke_gets_its_cni_directory(local_graph, gcp_graph):
    assert _release(local_graph, "istiod")["values"]["cni"] == {"enabled": True}
    assert _release(gcp_graph, "istio-cni")["values"]["cniBinDir"] == "/home/kubernetes/bin"
    assert "cniBinDir" not in _release(local_graph, "istio-cni")["values"]


def test_without_cni_no_node_agent_and_istiod_injects_init_containers(project, tenant_spec):
    platform = kubeflow_platform()
    platform["components"] = {"istio": {"cni": False}}
    graph = project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant_spec).preview()
    names = {r.inputs["name"] for r in graph.of_type("kubernetes:helm.sh/v3:Release")}
    assert "istio-cni" not in names
    assert _release(graph, "istiod")["values"]["cni"] == {"enabled": False}


def test_the_hostname_reaches_manifests_only_after_validation():
    from kubeforge.config.spec import AccessSpec

    for bad in ("ml.example.com\n", "ML.example.com", "ml", 'ml.example.com" injected = "1', "-ml.example.com"):
        with pytest.raises(ValueError):
            AccessSpec.model_validate({**ACCESS, "hostname": bad})
    assert re.fullmatch(r"[a-z0-9.-]+", AccessSpec.model_validate(ACCESS).hostname)


def test_the_rendered_front_door_objects_are_plain_yaml(local_graph, tmp_path):
    from kubeforge.render import render

    files = [p for p in render(local_graph, tmp_path / "out") if p.parent.name in ("istio-system", "auth")]
    assert files and all(isinstance(yaml.safe_load(p.read_text()), dict) for p in files)


def test_tenants_may_read_but_not_change_the_mesh_objects_in_their_namespace(local_graph):
    (role,) = [r.inputs for r in local_graph.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
               if r.inputs["metadata"]["name"] == "kubeforge-kubeflow-istio-view"]
    assert role["metadata"]["labels"]["rbac.authorization.kubeflow.org/aggregate-to-kubeflow-view"] == "true"
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} == {"get", "list", "watch"}
