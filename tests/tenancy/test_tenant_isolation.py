"""Each tenant is confined: Pod Security, quota, network, access, its own queue, presets."""

from __future__ import annotations

import pytest

from components.tenancy.tenant import METADATA_CIDRS
from tests.conftest import IDENTITY_SECRET, kubeflow_platform

TENANTS = ["speech-ai", "vision", "forecasting"]


def _of(graph, tenant: str, type_suffix: str):
    return [r for r in graph.ordered() if r.type.endswith(type_suffix)
            and (r.inputs.get("metadata", {}).get("namespace") == tenant
                 or r.inputs.get("metadata", {}).get("name") == tenant)]


@pytest.fixture
def kubeflow_project(project, tenant_spec):
    """A stack on the Kubeflow line: Profiles and the PodDefaults webhook are installed."""
    return project, kubeflow_platform(), tenant_spec


def test_no_profile_or_pod_default_while_no_component_installs_their_kinds(project, onprem_platform, tenant_spec):
    # Release 2026.11 has no Kubeflow components.
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    types = {r.type for r in graph.ordered()}
    assert "kubernetes:kubeflow.org/v1:Profile" not in types
    assert "kubernetes:kubeflow.org/v1alpha1:PodDefault" not in types


def test_profiles_and_pod_defaults_wait_for_the_components_that_own_their_kinds(local_graph):
    tenant = local_graph.named("tenant-vision")
    owners = {local_graph.named("profiles-manifests").urn, local_graph.named("pod-defaults-manifests").urn}
    assert owners <= set(tenant.dependencies)


@pytest.fixture(params=["local_graph", "aws_graph", "gcp_graph"])
def graph(request):
    return request.getfixturevalue(request.param)


def test_every_reference_stack_has_three_tenants_of_different_sizes(graph):
    quotas = {r.inputs["metadata"]["namespace"]: r.inputs["spec"]["hard"]["requests.nvidia.com/gpu"]
              for r in graph.of_type("kubernetes:core/v1:ResourceQuota") if r.name.startswith("tenant-")}
    assert set(quotas) == set(TENANTS)
    assert len(set(quotas.values())) == 3


def test_namespaces_enforce_pod_security_and_warn_at_restricted(local_graph):
    labels = {t: _of(local_graph, t, ":Namespace")[0].inputs["metadata"]["labels"] for t in TENANTS}
    assert labels["speech-ai"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["forecasting"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for tenant in TENANTS:
        assert labels[tenant]["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels[tenant]["kubeforge.io/tenant"] == tenant


def test_quota_caps_gpus_storage_per_class_and_objects_and_refuses_load_balancers(local_graph):
    (quota,) = _of(local_graph, "vision", ":ResourceQuota")
    hard = quota.inputs["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "8"
    assert hard["kubeforge-nas.storageclass.storage.k8s.io/requests.storage"] == "4Ti"
    assert (hard["services.loadbalancers"], hard["services.nodeports"]) == ("0", "0")
    assert {"persistentvolumeclaims", "services", "configmaps", "secrets", "pods"} <= set(hard)


def test_network_is_denied_by_default_then_opened_for_what_the_platform_needs(local_graph):
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in _of(local_graph, "speech-ai", ":NetworkPolicy")}
    deny = policies["speech-ai-default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["speech-ai-allow-dns"]["egress"][0]
    assert {"protocol": "UDP", "port": 53} in dns["ports"]
    assert policies["speech-ai-allow-same-namespace"]["ingress"] == [{"from": [{"podSelector": {}}]}]
    platform = policies["speech-ai-allow-platform"]["ingress"][0]["from"][0]["namespaceSelector"]
    assert "kubeflow" in platform["matchExpressions"][0]["values"]
    assert "speech-ai" not in platform["matchExpressions"][0]["values"]
    gateway = policies["speech-ai-allow-gateway"]["ingress"][0]["from"][0]
    assert gateway == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}}}
    https = policies["speech-ai-allow-https-egress"]["egress"][0]
    assert https["ports"] == [{"protocol": "TCP", "port": 443}]
    blocked = [c for rule in https["to"] for c in rule["ipBlock"]["except"]]
    assert set(blocked) == set(METADATA_CIDRS)


def test_no_tenant_gets_cluster_wide_rights(graph):
    users = {c["user"] for c in [{"user": "alice@example.com"}, {"user": "bob@example.com"}]}
    for binding in graph.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"):
        names = {s.get("name") for s in binding.inputs.get("subjects", [])}
        assert not names & users
    owner = [r for r in _of(graph, "speech-ai", ":RoleBinding") if r.name.endswith("-owner")]
    assert owner[0].inputs["roleRef"]["name"] == "admin"


def test_each_tenant_has_its_queue_capped_at_its_quota(local_graph):
    queues = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in local_graph.ordered()
              if r.type == "kubernetes:scheduling.volcano.sh/v1beta1:Queue"}
    assert set(queues) == set(TENANTS)
    speech = queues["speech-ai"]
    assert speech["capability"] == {"cpu": "200", "memory": "1600Gi", "nvidia.com/gpu": "16"}
    assert speech["guarantee"] == {"resource": {"nvidia.com/gpu": "8"}}
    assert speech["deserved"] == {"nvidia.com/gpu": "8"}  # capacity plugin
    assert (speech["weight"], speech["reclaimable"]) == (2, True)
    assert "guarantee" not in queues["forecasting"]
    assert queues["forecasting"]["priority"] < speech["priority"]


