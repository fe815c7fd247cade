"""With Kubeflow's Profiles and KFAM installed, each contributor's access is the RoleBinding
and Istio AuthorizationPolicy KFAM itself writes (kubeflow v1.10.0,
components/access-management/kfam/bindings.go), so the central dashboard lists them; without
them, contributors keep plain RoleBindings and nothing of KFAM's shape exists.

The expected names below were produced by KFAM's own getBindingName (bindings.go#L60-L77),
compiled from the tag and run on these addresses.
"""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml

from components.tenancy.tenant import kfam_binding_name
from kubeforge.config.spec import EMAIL
from tests.conftest import IDENTITY_SECRET, kubeflow_platform

RBAC = "rbac.authorization.k8s.io"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
AUTHORIZATION_POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy"
# Kubernetes' own check for a DNS-1123 subdomain (apimachinery validation.IsDNS1123Subdomain).
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
CONTRIBUTORS = [
    {"user": "bob@example.com", "role": "edit"},
    {"user": "Carol.Ng+ml@Example.COM", "role": "view"},
]
BOB = "user-bob-example-com-clusterrole-edit"
CAROL = "user-carol-ng-ml-example-com-clusterrole-view"
GATEWAY_AND_PIPELINES_UI = ["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
                            "cluster.local/ns/kubeflow/sa/ml-pipeline-ui"]


@pytest.fixture
def team(tenant_spec):
    """A tenant with an editor and a viewer."""
    tenant_spec["contributors"] = [dict(c) for c in CONTRIBUTORS]
    return tenant_spec


@pytest.fixture
def with_profiles(project, team):
    """A stack on the Kubeflow release: Profiles + KFAM are installed."""
    return project.stack(kubeflow_platform(), extra=IDENTITY_SECRET).tenant("team-a", team).preview()


@pytest.fixture
def without_profiles(project, onprem_platform, team):
    """The same tenant on a release without Kubeflow (2026.11)."""
    return project.stack(onprem_platform).tenant("team-a", team).preview()


def _by_name(graph, type_: str) -> dict:
    return {r.inputs["metadata"]["name"]: r for r in graph.of_type(type_)
            if r.inputs["metadata"].get("namespace") == "team-a"}


# --- names -------------------------------------------------------------------------------

@pytest.mark.parametrize("user,role,name", [
    ("bob@example.com", "edit", BOB),
    ("Carol.Ng+ml@Example.COM", "view", CAROL),
    ("first.last+tag+more@sub.domain.example.com", "edit",
     "user-first-last-tag-more-sub-domain-example-com-clusterrole-edit"),
    ("-lead+@dept-.example.com", "view", "user-lead-dept-example-com-clusterrole-view"),
    ("a..b__c@x-y.example.org", "edit", "user-a-b-c-x-y-example-org-clusterrole-edit"),
    ("o'neil%x@EXAMPLE.co.uk", "edit", "user-o-neil-x-example-co-uk-clusterrole-edit"),
])
def test_binding_names_are_the_ones_kfam_computes(user, role, name):
    assert kfam_binding_name(user, role) == name


def _longest_address(tail: str = "") -> str:
    """A 254-character address the spec accepts (64-character local part, 63-character labels)."""
    local = "A.b+" * 15 + "c" * 3 + tail.rjust(1, "d")
    domain = ".".join(["e" * 63, "f" * 63, "g" * 57, "com"])
    address = f"{local}@{domain}"
    assert len(address) == 254 and EMAIL.fullmatch(address), address
    return address


@pytest.mark.parametrize("user", [
    "bob@example.com", "Carol.Ng+ml@Example.COM", "-lead+@dept-.example.com", "_@a.b", _longest_address(),
])
@pytest.mark.parametrize("role", ["edit", "view"])
def test_binding_names_are_dns_1123_subdomains_within_253_characters(user, role):
    name = kfam_binding_name(user, role)
    assert len(name) <= 253
    assert DNS1123_SUBDOMAIN.fullmatch(name), name
    assert name.startswith("user-") and name.endswith(f"-clusterrole-{role}")


def test_addresses_too_long_for_kfams_name_keep_distinct_names():
    first, second = _longest_address("x"), _longest_address("y")
    assert kfam_binding_name(first, "edit") != kfam_binding_name(second, "edit")
    assert len(kfam_binding_name(first, "edit")) == 253


# --- with Profiles + KFAM --------------------------------------------------------------

