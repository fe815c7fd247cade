"""Each cross-field check on its own: one passing and one failing case per check."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from kubeforge.catalog import load_release
from kubeforge.config import checks
from kubeforge.config.resolve import resolve
from kubeforge.config.spec import PlatformSpec, TenantSpec
from kubeforge.catalog import KubernetesRange
from tests.conftest import ONPREM_PLATFORM, TENANT, stack_file

RELEASE = load_release("2026.11")
KUBEFLOW_LINE = load_release("2026.12")


def _ctx(platform: dict, tenants: dict | None = None, kubeconfig: bool = False, release=None) -> checks.SpecContext:
    tenants = {"team-a": TENANT} if tenants is None else tenants
    return checks.SpecContext(
        spec=PlatformSpec.model_validate(platform),
        tenants={n: TenantSpec.model_validate(t) for n, t in tenants.items()},
        release=release or RELEASE, source="stacks/Pulumi.test.yaml", kubeconfig_configured=kubeconfig,
    )


def _stack(platform: dict, tenants: dict | None = None):
    ctx = _ctx(platform, tenants)
    return resolve(ctx.spec, ctx.tenants, RELEASE, "test")


@pytest.fixture
def onprem():
    return copy.deepcopy(ONPREM_PLATFORM)


@pytest.fixture
def aws():
    return stack_file("aws-prod")


def _paths(problems) -> list[str]:
    return [p.path for p in problems]


def test_kubernetes_version_supported(onprem):
    assert checks.kubernetes_version_supported(_ctx(onprem)) == []
    onprem["kubernetesVersion"] = "1.30"
    (problem,) = checks.kubernetes_version_supported(_ctx(onprem))
    assert problem.path == "kubeforge:platform.kubernetesVersion" and "accepted: 1.32" in problem.message


def test_cpu_pool_on_cloud(aws):
    assert checks.cpu_pool_on_cloud(_ctx(aws)) == []
    del aws["nodePools"]["system"]
    assert _paths(checks.cpu_pool_on_cloud(_ctx(aws))) == ["kubeforge:platform.nodePools"]


def test_pool_nodes_match_target(onprem, aws):
    assert checks.pool_nodes_match_target(_ctx(onprem)) == []
    aws["nodePools"]["a100"]["nodes"] = ["gpu-1"]
    assert _paths(checks.pool_nodes_match_target(_ctx(aws))) == ["kubeforge:platform.nodePools.a100.nodes"]
    del onprem["nodePools"]["a100"]["nodes"]
    assert _paths(checks.pool_nodes_match_target(_ctx(onprem))) == ["kubeforge:platform.nodePools.a100.nodes"]


def test_gpu_machine_exists(aws):
    assert checks.gpu_machine_exists(_ctx(aws)) == []
    aws["nodePools"]["a100"]["gpu"]["perNode"] = 4
    (problem,) = checks.gpu_machine_exists(_ctx(aws))
    assert problem.path.endswith("a100.gpu.perNode") and "accepted: 8" in problem.message


def test_storage_matches_target(onprem, aws):
    assert checks.storage_matches_target(_ctx(onprem)) == []
    aws["storage"] = {"object": {"endpoint": "https://s3.example.internal"}}
    assert _paths(checks.storage_matches_target(_ctx(aws))) == ["kubeforge:platform.storage.object.endpoint"]


def test_kubeconfig_only_onprem(onprem, aws):
    assert checks.kubeconfig_only_onprem(_ctx(onprem, kubeconfig=True)) == []
    assert _paths(checks.kubeconfig_only_onprem(_ctx(aws, kubeconfig=True))) == ["kubeforge:kubeconfig"]


def test_component_settings(onprem):
    onprem["components"] = {"gpuOperator": {"version": "v26.3.3", "valuesOverrides": {"dcgmExporter": {}}}}
    assert checks.component_settings(_ctx(onprem)) == []
    onprem["components"] = {"gpuOperator": {"valuesOverrides": {"toolkit": {"enabled": True}}}}
    assert _paths(checks.component_settings(_ctx(onprem))) == [
        "kubeforge:platform.components.gpuOperator.valuesOverrides.toolkit"]
    onprem["components"] = {}
    onprem["scheduler"] = {"version": "1.0.0"}
    assert _paths(checks.component_settings(_ctx(onprem))) == ["kubeforge:platform.scheduler.version"]


def test_tenant_gpus_within_capacity(onprem):
    assert checks.tenant_gpus_within_capacity(_stack(onprem)) == []
    greedy = {**TENANT, "quota": {**TENANT["quota"], "gpu": 17}}
    problems = checks.tenant_gpus_within_capacity(_stack(onprem, {"team-a": greedy}))
    assert (problems[0].source, problems[0].path) == ("stacks/tenants/team-a.yaml", "quota.gpu")
    many = {f"t{i}": TENANT for i in range(5)}  # 5 x 4 guaranteed > 16
    (problem,) = [p for p in checks.tenant_gpus_within_capacity(_stack(onprem, many)) if "guaranteed" in p.message]
    assert problem.path == "kubeforge:platform.tenants"
    assert "add up to 20 (t0 4, t1 4, t2 4, t3 4, t4 4)" in problem.message
    assert "(a100 16)" in problem.message  # per pool


def test_tenant_gpu_caps_may_over_commit_only_by_the_configured_ratio(onprem):
    tenants = {f"t{i}": {**TENANT, "queue": {"guaranteedGpus": 0}} for i in range(4)}  # caps 4 x 8 = 32
    assert checks.tenant_gpus_within_capacity(_stack(onprem, tenants)) == []  # 2.0 x 16
    onprem["scheduler"] = {"gpuCapOvercommit": 1.5}
    (problem,) = checks.tenant_gpus_within_capacity(_stack(onprem, tenants))
    assert "quota.gpu add up to 32" in problem.message and "1.5 x the 16 GPUs" in problem.message
    assert "= 24" in problem.message


def test_tenant_names_not_reserved(onprem):
    assert checks.tenant_names_not_reserved(_ctx(onprem)) == []
    for name in ("kubeflow", "kube-flannel", "default", "gpu-operator", "root"):
        onprem["tenants"] = ["team-a", name]
        (problem,) = checks.tenant_names_not_reserved(_ctx(onprem, {"team-a": TENANT}))
        assert (problem.path, problem.value) == ("kubeforge:platform.tenants[1]", name)


def test_aws_driver_is_the_amis(aws):
    assert checks.aws_driver_is_the_amis(_stack(aws)) == []
    aws["nodePools"]["a100"]["driver"] = "580.95.05"
    (problem,) = checks.aws_driver_is_the_amis(_stack(aws))
    assert "ships driver 580.159.03" in problem.message


def test_gpu_drivers_run_the_images(onprem):
    assert [p for p in checks.gpu_drivers_run_the_images(_stack(onprem)) if not p.warning] == []
    onprem["nodePools"]["a100"]["driver"] = "550.127.05"
    errors = [p for p in checks.gpu_drivers_run_the_images(_stack(onprem)) if not p.warning]
    assert errors and all(p.path == "kubeforge:platform.nodePools.a100.driver" for p in errors)


def test_gpu_drivers_check_the_mig_strategy(onprem):
    onprem["nodePools"]["a100"]["gpu"]["mig"] = {"strategy": "single", "layout": "3g.40gb,2g.20gb"}
    errors = [p for p in checks.gpu_drivers_run_the_images(_stack(onprem)) if not p.warning]
    assert _paths(errors) == ["kubeforge:platform.nodePools.a100.gpu.mig.layout"]


def test_one_gpu_operator_setting(onprem):
    onprem["onprem"] = {"driverInstall": "operator"}
    assert checks.one_gpu_operator_setting(_stack(onprem)) == []
    onprem["nodePools"]["b100"] = {"gpu": {"model": "a100-40gb", "perNode": 8}, "driver": "580.65.06",
                                   "nodes": ["gpu-3"]}
    (problem,) = checks.one_gpu_operator_setting(_stack(onprem))
    assert "installs one driver for the whole cluster" in problem.message


def test_every_check_is_registered_and_tested():
    registered = {c.__name__ for c in (*checks.SPEC_CHECKS, *checks.STACK_CHECKS)}
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert registered <= tested


def test_the_resolved_stack_is_immutable(onprem):
    stack = _stack(onprem)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stack.target = "aws"  # type: ignore[misc]
    with pytest.raises(TypeError):
        stack.gpu_pools["x"] = stack.gpu_pools["a100"]  # type: ignore[index]


def test_target_settings_match(onprem, aws):
    assert checks.target_settings_match(_ctx(onprem)) == []
    onprem["aws"] = {"region": "us-west-2"}
    assert _paths(checks.target_settings_match(_ctx(onprem))) == ["kubeforge:platform.aws"]
    del aws["aws"]
    (problem,) = checks.target_settings_match(_ctx(aws))
    assert "add the 'aws' settings block" in problem.message


def test_aws_public_endpoint_is_allowlisted(aws):
    assert checks.aws_public_endpoint_is_allowlisted(_ctx(aws)) == []
    aws["aws"]["publicEndpoint"] = True
    assert _paths(checks.aws_public_endpoint_is_allowlisted(_ctx(aws))) == ["kubeforge:platform.aws.publicAccessCidrs"]
    aws["aws"]["publicAccessCidrs"] = ["10.0.0.0/8", "0.0.0.0/0"]
    (problem,) = checks.aws_public_endpoint_is_allowlisted(_ctx(aws))
    assert "0.0.0.0/0" in problem.message


def test_node_pool_is_consistent(onprem):
    assert checks.node_pool_is_consistent(_ctx(onprem)) == []
    pool = onprem["nodePools"]["a100"]
    pool.update(min=3, max=2, nodeSelector={"gpu": "a100"})
    del pool["driver"]
    assert _paths(checks.node_pool_is_consistent(_ctx(onprem))) == [
        "kubeforge:platform.nodePools.a100.max", "kubeforge:platform.nodePools.a100.driver",
        "kubeforge:platform.nodePools.a100.nodeSelector"]


def test_tenant_is_consistent(onprem):
    assert checks.tenant_is_consistent(_ctx(onprem)) == []
    tenant = {**TENANT, "contributors": [{"user": "bob@example.com"}, {"user": "bob@example.com"},
                                         {"user": TENANT["owner"]}],
              "queue": {"guaranteedGpus": 9}}
    problems = checks.tenant_is_consistent(_ctx(onprem, {"team-a": tenant}))
    assert _paths(problems) == ["queue.guaranteedGpus", "contributors[0].user", "contributors[1].user",
                                "contributors[2].user"]
    assert {p.source for p in problems} == {"stacks/tenants/team-a.yaml"}


def test_components_support_the_kubernetes_version(onprem):
    onprem["release"] = "2026.12"
    assert checks.components_support_the_kubernetes_version(_ctx(onprem, release=KUBEFLOW_LINE)) == []
    narrow = KUBEFLOW_LINE.model_copy(update={"components": {
        **KUBEFLOW_LINE.components,
        "katib": KUBEFLOW_LINE.components["katib"].model_copy(update={
            "kubernetes": KubernetesRange(min="1.30", max="1.33", source="test range")}),
    }})
    (problem,) = checks.components_support_the_kubernetes_version(_ctx(onprem, release=narrow))
    assert problem.path == "kubeforge:platform.kubernetesVersion"
    assert "katib v0.19.0 supports Kubernetes 1.30 to 1.33 (test range)" in problem.message
    assert "components.katib.enabled: false" in problem.message
    onprem["components"] = {"katib": {"enabled": False}}
    assert checks.components_support_the_kubernetes_version(_ctx(onprem, release=narrow)) == []


def test_components_have_what_they_need(onprem):
    onprem["release"] = "2026.12"
    assert checks.components_have_what_they_need(_ctx(onprem, release=KUBEFLOW_LINE)) == []
    onprem["components"] = {"profiles": {"enabled": False}}
    problems = checks.components_have_what_they_need(_ctx(onprem, release=KUBEFLOW_LINE))
    by_path = {p.path: p.message for p in problems}
    assert "notebooks needs profiles; set components.profiles.enabled: true, or turn notebooks off" in \
        by_path["kubeforge:platform.components.notebooks.enabled"]
    assert "kubeforge:platform.components.dashboard.enabled" in by_path


def test_contributors_that_would_name_the_same_binding_are_refused(onprem):
    tenant = {**TENANT, "contributors": [{"user": "Bob@Example.com"}, {"user": "bob@example.com", "role": "view"},
                                         {"user": "a.b@example.com"}, {"user": "a-b@example.com"}]}
    problems = checks.tenant_is_consistent(_ctx(onprem, {"team-a": tenant}))
    assert _paths(problems) == [f"contributors[{i}].user" for i in range(4)]
    assert "ignoring case and punctuation" in problems[0].message


# --- the front door -------------------------------------------------------------------------

ACCESS_ONPREM = {
    "hostname": "kubeflow.example.internal",
    "tls": {"organisationCa": {"secretName": "example-ca"}},
    "identity": {"oidc": {"issuer": "https://idp.example.com", "clientId": "kubeflow"}},
}


def _kubeflow(platform: dict, access: dict | None = ACCESS_ONPREM) -> dict:
    platform = copy.deepcopy(platform)
    platform["release"] = "2026.12"
    if access is not None:
        platform["access"] = copy.deepcopy(access)
    return platform


def test_access_is_configured(onprem):
    assert checks.access_is_configured(_ctx(_kubeflow(onprem), release=KUBEFLOW_LINE)) == []
    (problem,) = checks.access_is_configured(_ctx(_kubeflow(onprem, access=None), release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.access" and "components.istio.enabled: false" in problem.message
    # Without istio (and what needs it), access is refused rather than ignored.
    platform = _kubeflow(onprem)
    platform["components"] = {k: {"enabled": False} for k in ("istio", "dex", "oauth2Proxy", "dashboard", "profiles",
                                                              "notebooks", "kserve")}
    (problem,) = checks.access_is_configured(_ctx(platform, release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.access" and "only used with istio" in problem.message


def test_dns01_solver_matches_target(onprem, aws):
    acme = {"email": "ops@example.com", "dns01": {"route53": {"hostedZoneId": "Z0123456789ABC"}}}
    aws_access = {**ACCESS_ONPREM, "tls": {"acme": acme}}
    assert checks.dns01_solver_matches_target(_ctx(_kubeflow(aws, aws_access), release=KUBEFLOW_LINE)) == []
    wrong = {**ACCESS_ONPREM, "tls": {"acme": {**acme, "dns01": {"cloudDns": {}}}}}
    (problem,) = checks.dns01_solver_matches_target(_ctx(_kubeflow(aws, wrong), release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.access.tls.acme.dns01.cloudDns" and "accepted: route53" in problem.message
    (problem,) = checks.dns01_solver_matches_target(_ctx(_kubeflow(onprem, aws_access), release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.access.tls.acme" and "organisationCa" in problem.message


def test_demo_user_only_on_local(onprem):
    demo = {**ACCESS_ONPREM, "identity": {"demoUser": True}}
    ctx = _ctx(_kubeflow(onprem, demo), release=KUBEFLOW_LINE)
    (problem,) = checks.demo_user_only_on_local(ctx)
    assert problem.path == "kubeforge:platform.access.identity.demoUser" and "'local'" in problem.message
    assert checks.demo_user_only_on_local(dataclasses.replace(ctx, stack="local")) == []
    assert checks.demo_user_only_on_local(_ctx(_kubeflow(onprem), release=KUBEFLOW_LINE)) == []


def test_one_training_operator(onprem):
    platform = _kubeflow(onprem)
    assert checks.one_training_operator(_ctx(platform, release=KUBEFLOW_LINE)) == []
    platform["components"] = {"trainingOperator": {"enabled": True}}
    (problem,) = checks.one_training_operator(_ctx(platform, release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.components.trainingOperator.enabled"
    assert "components.training.enabled: false" in problem.message
    platform["components"]["training"] = {"enabled": False}
    assert checks.one_training_operator(_ctx(platform, release=KUBEFLOW_LINE)) == []


def test_managed_database_on_aws(onprem, aws):
    aws.setdefault("components", {})["pipelines"] = {"database": {"kind": "managed"}}
    assert checks.managed_database_on_aws(_ctx(aws, release=KUBEFLOW_LINE)) == []
    platform = _kubeflow(onprem)
    platform["components"] = {"pipelines": {"database": {"kind": "managed"}}}
    (problem,) = checks.managed_database_on_aws(_ctx(platform, release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.components.pipelines.database.kind"
    assert "needs target aws, not onprem; use inCluster" in problem.message
    platform["components"]["pipelines"]["database"]["kind"] = "inCluster"
    assert checks.managed_database_on_aws(_ctx(platform, release=KUBEFLOW_LINE)) == []


@pytest.mark.parametrize(("kind", "storage", "fits"), [
    ("inCluster", "20Gi", True), ("inCluster", "512Mi", False), ("managed", "20Gi", True),
    ("managed", "19Gi", False), ("managed", "64Ti", True), ("managed", "65Ti", False),
])
def test_database_storage_fits(aws, kind, storage, fits):
    aws.setdefault("components", {})["pipelines"] = {"database": {"kind": kind, "storage": storage}}
    problems = checks.database_storage_fits(_ctx(aws, release=KUBEFLOW_LINE))
    assert (problems == []) is fits
    if not fits:
        assert problems[0].path == "kubeforge:platform.components.pipelines.database.storage"


def test_serverless_serving_has_knative(onprem):
    platform = _kubeflow(onprem)
    assert checks.serverless_serving_has_knative(_ctx(platform, release=KUBEFLOW_LINE)) == []
    platform["components"] = {"kserve": {"deploymentMode": "Serverless"}}
    (problem,) = checks.serverless_serving_has_knative(_ctx(platform, release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.components.kserve.deploymentMode"
    assert "components.knative.enabled: true" in problem.message
    platform["components"]["knative"] = {"enabled": True}
    assert checks.serverless_serving_has_knative(_ctx(platform, release=KUBEFLOW_LINE)) == []
    platform["components"]["kserve"] = {"deploymentMode": "Standard"}
    (problem,) = checks.serverless_serving_has_knative(_ctx(platform, release=KUBEFLOW_LINE))
    assert problem.path == "kubeforge:platform.components.knative.enabled"