def test_the_namespace_names_its_queue_for_volcanos_podgroup_webhook(local_graph):
    (ns,) = _of(local_graph, "vision", ":Namespace")
    assert ns.inputs["metadata"]["annotations"]["scheduling.volcano.sh/queue-name"] == "vision"


def test_profile_is_adopted_onto_kubeforges_namespace_without_a_second_quota(kubeflow_project):
    project, platform, tenant = kubeflow_project
    graph = project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant).preview()
    (ns,) = _of(graph, "team-a", ":Namespace")
    (profile,) = [r for r in graph.ordered() if r.type == "kubernetes:kubeflow.org/v1:Profile"]
    assert profile.inputs["metadata"]["name"] == "team-a"
    assert profile.inputs["spec"] == {"owner": {"kind": "User", "name": "alice@example.com"}}
    assert ns.inputs["metadata"]["annotations"]["owner"] == "alice@example.com"
    assert ns.urn in profile.dependencies
    # After the component that installs the Profile kind.
    tenant_component = graph.named("tenant-team-a")
    assert graph.named("profiles-manifests").urn in tenant_component.dependencies


def _pod_defaults(graph, tenant: str) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in graph.ordered()
            if r.type == "kubernetes:kubeflow.org/v1alpha1:PodDefault" and r.inputs["metadata"]["namespace"] == tenant}


