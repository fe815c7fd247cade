"""On-prem object storage: an external S3-compatible service or in-cluster SeaweedFS, and each
tenant's access keys from the secret kubeforge:objectStoreCredentials, never in clear."""

from __future__ import annotations

import copy
import json

import pytest

from components.storage.seaweedfs import s3_identities
from kubeforge.config.credentials import OBJECT_STORE_CREDENTIALS_KEY, credentials_problems
from kubeforge.config.loader import KNOWN_KEYS, load_stack
from kubeforge.config.spec import PlatformSpec, TenantSpec
from kubeforge.engine.runtime import EngineError
from kubeforge.errors import ConfigError
from tests.conftest import ONPREM_PLATFORM, TENANT
from tests.storage.helpers import CREDENTIALS, HELM, graph_text, named

SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET_KEY = CREDENTIALS["team-a"]["secretAccessKey"]
ACCESS_KEY = CREDENTIALS["team-a"]["accessKeyId"]


def _stack(project, platform, tenant_spec, credentials=None):
    extra = {OBJECT_STORE_CREDENTIALS_KEY: credentials} if credentials is not None else None
    return project.stack(platform, extra=extra).tenant("team-a", tenant_spec)


def _seaweedfs(platform):
    platform["storage"]["object"] = {"store": "seaweedfs"}
    return platform


def test_the_credentials_key_is_a_known_config_key():
    assert OBJECT_STORE_CREDENTIALS_KEY == "kubeforge:objectStoreCredentials"
    assert OBJECT_STORE_CREDENTIALS_KEY in KNOWN_KEYS


def test_external_store_tenant_gets_its_keys_in_a_secret_and_where_to_use_them(project, onprem_platform,
                                                                              tenant_spec):
    graph = _stack(project, onprem_platform, tenant_spec, CREDENTIALS).preview()
    secret = named(graph, "storage-team-a-object-store", SECRET)
    assert (secret.inputs["metadata"]["name"], secret.inputs["metadata"]["namespace"]) == ("team-a-object-store",
                                                                                          "team-a")
    assert secret.inputs["stringData"] == {"AWS_ACCESS_KEY_ID": "[secret]", "AWS_SECRET_ACCESS_KEY": "[secret]"}
    assert secret.options["additionalSecretOutputs"] == ["data", "stringData"]
    config = named(graph, "storage-team-a-object-store-endpoint", CONFIG_MAP)
    assert config.inputs["metadata"]["name"] == "team-a-object-store"
    assert config.inputs["data"] == {"AWS_ENDPOINT_URL_S3": "https://s3.example.internal",
                                     "S3_BUCKET": "kubeforge-test-team-a"}


def test_tenant_secret_holds_exactly_the_tenants_own_keys():
    from components.storage.common import credential

    credentials = {**CREDENTIALS, "team-b": {"accessKeyId": "OTHERKEY", "secretAccessKey": "other-secret"}}
    assert credential(credentials, "team-a", "secretAccessKey") == SECRET_KEY
    assert credential(credentials, "team-a", "accessKeyId") == ACCESS_KEY
    # Offline, an encrypted value is unreadable: never its ciphertext.
    assert credential({"team-a": {"secretAccessKey": {"secure": "v1:x"}}}, "team-a", "secretAccessKey") == ""


def test_credentials_never_reach_the_graph_in_clear(project, onprem_platform, tenant_spec):
    graph = _stack(project, onprem_platform, tenant_spec, CREDENTIALS).preview()
    text = graph_text(graph)
    assert SECRET_KEY not in text
    assert ACCESS_KEY not in text
    # The same check finds a value that is there: the bucket name.
    assert "kubeforge-test-team-a" in text


def test_encrypted_credentials_load_offline_and_stay_secret(project, onprem_platform, tenant_spec):
    encrypted = {"team-a": {"accessKeyId": {"secure": "v1:abc"}, "secretAccessKey": {"secure": "v1:def"}}}
    graph = _stack(project, onprem_platform, tenant_spec, encrypted).preview()
    secret = named(graph, "storage-team-a-object-store", SECRET)
    assert set(secret.inputs["stringData"].values()) == {"[secret]"}
    assert "v1:def" not in graph_text(graph)


def test_without_credentials_an_external_store_gets_no_tenant_secret(local_graph):
    assert [r for r in local_graph.of_type(SECRET) if r.name.startswith("storage-")] == []