def test_each_contributor_gets_kfams_rolebinding_to_the_kubeflow_role(with_profiles):
    bindings = _by_name(with_profiles, ROLE_BINDING)
    assert {BOB, CAROL} <= set(bindings)
    bob, carol = bindings[BOB].inputs, bindings[CAROL].inputs
    assert bob["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "kubeflow-edit"}
    assert carol["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "kubeflow-view"}
    assert bob["subjects"] == [{"apiGroup": RBAC, "kind": "User", "name": "bob@example.com"}]
    assert carol["subjects"] == [{"apiGroup": RBAC, "kind": "User", "name": "Carol.Ng+ml@Example.COM"}]


def test_kfam_reads_the_user_and_dashboard_role_from_annotations(with_profiles):
    bindings = _by_name(with_profiles, ROLE_BINDING)
    assert bindings[BOB].inputs["metadata"]["annotations"] == {"user": "bob@example.com", "role": "edit"}
    assert bindings[CAROL].inputs["metadata"]["annotations"] == {"user": "Carol.Ng+ml@Example.COM", "role": "view"}
    policy = _by_name(with_profiles, AUTHORIZATION_POLICY)[BOB]
    assert policy.inputs["metadata"]["annotations"] == {"user": "bob@example.com", "role": "edit"}


def test_a_viewer_gets_no_authorization_policy_into_the_tenants_workloads(with_profiles):
    # Notebook servers run as default-editor with no token: reaching one is running code
    # with edit rights, which a viewer must not have.
    assert CAROL not in _by_name(with_profiles, AUTHORIZATION_POLICY)


@pytest.mark.parametrize("name,user", [(BOB, "bob@example.com")])
def test_each_editor_gets_kfams_authorization_policy(with_profiles, name, user):
    policy = _by_name(with_profiles, AUTHORIZATION_POLICY)[name]
    # KFAM sets no action (ALLOW) and no selector (every workload in the namespace).
    assert policy.inputs["spec"] == {"rules": [{
        "when": [{"key": "request.headers[kubeflow-userid]", "values": [user]}],
        "from": [{"source": {"principals": GATEWAY_AND_PIPELINES_UI}}],
    }]}


def test_kubeflow_access_is_named_from_the_tenant_component_and_labelled(with_profiles):
    for type_, names in ((ROLE_BINDING, (BOB, CAROL)), (AUTHORIZATION_POLICY, (BOB,))):
        for name in names:
            resource = _by_name(with_profiles, type_)[name]
            assert resource.name == f"tenant-team-a-{name}"
            labels = resource.inputs["metadata"]["labels"]
            assert labels["app.kubernetes.io/instance"] == "tenant-team-a"
            assert labels["app.kubernetes.io/managed-by"] == "kubeforge"
            assert labels["app.kubernetes.io/part-of"] == "kubeforge"
            assert labels["kubeforge.io/tenant"] == "team-a"


def test_the_namespace_exists_before_the_kubeflow_access(with_profiles):
    (namespace,) = [r for r in with_profiles.of_type("kubernetes:core/v1:Namespace")
                    if r.inputs["metadata"]["name"] == "team-a"]
    for type_ in (ROLE_BINDING, AUTHORIZATION_POLICY):
        assert namespace.urn in _by_name(with_profiles, type_)[BOB].dependencies


def test_contributors_get_no_second_plain_binding_and_the_owner_keeps_admin(with_profiles):
    bindings = _by_name(with_profiles, ROLE_BINDING)
    assert set(bindings) == {"team-a-owner", BOB, CAROL}
    assert bindings["team-a-owner"].inputs["roleRef"]["name"] == "admin"
    # The owner's KFAM-visible binding is the profile controller's namespaceAdmin, not ours.
    assert "annotations" not in bindings["team-a-owner"].inputs["metadata"]
    assert set(_by_name(with_profiles, AUTHORIZATION_POLICY)) == {BOB}


# --- without them ------------------------------------------------------------------------

def test_without_profiles_contributors_keep_plain_rolebindings(without_profiles):
    bindings = _by_name(without_profiles, ROLE_BINDING)
    assert set(bindings) == {"team-a-owner", "team-a-edit-bob-example-com", "team-a-view-carol-ng-ml-example-com"}
    assert bindings["team-a-edit-bob-example-com"].inputs["roleRef"]["name"] == "edit"
    assert bindings["team-a-view-carol-ng-ml-example-com"].inputs["roleRef"]["name"] == "view"


def test_without_profiles_nothing_of_kfams_shape_exists(without_profiles):
    assert list(without_profiles.of_type(AUTHORIZATION_POLICY)) == []
    for binding in without_profiles.of_type(ROLE_BINDING):
        assert "annotations" not in binding.inputs["metadata"]
        assert not binding.inputs["roleRef"]["name"].startswith("kubeflow-")


def test_shipped_stacks_give_contributors_kfam_shaped_access(local_graph):
    kfam = [b for b in local_graph.of_type(ROLE_BINDING) if b.inputs["roleRef"]["name"].startswith("kubeflow-")]
    assert kfam and all(set(b.inputs["metadata"]["annotations"]) == {"user", "role"} for b in kfam)


# --- schemas ------------------------------------------------------------------------------

def test_kubeflow_access_validates_against_istios_crd_and_kubernetes_strictly(with_profiles, tmp_path):
    from kubeforge.render import render
    from tests.crd_schemas import validate_custom_resource

    checked = []
    for path in render(with_profiles, tmp_path / "out"):
        obj = yaml.safe_load(path.read_text())
        if obj.get("kind") == "AuthorizationPolicy" and obj["metadata"].get("namespace") == "team-a":
            validate_custom_resource(obj)
        elif obj.get("kind") == "RoleBinding" and obj["metadata"]["name"] in (BOB, CAROL):
            kubernetes_validate.validate(obj, "1.34", strict=True)
        else:
            continue
        checked.append((obj["kind"], obj["metadata"]["name"]))
    assert sorted(checked) == sorted([("AuthorizationPolicy", BOB), ("RoleBinding", BOB), ("RoleBinding", CAROL)])


def test_the_istio_schema_check_refuses_a_misspelt_policy_field():
    import jsonschema

    from tests.crd_schemas import validate_custom_resource

    policy = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": BOB},
              "spec": {"rules": [{"from": [{"source": {"principal": GATEWAY_AND_PIPELINES_UI}}]}]}}
    with pytest.raises(jsonschema.ValidationError, match=r"\('principal' was unexpected\)"):
        validate_custom_resource(policy)