def test_pod_defaults_offer_the_gpu_toleration_the_nas_volume_and_the_bucket(kubeflow_project):
    from kubeforge.config.credentials import OBJECT_STORE_CREDENTIALS_KEY
    from tests.storage.helpers import CREDENTIALS

    project, platform, tenant = kubeflow_project
    graph = (project.stack(platform, extra={OBJECT_STORE_CREDENTIALS_KEY: CREDENTIALS, **IDENTITY_SECRET})
             .tenant("team-a", tenant).preview())
    defaults = _pod_defaults(graph, "team-a")
    assert set(defaults) == {"team-a-gpu", "team-a-nas", "team-a-object-store"}
    gpu = defaults["team-a-gpu"]
    assert gpu["selector"] == {"matchLabels": {"kubeforge.io/gpu": "true"}}
    assert gpu["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                                   "effect": "NoSchedule"}]
    assert defaults["team-a-nas"]["volumes"] == [{"name": "nas", "persistentVolumeClaim": {"claimName": "team-a-nas"}}]
    # On-prem: the tenant's keys and endpoint, from its own Secret and ConfigMap.
    assert defaults["team-a-object-store"]["envFrom"] == [{"secretRef": {"name": "team-a-object-store"}},
                                                          {"configMapRef": {"name": "team-a-object-store"}}]


def test_the_object_store_pod_default_uses_the_tenants_identity_on_cloud(monkeypatch, project, tenant_spec):
    from tests.conftest import variant

    graph = variant(project, tenant_spec, "aws-prod", lambda p: None).preview()
    preset = _pod_defaults(graph, "team-a")["team-a-object-store"]
    assert preset["serviceAccountName"] == "team-a-storage"
    assert preset["env"][0]["value"].endswith("-team-a")
    (account,) = [r for r in graph.of_type("kubernetes:core/v1:ServiceAccount")
                  if r.inputs["metadata"]["name"] == "team-a-storage"]
    assert "eks.amazonaws.com/role-arn" in account.inputs["metadata"]["annotations"]


def test_kubeflow_objects_validate_against_their_upstream_crds(kubeflow_project, tmp_path):
    import yaml

    from kubeforge.render import render
    from tests.crd_schemas import validate_custom_resource

    project, platform, tenant = kubeflow_project
    graph = project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant).preview()
    kinds = set()
    for path in render(graph, tmp_path / "out"):
        obj = yaml.safe_load(path.read_text())
        if obj.get("kind") in ("Profile", "PodDefault"):
            validate_custom_resource(obj)
            kinds.add(obj["kind"])
    assert kinds == {"Profile", "PodDefault"}


def test_tenant_namespaces_are_protected(graph):
    for tenant in TENANTS:
        (ns,) = _of(graph, tenant, ":Namespace")
        assert ns.options["protect"] is True


def test_a_scheduler_turned_off_leaves_no_queue_and_no_policy(project, onprem_platform, tenant_spec):
    onprem_platform["scheduler"] = {"enabled": False}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    types = {r.type for r in graph.ordered()}
    assert "kubernetes:scheduling.volcano.sh/v1beta1:Queue" not in types
    assert "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy" not in types
    (ns,) = _of(graph, "team-a", ":Namespace")
    assert "scheduling.volcano.sh/queue-name" not in ns.inputs["metadata"]["annotations"]


def test_a_zero_cpu_quota_caps_the_queue_instead_of_lifting_the_cap(project, onprem_platform, tenant_spec):
    tenant_spec["quota"].update(cpu=0, memory="0", gpu=0)
    tenant_spec["queue"] = {"guaranteedGpus": 0}
    graph = project.stack(onprem_platform).tenant("team-a", tenant_spec).preview()
    (queue,) = [r for r in graph.ordered() if r.type.endswith(":Queue")]
    assert queue.inputs["spec"]["capability"] == {"cpu": "1m", "memory": "1", "nvidia.com/gpu": "0"}


def test_volcano_moves_default_podgroups_into_the_namespace_queue(local_graph):
    (release,) = [r for r in local_graph.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "volcano"]
    admissions = release.inputs["values"]["custom"]["enabled_admissions"].split(",")
    assert "/podgroups/mutate" in admissions and "/podgroups/validate" in admissions


def test_no_object_store_pod_default_without_keys_on_prem(kubeflow_project):
    project, platform, tenant = kubeflow_project
    graph = project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant).preview()
    assert "team-a-object-store" not in _pod_defaults(graph, "team-a")


def test_long_contributor_addresses_get_distinct_binding_names():
    from components.tenancy.tenant import _slug

    first, second = "data.science.platform.team.lead@example.com", "data.science.platform.team.lead2@example.com"
    assert _slug(first) != _slug(second)
    assert all(len(_slug(u)) <= 40 for u in (first, second))
    assert _slug("bob@example.com") == "bob-example-com"  # short addresses keep their names