def test_a_whole_value_encrypted_credential_map_is_refused_with_how_to_set_it(project, onprem_platform, tenant_spec):
    _stack(project, onprem_platform, tenant_spec, {"secure": "v1:whole"})
    with pytest.raises(ConfigError, match=r"set each value with `pulumi config set --secret --path"):
        load_stack("test", project.path)
    with pytest.raises(EngineError, match="kubeforge:objectStoreCredentials: must be a mapping of tenant"):
        project.preview()


def test_a_secret_key_in_clear_text_in_the_stack_file_is_refused(project, onprem_platform, tenant_spec):
    _stack(project, onprem_platform, tenant_spec, CREDENTIALS)
    with pytest.raises(ConfigError) as info:
        load_stack("test", project.path)
    message = str(info.value)
    assert "kubeforge:objectStoreCredentials.team-a.secretAccessKey: is in clear text in the stack file" in message
    assert SECRET_KEY not in message


def test_credentials_are_refused_on_cloud_targets(project, tenant_spec):
    from tests.conftest import stack_file

    platform = stack_file("aws-prod")
    platform["tenants"] = ["team-a"]
    _stack(project, platform, tenant_spec, {"team-a": {"accessKeyId": "A" * 8, "secretAccessKey": {"secure": "x"}}})
    with pytest.raises(ConfigError, match="kubeforge:objectStoreCredentials: only used on-prem"):
        load_stack("test", project.path)


def _problems(raw, platform=None, tenants=None):
    spec = PlatformSpec.model_validate(platform or ONPREM_PLATFORM)
    tenants = {n: TenantSpec.model_validate(t) for n, t in (tenants or {"team-a": TENANT}).items()}
    return credentials_problems(raw, spec, tenants, "stacks/Pulumi.test.yaml")


def test_credentials_shape_is_checked_without_quoting_a_value():
    assert _problems(json.dumps(CREDENTIALS)) == []
    bad = {"team-a": {"accessKeyId": "has space", "secretAccessKey": "short", "token": "x"}, "team-b": {}}
    problems = _problems(json.dumps(bad))
    assert sorted(p.path for p in problems) == [
        "kubeforge:objectStoreCredentials.team-a.accessKeyId",
        "kubeforge:objectStoreCredentials.team-a.secretAccessKey",
        "kubeforge:objectStoreCredentials.team-a.token",
        "kubeforge:objectStoreCredentials.team-b",
    ]
    text = " ".join(str(p) for p in problems)
    assert "has space" not in text and "short" not in text


def test_every_bucket_tenant_needs_an_entry():
    tenants = {"team-a": TENANT, "team-b": {**TENANT, "storage": {"bucket": True}},
               "team-c": {**TENANT, "storage": {"bucket": False}}}
    (problem,) = _problems(json.dumps(CREDENTIALS), tenants=tenants)
    assert problem.path == "kubeforge:objectStoreCredentials.team-b"
    assert "missing" in problem.message


# --- in-cluster SeaweedFS --------------------------------------------------------------------


@pytest.fixture
def seaweedfs_graph(project, onprem_platform, tenant_spec):
    encrypted = {"team-a": {"accessKeyId": ACCESS_KEY, "secretAccessKey": {"secure": "v1:def"}}}
    return _stack(project, _seaweedfs(onprem_platform), tenant_spec, encrypted).preview()


def test_seaweedfs_needs_the_tenants_credentials(project, onprem_platform, tenant_spec):
    _stack(project, _seaweedfs(onprem_platform), tenant_spec)
    with pytest.raises(ConfigError, match="store seaweedfs needs each bucket tenant's access keys"):
        load_stack("test", project.path)


def test_seaweedfs_takes_no_endpoint(project, onprem_platform, tenant_spec):
    onprem_platform["storage"]["object"] = {"store": "seaweedfs", "endpoint": "https://s3.example.internal"}
    _stack(project, onprem_platform, tenant_spec, CREDENTIALS)
    with pytest.raises(ConfigError, match="storage.object.endpoint: store seaweedfs runs in the cluster"):
        load_stack("test", project.path)


def test_seaweedfs_is_installed_from_the_catalog_pin_with_authenticated_s3(seaweedfs_graph):
    release = named(seaweedfs_graph, "seaweedfs-release", HELM)
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"]["repo"]) == (
        "seaweedfs", "4.44.0", "https://seaweedfs.github.io/seaweedfs/helm")
    assert release.inputs["namespace"] == "seaweedfs"
    s3 = release.inputs["values"]["s3"]
    assert (s3["enabled"], s3["enableAuth"], s3["existingConfigSecret"]) == (True, True, "seaweedfs-s3-config")
    assert s3["createBuckets"] == [{"name": "kubeforge-test-team-a", "anonymousRead": False, "versioning": "Enabled"}]


def test_seaweedfs_keeps_every_piece_on_persistent_volumes(seaweedfs_graph):
    values = named(seaweedfs_graph, "seaweedfs-release", HELM).inputs["values"]
    assert values["master"]["replicas"] == 3
    assert values["master"]["data"]["type"] == "persistentVolumeClaim"
    assert values["filer"]["data"]["type"] == "persistentVolumeClaim"
    (data,) = values["volume"]["dataDirs"]
    assert (data["type"], data["size"]) == ("persistentVolumeClaim", "1Ti")
    assert values["volume"]["replicas"] == 3
    assert values["global"]["seaweedfs"] == {"enableReplication": True, "replicationPlacement": "001"}
    # No hostPath anywhere: the chart's default for data and logs.
    assert "hostPath" not in json.dumps(values)


def test_seaweedfs_settings_size_the_store(project, onprem_platform, tenant_spec):
    _seaweedfs(onprem_platform)["storage"]["object"]["seaweedfs"] = {
        "masters": 1, "volumeServers": 1, "volumeSize": "4Ti", "storageClass": "local-ssd"}
    graph = _stack(project, onprem_platform, tenant_spec, CREDENTIALS).preview()
    values = named(graph, "seaweedfs-release", HELM).inputs["values"]
    assert values["master"]["replicas"] == 1
    assert values["volume"]["dataDirs"][0]["size"] == "4Ti"
    assert values["volume"]["dataDirs"][0]["storageClass"] == "local-ssd"
    assert values["global"]["seaweedfs"]["enableReplication"] is False


def test_seaweedfs_identities_are_a_secret_and_its_namespace_is_protected(seaweedfs_graph):
    config = named(seaweedfs_graph, "seaweedfs-s3-config", SECRET)
    assert config.inputs["metadata"] == {**config.inputs["metadata"], "name": "seaweedfs-s3-config",
                                         "namespace": "seaweedfs"}
    assert config.inputs["stringData"] == {"seaweedfs_s3_config": "[secret]"}
    namespace = named(seaweedfs_graph, "seaweedfs-namespace", "kubernetes:core/v1:Namespace")
    assert namespace.options["protect"] is True and namespace.options["retainOnDelete"] is True
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


def test_seaweedfs_tenant_secret_points_at_the_in_cluster_gateway(seaweedfs_graph):
    config = named(seaweedfs_graph, "storage-team-a-object-store-endpoint", CONFIG_MAP)
    assert config.inputs["data"]["AWS_ENDPOINT_URL_S3"] == "http://seaweedfs-s3.seaweedfs.svc:8333"


def test_each_seaweedfs_identity_acts_on_its_own_bucket_only():
    credentials = copy.deepcopy(CREDENTIALS)
    credentials["team-b"] = {"accessKeyId": "TEAMBKEY", "secretAccessKey": "team-b-secret-key"}
    config = s3_identities(credentials, {"team-a": "kf-team-a", "team-b": "kf-team-b"})
    by_name = {i["name"]: i for i in config["identities"]}
    assert by_name["team-a"]["actions"] == ["Read:kf-team-a", "Write:kf-team-a", "List:kf-team-a",
                                            "Tagging:kf-team-a"]
    assert all(a.endswith(":kf-team-b") for a in by_name["team-b"]["actions"])
    assert by_name["team-b"]["credentials"] == [{"accessKey": "TEAMBKEY", "secretKey": "team-b-secret-key"}]
    assert not any(a.split(":")[0] == "Admin" for i in config["identities"] for a in i["actions"])


def test_seaweedfs_without_bucket_tenants_runs_with_no_identities(project, onprem_platform, tenant_spec):
    tenant_spec["storage"] = {"bucket": False}
    graph = _stack(project, _seaweedfs(onprem_platform), tenant_spec).preview()
    values = named(graph, "seaweedfs-release", HELM).inputs["values"]
    assert values["s3"]["createBuckets"] == []
    assert [r for r in graph.of_type(SECRET) if r.name.startswith("storage-")] == []
